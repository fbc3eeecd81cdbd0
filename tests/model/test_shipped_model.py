"""The shipped default model (`src/sashimi/model/assets/default/`, issue 13): it loads without pickle,
obeys the data rule, fits the size budget, and turns 20 varied requests into compile-strict programs.

Packed = unpacked: `test_generate.py` checks it on every run for a small model; here, when the training
run the asset was exported from is on this machine (`$SASHIMI_DEFAULT_RUN`, default
/work/runs/infer/default), the shipped folder is compared with it on real dev prompts (needs
../shared) and synthetic test prompts. `benchmarks/packed_identity.py` does the full splits.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sashimi.model.export import folder_bytes
from sashimi.model.generator import DEFAULT_MODEL_DIR, Generator

REQUESTS = [
    "set a timer for 10 minutes",
    "start a 25 minute pomodoro timer and tell me when it ends",
    "set an alarm for 6:30 am tomorrow",
    "log 200 mg of caffeine to Health",
    "ask me how many glasses of water I drank and log it in Health",
    "record my weight in the Health app",
    "text my mom that I'm on my way",
    "send an email to my boss saying I'll be late",
    "send a message to John with my current location",
    "show a menu with coffee, tea and water and tell me what I picked",
    "let me choose between work mode and home mode, then turn on Do Not Disturb for work",
    "for each file in my Downloads folder, show its name",
    "get all photos from today and save them to a folder",
    "loop over the lines of my clipboard and speak each one",
    "fetch the weather from https://api.example.com/weather and show the result",
    "download the contents of a URL and save it to Files",
    "get my public IP address from an API and copy it to the clipboard",
    "if the battery level is below 20 percent, turn on low power mode",
    "repeat 5 times: vibrate the phone and wait 1 second",
    "ask me for a note and append it to my journal in Notes",
]


@pytest.fixture(scope="module")
def shipped() -> Generator:
    assert (DEFAULT_MODEL_DIR / "packed.json").is_file(), "the shipped default model is missing"
    return Generator.load()


def test_shipped_folder_obeys_the_data_rule_and_budget():
    info = json.loads((DEFAULT_MODEL_DIR / "packed.json").read_text())
    assert info["shippable"] is True
    assert info["value_source"] == "synthetic"
    assert info["retrieval_source"] is None or "synthetic" in info["retrieval_source"]
    assert folder_bytes(DEFAULT_MODEL_DIR) <= 10 * 1024 * 1024
    assert not list(DEFAULT_MODEL_DIR.rglob("*.pt")) and not list(DEFAULT_MODEL_DIR.rglob("*.pkl"))
    assert info["ternary_layers"], "the default model is ternary: its layers are packed at 2 bits"


def test_twenty_varied_requests_compile_strict(shipped):
    failures = []
    for request in REQUESTS:
        gen = shipped.generate(request)
        if not (gen.accepted and gen.validity.get("compiled_strict")):
            failures.append((request, gen.reason, gen.validity.get("error")))
    assert failures == []


@pytest.mark.parametrize(
    ("request_text", "needle"),
    [
        ("", "empty"),
        ("x" * 100_000, "too long"),
        ("\x00\x01binary\x02", "control"),
        ("🎉🔥😀", "no words"),
        ("設定十分鐘的計時器", "not in English"),
        ("what is the capital of France?", "refused"),
    ],
    ids=["empty", "100k", "binary", "emoji", "chinese", "ood"],
)
def test_bad_requests_get_clear_messages(shipped, request_text, needle):
    gen = shipped.generate(request_text)
    assert not gen.accepted and needle in gen.reason and "\n" not in gen.reason


@pytest.mark.parametrize("request_text", ["asdkjh qwe zxcv", "?!", "qwrtzp xkcdvb mnbvcxz lkjhg", "Hello", "Hey Siri, Hlelo!"])
def test_requests_with_no_meaning_are_refused_as_the_gate_refuses_them(shipped, request_text):
    gen = shipped.generate(request_text)
    assert not gen.accepted and gen.rejected_by in ("gate", "request") and gen.dsl == ""
    assert "no meaning" in gen.reason or "no words" in gen.reason


def test_the_generator_gate_decides_like_sashimi_gate(shipped):
    """With float32 MiniLM features, `generate` scores what `Gate.decide` scores (the canonical request,
    the same head): the figures of the gate (RESULTS §9) are measured on the product's path. The shipped
    model runs an 8-bit MiniLM (packed.json), which moves a score by up to a few hundredths: the same
    decisions here (and for all but 2-4 of the 634 blind-set requests, RESULTS §8).
    Wrappers cannot change the generator's gate decision."""
    from sashimi.model.gate import load_gate
    from sashimi.model.minilm import MiniLM

    assert shipped.encoder.precision == "int8"
    gate = load_gate()
    plain = "set a timer for 10 minutes"
    requests = [plain, f"Hey Siri, can you {plain} for me, please?", "write a poem about the sea", "Please tell me a joke."]
    decisions = gate.decide(requests)
    float32 = Generator(shipped.model, gate=shipped.gate, encoder=MiniLM(precision="float32"), catalog=shipped.catalog)
    for r, d in zip(requests, decisions, strict=True):
        exact, int8 = float32.generate(r), shipped.generate(r)
        assert exact.accepted == int8.accepted == d.accept, r
        assert exact.gate_score == pytest.approx(d.score, abs=1e-4), r
        assert int8.gate_score == pytest.approx(d.score, abs=0.05), r
    assert shipped.generate(requests[0]).gate_score == pytest.approx(shipped.generate(requests[1]).gate_score, abs=1e-6)


