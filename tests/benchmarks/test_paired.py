"""benchmarks/paired.py: one pair as before, several pairs averaged per row before the bootstrap."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "paired.py"
_spec = importlib.util.spec_from_file_location("paired", _PATH)
paired = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(paired)


def _rows(path: Path, values: dict) -> str:
    path.write_text("".join(json.dumps({"id": i, "action_f1": v, "skeleton_exact": None}) + "\n" for i, v in values.items()))
    return str(path)


def _run(capsys, *argv) -> dict:
    assert paired.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_one_pair_and_the_seed_average(tmp_path, capsys):
    a0 = _rows(tmp_path / "a0", {"x": 1.0, "y": 0.5, "z": 0.0})
    b0 = _rows(tmp_path / "b0", {"x": 0.5, "y": 0.5, "z": 0.5})
    a1 = _rows(tmp_path / "a1", {"x": 0.0, "y": 1.0, "z": 0.0})
    b1 = _rows(tmp_path / "b1", {"x": 0.5, "y": 0.5, "z": 0.0})
    one = _run(capsys, a0, b0)["action_f1"]
    assert one["diff"] == 0.0 and one["a_better_rows"] == 1 and one["b_better_rows"] == 1 and one["pairs"] == 1
    two = _run(capsys, a0, b0, a1, b1, "--resamples", "500")
    # per row: x (0.5 - 0.5) / 2 = 0, y (0 + 0.5) / 2 = 0.25, z (-0.5 + 0) / 2 = -0.25
    assert two["action_f1"]["diff"] == 0.0 and two["action_f1"]["pairs"] == 2
    assert two["action_f1"]["a_better_rows"] == 1 and two["action_f1"]["b_better_rows"] == 1
    lo, hi = two["action_f1"]["ci"]
    assert lo < 0 < hi
    assert two["skeleton_exact"]["diff"] == 0.0  # None counts as 0 on both sides


def test_odd_files_and_mismatched_rows_are_errors(tmp_path, capsys):
    a = _rows(tmp_path / "a", {"x": 1.0})
    b = _rows(tmp_path / "b", {"y": 1.0})
    with pytest.raises(SystemExit):
        paired.main([a])
    with pytest.raises(SystemExit, match="different rows"):
        paired.main([a, b])
