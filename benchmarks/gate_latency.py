"""Per-prompt time of the shipped gate's own work on top of the encoder (issue 16's <= 10 ms bar).

Times, one prompt at a time, what `Gate.decide` adds to the MiniLM embedding: the meaningless-input
check, canonicalisation and spelling correction (`Gate.request_text`; its word list loaded before
timing, as a server does), the TF-IDF lexical view and the head, on a fixed unit embedding (the encoder's
own time is measured by `sashimi exp gate`, field `latency`); for a gate with adapters also their
layers, on the states the product taps from its one MiniLM pass (`MiniLM(tap=...)`, not timed: the pass
is the encoder's), with the generator's thread count (`--threads`, default 1 as `SASHIMI_THREADS`).

    python benchmarks/gate_latency.py [--data tests/data/gate_blind.jsonl] [--n 100] [--repeat 2] [--typo]

`--typo`: each prompt with one typo (the metamorphic test's swap), so that the correction has work to do.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np

from sashimi.data.ood import one_typo
from sashimi.eval.gate_exp import load_labelled
from sashimi.model.gate import load_gate, meaningless_reason
from sashimi.model.spelling import preload


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="tests/data/gate_blind.jsonl")
    ap.add_argument("--gate", default=None)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--typo", action="store_true", help="time each prompt with one typo")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)  # before any onnxruntime session: they take torch's count
    gate = load_gate(args.gate)
    texts = [r["prompt"] for r in load_labelled(args.data)][: args.n]
    if args.typo:
        rng = random.Random("latency-typo")
        texts = [one_typo(t, rng) for t in texts]
    if gate.spelling:
        preload()
    taps = {}
    if gate.adapter is not None:
        from sashimi.model.minilm import MiniLM

        minilm = MiniLM(tap=gate.tap_layer)
        taps = {t: minilm.encode_with_tap([gate.request_text(t)])[2] for t in texts}
        gate.adapter.ood_logits(next(iter(taps.values())))  # the adapter's graph is built once, not timed
    emb = np.random.default_rng(0).normal(size=(1, gate.embedding_dim))
    emb /= np.linalg.norm(emb)
    known = gate.known_words
    times = []
    for text in texts * args.repeat:
        t0 = time.perf_counter()
        if meaningless_reason(text, known) is None:
            gate.scores(emb, [gate.request_text(text)], taps.get(text))
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