def _training_run() -> Path | None:
    run = Path(os.environ.get("SASHIMI_DEFAULT_RUN", "/work/runs/infer/default"))
    return run if (run / "model.safetensors").is_file() else None


def test_packed_equals_its_training_run(shipped, shortcutforge_dir):
    """Same decoded programs from the 2-bit folder and the training run (with the shipped filler)."""
    run = _training_run()
    if run is None:
        pytest.skip("the training run of the shipped model is not on this machine ($SASHIMI_DEFAULT_RUN)")
    from sashimi.data.splits import split_corpus
    from sashimi.data.synth import generate_corpus
    from sashimi.dsl.corpus import load_corpus
    from sashimi.model.export import _load_without_filler

    model = _load_without_filler(run)  # its own filler holds training-row literals; the shipped one is used
    model.filler = shipped.model.filler
    unpacked = Generator(model, gate=shipped.gate, encoder=shipped.encoder, catalog=shipped.catalog)
    dev = split_corpus(load_corpus(shortcutforge_dir / "train.jsonl"), 0.1, 0).dev
    prompts = [r.prompt for r in dev[:25]] + [e.row.prompt for e in generate_corpus(300, 0)["test"][:25]]
    for prompt in prompts:
        a, b = shipped.generate(prompt), unpacked.generate(prompt)
        assert (a.accepted, a.dsl, a.shortcut) == (b.accepted, b.dsl, b.shortcut), prompt


def test_a_batch_gives_each_request_what_it_gets_alone(shipped):
    """`generate_batch` (a server's waiting requests decoded together): each request's answer equals
    `generate`'s — refusals, bad input and programs of different lengths mixed in one batch."""
    batch = REQUESTS[:12] + ["", "what is the capital of France?", "asdkjh qwe zxcv", "🎉🔥😀", "Hey Siri, Hlelo"]
    batch += REQUESTS[12:]
    together = shipped.generate_batch(batch)
    assert len(together) == len(batch)
    lengths = set()
    for request, gen in zip(batch, together, strict=True):
        alone = shipped.generate(request)
        assert (gen.accepted, gen.reason, gen.dsl, gen.validity, gen.shortcut, gen.tokens, gen.source) == (
            alone.accepted, alone.reason, alone.dsl, alone.validity, alone.shortcut, alone.tokens, alone.source
        ), request
        assert set(gen.stages) == set(alone.stages) and gen.ms > 0
        lengths.add(gen.tokens)
    assert len(lengths) > 5  # programs of many lengths finished at different steps of one batch


def test_a_misspelt_request_is_read_corrected_and_its_values_copied_as_written(shipped):
    """The models read the spelling-corrected request (`read_as` says so); the value filler copies from
    the request as written, alone or in a batch."""
    prompt = "set a remidner to water the plants at 6pm"
    alone, (batched, clean) = shipped.generate(prompt), shipped.generate_batch([prompt, "turn on wifi"])
    assert alone.accepted and alone.read_as == "set a reminder to water the plants at 6pm"
    assert batched.read_as == alone.read_as and batched.dsl == alone.dsl
    assert alone.to_json()["read_as"] == alone.read_as
    assert "reminder to water" not in alone.dsl  # no value comes from the corrected text
    assert clean.read_as == "" and clean.to_json()["read_as"] == ""
