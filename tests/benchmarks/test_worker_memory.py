"""benchmarks/worker_memory.py: the load test's model requests through one generator, memory and CPU."""

import importlib.util
import json
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "worker_memory.py"
_spec = importlib.util.spec_from_file_location("worker_memory", _PATH)
worker_memory = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker_memory)


def test_prompts_are_the_load_tests_model_requests():
    prompts = worker_memory.model_prompts(2000, seed=0)
    assert len(prompts) == 1400 and prompts == worker_memory.model_prompts(2000, seed=0)
    assert all(isinstance(p, str) and p and len(p) <= 2000 for p in prompts)
    assert prompts != worker_memory.model_prompts(2000, seed=1)


def test_report_samples_memory_after_the_warmup(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert worker_memory.main(["--plan", "29", "--warmup", "8", "--batch", "4", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == report
    assert report["warmup"] == 8 and report["requests"] == 21 and report["model"] == "shipped"
    assert [n for n, _ in report["rss_mb_by_request"]] == [8, 21]
    assert report["growth_mb_after_warmup"] == pytest.approx(
        report["rss_mb_end"] - report["rss_mb_after_warmup"], abs=0.11
    )
    assert report["cpu_ms_per_request"] > 0


def test_a_warmup_that_leaves_nothing_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as err:
        worker_memory.main(["--plan", "10", "--warmup", "6"])
    assert err.value.code == 2 and "--warmup" in capsys.readouterr().err
