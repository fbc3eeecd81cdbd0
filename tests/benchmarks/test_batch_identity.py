"""benchmarks/batch_identity.py on the shipped model: a small mixed file, batches of 4."""

import importlib.util
import json
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "batch_identity.py"
_spec = importlib.util.spec_from_file_location("batch_identity", _PATH)
batch_identity = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(batch_identity)


def test_batches_give_the_programs_of_single_requests(tmp_path, shipped_generator, capsys):
    prompts = [
        "set a timer for 10 minutes",
        "write a poem about the sea",
        "for each file in my Downloads folder, show its name",
        "",
        "log 500 ml of water in Health",
        "show a menu to call mom or text dad",
        "if the battery level is below 20 percent, turn on low power mode",
    ]
    data = tmp_path / "p.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "prompt": p}) + "\n" for i, p in enumerate(prompts)))
    out = tmp_path / "r.json"
    assert batch_identity.main(["--data", str(data), "--batch", "4", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["prompts"] == 7 and report["programs_differ"] == 0 and 4 <= report["accepted"] <= 6
    assert report["cpu_ms_per_request_batched"] > 0 and json.loads(capsys.readouterr().out) == report


def test_answers_compared_across_backends_and_a_changed_answer_is_found(tmp_path, monkeypatch, capsys):
    """--programs-out from the numpy decoder step, --same-as with the onnxruntime one (the default): the
    same answers; a reference with one answer changed is reported and fails the run."""
    prompts = ["set a timer for 10 minutes", "write a poem about the sea", "log 500 ml of water in Health"]
    data = tmp_path / "p.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "prompt": p}) + "\n" for i, p in enumerate(prompts)))
    ref, out = tmp_path / "ref.json", tmp_path / "r.json"
    monkeypatch.setenv("SASHIMI_DECODER_BACKEND", "numpy")
    assert batch_identity.main(["--data", str(data), "--batch", "2", "--programs-out", str(ref)]) == 0
    monkeypatch.delenv("SASHIMI_DECODER_BACKEND")
    assert batch_identity.main(["--data", str(data), "--batch", "2", "--same-as", str(ref), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["differ_from_reference_alone"] == 0 and report["differ_from_reference_batched"] == 0
    rows = json.loads(ref.read_text())
    assert [r["prompt"] for r in rows] == prompts and rows[0]["answer"][0] is True
    rows[0]["answer"][2] += "\n# changed"
    ref.write_text(json.dumps(rows))
    assert batch_identity.main(["--data", str(data), "--batch", "2", "--same-as", str(ref), "--out", str(out)]) == 1
    report = json.loads(out.read_text())
    assert report["differ_from_reference_alone"] == 1 and report["differ_from_reference_batched"] == 1
    capsys.readouterr()
