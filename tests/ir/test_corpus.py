"""The real corpus (read by path through the conftest fixtures; skipped when ../shared is absent)."""

from __future__ import annotations

import json

import pytest

from sashimi.data.splits import family_key, split_corpus
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import load_corpus
from sashimi.dsl.parser import parse
from sashimi.errors import SashimiError
from sashimi.ir.coverage import coverage_report
from sashimi.ir.lowering import lower, lower_to_text
from sashimi.ir.typed import TypedProgram, to_typed
from sashimi.ir.vocab import build_vocab


@pytest.fixture(scope="module")
def reference(shortcutforge_dir):
    return Catalog.from_reference(shortcutforge_dir)


@pytest.fixture(scope="module")
def parsed(corpus_targets):
    out = []
    for sid, text in corpus_targets:
        try:
            out.append((sid, text, parse(text, dialect="shortcutforge")))
        except SashimiError:
            continue
    return out


def test_lossless_on_every_parseable_real_program(parsed, reference):
    failures = []
    for sid, text, ir in parsed:
        typed = TypedProgram.from_json(json.loads(json.dumps(to_typed(ir, reference).to_json())))
        if lower(typed) != ir or lower_to_text(typed, dialect="shortcutforge") != text:
            failures.append(sid)
    assert len(parsed) > 0
    assert failures == [], f"lossless_rate {1 - len(failures) / len(parsed):.4f}: {failures[:10]}"


def test_real_split_and_dev_coverage(shortcutforge_dir, parsed, reference):
    rows = load_corpus(shortcutforge_dir / "train.jsonl")
    split = split_corpus(rows, 0.1, 0)
    assert 0.08 <= len(split.dev) / len(rows) <= 0.12
    dev_families = {family_key(r.shortcut_id) for r in split.dev}
    assert not dev_families & {family_key(r.shortcut_id) for r in split.train}
    dev_ids = {r.shortcut_id for r in split.dev}
    by_id = {sid: ir for sid, _, ir in parsed}
    vocab = build_vocab(
        (by_id[r.shortcut_id] for r in split.train if r.shortcut_id in by_id),
        reference,
        catalog_actions=reference.actions,
    )
    report = coverage_report(
        vocab, [(s, to_typed(by_id[s], reference)) for s in sorted(dev_ids) if s in by_id]
    )
    assert report["tier1"]["by_occurrence"]["rate"] >= 0.99
    assert report["tier2"]["by_occurrence"]["rate"] >= 0.95
