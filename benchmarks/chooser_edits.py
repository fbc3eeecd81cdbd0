"""Edits of the chosen program's actions, scored out of fold like `chooser_variants.py` (training rows only).

    python benchmarks/chooser_edits.py RUN_DIR --out runs/chooser_edits [--k 50] [--c 16] [--minilm-weight 1]

The chooser picks one of the k nearest training programs (the plain rule: argmax E[set F1] + mix x cosine);
the oracle among the same candidates is far above it (0.84 against 0.69 out of fold), and no other way of
picking closes the gap (RESULTS 7.7, 7.18). This asks whether *editing* the picked program's actions
towards the action model helps before any program-level edit is written: greedy edits of the chosen
program's distinct actions, each one the drop (all occurrences) or the addition (once) of the action that
raises E[set F1] under p the most, taken while the rise exceeds `delta`, at most `edits` of them
(`drop`/`add` variants allow one kind only). Scored as the multiset action-F1 of the edited action list
against the row's own. Also reported: the action set that maximises E[set F1] under p alone (the top-n
actions by p for the best n; not a program: the action model's own ceiling under this rule).

Writes edits.json (mean per variant, kNN-1, plain, the oracle best of k, a paired bootstrap of the best
variant against plain, and how many actions the best variant drops and adds per row) and prints the best ten.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chooser_cv import candidate_ef1, candidate_gains, paired_difference, print_best, write_report  # noqa: E402
from chooser_variants import out_of_fold_rows  # noqa: E402


def set_ef1(p: np.ndarray, hit: float, n: int) -> float:
    """E[set F1] of a set of n distinct actions whose modelled actions' p sum to `hit`."""
    return 0.0 if n == 0 else 2.0 * hit / (n + float(p.sum()))


def edit_actions(
    acts: list[str], p: np.ndarray, column: dict[str, int], *, delta: float, edits: int, kinds: str = "both"
) -> tuple[list[str], int, int]:
    """Greedy E[set F1] edits of an action list (see the module docstring): (edited list, drops, adds).

    A dropped action loses every occurrence; an added action (a modelled one, not in the list) is appended
    once. An action the model does not know has p = 0 in the sum, as in the chooser's rule."""
    acts = list(acts)
    names = list(column)  # the modelled actions, in column order
    drops = adds = 0
    for _ in range(edits):
        distinct = set(acts)
        hit = sum(float(p[column[a]]) for a in distinct if a in column)
        base = set_ef1(p, hit, len(distinct))
        best_gain, best = delta, None
        if kinds in ("both", "drop") and len(distinct) > 1:  # never drop to an empty program
            for a in sorted(distinct):  # sorted: ties (two unknown actions) break the same way in every run
                gain = set_ef1(p, hit - (float(p[column[a]]) if a in column else 0.0), len(distinct) - 1) - base
                if gain > best_gain:
                    best_gain, best = gain, ("drop", a)
        if kinds in ("both", "add"):
            j = int(np.argmax(np.where([a in distinct for a in names], -1.0, p)))
            gain = set_ef1(p, hit + float(p[j]), len(distinct) + 1) - base
            if gain > best_gain:
                best_gain, best = gain, ("add", names[j])
        if best is None:
            break
        if best[0] == "drop":
            acts = [a for a in acts if a != best[1]]
            drops += 1
        else:
            acts.append(best[1])
            adds += 1
    return acts, drops, adds


def best_free_set(p: np.ndarray, names: list[str]) -> list[str]:
    """The top-n actions by p for the n that maximises E[set F1] (n >= 1)."""
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(p[order])
    ef1 = 2.0 * cum / (np.arange(1, len(p) + 1) + p.sum())
    n = int(np.argmax(ef1)) + 1
    return [names[j] for j in order[:n]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--c", type=float, default=16.0)
    ap.add_argument("--minilm-weight", type=float, default=1.0)
    ap.add_argument("--mix", type=float, default=1.0)
    ap.add_argument("--delta", type=float, nargs="+", default=[0.0, 0.01, 0.02, 0.05])
    ap.add_argument("--edits", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args(argv)

    from sashimi.eval.fidelity import multiset_f1

    started = time.time()
    oof = out_of_fold_rows(args.run, args.k, args.c, args.minilm_weight)
    actions, order, sims, probs, columns = oof.actions, oof.order, oof.sims, oof.probs, oof.columns
    n = len(oof.prompts)
    chosen = []
    for i in range(n):
        ef1 = candidate_ef1(probs[i], columns[i], [set(actions[r]) for r in order[i]])
        chosen.append(int(order[i, int(np.argmax(ef1 + args.mix * sims[i, order[i]]))]))

    rows: dict[str, list[float]] = {
        "plain": [multiset_f1(actions[chosen[i]], actions[i]) for i in range(n)],
        "free set": [multiset_f1(best_free_set(probs[i], list(columns[i])), actions[i]) for i in range(n)],
    }
    counts: dict[str, list[int]] = {}
    for kinds, delta, edits in itertools.product(("both", "drop", "add"), args.delta, args.edits):
        name = f"{kinds} delta={delta:g},edits={edits}"
        scores, drops, adds = [], 0, 0
        for i in range(n):
            edited, d, a = edit_actions(actions[chosen[i]], probs[i], columns[i], delta=delta, edits=edits, kinds=kinds)
            scores.append(multiset_f1(edited, actions[i]))
            drops, adds = drops + d, adds + a
        rows[name] = scores
        counts[name] = [drops, adds]

    means = {name: round(float(np.mean(v)), 4) for name, v in rows.items()}
    best = max((k for k in means if k not in ("plain", "free set")), key=means.get)
    gain = candidate_gains(actions, order)
    report = {
        "run": str(args.run), "rows": n, "knn1": round(float(gain[:, 0].mean()), 4),
        "oracle_best_of_k": round(float(gain.max(1).mean()), 4), "means": means, "best": best,
        "best_minus_plain": paired_difference(rows[best], rows["plain"]),
        "free_set_minus_plain": paired_difference(rows["free set"], rows["plain"]),
        "best_drops_adds_per_row": [round(c / n, 3) for c in counts[best]],
    }
    write_report(args.out, "edits.json", vars(args), started, report)
    print_best(means)
    print(f"plain {means['plain']:.4f}; free set {means['free set']:.4f}; kNN-1 {report['knn1']:.4f}; "
          f"oracle {report['oracle_best_of_k']:.4f}; best {best} vs plain {report['best_minus_plain']}; "
          f"drops/adds per row {report['best_drops_adds_per_row']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
