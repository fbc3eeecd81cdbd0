"""benchmarks/gate_int8.py: labelled and corpus files, the rates it reports, and a gate scored both ways."""

import json

import numpy as np

import gate_int8


def test_labelled_and_corpus_files_and_rates(tmp_path):
    labelled = tmp_path / "l.jsonl"
    labelled.write_text(
        json.dumps({"prompt": "set a timer", "label": "in_domain"}) + "\n"
        + json.dumps({"prompt": "write a poem", "label": "ood"}) + "\n"
    )
    prompts, is_ood = gate_int8.labelled(labelled)
    assert prompts == ["set a timer", "write a poem"] and is_ood.tolist() == [False, True]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "a", "prompt": "turn on wifi"}) + "\n")
    prompts, is_ood = gate_int8.labelled(corpus)
    assert prompts == ["turn on wifi"] and not is_ood.any()
    rates = gate_int8.rates(np.array([True, False, True]), np.array([False, False, True]))
    assert rates == {"false_accept_rate": 1.0, "false_reject_rate": 0.5}
    assert gate_int8.rates(np.array([True]), np.array([False])) == {"false_reject_rate": 0.0}


def test_the_shipped_gate_decides_alike_at_float32(tmp_path, capsys):
    """With the generator's MiniLM at float32 the two ways differ only by float rounding: no decision."""
    path = tmp_path / "l.jsonl"
    rows = [("Set a timer for ten minutes", "in_domain"), ("Write a sonnet about the sea", "ood"), ("", "ood")]
    path.write_text("".join(json.dumps({"prompt": p or "?", "label": lab}) + "\n" for p, lab in rows))
    assert gate_int8.main(["--data", str(path), "--precision", "float32"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"][str(path)]["decisions_changed"] == 0
    assert report["files"][str(path)]["float32"] == {"false_accept_rate": 0.0, "false_reject_rate": 0.0}
