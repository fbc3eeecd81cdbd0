"""`SashimiDecoder.step` for inference without `nn.Module` dispatch: the same ops in the same order.

A decoder step at batch 1 is ~40 tiny matrix products; on a CPU a good part of its time went to
PyTorch's module machinery (`__call__` hooks, `__getattr__`, the `no_grad` decorator of every packed
layer) rather than arithmetic. `FastDecoder` reads the weights out once and replays `decoder.step` as
plain functional calls. Every call is the one the module would make (`F.rms_norm`, `F.linear`,
`F.scaled_dot_product_attention`, `F.layer_norm`, `F.gelu`) on the same tensors, so logits are
bit-identical to `decoder.step` (tested for every weight regime, packed and unpacked): the programs a
user gets do not depend on which path ran.

Ternary layers: a `PackedBitLinear` contributes its unpacked codes and gamma; a training `BitLinear` in
ternary mode contributes the codes and gamma its forward pass would compute (its straight-through term
`latent - latent.detach()` is exactly zero in inference), computed once here instead of every call.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from sashimi.model.decoder import Cache, merge_heads, split_heads
from sashimi.model.ternary import BitLinear, PackedBitLinear, quantize_activations, ternary_codes


def _norm_fn(norm: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    if isinstance(norm, torch.nn.RMSNorm):
        shape, weight, eps = tuple(norm.normalized_shape), norm.weight, norm.eps
        return lambda x: F.rms_norm(x, shape, weight, eps)
    if isinstance(norm, torch.nn.LayerNorm):
        shape, weight, bias, eps = tuple(norm.normalized_shape), norm.weight, norm.bias, norm.eps
        return lambda x: F.layer_norm(x, shape, weight, bias, eps)
    if isinstance(norm, torch.nn.Identity):
        return lambda x: x
    raise TypeError(f"no fast path for norm {type(norm).__name__}")


def linear_fn(layer: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function computing exactly `layer(x)` for a BitLinear / PackedBitLinear in eval mode."""
    if isinstance(layer, PackedBitLinear):
        codes, gamma, bias, eps, bits = layer.codes(), layer.gamma, layer.bias, layer.eps, layer.act_bits
        ternary = True
    elif isinstance(layer, BitLinear):
        bias, eps, bits, ternary = layer.bias, layer.eps, layer.act_bits, layer.ternary
        if ternary:
            gamma = layer.gamma().detach()
            codes = ternary_codes(layer.weight, gamma, eps)
        else:
            weight = layer.weight.detach()
    else:
        raise TypeError(f"no fast path for layer {type(layer).__name__}")
    norm = _norm_fn(layer.norm)
    if ternary:
        if bias is not None:
            return lambda x: F.linear(_prep(norm, x, bits, eps), codes) * gamma + bias
        return lambda x: F.linear(_prep(norm, x, bits, eps), codes) * gamma
    return lambda x: F.linear(_prep(norm, x, bits, eps), weight, bias)


def _prep(norm, x: torch.Tensor, bits: int | None, eps: float) -> torch.Tensor:
    x = norm(x)
    return quantize_activations(x, bits, eps) if bits is not None else x


class FastDecoder:
    """`init_cache` / `step` of a SashimiDecoder in eval mode, as plain functional calls."""

    def __init__(self, decoder) -> None:
        if decoder.training:
            raise ValueError("FastDecoder needs the decoder in eval mode (dropout off)")
        self.decoder = decoder
        self.cfg = decoder.cfg
        self.n_heads = decoder.cfg.n_heads
        self.tok_emb = decoder.tok_emb.weight.detach()
        self.pos_emb = decoder.pos_emb.weight.detach()
        self.blocks = []
        for block in decoder.blocks:
            self.blocks.append(
                {
                    "ln1": _norm_fn(block.ln1),
                    "ln2": _norm_fn(block.ln2),
                    "ln3": _norm_fn(block.ln3),
                    "qkv": linear_fn(block.self_attn.qkv),
                    "sa_proj": linear_fn(block.self_attn.proj),
                    "q": linear_fn(block.cross_attn.q),
                    "ca_proj": linear_fn(block.cross_attn.proj),
                    "fc": linear_fn(block.mlp.fc),
                    "mlp_proj": linear_fn(block.mlp.proj),
                }
            )
        self.ln_f = _norm_fn(decoder.ln_f)
        self.lm_head = linear_fn(decoder.lm_head)

    def init_cache(self, memory):
        return self.decoder.init_cache(memory)

    @torch.inference_mode()
    def step(self, memory, token_ids: torch.Tensor, cache):
        if cache.pos >= self.cfg.max_len:
            raise ValueError(f"decoding past max_len {self.cfg.max_len}")
        h = self.n_heads
        pos = torch.full((1,), cache.pos, device=token_ids.device, dtype=torch.long)
        x = F.embedding(token_ids[:, None], self.tok_emb) + F.embedding(pos, self.pos_emb)  # (B, 1, d)
        new_k, new_v = [], []
        for i, p in enumerate(self.blocks):
            # self-attention over the cache + this token
            q, k, v = p["qkv"](p["ln1"](x)).chunk(3, dim=-1)
            q, k, v = split_heads(q, h), split_heads(k, h), split_heads(v, h)
            k = torch.cat([cache.self_k[i], k], dim=2)
            v = torch.cat([cache.self_v[i], v], dim=2)
            x = x + p["sa_proj"](merge_heads(F.scaled_dot_product_attention(q, k, v)))
            # cross-attention to the memory
            qc = split_heads(p["q"](p["ln2"](x)), h)
            y = F.scaled_dot_product_attention(
                qc, cache.cross_k[i], cache.cross_v[i], attn_mask=cache.cross_mask, dropout_p=0.0
            )
            x = x + p["ca_proj"](merge_heads(y))
            x = x + p["mlp_proj"](F.gelu(p["fc"](p["ln3"](x))))
            new_k.append(k)
            new_v.append(v)
        logits = self.lm_head(self.ln_f(x))[:, 0]  # (B, V)
        return logits, Cache(new_k, new_v, cache.cross_k, cache.cross_v, cache.cross_mask, cache.pos + 1)
