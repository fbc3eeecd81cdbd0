"""benchmarks/gate_spelling.py: its second typo model, the held-out split it scores, and a run both ways."""

import json
import random

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

import gate_spelling


def test_other_typo_makes_one_edit_inside_one_long_word():
    rng = random.Random(0)
    for _ in range(200):
        text = "please remind me about the dentist tomorrow"
        out = gate_spelling.other_typo(text, rng)
        diff = [(a, b) for a, b in zip(text.split(), out.split(), strict=True) if a != b]
        assert len(diff) == 1
        before, after = diff[0]
        assert len(before) >= 5 and abs(len(before) - len(after)) <= 1 and before[0] == after[0]
        assert before[-1] == after[-1]  # neither end letter is touched
    assert gate_spelling.other_typo("set a tim", random.Random(0)) == "set a tim"  # no 5+-letter word


def test_heldout_rows_are_exp_gates_split(tmp_path):
    rows = [
        {"prompt": f"p{i}", "label": "ood" if i % 2 else "in_domain", "template_id": f"t{i // 3}"}
        for i in range(30)
    ]
    path = tmp_path / "l.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    groups = np.array([r["template_id"] for r in rows])
    _, test_idx = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=3).split(rows, groups=groups))
    assert gate_spelling.heldout_rows(path, 3) == [rows[i] for i in test_idx]


def test_scores_the_shipped_gate_with_and_without_correction(tmp_path, capsys):
    texts = [
        ("Set a reminder to water the plants", "in_domain"),
        ("Turn on the flashlight", "in_domain"),
        ("Write a python script that parses a file", "ood"),
        ("Translate this paragraph into German", "ood"),
    ]
    rows = [{"prompt": p, "label": lab, "template_id": f"own/t{i}"} for i, (p, lab) in enumerate(texts * 3)]
    path = tmp_path / "l.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "r.json"
    assert gate_spelling.main(["--ood", str(path), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    for way in ("as_written", "spelling"):
        part = report[way]["heldout"]
        assert set(part["flip_rate"]) >= {"typo", "other_typo", "please"}
        assert part["clean_texts_changed"] == 0  # clean texts: nothing to correct
    assert json.loads(capsys.readouterr().out) == report
