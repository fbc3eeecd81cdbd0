"""Spelling correction before the encoder (issue 16: a typo must not flip the gate): what it corrects,
what it never touches, and how the gate, `sashimi gate`, the generator and `exp gate --save` use it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sashimi.cli import main
from sashimi.errors import DataError
from sashimi.model.gate import load_gate, save_gate
from sashimi.model.spelling import MAX_CORRECTIONS, correct_spelling

# pieces of text with typos, known and rare words, protected spans and odd characters
_PIECES = [" ", "  ", ",", ".", "'", '"', "-", "/", "@", "3", "é", "\n", "remidner", "Pyhton", "REMIDNER",
           "reminder", "set", "a", "the", "clipbaord", "gmail", "qzxvbnmw", "https://x.io/remidner", "it's",
           "peolpe", "teh", "resizes", "Wirte", "“", "”"]


@pytest.mark.parametrize(
    ("typo", "word"),
    [
        ("remidner", "reminder"),  # two letters swapped
        ("pyhton", "python"),
        ("remnder", "reminder"),  # one deleted
        ("remminder", "reminder"),  # one inserted
        ("reminver", "reminder"),  # one replaced
        ("clipbaord", "clipboard"),
    ],
)
def test_a_single_typo_is_corrected(typo, word):
    text, fixes = correct_spelling(f"set a {typo} now")
    assert text == f"set a {word} now"
    assert [(f.word, f.corrected, f.start) for f in fixes] == [(typo, word, 6)]


@pytest.mark.parametrize(
    "text",
    [
        "resize my photos in gmail and jira",  # rare but real words a spelling dictionary lacks
        "the struct of a yaml file",
        "resizes sortable lists",  # regular forms of known words
        "turn on the flashlight",
        'note "remidner pyhton" verbatim',  # quoted text
        "open https://exmaple.com/remidner and mail bob@remidner.com",  # URLs, addresses
        "save to /tmp/remidner",  # paths
        "open iCal and REMIDNER and remidner2",  # inner capitals, capitals only, digits
        "teh cta",  # fewer than 4 letters
        "qzxvbnmw",  # nothing one edit away
    ],
)
def test_what_is_never_changed(text):
    assert correct_spelling(text) == (text, [])


def test_capitals_kept_known_words_respected_and_corrections_capped():
    assert correct_spelling("Wirte a poem")[0] == "Write a poem"
    assert correct_spelling("remidner", frozenset({"remidner"})) == ("remidner", [])
    text, fixes = correct_spelling(" ".join(["remidner"] * (MAX_CORRECTIONS + 4)))
    assert len(fixes) == MAX_CORRECTIONS and text.split().count("remidner") == 4
    for f in correct_spelling("a remidner and a pyhton script")[1]:  # offsets point at the word written
        assert "a remidner and a pyhton script"[f.start : f.start + len(f.word)] == f.word


def test_the_gate_reads_corrected_canonical_requests_and_stores_the_setting(tmp_path):
    gate = load_gate()
    assert gate.spelling  # the shipped gate corrects (RESULTS 9)
    assert gate.read_request("Hey Siri, set a remidner please")[0] == "set a reminder"
    off = replace(gate, spelling=False)
    assert off.read_request("Hey Siri, set a remidner please") == ("set a remidner", [])
    saved = save_gate(off, tmp_path / "g")
    assert json.loads((saved / "gate.json").read_text())["spelling"] is False
    assert load_gate(saved).spelling is False
    meta = json.loads((saved / "gate.json").read_text())
    del meta["spelling"]  # a gate saved before the setting existed
    (saved / "gate.json").write_text(json.dumps(meta))
    assert load_gate(saved).spelling is False
    meta["spelling"] = "yes"
    (saved / "gate.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="'spelling' must be true or false"):
        load_gate(saved)


def test_a_typo_does_not_flip_the_shipped_gate_and_sashimi_gate_says_what_it_read(capsys):
    gate = load_gate()
    pairs = [
        ("Write a python script that renames files", "Write a pyhton script that renames files"),
        ("Set a reminder to water the plants", "Set a remidner to water the plants"),
    ]
    for clean, typo in pairs:
        a, b = gate.decide([clean, typo])
        assert a.accept == b.accept and abs(a.score - b.score) < 1e-6
    assert main(["gate", "Set a remidner to water the plants", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["accept"] and out["read_as"] == "Set a reminder to water the plants"
    assert main(["gate", "Set a reminder to water the plants", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["read_as"] == ""


def test_exp_gate_spelling_needs_save(capsys):
    assert main(["exp", "gate", "--ood", "x.jsonl", "--spelling"]) == 2
    assert "--spelling reads requests as a saved gate would" in capsys.readouterr().err


def test_exp_gate_reads_held_out_and_cv_test_prompts_corrected(tmp_path, encoder, capsys, monkeypatch):
    """`exp gate --spelling`: the saved gate corrects; held-out, real dev and CV test prompts are read
    corrected (only changed texts embedded again), while fitting uses the texts as written."""
    import numpy as np

    import sashimi.eval.gate_exp as gate_exp
    from sashimi.data.ood import build_ood_set

    gate = replace(load_gate(encoder=encoder), spelling=True)
    texts = ["set a remidner for noon", "turn on the flashlight"]
    x = encoder.embed(texts)
    read_x, read = gate_exp._read_as(gate, encoder, texts, x, spelling=True)
    assert read == ["set a reminder for noon", "turn on the flashlight"]
    assert np.allclose(read_x[0], encoder.embed([read[0]])[0]) and np.array_equal(read_x[1], x[1])
    assert gate_exp._read_as(gate, encoder, texts, x, spelling=False) == (x, texts)

    monkeypatch.setattr(gate_exp, "_latency", lambda gate, texts: {"n_timed": 0})
    rows = build_ood_set(seed=0, per_category=12, in_domain=100).rows
    path = tmp_path / "ood.jsonl"
    path.write_text("".join(json.dumps(r.to_json()) + "\n" for r in rows))
    args = ["exp", "gate", "--ood", str(path), "--cache-dir", str(encoder.cache_root), "--kinds", "linear"]
    args += ["--features", "embedding+lexical", "--json", "--spelling"]
    assert main([*args, "--save", str(tmp_path / "g")]) == 0
    assert json.loads(capsys.readouterr().out)["spelling"] is True
    assert load_gate(tmp_path / "g").spelling is True
    assert main([*args, "--cv", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["spelling"] is True


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_correction_is_safe_on_any_text(text):
    """Any text: only whole correctable words change, each into a word one edit away; a second pass
    changes nothing; the characters between words are kept."""
    fixed, fixes = correct_spelling(text)
    assert len(fixes) <= MAX_CORRECTIONS
    assert correct_spelling(fixed) == (fixed, [])
    rebuilt, last = [], 0
    for f in fixes:
        assert text[f.start : f.start + len(f.word)] == f.word and f.word.lower() != f.corrected.lower()
        assert abs(len(f.word) - len(f.corrected)) <= 1
        rebuilt += [text[last : f.start], f.corrected]
        last = f.start + len(f.word)
    assert "".join(rebuilt) + text[last:] == fixed
