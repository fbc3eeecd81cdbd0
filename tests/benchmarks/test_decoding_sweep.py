"""benchmarks/decoding_sweep.py: the setting chosen with --select-on."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "decoding_sweep.py"
_spec = importlib.util.spec_from_file_location("decoding_sweep", _PATH)
sweep = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sweep)


def _row(bias, cap=4, skeleton=0.5, f1=0.8):
    return {"close_bias": bias, "cap": cap, "skeleton_exact": skeleton, "action_f1": f1}


def test_select_prefers_skeleton_exact_then_action_f1():
    rows = [_row(1.0, skeleton=0.83), _row(-0.5, skeleton=0.86, f1=0.90), _row(0.0, skeleton=0.86, f1=0.95)]
    assert sweep.select(rows)["close_bias"] == 0.0


def test_select_breaks_full_ties_towards_the_milder_setting():
    rows = [_row(-1.0), _row(0.5), _row(0.0, cap=10), _row(0.0, cap=4)]
    best = sweep.select(rows)
    assert (best["close_bias"], best["cap"]) == (0.0, 4)
    assert sweep.select([_row(0.0, cap=0), _row(0.0, cap=6)])["cap"] == 6  # 0 = no cap: the least mild


def test_select_on_an_unknown_set_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no --set of that name"):
        sweep.main(["--out", str(tmp_path), "--set", "dev=x.jsonl", "--select-on", "test"])


def test_select_takes_a_wider_beam_only_when_it_scores_higher():
    greedy, beam4 = {**_row(0.0), "beam": 1}, {**_row(0.0), "beam": 4}
    assert sweep.select([beam4, greedy])["beam"] == 1  # a full tie: the cheaper search
    better = {**_row(0.0, skeleton=0.51), "beam": 4}
    assert sweep.select([greedy, better])["beam"] == 4
    assert sweep.select([_row(0.0)])["close_bias"] == 0.0  # rows written before beams were an axis


def test_a_beam_width_under_one_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="at least 1"):
        sweep.main(["--out", str(tmp_path), "--set", "dev=x.jsonl", "--beams", "1", "0"])
