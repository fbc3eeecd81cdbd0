"""The real-corpus recipe against kNN MiniLM over ten dev-sized folds of the real corpus.

    python benchmarks/recipe_cv.py --data ../shared/data/shortcutforge/train.jsonl --out runs/recipe_cv
        [--config configs/real.yaml] [--folds 10] [--seed 0] [--jobs 1] [--set KEY=VALUE ...] [--only 0 3]

Real dev (167 rows) cannot separate the recipe from kNN MiniLM by much less than 0.09 action-F1: its
paired interval is about +-0.044 wide. This reruns the whole recipe once per fold, so that every row of
the real corpus is scored by a recipe that never saw it:

- fold 0 is the real dev split itself (`sashimi data split --seed 0 --dev-fraction 0.1`, recomputed here
  from --data); the other rows' groups (the split's grouping: shared id family, prompt or program) are
  dealt, in a seeded shuffle, to the currently smallest of folds 1..K-1;
- per fold: `sashimi train --config CONFIG --data <every other row>` (the recipe: decoder, value filler,
  neighbour chooser, its own 10 % dev carve for selection), `sashimi generate` on the fold's rows, and
  `sashimi evaluate --baselines --train <the same training rows>`, so kNN retrieves from exactly the rows
  the recipe learned from;
- pooled over all folds: each system's mean, and the paired difference recipe - kNN MiniLM (and - kNN
  TF-IDF) with two 95 % intervals: rows resampled (the harness's resampler, as benchmarks/paired.py) and
  whole groups resampled (rows of one group are never split across folds, and may be correlated).

Resumable: a step whose output exists is skipped (training resumes from its checkpoint). Writes
folds.json (fold of every row), fold_K/{train,dev}.jsonl, fold_K/run, fold_K/preds.jsonl, fold_K/eval,
summary.json (per fold, pooled, intervals, the decoder fallbacks, commit, wall time) and recipe_cv.png.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

SYSTEMS = {"recipe": "rows.jsonl", "knn-minilm": "rows_knn-minilm.jsonl", "knn-tfidf": "rows_knn-tfidf.jsonl"}
METRICS = ("action_f1", "skeleton_exact")


def assign_folds(rows: list, folds: int, seed: int) -> tuple[list[int], dict[int, str]]:
    """(fold of each row, group name of each row): fold 0 = the real dev split, 1..folds-1 balanced."""
    from sashimi.data.splits import split_corpus

    split = split_corpus(rows, 0.1, 0)  # exactly `sashimi data split --seed 0 --dev-fraction 0.1`
    fold_of = [-1] * len(rows)
    group_of: dict[int, str] = {}
    rest = []
    for group in split.groups:
        for i in group.rows:
            group_of[i] = group.name
        if group.name in split.dev_groups:
            for i in group.rows:
                fold_of[i] = 0
        else:
            rest.append(group)
    random.Random(seed).shuffle(rest)
    sizes = [0] * folds
    for group in rest:
        k = min(range(1, folds), key=lambda j: (sizes[j], j))  # the smallest fold so far
        sizes[k] += len(group.rows)
        for i in group.rows:
            fold_of[i] = k
    return fold_of, group_of


def run_step(cmd: list[str], log: Path, done: Path) -> None:
    """Run one CLI step unless its output `done` exists; its output goes to `log`."""
    if done.exists():
        return
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    with open(log, "a", encoding="utf-8") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"step failed (exit {proc.returncode}): {' '.join(cmd)}; see {log}")


def run_fold(fold_dir: Path, args: argparse.Namespace) -> None:
    """Train, generate and evaluate one fold (each step skipped when its output exists)."""
    cli = [sys.executable, "-m", "sashimi"]
    log = fold_dir / "log.txt"
    run = fold_dir / "run"
    train = [
        *cli,
        "train",
        "--config",
        args.config,
        "--data",
        str(fold_dir / "train.jsonl"),
        "--out",
        str(run),
    ]
    train += [x for kv in ["train.threads=1", *args.set] for x in ("--set", kv)] + ["--quiet"]
    if (run / "ckpt").exists() and not (run / "meta.json").exists():
        train.append("--resume")
    run_step(train, log, run / "meta.json")
    preds = fold_dir / "preds.jsonl"
    run_step(
        [
            *cli,
            "generate",
            "--model",
            str(run),
            "--input",
            str(fold_dir / "dev.jsonl"),
            "--out",
            str(preds),
            "--quiet",
        ],
        log,
        preds,
    )
    evaluation = fold_dir / "eval"
    run_step(
        [
            *cli,
            "evaluate",
            "--predictions",
            str(preds),
            "--name",
            "recipe",
            "--data",
            str(fold_dir / "dev.jsonl"),
            "--catalog-dir",
            args.catalog_dir,
            "--baselines",
            "--train",
            str(fold_dir / "train.jsonl"),
            "--out",
            str(evaluation),
            "--quiet",
        ],
        log,
        evaluation / "summary.json",
    )


def paired(d: np.ndarray, groups: np.ndarray) -> dict:
    """Mean of the per-row differences `d` with 95 % intervals: rows resampled, and whole groups resampled."""
    from sashimi.eval.bootstrap import resample_indices

    row_boot = d[resample_indices(len(d))].mean(axis=1)
    names, inverse = np.unique(groups, return_inverse=True)
    sums = np.bincount(inverse, weights=d)
    counts = np.bincount(inverse).astype(np.float64)
    pick = resample_indices(len(names))  # whole groups drawn with replacement
    group_boot = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
    return {
        "diff": round(float(d.mean()), 4),
        "ci_rows": [round(float(x), 4) for x in np.percentile(row_boot, [2.5, 97.5])],
        "ci_groups": [round(float(x), 4) for x in np.percentile(group_boot, [2.5, 97.5])],
        "better_rows": int((d > 0).sum()),
        "worse_rows": int((d < 0).sum()),
    }


def summarise(out: Path, folds: int, group_of_id: dict[str, str]) -> dict:
    """Per-fold and pooled figures from every fold's evaluation."""
    per_fold, pooled = [], {s: {m: [] for m in METRICS} for s in SYSTEMS}
    ids, sources = [], {}
    for k in range(folds):
        fold_dir = out / f"fold_{k}"
        scored = {}
        for system, name in SYSTEMS.items():
            with open(fold_dir / "eval" / name, encoding="utf-8") as f:
                scored[system] = {r["id"]: r for r in map(json.loads, f)}
        fold_ids = sorted(scored["recipe"])
        if any(set(scored[s]) != set(fold_ids) for s in SYSTEMS):
            raise SystemExit(f"fold {k}: the systems score different rows")
        ids += fold_ids
        row = {"fold": k, "rows": len(fold_ids)}
        for system in SYSTEMS:
            for m in METRICS:
                values = [scored[system][i][m] or 0.0 for i in fold_ids]
                pooled[system][m] += values
                row[f"{system}/{m}"] = round(float(np.mean(values)), 4)
        row["recipe-knn_minilm/action_f1"] = round(row["recipe/action_f1"] - row["knn-minilm/action_f1"], 4)
        per_fold.append(row)
        with open(fold_dir / "preds.jsonl", encoding="utf-8") as f:
            for pred in map(json.loads, f):
                key = str(pred.get("source") or "none").split()[0] if pred.get("accepted") else "refused"
                sources[key] = sources.get(key, 0) + 1
    groups = np.array([group_of_id[i] for i in ids])
    means = {s: {m: round(float(np.mean(pooled[s][m])), 4) for m in METRICS} for s in SYSTEMS}
    differences = {
        f"recipe-{base}": {
            m: paired(np.array(pooled["recipe"][m]) - np.array(pooled[base][m]), groups) for m in METRICS
        }
        for base in ("knn-minilm", "knn-tfidf")
    }
    return {
        "rows": len(ids),
        "groups": int(len(set(groups))),
        "per_fold": per_fold,
        "pooled": means,
        "paired": differences,
        "sources": sources,
    }


