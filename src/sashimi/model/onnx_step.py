"""`SashimiDecoder.step` as one onnxruntime call, for inference: the numpy step's arithmetic at about
half its cost (0.22 vs 0.5 ms per step at batch 1, 0.45 vs 0.9 ms at batch 8).

Why: a greedy decode is 20-60 steps, and a numpy step (`numpy_step.NumpyDecoder`) is ~100 small array
operations whose per-call cost (a few µs each) is nearly all of a step's time, at batch 1 or 8 alike.
One `InferenceSession.run` per step replaces those ~100 Python-level calls by one, and onnxruntime runs the
same operations on the same weights in its own kernels.

The graph is written here op by op from `NumpyDecoder.step` (the reference; the tests compare the two)
and built in memory from the `NumpyDecoder`'s arrays: nothing is exported or stored. Inputs: the batch's
token ids, the position, each layer's cached self-attention keys / values (B, H, t, dh) and the
memory's keys (B, H, dh, M, transposed once per request) / values (B, H, M, dh) with the additive memory
mask (B, 1, 1, M); outputs: the logits (B, V) and each layer's keys / values with this step's appended
(B, H, t + 1, dh), which the next step reads.

It is not bit-identical to the numpy step (a kernel sums in its own order): logits agree to float32
rounding, and a greedy choice could differ only where two tokens tie to that precision (measured on
the benchmark prompts: RESULTS §8). Models with activation quantisation (`act_bits`) keep the numpy
step (`supported`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from sashimi.errors import DataError
from sashimi.model.numpy_step import NumpyDecoder, _Linear, _Norm, logits_out, take_rows
from sashimi.model.onnx_graph import GraphBuilder, session

OPSET = 23  # LayerNormalization (17), Gelu (20) and RMSNormalization (23) as single operators


def supported(stepper: NumpyDecoder) -> bool:
    """Whether the graph covers this decoder: every linear layer without activation quantisation."""
    linears = [layer for block in stepper.blocks for layer in block.values() if isinstance(layer, _Linear)]
    return all(layer.bits is None for layer in linears + [stepper.lm_head])


def build_graph(stepper: NumpyDecoder) -> tuple[bytes, dict[str, np.ndarray]]:
    """(the serialised ONNX model of one decoder step, its weights) from a NumpyDecoder's arrays."""
    g = GraphBuilder()
    d = stepper.tok_emb.shape[1]
    h = stepper.n_heads
    dh = d // h

    def norm(x: str, n: _Norm, name: str) -> str:
        if n.kind == "none":
            return x
        if n.kind == "layer":
            return g.op("LayerNormalization", [x, g.const(f"{name}.g", n.weight), g.const(f"{name}.b", n.bias)],
                        f"{name}.out", axis=-1, epsilon=n.eps)
        # RMS: x / sqrt(mean(x * x) + eps) * weight (one operator; _Norm sums and scales by 1/d)
        return g.op("RMSNormalization", [x, g.const(f"{name}.w", n.weight)], f"{name}.out", axis=-1, epsilon=n.eps)

    def linear(x: str, layer: _Linear, name: str) -> str:  # (B, in) -> (B, out)
        if layer.norm is not None:
            x = norm(x, layer.norm, f"{name}.norm")
        y = g.op("MatMul", [x, g.const(f"{name}.wt", layer.weight_t)], f"{name}.mm")
        return y if layer.bias is None else g.op("Add", [y, g.const(f"{name}.bias", layer.bias)], f"{name}.out")

    split = g.const("split_heads", np.array([0, h, 1, dh], np.int64))  # (B, d) -> (B, H, 1, dh)
    merge = g.const("merge_heads", np.array([0, d], np.int64))  # (B, H, 1, dh) -> (B, d)
    scale = g.const("scale", np.array(stepper.scale, np.float32))
    x = g.op("Add", [g.op("Gather", [g.const("tok_emb", stepper.tok_emb), "ids"], "emb.tok"),
                     g.op("Gather", [g.const("pos_emb", stepper.pos_emb), "pos"], "emb.pos")], "x0")  # (B, d)
    for i, p in enumerate(stepper.blocks):
        # self-attention: this token's query over the cached keys and its own
        qkv = linear(norm(x, p["ln1"], f"b{i}.ln1"), p["qkv"], f"b{i}.qkv")  # (B, 3d)
        q, k, v = (f"b{i}.{s}" for s in "qkv")
        g.nodes.append(g.helper.make_node("Split", [qkv, g.const("thirds", np.array([d, d, d], np.int64))],
                                          [q, k, v], axis=1))
        heads = lambda y, name: g.op("Reshape", [y, split], name, allowzero=0)  # noqa: E731
        keys = g.op("Concat", [f"past_k{i}", heads(k, f"b{i}.k.h")], f"k{i}", axis=2)  # (B, H, t+1, dh)
        values = g.op("Concat", [f"past_v{i}", heads(v, f"b{i}.v.h")], f"v{i}", axis=2)
        keys_t = g.op("Transpose", [keys], f"b{i}.kt", perm=[0, 1, 3, 2])
        scores = g.op("MatMul", [g.op("Mul", [heads(q, f"b{i}.q.h"), scale], f"b{i}.qs"), keys_t], f"b{i}.sc")
        att = g.op("Softmax", [scores], f"b{i}.att", axis=-1)  # (B, H, 1, t+1)
        ctx = g.op("Reshape", [g.op("MatMul", [att, values], f"b{i}.av"), merge], f"b{i}.ctx")
        x = g.op("Add", [x, linear(ctx, p["sa_proj"], f"b{i}.sa_proj")], f"b{i}.r1")
        # cross-attention to the memory (keys transposed once per request)
        qc = g.op("Mul", [heads(linear(norm(x, p["ln2"], f"b{i}.ln2"), p["q"], f"b{i}.q"), f"b{i}.qc.h"), scale],
                  f"b{i}.qcs")
        scores = g.op("Add", [g.op("MatMul", [qc, f"cross_kt{i}"], f"b{i}.csc0"), "cross_bias"], f"b{i}.csc")
        att = g.op("Softmax", [scores], f"b{i}.catt", axis=-1)  # (B, H, 1, M)
        ctx = g.op("Reshape", [g.op("MatMul", [att, f"cross_v{i}"], f"b{i}.cav"), merge], f"b{i}.cctx")
        x = g.op("Add", [x, linear(ctx, p["ca_proj"], f"b{i}.ca_proj")], f"b{i}.r2")
        # MLP, exact (erf) GELU
        hidden = g.op("Gelu", [linear(norm(x, p["ln3"], f"b{i}.ln3"), p["fc"], f"b{i}.fc")], f"b{i}.gelu")
        x = g.op("Add", [x, linear(hidden, p["mlp_proj"], f"b{i}.mlp_proj")], f"b{i}.r3")
    logits = linear(norm(x, stepper.ln_f, "ln_f"), stepper.lm_head, "lm_head")
    g.nodes.append(g.helper.make_node("Identity", [logits], ["logits"]))
    f, i64 = g.TensorProto.FLOAT, g.TensorProto.INT64
    kv = ["B", h, "t", dh]
    inputs = [("ids", i64, ["B"]), ("pos", i64, [1]), ("cross_bias", f, ["B", 1, 1, "M"])]
    outputs = [("logits", f, ["B", stepper.lm_head.weight_t.shape[1]])]
    for i in range(len(stepper.blocks)):
        inputs += [(f"past_k{i}", f, kv), (f"past_v{i}", f, kv), (f"cross_kt{i}", f, ["B", h, dh, "M"]),
                   (f"cross_v{i}", f, ["B", h, "M", dh])]
        outputs += [(f"k{i}", f, ["B", h, "t1", dh]), (f"v{i}", f, ["B", h, "t1", dh])]
    return g.finish("decoder_step", inputs, outputs, OPSET)


