"""What an adapter gate (RESULTS §9: rank-32 adapters on MiniLM's top 3 layers) would add per request on
top of the shared encoder, one request at a time (issue 16's <= 10 ms bar on top of the encoder).

    python benchmarks/gate_lora_latency.py [--data tests/data/gate_blind.jsonl] [--n 200] [--threads 1]

The adapted layers read the hidden states MiniLM already computes after its third layer (`Encoder.hidden_states`,
taken once up front, not timed) and run three transformer layers with their adapters, mean pooling and
the head: that is the added work. Untrained adapters of the study's shape do the same arithmetic as
trained ones; `--rank 0` times the plain layers, which is what adapters merged into their base weights
(W + scale x B A, exact for a linear adapter) would cost. For scale, the whole MiniLM pass per request
(torch, the same threads) is timed too.
Prints one JSON line: p50 / p95 ms of each, and the threads.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sashimi.train import gate_adapter as gate_lora  # noqa: E402


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(ms, 50)), 3), "p95": round(float(np.percentile(ms, 95)), 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="tests/data/gate_blind.jsonl")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--layers", type=int, default=3)
    args = ap.parse_args(argv)
    if args.n < 1 or args.threads < 1:
        raise SystemExit("error: --n and --threads must be at least 1")

    import torch

    from sashimi.eval.gate_exp import load_labelled
    from sashimi.model.encoder import Encoder
    from sashimi.model.gate import canonical_request

    torch.set_num_threads(args.threads)
    texts = [canonical_request(r["prompt"]) for r in load_labelled(args.data)][: args.n]
    config = gate_lora.LoRAConfig.from_dict({"layers": args.layers, "rank": args.rank, "lr": 1e-3})
    encoder = Encoder(progress=False)
    states = encoder.hidden_states(texts, config.first_layer)  # what enters the adapted layers, per request
    model = gate_lora.AdaptedTop(gate_lora.base_layers(encoder, config), config).eval()
    minilm = encoder.model

    adapted, whole = [], []
    with torch.no_grad():
        for text, state in zip(texts, states, strict=True):
            hidden = torch.from_numpy(np.asarray(state, np.float32))[None]
            mask = torch.ones(hidden.shape[:2])
            model(hidden, mask)  # warm
            t = time.perf_counter()
            model(hidden, mask)
            adapted.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            minilm.encode([text], convert_to_numpy=True, show_progress_bar=False)
            whole.append(1000 * (time.perf_counter() - t))
    print(json.dumps({"n": len(texts), "threads": args.threads, "rank": args.rank, "layers": args.layers,
                      "adapted_top_ms": percentiles(adapted), "whole_minilm_ms": percentiles(whole)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