def plot(report: dict, path: Path) -> None:
    """Per-fold recipe - kNN MiniLM action-F1, with the pooled difference and its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folds = report["per_fold"]
    diff = report["paired"]["recipe-knn-minilm"]["action_f1"]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar(
        [f["fold"] for f in folds],
        [f["recipe-knn_minilm/action_f1"] for f in folds],
        color="#4c78a8",
        label="per fold (fold 0 = real dev)",
    )
    ax.axhline(diff["diff"], color="#e45756", label=f"pooled {diff['diff']:+.3f} over {report['rows']} rows")
    ax.axhspan(*diff["ci_groups"], color="#e45756", alpha=0.15, label="95 % interval (groups resampled)")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks([f["fold"] for f in folds])
    ax.set_xlabel("fold")
    ax.set_ylabel("action-F1: recipe - kNN MiniLM")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data", required=True, help="the real corpus (train.jsonl of ../shared/data/shortcutforge)"
    )
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", default="configs/real.yaml")
    ap.add_argument("--catalog-dir", default=None, help="reference catalog (default: the folder of --data)")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0, help="shuffle of the groups dealt to folds 1..K-1")
    ap.add_argument("--jobs", type=int, default=1, help="folds run at once (each trains on one thread)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to sashimi train")
    ap.add_argument("--only", type=int, nargs="+", default=None, help="run only these folds (no summary)")
    args = ap.parse_args(argv)
    args.catalog_dir = args.catalog_dir or str(Path(args.data).parent)
    if args.folds < 2:
        ap.error("--folds must be at least 2")
    from sashimi.dsl.corpus import load_corpus, save_corpus
    from sashimi.io import run_metadata, write_json

    started = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = load_corpus(args.data)
    fold_of, group_of = assign_folds(rows, args.folds, args.seed)
    write_json(out / "folds.json", {r.shortcut_id: k for r, k in zip(rows, fold_of, strict=True)})
    todo = args.only if args.only is not None else list(range(args.folds))
    for k in todo:
        fold_dir = out / f"fold_{k}"
        fold_dir.mkdir(exist_ok=True)
        if not (fold_dir / "dev.jsonl").exists():
            save_corpus(fold_dir / "train.jsonl", [r for r, f in zip(rows, fold_of, strict=True) if f != k])
            save_corpus(fold_dir / "dev.jsonl", [r for r, f in zip(rows, fold_of, strict=True) if f == k])
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for k in pool.map(lambda k: (run_fold(out / f"fold_{k}", args), k)[1], todo):
            print(f"fold {k} done ({time.time() - started:.0f} s)", flush=True)
    if args.only is not None:
        return 0
    report = summarise(out, args.folds, {r.shortcut_id: group_of[i] for i, r in enumerate(rows)})
    write_json(out / "summary.json", run_metadata(vars(args), started=started, metrics=report))
    plot(report, out / "recipe_cv.png")
    for base, by_metric in report["paired"].items():
        for m, d in by_metric.items():
            print(
                f"{base} {m}: {d['diff']:+.4f} rows {d['ci_rows']} groups {d['ci_groups']} "
                f"(better {d['better_rows']}, worse {d['worse_rows']})"
            )
    print(json.dumps(report["pooled"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
