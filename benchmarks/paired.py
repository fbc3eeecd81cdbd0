"""Paired bootstrap difference of two systems scored by `sashimi evaluate` on the same rows.

    python benchmarks/paired.py OUT_A/rows.jsonl OUT_B/rows_knn-minilm.jsonl [--metric action_f1 skeleton_exact]
    python benchmarks/paired.py A_s0/rows.jsonl B_s0/rows.jsonl A_s1/rows.jsonl B_s1/rows.jsonl ... [--resamples 10000]

Prints mean(A) - mean(B) per metric with its 95 % percentile interval over `--resamples` row resamples
(default 1,000; the harness's seeded resampler), matching rows by id; rows missing on either side are an
error. Several pairs (one per training seed, say: A_s0 B_s0 A_s1 B_s1 ...) give the seed average: each
row's difference is averaged over the pairs first, and the rows are resampled, so the interval is over
the evaluation rows with the seeds' spread averaged in.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from sashimi.eval.bootstrap import DEFAULT_RESAMPLES, resample_indices


def read_rows(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return {r["id"]: r for r in map(json.loads, f)}


def row_differences(pairs: list[tuple[dict, dict]], metric: str) -> tuple[list, np.ndarray]:
    """The ids every file scores and, per id, A - B averaged over the pairs (None counts as 0)."""
    ids = sorted(pairs[0][0])
    for a, b in pairs:
        if set(a) != set(ids) or set(b) != set(ids):
            sys.exit(f"the files score different rows ({len((set(a) | set(b)) ^ set(ids))} differ)")
    d = np.array([[(a[i][metric] or 0.0) - (b[i][metric] or 0.0) for i in ids] for a, b in pairs], dtype=np.float64)
    return ids, d.mean(axis=0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", metavar="A B", help="rows files of system A and system B, one or more pairs")
    ap.add_argument("--metric", nargs="+", default=["action_f1", "skeleton_exact"])
    ap.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES, help="row resamples (default: the harness's)")
    args = ap.parse_args(argv)
    if len(args.files) < 2 or len(args.files) % 2:
        ap.error("give the rows files in pairs: A B [A B ...]")
    if not 100 <= args.resamples <= 100_000:
        ap.error("--resamples must be 100..100000")

    pairs = [(read_rows(a), read_rows(b)) for a, b in zip(args.files[::2], args.files[1::2], strict=True)]
    out = {}
    for m in args.metric:
        ids, d = row_differences(pairs, m)
        idx = resample_indices(len(ids), resamples=args.resamples)
        boot = d[idx].mean(axis=1)
        lo, hi = np.percentile(boot, [2.5, 97.5])
        out[m] = {
            "diff": round(float(d.mean()), 4),
            "ci": [round(float(lo), 4), round(float(hi), 4)],
            "a_better_rows": int((d > 0).sum()),
            "b_better_rows": int((d < 0).sum()),
            "pairs": len(pairs),
        }
        print(
            f"{m}: {d.mean():+.4f} [{lo:+.4f}, {hi:+.4f}] over {len(ids)} rows"
            + (f", averaged over {len(pairs)} pairs" if len(pairs) > 1 else "")
            + f" (A better on {(d > 0).sum()}, B on {(d < 0).sum()})"
        )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
