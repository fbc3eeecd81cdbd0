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
