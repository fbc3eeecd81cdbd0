"""The ablation report's plots (PNG, matplotlib Agg, each written atomically under OUT/plots/).

- `action_f1.png`: action F1 per run (mean over seeds, pooled 95 % bootstrap interval), one panel per
  evaluation set, with the kNN baselines as horizontal lines;
- `bottleneck.png`: action F1 against `model.d_bottleneck` for each group of runs that differ only in it;
- `training_curves.png`: dev CE and dev Tier 1 token accuracy against the step (from each seed's
  `train/metrics.jsonl`, mean over the seeds that reached the step), every run.

A plot with nothing to show is not written, and a stale one from an earlier report is removed, so the
folder always matches the run folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sashimi.io import read_jsonl

PLOT_FILES = ("action_f1.png", "bottleneck.png", "training_curves.png")
KNN_LINES = {"knn-minilm": "-", "knn-tfidf": "--"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def _value_and_err(stats) -> tuple[float, float, float]:
    pooled = stats.pooled.get("action_f1") or {}
    value = pooled.get("value")
    if value is None:
        return np.nan, 0.0, 0.0
    low, high = pooled.get("ci_low"), pooled.get("ci_high")
    return value, value - low if low is not None else 0.0, high - value if high is not None else 0.0


def plot_action_f1(report, path: Path) -> Path | None:
    if not report.runs or not report.evalsets:
        return None
    plt = _pyplot()
    n = len(report.evalsets)
    fig, axes = plt.subplots(n, 1, figsize=(max(7.0, 0.8 * len(report.runs) + 2), 3.6 * n), squeeze=False)
    names = [r.name for r in report.runs]
    x = np.arange(len(names))
    for ax, evalset in zip(axes[:, 0], report.evalsets, strict=True):
        vals, lo, hi = zip(*(_value_and_err(report.stats[(r, evalset)]) for r in names), strict=True)
        ax.bar(x, vals, yerr=[lo, hi], capsize=3, color="tab:blue", alpha=0.8)
        for i, v in enumerate(vals):
            if np.isnan(v):
                ax.text(
                    i, 0.02, "no result", rotation=90, ha="center", va="bottom", fontsize=8, color="tab:red"
                )
        for name, entry in report.baselines.get(evalset, []):
            if name in KNN_LINES and (entry.get("metrics") or {}).get("action_f1") is not None:
                ax.axhline(
                    entry["metrics"]["action_f1"], color="tab:orange", linestyle=KNN_LINES[name], label=name
                )
        ax.set_xticks(x, names, rotation=20)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("action F1")
        ax.set_title(f"{evalset}: action F1 per run (seed mean, 95 % CI pooled over seeds)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return _save(fig, path)


def plot_bottleneck(report, path: Path) -> Path | None:
    if not report.sweeps:
        return None
    plt = _pyplot()
    n = len(report.evalsets)
    fig, axes = plt.subplots(1, n, figsize=(5.0 * n, 3.8), squeeze=False)
    for ax, evalset in zip(axes[0], report.evalsets, strict=True):
        for sweep in report.sweeps:
            widths = [report.models[r].d_bottleneck for r in sweep]
            vals, lo, hi = zip(*(_value_and_err(report.stats[(r, evalset)]) for r in sweep), strict=True)
            ax.errorbar(widths, vals, yerr=[lo, hi], marker="o", capsize=3, label=" / ".join(sweep))
            for w, v, r in zip(widths, vals, sweep, strict=True):
                if not np.isnan(v):
                    ax.annotate(r, (w, v), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("model.d_bottleneck")
        ax.set_ylabel("action F1")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{evalset}: action F1 vs bottleneck width")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def training_curve(seed_dirs: list[Path], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, mean over the seeds that logged a dev record at that step) of dev[key]."""
    by_step: dict[int, list[float]] = {}
    for d in seed_dirs:
        path = d / "train" / "metrics.jsonl"
        if not path.is_file():
            continue
        for record in read_jsonl(path):
            dev = record.get("dev")
            if isinstance(dev, dict) and isinstance(dev.get(key), int | float) and "step" in record:
                by_step.setdefault(int(record["step"]), []).append(float(dev[key]))
    steps = np.array(sorted(by_step), dtype=np.int64)
    return steps, np.array([np.mean(by_step[s]) for s in steps], dtype=np.float64)


def plot_training_curves(report, path: Path) -> Path | None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    drawn = False
    for run in report.runs:
        dirs = [s.path for s in run.seeds]
        for ax, key in zip(axes, ("ce", "tier1_token_acc"), strict=True):
            steps, values = training_curve(dirs, key)
            if len(steps):
                ax.plot(steps, values, marker=".", label=run.name)
                drawn = True
    if not drawn:
        plt.close(fig)
        return None
    rule = report.matrix.get("early_exit")
    if isinstance(rule, dict) and rule.get("min_tier1_acc") is not None:
        axes[1].axhline(float(rule["min_tier1_acc"]), color="grey", linestyle=":", label="early-exit bar")
        if rule.get("step") is not None:
            axes[1].axvline(float(rule["step"]), color="grey", linestyle=":")
    axes[0].set_title("dev cross-entropy (mean over seeds)")
    axes[0].set_ylabel("CE (nats/token)")
    axes[1].set_title("dev Tier 1 token accuracy (mean over seeds)")
    axes[1].set_ylim(0, 1.02)
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return _save(fig, path)


def write_plots(report) -> list[Path]:
    """Every plot the run folders allow (see the module docstring); returns the written paths."""
    folder = report.out / "plots"
    written = []
    for name, fn in zip(PLOT_FILES, (plot_action_f1, plot_bottleneck, plot_training_curves), strict=True):
        path = folder / name
        result = fn(report, path)
        if result is None:
            path.unlink(missing_ok=True)  # a stale plot must not outlive its data
        else:
            written.append(result)
    return written
