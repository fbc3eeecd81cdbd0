"""`FastDecoder.step` (functional replay) gives bit-identical logits and caches to `SashimiDecoder.step`."""

from __future__ import annotations

import pytest
import torch

from sashimi.model.decoder import DecoderConfig, SashimiDecoder
from sashimi.model.fast_step import FastDecoder
from sashimi.model.search import beam_search, greedy
from sashimi.model.ternary import pack_model


def _decoder(regime: str, act_bits, seed: int = 0) -> SashimiDecoder:
    torch.manual_seed(seed)
    cfg = DecoderConfig(
        vocab_size=50,
        d_model=32,
        n_layers=2,
        n_heads=2,
        d_intent=32,
        d_bottleneck=16,
        n_intent=2,
        max_len=24,
        max_enc_tokens=8,
        dropout=0.1,
        weight_regime=regime,
        act_bits=act_bits,
    )
    model = SashimiDecoder(cfg).eval()
    with torch.no_grad():  # spread the weights so that ternary codes are not all zero
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


@pytest.mark.parametrize("regime", ["continuous", "partial", "full"])
@pytest.mark.parametrize("act_bits", [None, 8])
@pytest.mark.parametrize("packed", [False, True])
def test_fast_step_is_bit_identical(regime, act_bits, packed):
    model = _decoder(regime, act_bits)
    if packed:
        model = pack_model(model)
    fast = FastDecoder(model)
    pooled = torch.nn.functional.normalize(torch.randn(2, 384), dim=1)
    states, mask = torch.randn(2, 6, 384), torch.ones(2, 6, dtype=torch.bool)
    mask[1, 4:] = False
    with torch.inference_mode():
        memory = model.encode(pooled, states, mask)
        c1, c2 = model.init_cache(memory), fast.init_cache(memory)
        tokens = torch.tensor([1, 1])
        for _ in range(10):
            l1, c1 = model.step(memory, tokens, c1)
            l2, c2 = fast.step(memory, tokens, c2)
            assert torch.equal(l1, l2)
            assert all(torch.equal(a, b) for a, b in zip(c1.self_k, c2.self_k, strict=True))
            tokens = l1.argmax(-1)


class _AnyConstraint:
    """Every token but the specials allowed; token 9 ends the program (a stand-in for the real mask)."""

    max_len = 20

    def initial(self):
        return ()

    def allowed(self, s):
        import numpy as np

        ok = np.ones(50, bool)
        ok[:4] = False
        if len(s) >= self.max_len - 1:
            ok[:] = False
            ok[9] = True
        return ok

    def advance(self, s, t):
        return (*s, t)

    def is_final(self, s):
        return bool(s) and s[-1] == 9


def test_search_gives_the_same_programs_through_either_path():
    model = _decoder("full", None, seed=3)
    fast = FastDecoder(model)
    pooled = torch.nn.functional.normalize(torch.randn(1, 384), dim=1)
    memory = model.encode(pooled, torch.randn(1, 5, 384), torch.ones(1, 5, dtype=torch.bool))
    con = _AnyConstraint()
    assert greedy(model, memory, con) == greedy(fast, memory, con)
    assert beam_search(model, memory, con, beam=3) == beam_search(fast, memory, con, beam=3)
