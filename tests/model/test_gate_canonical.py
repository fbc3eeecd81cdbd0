"""The gate decides on the canonical request: address and politeness wrappers removed (issue 16)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sashimi.eval.metamorphic import REWRITES, rewrite_all
from sashimi.model.gate import canonical_request, fit_gate, load_gate, save_gate


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hey Siri, can you turn on the flashlight for me, please?", "turn on the flashlight"),
        ("Can you help with this? What is the capital of Peru?", "What is the capital of Peru"),
        ("I need you to write a poem right now.", "write a poem"),
        ("Please help with this: write a poem.", "write a poem"),
        ("Could you please make a shortcut that logs water?", "make a shortcut that logs water"),
        ("Set a timer for 10 minutes. Thanks in advance.", "Set a timer for 10 minutes"),
        ("Canyon hikes near me", "Canyon hikes near me"),  # "can" inside a word is not a wrapper
        ("Pleased to meet you", "Pleased to meet you"),
        ("please", "please"),  # nothing would be left: unchanged
        ("Hey Siri", "Hey Siri"),
    ],
)
def test_canonical_request(text, expected):
    assert canonical_request(text) == expected


def test_wrapper_rewrites_leave_the_canonical_request_unchanged():
    """The metamorphic test's wrapper kinds cannot flip a canonicalising gate: same canonical text."""
    texts = ["Turn on the flashlight.", "What is the capital of Peru?", "write a poem about rain"]
    wrappers = ("please", "for_me", "right_now", "hey_siri", "can_you", "punct")
    assert set(wrappers) < set(REWRITES)
    rewritten = rewrite_all(texts)
    for kind in wrappers:
        for original, new in zip(texts, rewritten[kind], strict=True):
            # equal up to case: MiniLM is uncased and the TF-IDF view lower-cases
            assert canonical_request(new).lower() == canonical_request(original).lower(), (kind, new)


class _RecordingEncoder:
    def __init__(self):
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        return np.ones((len(texts), 4)) / 2.0


def test_a_canonical_gate_embeds_canonical_requests_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    gate = fit_gate("linear", x, np.arange(40) % 2 == 0, canonical=True)
    save_gate(gate, tmp_path)
    assert json.loads((tmp_path / "gate.json").read_text())["canonical"] is True
    enc = _RecordingEncoder()
    loaded = load_gate(tmp_path, encoder=enc)
    assert loaded.canonical
    loaded.decide(["Hey Siri, turn on the flashlight for me, please."])
    assert enc.seen == ["turn on the flashlight"]
    plain = load_gate(save_gate(fit_gate("linear", x, np.arange(40) % 2 == 0), tmp_path / "raw"), encoder=enc)
    assert plain.canonical is False
    plain.decide(["Hey Siri, turn on the flashlight."])
    assert enc.seen[-1] == "Hey Siri, turn on the flashlight."
