"""Malformed predictions: each row a scored failure or one located error, never a traceback."""

from __future__ import annotations

import json

import pytest

from sashimi.cli import main
from sashimi.errors import DataError
from sashimi.eval import validity
from sashimi.eval.predictions import match_predictions, read_gold, read_predictions

from .conftest import write_predictions


@pytest.fixture
def gold(synth_dir):
    return synth_dir / "test.jsonl"


def _good(gold_path):
    return [{"id": g.id, "prompt": g.prompt, "dsl": g.program} for g in read_gold(gold_path)]


def _run(args, capsys):
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def test_bad_rows_are_scored_failures_and_the_rest_still_scored(gold, tmp_path, capsys, monkeypatch):
    rows = _good(gold)
    rows[0]["dsl"] = 42  # non-string dsl
    del rows[1]["dsl"]  # missing field
    rows[2]["dsl"] = 'SHORTCUT "Big"\n' + "ACTION openurl\n" * 70_000  # over 1 MB
    rows[3]["dsl"] = 'SHORTCUT "x"\nACTION ((((\n'  # does not parse
    rows[4]["dsl"] = ""  # no program
    rows[5]["accepted"] = "yes"  # not a boolean
    rows[6]["dsl"] = "CRASH THE PARSER"
    real = validity.run_pipeline

    def crashing(text, *args, **kwargs):
        if text.startswith("CRASH"):
            raise RuntimeError("boom\nsecond line")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(validity, "run_pipeline", crashing)
    preds = write_predictions(tmp_path / "p.jsonl", rows)
    out = tmp_path / "eval"
    code, err = _run(
        [
            "evaluate",
            "--predictions",
            str(preds),
            "--data",
            str(gold),
            "--out",
            str(out),
            "--quiet",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    scored = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    categories = [r["category"] for r in scored]
    assert categories[:7] == [
        "malformed",
        "malformed",
        "oversize",
        "parse_error",
        "empty",
        "malformed",
        "crash",
    ]
    assert "'dsl' must be a string" in scored[0]["message"]
    assert "missing field 'dsl'" in scored[1]["message"]
    assert scored[6]["message"] == "toolchain crashed: RuntimeError: boom"
    assert all(r["action_f1"] == 0.0 and not r["compile_strict"] for r in scored[:7])
    assert set(categories[7:]) == {"exact"}
    summary = json.loads((out / "summary.json").read_text())
    n = len(rows)
    assert summary["metrics"]["compile_strict_rate"] == pytest.approx((n - 7) / n)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"id": "a", "dsl": ""}\n{not json}\n', ":2:2: invalid JSON"),
        ("[1, 2]\n", ":1: expected a JSON object on each line"),
        ('{"dsl": "x"}\n', ":1: prediction needs a non-empty string 'id'"),
        ('{"id": 7, "dsl": "x"}\n', ":1: prediction needs a non-empty string 'id'"),
        (
            '{"id": "a", "dsl": ""}\n{"id": "a", "dsl": ""}\n',
            ":2: duplicate prediction id 'a' (first on line 1)",
        ),
        (b'{"id": "a", "dsl": "\xff"}\n', ":1:21: not UTF-8 text"),
    ],
)
def test_unattributable_rows_are_one_located_error(gold, tmp_path, capsys, text, message):
    path = tmp_path / "p.jsonl"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    code, err = _run(["evaluate", "--predictions", str(path), "--data", str(gold)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}{message}" in err


def test_ids_must_match_the_gold_file(gold, tmp_path, capsys):
    rows = _good(gold)
    extra = write_predictions(tmp_path / "extra.jsonl", rows + [{"id": "nope", "dsl": ""}])
    code, err = _run(["evaluate", "--predictions", str(extra), "--data", str(gold)], capsys)
    assert code == 2 and "prediction id 'nope' is not in the gold file" in err
    missing = write_predictions(tmp_path / "missing.jsonl", rows[1:])
    code, err = _run(["evaluate", "--predictions", str(missing), "--data", str(gold)], capsys)
    assert code == 2 and f"no prediction for gold id {rows[0]['id']!r}" in err and "--allow-missing" in err
    code, err = _run(
        ["evaluate", "--predictions", str(missing), "--data", str(gold), "--allow-missing", "--json"], capsys
    )
    assert code == 0


def test_read_predictions_keeps_extras_and_defaults(tmp_path):
    path = write_predictions(tmp_path / "p.jsonl", [{"id": "a", "dsl": "x", "ms": 3, "beam": 2}])
    (pred,) = read_predictions(path)
    assert pred.accepted is True and pred.ms == 3.0 and pred.extra == {"beam": 2} and pred.problem is None
    with pytest.raises(DataError, match="not in the gold file"):
        match_predictions([pred], [])


def test_bad_gold_is_a_located_error(tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "a", "prompt": "p", "program": "SHORTCUT \\"A\\"\\n"}\n{"id": "b"}\n')
    preds = write_predictions(tmp_path / "p.jsonl", [{"id": "a", "dsl": ""}])
    code, err = _run(["evaluate", "--predictions", str(preds), "--data", str(gold)], capsys)
    assert code == 2 and f"{gold}:2:" in err and "gold row needs" in err
    gold.write_text('{"id": "a", "prompt": "p", "program": "ACTION x\\n"}\n')
    code, err = _run(["evaluate", "--predictions", str(preds), "--data", str(gold)], capsys)
    assert code == 2 and "gold program of 'a' does not parse" in err


def test_gold_is_read_in_its_dialect_and_held_canonical(tmp_path, catalog):
    from sashimi.eval.harness import evaluate

    forge = 'SHORTCUT "A"\nACTION ask\nIF @prev equals_number 5\nACTION vibrate\nENDIF\n'
    chat = {
        "shortcut_id": "c",
        "messages": [{"role": "user", "content": "p"}, {"role": "assistant", "content": forge}],
    }
    gold = tmp_path / "gold.jsonl"
    rows = [
        chat,
        {"id": "p", "prompt": "p", "program": forge, "dialect": "shortcutforge"},
        {"id": "q", "prompt": "p", "program": forge},
    ]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows))
    read = read_gold(gold)
    # a chat row without a "dialect" key is ShortcutForge's: its equals_number means "is less than"
    assert "is_less_than 5" in read[0].program and "is_less_than 5" in read[1].program
    assert "equals_number 5" in read[2].program  # plain rows default to canonical text
    canonical = forge.replace("equals_number", "is_less_than")
    report = evaluate([{"id": r.id, "dsl": canonical} for r in read], read, catalog, resamples=10)
    assert [r["category"] for r in report["rows"]] == ["exact", "exact", "wrong_structure"]
    gold.write_text(json.dumps({"id": "p", "prompt": "p", "program": forge, "dialect": "klingon"}) + "\n")
    with pytest.raises(DataError, match="unknown dialect 'klingon'"):
        read_gold(gold)
