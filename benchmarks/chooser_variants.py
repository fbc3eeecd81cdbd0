"""Ways past the chooser's plateau, scored out of fold like `chooser_cv.py` (training rows only).

    python benchmarks/chooser_variants.py RUN_DIR --out runs/chooser_variants [--k 50] [--c 16] [--minilm-weight 1]

The action model (c, minilm_weight as configs/real.yaml) gives each held-out row p(action) once per
fold; each variant then changes how a candidate program is picked among the row's k nearest training
rows of other families, and scores the multiset action-F1 of its actions against the row's own:

- plain: argmax E[F1](S; p) + mix x cosine, the shipped rule (mix 1);
- power: p ** gamma before E[F1] (gamma < 1 flattens, > 1 sharpens: is the model's calibration off?);
- vote: p blended with the neighbours' action vote, (1 - lam) p + lam v, v_a = sum of softmax(cos / tau)
  weights of the m nearest neighbours whose program holds action a (label propagation);
- count: E[multiset F1] instead of E[set F1] (the metric counts repeated actions; the plain rule does
  not): 2 E[common] / (n_pred + E[n_gold]) with E[common] = sum_a p_a E[min(k_a, C_a) | present], each
  action's count distribution given presence taken from the fold's fit rows (global), optionally blended
  with the counts in the row's m nearest neighbours that hold the action (weight beta);
- pair: two neighbours' programs one after the other as one more kind of candidate (a request that
  composes two known tasks), among the `top` best single candidates by the plain score; a pair is scored
  by E[set F1] (pair set) or E[multiset F1] (pair count) of the joined actions + mix x the higher cosine;
- ranker (skipped with --skip-ranker): a gradient-boosted regressor (scikit-learn's HistGradientBoostingRegressor) predicts each
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
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chooser_cv import (  # noqa: E402
    candidate_ef1,
    candidate_gains,
    nearest_other_families,
    paired_difference,
    print_best,
    training_rows,
    write_report,
)


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


@dataclass
class OutOfFold:
    """A run's training rows with what every out-of-fold chooser study starts from."""

    pooled: np.ndarray  # (N, 384) MiniLM vectors
    prompts: list[str]
    texts: list[list[str]]  # typed-IR token texts per row
    groups: np.ndarray  # family ids
    actions: list[list[str]]  # each row's action tokens, in program order
    order: np.ndarray  # (N, k) nearest rows of other families
    sims: np.ndarray  # (N, N) cosines
    probs: list[np.ndarray]  # per row: p over its fold model's actions
    columns: list[dict[str, int]]  # per row: action -> index into probs[row]


def out_of_fold_rows(run, k: int, c: float, minilm_weight: float) -> OutOfFold:
    """`training_rows(run)`, their k nearest rows of other families and out-of-fold action probabilities."""
    from sashimi.model.chooser import ACTION_PREFIX

    pooled, prompts, texts, groups = training_rows(run)
    actions = [[t for t in seq if t.startswith(ACTION_PREFIX)] for seq in texts]
    order, sims = nearest_other_families(pooled, groups, k)
    probs, columns = out_of_fold_probs(pooled, prompts, texts, groups, c, minilm_weight)
    return OutOfFold(pooled, prompts, texts, groups, actions, order, sims, probs, columns)


MAX_COUNT = 32  # counts above this are clipped (a program rarely repeats one action more often)


def fold_count_survival(actions: list[list[str]], groups, columns: list[dict], folds: int = 5) -> list[np.ndarray]:
    """Per row: (A, MAX_COUNT) P(C_a >= j + 1 | a present) over the fold model's columns, estimated on the
    same fold's fit rows as its action model (GroupKFold is deterministic for given groups)."""
    from sklearn.model_selection import GroupKFold

    out: list[np.ndarray | None] = [None] * len(actions)
    for fit_rows, held_out in GroupKFold(folds).split(actions, groups=groups):
        column = columns[held_out[0]]
        hist = np.zeros((len(column), MAX_COUNT + 1))
        for r in fit_rows:
            for a, k in Counter(actions[r]).items():
                if a in column:
                    hist[column[a], min(k, MAX_COUNT)] += 1
        hist[:, 1] += 1e-9  # an action never seen present: count 1
        pmf = hist[:, 1:] / hist[:, 1:].sum(1, keepdims=True)  # (A, MAX_COUNT): P(C = j + 1 | present)
        surv = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]  # P(C >= j + 1 | present)
        for i in held_out:
            out[i] = surv
    return out


