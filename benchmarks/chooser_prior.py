"""The chooser's action model with a prior from the action catalog, scored out of fold like `chooser_variants.py`.

    python benchmarks/chooser_prior.py RUN_DIR --out runs/chooser_prior [--catalog ../shared/data/shortcutforge]
        [--gamma 0 2 5 10 20 40]

The action model (one logistic regression per action over MiniLM and hashed word features) learns only
from the run's ~1,350 real training rows, and still gains from more of them (RESULTS 7.18). The catalog
describes every action in words ("Set Background Sounds Volume: Sets the volume for background sounds
..."): knowledge no row has to teach. Here each action's logit is shifted by gamma x (the cosine between
the request and the action's name + description, both MiniLM vectors, minus that action's mean cosine
over all rows, so the prior moves an action up or down per request without changing its base rate):

    p'_a = sigmoid(logit(p_a) + gamma * (cos(request, a) - mean_rows cos(., a)))

Each held-out row then picks among its k nearest training programs of other families by the plain rule
(E[set F1] under p' + mix x cosine) and scores the multiset action-F1 of that program's actions against
its own. gamma = 0 is the plain rule. Also reported: the prior alone (p = sigmoid(gamma x centred cosine
+ the action's log base rate), the best gamma). The catalog is read by path and its vectors are only
held in memory (they are derived from the external catalog row by row and never written).

With `--stack GAMMA` the small gains of RESULTS 7.18 are also scored together: the prior at GAMMA, the
count rule (E[multiset F1], `chooser_variants.py`) and adds only (`chooser_edits.py`, delta 0.02, 2 edits).

Writes prior.json (mean per gamma, kNN-1, the oracle, a paired bootstrap of the best gamma, and of the
stack, against plain).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chooser_cv import candidate_ef1, candidate_gains, paired_difference, print_best, write_report  # noqa: E402
from chooser_edits import edit_actions  # noqa: E402
from chooser_variants import count_ef1, fold_count_survival, out_of_fold_rows  # noqa: E402


def action_texts(catalog_dir: Path, actions: list[str]) -> list[str]:
    """'Name: description' of each action token ("A:<identifier or short name>") from the catalog."""
    catalog = json.loads((catalog_dir / "action_catalog.json").read_text())
    entries, canonical = catalog["actions"], catalog["_meta"]["canonical_map"]
    out = []
    for token in actions:
        key = token.removeprefix("A:")
        entry = entries.get(key) or entries.get(canonical.get(key, ""))
        if entry is None:
            raise SystemExit(f"error: action {key!r} is not in {catalog_dir / 'action_catalog.json'}")
        out.append(f"{entry.get('name') or key}: {entry.get('description') or ''}".strip())
    return out


def shifted(p: np.ndarray, prior: np.ndarray, gamma: float) -> np.ndarray:
    """sigmoid(logit(p) + gamma * prior), p clipped away from 0 and 1."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + gamma * prior)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--catalog", type=Path, default=Path("../shared/data/shortcutforge"))
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--c", type=float, default=16.0)
    ap.add_argument("--minilm-weight", type=float, default=1.0)
    ap.add_argument("--mix", type=float, default=1.0)
    ap.add_argument("--gamma", type=float, nargs="+", default=[0.0, 2.0, 5.0, 10.0, 20.0, 40.0])
    ap.add_argument(
        "--stack", type=float, metavar="GAMMA",
        help="also score the small gains stacked: the prior at GAMMA, then the count rule (chooser_variants.py), "
        "then adds only (chooser_edits.py, delta 0.02, at most 2 edits)",
    )
    args = ap.parse_args(argv)
    if not (args.catalog / "action_catalog.json").is_file():
        raise SystemExit(f"error: {args.catalog / 'action_catalog.json'} not found (../shared absent?)")

    from sashimi.eval.fidelity import multiset_f1
    from sashimi.model.encoder import Encoder

    started = time.time()
    oof = out_of_fold_rows(args.run, args.k, args.c, args.minilm_weight)
    pooled, groups, actions, order, sims = oof.pooled, oof.groups, oof.actions, oof.order, oof.sims
    probs, columns = oof.probs, oof.columns
    n = len(oof.prompts)

    # every fold models the same actions? (GroupKFold folds differ in which actions occur >= 2 times)
    all_actions = sorted({a for col in columns for a in col})
    descriptions = Encoder(progress=False).embed(action_texts(args.catalog, all_actions))  # (A, 384), unit rows
    cos = pooled @ descriptions.T  # (N, A) request-action cosines
    centred = cos - cos.mean(axis=0, keepdims=True)
    index = {a: j for j, a in enumerate(all_actions)}
    prior_rows = [centred[i, [index[a] for a in columns[i]]] for i in range(n)]  # per row, in its fold's column order

    def score(p_of_row) -> list[float]:
        out = []
        for i in range(n):
            ef1 = candidate_ef1(p_of_row(i), columns[i], [set(actions[r]) for r in order[i]])
            best = order[i, int(np.argmax(ef1 + args.mix * sims[i, order[i]]))]
            out.append(multiset_f1(actions[best], actions[i]))
        return out

    rows: dict[str, list[float]] = {}
    for gamma in args.gamma:
        rows["plain" if gamma == 0 else f"prior gamma={gamma:g}"] = score(
            lambda i, g=gamma: shifted(probs[i], prior_rows[i], g)
        )
    # the prior alone: each action's base rate (mean p over rows, from the fold models) moved by the cosine
    base = {}
    for i in range(n):
        for a, j in columns[i].items():
            base.setdefault(a, []).append(probs[i][j])
    base_p = {a: float(np.mean(v)) for a, v in base.items()}
    for gamma in args.gamma[1:]:
        rows[f"prior alone gamma={gamma:g}"] = score(
            lambda i, g=gamma: shifted(np.array([base_p[a] for a in columns[i]]), prior_rows[i], g)
        )

    if args.stack is not None:
        survival = fold_count_survival(actions, groups, columns)
        stacked = []
        for i in range(n):
            p = shifted(probs[i], prior_rows[i], args.stack)
            ef1 = count_ef1(p, survival[i], columns[i], [actions[r] for r in order[i]])
            best = order[i, int(np.argmax(ef1 + args.mix * sims[i, order[i]]))]
            edited, _, _ = edit_actions(actions[best], p, columns[i], delta=0.02, edits=2, kinds="add")
            stacked.append(multiset_f1(edited, actions[i]))
        rows[f"stacked gamma={args.stack:g}"] = stacked

    means = {name: round(float(np.mean(v)), 4) for name, v in rows.items()}
    best = max((k for k in means if k.startswith("prior gamma")), key=means.get)
    gain = candidate_gains(actions, order)
    report = {
        "run": str(args.run), "rows": n, "actions": len(all_actions),
        "knn1": round(float(gain[:, 0].mean()), 4), "oracle_best_of_k": round(float(gain.max(1).mean()), 4),
        "means": means, "best": best, "best_minus_plain": paired_difference(rows[best], rows["plain"]),
    }
    if args.stack is not None:
        report["stacked_minus_plain"] = paired_difference(rows[f"stacked gamma={args.stack:g}"], rows["plain"])
    write_report(args.out, "prior.json", vars(args) | {"catalog": str(args.catalog)}, started, report)
    print_best(means, top=len(means))
    print(f"kNN-1 {report['knn1']:.4f}; oracle {report['oracle_best_of_k']:.4f}; best {best} vs plain "
          f"{report['best_minus_plain']}; stacked vs plain {report.get('stacked_minus_plain')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
