"""BitLinear, the STE, the regime switch, 2-bit packing and the packed inference path."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from sashimi.model.ternary import (
    BitLinear,
    PackedBitLinear,
    absmean_scale,
    pack_model,
    pack_ternary,
    packed_size_bytes,
    quantize_activations,
    set_ternary,
    ternarize,
    ternary_shares,
    unpack_ternary,
)


@pytest.mark.parametrize("scale", ["tensor", "row"])
def test_quantized_weights_are_ternary_times_gamma(scale):
    torch.manual_seed(0)
    layer = BitLinear(37, 11, scale=scale)
    wq = layer.quantized_weight()
    gamma = absmean_scale(layer.weight, scale)
    g = gamma if gamma.dim() == 0 else gamma.unsqueeze(1)
    codes = wq / g
    assert torch.all((codes == -1) | (codes == 0) | (codes == 1))
    # all three values are used at init (a degenerate quantiser would give all zeros or all signs)
    assert set(codes.unique().tolist()) == {-1.0, 0.0, 1.0}
    if scale == "row":
        assert gamma.shape == (11,)
        assert torch.allclose(gamma, layer.weight.abs().mean(dim=1))


def test_forward_matches_explicit_formula():
    torch.manual_seed(1)
    layer = BitLinear(16, 8, norm="none", scale="row")
    x = torch.randn(5, 16)
    expected = x @ layer.quantized_weight().T + layer.bias
    assert torch.allclose(layer(x), expected, atol=1e-5)
    set_ternary(layer, False)
    assert torch.allclose(layer(x), x @ layer.weight.T + layer.bias, atol=1e-6)


def test_gradients_reach_latent_weights_through_ste():
    torch.manual_seed(2)
    layer = BitLinear(12, 6, act_bits=8)
    x = torch.randn(4, 12, requires_grad=True)
    layer(x).pow(2).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert layer.norm.weight.grad is not None


def test_training_moves_a_ternary_layer_towards_the_target():
    torch.manual_seed(3)
    target = nn.Linear(8, 4)
    layer = BitLinear(8, 4, norm="none")
    opt = torch.optim.Adam(layer.parameters(), lr=1e-2)
    x = torch.randn(256, 8)
    y = target(x).detach()
    first = None
    for _ in range(200):
        loss = (layer(x) - y).pow(2).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


@pytest.mark.parametrize("scale", ["tensor", "row"])
def test_output_scale_at_init_is_comparable_to_linear(scale):
    torch.manual_seed(4)
    lin = nn.Linear(256, 128)
    bit = BitLinear(256, 128, norm="rms", scale=scale)
    with torch.no_grad():
        bit.weight.copy_(lin.weight)
        bit.bias.copy_(lin.bias)
    x = torch.randn(512, 256)  # unit variance, so the RMSNorm is near identity
    ratio = (bit(x).std() / lin(x).std()).item()
    assert 0.6 < ratio < 1.4, ratio
    # no saturation: outputs are not collapsed onto a few values
    assert bit(x).unique().numel() > 1000


def test_activation_quantization_has_256_levels_and_passes_gradient():
    x = torch.randn(3, 1000, requires_grad=True)
    xq = quantize_activations(x, bits=8)
    for row in xq.detach():
        assert row.unique().numel() <= 256
    assert torch.allclose(xq, x, atol=x.abs().max().item() / 127)
    xq.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-1, 1), min_size=0, max_size=41), st.integers(1, 3))
def test_pack_unpack_identity(values, rows):
    t = torch.tensor(values * rows, dtype=torch.float32).reshape(rows, len(values))
    packed = pack_ternary(t)
    assert packed.dtype == torch.uint8 and packed.numel() == (t.numel() + 3) // 4
    assert torch.equal(unpack_ternary(packed, t.shape), t)


def test_pack_rejects_non_ternary_and_bad_buffers():
    with pytest.raises(ValueError):
        pack_ternary(torch.tensor([0.0, 2.0]))
    with pytest.raises(ValueError):
        unpack_ternary(torch.zeros(3, dtype=torch.uint8), (4, 4))
    with pytest.raises(ValueError):
        unpack_ternary(torch.full((1,), 0xFF, dtype=torch.uint8), (4,))


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 16)
        self.block = nn.Sequential(nn.Linear(16, 33), nn.GELU(), nn.Linear(33, 16))
        self.head = nn.Linear(16, 7)

    def forward(self, ids):
        h = self.emb(ids)
        return self.head(h + self.block(h))


@pytest.mark.parametrize("act_bits", [None, 8])
def test_packed_model_gives_the_same_logits(act_bits):
    torch.manual_seed(5)
    model = _Tiny()
    replaced = ternarize(model, ["block.*", "head"], scale="row", act_bits=act_bits)
    assert replaced == ["block.0", "block.2", "head"]
    assert isinstance(model.emb, nn.Embedding)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)  # a few steps so weights are not at init
    ids = torch.randint(0, 20, (8, 5))
    for _ in range(3):
        opt.zero_grad()
        model(ids).logsumexp(-1).mean().backward()
        opt.step()
    model.eval()
    packed = pack_model(model)
    assert sum(isinstance(m, PackedBitLinear) for m in packed.modules()) == 3
    with torch.no_grad():
        assert torch.equal(model(ids), packed(ids))
    # the packed state dict round-trips through a fresh copy
    again = pack_model(model)
    again.load_state_dict(packed.state_dict())
    with torch.no_grad():
        assert torch.equal(again(ids), packed(ids))
    sizes = packed_size_bytes(packed)
    n_weights = 16 * 33 + 33 * 16 + 16 * 7
    assert sizes["ternary_bytes"] < n_weights  # < 1 byte per weight (2 bits + scales)


def test_ternarize_with_no_norm_keeps_the_continuous_function():
    torch.manual_seed(6)
    model = _Tiny()
    ids = torch.randint(0, 20, (4, 3))
    before = model(ids)
    ternarize(model, ["*"], norm="none")
    set_ternary(model, False)
    assert torch.allclose(model(ids), before, atol=1e-6)
    set_ternary(model, True)
    assert not torch.allclose(model(ids), before, atol=1e-3)


def test_ternary_shares_sum_to_one():
    torch.manual_seed(7)
    model = _Tiny()
    ternarize(model, ["head"])
    shares = ternary_shares(model)
    assert list(shares) == ["head"]
    s = shares["head"]
    assert abs(s["neg"] + s["zero"] + s["pos"] - 1) < 1e-9
    assert 0.1 < s["zero"] < 0.6
    assert ternary_shares(pack_model(model))["head"] == s


def test_bad_options_raise():
    with pytest.raises(ValueError):
        BitLinear(4, 4, norm="batch")
    with pytest.raises(ValueError):
        BitLinear(4, 4, scale="column")
