"""EXP-1.1 pieces: exact class similarities, the domain rule, action sequences, and a tiny end-to-end run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import CorpusRow, save_corpus
from sashimi.eval.encoder_exp import (
    action_category,
    action_sequence,
    class_similarity,
    decision_for,
    program_domain,
    run_encoder_experiment,
)

WATER = 'SHORTCUT "Water"\nACTION comment WFCommentActionText="log it"\nACTION health.quantity.log WFQuantitySampleType="Water"\n'
TIMER = 'SHORTCUT "Timer"\nACTION timer.start WFDuration=QTY(10, "min")\n'
URL = 'SHORTCUT "Site"\nACTION url WFURLActionURL="https://example.com"\nACTION openurl\n'


def test_class_similarity_matches_brute_force():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = [i % 4 if i < 20 else 100 + i for i in range(30)]  # 4 classes of 5 + 10 singletons
    sim = class_similarity(x, labels)
    s = x @ x.T
    intra = [s[i, j] for i in range(30) for j in range(30) if i != j and labels[i] == labels[j]]
    inter = [s[i, j] for i in range(30) for j in range(30) if labels[i] != labels[j]]
    assert sim["intra"] == pytest.approx(np.mean(intra))
    assert sim["inter"] == pytest.approx(np.mean(inter))
    assert sim["n_classes_ge2"] == 4 and sim["n_classes"] == 14 and sim["n_prompts_in_classes_ge2"] == 20


def test_decision_rule_of_the_plan():
    assert decision_for(1.6) == "sufficient"
    assert decision_for(1.5) == "fine-tune" and decision_for(1.0) == "fine-tune"
    assert decision_for(0.99) == "replace"


def test_action_sequences_skip_comments_and_domains_follow_actions():
    cat = Catalog.core()
    seq = action_sequence(WATER, cat)
    assert seq == ("is.workflow.actions.health.quantity.log",)
    assert program_domain(list(seq), cat) == "health"
    assert program_domain(list(action_sequence(URL, cat)), cat) == "web_api"
    assert action_sequence("this is not DSL ((", cat) is None
    # uncatalogued identifiers fall back to keyword rules, then to app_intents
    assert action_category("com.example.fitness.LogWorkoutIntent", cat) == "health"
    assert action_category("com.example.todo.AddItemIntent", cat) == "app_intents"
    # generic plumbing does not name a domain
    assert (
        program_domain(["is.workflow.actions.setvariable", "is.workflow.actions.comment"], cat) == "general"
    )


def test_tiny_end_to_end_run(tmp_path, encoder):
    rows = [
        CorpusRow("w1", "Logs a glass of water to Health.", WATER),
        CorpusRow("w2", "Adds water intake to the Health app.", WATER),
        CorpusRow("t1", "Starts a ten minute timer.", TIMER),
        CorpusRow("t2", "Sets a timer for 10 minutes.", TIMER),
        CorpusRow("u1", "Opens the example website in Safari.", URL),
        CorpusRow("u2", "Opens a web page.", URL),
    ]
    data = tmp_path / "tiny.jsonl"
    save_corpus(data, rows)
    result = run_encoder_experiment(data, tmp_path / "out", cache_dir=encoder.cache_root)
    assert result["n_prompts"] == 6 and result["classes"]["n_classes_ge2"] == 3
    assert result["intra_class_cosine"] > result["inter_class_cosine"]  # paraphrases share a class
    assert result["decision"] == decision_for(result["separation_ratio"])
    assert set(result["domain_counts"]) == {"health", "timers_alarms", "web_api"}
    png = tmp_path / "out" / result["map_png"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["separation_ratio"] == result["separation_ratio"]
    assert "git_commit" in json.loads((tmp_path / "out" / "run.json").read_text())


def test_cli_bad_data_gives_one_line_errors(tmp_path, capsys):
    from sashimi.cli import main

    assert main(["exp", "encoder", "--data", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"shortcut_id": "a", "messages": []}\n{"shortcut_id": 3}\n')
    assert main(["exp", "encoder", "--data", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.jsonl:1" in err[0]
