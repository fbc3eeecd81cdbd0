"""The plan 4.2 matrix files: every run's `set` is a valid `sashimi train` recipe and changes what it says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sashimi.train.config import load_config
from sashimi.train.trainer import negative_sources

ROOT = Path(__file__).resolve().parents[2]
MATRICES = ("bottleneck", "loss_weighting", "negative_sources")


def _resolved(name: str) -> tuple[dict, dict[str, dict]]:
    raw = yaml.safe_load((ROOT / "configs" / "ablation" / f"{name}.yaml").read_text())
    configs = {}
    for run in raw["runs"]:
        values = {**(raw.get("set") or {}), **(run.get("set") or {})}
        # as `sashimi ablate` passes them: --set key=<JSON of the value>
        configs[run["name"]] = load_config(
            ROOT / raw["base"], [f"{k}={json.dumps(v)}" for k, v in values.items()]
        )
    return raw, configs


@pytest.mark.parametrize("name", MATRICES)
def test_matrix_runs_are_valid_recipes(name):
    raw, configs = _resolved(name)
    assert raw["name"] == name and (ROOT / raw["base"]).is_file()
    assert all(run.get("question") for run in raw["runs"])
    assert len({r["name"] for r in raw["runs"]}) == len(raw["runs"])
    for a, b in raw["comparisons"]:
        assert a in configs and b in configs and a != b
    # every run differs from every other in its resolved recipe
    blobs = [json.dumps(c, sort_keys=True) for c in configs.values()]
    assert len(set(blobs)) == len(blobs)
    for config in configs.values():
        assert config["model"]["weight_regime"] == "full" and config["data"]["negatives_per_program"] == 2
        assert config["train"]["steps"] == 300


def test_matrix_axes():
    _, bn = _resolved("bottleneck")
    assert sorted(c["model"]["d_bottleneck"] for c in bn.values()) == [32, 64, 128, 256, 384]
    _, lw = _resolved("loss_weighting")
    assert {(c["loss"]["weighting"], tuple(c["loss"]["weights"])) for c in lw.values()} == {
        ("fixed", (1.0, 0.1, 0.1)),
        ("fixed", (1.0, 0.5, 0.5)),
        ("adaptive", (1.0, 0.1, 0.1)),  # adaptive ignores the fixed weights
    }
    _, ns = _resolved("negative_sources")
    assert sorted(negative_sources(c) for c in ns.values()) == [
        (("linter",), False),
        (("linter", "synthetic"), False),
        (("linter", "synthetic"), True),
    ]
