"""Tests for the value filler (sashimi.model.filler): slot contexts, copying, validity, persistence."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sashimi.cli import main
from sashimi.data.synth import generate_corpus
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import load_corpus
from sashimi.dsl.parser import parse
from sashimi.dsl.pipeline import run_pipeline
from sashimi.errors import DataError
from sashimi.ir.lowering import lower_to_text
from sashimi.ir.typed import TypedProgram, to_typed
from sashimi.model.filler import ValueFiller, slot_contexts
from sashimi.model.filler.candidates import CandidateGenerator, FillState
from sashimi.model.filler.prompt import PromptView
from sashimi.model.filler.values import valid_identifier, value_key

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.core()


@pytest.fixture(scope="module")
def synth(catalog) -> dict[str, list[tuple[str, TypedProgram]]]:
    corpus = generate_corpus(500, seed=3)
    return {
        split: [(e.row.prompt, to_typed(e.row.parse(), catalog)) for e in rows]
        for split, rows in corpus.items()
    }


@pytest.fixture(scope="module")
def filler(synth) -> ValueFiller:
    return ValueFiller.fit(synth["train"], seed=0)


def _tokens(typed: TypedProgram) -> list[str]:
    return [t.text for t in typed.tokens]


def _compiles(typed: TypedProgram, slots, names, catalog) -> tuple[bool, str]:
    text = lower_to_text(replace(typed, slots=slots, var_names=names))
    result = run_pipeline(text, catalog, do_lint=False)
    return result.compiled_strict, text


def _program(text: str, catalog) -> TypedProgram:
    return to_typed(parse(text), catalog)


# ----------------------------------------------------------------------------- slot contexts


def _assert_contexts_agree(pairs) -> int:
    n = 0
    for _prompt, typed in pairs:
        contexts = slot_contexts(_tokens(typed))
        assert len(contexts) == len(typed.slots)
        for ctx, slot in zip(contexts, typed.slots, strict=True):
            assert (ctx.kind, ctx.role, ctx.action, ctx.param) == (
                slot.kind,
                slot.role,
                slot.action,
                slot.param,
            )
            assert typed.tokens[ctx.position].slot == ctx.index
            n += 1
    return n


def test_slot_contexts_agree_with_to_typed_on_synthetic(synth):
    assert _assert_contexts_agree([p for rows in synth.values() for p in rows]) > 1000


def test_slot_contexts_agree_with_to_typed_on_real_corpus(shortcutforge_dir):
    catalog = Catalog.from_reference(shortcutforge_dir)
    pairs = [(r.prompt, to_typed(r.parse(), catalog)) for r in load_corpus(shortcutforge_dir / "train.jsonl")]
    assert _assert_contexts_agree(pairs) > 5000


def test_slot_contexts_hand_written(catalog):
    typed = _program(
        'SHORTCUT "T"\nACTION showresult Text=`Tip: {@prev} now`\nMENU "Pick"\nCASE "A"\n'
        'REPEAT 3\nACTION timer.start WFDuration=QTY(5, "min")\nENDREPEAT\nENDMENU\n'
        'IF @prev equals_string "x"\nENDIF\n# note\n',
        catalog,
    )
    got = [(c.kind, c.role, c.action, c.param, c.interp_shape) for c in slot_contexts(_tokens(typed))]
    assert got == [
        ("str", "name", None, None, None),
        ("text", "param", "showresult", "Text", "^ @prev _"),
        ("text", "param", "showresult", "Text", "_ @prev ^"),
        ("str", "menu_prompt", None, None, None),
        ("str", "case_label", None, None, None),
        ("num", "repeat_count", None, None, None),
        ("num", "param", "timer.start", "WFDuration", None),
        ("unit", "param", "timer.start", "WFDuration", None),
        ("str", "compare", None, None, None),
        ("str", "comment", None, None, None),
    ]
    assert slot_contexts(["<str>", "garbage", "<num>"])[1].kind == "num"  # ill-formed input: no crash


# ----------------------------------------------------------------------------- candidate sources


def test_prompt_view_finds_quotes_numbers_and_urls():
    view = PromptView(
        'Text "See you at 7.30" to Ana, open https://example.org/a?b=1. Set volume to 70% in ten min'
    )
    assert [q.value for q in view.quotes] == ["See you at 7.30"]
    values = [n.value for n in view.numbers]
    assert 7.30 in values and 70 in values and 10 in values
    assert any(n.percent for n in view.numbers if n.value == 70)
    assert "https://example.org/a?b=1" in {s.value for s in view.spans}


def test_candidates_offer_copies(catalog):
    gen = CandidateGenerator({}, {}, {}, {"timer.start|WFDuration": ["sec", "min", "hr"]})
    typed = _program('SHORTCUT "T"\nACTION timer.start WFDuration=QTY(25, "min")\n', catalog)
    contexts = slot_contexts(_tokens(typed))
    view = PromptView("start a 25 minute timer")
    nums = {c.value for c in gen.generate(contexts[1], view, FillState())}
    assert 25 in nums
    units = [c.value for c in gen.generate(contexts[2], view, FillState())]
    assert units == ["sec", "min", "hr"]


@pytest.mark.parametrize(
    ("prompt", "program", "slot", "expected"),
    [
        (
            "could you go to https://www.wikipedia.org?",
            'SHORTCUT "T"\nACTION url WFURLActionURL="x"\nACTION openurl\n',
            1,
            "https://www.wikipedia.org",
        ),
        (
            'Can you send Maya the message "Running late, sorry!"?',
            'SHORTCUT "T"\nACTION sendmessage WFSendMessageActionRecipients="x" WFSendMessageContent="y"\n',
            2,
            "Running late, sorry!",
        ),
        (
            "set a timer for 35 minutes",
            'SHORTCUT "T"\nACTION timer.start WFDuration=QTY(1, "sec")\n',
            1,
            35,
        ),
        (
            "set a timer for 35 minutes",
            'SHORTCUT "T"\nACTION timer.start WFDuration=QTY(1, "sec")\n',
            2,
            "min",
        ),
    ],
)
def test_fill_copies_from_hand_written_prompts(filler, catalog, prompt, program, slot, expected):
    typed = _program(program, catalog)
    slots, _names = filler.fill(prompt, _tokens(typed))
    assert slots[slot].value == expected
    assert value_key(slots[slot].kind, slots[slot].value) == value_key(slots[slot].kind, expected)


def test_fill_learns_the_whole_prompt_for_comment_actions(filler, synth):
    prompt, typed = next((p, t) for p, t in synth["test"] if any(s.action == "comment" for s in t.slots))
    slots, _ = filler.fill(prompt, _tokens(typed))
    assert next(s.value for s in slots if s.action == "comment") == prompt


# ----------------------------------------------------------------------------- validity


def test_fill_is_valid_on_every_synthetic_gold_sequence(filler, synth, catalog):
    for split in ("test", "test_compositional"):
        for prompt, typed in synth[split]:
            slots, names = filler.fill(prompt, _tokens(typed))
            assert [(s.kind, s.role, s.action, s.param) for s in slots] == [
                (s.kind, s.role, s.action, s.param) for s in typed.slots
            ]
            ok, text = _compiles(typed, slots, names, catalog)
            assert ok, text


def _reference_fill(filler: ValueFiller, prompt: str, tokens: list[str]):
    """`fill` as the scorer defines it: every candidate with all its features, scored by `score`
    (intercept + each crossed feature's weight, term by term), and the scores `fill`'s own scorer gives
    the same candidates (with static vocabulary scores: `generate(..., partials=)`)."""
    from sashimi.model.filler.core import _advance, _fill_order

    view, state = PromptView(prompt), FillState(tokens=tuple(tokens))
    contexts = slot_contexts(tokens)
    slots, pairs = [None] * len(contexts), []
    for i in _fill_order(contexts):
        ctx = contexts[i]
        cands = filler.generator.generate(ctx, view, state)
        fast = filler.generator.generate(ctx, view, state, filler._static_scores)  # reads the state only
        assert [c.key for c in fast] == [c.key for c in cands]
        scorer = filler._scorer(ctx)
        pairs += [(filler.score(ctx, a.feats), scorer(b)) for a, b in zip(cands, fast, strict=True)]
        best = max(cands, key=lambda c: filler.score(ctx, c.feats)) if cands else None
        value = filler._legal(ctx, best.value if best else filler.generator.default(ctx, view), view)
        _advance(state, best, value_key(ctx.kind, value), ctx, value)
        slots[i] = (ctx.kind, value)
    return slots, pairs


def test_fill_scores_candidates_as_the_reference_scorer(filler, synth):
    """`fill` sums each vocabulary context's static features once and each feature's crossed weights
    once per parameter: the same logits to float rounding, and the same choices, as scoring every
    candidate's crossed features one by one."""
    n = 0
    for split in ("test", "test_compositional"):
        for prompt, typed in synth[split][:60] + [("", typed) for _, typed in synth[split][:5]]:
            tokens = _tokens(typed)
            expected, pairs = _reference_fill(filler, prompt, tokens)
            slots, _names = filler.fill(prompt, tokens)
            assert [(s.kind, s.value) for s in slots] == expected, prompt
            for ref, fast in pairs:
                assert fast == pytest.approx(ref, rel=1e-12, abs=1e-12)
            n += len(pairs)
    assert n > 10_000  # the vocabulary's ~100 candidates per slot, spans, numbers, titles


def test_fill_is_valid_on_real_gold_sequences(shortcutforge_dir, filler):
    catalog = Catalog.from_reference(shortcutforge_dir)
    checked = 0
    for row in load_corpus(shortcutforge_dir / "train.jsonl")[::9]:
        typed = to_typed(row.parse(), catalog)
        gold = run_pipeline(lower_to_text(typed), catalog, do_lint=False)
        if not gold.compiled_strict:
            continue  # a gold program the catalog rejects stays rejected whatever its literals
        slots, names = filler.fill(row.prompt, _tokens(typed))
        ok, text = _compiles(typed, slots, names, catalog)
        assert ok, text
        checked += 1
    assert checked > 60


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(min_value=0, max_value=10_000), prompt=st.text(max_size=300))
def test_property_any_prompt_fills_a_valid_program(filler, synth, catalog, index, prompt):
    rows = synth["test"] + synth["test_compositional"]
    _gold_prompt, typed = rows[index % len(rows)]
    slots, names = filler.fill(prompt, _tokens(typed))
    ok, text = _compiles(typed, slots, names, catalog)
    assert ok, text
    assert len(set(n.lower() for n in names)) == len(names)
    assert all(valid_identifier(n) for n in names)


