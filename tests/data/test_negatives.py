"""Hard-negative bank: negatives differ in IR, tags are what the linter reports, `still_valid` is right."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from sashimi.cli import main
from sashimi.data.negatives import (
    LINTER,
    STILL_VALID,
    SYNTHETIC,
    build_bank,
    negatives_for_program,
    strict_valid,
)
from sashimi.data.negatives.bank import _structural_tokens
from sashimi.data.negatives.common import _Context, _Tables
from sashimi.data.negatives.synthetic_source import _sy_enum_mutation
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import CorpusRow, load_corpus, save_corpus
from sashimi.dsl.linter import lint
from sashimi.dsl.parser import parse
from sashimi.ir.lowering import lower
from sashimi.ir.typed import TypedProgram, to_typed

# Hand-written programs (core catalog actions) with every construct the operators work on.
PROGRAMS = {
    "site-check": """SHORTCUT "Site check"
ACTION comment WFCommentActionText="Checks a web page and reports back"
ACTION ask WFAskActionPrompt="Which site?" WFInputType="URL"
SET $Site = @prev
ACTION downloadurl WFURL=`https://{$Site}/status` WFHTTPMethod="GET"
IF @prev contains "ok"
ACTION showresult Text=`All good: {@prev}`
ACTION flashlight WFFlashlightSetting="On"
ELSE
ACTION alert WFAlertActionMessage="Site is down" WFAlertActionCancelButtonShown=false
ENDIF
FOREACH $Site
ACTION setclipboard WFInput=$Repeat_Item
ACTION speaktext WFText=`{$Repeat_Item}`
ENDFOREACH
MENU "Next?"
CASE "Notify"
ACTION notification WFNotificationActionBody="done"
CASE "Split"
ACTION text.split text=@input WFTextSeparator="New Lines"
ENDMENU
ACTION wifi.set operation="set" OnValue=true
""",
    "repeat-speak": """SHORTCUT "Repeat speak"
ACTION comment WFCommentActionText="Speaks a phrase several times"
ACTION ask WFAskActionPrompt="How many times?" WFInputType="Number"
REPEAT @prev
ACTION speaktext WFText="Hello there"
ACTION flashlight WFFlashlightSetting="Toggle"
ENDREPEAT
IF @input does_not_have_any_value
ACTION getclipboard
ENDIF
ACTION showresult Text=`Done: {@prev}`
""",
    "linear": """SHORTCUT "Linear"
ACTION comment WFCommentActionText="Opens a site"
ACTION url WFURLActionURL="https://example.com"
ACTION openurl
ACTION bluetooth.set operation="toggle"
""",
}


@pytest.fixture(scope="module")
def core() -> Catalog:
    return Catalog.core()


@pytest.fixture(scope="module")
def hand_triples(core):
    triples = []
    for seed in range(12):
        for sid, program in PROGRAMS.items():
            row = CorpusRow(sid, f"prompt for {sid}", program)
            triples += [(row, t) for t in negatives_for_program(row, core, seed=seed, per_program=6)]
    return triples


def _negative_ir(triple):
    """The negative's IR, recovered independently of the generator (from its typed IR or its text)."""
    if triple.lowerable:
        return lower(TypedProgram.from_json(triple.negative))
    return None


def test_programs_are_valid_positives(core):
    for program in PROGRAMS.values():
        assert strict_valid(parse(program), core)


def test_every_negative_differs_from_its_positive(hand_triples, core):
    assert len(hand_triples) > 150
    for row, t in hand_triples:
        positive = parse(row.program)
        assert t.positive == to_typed(positive, core).to_json()
        assert t.negative != t.positive
        assert _structural_tokens(t.negative) != _structural_tokens(t.positive)
        neg = _negative_ir(t)
        if neg is not None:
            assert neg != positive, t.operators


def test_linter_tags_are_the_linter_change_kinds(hand_triples, core):
    linter = [t for _, t in hand_triples if t.source == LINTER]
    assert len(linter) > 60
    for t in linter:
        changes = lint(t.negative_text, core).changes
        assert changes, t.operators
        assert set(t.error_tags) - {STILL_VALID} == {c.kind for c in changes}


def test_readings(hand_triples, core):
    """literal: the text parses to the negative where it parses; lint: the negative is parse(lint(text))."""
    seen = Counter()
    for row, t in hand_triples:
        positive = parse(row.program)
        linted = parse(lint(t.negative_text, core).text)
        assert t.lint_restores == (linted == positive)
        if t.reading == "lint":
            assert lower(TypedProgram.from_json(t.negative)) == linted
            seen["lint"] += 1
        elif t.reading == "literal" and t.lowerable and t.negative_text.startswith("SHORTCUT"):
            try:
                as_written = parse(t.negative_text)
            except Exception:  # noqa: BLE001 - noise such as a bare ACTION line may not parse
                continue
            assert as_written == lower(TypedProgram.from_json(t.negative))
            seen["literal"] += 1
        elif t.reading == "ir":
            assert parse(t.negative_text) == lower(TypedProgram.from_json(t.negative))
            seen["ir"] += 1
    assert seen["lint"] and seen["literal"] and seen["ir"]


