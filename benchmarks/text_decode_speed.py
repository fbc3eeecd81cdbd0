"""Decode speed of a run folder's decoder: ms per token and tokens per program, typed IR or DSL text.

    python benchmarks/text_decode_speed.py --model RUN [--model RUN2 ...] --input DEV.jsonl [--n 20] [--beam 1]

For each model and each of the first N prompts: MiniLM encoding (not timed), then the decoder's search
as `sashimi generate` runs it (typed IR: the grammar mask; dsl_text: unconstrained until <EOS> or
max_len), timed both in wall time and in CPU time of this thread (`time.thread_time`): on a loaded
machine the wall time measures the queue for a core, the CPU time the work. One thread, as the
generator uses. Prints one JSON object per model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def measure(model_dir: Path, prompts: list[str], beam: int) -> dict:
    from sashimi.model.generator import Generator
    from sashimi.model.search import search

    gen = Generator.load(model_dir)
    cfg = gen.model.decoder.cfg
    tokens, cpu_ms, wall_ms, ended = [], [], [], []
    for prompt in prompts:
        pooled, states = gen.encoder.encode([prompt])
        c0, w0 = time.thread_time(), time.perf_counter()
        memory = gen.model.memory(pooled, states)
        result = search(gen.stepper, memory, gen.constraint, beam=beam)
        cpu_ms.append((time.thread_time() - c0) * 1000.0)
        wall_ms.append((time.perf_counter() - w0) * 1000.0)
        tokens.append(len(result.token_ids))
        ended.append(cfg.output_target != "dsl_text" or result.token_ids[-1] == 2)
    n_tok = float(sum(tokens))
    return {
        "model": str(model_dir),
        "output_target": cfg.output_target,
        "vocab_size": cfg.vocab_size,
        "max_len": cfg.max_len,
        "prompts": len(prompts),
        "beam": beam,
        "tokens_per_program_mean": float(np.mean(tokens)),
        "tokens_per_program_median": float(np.median(tokens)),
        "ended_before_max_len": int(sum(ended)),
        "cpu_ms_per_token": sum(cpu_ms) / n_tok,
        "wall_ms_per_token": sum(wall_ms) / n_tok,
        "cpu_ms_per_program_median": float(np.median(cpu_ms)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, action="append", required=True)
    ap.add_argument("--input", type=Path, required=True, help="ShortcutForge chat JSONL")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--beam", type=int, default=1)
    args = ap.parse_args()
    from sashimi.dsl.corpus import load_corpus

    prompts = [r.prompt for r in load_corpus(args.input)][: args.n]
    for model in args.model:
        print(json.dumps(measure(model, prompts, args.beam)), flush=True)


if __name__ == "__main__":
    main()
