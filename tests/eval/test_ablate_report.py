"""`sashimi ablate report OUT`: figures from a small hand-made ablation folder in the harness's own format.

The fixture OUT has three runs of a two-seed matrix: A (reference), B (better on 4 more rows of 12; one
seed exited early) and C (one seed failed, one never finished). Every summary.json / rows.jsonl is
written by the harness (`evaluate` + `build_summary` + `write_outputs`) on tiny predictions, so the
format is the real one.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from sashimi import cli
from sashimi.eval.ablate.report import build_report, write_report
from sashimi.eval.harness import Scorer, evaluate, prepare_gold
from sashimi.eval.predictions import read_gold
from sashimi.eval.report import build_summary, write_outputs
from sashimi.io import read_jsonl, write_json, write_jsonl
from sashimi.model.decoder import DecoderConfig, SashimiDecoder

N_ROWS = 12
CORRECT = {  # (run, seed) -> gold rows (by position) predicted exactly; the rest are refused
    ("A", 0): set(range(6)),
    ("A", 1): set(range(5)),
    ("B", 0): set(range(10)),
    ("B", 1): set(range(10)),
    ("C", 0): set(range(3)),
}


def _scored(gold, catalog, correct: set[int], name: str) -> dict:
    preds = [
        {"id": g.row.id, "dsl": g.row.program}
        if i in correct
        else {"id": g.row.id, "dsl": "", "accepted": False}
        for i, g in enumerate(gold)
    ]
    for i, p in enumerate(preds):
        p["ms"] = 10.0 + i
    return evaluate(preds, gold, scorer=Scorer(catalog), name=name, resamples=200)


def _tiny_model(train: Path, regime: str) -> dict:
    cfg = DecoderConfig(
        vocab_size=16, d_model=16, n_layers=1, n_heads=2, d_intent=16, d_bottleneck=8, n_intent=1,
        max_len=8, max_enc_tokens=4, weight_regime=regime,
    )  # fmt: skip
    torch.manual_seed(0)
    model = SashimiDecoder(cfg)
    train.mkdir(parents=True, exist_ok=True)
    write_json(train / "config.json", {"decoder": cfg.to_json(), "train": {}})
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(train / "model.safetensors"))
    return model.param_counts()


@pytest.fixture
def ablation_out(tmp_path, synth_dir, catalog) -> Path:
    out = tmp_path / "abl"
    gold = prepare_gold(read_gold(synth_dir / "test.jsonl")[:N_ROWS], catalog)
    assert len(gold) == N_ROWS
    write_json(
        out / "matrix.json",
        {
            "name": "fixture",
            "base": "configs/tiny.yaml",
            "set": {"train.steps": 40},
            "train_on": ["synth/train"],
            "eval": {"real_dev": "synth/test"},
            "early_exit": {"step": 20, "min_tier1_acc": 0.4},
            "runs": [
                {"name": "A", "question": "reference", "set": {"model.weight_regime": "full"}},
                {
                    "name": "B",
                    "question": "wider",
                    "set": {"model.weight_regime": "full", "model.d_bottleneck": 64},
                },
                {"name": "C", "question": "broken", "set": {"model.weight_regime": "continuous"}},
            ],
            "comparisons": [["A", "B"]],
        },
    )
    write_json(
        out / "ablate.json", [{"matrix": "fixture", "seeds": 3, "workers": 2}]
    )  # 3 seeds asked: seed2 never started
    for (run, seed), correct in CORRECT.items():
        folder = out / "runs" / run / f"seed{seed}"
        report = _scored(gold, catalog, correct, run)
        write_outputs(folder / "eval" / "real_dev", build_summary([report], {"data": "fixture"}), [report])
        status = "early_exit" if (run, seed) == ("B", 1) else "done"
        params = _tiny_model(folder / "train", "full" if run != "C" else "continuous")
        meta = {
            "params": params,
            "early_exit": {"step": 20, "tier1_token_acc": 0.31, "threshold": 0.4}
            if status == "early_exit"
            else None,
            "metrics": {"dev": {"separability_nats": 2.5 + seed}},
        }
        write_json(folder / "train" / "meta.json", meta)
        write_jsonl(
            folder / "train" / "metrics.jsonl",
            [
                {"step": s, "loss": 1.0, "dev": {"ce": 3.0 / s, "tier1_token_acc": 0.1 * s / 10}}
                for s in (10, 20)
            ],
        )
        write_json(
            folder / "result.json",
            {
                "run": run, "seed": seed, "status": status, "error": None, "overrides": {}, "params": params,
                "wall_seconds": {"train": 10.0 + seed, "generate": 2.0, "evaluate": 1.0, "total_this_invocation": 13.0 + seed},
                "cpu_seconds": {"train": 8.0, "generate": 1.5, "evaluate": 0.5, "total_this_invocation": 10.0},
                "metrics": {"real_dev": report["metrics"]},
            },
        )  # fmt: skip
    # C seed 0 failed after training (its eval folder must not count); seed 1 never finished
    write_json(
        out / "runs" / "C" / "seed0" / "result.json",
        {"run": "C", "seed": 0, "status": "failed", "error": "boom: out of memory"},
    )
    (out / "runs" / "C" / "seed1").mkdir(parents=True)
    knn = _scored(gold, catalog, set(range(8)), "knn-minilm")
    empty = _scored(gold, catalog, set(), "empty")
    write_outputs(
        out / "baselines" / "real_dev", build_summary([knn, empty], {"data": "fixture"}), [knn, empty]
    )
    return out


def _csv(path: Path) -> dict[tuple[str, str], dict]:
    with open(path, encoding="utf-8") as fh:
        return {(r["name"], r["evalset"]): r for r in csv.DictReader(fh)}


def _comparison(out: Path, metric: str) -> dict:
    with open(out / "comparisons.csv", encoding="utf-8") as fh:
        return next(r for r in csv.DictReader(fh) if r["metric"] == metric and r["evalset"] == "real_dev")


def test_csv_numbers_come_from_the_seeds(ablation_out):
    write_report(ablation_out, resamples=300)
    rows = _csv(ablation_out / "results.csv")
    a = rows[("A", "real_dev")]
    seed_values = [
        json.loads((ablation_out / f"runs/A/seed{s}/eval/real_dev/summary.json").read_text())["systems"]["A"][
            "metrics"
        ]["action_f1"]
        for s in (0, 1)
    ]
    assert seed_values == [pytest.approx(6 / 12), pytest.approx(5 / 12)]
    assert float(a["action_f1_mean"]) == pytest.approx(np.mean(seed_values))
    assert float(a["action_f1_std"]) == pytest.approx(np.std(seed_values, ddof=1))
    # pooled: rows 0-4 right in both seeds, row 5 in one -> (5 + 0.5) / 12
    assert float(a["action_f1_pooled"]) == pytest.approx(5.5 / 12)
    assert float(a["compile_strict_rate_pooled"]) == pytest.approx(5.5 / 12)
    assert float(a["action_f1_ci_low"]) < 0.5 < float(a["action_f1_ci_high"])
    b = rows[("B", "real_dev")]
    assert float(b["action_f1_mean"]) == pytest.approx(10 / 12)
    assert float(b["action_f1_std"]) == pytest.approx(0.0)
    assert (b["seeds_done"], b["seeds_early_exit"], b["seeds_evaluated"]) == ("1", "1", "2")
    assert b["early_exit_steps"] == "20"
    assert float(a["wall_train_s"]) == pytest.approx(10.5)
    assert float(a["wall_total_s"]) == pytest.approx(13.5) and float(a["cpu_total_s"]) == pytest.approx(10.0)
    assert a["seeds_missing"] == "1"  # ablate.json asked for 3 seeds; seed2 has no folder
    assert int(a["params_ternary"]) > 0 and int(a["params_total"]) > int(a["params_ternary"])
    # packed: ternary at 2 bits + scales, the rest float16 -> well under float32's 4 bytes per parameter
    assert 0 < int(a["packed_bytes"]) < 2 * int(a["params_total"])
    assert int(a["packed_ternary_bytes"]) >= int(a["params_ternary"]) // 4
    knn = rows[("knn-minilm", "real_dev")]
    assert knn["kind"] == "baseline" and float(knn["action_f1_pooled"]) == pytest.approx(8 / 12)


def test_failed_and_unfinished_seeds_are_shown(ablation_out):
    path = write_report(ablation_out, resamples=200)
    c = _csv(ablation_out / "results.csv")[("C", "real_dev")]
    assert (c["seeds_failed"], c["seeds_incomplete"], c["seeds_evaluated"]) == ("1", "1", "0")
    assert c["action_f1_mean"] == ""  # the failed seed's eval folder is not averaged in
    text = path.read_text(encoding="utf-8")
    assert "C seed 0: **failed** — boom: out of memory" in text
    assert "C seed 1: **incomplete**" in text
    assert "| B | 1 | 20 | 0.310 | 0.4 |" in text  # the early exit, its step and figure
    assert "**1 failed**" in text


def test_verdict_flips_when_a_row_changes(ablation_out):
    write_report(ablation_out, resamples=1000, plots=False)
    before = _comparison(ablation_out, "action_f1")
    assert before["verdict"] == "better"  # B right on rows 5-9 where A is not
    assert before["seed_verdict"] == "better"  # B's two seeds agree; A's differ on one row only
    assert float(_comparison(ablation_out, "action_f1")["diff_b_minus_a"]) == pytest.approx(4.5 / 12)
    # B loses rows 8 and 9 in both seeds: its edge shrinks to 2.5 rows of 12 and the interval reaches 0
    for seed in (0, 1):
        rows_path = ablation_out / f"runs/B/seed{seed}/eval/real_dev/rows.jsonl"
        rows = read_jsonl(rows_path)
        for r in rows[8:10]:
            r.update(action_f1=0.0, skeleton_exact=0.0)
        write_jsonl(rows_path, rows)
    write_report(ablation_out, resamples=1000, plots=False)
    flipped = _comparison(ablation_out, "action_f1")
    assert flipped["verdict"] == "no measurable difference"
    assert float(flipped["ci_low"]) <= 0.0 <= float(flipped["ci_high"])
    assert _comparison(ablation_out, "skeleton_exact")["verdict"] == "no measurable difference"


def test_plots_gates_and_cli(ablation_out, capsys):
    assert cli.main(["ablate", "report", str(ablation_out), "--resamples", "100"]) == 0
    plots = {p.name for p in (ablation_out / "plots").glob("*.png")}
    assert plots == {"action_f1.png", "bottleneck.png", "training_curves.png"}  # A/B differ only in width
    report = build_report(ablation_out, resamples=100)
    assert report.sweeps == [["A", "B"]]
    gates = {g["key"]: g for g in report.gates["B"]["gates"]}
    assert gates["compile_strict_rate"]["status"] == "FAIL" and gates["compile_strict_rate"][
        "value"
    ] == pytest.approx(10 / 12)
    assert gates["separability_nats"]["status"] == "pass"  # mean of 2.5 and 3.5
    assert gates["latency_p95_ms"]["status"] == "pass"
    assert "C" not in report.gates
    text = (ablation_out / "report.md").read_text(encoding="utf-8")
    assert "## Promotion gates (plan 5.3) on real_dev" in text and "*knn-minilm* (baseline)" in text
    assert cli.main(["ablate", "report", str(ablation_out / "nowhere")]) == 2
    assert "no matrix.json" in capsys.readouterr().err


def test_seed_aware_interval_sees_a_seed_that_carries_the_difference():
    from sashimi.eval.ablate.report import two_level_diff_ci, verdict

    a = np.zeros((40, 2))
    lucky = np.column_stack([np.ones(40), np.zeros(40)])  # one seed right everywhere, the other nowhere
    low, high = two_level_diff_ci(a, lucky, resamples=500, seed=0)
    assert verdict(low, high) == "no measurable difference" and low <= 0.0 < high
    steady = np.column_stack([np.full(40, 0.5), np.full(40, 0.5)])  # same mean, both seeds agree
    assert verdict(*two_level_diff_ci(a, steady, resamples=500, seed=0)) == "better"
