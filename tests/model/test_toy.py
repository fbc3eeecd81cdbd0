"""EXP-2.1 toy problem: the data is a real structured task, and a short ternary run learns and packs."""

from __future__ import annotations

import json
from dataclasses import replace

from sashimi.cli import main
from sashimi.model.toy import ACTIONS, SEQ_LEN, VOCAB_SIZE, ToyConfig, make_dataset, output_vocab, train_toy


def test_dataset_shape_and_distinct_combinations():
    data = make_dataset(500, seed=0)
    assert len(data) == 500
    assert len({e.combo for e in data}) == 500  # held-out prompts are new combinations
    assert len(output_vocab()) == VOCAB_SIZE == 50
    assert all(len(e.target) == SEQ_LEN and all(0 < t < VOCAB_SIZE for t in e.target) for e in data)
    assert make_dataset(50, seed=3) == make_dataset(50, seed=3)
    assert make_dataset(50, seed=3) != make_dataset(50, seed=4)


def test_target_order_follows_meaning_not_word_order():
    vocab = output_vocab()
    for e in make_dataset(200, seed=1):
        trig, a1, v1, a2, v2 = e.combo
        assert [vocab[t] for t in e.target] == [
            f"TRIG_{trig}",
            f"ACT_{a1}",
            f"ARG_{a1}:{v1}",
            f"ACT_{a2}",
            f"ARG_{a2}:{v2}",
        ]
        if " after you " in e.prompt:  # "B after you A": the first action is spoken second
            verbs_a1 = ACTIONS[a1][0]
            later = e.prompt.split(" after you ", 1)[1]
            assert any(later.startswith(v) for v in verbs_a1)


def test_short_ternary_run_learns_and_packs_identically():
    cfg = replace(ToyConfig(seed=0), steps=200, n_prompts=200)
    result = train_toy(cfg, "ternary")
    assert result["train_sequence_accuracy"] > 0.1  # chance is below 1e-3
    assert result["token_accuracy"] > 0.5
    assert result["packed_same_outputs"] is True
    shares = result["ternary_shares"]
    assert "decoder.head" in shares and "decoder.cross_attn.q" in shares
    assert not any(name.startswith("encoder") for name in shares)  # the prompt encoder stays continuous


def test_cli_writes_run_folder(tmp_path, capsys, monkeypatch):
    import sashimi.model.toy as toy

    monkeypatch.setattr(toy, "ToyConfig", lambda seed=0: ToyConfig(seed=seed, n_prompts=60, steps=5))
    code = main(["exp", "toy", "--json", "--out", str(tmp_path / "run")])
    out = json.loads(capsys.readouterr().out)
    assert code in (0, 1)  # 5 steps cannot pass; the exit code says so
    assert code == (0 if out["passed"] else 1)
    for key in ("ternary_accuracy", "continuous_accuracy", "seconds"):
        assert key in out
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["config"]["steps"] == 5 and "git_commit" in meta and "wall_seconds" in meta
    assert (
        json.loads((tmp_path / "run" / "metrics.json").read_text())["ternary_accuracy"]
        == out["ternary_accuracy"]
    )


def test_progress_bar_on_request_and_quiet_off_a_terminal(capsys):
    cfg = ToyConfig(seed=0, n_prompts=60, steps=5)
    train_toy(cfg, "ternary", progress=True)
    assert "toy ternary" in capsys.readouterr().err
    train_toy(cfg, "ternary")  # default: only on a terminal, and capsys is not one
    assert capsys.readouterr().err == ""
