"""Select the chooser's action-model settings by grouped 5-fold cross-validation on a run's training rows.

    python benchmarks/chooser_cv.py RUN_DIR --out runs/chooser_cv [--c 4 16 32 64] [--minilm-weight 0.5 1 2 3]
        [--mix 0.5 0.75 1 1.5] [--k 50] [--baseline c=4,minilm_weight=3,mix=1]

`chooser_study.py` scores whole generations on the run's dev carve (150 rows: too few to separate
settings that differ by 0.01); this scores the chooser's *choice* alone on every training row of the
run, out of fold: for each fold the action model (`ActionModel.fit`) is fitted on the other folds
(families grouped, as the recipe's dev carve is), and each held-out row picks, among its k MiniLM-nearest
training rows of other families, the program with the best E[action-F1] + mix x cosine; the score is the
multiset action-F1 of that program's actions against the row's own (the harness's definition, on the
typed IR's action tokens). Nothing here reads the real dev split.

Writes cv.json (mean per setting, kNN-1 on the same rows, a paired bootstrap of the best setting against
`--baseline`, the resolved grid, commit and wall time) and rows.json (per-row scores per setting).
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def nearest_other_families(pooled: np.ndarray, groups: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, sims): each row's k nearest rows by cosine (N, k), never of its own family, and the cosines."""
    sims = pooled @ pooled.T  # (N, N) cosines of unit vectors
    sims[groups[:, None] == groups[None, :]] = -9.0  # a row never retrieves its own family
    return np.argsort(-sims, axis=1, kind="stable")[:, :k], sims


def candidate_ef1(p: np.ndarray, column: dict[str, int], candidates: list[set[str]]) -> np.ndarray:
    """E[action-F1] of each candidate's distinct actions under the row's action probabilities `p`
    (`column`: action -> index into p), the chooser's own rule (`sashimi.model.chooser.expected_f1`)."""
    from sashimi.model.chooser import expected_f1

    return np.array([expected_f1(p, [column[a] for a in d if a in column], len(d)) for d in candidates])


def paired_difference(a, b) -> dict:
    """Per-row scores a - b: the mean with a 95 % paired bootstrap interval (rows resampled, seed 0) and
    how many rows got better / worse."""
    from sashimi.eval.bootstrap import mean_and_ci, resample_indices

    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    mean, lo, hi = mean_and_ci(diff, resample_indices(len(diff), seed=0))
    return {"diff": round(mean, 4), "ci": [round(lo, 4), round(hi, 4)],
            "rows_better": int((diff > 0).sum()), "rows_worse": int((diff < 0).sum())}


def candidate_gains(actions: list[list[str]], order: np.ndarray) -> np.ndarray:
    """(N, k): the multiset action-F1 of each row's k candidate programs against the row's own actions."""
    from sashimi.eval.fidelity import multiset_f1

    return np.array([[multiset_f1(actions[r], actions[i]) for r in order[i]] for i in range(len(order))])


def write_report(out: str | Path, name: str, config: dict, started: float, report: dict) -> Path:
    """OUT/NAME: the run's metadata (resolved config, commit, wall time) with `report` as its metrics."""
    from sashimi.io import run_metadata, write_json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / name, run_metadata(config, started=started, metrics=report))
    return out / name


