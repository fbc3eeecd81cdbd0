"""sashimi.train.gate_adapter: the gate's fine-tuned encoder layers (LoRA adapters on the top MiniLM layers)
and the hidden states they read (`Encoder.hidden_states`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sashimi.errors import DataError
from sashimi.train import gate_adapter as gate_lora
from sashimi.train.gate_adapter import LoRAConfig

TEXTS = ["Turn on Wi-Fi", "Set a timer for ten minutes", "What is the capital of France and why?"]

IN_DOMAIN = [
    "Set a timer for 5 minutes",
    "Turn on Do Not Disturb",
    "Text Mom that I am on my way",
    "Log 300 ml of water",
    "Open the Notes app",
    "Play my running playlist",
]
OOD = [
    "What is the capital of Peru?",
    "Prove that the square root of two is irrational",
    "Write a poem about the autumn sea",
    "Who won the 1998 World Cup?",
    "Explain the theory of relativity",
    "Write a Python function that sorts a list",
]


def test_hidden_states_of_the_last_layer_pool_to_the_embedding(encoder):
    states = encoder.hidden_states(TEXTS, 6)
    assert [s.shape[1] for s in states] == [384] * 3 and all(s.dtype == np.float32 for s in states)
    assert len(states[2]) > len(states[0])  # padding was removed per text
    pooled = np.stack([s.mean(0) / np.linalg.norm(s.mean(0)) for s in states])
    assert np.allclose(pooled, encoder.embed(TEXTS), atol=1e-5)
    assert not np.allclose(encoder.hidden_states(TEXTS, 3)[0], states[0])
    with pytest.raises(DataError, match="layers 0..6"):
        encoder.hidden_states(TEXTS, 7)


@pytest.mark.parametrize("layers", [1, 3])
def test_untrained_adapters_reproduce_the_frozen_embedding(encoder, layers):
    config = LoRAConfig(layers=layers, rank=4)
    model = gate_lora.AdaptedTop(gate_lora.base_layers(encoder, config), config).eval()
    states = encoder.hidden_states(TEXTS, config.first_layer)
    with torch.no_grad():
        emb = model.embed(*gate_lora._batch(states, [0, 1, 2])).numpy()  # padded batch, mixed lengths
    assert np.allclose(emb, encoder.embed(TEXTS), atol=1e-5)


def test_only_adapters_and_head_learn_and_they_round_trip(encoder):
    config = LoRAConfig(layers=1, rank=2, epochs=3, lr=3e-3)
    frozen = {k: v.clone() for k, v in gate_lora.base_layers(encoder, config).state_dict().items()}
    texts = IN_DOMAIN + OOD
    is_ood = np.array([False] * len(IN_DOMAIN) + [True] * len(OOD))
    states = encoder.hidden_states(texts, config.first_layer)
    model = gate_lora.train(encoder, states, is_ood, config, seed=0)
    arrays = model.adapter_arrays()
    assert len(arrays) == 6 * 2 + 2  # A and B per adapted linear map, plus the head's weight and bias
    assert all(np.abs(v).sum() > 0 for k, v in arrays.items() if k.endswith(".b"))  # B left zero
    assert sum(v.size for v in arrays.values()) < 50_000
    for k, v in gate_lora.base_layers(encoder, config).state_dict().items():
        assert torch.equal(v, frozen[k]), f"the shared encoder changed: {k}"
    logits = gate_lora.ood_logits(model, states)
    assert logits[is_ood].mean() > logits[~is_ood].mean()
    again = gate_lora.load(encoder, config, arrays)
    assert np.allclose(gate_lora.ood_logits(again, states), logits, atol=1e-5)
    # same seed, same weights
    twin = gate_lora.train(encoder, states, is_ood, config, seed=0).adapter_arrays()
    assert all(np.array_equal(twin[k], arrays[k]) for k in arrays)


def test_full_fine_tuning_mode_trains_the_layer_weights(encoder):
    config = LoRAConfig(layers=1, rank=0, epochs=1, lr=1e-4)
    states = encoder.hidden_states(IN_DOMAIN + OOD, config.first_layer)
    model = gate_lora.train(encoder, states, np.array([0] * 6 + [1] * 6, bool), config)
    assert any("attention.self.query.weight" in k for k in model.adapter_arrays())


def test_bad_configs_and_weights_are_one_line_errors(encoder):
    with pytest.raises(DataError, match="layers must be in 1..6"):
        LoRAConfig(layers=0)
    with pytest.raises(DataError, match="unknown keys"):
        LoRAConfig.from_dict({"layers": 2, "depth": 3})
    with pytest.raises(DataError, match="malformed"):
        LoRAConfig.from_dict({"layers": "two"})
    assert LoRAConfig.from_dict({"layers": "2", "lr": "1e-3"}) == LoRAConfig(layers=2, lr=1e-3)
    config = LoRAConfig(layers=1, rank=2)
    with pytest.raises(DataError, match="do not fit"):
        gate_lora.load(encoder, config, {"head.weight": np.zeros((1, 384), np.float32)})
    arrays = gate_lora.AdaptedTop(gate_lora.base_layers(encoder, config), config).adapter_arrays()
    arrays["head.weight"] = np.zeros((2, 384), np.float32)
    with pytest.raises(DataError, match="shape"):
        gate_lora.load(encoder, config, arrays)
    with pytest.raises(DataError, match="both classes"):
        gate_lora.train(encoder, encoder.hidden_states(OOD, 5), np.ones(6, bool), config)
