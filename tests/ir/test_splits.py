"""`sashimi data split`: family grouping, determinism, dev fraction, bad input."""

from __future__ import annotations

import json

import pytest

from sashimi.cli import main
from sashimi.data.splits import family_key, group_rows, split_corpus
from sashimi.dsl.corpus import CorpusRow, load_corpus, save_corpus
from sashimi.errors import DataError


def _row(sid: str, prompt: str | None = None, program: str | None = None) -> CorpusRow:
    return CorpusRow(
        sid,
        prompt if prompt is not None else f"please do the {sid} thing",
        program if program is not None else f'SHORTCUT "{sid}"\nACTION comment WFCommentActionText="{sid}"\n',
    )


def _corpus(n: int = 200) -> list[CorpusRow]:
    rows = [_row(f"task{i}x") for i in range(n)]  # no numeric suffix: n distinct families
    # Families, duplicate prompts and duplicate programs that must never straddle the split.
    rows += [_row("task3x-2"), _row("task3x-3"), _row("alpha"), _row("alpha-2"), _row("alpha-10")]
    rows += [_row("beta", prompt="Same   Prompt"), _row("gamma", prompt="same prompt")]
    rows += [_row("delta", program='SHORTCUT "x"\n'), _row("epsilon", program='SHORTCUT "x"\n')]
    return rows


def test_family_key_strips_only_a_numeric_suffix():
    assert family_key("foo-2") == "foo" and family_key("foo-10") == "foo"
    assert family_key("foo") == "foo" and family_key("foo-bar") == "foo-bar" and family_key("foo2") == "foo2"


def test_groups_join_families_prompts_and_programs():
    rows = _corpus(20)
    groups = {g.name: {rows[i].shortcut_id for i in g.rows} for g in group_rows(rows)}
    assert groups["alpha"] == {"alpha", "alpha-2", "alpha-10"}
    assert groups["task3x"] == {"task3x", "task3x-2", "task3x-3"}
    assert groups["beta"] == {"beta", "gamma"}  # whitespace and case of prompts ignored
    assert groups["delta"] == {"delta", "epsilon"}
    assert sum(len(v) for v in groups.values()) == len(rows)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_groups_never_straddle_and_fraction_holds(seed):
    rows = _corpus()
    split = split_corpus(rows, 0.1, seed)
    dev_ids = {r.shortcut_id for r in split.dev}
    train_ids = {r.shortcut_id for r in split.train}
    assert not dev_ids & train_ids and len(dev_ids | train_ids) == len(rows)
    assert 0.08 <= len(split.dev) / len(rows) <= 0.12
    for group in group_rows(rows):
        sides = {rows[i].shortcut_id in dev_ids for i in group.rows}
        assert len(sides) == 1, group


def test_split_depends_on_seed_and_is_deterministic():
    rows = _corpus()
    a, b, c = split_corpus(rows, 0.1, 0), split_corpus(rows, 0.1, 0), split_corpus(rows, 0.1, 1)
    assert a == b
    assert {r.shortcut_id for r in a.dev} != {r.shortcut_id for r in c.dev}


def test_cli_split_is_byte_identical_on_rerun(tmp_path):
    data = tmp_path / "in.jsonl"
    save_corpus(data, _corpus())
    outs = []
    for name in ("a", "b"):
        assert main(["data", "split", "--data", str(data), "--out", str(tmp_path / name), "--seed", "3"]) == 0
        outs.append(
            {f: (tmp_path / name / f).read_bytes() for f in ("train.jsonl", "dev.jsonl", "manifest.json")}
        )
    assert outs[0] == outs[1]
    manifest = json.loads(outs[0]["manifest.json"])
    assert manifest["seed"] == 3 and manifest["dev_fraction"] == 0.1
    assert manifest["counts"]["train"] + manifest["counts"]["dev"] == manifest["counts"]["total"] == 209
    assert len(manifest["input_sha256"]) == 64
    dev = load_corpus(tmp_path / "a" / "dev.jsonl")
    assert [r.shortcut_id for r in dev] == manifest["dev_ids"]
    assert any(g["ids"] == ["alpha", "alpha-2", "alpha-10"] for g in manifest["groups"])


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_bad_fraction_is_a_data_error(fraction):
    with pytest.raises(DataError, match="dev-fraction"):
        split_corpus(_corpus(20), fraction, 0)


def test_single_family_cannot_be_split(tmp_path, capsys):
    rows = [_row("x"), _row("x-2"), _row("x-3")]
    with pytest.raises(DataError, match="one family"):
        split_corpus(rows, 0.5, 0)
    data = tmp_path / "in.jsonl"
    data.write_text('{"shortcut_id": "a"}\n', encoding="utf-8")
    assert main(["data", "split", "--data", str(data), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "in.jsonl:1" in err
