"""MiniLM's forward pass as an ONNX graph, run by onnxruntime: the same weights and numbers, less CPU.

Why: at batch 1 a MiniLM request is ~30 word pieces through 6 layers of small matrix products, and
PyTorch's per-operation dispatch plus its GEMM choice for these shapes cost about 1.8x what onnxruntime's
MLAS kernels do (`python benchmarks/encoder_precision.py`: token states within 4e-6 of the torch forward
pass, pooled vectors at cosine 0.9999999; docs/RESULTS.md §7.12). The encoder was the largest share of a
request's CPU (§7.8, §8), so this is where a request gets cheaper without changing a feature.

The graph is written here op by op from `sashimi.model.minilm.MiniLM.forward` (the reference: it is what
the tests compare against) and built in memory from the weights already loaded: nothing is exported,
downloaded or stored. Inputs: `words` (float32 [T, 384]: the word-piece embeddings, looked up by the
caller), `positions` (int64 [T]: each word piece's position in its own request) and `bias` (float32
[T, T], added to every head's attention scores). One request: positions 0..T-1 and a zero bias (the
same numbers as before the inputs existed: adding 0 changes no score). Several requests in one pass
(`MiniLM.encode_together`): their word pieces concatenated, positions restarting per request and -inf
across requests, so each attends only to its own. Output `states` [T, 384], the last layer's states
(mean pooling and normalising stay in `MiniLM`).

`int8=True` writes the same network with 8-bit weights and integer products (RESULTS §8: ~1.8x less
CPU per pass, pooled vectors at cosine ~0.993 to float32): every linear layer's weight quantised per
output channel to signed 8 bits (symmetric, scale = max |w| / 127), its input quantised per pass to
unsigned 8 bits (`DynamicQuantizeLinear`; q, k and v share theirs), the position table to unsigned 8
bits with one scale. These are the numbers and the graph that `onnxruntime.quantization.
quantize_dynamic(per_channel=True, weight_type=QInt8)` writes for the float graph (tested: the same
states, bit for bit), computed here in numpy at load (~0.1 s instead of the quantiser's ~3 s), and
onnxruntime fuses each product into one integer kernel.
"""

from __future__ import annotations

import math

import numpy as np

from sashimi.model.onnx_graph import GraphBuilder

OPSET = 20  # LayerNormalization (17) and Gelu (20) as single operators


