"""Does the chooser's action model gain from our synthetic rows? Scored out of fold like `chooser_cv.py`.

    python benchmarks/chooser_synth_rows.py REAL_RUN SYNTH_RUN --out runs/chooser_synth_rows [--extra 0 500 1000 3600]
    python benchmarks/chooser_synth_rows.py REAL_RUN --extra 0 --real-fraction 0.5 --out runs/chooser_half   # learning curve

The action model (`ActionModel`, configs/real.yaml's c = 16 / MiniLM weight 1) is fitted per fold on the
real run's other-fold training rows plus the first N rows of the synthetic run's training data (a fixed,
seeded order), then each held-out real row picks among its 50 nearest real rows of other families
exactly as the shipped rule does (E[set action-F1] + mix x cosine); the score is the multiset action-F1
of the pick against the row's own actions. Candidates stay real programs: only the model of which
actions a request needs sees the synthetic rows. Nothing here reads the real dev split.

With `--real-fraction F` each fold's action model sees only a seeded fraction F of its real fit rows
(the candidates stay all real rows' neighbours): a learning curve of the action model alone.

Writes synth_rows.json (mean per N, a paired bootstrap of the best N against N = 0, commit, wall time).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chooser_cv import (  # noqa: E402
    candidate_ef1,
    candidate_gains,
    nearest_other_families,
    paired_difference,
    training_rows,
    write_report,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("real_run")
    ap.add_argument("synth_run", nargs="?", help="a run trained on synthetic rows only (its data files are read)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--extra", type=int, nargs="+", default=[0, 500, 1000, 3600])
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--mix", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--real-fraction", type=float, default=1.0, help="share of each fold's real fit rows used")
    args = ap.parse_args(argv)
    if any(e > 0 for e in args.extra) and not args.synth_run:
        ap.error("--extra above 0 needs SYNTH_RUN")
    if not 0 < args.real_fraction <= 1:
        ap.error("--real-fraction must be in (0, 1]")

    from sklearn.model_selection import GroupKFold
    from tqdm import tqdm

    from sashimi.model.chooser import ACTION_PREFIX, ActionModel, ChooserConfig

    started = time.time()
    pooled, prompts, texts, groups = training_rows(args.real_run)
    if args.synth_run:
        s_pooled, s_prompts, s_texts, _ = training_rows(args.synth_run)
    else:
        s_pooled, s_prompts, s_texts = np.zeros((0, pooled.shape[1]), pooled.dtype), [], []
    order_s = np.random.default_rng(args.seed).permutation(len(s_prompts))
    actions = [[t for t in seq if t.startswith(ACTION_PREFIX)] for seq in texts]
    distinct = [set(a) for a in actions]
    order, sims = nearest_other_families(pooled, groups, args.k)
    n = len(prompts)
    gain = candidate_gains(actions, order)  # (N, k)
    cfg = replace(ChooserConfig(), c=16.0, minilm_weight=1.0)
    rows: dict[int, np.ndarray] = {}
    for extra in args.extra:
        take = order_s[:extra]
        scores = np.zeros(n)
        for fold, (fit_rows, held_out) in enumerate(
            tqdm(list(GroupKFold(5).split(prompts, groups=groups)), desc=f"extra {extra}")
        ):
            if args.real_fraction < 1:  # a seeded subsample of the fold's real fit rows
                keep = np.random.default_rng([args.seed, fold]).permutation(len(fit_rows))
                fit_rows = np.sort(fit_rows[keep[: max(1, round(args.real_fraction * len(fit_rows)))]])
            model = ActionModel.fit(
                np.concatenate([pooled[fit_rows], s_pooled[take]]),
                [prompts[i] for i in fit_rows] + [s_prompts[i] for i in take],
                [texts[i] for i in fit_rows] + [s_texts[i] for i in take],
                cfg,
            )
            column = {a: j for j, a in enumerate(model.actions)}
            probs = model.probs(pooled[held_out], [prompts[i] for i in held_out])
            for p, i in zip(probs, held_out, strict=True):
                score = candidate_ef1(p, column, [distinct[r] for r in order[i]]) + args.mix * sims[i, order[i]]
                scores[i] = gain[i, int(np.argmax(score))]
        rows[extra] = scores
        print(f"extra {extra}: {scores.mean():.4f}", flush=True)
    means = {str(e): round(float(v.mean()), 4) for e, v in rows.items()}
    base = min(rows)
    best = max(rows, key=lambda e: rows[e].mean())
    report = {
        "rows": n, "synthetic_rows": len(s_prompts), "real_fraction": args.real_fraction, "means": means, "best": best, "base": base,
        "best_minus_base": paired_difference(rows[best], rows[base]),
    }
    write_report(args.out, "synth_rows.json", vars(args), started, report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
