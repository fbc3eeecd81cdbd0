"""Ternary linear layers (BitNet b1.58 style) and their 2-bit packed inference form (architecture.md §3).

`BitLinear` is a drop-in for `nn.Linear` (same constructor arguments, same `weight`/`bias` parameters):

    x -> norm(x) -> [8-bit absmax activation quantisation] -> x @ W_t^T * gamma + bias

with gamma = mean|W| (per tensor or per output row) and W_t = clip(round(W / (gamma + eps)), -1, 1). The
latent full-precision weights are what the optimiser updates; the straight-through estimator passes the
gradient of the ternary weights unchanged to them. Norms and biases stay continuous.

`PackedBitLinear` stores W_t at 2 bits per weight (4 per byte) plus gamma and computes exactly the same
function as the training layer in ternary mode: both paths evaluate `F.linear(x, W_t) * gamma + bias`
on bit-identical operands, so a packed model gives the same logits (tested), not just close ones.
"""

from __future__ import annotations

import copy
import fnmatch
import math
from collections.abc import Iterable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

NormKind = Literal["rms", "layer", "none"]
ScaleKind = Literal["tensor", "row"]


# --------------------------------------------------------------------------------------------------
# quantisers


def absmean_scale(weight: torch.Tensor, per: ScaleKind = "tensor", eps: float = 1e-5) -> torch.Tensor:
    """gamma = mean|W| (a scalar tensor, or one value per output row with shape (out,)); never below eps."""
    w = weight.detach().abs()
    gamma = w.mean() if per == "tensor" else w.mean(dim=1)
    return gamma.clamp(min=eps)


def per_row(gamma: torch.Tensor) -> torch.Tensor:
    """gamma shaped to multiply an (out, in) weight: a scalar as it is, one value per output row as (out, 1)."""
    return gamma if gamma.dim() == 0 else gamma.unsqueeze(1)


def ternary_codes(weight: torch.Tensor, gamma: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """W_t = clip(round(W / (gamma + eps)), -1, 1) as a float tensor with values exactly in {-1, 0, +1}."""
    g = per_row(gamma)
    return torch.clamp(torch.round(weight.detach() / (g + eps)), -1.0, 1.0)


def quantize_activations(x: torch.Tensor, bits: int = 8, eps: float = 1e-5) -> torch.Tensor:
    """Absmax fake-quantisation per token (last dimension), with a straight-through gradient."""
    qmax = 2 ** (bits - 1) - 1
    scale = qmax / x.detach().abs().amax(dim=-1, keepdim=True).clamp(min=eps)
    xq = torch.clamp(torch.round(x.detach() * scale), -qmax - 1, qmax) / scale
    # value of xq, gradient of x (exactly xq in the forward pass: x - x is 0.0 in floating point)
    return xq + (x - x.detach())


def _make_norm(kind: NormKind, features: int, device=None, dtype=None) -> nn.Module:
    if kind == "rms":
        return nn.RMSNorm(features, eps=1e-6, device=device, dtype=dtype)
    if kind == "layer":
        return nn.LayerNorm(features, device=device, dtype=dtype)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r} (expected 'rms', 'layer' or 'none')")


# --------------------------------------------------------------------------------------------------
# training layer


