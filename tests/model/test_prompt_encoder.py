"""Trainable prompt encoders (model.encoder finetune | scratch): fine-tune start = frozen features, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sashimi.errors import DataError
from sashimi.model.decoder import DecoderConfig, SashimiDecoder
from sashimi.model.prompt_encoder import (
    MiniLMTop,
    ScratchEncoder,
    pad_encoder_inputs,
    prompt_inputs,
    wordpiece_ids,
)

TEXTS = [
    "Set a timer for 10 minutes",
    "hi",
    "Every weekday at 7am get the weather forecast and tell me whether I need an umbrella today",
]


@pytest.fixture(scope="module")
def minilm():
    from sashimi.model.minilm import MiniLM

    return MiniLM()


def _cfg(**kw) -> DecoderConfig:
    base = dict(
        vocab_size=40, d_model=32, n_layers=1, n_heads=2, d_intent=32, d_bottleneck=16, n_intent=2, max_len=16,
        max_enc_tokens=8, dropout=0.0,
    )  # fmt: skip
    return DecoderConfig(**{**base, **kw})


@pytest.mark.parametrize("layers", [0, 1, 2])
def test_finetune_start_reproduces_the_frozen_features(minilm, layers):
    """MiniLM's own top layers over its cached lower-layer states give the frozen pooled vector and
    token states (L = 0: the pooling alone); padding in the batch changes nothing but rounding."""
    pooled, states = minilm.encode(TEXTS)
    top = MiniLMTop(layers).load_pretrained().eval()
    x, mask = pad_encoder_inputs(prompt_inputs(top, TEXTS, minilm))
    assert x.shape[:2] == mask.shape and mask.sum(1).tolist() == [len(s) for s in states]
    with torch.no_grad():
        p, s, m = top(x, mask)
    np.testing.assert_allclose(p.numpy(), pooled, atol=2e-6)
    for i, ref in enumerate(states):
        np.testing.assert_allclose(s[i, : len(ref)].numpy(), ref, atol=2e-5)
    # a randomly initialised top layer does not (the check above can fail)
    if layers:
        with torch.no_grad():
            p_rand, _, _ = MiniLMTop(layers).eval()(x, mask)
        assert np.abs(p_rand.numpy() - pooled).max() > 0.05


def test_training_encoder_hidden_states_feed_the_same_features(encoder):
    """The training side (sentence-transformers, cached `Encoder.hidden_states`) through the fine-tune
    start equals the frozen training features `Encoder.embed` / `token_states`."""
    top = MiniLMTop(2).load_pretrained().eval()
    x, mask = pad_encoder_inputs(encoder.hidden_states(TEXTS, top.input_layer))
    with torch.no_grad():
        p, s, _ = top(x, mask)
    np.testing.assert_allclose(p.numpy(), encoder.embed(TEXTS), atol=2e-5)
    for i, ref in enumerate(encoder.token_states(TEXTS)):
        np.testing.assert_allclose(s[i, : len(ref)].numpy(), ref, atol=2e-4)


def test_wordpieces_are_minilms(minilm):
    ids = wordpiece_ids(TEXTS)
    assert [len(i) for i in ids] == [len(s) for s in minilm.encode(TEXTS)[1]]
    assert all(i[0] == 101 and i[-1] == 102 for i in ids)  # [CLS] ... [SEP]
    x, mask = pad_encoder_inputs(ids)
    assert x.dtype == torch.long and (x[~mask] == 0).all()


@pytest.mark.parametrize("kind", ["finetune", "scratch"])
def test_gradient_reaches_every_encoder_parameter(minilm, kind):
    torch.manual_seed(0)
    model = SashimiDecoder(_cfg(encoder=kind, encoder_finetune_layers=1, encoder_scratch_d=32))
    if kind == "finetune":
        model.prompt_encoder.load_pretrained()
    enc = pad_encoder_inputs(prompt_inputs(model.prompt_encoder, TEXTS, minilm))
    dummy = torch.zeros(len(TEXTS), 1, 384)  # the frozen features are ignored with a trainable encoder
    pooled, states, mask = model.read_prompt(
        dummy[:, 0], dummy, torch.ones(len(TEXTS), 1, dtype=torch.bool), enc
    )
    memory = model.encode(pooled, states, mask)
    ids = torch.randint(4, 40, (len(TEXTS), 6))
    logits = model(memory, ids)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 40), ids.roll(-1, 1).reshape(-1))
    loss.backward()
    no_grad = [
        n for n, p in model.prompt_encoder.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0
    ]
    assert no_grad == []
    if kind == "scratch":  # only the word pieces in the batch get an embedding gradient
        rows = model.prompt_encoder.tok_emb.weight.grad.abs().sum(1) > 0
        used = torch.unique(enc[0][enc[1]])
        assert set(torch.nonzero(rows).flatten().tolist()) == set(used.tolist())


def test_frozen_default_is_the_plain_decoder():
    """Default config = frozen: no encoder parameter, and the decoder's initial weights do not depend on
    the encoder choice (the trainable encoder is built last), so a frozen run is today's run."""
    assert DecoderConfig(vocab_size=40).encoder == "frozen"
    torch.manual_seed(3)
    frozen = SashimiDecoder(_cfg()).state_dict()
    torch.manual_seed(3)
    scratch = SashimiDecoder(_cfg(encoder="scratch", encoder_scratch_d=32))
    rest = {k: v for k, v in scratch.state_dict().items() if not k.startswith("prompt_encoder.")}
    assert not any(k.startswith("prompt_encoder") for k in frozen)
    assert rest.keys() == frozen.keys() and all(torch.equal(rest[k], frozen[k]) for k in frozen)
    counts = scratch.param_counts()
    assert counts["encoder"] == sum(p.numel() for p in scratch.prompt_encoder.parameters()) > 0
    assert counts["total"] == sum(p.numel() for p in scratch.parameters())
    assert SashimiDecoder(_cfg()).param_counts()["encoder"] == 0


@pytest.mark.parametrize(
    "kw, needle",
    [
        ({"encoder": "lora"}, "encoder must be one of"),
        ({"encoder": "finetune", "encoder_finetune_layers": 0}, "encoder_finetune_layers must be in 1..6"),
        ({"encoder": "finetune", "encoder_finetune_layers": 7}, "encoder_finetune_layers must be in 1..6"),
        ({"encoder": "scratch", "encoder_scratch_d": 30, "encoder_scratch_heads": 4}, "not divisible"),
    ],
)
def test_bad_encoder_settings_are_one_line_errors(kw, needle):
    with pytest.raises(DataError, match=needle):
        SashimiDecoder(_cfg(**kw))


def test_scratch_encoder_is_small_and_pools_like_minilm():
    enc = ScratchEncoder(30522, 128, 2, 4, 0.0).eval()
    n = sum(p.numel() for p in enc.parameters())
    assert n < 5_000_000  # 3.9M of it is the word-piece embedding
    x, mask = pad_encoder_inputs(wordpiece_ids(TEXTS))
    with torch.no_grad():
        pooled, states, _ = enc(x, mask)
        alone, _, _ = enc(x[1:2, : int(mask[1].sum())], mask[1:2, : int(mask[1].sum())])
    assert states.shape == (3, x.shape[1], 384)
    np.testing.assert_allclose(pooled.norm(dim=1).numpy(), 1.0, atol=1e-5)
    np.testing.assert_allclose(pooled[1].numpy(), alone[0].numpy(), atol=1e-5)  # padding is masked out
