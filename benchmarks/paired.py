"""Paired bootstrap difference of two systems scored by `sashimi evaluate` on the same rows.

    python benchmarks/paired.py OUT_A/rows.jsonl OUT_B/rows_knn-minilm.jsonl [--metric action_f1 skeleton_exact]

Prints mean(A) - mean(B) per metric with its 95 % percentile interval over 1,000 row resamples (the
harness's seeded resampler), matching rows by id; rows missing on either side are an error.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--metric", nargs="+", default=["action_f1", "skeleton_exact"])
    args = ap.parse_args(argv)
    from sashimi.eval.bootstrap import resample_indices

    def rows(path):
        with open(path, encoding="utf-8") as f:
            return {r["id"]: r for r in map(json.loads, f)}

    a, b = rows(args.a), rows(args.b)
    if set(a) != set(b):
        sys.exit(f"the two files score different rows ({len(set(a) ^ set(b))} differ)")
    ids = sorted(a)
    idx = resample_indices(len(ids))
    out = {}
    for m in args.metric:
        d = np.array([(a[i][m] or 0.0) - (b[i][m] or 0.0) for i in ids], dtype=np.float64)
        boot = d[idx].mean(axis=1)
        lo, hi = np.percentile(boot, [2.5, 97.5])
        out[m] = {
            "diff": round(float(d.mean()), 4),
            "ci": [round(float(lo), 4), round(float(hi), 4)],
            "a_better_rows": int((d > 0).sum()),
            "b_better_rows": int((d < 0).sum()),
        }
        print(
            f"{m}: {d.mean():+.4f} [{lo:+.4f}, {hi:+.4f}] over {len(ids)} rows "
            f"(A better on {(d > 0).sum()}, B on {(d < 0).sum()})"
        )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
