"""End-to-end: `data typed-ir`, `data vocab`, `exp coverage` on small hand-written corpora."""

from __future__ import annotations

import json

from sashimi.cli import main
from sashimi.dsl.corpus import CorpusRow, save_corpus
from sashimi.ir.lowering import lower_to_text
from sashimi.ir.typed import TypedProgram

TRAIN = [
    CorpusRow(
        "copy-text",
        "copy some text",
        'SHORTCUT "Copy"\nACTION gettext WFTextActionText="hi"\nACTION setclipboard\n',
    ),
    CorpusRow(
        "loop",
        "loop over a list",
        'SHORTCUT "Loop"\nACTION list WFItems=["a", "b"]\nFOREACH @prev\nACTION showresult Text=`{$Repeat_Item}`\n'
        "ENDFOREACH\nSET $Last = @prev\n",
    ),
    CorpusRow("broken", "not a program", 'SHORTCUT "Broken"\nACTION\n'),
]
DEV = [
    CorpusRow(
        "dev-1",
        "ask and show",
        'SHORTCUT "Ask"\nACTION ask WFAskActionPrompt="Name?"\nIF @prev has_any_value\nACTION showresult Text=`{@Mystery}`\nENDIF\n',
    ),
]


def test_typed_ir_command_reports_and_round_trips(tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    save_corpus(data, TRAIN)
    out, report_path = tmp_path / "typed.jsonl", tmp_path / "report.json"
    code = main(
        ["data", "typed-ir", "--data", str(data), "--out", str(out), "--report", str(report_path), "--json"]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    assert json.loads(capsys.readouterr().out) == report
    assert (report["total"], report["parsed"], report["success"]) == (3, 2, 2)
    assert report["lossless_rate"] == 1.0 and report["elapsed_seconds"] >= 0
    assert [f["shortcut_id"] for f in report["failed_ids"]] == ["broken"]
    assert report["failed_ids"][0]["stage"] == "parse" and "broken" in report["failed_ids"][0]["reason"]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["shortcut_id"] for r in records] == ["copy-text", "loop"]
    for record, row in zip(records, TRAIN, strict=False):
        assert record["prompt"] == row.prompt
        assert lower_to_text(TypedProgram.from_json(record)) == row.program
        assert record["metadata"]["tokens"] == len(record["tokens"]) and record["metadata"]["canonical_text"]
    assert records[1]["var_names"] == ["Last"]


def test_vocab_and_coverage_commands(tmp_path, capsys):
    train, dev = tmp_path / "train.jsonl", tmp_path / "dev.jsonl"
    save_corpus(train, TRAIN)
    save_corpus(dev, DEV)
    vocab_dir = tmp_path / "vocab"
    assert main(["data", "vocab", "--data", str(train), "--out", str(vocab_dir)]) == 0  # core catalog
    assert "Tier 1:" in capsys.readouterr().out
    tier1 = json.loads((vocab_dir / "tier1_vocab.json").read_text())
    assert tier1["tokens"][:5] == ["<PAD>", "<BOS>", "<EOS>", "<SEP_TIER>", "<UNK>"]
    assert "A:showresult" in tier1["tokens"] and "A:ask" in tier1["tokens"]  # `ask` only from the catalog
    ask = json.loads((vocab_dir / "tier2_vocab" / "ask.json").read_text())
    assert ask["training_count"] == 0 and "K:WFAskActionPrompt" in ask["tokens"]
    manifest = json.loads((vocab_dir / "vocab_manifest.json").read_text())
    assert manifest["training_programs"] == 2 and len(manifest["parse_failures"]) == 1

    report_path = tmp_path / "cov.json"
    args = [
        "exp",
        "coverage",
        "--vocab",
        str(vocab_dir),
        "--data",
        str(dev),
        "--json",
        "--out",
        str(report_path),
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads(report_path.read_text())
    assert report["programs"] == 1
    assert report["tier1"]["uncovered"] == [{"token": "@Mystery", "count": 1}]
    assert report["tier2"]["by_occurrence"]["rate"] == 1.0


def test_coverage_with_missing_vocab_is_one_line_error(tmp_path, capsys):
    data = tmp_path / "dev.jsonl"
    save_corpus(data, DEV)
    assert main(["exp", "coverage", "--vocab", str(tmp_path / "nope"), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "tier1_vocab.json" in err
