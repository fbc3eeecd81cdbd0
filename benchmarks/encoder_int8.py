"""Would an 8-bit MiniLM make serving cheaper without changing what the models read? (RESULTS §8)

    python benchmarks/encoder_int8.py --data runs/bench/split/dev.jsonl --n 160 --out runs/encoder_int8.json

MiniLM is ~40 % of a generation request's CPU and runs float32 products near this core's peak, so
the one large saving left would be integer products. This takes the float32 graph `sashimi` runs
(`minilm_onnx.build_graph`), writes each `Gemm` as `MatMul` + `Add` (onnxruntime's dynamic
quantiser reads MatMul), quantises the weights to 8 bits with `onnxruntime.quantization.
quantize_dynamic` (activations quantised per pass) in four variants (signed / unsigned weights, one
scale per tensor / per output channel), and reports per variant: CPU ms per pass (one thread, each
variant timed twice, alternating with float32) and how far the features move: cosine of each
request's pooled vector and, averaged over its word pieces, of its token states, against float32.

`--answers FILE...` (ShortcutForge chat rows or {id, prompt} lines) also runs the shipped generator on
those prompts with the 8-bit encoder in place of the float32 one (the gate and the model as they are,
fitted on float32 features) and counts the gate decisions and programs that change;
`--predictions-dir` keeps both answers for `sashimi evaluate`.

Study code for one decision (not used by `sashimi`): prompts are the `prompt` / user message of
`--data` lines (ShortcutForge chat JSONL or `{prompt}` lines), else our synthetic prompts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

VARIANTS = {  # name -> (weight type, per channel)
    "s8_tensor": ("QInt8", False),
    "s8_channel": ("QInt8", True),
    "u8_tensor": ("QUInt8", False),
    "u8_channel": ("QUInt8", True),
}


def read_rows(path: str) -> list[tuple[str, str]]:
    """(id, prompt) per line: a chat row's shortcut_id and user message, an {id, prompt} line, else the
    line number as id."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)
        text = row.get("prompt") or next(m["content"] for m in row["messages"] if m["role"] == "user")
        rows.append((str(row.get("shortcut_id") or row.get("id") or f"line{n}"), text))
    return rows


def read_prompts(path: str | None, n: int) -> list[str]:
    if path is None:
        from sashimi.data.ood import synthetic_prompts

        return [p.text for p in synthetic_prompts(n, 0)][:n]
    return [prompt for _, prompt in read_rows(path)][:n]


def float_model(minilm) -> onnx.ModelProto:
    """The float32 graph with its weights inside and every Gemm as MatMul (transposed weight) + Add."""
    import onnx
    from onnx import helper, numpy_helper

    from sashimi.model.minilm_onnx import build_graph

    weights = {k: v.numpy() for k, v in minilm.w.items() if not k.startswith("embeddings.word_")}
    graph, external = build_graph(weights, minilm.n_layers, minilm.n_heads, minilm.eps)
    model = onnx.load_from_string(graph)
    inits = {
        t.name: numpy_helper.from_array(external[t.name], t.name) if t.name in external else t
        for t in model.graph.initializer
    }
    nodes = []
    for node in model.graph.node:
        if node.op_type != "Gemm":
            nodes.append(node)
            continue
        x, w, b = node.input
        inits[w] = numpy_helper.from_array(numpy_helper.to_array(inits[w]).T.copy(), w)
        nodes.append(helper.make_node("MatMul", [x, w], [node.output[0] + ".mm"]))
        nodes.append(helper.make_node("Add", [node.output[0] + ".mm", b], [node.output[0]]))
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    del model.graph.initializer[:]
    model.graph.initializer.extend(inits.values())
    return model


