"""Writing an evaluation: `rows.jsonl`, `summary.json`, `report.md` (one table of all systems).

The summary holds one entry per system under `systems` (in table order: the system under test, then
baselines, then ceilings); each has `metrics` (point values), `ci` ([low, high] 95 % bootstrap),
`defined` (rows over which an undefined-for-some-rows metric is averaged), `failures` and `latency`.
`summary["metrics"]` repeats the first system's point values for scripts that score one system.
"""

from __future__ import annotations

import os
from pathlib import Path

from sashimi.eval.harness import METRIC_KEYS, category_rank, worst_rows
from sashimi.io import atomic_write_text, write_json, write_jsonl

_LABELS = {
    "accept_rate": "accepted (gate)",
    "parse_rate": "parse",
    "validate_strict_rate": "validate strict",
    "validate_permissive_rate": "validate permissive",
    "compile_strict_rate": "compile strict",
    "compile_permissive_rate": "compile permissive",
    "runtime_unverified_rate": "runtime-unverified",
    "action_f1": "action F1",
    "skeleton_exact": "skeleton exact",
    "skeleton_edit_distance": "skeleton edit distance (lower is better)",
    "tier1_exact": "Tier 1 exact",
    "param_key_f1": "parameter-key F1",
    "enum_accuracy": "enum accuracy",
    "value_accuracy": "Tier 3 value accuracy",
    "exact": "canonical exact",
}
_TABLE_ORDER = ("accept_rate",) + tuple(k for k in METRIC_KEYS if k != "accept_rate")


def build_summary(systems: list[dict], config: dict, extra: dict | None = None) -> dict:
    """The summary.json object of several scored systems (each an `evaluate` report)."""
    summary: dict = {"config": config, "n": systems[0]["n"] if systems else 0}
    summary["metrics"] = systems[0]["metrics"] if systems else {}
    summary["systems"] = {
        s["name"]: {k: v for k, v in s.items() if k not in ("rows", "name")} for s in systems
    }
    summary["order"] = [s["name"] for s in systems]
    if extra:
        summary.update(extra)
    return summary


def _cell(metrics: dict, ci: dict, key: str) -> str:
    value = metrics.get(key)
    if value is None:
        return "n/a"
    low, high = ci.get(key, [None, None])
    if low is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def render_markdown(summary: dict, systems: list[dict]) -> str:
    cfg = summary.get("config", {})
    lines = ["# Evaluation report", ""]
    lines.append(
        f"Gold: `{cfg.get('data')}` ({summary['n']} rows); catalog: {cfg.get('catalog')}; "
        f"bootstrap: {cfg.get('resamples')} resamples over rows, seed {cfg.get('seed')}, 95 % percentile intervals."
    )
    if cfg.get("predictions"):
        lines.append(f"Predictions: `{cfg['predictions']}`.")
    if cfg.get("train"):
        lines.append(f"Baselines and ceilings built from `{cfg['train']}`.")
    if "verbatim_prompts_in_train" in summary:
        lines.append(
            f"Gold prompts that occur verbatim in the training file: {summary['verbatim_prompts_in_train']} "
            f"of {summary['n']}."
        )
    lines += ["", "| metric | " + " | ".join(s["name"] for s in systems) + " |"]
    lines.append("|---|" + "---|" * len(systems))
    for key in _TABLE_ORDER:
        cells = [_cell(s["metrics"], s["ci"], key) for s in systems]
        label = _LABELS.get(key, key)
        defined = {s["defined"].get(key) for s in systems if key in s.get("defined", {})}
        if defined:
            label += f" (rows with any: {', '.join(str(d) for d in sorted(defined))})"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if any(s["latency"]["n"] for s in systems):
        cells = [
            f"{s['latency']['p50_ms']:.1f} / {s['latency']['p95_ms']:.1f}" if s["latency"]["n"] else "n/a"
            for s in systems
        ]
        lines.append("| latency p50 / p95 (ms) | " + " | ".join(cells) + " |")
    lines += ["", "## Failure categories (rows)", ""]
    categories = sorted({c for s in systems for c in s["failures"]}, key=category_rank)
    lines.append("| category | " + " | ".join(s["name"] for s in systems) + " |")
    lines.append("|---|" + "---|" * len(systems))
    for c in categories:
        lines.append(f"| {c} | " + " | ".join(str(s["failures"].get(c, 0)) for s in systems) + " |")
    if systems and systems[0].get("rows"):
        lines += ["", f"## Worst rows of each category ({systems[0]['name']})", ""]
        for category, rows in worst_rows(systems[0]["rows"]).items():
            lines.append(f"- **{category}**:")
            for r in rows:
                msg = f" — {r['message'][:160]}" if r.get("message") else ""
                lines.append(
                    f"  - `{r['id']}` action F1 {r['action_f1']:.2f}, skeleton distance "
                    f"{r['skeleton_edit_distance']:.2f}{msg}"
                )
    lines += [
        "",
        "Definitions: architecture.md §6 and `sashimi/eval/fidelity.py`; validity per shortcutdsl.md §7.2 "
        "(compile includes serialising the binary plist and its self-check). A refused, empty, missing or "
        "malformed prediction is a failure of every metric, never skipped.",
        "",
    ]
    return "\n".join(lines)


def write_outputs(out_dir: str | os.PathLike, summary: dict, systems: list[dict]) -> Path:
    """`rows.jsonl` (first system; `rows_<name>.jsonl` for the others), `summary.json`, `report.md`."""
    out = Path(out_dir)
    for i, s in enumerate(systems):
        name = "rows.jsonl" if i == 0 else f"rows_{s['name']}.jsonl"
        write_jsonl(out / name, s["rows"])
    write_json(out / "summary.json", summary)
    atomic_write_text(out / "report.md", render_markdown(summary, systems))
    return out


PLOT_KEYS = ("compile_strict_rate", "action_f1", "skeleton_exact", "tier1_exact", "param_key_f1", "exact")


def write_plot(path: str | os.PathLike, systems: list[dict], title: str = "") -> Path:
    """Grouped bars (one group per metric, one bar per system) with the 95 % bootstrap intervals."""
    import matplotlib  # imported here: only --plot pays matplotlib's import time

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path = Path(path)
    width = 0.8 / max(len(systems), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.6 * len(PLOT_KEYS)), 4.5))
    x = np.arange(len(PLOT_KEYS))
    for i, s in enumerate(systems):
        values = np.array([s["metrics"].get(k) or 0.0 for k in PLOT_KEYS])
        lows = np.array([(s["ci"].get(k) or [None])[0] for k in PLOT_KEYS], dtype=float)
        highs = np.array([(s["ci"].get(k) or [None, None])[1] for k in PLOT_KEYS], dtype=float)
        err = np.vstack([np.nan_to_num(values - lows), np.nan_to_num(highs - values)])
        ax.bar(x + (i - (len(systems) - 1) / 2) * width, values, width, yerr=err, capsize=2, label=s["name"])
    ax.set_xticks(x, [_LABELS.get(k, k) for k in PLOT_KEYS], rotation=15)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate (95 % bootstrap CI)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, ncol=min(4, len(systems)), loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)  # atomic, as every artifact
    return path