def test_fill_is_valid_on_walks_through_the_decoding_mask(filler, synth, catalog):
    """What the decoder can emit (any walk through the constraint mask), filled, compiles strict."""
    import random

    import numpy as np

    from sashimi.ir.lowering import lower
    from sashimi.ir.vocab import build_vocab
    from sashimi.model.constraints import ProgramConstraint, build_token_table

    programs = [lower(t) for rows in synth.values() for _p, t in rows]
    vocab = build_vocab(programs, catalog, catalog_actions=catalog.actions)
    table = build_token_table(vocab)
    pc = ProgramConstraint(vocab, table, max_len=160, catalog=catalog)
    rng = random.Random(0)
    prompts = [p for p, _t in synth["test"]] + HOSTILE
    for k in range(60):
        state, ids = pc.initial(), []
        while not pc.is_final(state):
            choices = np.flatnonzero(pc.allowed(state))
            keywords = [c for c in choices if table.tokens[c].isupper() or table.tokens[c] == "#"]
            pick = int(rng.choice(keywords if keywords and rng.random() < 0.5 else list(choices)))
            ids.append(pick)
            state = pc.advance(state, pick)
        slots, names = filler.fill(prompts[k % len(prompts)], [table.tokens[i] for i in ids])
        text = lower_to_text(pc.to_typed(ids, slots, names))
        assert run_pipeline(text, catalog, do_lint=False).compiled_strict, text


