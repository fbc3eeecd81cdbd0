"""`sashimi hpo` on a tiny config: the study file, resuming, a killed trial's retry, pruning, bad arguments."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="optuna is not installed (pip install -e '.[hpo]')")

from sashimi.cli import main  # noqa: E402
from sashimi.data.synth import generate_corpus  # noqa: E402
from sashimi.dsl.corpus import save_corpus  # noqa: E402
from sashimi.eval import hpo  # noqa: E402
from sashimi.eval.hpo import HpoSettings, load_space, run_hpo  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.yaml"
BASE_SETS = [
    "model.weight_regime=full",
    "data.max_train_rows=24",
    "train.eval_every=10",
    "train.ckpt_every=10",
    "train.warmup_steps=2",
    "filler.fit=false",  # the tier12 objective needs no filler; the action_f1 test turns it on
]
SPACE = """
train.lr: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}
train.steps: {type: int, low: 10, high: 20, step: 10}
train.batch_size: {type: categorical, choices: [8, 16]}
train.ternary_warmup_fraction: {type: float, low: 0.0, high: 0.5}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Synthetic train/dev JSONL; each row its own family, so the trainer can carve its dev set."""
    out = tmp_path_factory.mktemp("hpo_data")
    for name, examples in generate_corpus(120, seed=3).items():
        rows = [dataclasses.replace(e.row, shortcut_id=f"{name}{i}x") for i, e in enumerate(examples)]
        save_corpus(out / f"{name}.jsonl", rows)
    (out / "space.yaml").write_text(SPACE)
    return out


def _settings(files: Path, out: Path, **kw) -> HpoSettings:
    args = {
        "config": TINY,
        "data": [files / "train.jsonl"],
        "dev": files / "dev.jsonl",
        "trials": 2,
        "out": out,
        "storage": str(out / "study.db"),
        "sets": list(BASE_SETS),
        "objective": "tier12_seq_acc",
        "space": files / "space.yaml",
        "quiet": True,
    }
    args.update(kw)
    return HpoSettings(**args)


def _study(out: Path, name: str = "sashimi") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{out / 'study.db'}")


def test_default_space_is_the_documented_file():
    assert load_space(None) == load_space(ROOT / "configs" / "hpo" / "space.yaml")


def test_study_file_is_created_and_a_rerun_adds_trials(files, tmp_path):
    out = tmp_path / "hpo"
    first = run_hpo(_settings(files, out, trials=2))
    assert (out / "study.db").is_file() and (out / "hpo.png").is_file()
    assert [t["number"] for t in first["trials"]] == [0, 1]
    records = {n: json.loads((out / "trials" / str(n) / "trial.json").read_text()) for n in (0, 1)}
    for n, rec in records.items():
        assert rec["state"] in ("COMPLETE", "PRUNED")
        assert (out / "trials" / str(n) / "metrics.jsonl").is_file()
        assert rec["params"] == first["trials"][n]["params"]
    # the same command again: the study is complete, nothing is redone
    again = run_hpo(_settings(files, out, trials=2))
    assert [t["number"] for t in again["trials"]] == [0, 1]
    assert [t["value"] for t in again["trials"]] == [t["value"] for t in first["trials"]]
    # a larger --trials adds one trial, keeping the first two untouched
    more = run_hpo(_settings(files, out, trials=3))
    assert [t["number"] for t in more["trials"]] == [0, 1, 2]
    assert more["trials"][:2] == first["trials"][:2]
    assert json.loads((out / "hpo.json").read_text())["counts"] == more["counts"]
    assert sum(more["counts"].values()) == 3


def test_killed_trial_is_retried_from_its_checkpoint(files, tmp_path, monkeypatch):
    out = tmp_path / "hpo"
    real_train = hpo.train

    def killed_after_first_eval(*args, on_eval=None, **kw):
        def hook(step, metrics):
            on_eval(step, metrics)
            raise KeyboardInterrupt  # as if killed after the checkpoint of step 10

        return real_train(*args, on_eval=hook, **kw)

    monkeypatch.setattr(hpo, "train", killed_after_first_eval)
    space = files / "space20.yaml"
    space.write_text(SPACE.replace("low: 10, high: 20", "low: 20, high: 20"))
    with pytest.raises(KeyboardInterrupt):
        run_hpo(_settings(files, out, trials=1, space=space))
    assert [t.state.name for t in _study(out).trials] == ["RUNNING"]  # what a kill leaves behind
    assert (out / "trials" / "0" / "ckpt" / "state.json").is_file()
    (out / "hpo.lock").write_text("999999999")  # a kill also leaves its lock: a dead pid is taken over
    monkeypatch.setattr(hpo, "train", real_train)

    result = run_hpo(_settings(files, out, trials=1, space=space))
    killed, retry = result["trials"]
    assert killed["state"] == "FAIL" and killed["killed"] is True
    assert retry["state"] == "COMPLETE" and retry["retry_of"] == 0
    assert retry["params"] == killed["params"]
    assert set(retry["intermediate"]) == {"10", "20"}  # step 10 replayed from the folder, 20 trained
    assert not (out / "trials" / "0").exists()  # the retry took the killed trial's folder over
    run = out / "trials" / "1"
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 21))  # resumed at 11, not restarted
    assert json.loads((run / "meta.json").read_text())["steps_done"] == 20
    assert result["counts"] == {"COMPLETE": 1, "FAIL": 1}

    # the same recipe never interrupted (a fresh study, same seed: the same first trial) ends the same
    fresh = run_hpo(_settings(files, tmp_path / "fresh", trials=1, space=space))
    assert fresh["trials"][0]["params"] == retry["params"]
    assert fresh["trials"][0]["value"] == retry["value"]


def test_pruner_stops_a_hopeless_trial(files, tmp_path):
    out = tmp_path / "hpo"
    space = files / "space_prune.yaml"
    space.write_text(
        "train.lr: {type: float, low: 1.0e-7, high: 1.0e-2, log: true}\n"
        "train.steps: {type: int, low: 30, high: 30}\n"
    )
    settings = _settings(files, out, trials=1, space=space, prune_startup=1, prune_on="token_acc")
    os.makedirs(out)
    study = optuna.create_study(
        study_name="sashimi", storage=f"sqlite:///{out / 'study.db'}", direction="maximize"
    )
    study.enqueue_trial({"train.lr": 1.0e-2, "train.steps": 30})
    run_hpo(settings)
    study.enqueue_trial({"train.lr": 1.0e-7, "train.steps": 30})  # learns nothing in 30 steps
    settings.trials = 2
    result = run_hpo(settings)
    good, hopeless = result["trials"]
    assert good["state"] == "COMPLETE" and hopeless["state"] == "PRUNED"
    assert set(hopeless["intermediate"]) == {"10"}
    record = json.loads((out / "trials" / "1" / "trial.json").read_text())
    assert record["state"] == "PRUNED" and "pruned at step 10" in record["pruned"]
    lines = (out / "trials" / "1" / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["step"] == 10
    assert result["best"]["number"] == 0


def test_action_f1_objective_scores_generated_predictions(files, tmp_path):
    out = tmp_path / "hpo"
    sets = [s for s in BASE_SETS if not s.startswith("filler.")]
    space = files / "space10.yaml"
    space.write_text(SPACE.replace("low: 10, high: 20", "low: 10, high: 10"))
    result = run_hpo(_settings(files, out, trials=1, space=space, sets=sets, objective="action_f1"))
    run = out / "trials" / "0"
    preds = (run / "preds_dev.jsonl").read_text().splitlines()
    n_dev = len((files / "dev.jsonl").read_text().splitlines())
    assert len(preds) == n_dev
    summary = json.loads((run / "eval" / "summary.json").read_text())
    assert summary["n"] == n_dev
    assert result["best"]["value"] == summary["metrics"]["action_f1"]
    assert result["objective"]["name"] == "action_f1"
    assert result["best"]["metrics"]["dev_tier12_seq_acc"] is not None
    assert set(result["trials"][0]["wall_seconds"]) == {"train", "generate", "evaluate", "total"}


def _cli(files: Path, out: Path, *extra: str) -> list[str]:
    args = [
        "hpo",
        "--config",
        str(TINY),
        "--data",
        str(files / "train.jsonl"),
        "--dev",
        str(files / "dev.jsonl"),
    ]
    args += ["--out", str(out), "--space", str(files / "space.yaml"), "--objective", "tier12_seq_acc"]
    for s in BASE_SETS:
        args += ["--set", s]
    return args + list(extra)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--trials", "0"], "--trials must be at least 1"),
        (["--trials", "1", "--timeout", "-5"], "--timeout must be a positive"),
        (["--trials", "1", "--storage", "postgresql://x/y"], "only SQLite is supported"),
        (["--trials", "1", "--set", "train.stepz=3"], "unknown config key train.stepz"),
    ],
)
def test_bad_arguments_are_one_line_errors(files, tmp_path, capsys, extra, message):
    assert main(_cli(files, tmp_path / "out", *extra)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error:") and message in err


def test_bad_files_and_spaces_are_one_line_errors(files, tmp_path, capsys):
    def run(*args: str) -> str:
        assert main(list(args)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error:"), err
        return err

    base = _cli(files, tmp_path / "out", "--trials", "1")
    missing = [a if a != str(files / "dev.jsonl") else str(tmp_path / "nope.jsonl") for a in base]
    assert "nope.jsonl: file not found" in run(*missing)
    same = [a if a != str(files / "dev.jsonl") else str(files / "train.jsonl") for a in base]
    assert "also a --data file" in run(*same)
    for text, message in [
        ("train.lrr: {type: float, low: 0.1, high: 1}\n", "unknown config key train.lrr"),
        ("train.lr: {type: gaussian}\n", "type: float | int | categorical"),
        ("train.lr: {type: float, low: 0, high: 1, log: true}\n", "log-uniform range needs low > 0"),
        ("train.lr: {type: float, low: 1, high: 0.1}\n", "is above high"),
        ("train.steps: {type: int, low: 10, high: 20, stp: 5}\n", "unknown field(s) ['stp']"),
        ("train.lr: [1, 2\n", "invalid YAML"),
    ]:
        bad = tmp_path / "bad_space.yaml"
        bad.write_text(text)
        args = [a if a != str(files / "space.yaml") else str(bad) for a in base]
        assert message in run(*args), text
    # another process holds the study's folder (the lock names a live pid)
    out = tmp_path / "locked"
    out.mkdir()
    (out / "hpo.lock").write_text(str(os.getppid()))
    assert "another sashimi hpo" in run(*_cli(files, out, "--trials", "1"))


def test_a_study_refuses_another_recipe(files, tmp_path, capsys):
    out = tmp_path / "hpo"
    run_hpo(_settings(files, out, trials=1))
    args = _cli(files, out, "--trials", "2", "--storage", str(out / "study.db"), "--set", "loss.margin=2.0")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "was run with another base_config" in err and err.count("\n") == 1