class BitLinear(nn.Linear):
    """`nn.Linear` with ternary weights in the forward pass (when `ternary` is True).

    Extra keyword-only options: `norm` ("rms" | "layer" | "none": the norm applied to the input first),
    `scale` ("tensor" | "row": granularity of gamma), `act_bits` (None or e.g. 8: absmax activation
    quantisation), `ternary` (the regime switch; False = an ordinary linear layer after the norm), `eps`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        norm: NormKind = "rms",
        scale: ScaleKind = "tensor",
        act_bits: int | None = None,
        ternary: bool = True,
        eps: float = 1e-5,
    ) -> None:
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        if scale not in ("tensor", "row"):
            raise ValueError(f"unknown scale {scale!r} (expected 'tensor' or 'row')")
        if act_bits is not None and not 2 <= act_bits <= 16:
            raise ValueError(f"act_bits must be None or in 2..16, got {act_bits}")
        self.norm = _make_norm(norm, in_features, device, dtype)
        self.norm_kind = norm
        self.scale = scale
        self.act_bits = act_bits
        self.ternary = ternary
        self.eps = eps

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, norm={self.norm_kind}, scale={self.scale}, "
            f"act_bits={self.act_bits}, ternary={self.ternary}"
        )

    def gamma(self) -> torch.Tensor:
        return absmean_scale(self.weight, self.scale, self.eps)

    def quantized_weight(self) -> torch.Tensor:
        """The effective weight of the ternary forward pass, W_t * gamma (values in {-1, 0, +1} * gamma)."""
        gamma = self.gamma()
        codes = ternary_codes(self.weight, gamma, self.eps)
        return codes * per_row(gamma)

    def _prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        if self.act_bits is not None:
            x = quantize_activations(x, self.act_bits, self.eps)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._prepare_input(x)
        if not self.ternary:
            return F.linear(x, self.weight, self.bias)
        gamma = self.gamma()  # detached: the STE treats the scale as a constant, as in BitNet
        g = per_row(gamma)
        latent = self.weight / (g + self.eps)
        codes = ternary_codes(self.weight, gamma, self.eps)
        # straight-through: forward value is exactly `codes`, gradient w.r.t. the latent weight is 1/(g+eps)
        w_t = codes + (latent - latent.detach())
        return _ternary_matmul(x, w_t, gamma, self.bias)


def _ternary_matmul(
    x: torch.Tensor, codes: torch.Tensor, gamma: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """The one formula both the training and the packed path use, so their outputs are bit-identical."""
    y = F.linear(x, codes) * gamma
    return y + bias if bias is not None else y


# --------------------------------------------------------------------------------------------------
# 2-bit packing


def pack_ternary(codes: torch.Tensor) -> torch.Tensor:
    """Pack values in {-1, 0, +1} at 2 bits each, 4 per byte (little end first), into a flat uint8 tensor.

    Code = value + 1 (so 0b00 = -1, 0b01 = 0, 0b10 = +1). A tail not divisible by 4 is padded with zeros
    (code 0b01); `unpack_ternary` needs the original shape to drop it.
    """
    flat = codes.detach().reshape(-1).to(torch.int16)
    if flat.numel() and (flat.min() < -1 or flat.max() > 1):
        raise ValueError("pack_ternary expects values in {-1, 0, +1}")
    u = (flat + 1).to(torch.uint8)
    pad = (-u.numel()) % 4
    if pad:
        u = torch.cat([u, torch.ones(pad, dtype=torch.uint8)])
    u = u.view(-1, 4)
    return u[:, 0] | (u[:, 1] << 2) | (u[:, 2] << 4) | (u[:, 3] << 6)


def unpack_ternary(
    packed: torch.Tensor, shape: Iterable[int], dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Inverse of `pack_ternary`: a tensor of the given shape with values in {-1, 0, +1}."""
    shape = tuple(int(s) for s in shape)
    n = math.prod(shape)
    if packed.dtype != torch.uint8 or packed.dim() != 1 or packed.numel() != (n + 3) // 4:
        raise ValueError(f"packed buffer does not fit shape {shape}")
    parts = torch.stack([(packed >> s) & 0b11 for s in (0, 2, 4, 6)], dim=1).reshape(-1)[:n]
    if n and parts.max() > 2:
        raise ValueError("packed buffer holds an invalid 2-bit code (0b11)")
    return (parts.to(torch.int8) - 1).to(dtype).reshape(shape)


class PackedBitLinear(nn.Module):
    """Inference form of a ternary `BitLinear`: 2-bit codes + gamma in buffers (saved in the state dict).

    The codes are unpacked to a float {-1, 0, +1} matrix on first use and kept (not saved): torch has no
    2-bit kernel on CPU, so packing is the storage and transfer format while the arithmetic is unchanged.
    """

    def __init__(self, layer: BitLinear) -> None:
        super().__init__()
        gamma = layer.gamma().detach().clone()
        codes = ternary_codes(layer.weight, gamma, layer.eps)
        self.in_features = layer.in_features
        self.out_features = layer.out_features
        self.register_buffer("packed", pack_ternary(codes))
        self.register_buffer("gamma", gamma)
        self.bias = (
            None if layer.bias is None else nn.Parameter(layer.bias.detach().clone(), requires_grad=False)
        )
        self.norm = copy.deepcopy(layer.norm)
        self.act_bits = layer.act_bits
        self.eps = layer.eps
        self._codes: torch.Tensor | None = None

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, act_bits={self.act_bits}"

    def codes(self) -> torch.Tensor:
        if self._codes is None:
            self._codes = unpack_ternary(self.packed, (self.out_features, self.in_features), self.gamma.dtype)
        return self._codes

    def _load_from_state_dict(self, *args, **kwargs):  # new codes: drop the unpacked cache
        self._codes = None
        return super()._load_from_state_dict(*args, **kwargs)

    def quantized_weight(self) -> torch.Tensor:
        """The effective weight W_t * gamma, as `BitLinear.quantized_weight` gives it before packing."""
        return self.codes() * per_row(self.gamma)

    def packed_bytes(self) -> int:
        """Bytes of the 2-bit weights plus the scale (what ships); bias and norm are counted separately."""
        return self.packed.numel() + self.gamma.numel() * self.gamma.element_size()

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        if self.act_bits is not None:
            x = quantize_activations(x, self.act_bits, self.eps)
        return _ternary_matmul(x, self.codes(), self.gamma, self.bias)


