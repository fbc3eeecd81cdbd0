"""Per-prompt time of the shipped gate's own work on top of the encoder (issue 16's <= 10 ms bar).

Times, one prompt at a time, what `Gate.decide` adds to the MiniLM embedding: the meaningless-input
check, canonicalisation, the TF-IDF lexical view and the head, on a fixed unit embedding (the encoder's
own time is measured by `sashimi exp gate`, field `latency`).

    python benchmarks/gate_latency.py [--data tests/data/gate_blind.jsonl] [--n 100] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from sashimi.eval.gate_exp import load_labelled
from sashimi.model.gate import canonical_request, load_gate, meaningless_reason


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="tests/data/gate_blind.jsonl")
    ap.add_argument("--gate", default=None)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    gate = load_gate(args.gate)
    texts = [r["prompt"] for r in load_labelled(args.data)][: args.n]
    emb = np.random.default_rng(0).normal(size=(1, gate.embedding_dim))
    emb /= np.linalg.norm(emb)
    known = gate.known_words
    times = []
    for text in texts * args.repeat:
        t0 = time.perf_counter()
        if meaningless_reason(text, known) is None:
            gate.scores(emb, [canonical_request(text) if gate.canonical else text])
        times.append(time.perf_counter() - t0)
    ms = 1000 * np.asarray(times)
    print(
        json.dumps(
            {
                "n": len(times),
                "ms_p50": round(float(np.median(ms)), 3),
                "ms_p95": round(float(np.percentile(ms, 95)), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
