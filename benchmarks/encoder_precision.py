"""Could a lower-precision MiniLM make requests cheaper? Speed and drift of the inference encoder.

    python benchmarks/encoder_precision.py [--data /work/runs/split/dev.jsonl] [--n 80]

One intra-op thread, one prompt at a time (as the generator runs it), the first `--n` prompts of
`--data`. Variants of `sashimi.model.minilm.MiniLM`:

- fp32: the torch forward pass (the gate and every model were fitted on these features);
- onnxruntime: the same float32 network as an ONNX graph (`sashimi.model.minilm_onnx`, what the
  generator runs since 2026-12-01);
- bf16-linear: the 36 linear layers in bfloat16 (inputs cast, outputs back to float32), layer norms,
  softmax and pooling in float32 (this CPU has AVX512-BF16);
- int8-dynamic: `torch.ao.quantization.quantize_dynamic` of sentence-transformers' model (per-tensor
  int8 weights, dynamic int8 activations) - loaded through `transformers`, slower to import.

Prints ms per prompt and how far the pooled vectors (cosine to fp32) and token states (max |diff|)
move; and the fp32 forward pass's ms per prompt over padded batches (`--batch-sizes`). With
`--generations NAME=FILE ...` it also runs the shipped generator (gate + model) on every prompt of each
file with the fp32 torch encoder and with the variant `--drift-of` names (bf16-linear, the default, or
onnxruntime) and counts the gate decisions, programs and `.shortcut` files that differ (would the cheaper
encoder keep every measured figure?). A study only: nothing here changes what the generator runs.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def _prompts(path: Path, n: int) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][:n]
    return [r["messages"][1]["content"] if "messages" in r else r["prompt"] for r in rows]


def _timed(encode, prompts):
    encode(prompts[:3])  # warm-up
    t = time.perf_counter()
    pooled, states = encode(prompts)
    return (time.perf_counter() - t) * 1000.0 / len(prompts), np.asarray(pooled), states


def _batched_ms(m, prompts: list[str], batch: int) -> float:
    """ms per prompt of MiniLM's forward pass over padded batches of `batch` prompts, in order (what a server
    batching its queued requests would pay; tokenising and pooling excluded, as they do not batch)."""
    encoded = [m.tokenizer.encode(p).ids for p in prompts]
    batches = []
    for start in range(0, len(encoded), batch):
        rows = encoded[start : start + batch]
        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)], mask[i, : len(r)] = torch.tensor(r), 1
        batches.append((ids, mask))
    m.forward(*batches[0])  # warm-up
    t = time.perf_counter()
    for ids, mask in batches:
        m.forward(ids, mask)
    return (time.perf_counter() - t) * 1000.0 / len(prompts)


def bf16_linear(m) -> None:
    """Switch a `MiniLM`'s linear layers to bfloat16 (inputs cast, outputs back to float32), in place."""
    bf = {k: v.to(torch.bfloat16) for k, v in m.w.items()}
    m._lin = lambda x, name: F.linear(  # noqa: E731
        x.to(torch.bfloat16), bf[f"{name}.weight"], bf[f"{name}.bias"]
    ).float()


def generation_drift(sets: dict[str, list[str]], variant: str = "bf16-linear") -> dict:
    """Per set: how many of the shipped generator's answers change from the fp32 torch encoder to `variant`."""
    from sashimi.model.generator import Generator
    from sashimi.model.minilm import MiniLM

    gen = Generator.load(None)
    gen.encoder = MiniLM(backend="torch")
    before = {name: [gen.generate(p) for p in prompts] for name, prompts in sets.items()}
    if variant == "onnxruntime":
        gen.encoder = MiniLM(backend="onnxruntime")
    else:
        bf16_linear(gen.encoder)
    out = {}
    for name, prompts in sets.items():
        after = [gen.generate(p) for p in prompts]
        pairs = list(zip(before[name], after, strict=True))
        scores = [abs(a.gate_score - b.gate_score) for a, b in pairs if None not in (a.gate_score, b.gate_score)]
        out[name] = {
            "prompts": len(prompts),
            "gate_decisions_differ": sum(a.accepted != b.accepted for a, b in pairs),
            "programs_differ": sum((a.dsl or "") != (b.dsl or "") for a, b in pairs),
            "files_differ": sum(a.shortcut != b.shortcut for a, b in pairs),
            "gate_score_max_abs_diff": round(max(scores), 5) if scores else None,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("/work/runs/split/dev.jsonl"))
    ap.add_argument("--n", type=int, default=80)
    ap.add_argument(
        "--batch-sizes", type=int, nargs="*", default=[1, 2, 4, 8],
        help="also time fp32 forward passes over padded batches of these sizes (would batching requests pay?)",
    )
    ap.add_argument(
        "--generations", nargs="*", default=[], metavar="NAME=FILE",
        help="also count the shipped generator's answers that change with the --drift-of encoder",
    )
    ap.add_argument("--drift-of", choices=["bf16-linear", "onnxruntime"], default="bf16-linear")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from sashimi.model.encoder import model_dir
    from sashimi.model.minilm import MiniLM

    prompts = _prompts(args.data, args.n)
    m = MiniLM(backend="torch")
    ms32, ref, ref_states = _timed(m.encode, prompts)
    out = {"prompts": len(prompts), "fp32": {"ms_per_prompt": round(ms32, 2)}}
    ms, pooled, states = _timed(MiniLM(backend="onnxruntime").encode, prompts)
    cos = (ref * pooled).sum(1)
    out["onnxruntime"] = {
        "ms_per_prompt": round(ms, 2),
        "cosine_min": round(float(cos.min()), 7),
        "token_state_max_abs_diff": max(float(np.abs(a - b).max()) for a, b in zip(ref_states, states, strict=True)),
    }
    out["fp32_batched_ms_per_prompt"] = {str(b): round(_batched_ms(m, prompts, b), 2) for b in args.batch_sizes}

    bf16_linear(m)
    ms, pooled, states = _timed(m.encode, prompts)
    cos = (ref * pooled).sum(1)
    out["bf16-linear"] = {
        "ms_per_prompt": round(ms, 2),
        "cosine_min": round(float(cos.min()), 6),
        "cosine_mean": round(float(cos.mean()), 6),
        "token_state_max_abs_diff": round(max(float(np.abs(a - b).max()) for a, b in zip(ref_states, states, strict=True)), 4),
    }

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir()))
    q = torch.ao.quantization.quantize_dynamic(
        AutoModel.from_pretrained(str(model_dir())).eval(), {torch.nn.Linear}, dtype=torch.qint8
    )

    def encode_int8(texts):
        pooled = []
        for text in texts:
            with torch.inference_mode():
                h = q(**tok(text, return_tensors="pt")).last_hidden_state[0]
            pooled.append(F.normalize(h.mean(0), dim=0).numpy())
        return np.stack(pooled), None

    ms, pooled, _ = _timed(encode_int8, prompts)
    cos = (ref * pooled).sum(1)
    out["int8-dynamic"] = {
        "ms_per_prompt": round(ms, 2),
        "cosine_min": round(float(cos.min()), 6),
        "cosine_mean": round(float(cos.mean()), 6),
    }
    if args.generations:
        sets = {}
        for spec in args.generations:
            name, _, path = spec.partition("=")
            sets[name] = _prompts(Path(path), 10**9)
        out[args.drift_of]["generations"] = generation_drift(sets, args.drift_of)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
