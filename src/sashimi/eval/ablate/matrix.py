"""An ablation matrix: a YAML file naming a base training config, the data, the evaluation sets and the runs.

    name: priority
    base: configs/real.yaml                 # the `sashimi train` config every run starts from
    set: {train.steps: 300}                 # the budget: overrides applied to every run (before its own)
    data:
      real: {corpus: ../shared/data/shortcutforge/train.jsonl, seed: 0, dev_fraction: 0.1}
      synth: {n: 5000, seed: 0}
    train_on: [real/train, synth/train]     # files under OUT/data/ given to `sashimi train --data`
                                            # ([] = none: a base config with data.source synth makes its own)
    eval: {real_dev: real/dev, test_compositional: synth/test_compositional}
    knn_train: {real_dev: real/train, test_compositional: synth/train}   # the kNN baselines' index per
                                            # evaluation set (or one 'source/split' for all; default: the first train_on)
    catalog_dir: ../shared/data/shortcutforge
    early_exit: {step: 200, min_tier1_acc: 0.4}
    runs:
      - {name: "4.1.1", question: "...", set: {model.weight_regime: continuous}}
    comparisons: [["4.1.1", "4.1.3"], ...]  # pairs the report compares (optional)

Paths are relative to the current directory (the repository root), like every other command's paths.
Unknown keys are errors: a typo in a matrix must not silently run a different experiment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sashimi.errors import DataError, Location

TOP_KEYS = {
    "name",
    "base",
    "set",
    "data",
    "train_on",
    "eval",
    "knn_train",
    "catalog_dir",
    "early_exit",
    "runs",
    "comparisons",
}
RUN_KEYS = {"name", "question", "set"}
DATA_SOURCES = {"real": {"corpus", "seed", "dev_fraction"}, "synth": {"n", "seed"}}
SPLIT_FILES = {"real": ("train", "dev"), "synth": ("train", "dev", "test", "test_compositional")}
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")  # a folder name, nothing that walks out of OUT


@dataclass(frozen=True)
class RunSpec:
    name: str  # folder name under OUT/runs/, e.g. "4.1.4"
    question: str  # what this run answers (shown in the report)
    overrides: dict[str, Any]  # `sashimi train --set` keys -> values, on top of the matrix's budget


@dataclass
class Matrix:
    name: str
    path: str  # the matrix file
    base: str  # training config every run starts from
    budget: dict[str, Any]  # overrides for every run
    data: dict[str, dict[str, Any]]  # source -> recipe (see DATA_SOURCES)
    train_on: list[str]  # "source/split" files given to `sashimi train --data`
    evals: dict[str, str]  # evaluation set name -> "source/split"
    knn_train: dict[str, str]  # evaluation set -> "source/split" its kNN baselines index
    catalog_dir: str | None
    early_exit: dict[str, Any] | None
    runs: list[RunSpec]
    comparisons: list[tuple[str, str]] = field(default_factory=list)

    def run(self, name: str) -> RunSpec:
        for spec in self.runs:
            if spec.name == name:
                return spec
        raise DataError(f"no run named {name!r} in matrix {self.name}")

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "path": self.path,
            "base": self.base,
            "set": self.budget,
            "data": self.data,
            "train_on": self.train_on,
            "eval": self.evals,
            "knn_train": self.knn_train,
            "catalog_dir": self.catalog_dir,
            "early_exit": self.early_exit,
            "runs": [{"name": r.name, "question": r.question, "set": r.overrides} for r in self.runs],
            "comparisons": [list(pair) for pair in self.comparisons],
        }


def _split_ref(ref: Any, data: dict, where: str, loc: Location) -> str:
    if not isinstance(ref, str) or "/" not in ref:
        raise DataError(f"{where}: expected 'source/split', got {ref!r}", loc)
    source, split = ref.split("/", 1)
    if source not in data:
        raise DataError(f"{where}: data source {source!r} is not in `data`", loc)
    if split not in SPLIT_FILES[source]:
        raise DataError(
            f"{where}: {source} has no split {split!r} (has {', '.join(SPLIT_FILES[source])})", loc
        )
    return ref


def _overrides(raw: Any, where: str, loc: Location) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and "." in k for k in raw):
        raise DataError(f"{where}: `set` must map section.key to a value (e.g. model.d_bottleneck: 64)", loc)
    return dict(raw)


def load_matrix(path: str | os.PathLike) -> Matrix:
    """Read and check a matrix file (one-line errors with the file as location)."""
    p = Path(path)
    loc = Location(str(p))
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("matrix file not found", loc) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = Location(str(p), mark.line + 1, mark.column + 1) if mark else loc
        raise DataError(f"invalid YAML: {getattr(err, 'problem', err)}", where) from None
    if not isinstance(raw, dict):
        raise DataError("a matrix file is a YAML mapping", loc)
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise DataError(f"unknown matrix key(s): {', '.join(unknown)}", loc)
    for key in ("base", "data", "train_on", "eval", "runs"):
        if key not in raw:
            raise DataError(f"matrix needs `{key}`", loc)

    data = raw["data"]
    if not isinstance(data, dict) or not data:
        raise DataError("`data` must map a source (real, synth) to its recipe", loc)
    for source, recipe in data.items():
        if source not in DATA_SOURCES:
            raise DataError(f"unknown data source {source!r} (known: {', '.join(DATA_SOURCES)})", loc)
        if not isinstance(recipe, dict) or set(recipe) - DATA_SOURCES[source]:
            raise DataError(f"data.{source}: keys must be among {sorted(DATA_SOURCES[source])}", loc)
    if "real" in data and "corpus" not in data["real"]:
        raise DataError("data.real needs `corpus` (the ShortcutForge JSONL to split)", loc)

    train_on = raw["train_on"]
    if not isinstance(train_on, list):
        raise DataError(
            "`train_on` must be a list of 'source/split' ([] = the base config makes its own data)", loc
        )
    train_on = [_split_ref(ref, data, "train_on", loc) for ref in train_on]
    if not train_on and "knn_train" not in raw:
        raise DataError("with an empty `train_on`, name the kNN baselines' index in `knn_train`", loc)
    evals = raw["eval"]
    if not isinstance(evals, dict) or not evals:
        raise DataError("`eval` must map a name to 'source/split'", loc)
    evals = {str(k): _split_ref(v, data, f"eval.{k}", loc) for k, v in evals.items()}
    knn_raw = raw["knn_train"] if "knn_train" in raw else train_on[0]
    if isinstance(knn_raw, dict):
        missing = sorted(set(evals) - set(knn_raw))
        if missing or set(knn_raw) - set(evals):
            raise DataError(
                f"knn_train must name exactly the evaluation sets (missing: {', '.join(missing)})", loc
            )
        knn_train = {k: _split_ref(v, data, f"knn_train.{k}", loc) for k, v in knn_raw.items()}
    else:
        knn_train = {k: _split_ref(knn_raw, data, "knn_train", loc) for k in evals}

    runs_raw = raw["runs"]
    if not isinstance(runs_raw, list) or not runs_raw:
        raise DataError("`runs` must be a non-empty list", loc)
    runs: list[RunSpec] = []
    for i, r in enumerate(runs_raw):
        where = f"runs[{i}]"
        if not isinstance(r, dict) or "name" not in r or set(r) - RUN_KEYS:
            raise DataError(f"{where}: a run has `name`, optional `question` and `set`", loc)
        name = str(r["name"])
        if not RUN_NAME.match(name):
            raise DataError(f"{where}: run name {name!r} must be a plain folder name", loc)
        if any(s.name == name for s in runs):
            raise DataError(f"{where}: duplicate run name {name!r}", loc)
        runs.append(RunSpec(name, str(r.get("question", "")), _overrides(r.get("set"), where, loc)))

    names = {r.name for r in runs}
    comparisons: list[tuple[str, str]] = []
    for pair in raw.get("comparisons") or []:
        if not (isinstance(pair, list) and len(pair) == 2 and all(str(x) in names for x in pair)):
            raise DataError(f"comparisons: {pair!r} must be a pair of run names of this matrix", loc)
        comparisons.append((str(pair[0]), str(pair[1])))

    early_exit = raw.get("early_exit")
    if early_exit is not None and (
        not isinstance(early_exit, dict) or set(early_exit) != {"step", "min_tier1_acc"}
    ):
        raise DataError("early_exit: {step: N, min_tier1_acc: X} or absent", loc)
    return Matrix(
        name=str(raw.get("name", p.stem)),
        path=str(p),
        base=str(raw["base"]),
        budget=_overrides(raw.get("set"), "set", loc),
        data=data,
        train_on=train_on,
        evals=evals,
        knn_train=knn_train,
        catalog_dir=raw.get("catalog_dir"),
        early_exit=early_exit,
        runs=runs,
        comparisons=comparisons,
    )
