"""Requests with no meaning are refused for that reason, and `sashimi gate` reports refusals by exit status
(issue 16 item 4)."""

from __future__ import annotations

import json
import random
import string

import pytest

from sashimi.cli import main
from sashimi.model.cli import GATE_REFUSED
from sashimi.model.gate import NO_MEANING, load_gate, meaningless_reason

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


def test_blind_set_has_no_request_judged_meaningless():
    from pathlib import Path

    path = Path(__file__).parents[1] / "data" / "gate_blind.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["prompt"] for r in rows if meaningless_reason(r["prompt"])] == []


class _NoEncoder:
    """Fails the test if a meaningless request reaches the encoder."""

    def embed(self, texts):
        raise AssertionError(f"meaningless requests must not be embedded: {texts!r}")


def test_gate_refuses_meaningless_requests_without_embedding_them():
    gate = load_gate(encoder=_NoEncoder())
    for decision in gate.decide(DEGENERATE):
        assert not decision.accept and decision.score == 0.0 and decision.reason.startswith(NO_MEANING)


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
