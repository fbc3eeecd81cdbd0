"""Speed of the decoding mask (`sashimi.model.constraints`): microseconds per step and milliseconds per request.

A "request" replays one program's typed-IR sequence through the machine (allowed + advance per token, as
greedy decoding does); programs the machine rejects stop at the rejected token. Random walks through the
mask (max_len 384) are timed the same way. Run:

    python benchmarks/constraints_bench.py --train /work/runs/split/train.jsonl \
        --data /work/runs/split/dev.jsonl --catalog-dir ../shared/data/shortcutforge

Prints one JSON object (acceptance, µs/step mean/p50/p95, ms/request p50/p95, cold and warm caches).
`--check-walks N` also sends N random walks (max_len drawn from 3..max_len) through placeholder values,
lowering, printing and the strict pipeline, and counts the ones that fail (should be 0).
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
from sashimi.dsl.pipeline import run_pipeline
from sashimi.dsl.printer import print_program
from sashimi.dsl.validator import validate
from sashimi.ir.lowering import lower
from sashimi.ir.typed import to_typed
from sashimi.ir.vocab import build_vocab
from sashimi.model.constraints import ProgramConstraint, build_token_table, placeholder_slots


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


def walk(pc: ProgramConstraint, rng: random.Random, ids: list[int] | None = None) -> list[float]:
    steps: list[float] = []
    state = pc.initial()
    while not pc.is_final(state):
        t0 = time.perf_counter()
        choices = np.flatnonzero(pc.allowed(state))
        token = int(choices[rng.randrange(len(choices))])
        state = pc.advance(state, token)
        steps.append(time.perf_counter() - t0)
        if ids is not None:
            ids.append(token)
    return steps


def check_walks(vocab, table, catalog, n: int, max_len: int, seed: int) -> dict:
    """Random walks -> placeholders -> lower -> print -> parse/validate strict/compile (run_pipeline)."""
    rng = random.Random(seed)
    machines: dict[int, ProgramConstraint] = {}
    failures: list[str] = []
    lengths = []
    for _ in range(n):
        limit = rng.randint(3, max_len)
        pc = machines.setdefault(limit, ProgramConstraint(vocab, table, max_len=limit, catalog=catalog))
        ids: list[int] = []
        walk(pc, rng, ids)
        lengths.append(len(ids))
        slots, names = placeholder_slots(pc, ids)
        result = run_pipeline(print_program(lower(pc.to_typed(ids, slots, names))), catalog, do_lint=False)
        if not result.compiled_strict or len(ids) > limit:
            failures.append(f"{result.failed_stage}: {result.error}")
    return {
        "walks": n,
        "failed": len(failures),
        "first_failures": failures[:3],
        "tokens_mean": round(float(np.mean(lengths)), 1),
        "tokens_max": max(lengths),
    }


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
    ap.add_argument("--check-walks", type=int, default=0, help="also check N walks end to end")
    args = ap.parse_args()

    catalog = Catalog.load(args.catalog_dir)
    train = [parse(r.program) for r in load_corpus(args.train)]
    vocab = build_vocab(train, catalog, catalog_actions=catalog.actions)
    table = build_token_table(vocab)
    t0 = time.perf_counter()
    pc = ProgramConstraint(vocab, table, max_len=args.max_len, catalog=catalog)
    build_s = time.perf_counter() - t0
    seqs, why = [], []
    scope = {"undefined_variable", "unresolved_handle", "prev_fallback", "handle_context"}
    for row in load_corpus(args.data):
        ir = parse(row.program)
        texts = [t.text for t in to_typed(ir, catalog).tokens]
        ids = [table.id(t) for t in texts]
        seqs.append(ids[: args.max_len])
        warned = {w.category for w in validate(ir, catalog, "strict").warnings} & scope
        why.append(
            "token outside the table"
            if any(t not in table for t in texts)
            else "longer than max_len"
            if len(ids) > args.max_len
            else "scope warning: " + ",".join(sorted(warned))
            if warned
            else "other"
        )
    cold = [replay(pc, ids) for ids in seqs]
    rejected: dict[str, int] = {}
    for (_, ok), reason in zip(cold, why, strict=True):
        if not ok:
            rejected[reason] = rejected.get(reason, 0) + 1
    warm = [replay(pc, ids) for ids in seqs]
    rng = random.Random(args.seed)
    walks = [walk(ProgramConstraint(vocab, table, max_len=args.max_len, catalog=catalog), rng)]
    walks += [walk(pc, rng) for _ in range(args.walks - 1)]
    accepted = sum(ok for _, ok in cold)
    checked = (
        check_walks(vocab, table, catalog, args.check_walks, args.max_len, args.seed)
        if args.check_walks
        else None
    )
    print(
        json.dumps(
            {
                "valid_walks": checked,
                "table_size": len(table),
                "build_seconds": round(build_s, 3),
                "accepted": f"{accepted}/{len(seqs)}",
                "acceptance": round(accepted / max(len(seqs), 1), 4),
                "rejected_by_reason": rejected,
                "replay_cold": summary([s for s, _ in cold]),
                "replay_warm": summary([s for s, _ in warm]),
                "random_walks": summary(walks),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
