"""The `sashimi dsl …` commands end to end: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

import pytest

from sashimi.cli import main
from sashimi.dsl.corpus import CorpusRow, save_corpus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.dsl")), ids=lambda p: p.name)
def test_examples_check_compile_decompile(example, tmp_path, capsys):
    code, out, _ = _run(capsys, "dsl", "check", str(example))
    assert code == 0 and "valid (strict)" in out
    target = tmp_path / "out.shortcut"
    code, out, _ = _run(capsys, "dsl", "compile", str(example), "-o", str(target), "--seed", "3")
    assert code == 0, out
    data = target.read_bytes()
    assert data.startswith(b"bplist00")
    assert plistlib.loads(data)["WFWorkflowActions"]
    # Deterministic for a seed.
    again = tmp_path / "again.shortcut"
    _run(capsys, "dsl", "compile", str(example), "-o", str(again), "--seed", "3")
    assert again.read_bytes() == data
    code, out, _ = _run(capsys, "dsl", "decompile", str(target), "--style", "corpus")
    assert code == 0
    assert out == example.read_text(encoding="utf-8")  # the name travels in WFWorkflowName
    # The default (faithful) output compiles to the same plist, whatever the seed.
    faithful = tmp_path / "faithful.dsl"
    code, _, _ = _run(capsys, "dsl", "decompile", str(target), "-o", str(faithful))
    assert code == 0
    code, _, _ = _run(capsys, "dsl", "compile", str(faithful), "-o", str(again), "--seed", "9")
    assert code == 0
    assert _same_up_to_uuids(plistlib.loads(again.read_bytes()), plistlib.loads(data))


def _same_up_to_uuids(a, b) -> bool:
    from tests.dsl.plist_compare import same_up_to_uuid_renaming

    return same_up_to_uuid_renaming(a["WFWorkflowActions"], b["WFWorkflowActions"])


def test_check_reports_repairs(tmp_path, capsys):
    src = tmp_path / "messy.dsl"
    src.write_text(
        'Here you go:\n```\nSHORTCUT "Messy"\nACTION getclipbaord\nIF @prev is_empty\n'
        'ACTION showresult Text="none"\n```\n',
        encoding="utf-8",
    )
    code, out, _ = _run(capsys, "dsl", "check", str(src), "--json")
    report = json.loads(out)
    assert report["parsed"] and report["strict_valid"], report
    assert report["lint_changes"] and report["repaired"] and report["action_changed"]
    # Every repair is a warning too; the one that changed an action has its own category.
    categories = [w["category"] for w in report["warnings"]]
    assert "action_repair" in categories and "lint_repair" in categories
    assert code == 1  # valid only after repairs: never a plain success
    code, out, _ = _run(capsys, "dsl", "check", str(src))
    assert code == 1 and "valid (strict) only after repairs" in out and "warning: action_repair" in out
    # compile refuses a guessed action in strict mode and says so; --permissive accepts it.
    target = tmp_path / "messy.shortcut"
    code, _, err = _run(capsys, "dsl", "compile", str(src), "-o", str(target))
    assert code == 2 and "action_repair" in err and not target.exists()
    code, _, err = _run(capsys, "dsl", "compile", str(src), "-o", str(target), "--permissive")
    assert code == 0 and target.exists() and "warning: action_repair" in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "empty file"),
        ("\n\n", "empty file"),
        ('SHORTCUT "x"\nACTION a\nIF @prev has_any_value\nELSE IF @prev contains "x"\nENDIF\n', "no ELSE IF"),
        ('SHORTCUT "x"\nACTION gettext WFTextActionText="a" # note\n', "must be on a line of its own"),
    ],
)
def test_check_bad_input_is_one_line_exit_2(content, needle, tmp_path, capsys):
    src = tmp_path / "bad.dsl"
    src.write_text(content, encoding="utf-8")
    code, _, err = _run(capsys, "dsl", "check", str(src))
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and needle in errors[0] and str(src) in errors[0], err


def test_output_path_that_is_a_directory(tmp_path, capsys):
    src = EXAMPLES / "log-water.dsl"
    code, _, err = _run(capsys, "dsl", "compile", str(src), "-o", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "is a directory" in err
    target = tmp_path / "x.shortcut"
    assert _run(capsys, "dsl", "compile", str(src), "-o", str(target))[0] == 0
    code, _, err = _run(capsys, "dsl", "decompile", str(target), "-o", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "is a directory" in err


def test_decompile_reads_stdin_and_reports_writes(tmp_path, capsys, monkeypatch):
    import io
    import sys

    target = tmp_path / "x.shortcut"
    assert _run(capsys, "dsl", "compile", str(EXAMPLES / "log-water.dsl"), "-o", str(target))[0] == 0

    class _Stdin:
        buffer = io.BytesIO(target.read_bytes())

    monkeypatch.setattr(sys, "stdin", _Stdin())
    code, out, _ = _run(capsys, "dsl", "decompile", "-")
    assert code == 0 and out.startswith('SHORTCUT "Log Water"\n')
    code, out, _ = _run(capsys, "dsl", "decompile", str(target), "-o", str(tmp_path / "x.dsl"))
    assert code == 0 and out.startswith(f"wrote {tmp_path / 'x.dsl'}")


def test_empty_jsonl_is_an_error(tmp_path, capsys):
    data = tmp_path / "empty.jsonl"
    data.write_text("", encoding="utf-8")
    code, _, err = _run(capsys, "dsl", "corpus-check", "--data", str(data))
    assert code == 2 and "empty.jsonl: no rows" in err
    code, _, err = _run(capsys, "data", "split", "--data", str(data), "--out", str(tmp_path / "s"))
    assert code == 2 and "empty.jsonl" in err and "<input>" not in err


def test_jsonl_encoding_error_is_located(tmp_path, capsys):
    data = tmp_path / "latin.jsonl"
    data.write_bytes(b'{"a": 1}\n{"b": "caf\xe9"}\n')
    code, _, err = _run(capsys, "dsl", "corpus-check", "--data", str(data))
    assert code == 2 and "latin.jsonl:2:" in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('SHORTCUT "x"\nACTION gettext WFTextActionText=}\n', "bad.dsl:2:"),
        ('SHORTCUT "x"\nACTION nosuchactionanywhere.really.not X=1\n', "bad.dsl:2"),
    ],
)
def test_compile_errors_are_one_located_line(content, needle, tmp_path, capsys):
    src = tmp_path / "bad.dsl"
    src.write_text(content, encoding="utf-8")
    code, out, err = _run(capsys, "dsl", "compile", str(src), "--no-lint", "-o", str(tmp_path / "o.shortcut"))
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "o.shortcut").exists()


@pytest.mark.parametrize("payload", [b"", b"not a plist", b"bplist00\x00\x01", plistlib.dumps([1, 2])])
def test_decompile_malformed_is_one_line(payload, tmp_path, capsys):
    bad = tmp_path / "bad.shortcut"
    bad.write_bytes(payload)
    code, _, err = _run(capsys, "dsl", "decompile", str(bad))
    assert code == 2
    assert err.count("\n") == 1 and str(bad) in err and "Traceback" not in err


def test_missing_file_is_one_line(capsys):
    code, _, err = _run(capsys, "dsl", "check", "/definitely/not/here.dsl")
    assert code == 2 and err.strip() == "error: /definitely/not/here.dsl: file not found"


def test_corpus_check_json(tmp_path, capsys):
    rows = [
        CorpusRow(
            "ok-1",
            "copy hello",
            'SHORTCUT "A"\nACTION gettext WFTextActionText="hello"\nACTION setclipboard\n',
        ),
        CorpusRow("broken", "nothing", 'SHORTCUT "B"\nSET $x = = 1\n'),
        CorpusRow("unknown", "x", 'SHORTCUT "C"\nACTION com.nobody.Foo.Bar\n'),
    ]
    data = tmp_path / "tiny.jsonl"
    save_corpus(data, rows)
    code, out, _ = _run(capsys, "dsl", "corpus-check", "--data", str(data), "--json")
    assert code == 0
    report = json.loads(out)
    for key in (
        "n",
        "parse_rate",
        "validate_strict_rate",
        "validate_permissive_rate",
        "compile_strict_rate",
        "compile_permissive_rate",
        "runtime_unverified_rate",
        "print_identity_rate",
        "roundtrip_rate",
        "lint_changed_rate",
        "failures",
    ):
        assert key in report
    assert report["n"] == 3
    assert report["compile_strict_rate"] == pytest.approx(1 / 3, abs=1e-4)
    # A fully qualified identifier the catalog lacks compiles permissively (issue 11.5) and round-trips.
    assert report["compile_permissive_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["runtime_unverified_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["roundtrip_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert {f["id"] for f in report["failures"]} >= {"broken", "unknown"}
    assert all(0.0 <= report[k] <= 1.0 for k in report if k.endswith("_rate"))


def test_corpus_check_bad_jsonl_is_located(tmp_path, capsys):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"shortcut_id": "a", "messages": []}\n{oops\n', encoding="utf-8")
    code, _, err = _run(capsys, "dsl", "corpus-check", "--data", str(data), "--json")
    assert code == 2 and "bad.jsonl:" in err and err.count("\n") == 1