@dataclass
class OnnxCache:
    """Per layer: self-attention keys / values (B, H, t, dh), the memory's transposed keys (B, H, dh, M)
    and values (B, H, M, dh); the additive memory mask (B, 1, 1, M): 0 where real, -inf where padded."""

    self_k: list[np.ndarray]
    self_v: list[np.ndarray]
    cross_kt: list[np.ndarray]
    cross_v: list[np.ndarray]
    cross_bias: np.ndarray
    pos: int = 0

    def index_select(self, index: torch.Tensor) -> OnnxCache:
        """Rows `index` (a finished row leaves the batch; beam search expands / reorders hypotheses)."""
        return take_rows(self, index)


class OnnxDecoder:
    """`init_cache` / `step` of a SashimiDecoder in eval mode, one onnxruntime call per step."""

    def __init__(self, stepper: NumpyDecoder, threads: int = 1) -> None:
        if not supported(stepper):
            raise ValueError("the onnxruntime decoder step has no activation quantisation: use NumpyDecoder")
        self.numpy = stepper
        self.cfg = stepper.cfg
        self.extra = stepper.extra
        graph, self._weights = build_graph(stepper)
        self._session = session(graph, self._weights, threads)
        self._n_layers = len(stepper.blocks)

    def init_cache(self, memory) -> OnnxCache:
        cache = self.numpy.init_cache(memory)
        b, h, _, dh = cache.cross_k[0].shape
        empty = np.zeros((b, h, 0, dh), np.float32)
        return OnnxCache(
            [empty] * self._n_layers, [empty] * self._n_layers,
            [np.ascontiguousarray(k.transpose(0, 1, 3, 2)) for k in cache.cross_k], cache.cross_v,
            np.ascontiguousarray(cache.cross_bias[:, None]),
        )

    def step(self, memory, token_ids, cache: OnnxCache):
        """token_ids (B,) -> logits (B, V) as a torch tensor and the extended cache (input unchanged)."""
        t = cache.pos
        if t >= self.cfg.max_len:
            raise ValueError(f"decoding past max_len {self.cfg.max_len}")
        feed = {"ids": np.asarray(token_ids, dtype=np.int64), "pos": np.array([t], np.int64),
                "cross_bias": cache.cross_bias}
        for i in range(self._n_layers):
            feed[f"past_k{i}"], feed[f"past_v{i}"] = cache.self_k[i], cache.self_v[i]
            feed[f"cross_kt{i}"], feed[f"cross_v{i}"] = cache.cross_kt[i], cache.cross_v[i]
        out = self._session.run(None, feed)
        n = self._n_layers
        after = OnnxCache(out[1 : 1 + 2 * n : 2], out[2 : 2 + 2 * n : 2], cache.cross_kt, cache.cross_v,
                          cache.cross_bias, t + 1)
        return logits_out(out[0], self.extra), after


BACKENDS = ("onnxruntime", "numpy")  # who runs a decoder step at inference; the first is the default


def decoder_stepper(decoder, out_size: int | None = None, backend: str | None = None):
    """The inference step of `decoder` (eval mode): `OnnxDecoder` where it covers the model and the
    backend (default: $SASHIMI_DECODER_BACKEND, else onnxruntime) asks for it, else `NumpyDecoder`."""
    backend = backend or os.environ.get("SASHIMI_DECODER_BACKEND") or BACKENDS[0]
    if backend not in BACKENDS:
        raise DataError(f"unknown decoder backend {backend!r}: use one of {', '.join(BACKENDS)}")
    stepper = NumpyDecoder(decoder, out_size=out_size)
    if backend == "numpy" or not supported(stepper):
        return stepper
    return OnnxDecoder(stepper, threads=torch.get_num_threads())
