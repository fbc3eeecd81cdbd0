"""Promotion gates of the plan (architecture.md §6): pass/fail per gate, with the fidelity figures beside.

Inputs are reports other commands write:
- the evaluation summary (`sashimi evaluate ... --out DIR` → `DIR/summary.json`): compile strict,
  compile permissive, runtime-unverified, latency p95 (from the predictions' `ms`), fidelity;
- a gate report (`sashimi exp gate --json`, `sashimi exp gate --evaluate FILE --json`, or the shipped
  gate's `src/sashimi/model/assets/gate/gate.json`, whose `heldout_metrics` hold its held-out figures): the OOD false-accept rate;
- a model report (any JSON object with `params_total` and/or `separability_nats`, at the top level or
  under `metrics`): parameters and hard-negative separability.

A gate without a measurement is printed "not measured" and fails: nothing passes by omission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sashimi.errors import DataError


@dataclass(frozen=True)
class Gate:
    key: str
    label: str
    op: str  # ">=" or "<="
    threshold: float
    unit: str = ""

    def passes(self, value: float) -> bool:
        return value >= self.threshold if self.op == ">=" else value <= self.threshold


GATES = (
    Gate("compile_strict_rate", "compile strict", ">=", 0.95),
    Gate("compile_permissive_rate", "compile permissive", ">=", 0.97),
    Gate("runtime_unverified_rate", "runtime-unverified", "<=", 0.02),
    Gate("ood_false_accept_rate", "OOD false accept", "<=", 0.01),
    Gate("separability_nats", "hard-negative separability", ">=", 2.0, " nats"),
    Gate("latency_p95_ms", "latency p95", "<=", 2000.0, " ms"),
    Gate("params_total", "parameters", "<=", 500e6),
)
FIDELITY_BESIDE = (
    "action_f1",
    "skeleton_exact",
    "skeleton_edit_distance",
    "tier1_exact",
    "param_key_f1",
    "exact",
)


def _system(summary: dict, name: str | None) -> tuple[str, dict]:
    systems = summary.get("systems")
    if not isinstance(systems, dict) or not systems:
        raise DataError("not an evaluation summary (no 'systems'); pass DIR/summary.json of sashimi evaluate")
    order = summary.get("order") or list(systems)
    chosen = name or order[0]
    if chosen not in systems:
        raise DataError(f"no system {chosen!r} in the summary; it has {', '.join(order)}")
    return chosen, systems[chosen]


def _number(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def gate_false_accept(report: dict) -> float | None:
    """The OOD false-accept rate of a gate report (exp gate, exp gate --evaluate, or the shipped gate.json)."""
    if isinstance(report.get("candidates"), dict) and report.get("adopted") in report["candidates"]:
        return _number(report["candidates"][report["adopted"]].get("false_accept_rate"))
    if isinstance(report.get("heldout_metrics"), dict):
        return _number(report["heldout_metrics"].get("false_accept_rate"))
    if isinstance(report.get("metrics"), dict) and "false_accept_rate" in report["metrics"]:
        return _number(report["metrics"]["false_accept_rate"])
    return _number(report.get("false_accept_rate"))


def _model_value(report: dict, key: str) -> float | None:
    if key in report:
        return _number(report[key])
    if isinstance(report.get("metrics"), dict):
        return _number(report["metrics"].get(key))
    return None


def check_gates(
    summary: dict,
    *,
    gate_report: dict | None = None,
    model_report: dict | None = None,
    system: str | None = None,
) -> dict:
    """`{"system", "gates": [{key, label, threshold, op, value, status}], "fidelity", "passed"}`."""
    name, entry = _system(summary, system)
    metrics = entry.get("metrics", {})
    measured: dict[str, float | None] = {
        "compile_strict_rate": _number(metrics.get("compile_strict_rate")),
        "compile_permissive_rate": _number(metrics.get("compile_permissive_rate")),
        "runtime_unverified_rate": _number(metrics.get("runtime_unverified_rate")),
        "latency_p95_ms": _number((entry.get("latency") or {}).get("p95_ms")),
        "ood_false_accept_rate": gate_false_accept(gate_report) if gate_report else None,
        "separability_nats": _model_value(model_report, "separability_nats") if model_report else None,
        "params_total": _model_value(model_report, "params_total") if model_report else None,
    }
    rows = []
    for gate in GATES:
        value = measured[gate.key]
        status = "not measured" if value is None else ("pass" if gate.passes(value) else "FAIL")
        rows.append(
            {
                "key": gate.key,
                "label": gate.label,
                "op": gate.op,
                "threshold": gate.threshold,
                "value": value,
                "status": status,
            }
        )
    ci = entry.get("ci", {})
    fidelity = {k: {"value": metrics.get(k), "ci": ci.get(k)} for k in FIDELITY_BESIDE}
    return {
        "system": name,
        "n": summary.get("n"),
        "gates": rows,
        "fidelity": fidelity,
        "passed": all(r["status"] == "pass" for r in rows),
    }


def _fmt(gate_key: str, value: float | None) -> str:
    if value is None:
        return "-"
    if gate_key == "params_total":
        return f"{value / 1e6:,.1f} M"
    if gate_key.endswith("_rate"):
        return f"{100 * value:.1f} %"
    if gate_key == "latency_p95_ms":
        return f"{value:,.0f} ms"
    return f"{value:.2f} nats" if gate_key == "separability_nats" else f"{value:g}"


def render(result: dict) -> str:
    lines = [f"Promotion gates for system {result['system']!r} ({result['n']} rows):", ""]
    width = max(len(r["label"]) for r in result["gates"])
    for r in result["gates"]:
        bar = f"{r['op']} {_fmt(r['key'], r['threshold'])}"
        lines.append(
            f"  {r['label']:<{width}}  {bar:>12}  measured {_fmt(r['key'], r['value']):>10}  {r['status']}"
        )
    lines += ["", "Fidelity beside them (95 % bootstrap CI):"]
    for key, f in result["fidelity"].items():
        if f["value"] is None:
            lines.append(f"  {key:<24} n/a")
            continue
        ci = f["ci"] or [None, None]
        span = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci[0] is not None else ""
        lines.append(f"  {key:<24} {f['value']:.3f}{span}")
    lines += [
        "",
        "ALL GATES PASS"
        if result["passed"]
        else "NOT PROMOTABLE: at least one gate fails or is not measured",
    ]
    return "\n".join(lines)
