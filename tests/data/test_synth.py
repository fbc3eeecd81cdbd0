"""Tests for the synthetic corpus generator (sashimi.data.synth) and `sashimi data synth`."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sashimi.cli import main
from sashimi.data.synth import SynthExample, generate_corpus
from sashimi.data.synth.check import check_examples
from sashimi.data.synth.control import COLLECTIONS, CONDITIONS, CONTROL_DOMAINS, ITEMS
from sashimi.data.synth.domains import ALL_TEMPLATES, DOMAINS
from sashimi.data.synth.generator import TEMPLATE_BY_ID, build_program
from sashimi.data.synth.splits import intent_pairs, is_heldout, split_sizes
from sashimi.data.synth.templates import slot_names
from sashimi.dsl.ast import ForeachBlock, IfBlock, StringValue
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import CorpusRow, load_corpus
from sashimi.dsl.printer import print_program, quote

REQUIRED_DOMAINS = {
    "health",
    "timers",
    "calendar",
    "notes",
    "clipboard",
    "web",
    "files",
    "photos",
    "music",
    "device",
    "messaging",
    "location",
}
SPLITS = ("train", "dev", "test", "test_compositional")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.core()


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[SynthExample]]:
    return generate_corpus(5000, seed=0)


def _all(corpus) -> list[SynthExample]:
    return [e for s in SPLITS for e in corpus[s]]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", re.sub(r"\{[^}]*\}", " ", text.lower())))


# ----------------------------------------------------------------------------- templates


def test_inventory_meets_the_issue():
    assert REQUIRED_DOMAINS <= set(DOMAINS)
    assert len(DOMAINS) >= 12
    assert len(ALL_TEMPLATES) >= 80
    ids = [t.id for t in ALL_TEMPLATES] + [c.id for c in CONDITIONS + COLLECTIONS + ITEMS]
    assert len(ids) == len(set(ids)), "template ids must be unique"
    assert set(CONTROL_DOMAINS) == {c.id for c in CONDITIONS + COLLECTIONS + ITEMS}


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=lambda t: t.id)
def test_phrasings_are_genuinely_different(template):
    assert len(template.phrasings) >= 5
    assert len({p.style for p in template.phrasings}) >= 4
    texts = [p.text for p in template.phrasings]
    assert len(set(texts)) == len(texts)
    # not synonym swaps: any two phrasings differ in at least a third of their content words
    for a, b in combinations(texts, 2):
        wa, wb = _words(a), _words(b)
        jaccard = len(wa & wb) / max(len(wa | wb), 1)
        assert jaccard < 0.67, (template.id, a, b)
    assert len(template.clauses) >= 2 and all(
        c[:1].islower() or c[:1] in '{"' or c[:2].isupper() for c in template.clauses
    )


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=lambda t: t.id)
def test_every_slot_is_said_in_every_phrasing(template):
    """Values the program needs must be in the prompt, whichever phrasing or clause is drawn."""
    names = {n for n, _ in template.slots}
    for text in [p.text for p in template.phrasings] + list(template.clauses):
        assert slot_names(text) == names, (template.id, text)


def test_control_phrases_say_their_slots():
    for c in CONDITIONS + COLLECTIONS + ITEMS:
        names = {n for n, _ in c.slots}
        assert len(c.phrases) >= 3
        for text in c.phrases:
            assert slot_names(text) == names, (c.id, text)


def test_slot_values_are_mostly_copyable_from_the_prompt():
    """Most slot values appear verbatim in what the user says (enums said in words are the exception)."""
    rng = random.Random(7)
    copied = total = 0
    for t in ALL_TEMPLATES:
        for _ in range(5):
            for val in t.sample(rng).values():
                target = (
                    val.get("n", val.value) if not isinstance(val.value, str | int | float) else val.value
                )
                if isinstance(target, tuple):
                    ok = all(x in val.text for x in target)
                else:
                    ok = str(target) in val.text
                copied += ok
                total += 1
    assert copied / total >= 0.8, f"only {copied}/{total} slot values are copyable"


def test_every_template_compiles_strict_and_round_trips(catalog):
    """Each template, condition, collection and item action on its own, several samples each."""
    rng = random.Random(11)
    bodies = []
    for t in ALL_TEMPLATES:
        bodies += [(t.id, t.program(t.sample(rng))) for _ in range(3)]
    simple = TEMPLATE_BY_ID["music.pause"].program({})
    for c in CONDITIONS:
        setup, target, cond, value = c.build(c.sample(rng))
        bodies.append((c.id, setup + (IfBlock(target, cond, value, simple, None),)))
    for coll in COLLECTIONS:
        for it in ITEMS:
            if coll.kind in it.kinds:
                setup, ref = coll.build(coll.sample(rng))
                bodies.append((f"{coll.id}+{it.id}", setup + (ForeachBlock(ref, it.build(it.sample(rng))),)))
    examples = []
    for i, (tid, body) in enumerate(bodies):
        ir = build_program("T", f"request {i}", body)
        row = CorpusRow(f"{tid}-{i}", "p", print_program(ir))
        examples.append(SynthExample(row, (), (tid,), "imperative", (), "single", False))
    report = check_examples(examples, catalog)
    assert report.failures == []
    assert report.rates() == {k: 1.0 for k in report.rates()}
    assert "unknown_param" not in report.warnings


# ----------------------------------------------------------------------------- corpus


def test_default_corpus_sizes_and_uniqueness(corpus):
    sizes = {s: len(corpus[s]) for s in SPLITS}
    assert sizes == split_sizes(5000)
    assert sum(sizes.values()) == 5000
    rows = [e.row for e in _all(corpus)]
    assert len({r.shortcut_id for r in rows}) == 5000
    assert len({r.prompt for r in rows}) == 5000


def test_generation_is_fast_and_deterministic():
    import time

    started = time.time()
    a = generate_corpus(1500, seed=3)
    assert time.time() - started < 20
    b = generate_corpus(1500, seed=3)
    c = generate_corpus(1500, seed=4)
    assert a == b
    assert [e.row for e in a["train"]] != [e.row for e in c["train"]]


def test_control_flow_variables_and_compositions(corpus):
    examples = _all(corpus)
    share = sum(bool(e.control_flow) for e in examples) / len(examples)
    assert share >= 0.25
    kinds = Counter(k for e in examples for k in e.control_flow)
    assert {"if", "menu", "foreach", "repeat"} <= set(kinds)
    assert sum(e.uses_variables for e in examples) >= 100
    sizes = Counter(
        len([i for i in e.intents if not i.startswith(("cond.", "each.", "item."))]) for e in examples
    )
    assert {1, 2, 3, 4} <= set(sizes)
    styles = {e.style.split("+")[0] for e in examples}
    assert {"imperative", "question", "casual", "terse", "polite", "descriptive"} <= styles
    used = {i for e in examples for i in e.intents}
    assert {t.id for t in ALL_TEMPLATES} <= used, "every template is drawn in a 5,000 run"


def test_compositional_split_holds_out_intent_pairs(corpus):
    for split in ("train", "dev", "test"):
        for e in corpus[split]:
            assert not any(is_heldout(p, 0) for p in intent_pairs(e.intents)), e.row.shortcut_id
    train_intents = {i for e in corpus["train"] for i in e.intents}
    train_pairs = {p for e in corpus["train"] for p in intent_pairs(e.intents)}
    for e in corpus["test_compositional"]:
        held = [p for p in intent_pairs(e.intents) if is_heldout(p, 0)]
        assert held and not set(held) & train_pairs
        assert set(e.intents) <= train_intents, "every intent of a compositional example is seen in train"


def test_programs_follow_the_corpus_conventions(corpus, catalog):
    for e in corpus["dev"]:
        lines = e.row.program.splitlines()
        assert lines[0].startswith('SHORTCUT "')
        assert lines[1] == "ACTION comment WFCommentActionText=" + quote(e.row.prompt)
        for line in lines:
            if line.startswith("ACTION "):
                name = line.split()[1]
                assert catalog.canonical_name(catalog.resolve(name)) == name
                assert not name.startswith("is.workflow.actions.")
    no_comment = generate_corpus(100, seed=0, comment=False)
    assert all("comment" not in e.row.program.splitlines()[1] for e in no_comment["train"])


def test_sample_of_default_run_compiles_strict_and_is_lossless(corpus, catalog):
    """A stratified sample (every split, every shape); the full-run figures come from --check."""
    rng = random.Random(0)
    sample = []
    for s in SPLITS:
        sample += rng.sample(corpus[s], 150)
    report = check_examples(sample, catalog)
    assert report.failures == []
    assert report.compiled_strict == report.lossless == report.canonical == len(sample)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), comment=st.booleans())
def test_any_seed_gives_valid_programs(seed, comment):
    """Whatever the seed (and with or without the comment action), every program compiles strict."""
    small = generate_corpus(40, seed=seed, comment=comment)
    report = check_examples([e for s in SPLITS for e in small[s]], Catalog.core())
    assert report.failures == []


def test_checker_catches_a_broken_program(catalog):
    bad = CorpusRow("bad", "p", 'SHORTCUT "X"\nACTION nonexistent.thing.here\n')
    broken = CorpusRow("broken", "p", 'SHORTCUT "X"\nIF @prev\n')
    ex = [SynthExample(r, (), (), "terse", (), "single", False) for r in (bad, broken)]
    report = check_examples(ex, catalog)
    assert report.compiled_strict == 0 and report.parsed == 1
    assert {stage for _, stage, _ in report.failures} == {"validate", "parse"}


def test_comment_holds_the_prompt_verbatim(corpus):
    from sashimi.dsl.parser import parse

    for e in corpus["test"][:50]:
        first = parse(e.row.program).statements[0]
        assert first.action_name == "comment"
        assert first.param("WFCommentActionText") == StringValue(e.row.prompt)


# ----------------------------------------------------------------------------- CLI and files


def test_cli_writes_byte_identical_files(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["data", "synth", "--n", "300", "--seed", "5", "--out", str(a), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "wrote 300 examples" in out and "train 216" in out
    assert main(["data", "synth", "--n", "300", "--seed", "5", "--out", str(b), "--quiet"]) == 0
    names = sorted(p.name for p in a.iterdir())
    assert names == [
        "dev.jsonl",
        "manifest.json",
        "metadata.jsonl",
        "test.jsonl",
        "test_compositional.jsonl",
        "train.jsonl",
    ]
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["total"] == 300 and manifest["seed"] == 5
    meta = [json.loads(line) for line in (a / "metadata.jsonl").read_text().splitlines()]
    for split in SPLITS:
        rows = load_corpus(a / f"{split}.jsonl")
        assert manifest["splits"][split]["count"] == len(rows)
        assert [m["shortcut_id"] for m in meta if m["split"] == split] == [r.shortcut_id for r in rows]
    assert sum(manifest["templates"]["train"].values()) >= manifest["splits"]["train"]["count"]


def test_cli_check_and_baseline(tmp_path, capsys):
    out = tmp_path / "c"
    code = main(
        ["data", "synth", "--n", "400", "--seed", "1", "--out", str(out), "--quiet", "--check", "--baseline"]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "compile_strict 100.00%" in text and "typed_lossless 100.00%" in text
    check = json.loads((out / "check.json").read_text())
    assert check["compiled_strict"] == check["total"] == 400
    baseline = json.loads((out / "baseline.json").read_text())
    for split in ("dev", "test", "test_compositional"):
        r = baseline["splits"][split]
        assert 0.0 <= r["skeleton_accuracy"] <= 1.0 and 0.0 <= r["intent_micro_f1"] <= 1.0
    assert main(["data", "synth-baseline", "--dir", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["train_size"] == baseline["train_size"]


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    assert main(["data", "synth", "--n", "3", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--n" in err
    (tmp_path / "afile").write_text("x")
    assert main(["data", "synth", "--n", "20", "--out", str(tmp_path / "afile"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "afile" in err
    assert main(["data", "synth-baseline", "--dir", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not found" in err


def test_more_training_data_keeps_the_first_corpus_held_out_pairs_and_prompts():
    first = generate_corpus(200, seed=0)
    prompts = {e.row.prompt for split in first.values() for e in split}
    more = generate_corpus(300, seed=1, holdout_seed=0, exclude_prompts=prompts)
    for e in more["train"] + more["dev"] + more["test"]:
        assert not any(is_heldout(p, 0) for p in intent_pairs(e.intents)), e.row.shortcut_id
        assert e.row.prompt not in prompts
    assert all(any(is_heldout(p, 0) for p in intent_pairs(e.intents)) for e in more["test_compositional"])
    # without holdout_seed, seed 1 holds out its own pairs: some of its train rows hold seed 0's
    plain = generate_corpus(300, seed=1)
    assert any(any(is_heldout(p, 0) for p in intent_pairs(e.intents)) for e in plain["train"])


def test_cli_more_data_records_its_holdout_seed_and_exclusions(tmp_path, capsys):
    assert main(["data", "synth", "--n", "40", "--seed", "0", "--out", str(tmp_path / "a"), "--quiet"]) == 0
    first = tmp_path / "a" / "train.jsonl"
    argv = ["data", "synth", "--n", "60", "--seed", "1", "--holdout-seed", "0", "--exclude", str(first)]
    assert main([*argv, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["holdout_seed"] == 0 and manifest["excluded_prompts_of"] == [str(first)]
    old = {json.loads(line)["messages"][1]["content"] for line in first.read_text().splitlines()}
    new = {json.loads(line)["messages"][1]["content"] for line in (tmp_path / "b" / "train.jsonl").read_text().splitlines()}
    assert not old & new