def print_best(means: dict[str, float], top: int = 10) -> None:
    """The `top` best settings, best first."""
    for name, m in sorted(means.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{m:.4f}  {name}")


def cross_validate(
    pooled: np.ndarray,
    prompts: list[str],
    texts: list[list[str]],
    groups: np.ndarray,
    c_values: list[float],
    minilm_weights: list[float],
    mixes: list[float],
    *,
    k: int = 50,
    folds: int = 5,
) -> dict[str, list[float]]:
    """Per setting "c=..,minilm_weight=..,mix=..": each row's out-of-fold score (action-F1 of the chosen
    program's actions against its own), in row order."""
    from sklearn.model_selection import GroupKFold
    from tqdm import tqdm

    from sashimi.eval.fidelity import multiset_f1
    from sashimi.model.chooser import ACTION_PREFIX, ActionModel, ChooserConfig

    actions = [[t for t in seq if t.startswith(ACTION_PREFIX)] for seq in texts]
    order, sims = nearest_other_families(pooled, groups, k)
    splits = list(GroupKFold(folds).split(prompts, groups=groups))
    rows: dict[str, list[float]] = {}
    for c, weight in tqdm(list(itertools.product(c_values, minilm_weights)), desc="settings", unit="fit"):
        cfg = replace(ChooserConfig(), c=c, minilm_weight=weight)
        scores = {mix: np.zeros(len(prompts)) for mix in mixes}
        for fit_rows, held_out in splits:
            model = ActionModel.fit(
                pooled[fit_rows], [prompts[i] for i in fit_rows], [texts[i] for i in fit_rows], cfg
            )
            p_all = model.probs(pooled[held_out], [prompts[i] for i in held_out])
            column = {a: j for j, a in enumerate(model.actions)}
            for p, i in zip(p_all, held_out, strict=True):
                candidates = order[i]
                ef1 = candidate_ef1(p, column, [set(actions[r]) for r in candidates])
                for mix in mixes:
                    best = candidates[int(np.argmax(ef1 + mix * sims[i, candidates]))]
                    scores[mix][i] = multiset_f1(actions[best], actions[i])
        for mix in mixes:
            rows[f"c={c:g},minilm_weight={weight:g},mix={mix:g}"] = scores[mix].tolist()
    return rows


def training_rows(run: str | Path) -> tuple[np.ndarray, list[str], list[list[str]], np.ndarray]:
    """A run's training rows (its dev carve excluded): MiniLM pooled vectors, prompts, typed-IR token
    texts and family ids."""
    from sashimi.model.checkpoint import load_run
    from sashimi.train.config import resolve
    from sashimi.train.trainer import prepare

    loaded = load_run(Path(run))
    config = resolve(loaded.config["train"])
    config["data"]["negatives_per_program"] = 0
    files = [f["path"] for f in loaded.meta["data"]["data_files"]]
    train = prepare(config, files, [], log=lambda *a: None).train
    texts = [[t.text for t in e.typed.tokens] for e in train.examples]
    prompts = [e.prompt for e in train.examples]
    return train.pooled, prompts, texts, np.array([e.group for e in train.examples])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--c", type=float, nargs="+", default=[4.0, 16.0, 32.0, 64.0])
    ap.add_argument("--minilm-weight", type=float, nargs="+", default=[0.5, 1.0, 2.0, 3.0])
    ap.add_argument("--mix", type=float, nargs="+", default=[0.5, 0.75, 1.0, 1.5])
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument(
        "--baseline", default="c=4,minilm_weight=3,mix=1", help="the setting the best is compared with"
    )
    args = ap.parse_args(argv)

    from sashimi.eval.bootstrap import mean_and_ci, resample_indices
    from sashimi.eval.fidelity import multiset_f1
    from sashimi.io import write_json
    from sashimi.model.chooser import ACTION_PREFIX

    started = time.time()
    pooled, prompts, texts, groups = training_rows(args.run)

    if len(set(groups.tolist())) < args.folds:
        raise SystemExit(
            f"error: the run's training rows form {len(set(groups.tolist()))} families, fewer than --folds"
        )
    rows = cross_validate(
        pooled, prompts, texts, groups, args.c, args.minilm_weight, args.mix, k=args.k, folds=args.folds
    )
    actions = [[t for t in seq if t.startswith(ACTION_PREFIX)] for seq in texts]
    order, _ = nearest_other_families(pooled, groups, args.k)
    knn1 = [multiset_f1(actions[order[i, 0]], actions[i]) for i in range(len(prompts))]
    means = {name: round(float(np.mean(v)), 4) for name, v in rows.items()}
    best = max(means, key=means.get)
    base = ",".join(f"{k}={float(v):g}" for k, v in (part.split("=") for part in args.baseline.split(",")))
    report = {
        "run": str(args.run),
        "rows": len(prompts),
        "knn1": round(float(np.mean(knn1)), 4),
        "means": means,
        "best": best,
        "baseline": base,
    }
    if base in rows:
        diff = np.asarray(rows[best]) - np.asarray(rows[base])
        mean, lo, hi = mean_and_ci(diff, resample_indices(len(diff), seed=0))
        report["best_minus_baseline"] = {"diff": round(mean, 4), "ci": [round(lo, 4), round(hi, 4)]}
    write_report(args.out, "cv.json", vars(args), started, report)
    write_json(Path(args.out) / "rows.json", rows, indent=None)
    print_best(means)
    print(f"kNN-1 {report['knn1']:.4f}; best {best}; vs {base}: {report.get('best_minus_baseline')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
