"""Deterministic train/dev split grouped by shortcut family (architecture.md §5).

Rows that would leak between the two sides stay together: ids that differ only by a numeric suffix
(`foo`, `foo-2`), identical prompts (whitespace and case ignored) and identical target programs. The
groups are the connected components of the graph "shares a family, prompt or program"; a seeded shuffle
of the groups then fills dev greedily up to the requested fraction.
"""

from __future__ import annotations

import os
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sashimi.dsl.corpus import CorpusRow, load_corpus, save_corpus
from sashimi.errors import DataError
from sashimi.io import file_sha256, write_json

_NUMERIC_SUFFIX = re.compile(r"-[0-9]+$")


@dataclass(frozen=True)
class Group:
    name: str  # the smallest family key among its rows: stable across runs and row order
    rows: tuple[int, ...]  # row indices into the corpus, ascending


@dataclass(frozen=True)
class Split:
    train: tuple[CorpusRow, ...]
    dev: tuple[CorpusRow, ...]
    groups: tuple[Group, ...]
    dev_groups: frozenset[str]


def family_key(shortcut_id: str) -> str:
    """`foo-2` -> `foo`: variants of one shortcut share a key."""
    return _NUMERIC_SUFFIX.sub("", shortcut_id)


def normalise_prompt(prompt: str) -> str:
    return " ".join(prompt.split()).casefold()


def group_rows(rows: list[CorpusRow]) -> tuple[Group, ...]:
    """Connected components of rows sharing a family key, a normalised prompt or a program text."""
    n = len(rows)
    first_seen: dict[tuple[str, str], int] = {}
    src: list[int] = []
    dst: list[int] = []
    for i, row in enumerate(rows):
        for key in (
            ("family", family_key(row.shortcut_id)),
            ("prompt", normalise_prompt(row.prompt)),
            ("program", row.program),
        ):
            j = first_seen.setdefault(key, i)
            if j != i:
                src.append(i)
                dst.append(j)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        members[int(label)].append(i)
    groups = [
        Group(min(family_key(rows[i].shortcut_id) for i in idx), tuple(idx)) for idx in members.values()
    ]
    return tuple(sorted(groups, key=lambda g: (g.name, g.rows)))


def split_corpus(rows: list[CorpusRow], dev_fraction: float, seed: int) -> Split:
    """Assign whole groups to dev until it holds round(dev_fraction * len(rows)) rows (never more)."""
    if not 0.0 < dev_fraction < 1.0:
        raise DataError(f"--dev-fraction must be between 0 and 1 (exclusive), got {dev_fraction}")
    if len(rows) < 2:
        raise DataError(f"need at least 2 rows to split, got {len(rows)}")
    groups = group_rows(rows)
    if len(groups) < 2:
        raise DataError("all rows form one family group: no dev split is possible")
    target = max(1, round(dev_fraction * len(rows)))
    order = list(groups)
    random.Random(seed).shuffle(order)
    dev: set[str] = set()
    dev_count = 0
    for group in order:
        if dev_count + len(group.rows) <= target:
            dev.add(group.name)
            dev_count += len(group.rows)
        if dev_count == target:
            break
    if not dev:  # every group is larger than the target: take the smallest one (ties: shuffled order)
        smallest = min(order, key=lambda g: len(g.rows))
        dev.add(smallest.name)
    dev_rows = {i for g in groups if g.name in dev for i in g.rows}
    return Split(
        train=tuple(r for i, r in enumerate(rows) if i not in dev_rows),
        dev=tuple(r for i, r in enumerate(rows) if i in dev_rows),
        groups=groups,
        dev_groups=frozenset(dev),
    )


def write_split(data: str | os.PathLike, out_dir: str | os.PathLike, dev_fraction: float, seed: int) -> dict:
    """Split `data` into `out_dir/{train,dev}.jsonl` + `manifest.json`; returns the manifest.

    Output is a pure function of the input bytes, the fraction and the seed (no timestamps), so a
    re-run writes byte-identical files.
    """
    rows = load_corpus(data)
    split = split_corpus(rows, dev_fraction, seed)
    out = Path(out_dir)
    save_corpus(out / "train.jsonl", list(split.train))
    save_corpus(out / "dev.jsonl", list(split.dev))
    multi = [g for g in split.groups if len(g.rows) > 1]
    manifest = {
        "input": Path(data).name,
        "input_sha256": file_sha256(data),
        "seed": seed,
        "dev_fraction": dev_fraction,
        "grouping": "connected components of rows sharing an id family (numeric -N suffix stripped), "
        "a normalised prompt or an identical program; 'groups' lists the groups with several rows, every other "
        "row is a group of its own",
        "counts": {
            "total": len(rows),
            "train": len(split.train),
            "dev": len(split.dev),
            "dev_share": round(len(split.dev) / len(rows), 6),
            "groups": len(split.groups),
            "dev_groups": len(split.dev_groups),
            "multi_row_groups": len(multi),
            "rows_in_multi_row_groups": sum(len(g.rows) for g in multi),
        },
        "dev_ids": [r.shortcut_id for r in split.dev],
        "groups": [
            {
                "name": g.name,
                "split": "dev" if g.name in split.dev_groups else "train",
                "ids": [rows[i].shortcut_id for i in g.rows],
            }
            for g in multi
        ],
    }
    write_json(out / "manifest.json", manifest)
    return manifest
