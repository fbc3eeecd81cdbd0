"""`NumpyDecoder.step` (the generator's decoding path) agrees with `SashimiDecoder.step` to float32
rounding and gives the same programs, for every weight regime, packed and unpacked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sashimi.model.decoder import SashimiDecoder
from sashimi.model.numpy_step import NumpyDecoder
from sashimi.model.search import beam_search, greedy
from sashimi.model.ternary import pack_model

from .gen_helpers import tiny_decoder_config


def _decoder(regime: str, act_bits, seed: int = 0, scale: str = "tensor") -> SashimiDecoder:
    torch.manual_seed(seed)
    cfg = tiny_decoder_config(
        vocab_size=50, max_enc_tokens=8, dropout=0.1, weight_regime=regime, act_bits=act_bits, ternary_scale=scale
    )
    model = SashimiDecoder(cfg).eval()
    with torch.no_grad():  # spread the weights so that ternary codes are not all zero
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


@pytest.mark.parametrize("regime", ["continuous", "partial", "full"])
@pytest.mark.parametrize("act_bits", [None, 8])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("scale", ["tensor", "row"])  # row: one gamma per output row of each ternary layer
def test_numpy_step_agrees_with_the_module(regime, act_bits, packed, scale):
    model = _decoder(regime, act_bits, scale=scale)
    if packed:
        model = pack_model(model)
    fast = NumpyDecoder(model)
    pooled = torch.nn.functional.normalize(torch.randn(2, 384), dim=1)
    states, mask = torch.randn(2, 6, 384), torch.ones(2, 6, dtype=torch.bool)
    mask[1, 4:] = False  # a padded memory row: the mask must hide those positions
    with torch.inference_mode():
        memory = model.encode(pooled, states, mask)
        c1, c2 = model.init_cache(memory), fast.init_cache(memory)
        tokens = torch.tensor([1, 1])
        for _ in range(12):
            l1, c1 = model.step(memory, tokens, c1)
            l2, c2 = fast.step(memory, tokens, c2)
            assert l2.shape == l1.shape and l2.dtype == torch.float32
            np.testing.assert_allclose(l2.numpy(), l1.numpy(), rtol=0, atol=1e-4)
            tokens = l1.argmax(-1)


def test_numpy_step_leaves_the_given_cache_valid():
    """A step writes its own position only: stepping twice from one cache gives the same logits."""
    model = _decoder("full", None, seed=1)
    fast = NumpyDecoder(model)
    pooled = torch.nn.functional.normalize(torch.randn(1, 384), dim=1)
    memory = model.encode(pooled, torch.randn(1, 5, 384), torch.ones(1, 5, dtype=torch.bool))
    cache = fast.init_cache(memory)
    _, cache = fast.step(memory, torch.tensor([1]), cache)
    a, after_a = fast.step(memory, torch.tensor([7]), cache)
    b, after_b = fast.step(memory, torch.tensor([7]), cache)
    assert torch.equal(a, b) and after_a.pos == after_b.pos == 2 and cache.pos == 1


class _AnyConstraint:
    """Every token but the specials allowed; token 9 ends the program (a stand-in for the real mask)."""

    max_len = 20

    def initial(self):
        return ()

    def allowed(self, s):
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


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_search_gives_the_same_programs_through_either_path(seed):
    model = _decoder("full", None, seed=seed)
    fast = NumpyDecoder(model)
    pooled = torch.nn.functional.normalize(torch.randn(1, 384), dim=1)
    memory = model.encode(pooled, torch.randn(1, 5, 384), torch.ones(1, 5, dtype=torch.bool))
    con = _AnyConstraint()
    a, b = greedy(model, memory, con), greedy(fast, memory, con)
    assert a.token_ids == b.token_ids and a.score == pytest.approx(b.score, abs=1e-4)
    a, b = beam_search(model, memory, con, beam=3), beam_search(fast, memory, con, beam=3)
    assert a.token_ids == b.token_ids and a.score == pytest.approx(b.score, abs=1e-4)


def test_shipped_model_programs_equal_the_module_path(shipped_generator):
    """On varied requests, the shipped model decodes the same Tier 1+2 tokens through numpy as
    through `SashimiDecoder.step` (the training code's path)."""
    gen = shipped_generator
    prompts = [
        "set a timer for 10 minutes",
        "log 500 ml of water in Health",
        "show a menu to call mom or text dad",
        "for each file in my Downloads folder, show its name",
        "get the contents of https://example.com and show them",
        "ask me for a number and repeat a beep that many times",
        "if the battery is below 20 percent turn on low power mode",
        "translate the clipboard to Spanish and speak it",
    ]
    for prompt in prompts:
        pooled, states = gen.encoder.encode([prompt])
        memory = gen.model.memory(pooled, states, None)
        for beam in (1, 3):
            a = greedy(gen.model.decoder, memory, gen.search_constraint) if beam == 1 else beam_search(
                gen.model.decoder, memory, gen.search_constraint, beam=beam
            )
            b = greedy(gen.stepper, memory, gen.search_constraint) if beam == 1 else beam_search(
                gen.stepper, memory, gen.search_constraint, beam=beam
            )
            assert a.token_ids == b.token_ids, (prompt, beam)


def test_logits_are_padded_to_an_extended_token_table():
    model = _decoder("full", None, seed=2)
    fast = NumpyDecoder(model, out_size=model.cfg.vocab_size + 7)
    pooled = torch.nn.functional.normalize(torch.randn(1, 384), dim=1)
    memory = model.encode(pooled, torch.randn(1, 5, 384), torch.ones(1, 5, dtype=torch.bool))
    logits, _ = fast.step(memory, torch.tensor([1]), fast.init_cache(memory))
    assert logits.shape == (1, model.cfg.vocab_size + 7)
    assert torch.isinf(logits[0, -7:]).all() and torch.isfinite(logits[0, : model.cfg.vocab_size]).all()
    with pytest.raises(ValueError):
        NumpyDecoder(model, out_size=model.cfg.vocab_size - 1)
