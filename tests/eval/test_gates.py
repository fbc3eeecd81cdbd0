"""`sashimi gates`: every gate printed with its figure; unmeasured gates fail; exit 0 iff all pass."""

from __future__ import annotations

import json

from sashimi.cli import main
from sashimi.eval.gates import GATES, check_gates


def _summary(**metrics):
    base = {
        "compile_strict_rate": 0.99,
        "compile_permissive_rate": 0.99,
        "runtime_unverified_rate": 0.0,
        "action_f1": 0.5,
        "skeleton_exact": 0.3,
    }
    base.update(metrics)
    return {
        "n": 10,
        "order": ["m"],
        "systems": {
            "m": {"metrics": base, "ci": {"action_f1": [0.4, 0.6]}, "latency": {"n": 10, "p95_ms": 150.0}}
        },
    }


def test_all_measured_and_passing():
    result = check_gates(
        _summary(),
        gate_report={"adopted": "linear", "candidates": {"linear": {"false_accept_rate": 0.004}}},
        model_report={"metrics": {"params_total": 9_000_000, "separability_nats": 2.4}},
    )
    assert [g["status"] for g in result["gates"]] == ["pass"] * len(GATES)
    assert result["passed"] and result["fidelity"]["action_f1"] == {"value": 0.5, "ci": [0.4, 0.6]}


def test_missing_measurements_fail_and_thresholds_bite():
    result = check_gates(_summary(compile_strict_rate=0.949))
    status = {g["key"]: g["status"] for g in result["gates"]}
    assert status["compile_strict_rate"] == "FAIL"
    assert status["ood_false_accept_rate"] == "not measured" and status["params_total"] == "not measured"
    assert not result["passed"]
    edge = check_gates(
        _summary(compile_strict_rate=0.95, runtime_unverified_rate=0.02),
        gate_report={"false_accept_rate": 0.01},
        model_report={"params_total": 500e6, "separability_nats": 2.0},
    )
    assert edge["passed"]  # the bars are inclusive


def test_cli(tmp_path, capsys):
    report = tmp_path / "summary.json"
    report.write_text(json.dumps(_summary()))
    gate = tmp_path / "gate.json"
    gate.write_text(json.dumps({"heldout_metrics": {"false_accept_rate": 0.05}}))
    assert main(["gates", str(report), "--gate", str(gate)]) == 1
    out = capsys.readouterr().out
    for g in GATES:
        assert g.label in out
    assert "5.0 %  FAIL" in out and "not measured" in out and "action_f1" in out
    model = tmp_path / "model.json"
    model.write_text(json.dumps({"params_total": 1e6, "separability_nats": 3.0}))
    gate.write_text(json.dumps({"false_accept_rate": 0.0}))
    assert main(["gates", str(report), "--gate", str(gate), "--model", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    assert main(["gates", str(bad)]) == 2
    assert main(["gates", str(report), "--system", "nope"]) == 2
    err = capsys.readouterr().err
    assert "expected a JSON object" in err and "no system 'nope'" in err
