"""Speed of the decoding mask (`sashimi.model.constraints`): microseconds per step and milliseconds per request.

A "request" replays one program's typed-IR sequence through the machine (allowed + advance per token, as
greedy decoding does); programs the machine rejects stop at the rejected token. Random walks through the
mask (max_len 384) are timed the same way. Run:

    python benchmarks/constraints_bench.py --train /work/runs/split/train.jsonl \
        --data /work/runs/split/dev.jsonl --catalog-dir ../shared/data/shortcutforge

Prints one JSON object (acceptance, µs/step mean/p50/p95, ms/request p50/p95, cold and warm caches).
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np

from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import load_corpus
from sashimi.dsl.parser import parse
from sashimi.ir.typed import to_typed
from sashimi.ir.vocab import build_vocab
from sashimi.model.constraints import ProgramConstraint, build_token_table


def replay(pc: ProgramConstraint, ids: list[int]) -> tuple[list[float], bool]:
    steps: list[float] = []
    state = pc.initial()
    for t in ids:
        t0 = time.perf_counter()
        ok = bool(pc.allowed(state)[t])
        if ok:
            state = pc.advance(state, t)
        steps.append(time.perf_counter() - t0)
        if not ok:
            return steps, False
    return steps, pc.is_final(state)


def walk(pc: ProgramConstraint, rng: random.Random) -> list[float]:
    steps: list[float] = []
    state = pc.initial()
    while not pc.is_final(state):
        t0 = time.perf_counter()
        choices = np.flatnonzero(pc.allowed(state))
        state = pc.advance(state, int(choices[rng.randrange(len(choices))]))
        steps.append(time.perf_counter() - t0)
    return steps


def summary(requests: list[list[float]]) -> dict:
    per_step = np.array([s for r in requests for s in r]) * 1e6
    per_request = np.array([sum(r) for r in requests]) * 1e3
    return {
        "requests": len(requests),
        "steps": int(per_step.size),
        "tokens_per_request_mean": round(per_step.size / max(len(requests), 1), 1),
        "us_per_step_mean": round(float(per_step.mean()), 2),
        "us_per_step_p50": round(float(np.percentile(per_step, 50)), 2),
        "us_per_step_p95": round(float(np.percentile(per_step, 95)), 2),
        "ms_per_request_p50": round(float(np.percentile(per_request, 50)), 3),
        "ms_per_request_p95": round(float(np.percentile(per_request, 95)), 3),
        "ms_per_request_max": round(float(per_request.max()), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", required=True, help="JSONL the vocabulary is built from")
    ap.add_argument("--data", required=True, help="JSONL whose programs are replayed")
    ap.add_argument("--catalog-dir", default=None, help="reference catalog folder (default: core catalog)")
    ap.add_argument("--max-len", type=int, default=384)
    ap.add_argument("--walks", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    catalog = Catalog.load(args.catalog_dir)
    train = [parse(r.program) for r in load_corpus(args.train)]
    vocab = build_vocab(train, catalog, catalog_actions=catalog.actions)
    table = build_token_table(vocab)
    t0 = time.perf_counter()
    pc = ProgramConstraint(vocab, table, max_len=args.max_len, catalog=catalog)
    build_s = time.perf_counter() - t0
    seqs = []
    for row in load_corpus(args.data):
        ids = [table.id(t.text) for t in to_typed(parse(row.program), catalog).tokens]
        seqs.append(ids[: args.max_len])
    cold = [replay(pc, ids) for ids in seqs]
    warm = [replay(pc, ids) for ids in seqs]
    rng = random.Random(args.seed)
    walks = [walk(ProgramConstraint(vocab, table, max_len=args.max_len, catalog=catalog), rng)]
    walks += [walk(pc, rng) for _ in range(args.walks - 1)]
    accepted = sum(ok for _, ok in cold)
    print(
        json.dumps(
            {
                "table_size": len(table),
                "build_seconds": round(build_s, 3),
                "accepted": f"{accepted}/{len(seqs)}",
                "acceptance": round(accepted / max(len(seqs), 1), 4),
                "replay_cold": summary([s for s, _ in cold]),
                "replay_warm": summary([s for s, _ in warm]),
                "random_walks": summary(walks),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