def session(path: str):
    """A one-thread onnxruntime session on a model file (the product's own session options)."""
    from sashimi.model.onnx_graph import session as onnx_session

    return onnx_session(Path(path).read_bytes(), {}, 1)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def compare_answers(path: str, quantised_path: str, predictions_dir: Path | None = None) -> dict:
    """The shipped generator alone on every prompt of `path`, its MiniLM float32 then 8-bit: how many
    gate decisions and programs change, and the CPU per request of each. With `predictions_dir`, both
    answers as prediction files of the evaluation harness (`sashimi evaluate --predictions`)."""
    from sashimi.model.generator import Generator
    from sashimi.model.minilm import MiniLM

    rows = read_rows(path)
    gen = Generator.load(encoder=MiniLM(precision="float32"))  # the shipped model now declares int8
    float_session = gen.encoder._session

    def answers(name: str) -> tuple[list[tuple], float]:
        t0 = time.process_time()
        gens = [gen.generate(prompt) for _, prompt in rows]
        ms = (time.process_time() - t0) / len(rows) * 1000.0
        if predictions_dir is not None:
            predictions_dir.mkdir(parents=True, exist_ok=True)
            lines = [json.dumps({"id": i, "prompt": p, "dsl": g.dsl or "", "accepted": g.accepted, "ms": g.ms})
                     for (i, p), g in zip(rows, gens, strict=True)]  # fmt: skip
            (predictions_dir / f"{Path(path).stem}.{name}.jsonl").write_text("\n".join(lines) + "\n")
        return [(g.accepted, g.dsl) for g in gens], ms

    before, float_ms = answers("float32")
    gen.encoder._session = session(quantised_path)  # the same inputs and output as the float32 graph
    after, int8_ms = answers("int8")
    gen.encoder._session = float_session
    flips = [(a[0], b[0]) for a, b in zip(before, after, strict=True) if a[0] != b[0]]
    both = [(a, b) for a, b in zip(before, after, strict=True) if a[0] and b[0]]
    return {
        "prompts": len(rows),
        "accepted_float32": sum(a[0] for a in before),
        "accepted_int8": sum(b[0] for b in after),
        "gate_decisions_changed": len(flips),
        "newly_refused": sum(1 for a, b in flips if a and not b),
        "newly_accepted": sum(1 for a, b in flips if b and not a),
        "programs_changed_when_both_accept": sum(1 for a, b in both if a[1] != b[1]),
        "both_accept": len(both),
        "cpu_ms_per_request_float32": round(float_ms, 2),
        "cpu_ms_per_request_int8": round(int8_ms, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="JSONL of prompts (default: our synthetic prompts)")
    ap.add_argument("--n", type=int, default=160)
    ap.add_argument("--out", help="JSON report")
    ap.add_argument("--answers", nargs="+", metavar="FILE", help="also: the shipped generator's answers to "
                    "these prompts with the 8-bit encoder (gate and model as they are, not refitted) vs float32")
    ap.add_argument("--answers-variant", default="s8_channel", choices=list(VARIANTS))
    ap.add_argument("--predictions-dir", help="with --answers: write FILE.float32.jsonl / FILE.int8.jsonl "
                    "predictions here, for `sashimi evaluate`")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from sashimi.model.minilm import MiniLM

    logging.getLogger().setLevel(logging.ERROR)  # the quantiser's advice to pre-process is not the point here
    minilm = MiniLM()
    prompts = read_prompts(args.data, args.n)
    feeds = []
    for text in prompts:
        ids = minilm.tokenizer.encode(text).ids
        t = len(ids)
        feeds.append({"words": minilm._words[ids], "positions": np.arange(t, dtype=np.int64),
                      "bias": np.zeros((t, t), np.float32)})  # fmt: skip
    tmp = Path(tempfile.mkdtemp())
    onnx.save(float_model(minilm), tmp / "float.onnx")
    reference = session(str(tmp / "float.onnx"))

    def timed(sess) -> tuple[float, list[np.ndarray]]:
        t0 = time.process_time()
        out = [sess.run(None, f)[0] for f in feeds]
        return (time.process_time() - t0) / len(feeds) * 1000.0, out

    report = {"prompts": len(prompts), "mean_word_pieces": float(np.mean([len(f["positions"]) for f in feeds]))}
    ref_states = None
    for name, (weight_type, per_channel) in VARIANTS.items():
        quantize_dynamic(str(tmp / "float.onnx"), str(tmp / f"{name}.onnx"),
                         weight_type=getattr(QuantType, weight_type), per_channel=per_channel)  # fmt: skip
        quantised = session(str(tmp / f"{name}.onnx"))
        float_ms, int8_ms = [], []
        for _ in range(2):  # alternating, twice: this machine's speed drifts
            ms, ref_states = timed(reference)
            float_ms.append(ms)
            ms, states = timed(quantised)
            int8_ms.append(ms)
        pooled = [cosine_rows(a.mean(0), b.mean(0)) for a, b in zip(ref_states, states, strict=True)]
        tokens = [float(cosine_rows(a, b).mean()) for a, b in zip(ref_states, states, strict=True)]
        report[name] = {
            "float32_ms_per_pass": [round(x, 3) for x in float_ms],
            "int8_ms_per_pass": [round(x, 3) for x in int8_ms],
            "speed_up": round(float(np.mean(float_ms) / np.mean(int8_ms)), 2),
            "pooled_cosine_min": round(float(np.min(pooled)), 4),
            "pooled_cosine_median": round(float(np.median(pooled)), 4),
            "token_cosine_min": round(float(np.min(tokens)), 4),
            "token_cosine_median": round(float(np.median(tokens)), 4),
        }
        print(name, report[name], file=sys.stderr)
    if args.answers:
        report["answers"] = {"variant": args.answers_variant}
        for f in args.answers:
            preds = Path(args.predictions_dir) if args.predictions_dir else None
            report["answers"][f] = compare_answers(f, str(tmp / f"{args.answers_variant}.onnx"), preds)
            print(f, report["answers"][f], file=sys.stderr)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
