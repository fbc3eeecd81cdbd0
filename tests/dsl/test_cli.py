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
    code, out, _ = _run(capsys, "dsl", "decompile", str(target))
    assert code == 0
    original = example.read_text(encoding="utf-8").splitlines()[1:]
    assert out.splitlines()[1:] == original  # the name is not stored in the plist


def test_check_reports_repairs(tmp_path, capsys):
    src = tmp_path / "messy.dsl"
    src.write_text(
        'Here you go:\n```\nSHORTCUT "Messy"\nACTION getcontentsofurl\nIF @prev is_empty\n'
        'ACTION showresult Text="none"\n```\n',
        encoding="utf-8",
    )
    code, out, _ = _run(capsys, "dsl", "check", str(src), "--json")
    report = json.loads(out)
    assert report["parsed"] and report["strict_valid"], report
    assert report["lint_changes"]
    assert code == 0


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