HOSTILE = [
    "",
    "   \n\t ",
    "set a timer " * 10_000,
    "🎉🔥💯" * 50,
    "\x00\x01\x02\x7f\x80\x9f\ud800 binary \udfff\x1b[31m",
    '"' * 500 + "`{}`" + "'" * 300,
    "9" * 5000,
]


@pytest.mark.parametrize("prompt", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_prompts_never_crash(filler, synth, catalog, prompt):
    for _p, typed in synth["test"][:15]:
        slots, names = filler.fill(prompt, _tokens(typed))
        ok, text = _compiles(typed, slots, names, catalog)
        assert ok, text


# ----------------------------------------------------------------------------- variable names


def test_variable_names_are_distinct_identifiers(filler, catalog):
    typed = _program(
        'SHORTCUT "T"\nACTION ask WFAskActionPrompt="Name?"\nSET $a = @prev\nSET $b = @prev\nSET $c = $a\n'
        'ACTION setvariable WFVariableName="d"\n',
        catalog,
    )
    _slots, names = filler.fill("whatever", _tokens(typed))
    assert len(names) == len(typed.var_names) == 4
    assert len({n.lower() for n in names}) == 4
    assert all(IDENT.match(n) and valid_identifier(n) for n in names)


# ----------------------------------------------------------------------------- persistence


def test_save_load_round_trip_gives_identical_fills(filler, synth, tmp_path):
    filler.save(tmp_path)
    raw = json.loads((tmp_path / "filler.json").read_text(encoding="utf-8"))
    assert raw["value_source"] == "synthetic" and raw["format"] == "sashimi-value-filler"
    again = ValueFiller.load(tmp_path)
    for prompt, typed in synth["test"] + synth["test_compositional"]:
        assert again.fill(prompt, _tokens(typed)) == filler.fill(prompt, _tokens(typed))


def test_load_rejects_bad_files(tmp_path):
    with pytest.raises(DataError):
        ValueFiller.load(tmp_path)
    (tmp_path / "filler.json").write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(DataError):
        ValueFiller.load(tmp_path)


def test_fit_is_deterministic_and_records_its_source(synth):
    a = ValueFiller.fit(synth["dev"], seed=1, value_source="real")
    b = ValueFiller.fit(synth["dev"], seed=1, value_source="real")
    assert a.value_source == "real" and a.to_json()["weights"] == b.to_json()["weights"]
    with pytest.raises(ValueError):
        ValueFiller.fit(synth["dev"], value_source="elsewhere")


# ----------------------------------------------------------------------------- CLI


def test_exp_filler_cli(tmp_path, synth, capsys):
    corpus = generate_corpus(120, seed=5)
    from sashimi.dsl.corpus import save_corpus

    save_corpus(tmp_path / "train.jsonl", [e.row for e in corpus["train"]])
    save_corpus(tmp_path / "test.jsonl", [e.row for e in corpus["test"]])
    code = main(
        [
            "exp",
            "filler",
            "--train",
            str(tmp_path / "train.jsonl"),
            "--data",
            str(tmp_path / "test.jsonl"),
            "--json",
            "--quiet",
            "--out",
            str(tmp_path / "run"),
        ]  # fmt: skip
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    result = out["results"][str(tmp_path / "test.jsonl")]
    assert result["validity"]["filled"]["compile_strict"] == 1.0
    assert 0.0 <= result["slot_accuracy"] <= 1.0
    assert (tmp_path / "run" / "metrics.json").is_file()
    assert main(["exp", "filler", "--train", str(tmp_path / "missing.jsonl"), "--data", "x.jsonl"]) == 2


# ----------------------------------------------------------------------------- titles


def test_title_model_learns_titles_and_formats(catalog):
    from sashimi.model.filler.titles import TitleModel, name_pieces

    assert name_pieces("Timer x3, Notes & Flashlight") == ["Timer", "Notes", "Flashlight"]

    def prog(text: str):
        typed = _program(text, catalog)
        tokens = _tokens(typed)
        labels = {
            c.position - 1: s.value
            for c, s in zip(slot_contexts(tokens), typed.slots, strict=True)
            if c.role == "case_label"
        }
        repeat = next((s.value for s in typed.slots if s.role == "repeat_count"), None)
        return tokens, typed.slots[0].value, labels, repeat

    flash = "ACTION flashlight\n"
    speak = 'ACTION speaktext WFText="hi"\n'
    programs = [
        prog(f'SHORTCUT "Torch"\n{flash}'),
        prog(f'SHORTCUT "Say It"\n{speak}'),
        prog(f'SHORTCUT "Torch & Say It"\n{flash}{speak}'),
        prog(f'SHORTCUT "Say It x3"\nREPEAT 3\n{speak}ENDREPEAT\n'),
        prog(
            f'SHORTCUT "Torch or Say It"\nMENU "Pick"\nCASE "Torch"\n{flash}CASE "Say It"\n{speak}ENDMENU\n'
        ),
    ]
    model = TitleModel.fit(programs)
    again = TitleModel.from_json(json.loads(json.dumps(model.to_json())))
    tokens, *_ = prog(f'SHORTCUT "?"\n{speak}{flash}')
    names = [n for n, _f in again.name_candidates(tokens, None)]
    assert "Say It & Torch" in names
    tokens, *_ = prog(f'SHORTCUT "?"\nREPEAT 7\n{flash}ENDREPEAT\n')
    assert "Torch x7" in [n for n, _f in again.name_candidates(tokens, 7)]
    tokens, *_ = prog(f'SHORTCUT "?"\nMENU "Pick"\nCASE "x"\n{speak}CASE "y"\n{flash}ENDMENU\n')
    assert again.case_candidates(tokens, tokens.index("CASE"))[0][0] == "Say It"
    assert "Say It or Torch" in [
        n for n, _f in again.name_candidates(tokens, None, labels=["Say It", "Torch"])
    ]


def test_a_number_and_the_same_text_keep_their_kinds_through_save_and_load(tmp_path):
    # Regression: the vocabulary once keyed literals by spelling only, so the number 2 and the text
    # "2" collided and a filler fitted on the real corpus could not be loaded back.
    cat = Catalog.load(None)
    programs = [
        'SHORTCUT "A"\nREPEAT 2\nACTION gettext WFTextActionText="2"\nENDREPEAT\n',
        'SHORTCUT "B"\nACTION gettext WFTextActionText="2"\nREPEAT 2\nENDREPEAT\n',
    ]
    examples = [(f"repeat twice {i}", to_typed(parse(p), cat)) for i, p in enumerate(programs)]
    kinds = {s.kind for _, t in examples for s in t.slots if s.value in (2, "2")}
    assert kinds == {"num", "str"}
    filler = ValueFiller.fit(examples * 3, seed=0)
    filler.save(tmp_path)
    again = ValueFiller.load(tmp_path)
    tokens = [t.text for t in examples[0][1].tokens]
    assert again.fill("repeat twice", tokens) == filler.fill("repeat twice", tokens)


def test_sparse_rows_build_the_matrix_of_the_feature_dicts_in_first_seen_column_order():
    from sashimi.model.filler.core import _SparseRows

    rows = [{"b": 1.0, "a": 2.5}, {}, {"c": -1.0, "b": 0.5}]
    built = _SparseRows()
    for row in rows:
        built.add(row)
    names, X = built.matrix()
    assert names == ["b", "a", "c"]
    assert X.shape == (3, 3)
    assert X.toarray().tolist() == [[1.0, 2.5, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, -1.0]]
    assert _SparseRows().matrix()[1].shape == (0, 1)  # no rows: one empty column, as before
