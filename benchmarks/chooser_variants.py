"""Three ways past the chooser's plateau, scored out of fold like `chooser_cv.py` (training rows only).

    python benchmarks/chooser_variants.py RUN_DIR --out runs/chooser_variants [--k 50] [--c 16] [--minilm-weight 1]

The action model (c, minilm_weight as configs/real.yaml) gives each held-out row p(action) once per
fold; each variant then changes how a candidate program is picked among the row's k nearest training
rows of other families, and scores the multiset action-F1 of its actions against the row's own:

- plain: argmax E[F1](S; p) + mix x cosine, the shipped rule (mix 1);
- power: p ** gamma before E[F1] (gamma < 1 flattens, > 1 sharpens: is the model's calibration off?);
- vote: p blended with the neighbours' action vote, (1 - lam) p + lam v, v_a = sum of softmax(cos / tau)
  weights of the m nearest neighbours whose program holds action a (label propagation);
- ranker: a gradient-boosted regressor (scikit-learn's HistGradientBoostingRegressor) predicts each
  candidate's action-F1 from 12 features (E[F1], cosine, cosine gap to the nearest, rank, sizes, sum of p,
  precision- and recall-like sums, the least likely action, actions the model does not know), trained
  on the other folds' rows (stacking: its features are themselves out of fold), argmax per row.

Writes variants.json (mean per variant, kNN-1, the oracle best of k, and a paired bootstrap of the best
variant against plain) and prints the best ten.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chooser_cv import candidate_ef1, nearest_other_families, training_rows  # noqa: E402


def out_of_fold_probs(pooled, prompts, texts, groups, c: float, minilm_weight: float, folds: int = 5):
    """Per row: (p over the fold model's actions, {action: column}) from a model fitted on the other folds."""
    from sklearn.model_selection import GroupKFold

    from sashimi.model.chooser import ActionModel, ChooserConfig

    cfg = replace(ChooserConfig(), c=c, minilm_weight=minilm_weight)
    probs, columns = [None] * len(prompts), [None] * len(prompts)
    for fit_rows, held_out in GroupKFold(folds).split(prompts, groups=groups):
        model = ActionModel.fit(pooled[fit_rows], [prompts[i] for i in fit_rows], [texts[i] for i in fit_rows], cfg)
        column = {a: j for j, a in enumerate(model.actions)}
        for p, i in zip(model.probs(pooled[held_out], [prompts[i] for i in held_out]), held_out, strict=True):
            probs[i], columns[i] = p, column
    return probs, columns


def candidate_features(p: np.ndarray, column: dict, cand_actions: list[list[str]], cos: np.ndarray) -> np.ndarray:
    """(k, 12) features of a row's candidates (see the module docstring)."""
    from sashimi.model.chooser import expected_f1

    total = p.sum()
    rows = []
    for rank, acts in enumerate(cand_actions):
        distinct = set(acts)
        cols = [column[a] for a in distinct if a in column]
        hit = p[cols].sum()
        ef1 = expected_f1(p, cols, len(distinct))
        rows.append([
            ef1, cos[rank], cos[rank] - cos[0], rank, len(distinct), len(acts), total,
            hit / max(len(distinct), 1), hit / max(total, 1e-9), p[cols].min() if cols else 0.0,
            len(distinct) - len(cols), ef1 + cos[rank],
        ])
    return np.asarray(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--c", type=float, default=16.0)
    ap.add_argument("--minilm-weight", type=float, default=1.0)
    ap.add_argument("--mix", type=float, default=1.0)
    args = ap.parse_args(argv)

    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import GroupKFold

    from sashimi.eval.bootstrap import mean_and_ci, resample_indices
    from sashimi.eval.fidelity import multiset_f1
    from sashimi.io import run_metadata, write_json
    from sashimi.model.chooser import ACTION_PREFIX

    started = time.time()
    pooled, prompts, texts, groups = training_rows(args.run)
    actions = [[t for t in seq if t.startswith(ACTION_PREFIX)] for seq in texts]
    order, sims = nearest_other_families(pooled, groups, args.k)
    probs, columns = out_of_fold_probs(pooled, prompts, texts, groups, args.c, args.minilm_weight)
    n = len(prompts)
    gain = np.array([[multiset_f1(actions[r], actions[i]) for r in order[i]] for i in range(n)])  # (N, k)

    def pick(score_fn) -> list[float]:
        return [float(gain[i, int(np.argmax(score_fn(i)))]) for i in range(n)]

    distinct = [set(a) for a in actions]

    def ef1_scores(i: int, p: np.ndarray) -> np.ndarray:  # E[F1] of each candidate, the chooser's own rule
        return candidate_ef1(p, columns[i], [distinct[r] for r in order[i]])

    rows: dict[str, list[float]] = {}
    for gamma in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4):
        name = "plain" if gamma == 1.0 else f"power gamma={gamma:g}"
        rows[name] = pick(lambda i, g=gamma: ef1_scores(i, probs[i] ** g) + args.mix * sims[i, order[i]])
    for lam, tau, m in itertools.product((0.15, 0.3, 0.5), (0.02, 0.05, 0.1), (10, 50)):

        def voted(i: int, lam=lam, tau=tau, m=m) -> np.ndarray:
            near = order[i, :m]
            w = np.exp((sims[i, near] - sims[i, near].max()) / tau)
            w /= w.sum()
            vote = np.zeros_like(probs[i])
            for wj, r in zip(w, near, strict=True):
                for a in set(actions[r]):
                    if a in columns[i]:
                        vote[columns[i][a]] += wj
            return ef1_scores(i, (1 - lam) * probs[i] + lam * vote) + args.mix * sims[i, order[i]]

        rows[f"vote lam={lam:g},tau={tau:g},m={m}"] = pick(voted)
    feats = np.stack([
        candidate_features(probs[i], columns[i], [actions[r] for r in order[i]], sims[i, order[i]]) for i in range(n)
    ])  # (N, k, 12)
    for lr, iters, leaves in itertools.product((0.05, 0.1), (100, 300), (15, 31)):
        scores = np.zeros(n)
        for fit_rows, held_out in GroupKFold(5).split(prompts, groups=groups):
            reg = HistGradientBoostingRegressor(learning_rate=lr, max_iter=iters, max_leaf_nodes=leaves, random_state=0)
            reg.fit(feats[fit_rows].reshape(-1, feats.shape[2]), gain[fit_rows].reshape(-1))
            pred = reg.predict(feats[held_out].reshape(-1, feats.shape[2])).reshape(len(held_out), -1)
            scores[held_out] = gain[held_out, pred.argmax(1)]
        rows[f"ranker lr={lr:g},iters={iters},leaves={leaves}"] = scores.tolist()

    means = {name: round(float(np.mean(v)), 4) for name, v in rows.items()}
    best = max(means, key=means.get)
    diff = np.asarray(rows[best]) - np.asarray(rows["plain"])
    mean, lo, hi = mean_and_ci(diff, resample_indices(n, seed=0))
    report = {
        "run": str(args.run), "rows": n, "knn1": round(float(gain[:, 0].mean()), 4),
        "oracle_best_of_k": round(float(gain.max(1).mean()), 4), "means": means, "best": best,
        "best_minus_plain": {"diff": round(mean, 4), "ci": [round(lo, 4), round(hi, 4)],
                             "rows_better": int((diff > 0).sum()), "rows_worse": int((diff < 0).sum())},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "variants.json", run_metadata(vars(args), started=started, metrics=report))
    for name, m in sorted(means.items(), key=lambda kv: -kv[1])[:10]:
        print(f"{m:.4f}  {name}")
    print(f"plain {means['plain']:.4f}; kNN-1 {report['knn1']:.4f}; oracle {report['oracle_best_of_k']:.4f}; "
          f"best {best} vs plain {report['best_minus_plain']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