def count_ef1(p: np.ndarray, surv: np.ndarray, column: dict, cand_actions: list[list[str]]) -> np.ndarray:
    """E[multiset action-F1] of each candidate (ratio of expectations), counts from `surv`."""
    cum = np.cumsum(surv, axis=1)  # (A, MAX_COUNT): E[min(k, C) | present] for k = j + 1
    n_gold = float((p * surv.sum(1)).sum())  # E[sum_a C_a] = sum_a p_a E[C_a | present]
    out = np.zeros(len(cand_actions))
    for j, acts in enumerate(cand_actions):
        if not acts:
            continue
        common = sum(p[column[a]] * cum[column[a], min(k, MAX_COUNT) - 1]
                     for a, k in Counter(acts).items() if a in column)
        out[j] = 2.0 * common / (len(acts) + n_gold)
    return out


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
    ap.add_argument("--skip-ranker", action="store_true", help="leave out the (slow) ranker variant")
    args = ap.parse_args(argv)

    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import GroupKFold

    from sashimi.eval.fidelity import multiset_f1

    started = time.time()
    oof = out_of_fold_rows(args.run, args.k, args.c, args.minilm_weight)
    prompts, groups, actions, order, sims = oof.prompts, oof.groups, oof.actions, oof.order, oof.sims
    probs, columns = oof.probs, oof.columns
    n = len(prompts)
    gain = candidate_gains(actions, order)  # (N, k)

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
    survival = fold_count_survival(actions, groups, columns)
    for beta, m in ((0.0, 0), (0.5, 10), (0.5, 50), (0.8, 10)):

        def counted(i: int, beta=beta, m=m) -> np.ndarray:
            surv = survival[i]
            if beta > 0:  # blend with the counts in the m nearest neighbours holding each action
                near_hist = np.zeros_like(surv)
                for r in order[i, :m]:
                    for a, k in Counter(actions[r]).items():
                        if a in columns[i]:
                            near_hist[columns[i][a], :min(k, MAX_COUNT)] += 1  # adds to P(C >= j) for j <= k
                seen = near_hist[:, 0] > 0
                near = np.where(seen[:, None], near_hist / np.maximum(near_hist[:, :1], 1), surv)
                surv = (1 - beta) * surv + beta * near
            cands = [actions[r] for r in order[i]]
            return count_ef1(probs[i], surv, columns[i], cands) + args.mix * sims[i, order[i]]

        rows["count global" if beta == 0 else f"count beta={beta:g},m={m}"] = pick(counted)
    for top in (5, 10):
        for rule in ("set", "count"):

            def paired(i: int, top=top, rule=rule) -> float:
                """The multiset F1 of the best of the singles and the pairs of the `top` best singles."""
                single = ef1_scores(i, probs[i]) + args.mix * sims[i, order[i]]
                cands = [actions[r] for r in order[i]]
                cos = list(sims[i, order[i]])
                best = np.argsort(-single, kind="stable")[:top]
                for a, b in itertools.combinations(sorted(best), 2):
                    cands.append(actions[order[i, a]] + actions[order[i, b]])
                    cos.append(max(sims[i, order[i, a]], sims[i, order[i, b]]))
                if rule == "set":
                    ef1 = candidate_ef1(probs[i], columns[i], [set(c) for c in cands])
                else:
                    ef1 = count_ef1(probs[i], survival[i], columns[i], cands)
                pick_j = int(np.argmax(ef1 + args.mix * np.asarray(cos)))
                return multiset_f1(cands[pick_j], actions[i])

            rows[f"pair {rule} top={top}"] = [paired(i) for i in range(n)]
    ranker_grid = [] if args.skip_ranker else list(itertools.product((0.05, 0.1), (100, 300), (15, 31)))
    if ranker_grid:
        feats = np.stack([
            candidate_features(probs[i], columns[i], [actions[r] for r in order[i]], sims[i, order[i]])
            for i in range(n)
        ])  # (N, k, 12)
    for lr, iters, leaves in ranker_grid:
        scores = np.zeros(n)
        for fit_rows, held_out in GroupKFold(5).split(prompts, groups=groups):
            reg = HistGradientBoostingRegressor(learning_rate=lr, max_iter=iters, max_leaf_nodes=leaves, random_state=0)
            reg.fit(feats[fit_rows].reshape(-1, feats.shape[2]), gain[fit_rows].reshape(-1))
            pred = reg.predict(feats[held_out].reshape(-1, feats.shape[2])).reshape(len(held_out), -1)
            scores[held_out] = gain[held_out, pred.argmax(1)]
        rows[f"ranker lr={lr:g},iters={iters},leaves={leaves}"] = scores.tolist()

    means = {name: round(float(np.mean(v)), 4) for name, v in rows.items()}
    best = max(means, key=means.get)
    count_best = max((k for k in means if k.startswith("count")), key=means.get)
    report = {
        "run": str(args.run), "rows": n, "knn1": round(float(gain[:, 0].mean()), 4),
        "oracle_best_of_k": round(float(gain.max(1).mean()), 4), "means": means, "best": best,
        "best_minus_plain": paired_difference(rows[best], rows["plain"]),
        "best_count": count_best,
        "best_count_minus_plain": paired_difference(rows[count_best], rows["plain"]),
    }
    write_report(args.out, "variants.json", vars(args), started, report)
    print_best(means)
    print(f"plain {means['plain']:.4f}; kNN-1 {report['knn1']:.4f}; oracle {report['oracle_best_of_k']:.4f}; "
          f"best {best} vs plain {report['best_minus_plain']}; "
          f"best count variant {count_best} vs plain {report['best_count_minus_plain']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