# --------------------------------------------------------------------------------------------------
# whole-model helpers


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def ternarize(model: nn.Module, patterns: Iterable[str] = ("*",), **bitlinear_kwargs) -> list[str]:
    """Replace, in place, every `nn.Linear` whose qualified name matches a glob pattern by a `BitLinear`
    with the same weights and bias (keyword options such as norm/scale/act_bits are passed through).

    Returns the replaced names. Embeddings, norms and anything that is not an `nn.Linear` are left alone.
    Note that a norm other than "none" changes the function of a pretrained layer; use norm="none" to
    keep a converted model identical in the continuous regime.
    """
    patterns = tuple(patterns)
    targets = [
        (name, mod)
        for name, mod in model.named_modules()
        if type(mod) is nn.Linear and name and _matches(name, patterns)
    ]
    for name, lin in targets:
        bit = BitLinear(
            lin.in_features,
            lin.out_features,
            bias=lin.bias is not None,
            device=lin.weight.device,
            dtype=lin.weight.dtype,
            **bitlinear_kwargs,
        )
        with torch.no_grad():
            bit.weight.copy_(lin.weight)
            if lin.bias is not None:
                bit.bias.copy_(lin.bias)
        bit.train(lin.training)
        _set_submodule(model, name, bit)
    return [name for name, _ in targets]


def set_ternary(model: nn.Module, enabled: bool) -> int:
    """The regime switch: turn ternary weights on/off in every BitLinear; returns how many were set."""
    count = 0
    for mod in model.modules():
        if isinstance(mod, BitLinear):
            mod.ternary = enabled
            count += 1
    return count


def ternary_shares(model: nn.Module) -> dict[str, dict[str, float]]:
    """Share of -1 / 0 / +1 in each ternary layer's weights, plus the mean gamma (for reports)."""
    out: dict[str, dict[str, float]] = {}
    for name, mod in model.named_modules():
        if isinstance(mod, BitLinear):
            gamma = mod.gamma()
            codes = ternary_codes(mod.weight, gamma, mod.eps)
        elif isinstance(mod, PackedBitLinear):
            gamma, codes = mod.gamma, mod.codes()
        else:
            continue
        n = codes.numel()
        out[name] = {
            "neg": float((codes == -1).sum()) / n,
            "zero": float((codes == 0).sum()) / n,
            "pos": float((codes == 1).sum()) / n,
            "gamma_mean": float(gamma.float().mean()),
        }
    return out


def pack_model(model: nn.Module) -> nn.Module:
    """A deep copy of `model` in eval mode with every ternary-mode BitLinear replaced by a PackedBitLinear."""
    packed = copy.deepcopy(model).eval()
    names = [n for n, m in packed.named_modules() if isinstance(m, BitLinear) and m.ternary]
    for name in names:
        _set_submodule(packed, name, PackedBitLinear(packed.get_submodule(name)))
    return packed


def packed_size_bytes(model: nn.Module) -> dict[str, int]:
    """Bytes of a packed model: 2-bit ternary weights + scales, and everything else (float tensors)."""
    ternary = sum(m.packed_bytes() for m in model.modules() if isinstance(m, PackedBitLinear))
    skip = {id(t) for m in model.modules() if isinstance(m, PackedBitLinear) for t in (m.packed, m.gamma)}
    other = sum(
        t.numel() * t.element_size()
        for t in list(model.parameters()) + list(model.buffers())
        if id(t) not in skip
    )
    return {"ternary_bytes": ternary, "other_bytes": other, "total_bytes": ternary + other}
