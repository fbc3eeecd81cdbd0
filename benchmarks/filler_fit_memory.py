"""Peak memory and weights of the value filler's fit on generated corpora (RESULTS §7.10).

    python benchmarks/filler_fit_memory.py runs/synth/train.jsonl [more.jsonl ...]

Loads the rows, lowers them to the typed IR under the core catalog (as `sashimi train` does for
configs/synth.yaml), fits `ValueFiller` with seed 0 and the synthetic value source, and prints the
programs, the number of weights, a sha256 of (weights, intercept) - to compare with a run's own
`filler/filler.json` - the fit's seconds and the process's peak RSS (`ru_maxrss`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import time


def weights_digest(weights: dict, intercept: float) -> str:
    return hashlib.sha256(json.dumps([weights, intercept], sort_keys=True).encode()).hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", nargs="+", help="corpus JSONL files (chat format)")
    args = ap.parse_args(argv)

    from sashimi.dsl.catalog import Catalog
    from sashimi.dsl.corpus import load_corpus
    from sashimi.ir.typed import to_typed
    from sashimi.model.filler import ValueFiller
    from sashimi.train.data import parse_rows

    rows = [r for path in args.data for r in load_corpus(path)]
    parsed, _failed = parse_rows(rows)
    catalog = Catalog.core()
    examples = [(row.prompt, to_typed(ir, catalog)) for row, ir in parsed]
    started = time.time()
    filler = ValueFiller.fit(examples, seed=0, value_source="synthetic")
    print(json.dumps({
        "programs": len(examples),
        "weights": len(filler.weights),
        "sha256_weights_intercept": weights_digest(filler.weights, filler.intercept),
        "fit_seconds": round(time.time() - started, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
