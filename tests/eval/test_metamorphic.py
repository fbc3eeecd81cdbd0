"""The gate's metamorphic test (issue 16 item 3): rewrites, flip counting, and the command on a sample."""

from __future__ import annotations

import json

from sashimi.cli import main
from sashimi.eval.metamorphic import REWRITES, flip_rates, rewrite_all
from sashimi.model.gate import GateDecision


def test_eight_rewrites_each_change_the_text_as_documented():
    assert len(REWRITES) == 8
    out = rewrite_all(["Turn on the flashlight.", "What is the capital of Peru?"], seed=0)
    assert out["please"] == ["Turn on the flashlight, please.", "What is the capital of Peru, please?"]
    assert out["for_me"][0] == "Turn on the flashlight for me."
    assert out["right_now"][1] == "What is the capital of Peru right now?"
    assert out["hey_siri"] == ["Hey Siri, turn on the flashlight.", "Hey Siri, what is the capital of Peru?"]
    assert out["can_you"] == [
        "Can you turn on the flashlight?",
        "Can you help with this? What is the capital of Peru?",
    ]
    assert out["lower"][1] == "what is the capital of peru?"
    assert out["punct"] == ["Turn on the flashlight", "What is the capital of Peru"]
    assert rewrite_all(["no punctuation here"])["punct"] == ["no punctuation here."]
    typo = out["typo"][0]
    assert typo != "Turn on the flashlight." and sorted(typo) == sorted("Turn on the flashlight.")
    assert rewrite_all(["Turn on the flashlight."], seed=0)["typo"] == [typo]  # seeded


class _WordGate:
    """Accepts exactly the texts that contain 'flashlight' and not 'Siri' (so hey_siri always flips)."""

    def decide(self, texts):
        return [GateDecision("flashlight" in t and "Siri" not in t, 0.0) for t in texts]


def test_flip_rates_count_changed_decisions_per_kind():
    rows = [
        {"prompt": "Turn on the flashlight.", "label": "in_domain"},
        {"prompt": "Write a poem.", "label": "ood"},
    ]
    result = flip_rates(_WordGate(), rows)
    assert result["n"] == 2 and result["kinds"] == list(REWRITES)
    assert result["per_kind"]["hey_siri"]["flips"] == 1 and result["per_kind"]["hey_siri"]["flip_rate"] == 0.5
    assert result["per_kind"]["hey_siri"]["flip_rate_by_label"] == {"in_domain": 1.0, "ood": 0.0}
    assert result["per_kind"]["please"]["flips"] == 0 and result["per_kind"]["please"]["meets_bar"]
    assert result["worst_kind"] == "hey_siri" and not result["all_kinds_meet_bar"]


def test_cli_on_a_sample_of_the_blind_set_with_the_shipped_gate(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    monkeypatch.setenv("SASHIMI_CACHE", str(tmp_path / "cache"))
    blind = Path(__file__).parents[1] / "data" / "gate_blind.jsonl"
    rows = [json.loads(line) for line in blind.read_text(encoding="utf-8").splitlines()]
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(json.dumps(r) + "\n" for r in rows[::60]))  # 11 rows, both labels
    assert main(["exp", "gate-flips", "--data", str(sample), "--json", "--out", str(tmp_path / "run")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 11 and set(out["per_kind"]) == set(REWRITES)
    assert all(0.0 <= v["flip_rate"] <= 1.0 for v in out["per_kind"].values())
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["n"] == 11