def test_still_valid_tag_is_correct(hand_triples, core):
    counts = Counter()
    for _, t in hand_triples:
        neg = _negative_ir(t)
        expected = neg is not None and strict_valid(neg, core)
        assert (STILL_VALID in t.error_tags) == expected, (t.operators, t.error_tags)
        counts[expected] += 1
    assert counts[True] and counts[False]


def test_unlowerable_negatives_are_literal_synonyms_or_property_access(hand_triples):
    for _, t in hand_triples:
        if not t.lowerable:
            assert t.reading == "literal"
            assert {"condition_synonym", "property_access"} & set(t.operators)


def test_all_operators_are_reachable(hand_triples):
    ops = Counter(op for _, t in hand_triples for op in t.operators)
    expected = {
        # linter source
        "alias", "misspelling", "condition_synonym", "property_access", "truncated_tail",
        "unclosed_block", "orphan_else", "keyword_as_action",
        # synthetic source
        "action_swap", "block_extend", "block_shrink", "duplicate_case", "enum_mutation",
        "param_drop", "wrong_handle",
    }  # fmt: skip
    assert expected <= set(ops), expected - set(ops)
    assert {t.source for _, t in hand_triples} == {LINTER, SYNTHETIC}


def test_enum_mutation_kinds(core):
    """Closed-enum value, boolean flip and confusable condition all occur, and stay legal."""
    ir = parse(PROGRAMS["site-check"])
    tables = _Tables.build(core)
    made = Counter()
    for i in range(40):
        negative, op, tag = _sy_enum_mutation(_Context(ir, core, random.Random(i), tables))
        made[op] += 1
        assert negative != ir
        assert strict_valid(negative, core)  # another legal value: wrong, not malformed
    assert set(made) == {"enum_mutation", "bool_flip", "condition_mutation"}


def test_deterministic_for_a_seed(core):
    row = CorpusRow("site-check", "p", PROGRAMS["site-check"])
    a = [t.to_json() for t in negatives_for_program(row, core, seed=7, per_program=6)]
    b = [t.to_json() for t in negatives_for_program(row, core, seed=7, per_program=6)]
    c = [t.to_json() for t in negatives_for_program(row, core, seed=8, per_program=6)]
    assert a == b
    assert a != c


def test_unparseable_positive_is_skipped(core):
    triples, report = build_bank([CorpusRow("bad", "p", 'SHORTCUT "x"\nIF @prev\n')], core)
    assert triples == [] and report["skipped_unparseable"] == 1


def test_real_corpus_sample(shortcutforge_dir):
    """A sample of the real corpus with the reference catalog: the same invariants, and the yield
    that makes >= 3,000 triples on the ~1,500-program train split (full count: see docs/DATA.md)."""
    catalog = Catalog.load(shortcutforge_dir)
    rows = load_corpus(shortcutforge_dir / "train.jsonl")[::40]  # 42 programs spread over the file
    triples, report = build_bank(rows, catalog, seed=0, per_program=4)
    assert report["skipped_unparseable"] == 0
    assert len(triples) >= 0.9 * 4 * len(rows)
    assert set(report["by_source"]) == {LINTER, SYNTHETIC}
    positives = {r.shortcut_id: parse(r.program) for r in rows}
    for t in triples:
        assert _structural_tokens(t.negative) != _structural_tokens(t.positive)
        if t.source == LINTER:
            kinds = {c.kind for c in lint(t.negative_text, catalog).changes}
            assert set(t.error_tags) - {STILL_VALID} == kinds
        neg = _negative_ir(t)
        if neg is not None:
            assert neg != positives[t.shortcut_id]
            assert (STILL_VALID in t.error_tags) == strict_valid(neg, catalog)


def test_cli_writes_bank_and_report(tmp_path, capsys):
    data = tmp_path / "corpus.jsonl"
    save_corpus(data, [CorpusRow(sid, f"prompt {sid}", p) for sid, p in PROGRAMS.items()])
    out = tmp_path / "neg.jsonl"
    code = main(["data", "negatives", "--data", str(data), "--out", str(out), "--no-progress", "--seed", "3"])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    report = json.loads((tmp_path / "neg.report.json").read_text())
    assert len(rows) == report["triples"] == 12
    assert set(rows[0]) >= {"prompt", "shortcut_id", "positive", "negative", "error_tags", "source"}
    assert sum(report["by_source"].values()) == len(rows)
    printed = capsys.readouterr().out
    assert "by source" in printed and "still_valid" in printed
    # bad input: one line, non-zero exit
    assert main(["data", "negatives", "--data", str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 2
    assert "file not found" in capsys.readouterr().err