def quantise_channels(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A float weight [out, in] as (int8 [in, out], float32 scale [out]): symmetric, one scale per output
    channel (onnxruntime's dynamic quantiser, signed per-channel weights: round half to even)."""
    wt = weight.T.astype(np.float32)  # [in, out]: MatMulInteger reads x [T, in] @ w [in, out]
    scale = (np.abs(wt).max(axis=0).astype(np.float64) * 2.0 / 254.0).astype(np.float32)  # as the quantiser
    safe = np.where(scale == 0, np.float32(1.0), scale)
    return np.clip(np.round(wt / safe), -127, 127).astype(np.int8), scale


def quantise_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A float table as (uint8 table, scale, zero point): asymmetric, one scale, the range widened to
    include 0 (onnxruntime's dynamic quantiser on a Gather's table)."""
    lo, hi = min(float(table.min()), 0.0), max(float(table.max()), 0.0)
    scale64 = (hi - lo) / 255.0 if hi > lo else 1.0  # in float64, then float32: as the quantiser
    scale = np.float32(scale64)
    zero = np.uint8(np.clip(np.round(-lo / scale64), 0, 255))
    q = np.clip(np.round(table.astype(np.float32) / scale) + zero, 0, 255).astype(np.uint8)
    return q, np.array(scale, np.float32), np.array(zero, np.uint8)


def build_graph(
    w: dict[str, np.ndarray],
    n_layers: int,
    n_heads: int,
    eps: float,
    *,
    int8: bool = False,
    tap: int | None = None,
    first_layer: int = 0,
) -> tuple[bytes, dict[str, np.ndarray]]:
    """(the serialised ONNX model of MiniLM's forward pass over unpadded word pieces (module docstring), its weights).

    `tap` = k adds a second output `tap`: the states after layer k (what the domain gate's adapted top
    layers read, `sashimi.model.gate_adapter`), from the same pass. `first_layer` = k > 0 writes only
    layers k..n_layers-1: the input is then `hidden` (float32 [T, 384], the states after layer k) with
    `bias`, and `w` needs only those layers' weights (the gate's adapted layers, merged).

    The weight matrices are not copied into the model: it declares them as external initialisers, and
    `session` hands onnxruntime the arrays themselves (no 43 MB serialised and parsed at start-up)."""
    if tap is not None and not first_layer <= tap < n_layers:
        raise ValueError(f"tap {tap} is not a layer of this graph ({first_layer}..{n_layers - 1})")
    g = GraphBuilder()
    const, op = g.const, g.op
    quantised: dict[str, tuple[str, str, str]] = {}  # input name -> its 8-bit (values, scale, zero point)

    def linear(x: str, name: str) -> str:  # F.linear: x @ W^T + b, on the weight as stored (no copy)
        weight, bias = w[f"{name}.weight"], const(f"{name}.b", w[f"{name}.bias"])
        if not int8:
            return op("Gemm", [x, const(f"{name}.w", weight), bias], f"{name}.out", transB=1)
        if x not in quantised:  # once per input: q, k and v read the same quantised states
            outs = [f"{x}.q", f"{x}.scale", f"{x}.zero"]
            g.nodes.append(g.helper.make_node("DynamicQuantizeLinear", [x], outs))
            quantised[x] = tuple(outs)
        xq, xs, xz = quantised[x]
        wq, ws = quantise_channels(weight)
        wq, ws = const(f"{name}.wq", wq), const(f"{name}.ws", ws)
        wz = const(f"{name}.wz", np.zeros(weight.shape[0], np.int8))
        acc = op("MatMulInteger", [xq, wq, xz, wz], f"{name}.acc")  # int32 [T, out]
        scale = op("Mul", [xs, ws], f"{name}.scale")  # [out]: the input's scale x each channel's
        y = op("Mul", [op("Cast", [acc], f"{name}.accf", to=g.TensorProto.FLOAT), scale], f"{name}.mm")
        return op("Add", [y, bias], f"{name}.out")

    def layer_norm(x: str, name: str) -> str:
        scale, bias = const(f"{name}.g", w[f"{name}.weight"]), const(f"{name}.beta", w[f"{name}.bias"])
        return op("LayerNormalization", [x, scale, bias], f"{name}.out", axis=-1, epsilon=eps)

    d = w[f"encoder.layer.{first_layer}.attention.self.query.weight"].shape[1]
    hd = d // n_heads
    f = g.TensorProto.FLOAT
    if first_layer:
        x = "hidden"  # [T, D]: the states after layer `first_layer`
        inputs = [("hidden", f, ["T", d]), ("bias", f, ["T", "T"])]
    else:
        x = _embeddings(g, w, int8, eps)
        inputs = [("words", f, ["T", d]), ("positions", g.TensorProto.INT64, ["T"]), ("bias", f, ["T", "T"])]
    outputs = [("states", f, ["T", d])]
    split_heads = const("split_heads", np.array([-1, n_heads, hd], np.int64))
    merge_heads = const("merge_heads", np.array([-1, d], np.int64))
    inv_sqrt = const("inv_sqrt", np.array(1.0 / math.sqrt(hd), np.float32))
    for i in range(first_layer, n_layers):
        if i == tap:
            g.nodes.append(g.helper.make_node("Identity", [x], ["tap"]))
            outputs.append(("tap", f, ["T", d]))
        p = f"encoder.layer.{i}"

        def heads(x: str, name: str, perm: list[int]) -> str:  # [T, D] -> [H, T, hd] (keys: [H, hd, T])
            y = op("Reshape", [linear(x, name), split_heads], f"{name}.split")
            return op("Transpose", [y], f"{name}.heads", perm=perm)

        att_in = f"{p}.attention.self"
        q = heads(x, f"{att_in}.query", [1, 0, 2])
        k = heads(x, f"{att_in}.key", [1, 2, 0])
        v = heads(x, f"{att_in}.value", [1, 0, 2])
        scores = op("Mul", [op("MatMul", [q, k], f"{p}.qk"), inv_sqrt], f"{p}.scaled")  # [H, T, T]
        scores = op("Add", [scores, "bias"], f"{p}.scores")  # + 0 within a request, -inf across
        att = op("Softmax", [scores], f"{p}.att", axis=-1)
        ctx = op("Transpose", [op("MatMul", [att, v], f"{p}.av")], f"{p}.ctx.t", perm=[1, 0, 2])
        ctx = op("Reshape", [ctx, merge_heads], f"{p}.ctx")  # [T, D]
        x = op("Add", [x, linear(ctx, f"{p}.attention.output.dense")], f"{p}.res1")
        x = layer_norm(x, f"{p}.attention.output.LayerNorm")
        h = op("Gelu", [linear(x, f"{p}.intermediate.dense")], f"{p}.gelu")  # exact (erf) GELU
        x = op("Add", [x, linear(h, f"{p}.output.dense")], f"{p}.res2")
        x = layer_norm(x, f"{p}.output.LayerNorm")
    g.nodes.append(g.helper.make_node("Identity", [x], ["states"]))
    return g.finish("minilm", inputs, outputs, OPSET)


def _embeddings(g: GraphBuilder, w: dict[str, np.ndarray], int8: bool, eps: float) -> str:
    """Word piece (looked up by the caller: the 47 MB table stays out of the graph, which halves the
    time to build and load it) + position (`positions`) + token type 0, then a layer norm: [T, D]."""
    const, op = g.const, g.op
    if int8:
        table, scale, zero = quantise_table(w["embeddings.position_embeddings.weight"])
        pos = op("Gather", [const("pos.q", table), "positions"], "emb.pos.q")  # [T, D] uint8
        pos = op("DequantizeLinear", [pos, const("pos.scale", scale), const("pos.zero", zero)], "emb.pos")
    else:
        pos_table = const("pos", w["embeddings.position_embeddings.weight"])
        pos = op("Gather", [pos_table, "positions"], "emb.pos")  # [T, D]: each request's own 0, 1, ...
    x = op("Add", ["words", pos], "emb.wp")
    x = op("Add", [x, const("type0", w["embeddings.token_type_embeddings.weight"][0])], "emb.sum")
    name = "embeddings.LayerNorm"
    scale, bias = const(f"{name}.g", w[f"{name}.weight"]), const(f"{name}.beta", w[f"{name}.bias"])
    return op("LayerNormalization", [x, scale, bias], f"{name}.out", axis=-1, epsilon=eps)
