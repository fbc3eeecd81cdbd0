"""`SashimiDecoder.step` in numpy, for inference: the same arithmetic at a third of the cost.

A decoder step at batch 1 is ~100 tiny tensor operations on (1, 128)-sized arrays. In PyTorch each one
costs its dispatch (5-7 µs for a small `linear`, ~1 µs for an add), which is nearly all of a step's
0.5 ms; numpy's per-call cost is 2-4x lower (measured: 2.8 µs for the same matrix-vector product, 0.4 µs
for an add). `NumpyDecoder` reads the weights out once (ternary layers as their codes and scale, as
`PackedBitLinear` and `BitLinear` compute them, times their scale: exactly -gamma, 0 or +gamma) and
replays `decoder.step` with numpy calls in the same order (norm, activation quantisation, product,
bias).

It is not bit-identical to the torch step: a matrix product sums in a different order, so logits agree
to float32 rounding (tested: max |difference| < 1e-4 for every weight regime, packed and unpacked) and
a greedy choice could differ only where two tokens tie to that precision. The generator uses this path
for every model, packed or not, so a packed export and its training run still give byte-identical
programs (tested); `tests/model/test_numpy_step.py` checks that the shipped model decodes the same
tokens through both paths (greedy and beam) on varied requests, and on the 2,234 rows of real dev and
the synthetic test splits the programs were all the same (RESULTS §7.8). GELU is the one operation
left to torch (the exact erf form; numpy has no erf).

The cache keeps each layer's self-attention keys / values in one buffer of `max_len` positions that a
step writes in place (numpy has no cheap concatenation either); beam search reorders it with
`index_select` like the torch cache.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from sashimi.model.ternary import BitLinear, PackedBitLinear


def _np(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else np.ascontiguousarray(t.detach().float().numpy())


@dataclass
class _Norm:
    kind: str  # "rms" | "layer" | "none"
    weight: np.ndarray | None
    bias: np.ndarray | None
    eps: float

    @classmethod
    def of(cls, norm: torch.nn.Module) -> _Norm:
        if isinstance(norm, torch.nn.RMSNorm):
            eps = norm.eps if norm.eps is not None else float(torch.finfo(torch.float32).eps)
            return cls("rms", _np(norm.weight), None, float(eps))
        if isinstance(norm, torch.nn.LayerNorm):
            return cls("layer", _np(norm.weight), _np(norm.bias), float(norm.eps))
        if isinstance(norm, torch.nn.Identity):
            return cls("none", None, None, 0.0)
        raise TypeError(f"no numpy path for norm {type(norm).__name__}")

    def __call__(self, x: np.ndarray) -> np.ndarray:  # (B, d) -> (B, d)
        if self.kind == "none":
            return x
        inv_d = np.float32(1.0 / x.shape[-1])  # means as sum * (1/d): np.mean costs 4x a sum per call
        if self.kind == "rms":
            return x / np.sqrt(_sum(x * x) * inv_d + self.eps) * self.weight
        centred = x - _sum(x) * inv_d
        var = _sum(centred * centred) * inv_d
        return centred / np.sqrt(var + self.eps) * self.weight + self.bias


@dataclass
class _Linear:
    norm: _Norm | None  # None: the layer has no norm of its own (a LayerNorm precedes it)
    weight_t: np.ndarray  # (in, out): the ternary codes times their scale, or the float weight, transposed
    bias: np.ndarray | None
    bits: int | None  # activation bits (None: no activation quantisation)
    eps: float

    @classmethod
    def of(cls, layer: torch.nn.Module) -> _Linear:
        if isinstance(layer, PackedBitLinear) or (isinstance(layer, BitLinear) and layer.ternary):
            weight = layer.quantized_weight()  # codes in {-1, 0, 1} times their scale: exactly -gamma, 0 or gamma
        elif isinstance(layer, BitLinear):
            weight = layer.weight
        else:
            raise TypeError(f"no numpy path for layer {type(layer).__name__}")
        norm = _Norm.of(layer.norm)
        return cls(None if norm.kind == "none" else norm, _np(weight).T.copy(), _np(layer.bias), layer.act_bits, layer.eps)

    def __call__(self, x: np.ndarray) -> np.ndarray:  # (B, in) -> (B, out)
        if self.norm is not None:
            x = self.norm(x)
        if self.bits is not None:  # absmax fake-quantisation per row, as quantize_activations
            qmax = 2 ** (self.bits - 1) - 1
            scale = qmax / np.maximum(np.abs(x).max(axis=-1, keepdims=True), self.eps)
            x = np.clip(np.round(x * scale), -qmax - 1, qmax) / scale
        y = x @ self.weight_t
        return y if self.bias is None else y + self.bias


@dataclass
class NumpyCache:
    """Keys / values per layer: self-attention buffers (B, H, max_len, dh) with `pos` filled, the
    memory's (B, H, M, dh) and the additive memory mask (B, 1, M): 0 where real, -inf where padded."""

    self_k: list[np.ndarray]
    self_v: list[np.ndarray]
    cross_k: list[np.ndarray]
    cross_v: list[np.ndarray]
    cross_bias: np.ndarray
    pos: int = 0

    def index_select(self, index: torch.Tensor) -> NumpyCache:
        """Rows `index` (beam search: expand or reorder hypotheses); copies, so beams never share rows."""
        return take_rows(self, index)


def take_rows(cache, index):
    """A copy of the dataclass `cache` with rows `index` of each of its arrays (and of each array in its
    lists); other fields kept. Indexing by an index array copies (contiguous), so rows are never shared."""
    idx = np.asarray(index, dtype=np.int64)
    changes = {}
    for f in dataclasses.fields(cache):
        value = getattr(cache, f.name)
        if isinstance(value, list):
            changes[f.name] = [a[idx] for a in value]
        elif isinstance(value, np.ndarray):
            changes[f.name] = value[idx]
    return dataclasses.replace(cache, **changes)


