"""Requests with no meaning are refused for that reason, and `sashimi gate` reports refusals by exit status
(issue 16 item 4)."""

from __future__ import annotations

import json
import random
import string

import pytest

from sashimi.cli import main
from sashimi.model.cli import GATE_REFUSED
from sashimi.model.gate import NO_MEANING, load_gate, meaningless_reason, pleasantry_reason

_RNG = random.Random(0)
RANDOM_100K = "".join(_RNG.choice(string.ascii_letters) for _ in range(100_000))
RANDOM_WORDS = " ".join(
    "".join(_RNG.choice(string.ascii_lowercase) for _ in range(_RNG.randint(2, 9))) for _ in range(3000)
)
DEGENERATE = [
    "",
    "   ",
    "\n\t ",
    "?",
    "!!! ...",
    "123 456",
    "asdkjh qwe zxcv",
    "qwertyuiop",
    RANDOM_100K,
    RANDOM_WORDS,
]
MEANINGFUL = [
    "wifi",
    "timer 10 min",
    "dnd until 8am",
    "wats the wether tomorow",  # typos are not gibberish
    "opn spotify and shufle my libary",
    "Hey Siri, set an alarm",
    "Привет, как дела?",  # another script: the head decides, not the word lists
]


@pytest.mark.parametrize("text", DEGENERATE, ids=lambda t: repr(t[:12]))
def test_meaningless_requests_have_a_reason(text):
    reason = meaningless_reason(text)
    assert reason is not None and reason.startswith(NO_MEANING)


@pytest.mark.parametrize("text", MEANINGFUL)
def test_terse_and_misspelt_requests_have_meaning(text):
    assert meaningless_reason(text) is None


PLEASANTRIES = [
    "Hello",
    "hi there!",
    "Hey Siri",
    "Hey Siri, good morning!",
    "Good morning, how are you?",
    "What's up?",
    "What’s up",  # a typographic apostrophe
    "how’s it going",
    "Thanks!",
    "thank you so much :)",
    "ok",
    "yes please",
    "Bye, see you later",
]
NOT_PLEASANTRIES = [
    "Hello, set a timer for 5 minutes",
    "Good morning routine",
    "Say good morning",
    "Text mom hello",
    "Hey Siri, turn on the lights",
    "thanks for the help",
    "Okay Google",
    "Hi, I'm Bob",
    "no sound",
]


@pytest.mark.parametrize("text", PLEASANTRIES)
def test_a_greeting_or_pleasantry_alone_asks_for_nothing(text):
    reason = meaningless_reason(text)
    assert reason == f"{NO_MEANING}: only a greeting or pleasantry, no request"


@pytest.mark.parametrize("text", NOT_PLEASANTRIES)
def test_one_other_word_and_the_head_decides(text):
    assert meaningless_reason(text) is None and pleasantry_reason(text) is None


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_the_pleasantry_pattern_stays_linear_on_long_input(n):
    import time

    for text in ("hi " * (n // 3) + "x", "!" * n, "hi" + "!" * n + "x", "thank you " * (n // 10)):
        t0 = time.perf_counter()
        pleasantry_reason(text)
        assert time.perf_counter() - t0 < 1.0


def _blind_rows():
    from pathlib import Path

    path = Path(__file__).parents[1] / "data" / "gate_blind.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_blind_set_in_domain_requests_have_meaning():
    rows = _blind_rows()
    assert [r["prompt"] for r in rows if r["label"] == "in_domain" and meaningless_reason(r["prompt"])] == []
    # out-of-domain ones may be a greeting alone, but never gibberish by the word lists
    reasons = {meaningless_reason(r["prompt"]) for r in rows if r["label"] == "ood"} - {None}
    assert reasons <= {pleasantry_reason("hello")}


def test_no_real_request_has_no_meaning(corpus_rows):
    prompts = [next(m["content"] for m in r["messages"] if m["role"] == "user") for r in corpus_rows]
    assert len(prompts) == 1671 and [p for p in prompts if meaningless_reason(p)] == []


class _NoEncoder:
    """Fails the test if a meaningless request reaches the encoder."""

    def embed(self, texts):
        raise AssertionError(f"meaningless requests must not be embedded: {texts!r}")


def test_gate_refuses_meaningless_requests_without_embedding_them():
    gate = load_gate(encoder=_NoEncoder())
    for decision in gate.decide(DEGENERATE + PLEASANTRIES):
        assert not decision.accept and decision.score == 0.0 and decision.reason.startswith(NO_MEANING)


def test_a_misspelt_greeting_is_judged_once_corrected():
    gate = load_gate(encoder=_NoEncoder())
    assert gate.spelling and gate.request_text("Hey Siri, Hlelo") == "Hello"
    (decision,) = gate.decide(["Hey Siri, Hlelo"])
    assert not decision.accept and decision.reason == pleasantry_reason("Hello")


@pytest.mark.parametrize("text", ["", "   ", "?", "asdkjh qwe zxcv"])
def test_cli_gate_refuses_with_exit_status_and_reason(text, capsys):
    assert main(["gate", text, "--json"]) == GATE_REFUSED == 3
    out = json.loads(capsys.readouterr().out)
    assert out["accept"] is False and out["reason"].startswith(NO_MEANING)


def test_cli_gate_refuses_100k_random_letters(capsys):
    assert main(["gate", RANDOM_100K]) == GATE_REFUSED
    assert capsys.readouterr().out.startswith(f"refuse: {NO_MEANING}")


def test_non_utf8_argument_is_a_one_line_error(capsys):
    text = b"caf\xe9 timer".decode("utf-8", "surrogateescape")  # what Python makes of such argv bytes
    assert main(["gate", text]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not valid UTF-8" in err[0]
