"""`sashimi ablate`: matrix files, job order, kill-and-resume of a real (tiny) matrix, the Ray backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sashimi.errors import DataError
from sashimi.eval.ablate.matrix import load_matrix
from sashimi.eval.ablate.runner import jobs_of, train_overrides

ROOT = Path(__file__).resolve().parents[2]

TINY_MATRIX = """
name: tiny
base: {base}
set: {{train.steps: 30, train.eval_every: 10, train.ckpt_every: 5}}
data:
  synth: {{n: 120, seed: 0}}
train_on: []  # tiny.yaml generates its own synthetic training rows
knn_train: synth/train
eval: {{test: synth/test}}
runs:
  - {{name: a, question: "continuous", set: {{model.weight_regime: continuous}}}}
  - {{name: b, question: "ternary, longer", set: {{model.weight_regime: full, train.steps: {b_steps}}}}}
comparisons: [[a, b]]
"""


def _write_matrix(tmp_path: Path, b_steps: int = 30) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(
        TINY_MATRIX.format(base=ROOT / "configs" / "tiny.yaml", b_steps=b_steps), encoding="utf-8"
    )
    return path


def test_matrix_file_is_read_and_checked(tmp_path):
    m = load_matrix(_write_matrix(tmp_path))
    assert [r.name for r in m.runs] == ["a", "b"]
    assert m.knn_train == {"test": "synth/train"} and m.evals == {"test": "synth/test"}
    assert m.comparisons == [("a", "b")]
    jobs = jobs_of(m, 2)
    assert [j.key for j in jobs] == ["a/seed0", "b/seed0", "a/seed1", "b/seed1"]  # seed-major
    sets = train_overrides(m.to_json(), m.to_json()["runs"][1], 1)
    assert sets[0] == "train.steps=30" and "train.steps=30" in sets and sets[-1] == "train.seed=1"
    assert sets.index("train.steps=30") < len(sets) - 1  # the run's own steps come after the budget


@pytest.mark.parametrize(
    "change, message",
    [
        (("name: tiny", "name: tiny\nbogus: 1"), "unknown matrix key"),
        (("name: a,", "name: ../a,"), "plain folder name"),
        (("[[a, b]]", "[[a, c]]"), "pair of run names"),
        (("eval: {test: synth/test}", "eval: {test: synth/final}"), "has no split"),
        (("train_on: []", "train_on: [real/train]"), "not in `data`"),
        (("knn_train: synth/train", ""), "name the kNN baselines' index"),
        (("name: b,", "name: a,"), "duplicate run name"),
    ],
)
def test_bad_matrix_files_give_one_line_errors(tmp_path, change, message):
    path = _write_matrix(tmp_path)
    path.write_text(path.read_text().replace(*change), encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        load_matrix(path)
    assert "\n" not in str(err.value)


def _ablate(matrix: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sashimi",
        "ablate",
        "--matrix",
        str(matrix),
        "--out",
        str(out),
        "--seeds",
        "1",
        "--workers",
        "1",
        "--no-report",
        "--quiet",
        *extra,
    ]


def _env() -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def test_killed_matrix_resumes_without_redoing_finished_runs(tmp_path):
    matrix = _write_matrix(tmp_path, b_steps=400)  # b trains long enough to be killed mid-way
    out = tmp_path / "abl"
    proc = subprocess.Popen(
        _ablate(matrix, out),
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    a_result = out / "runs" / "a" / "seed0" / "result.json"
    b_ckpt = out / "runs" / "b" / "seed0" / "train" / "ckpt" / "state.json"
    deadline = time.time() + 600  # generous: a loaded CI machine
    while time.time() < deadline and not (a_result.is_file() and b_ckpt.is_file()):
        assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
        time.sleep(0.2)
    assert a_result.is_file() and b_ckpt.is_file(), "the matrix did not get to run b in time"
    os.kill(proc.pid, signal.SIGTERM)  # what `kill PID` does: the runner stops its children and exits
    proc.wait(timeout=60)
    b_result = out / "runs" / "b" / "seed0" / "result.json"
    assert not b_result.is_file()  # a killed job is not a result
    a_bytes = a_result.read_bytes()
    a_meta_mtime = (out / "runs" / "a" / "seed0" / "train" / "meta.json").stat().st_mtime_ns
    step_at_kill = json.loads(b_ckpt.read_text())["step"]
    assert 0 < step_at_kill < 400

    again = subprocess.run(
        _ablate(matrix, out, "--json"), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900
    )
    assert again.returncode == 0, again.stderr[-2000:]
    record = json.loads(again.stdout)
    assert record["jobs"] == 2 and record["ran"] == 1 and record["statuses"] == {"done": 1}
    assert a_result.read_bytes() == a_bytes  # not redone
    assert (out / "runs" / "a" / "seed0" / "train" / "meta.json").stat().st_mtime_ns == a_meta_mtime
    b = json.loads(b_result.read_text())
    assert b["status"] == "done" and b["metrics"]["test"]["n"] > 0
    log = (out / "runs" / "b" / "seed0" / "log.txt").read_text()
    assert "--resume" in log  # continued from its checkpoint, not restarted
    steps = [
        json.loads(line)["step"] for line in (out / "runs" / "b" / "seed0" / "train" / "metrics.jsonl").open()
    ]
    assert steps == sorted(set(steps)) and steps[-1] == 400  # no step logged twice, none lost
    history = json.loads((out / "ablate.json").read_text())
    assert len(history) == 1  # the killed invocation wrote no record; the finishing one did


def test_a_changed_matrix_is_refused_in_the_same_folder(tmp_path):
    from sashimi.eval.ablate.runner import run_matrix

    out = tmp_path / "abl"
    out.mkdir()
    m = load_matrix(_write_matrix(tmp_path))
    data = m.to_json()
    data["runs"][0]["set"] = {"model.weight_regime": "partial"}
    (out / "matrix.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match="changed since"):
        run_matrix(m, out, seeds=1, workers=1, quiet=True)


def test_ray_backend_gives_the_local_metrics(tmp_path):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")
    matrix = _write_matrix(tmp_path)
    results = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        done = subprocess.run(
            _ablate(matrix, out, "--backend", backend),
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        results[backend] = {
            run: json.loads((out / "runs" / run / "seed0" / "result.json").read_text())["metrics"]
            for run in ("a", "b")
        }
    assert results["ray"] == results["local"]
