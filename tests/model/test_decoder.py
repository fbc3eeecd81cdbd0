"""The structural decoder: incremental decoding equals teacher forcing, gradients reach every part."""

from __future__ import annotations

import pytest
import torch

from sashimi.model.decoder import DecoderConfig, SashimiDecoder
from sashimi.train.losses import (
    LossWeighting,
    bag_loss,
    ce_loss,
    margin_loss,
    repair_loss,
    span_mean,
    token_logprobs,
)

from .gen_helpers import tiny_decoder_config

V = 40


def _cfg(**kw) -> DecoderConfig:
    return tiny_decoder_config(**{"vocab_size": V, **kw})


def _inputs(cfg: DecoderConfig, b: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    pooled = torch.randn(b, 384, generator=g)
    states = torch.randn(b, 7, 384, generator=g)
    mask = torch.ones(b, 7, dtype=torch.bool)
    mask[1, 5:] = False
    retrieved = None
    if cfg.retrieval_k:
        retrieved = torch.randint(4, V, (b, cfg.retrieval_k, 6), generator=g)
        retrieved[0, 1, 3:] = 0
    return pooled, states, mask, retrieved


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"weight_regime": "full"},
        {"weight_regime": "partial", "retrieval_k": 2, "retrieval_len": 6},
        {"variational": True, "beta": 0.1, "use_token_states": False},
    ],
)
def test_step_with_cache_equals_forward(kw):
    cfg = _cfg(**kw)
    torch.manual_seed(0)
    model = SashimiDecoder(cfg).eval()
    pooled, states, mask, retrieved = _inputs(cfg)
    ids = torch.randint(4, V, (3, 12), generator=torch.Generator().manual_seed(1))
    ids[:, 0] = 1  # <BOS>
    with torch.no_grad():
        memory = model.encode(pooled, states, mask, retrieved)
        full = model(memory, ids)
        cache = model.init_cache(memory)
        steps = []
        for t in range(ids.shape[1]):
            logits, cache = model.step(memory, ids[:, t], cache)
            steps.append(logits)
    assert cache.pos == ids.shape[1]
    torch.testing.assert_close(torch.stack(steps, 1), full, atol=1e-5, rtol=1e-5)


def test_cache_index_select_reorders_hypotheses():
    """Beam search reorders rows of the memory and cache; each row keeps its own state."""
    cfg = _cfg()
    model = SashimiDecoder(cfg).eval()
    pooled, states, mask, _ = _inputs(cfg)
    with torch.no_grad():
        memory = model.encode(pooled, states, mask)
        cache = model.init_cache(memory)
        _, cache = model.step(memory, torch.tensor([1, 1, 1]), cache)
        _, cache = model.step(memory, torch.tensor([7, 8, 9]), cache)
        order = torch.tensor([2, 0])
        picked, _ = model.step(memory.index_select(order), torch.tensor([5, 6]), cache.index_select(order))
    torch.testing.assert_close(picked[0], _step_single(model, memory, cache, 2, 5), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(picked[1], _step_single(model, memory, cache, 0, 6), atol=1e-6, rtol=1e-6)


def _step_single(model, memory, cache, row, token):
    idx = torch.tensor([row])
    with torch.no_grad():
        out, _ = model.step(memory.index_select(idx), torch.tensor([token]), cache.index_select(idx))
    return out[0]


@pytest.mark.parametrize("regime", ["continuous", "partial", "full"])
def test_gradient_reaches_every_trainable_part(regime):
    cfg = _cfg(weight_regime=regime, retrieval_k=2, retrieval_len=6, variational=True, beta=0.1)
    torch.manual_seed(0)
    model = SashimiDecoder(cfg).train()
    weighting = LossWeighting("adaptive", [1, 0.1, 0.1])
    pooled, states, mask, retrieved = _inputs(cfg)
    targets = torch.randint(4, V, (3, 10), generator=torch.Generator().manual_seed(2))
    inputs = torch.cat([torch.ones(3, 1, dtype=torch.long), targets[:, :-1]], 1)
    neg = targets.clone()
    neg[:, 4] = (neg[:, 4] + 1 - 4) % (V - 4) + 4
    neg_inputs = torch.cat([torch.ones(3, 1, dtype=torch.long), neg[:, :-1]], 1)
    memory = model.encode(pooled, states, mask, retrieved)
    logits = model(memory, inputs)
    div = torch.zeros(3, 10, dtype=torch.bool)
    div[:, 4] = True
    pos_logp = token_logprobs(logits, targets)
    neg_logp = token_logprobs(model(memory, neg_inputs), neg)
    terms = {
        "ce": ce_loss(logits, targets),
        "margin": margin_loss(span_mean(pos_logp, div), span_mean(neg_logp, div), 1.0),
        "repair": repair_loss(pos_logp, div, torch.ones(3)),
    }
    bag = torch.zeros(3, V)
    bag[:, 5] = 1
    total = weighting(terms) + bag_loss(memory.bag_logits, bag) + cfg.beta * memory.kl.mean()
    total.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []
    assert weighting.log_vars.grad is not None and (weighting.log_vars.grad != 0).all()
    counts = model.param_counts()
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    assert (counts["ternary"] > 0) == (regime != "continuous")


def test_regimes_make_the_right_layers_ternary():
    names = {
        r: {n for n, _ in SashimiDecoder(_cfg(weight_regime=r)).ternary_layers()}
        for r in ("continuous", "partial", "full")
    }
    assert names["continuous"] == set()
    assert names["partial"] and all(n.startswith("blocks.") for n in names["partial"])
    assert names["partial"] < names["full"]
    assert {"lm_head", "bag_head", "bridge.intent", "tok_proj"} <= names["full"]


def test_bad_config_is_a_clear_error():
    from sashimi.errors import DataError

    with pytest.raises(DataError, match="weight_regime"):
        _cfg(weight_regime="binary")
    with pytest.raises(DataError, match="divisible"):
        _cfg(d_model=30, n_heads=4)
