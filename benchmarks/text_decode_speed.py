"""Decode speed of a run folder's decoder: ms per token and tokens per program, typed IR or DSL text.

    python benchmarks/text_decode_speed.py --model RUN [--model RUN2 ...] --input DEV.jsonl [--n 20] [--beam 1]
    python benchmarks/text_decode_speed.py --step-cost RUN [--text-vocab 2048] [--steps 256]

For each model and each of the first N prompts: MiniLM encoding (not timed), then the decoder's search
as `sashimi generate` runs it (typed IR: the grammar mask; dsl_text: unconstrained until <EOS> or
max_len), timed both in wall time and in CPU time of this thread (`time.thread_time`): on a loaded
machine the wall time measures the queue for a core, the CPU time the work. One thread, as the
generator uses. Prints one JSON object per model.

`--step-cost RUN`: the cost of one decoder step at each cache length, without a trained text model:
RUN's own decoder and an untrained dsl_text decoder of the same architecture (its output layer sized
`--text-vocab`) each run `--steps` forced steps (NumpyDecoder, the generator's step, batch 1, a random prompt memory); CPU
ms per step over the first 32 / 128 / all steps. The per-program cost is then this times the
tokens per program (benchmarks/text_lengths.py).
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


def step_cost(run: Path, text_vocab: int, steps: int) -> list[dict]:
    import dataclasses

    import torch
    from safetensors.torch import load_file

    from sashimi.io import read_json
    from sashimi.model.decoder import DecoderConfig, SashimiDecoder
    from sashimi.model.numpy_step import NumpyDecoder

    torch.set_num_threads(1)
    base = DecoderConfig.from_json(read_json(run / "config.json")["decoder"])  # the decoder only
    decoder = SashimiDecoder(base)
    decoder.load_state_dict(load_file(str(run / "model.safetensors")))
    decoder.eval()
    text_cfg = dataclasses.replace(
        base, vocab_size=text_vocab, output_target="dsl_text", max_len=max(steps, base.max_len)
    )
    torch.manual_seed(0)
    out = []
    for name, model in (("run", decoder), ("dsl_text_untrained", SashimiDecoder(text_cfg).eval())):
        cfg = model.cfg
        n = min(steps, cfg.max_len)
        fast = NumpyDecoder(model)
        pooled = torch.randn(1, cfg.enc_dim)
        states, mask = torch.randn(1, 20, cfg.enc_dim), torch.ones(1, 20, dtype=torch.bool)
        retrieved = (
            torch.randint(4, cfg.vocab_size, (1, cfg.retrieval_k, cfg.retrieval_len))
            if cfg.retrieval_k
            else None
        )
        with torch.inference_mode():
            memory = model.encode(pooled, states, mask, retrieved)
            cache = fast.init_cache(memory)
            token = torch.tensor([1])
            per_step = []
            for _ in range(n):
                c0 = time.thread_time()
                logits, cache = fast.step(memory, token, cache)
                token = logits.argmax(-1)
                per_step.append((time.thread_time() - c0) * 1000.0)
        out.append(
            {
                "model": name,
                "output_target": cfg.output_target,
                "vocab_size": cfg.vocab_size,
                "d_model": cfg.d_model,
                "n_layers": cfg.n_layers,
                "steps": n,
                "cpu_ms_per_step_first_32": float(np.mean(per_step[:32])),
                "cpu_ms_per_step_first_128": float(np.mean(per_step[:128])),
                "cpu_ms_per_step_all": float(np.mean(per_step)),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, action="append", default=[])
    ap.add_argument("--input", type=Path, default=None, help="ShortcutForge chat JSONL")
    ap.add_argument("--step-cost", type=Path, default=None, metavar="RUN")
    ap.add_argument("--text-vocab", type=int, default=2048)
    ap.add_argument("--steps", type=int, default=256)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--beam", type=int, default=1)
    args = ap.parse_args()
    if args.step_cost is not None:
        for row in step_cost(args.step_cost, args.text_vocab, args.steps):
            print(json.dumps(row), flush=True)
        return
    if not args.model or args.input is None:
        ap.error("give --model RUN ... --input FILE, or --step-cost RUN")
    from sashimi.dsl.corpus import load_corpus

    prompts = [r.prompt for r in load_corpus(args.input)][: args.n]
    for model in args.model:
        print(json.dumps(measure(model, prompts, args.beam)), flush=True)


if __name__ == "__main__":
    main()
