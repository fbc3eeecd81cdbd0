"""`OnnxDecoder.step` (the generator's default decoding path) agrees with `NumpyDecoder.step` and the
module's `step` to float32 rounding and gives the same programs, for every weight regime it covers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sashimi.errors import DataError
from sashimi.model.numpy_step import NumpyDecoder
from sashimi.model.onnx_step import OnnxDecoder, decoder_stepper, supported
from sashimi.model.search import beam_search, greedy, greedy_batch
from sashimi.model.ternary import pack_model

from .test_numpy_step import _AnyConstraint, _decoder


def _memory(model, rows: int = 2, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    pooled = torch.nn.functional.normalize(torch.randn(rows, 384, generator=gen), dim=1)
    states, mask = torch.randn(rows, 6, 384, generator=gen), torch.ones(rows, 6, dtype=torch.bool)
    mask[-1, 4:] = False  # a padded memory row: the mask must hide those positions
    with torch.inference_mode():
        return model.encode(pooled, states, mask)


@pytest.mark.parametrize("regime", ["continuous", "partial", "full"])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("scale", ["tensor", "row"])
def test_onnx_step_agrees_with_numpy_and_the_module(regime, packed, scale):
    model = _decoder(regime, None, scale=scale)
    if packed:
        model = pack_model(model)
    slow, fast = NumpyDecoder(model), OnnxDecoder(NumpyDecoder(model))
    memory = _memory(model)
    with torch.inference_mode():
        c0, c1, c2 = model.init_cache(memory), slow.init_cache(memory), fast.init_cache(memory)
        tokens = torch.tensor([1, 1])
        for _ in range(12):
            l0, c0 = model.step(memory, tokens, c0)
            l1, c1 = slow.step(memory, tokens, c1)
            l2, c2 = fast.step(memory, tokens, c2)
            assert l2.shape == l1.shape and l2.dtype == torch.float32
            np.testing.assert_allclose(l2.numpy(), l1.numpy(), rtol=0, atol=1e-4)
            np.testing.assert_allclose(l2.numpy(), l0.numpy(), rtol=0, atol=1e-4)
            tokens = l1.argmax(-1)


def test_activation_quantisation_keeps_the_numpy_step():
    model = _decoder("full", 8)
    stepper = NumpyDecoder(model)
    assert not supported(stepper)
    with pytest.raises(ValueError, match="activation quantisation"):
        OnnxDecoder(stepper)
    assert isinstance(decoder_stepper(model), NumpyDecoder)
    assert isinstance(decoder_stepper(_decoder("full", None)), OnnxDecoder)


def test_backend_from_the_environment_and_a_clear_error(monkeypatch):
    model = _decoder("full", None)
    monkeypatch.setenv("SASHIMI_DECODER_BACKEND", "numpy")
    assert isinstance(decoder_stepper(model), NumpyDecoder)
    with pytest.raises(DataError, match="unknown decoder backend 'cuda'"):
        decoder_stepper(model, backend="cuda")


def test_a_step_leaves_the_given_cache_valid_and_rows_can_leave():
    model = _decoder("full", None, seed=1)
    fast = OnnxDecoder(NumpyDecoder(model))
    memory = _memory(model, rows=3, seed=1)
    cache = fast.init_cache(memory)
    _, cache = fast.step(memory, torch.tensor([1, 1, 1]), cache)
    a, after_a = fast.step(memory, torch.tensor([7, 8, 9]), cache)
    b, after_b = fast.step(memory, torch.tensor([7, 8, 9]), cache)
    assert torch.equal(a, b) and after_a.pos == after_b.pos == 2 and cache.pos == 1
    # rows 0 and 2 go on (row 1 finished): their logits are what they were with row 1 present
    kept = cache.index_select(torch.tensor([0, 2]))
    c, _ = fast.step(memory, torch.tensor([7, 9]), kept)
    np.testing.assert_allclose(c.numpy(), a.numpy()[[0, 2]], rtol=0, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_search_gives_the_same_programs_as_the_numpy_step(seed):
    model = _decoder("full", None, seed=seed)
    slow, fast = NumpyDecoder(model), OnnxDecoder(NumpyDecoder(model))
    memory = _memory(model, rows=1, seed=seed)
    con = _AnyConstraint()
    a, b = greedy(slow, memory, con), greedy(fast, memory, con)
    assert a.token_ids == b.token_ids and a.score == pytest.approx(b.score, abs=1e-4)
    a, b = beam_search(slow, memory, con, beam=3), beam_search(fast, memory, con, beam=3)
    assert a.token_ids == b.token_ids and a.score == pytest.approx(b.score, abs=1e-4)
    batch = _memory(model, rows=4, seed=seed)
    a, b = greedy_batch(slow, batch, con), greedy_batch(fast, batch, con)
    assert [r.token_ids for r in a] == [r.token_ids for r in b]


def test_logits_are_padded_to_an_extended_token_table():
    model = _decoder("full", None, seed=2)
    fast = decoder_stepper(model, out_size=model.cfg.vocab_size + 7)
    assert isinstance(fast, OnnxDecoder)
    memory = _memory(model, rows=1)
    logits, _ = fast.step(memory, torch.tensor([1]), fast.init_cache(memory))
    assert logits.shape == (1, model.cfg.vocab_size + 7)
    assert torch.isinf(logits[0, -7:]).all() and torch.isfinite(logits[0, : model.cfg.vocab_size]).all()


def test_the_shipped_generator_decodes_through_onnxruntime(shipped_generator):
    assert isinstance(shipped_generator.stepper, OnnxDecoder)  # what `generate` and `serve` run