def _sum(x: np.ndarray) -> np.ndarray:
    return np.add.reduce(x, axis=-1, keepdims=True)


def _softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - np.maximum.reduce(scores, axis=-1, keepdims=True))
    return e / _sum(e)


class NumpyDecoder:
    """`init_cache` / `step` of a SashimiDecoder in eval mode, in numpy (module docstring)."""

    def __init__(self, decoder, out_size: int | None = None) -> None:
        """`out_size`: the size of the token table the logits index, when it is larger than the decoder's
        output (a local copy whose table was extended, `sashimi fit-chooser --catalog-dir`): the extra
        tokens get -inf, the decoder never emits them."""
        if decoder.training:
            raise ValueError("NumpyDecoder needs the decoder in eval mode (dropout off)")
        if out_size is not None and out_size < decoder.cfg.vocab_size:
            raise ValueError("out_size must be at least the decoder's vocabulary size")
        self.extra = 0 if out_size is None else out_size - decoder.cfg.vocab_size
        self.decoder = decoder
        self.cfg = decoder.cfg
        self.n_heads = decoder.cfg.n_heads
        self.tok_emb = _np(decoder.tok_emb.weight)
        self.pos_emb = _np(decoder.pos_emb.weight)
        self.blocks = [
            {
                "ln1": _Norm.of(block.ln1),
                "ln2": _Norm.of(block.ln2),
                "ln3": _Norm.of(block.ln3),
                "qkv": _Linear.of(block.self_attn.qkv),
                "sa_proj": _Linear.of(block.self_attn.proj),
                "q": _Linear.of(block.cross_attn.q),
                "ca_proj": _Linear.of(block.cross_attn.proj),
                "fc": _Linear.of(block.mlp.fc),
                "mlp_proj": _Linear.of(block.mlp.proj),
            }
            for block in decoder.blocks
        ]
        self.ln_f = _Norm.of(decoder.ln_f)
        self.lm_head = _Linear.of(decoder.lm_head)
        self.scale = np.float32(1.0 / np.sqrt(self.cfg.d_model // self.n_heads))

    @torch.inference_mode()
    def init_cache(self, memory) -> NumpyCache:
        cache = self.decoder.init_cache(memory)  # the memory's keys / values, once per request (torch)
        b, h = memory.states.shape[0], self.n_heads
        dh = self.cfg.d_model // h
        buffers = lambda: [np.zeros((b, h, self.cfg.max_len, dh), np.float32) for _ in self.blocks]  # noqa: E731
        mask = cache.cross_mask[:, 0].numpy()  # (B, 1, M) bool
        bias = np.where(mask, np.float32(0.0), np.float32(-np.inf)).astype(np.float32)
        return NumpyCache(
            buffers(), buffers(), [_np(k) for k in cache.cross_k], [_np(v) for v in cache.cross_v], bias
        )

    def step(self, memory, token_ids, cache: NumpyCache):
        """token_ids (B,) -> logits (B, V) as a torch tensor (a view of the numpy result) and the cache."""
        t = cache.pos
        if t >= self.cfg.max_len:
            raise ValueError(f"decoding past max_len {self.cfg.max_len}")
        ids = np.asarray(token_ids, dtype=np.int64)
        b, h = len(ids), self.n_heads
        x = self.tok_emb[ids] + self.pos_emb[t]  # (B, d)
        d = x.shape[-1]
        dh = d // h
        for i, p in enumerate(self.blocks):
            # self-attention: this token's query over the cached keys and its own
            qkv = p["qkv"](p["ln1"](x))  # (B, 3d)
            q, k, v = qkv[:, :d], qkv[:, d : 2 * d], qkv[:, 2 * d :]  # each (B, d)
            cache.self_k[i][:, :, t] = k.reshape(b, h, dh)
            cache.self_v[i][:, :, t] = v.reshape(b, h, dh)
            keys, values = cache.self_k[i][:, :, : t + 1], cache.self_v[i][:, :, : t + 1]  # (B, H, t+1, dh)
            att = _softmax((q.reshape(b, h, 1, dh) * self.scale) @ keys.transpose(0, 1, 3, 2))  # (B, H, 1, t+1)
            x = x + p["sa_proj"]((att @ values).reshape(b, d))
            # cross-attention to the memory
            qc = p["q"](p["ln2"](x)).reshape(b, h, 1, dh) * self.scale
            att = _softmax(qc @ cache.cross_k[i].transpose(0, 1, 3, 2) + cache.cross_bias[:, None])  # (B, H, 1, M)
            x = x + p["ca_proj"]((att @ cache.cross_v[i]).reshape(b, d))
            # MLP (GELU through torch: the exact erf form, on a zero-copy view)
            hidden = F.gelu(torch.from_numpy(p["fc"](p["ln3"](x)))).numpy()
            x = x + p["mlp_proj"](hidden)
        logits = self.lm_head(self.ln_f(x))  # (B, V)
        after = NumpyCache(cache.self_k, cache.self_v, cache.cross_k, cache.cross_v, cache.cross_bias, t + 1)
        return logits_out(logits, self.extra), after


def logits_out(logits: np.ndarray, extra: int) -> torch.Tensor:
    """A step's logits (B, V) as a float32 torch tensor, with `extra` tokens of -inf appended (a token
    table extended beyond the decoder's output: the decoder never emits them)."""
    if extra:
        logits = np.concatenate([logits, np.full((len(logits), extra), -np.inf, np.float32)], axis=1)
    return torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float32))
