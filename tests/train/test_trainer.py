"""`sashimi train` on tiny configs: overfitting, the hard-negative terms, kill-and-resume, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sashimi.cli import main
from sashimi.errors import DataError
from sashimi.model.checkpoint import load_run
from sashimi.model.encoder import Encoder
from sashimi.train.config import load_config
from sashimi.train.trainer import evaluate, prepare, train

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.yaml"


@pytest.fixture(scope="module")
def encoder():
    return Encoder(progress=False)


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_overfits_32_examples_to_full_tier1_accuracy(tmp_path, encoder):
    config = load_config(
        TINY,
        [
            "data.max_train_rows=32",
            "data.negatives_per_program=0",
            "train.steps=260",
            "train.batch_size=32",
            "train.lr=0.004",
            "train.warmup_steps=10",
            "train.min_lr_ratio=0.3",
            "train.eval_every=1000",
            "train.ckpt_every=1000",
            "train.select=last",
            "loss.bag_weight=0.0",
        ],
    )
    train(config, tmp_path / "run", quiet=True, encoder=encoder)
    loaded = load_run(tmp_path / "run")
    prep = prepare(config, encoder=encoder, log=lambda *_: None)
    assert len(prep.train) == 32
    result = evaluate(loaded.decoder, prep.train, config, prep.retrieval)
    assert result["tier1_seq_acc"] == 1.0, result


def test_margin_and_repair_are_nonzero_and_move(tmp_path, encoder):
    config = load_config(TINY, ["train.steps=30", "train.eval_every=30", "train.ckpt_every=30"])
    train(config, tmp_path / "run", quiet=True, encoder=encoder)
    lines = _metrics(tmp_path / "run")
    margins = [m["margin"] for m in lines]
    repairs = [m["repair"] for m in lines]
    assert margins[0] > 0 and repairs[0] > 0
    assert min(margins) < margins[0] - 1e-3 and min(repairs) < repairs[0] - 1e-3
    assert len(set(margins)) > 10 and len(set(repairs)) > 10
    dev = json.loads((tmp_path / "run" / "meta.json").read_text())["metrics"]["dev"]
    assert dev["separability_pairs"] > 0 and dev["separability_nats"] is not None


@pytest.mark.parametrize(
    "extra", [[], ["model.retrieval_k=2", "model.weight_regime=full", "loss.weighting=adaptive"]]
)
def test_kill_and_resume_equals_uninterrupted(tmp_path, encoder, extra):
    overrides = ["train.steps=30", "train.ckpt_every=10", "train.eval_every=15", "model.dropout=0.1", *extra]
    config = load_config(TINY, overrides)
    train(config, tmp_path / "whole", quiet=True, encoder=encoder)
    killed = load_config(TINY, [*overrides, "train.interrupt_at=24"])
    out = train(killed, tmp_path / "parts", quiet=True, encoder=encoder)
    assert out == {"interrupted_at": 24}
    with pytest.raises(Exception, match="--resume"):
        train(config, tmp_path / "parts", quiet=True, encoder=encoder)
    train(config, tmp_path / "parts", quiet=True, encoder=encoder, resume=True)
    a = load_run(tmp_path / "whole").decoder.state_dict()
    b = load_run(tmp_path / "parts").decoder.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    strip = lambda m: {k: v for k, v in m.items() if k not in ("steps_per_s",)}  # noqa: E731
    assert [strip(m) for m in _metrics(tmp_path / "whole")] == [
        strip(m) for m in _metrics(tmp_path / "parts")
    ]
    meta_a = json.loads((tmp_path / "whole" / "meta.json").read_text())
    meta_b = json.loads((tmp_path / "parts" / "meta.json").read_text())
    assert meta_a["metrics"] == meta_b["metrics"]


def test_run_folder_has_what_load_run_and_reports_need(tmp_path, encoder):
    config = load_config(TINY, ["train.steps=10", "model.retrieval_k=2", "model.weight_regime=partial"])
    train(config, tmp_path / "run", quiet=True, encoder=encoder)
    run = tmp_path / "run"
    for name in (
        "config.json",
        "model.safetensors",
        "token_table.json",
        "vocab",
        "meta.json",
        "metrics.jsonl",
        "retrieval.safetensors",
        "config.resolved.json",
    ):
        assert (run / name).exists(), name
    meta = json.loads((run / "meta.json").read_text())
    assert meta["params"]["ternary"] > 0 and meta["params"]["total"] >= meta["params"]["trainable"]
    assert meta["ternary_shares"] and all(
        abs(s["neg"] + s["zero"] + s["pos"] - 1) < 1e-6 for s in meta["ternary_shares"].values()
    )
    assert meta["wall_seconds"] > 0 and "git_commit" in meta
    loaded = load_run(run)
    assert not loaded.decoder.training and loaded.retrieval is not None
    assert len(loaded.table) == loaded.decoder.cfg.vocab_size
    pooled = encoder.embed(["set a timer for 5 minutes"])
    memory = loaded.memory(pooled, encoder.token_states(["set a timer for 5 minutes"]))
    cache = loaded.decoder.init_cache(memory)
    logits, _ = loaded.decoder.step(memory, torch.tensor([1]), cache)
    assert logits.shape == (1, len(loaded.table))


def test_a_given_dev_file_replaces_the_carve(tmp_path, encoder):
    from sashimi.data.synth import generate_corpus
    from sashimi.dsl.corpus import save_corpus

    splits = generate_corpus(60, seed=0)
    save_corpus(tmp_path / "train.jsonl", [e.row for e in splits["train"]])
    save_corpus(tmp_path / "dev.jsonl", [e.row for e in splits["dev"]])
    config = load_config(TINY, ["train.steps=2", "train.eval_every=2", f"data.dev_file={tmp_path / 'dev.jsonl'}"])
    train(config, tmp_path / "run", [str(tmp_path / "train.jsonl")], quiet=True, encoder=encoder)
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["data"]["dev_file"]["path"] == str(tmp_path / "dev.jsonl") and "dev_carve" not in meta["data"]
    dev = [m["dev"] for m in _metrics(tmp_path / "run") if "dev" in m]
    assert dev and dev[-1]["rows"] == len(splits["dev"])  # every dev row, none carved from training


def test_a_carve_that_would_take_a_whole_data_file_is_an_error(tmp_path, encoder):
    """Beside a large file of one family (our synthetic corpus: every row `synth-0-…`), a small file of
    many families fits in the carve's share whole: none of its rows would train. Said, not done."""
    from dataclasses import replace

    from sashimi.data.synth import generate_corpus
    from sashimi.dsl.corpus import save_corpus

    rows = [e.row for e in generate_corpus(60, seed=0)["train"]]

    def own(i: int, r):  # another family, prompt and program text: not joined to the synthetic group
        _, rest = r.program.split("\n", 1)
        program = f'SHORTCUT "Own {i}"\n{rest}'
        return replace(r, shortcut_id=f"own-{chr(97 + i)}", prompt=f"{r.prompt} ({i})", program=program)

    small = [own(i, r) for i, r in enumerate(rows[:3])]
    save_corpus(tmp_path / "synth.jsonl", rows)
    save_corpus(tmp_path / "small.jsonl", small)
    files = [str(tmp_path / "small.jsonl"), str(tmp_path / "synth.jsonl")]
    with pytest.raises(DataError, match="took every row of this file") as err:
        prepare(load_config(TINY, []), files, encoder=encoder)
    assert err.value.location.file == files[0]
    # with a dev split given, every row of both files trains
    save_corpus(tmp_path / "dev.jsonl", rows[:4])
    prep = prepare(load_config(TINY, [f"data.dev_file={tmp_path / 'dev.jsonl'}"]), files, encoder=encoder)
    assert len(prep.train.examples) == len(rows) + len(small)


def test_cli_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  stepz: 3\n")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "unknown config key train.stepz" in capsys.readouterr().err
    assert main(["train", "--config", str(TINY), "--out", str(tmp_path / "r"), "--set", "nokey"]) == 2
    assert (
        main(
            [
                "train",
                "--config",
                str(TINY),
                "--out",
                str(tmp_path / "r"),
                "--data",
                str(tmp_path / "no.jsonl"),
            ]
        )
        == 2
    )
    assert main(["train", "--config", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "r")]) == 2


def test_early_exit_stops_a_slow_run(tmp_path, encoder):
    config = load_config(
        TINY, ["train.steps=40", "train.eval_every=10", "train.early_exit={step: 10, min_tier1_acc: 0.99}"]
    )
    meta = train(config, tmp_path / "run", quiet=True, encoder=encoder)
    assert meta["early_exit"]["step"] == 10 and meta["steps_done"] == 10
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_non_finite_loss_stops_with_a_clear_error(tmp_path, encoder, monkeypatch):
    import sashimi.train.trainer as trainer_mod
    from sashimi.train.trainer import TrainingError

    monkeypatch.setattr(trainer_mod, "ce_loss", lambda logits, targets: logits.sum() * float("nan"))
    config = load_config(TINY, ["train.steps=5"])
    with pytest.raises(TrainingError, match="step 1: non-finite loss"):
        train(config, tmp_path / "run", quiet=True, encoder=encoder)


def test_on_eval_sees_every_dev_evaluation_and_may_stop_training(tmp_path, encoder):
    config = load_config(TINY, ["train.steps=30", "train.eval_every=10", "train.ckpt_every=10"])
    seen: list[tuple[int, float]] = []

    class Stop(Exception):
        pass

    def on_eval(step, metrics):
        seen.append((step, metrics["tier12_seq_acc"]))
        if step == 20:
            raise Stop

    with pytest.raises(Stop):
        train(config, tmp_path / "run", quiet=True, encoder=encoder, on_eval=on_eval)
    assert [s for s, _ in seen] == [10, 20]
    lines = _metrics(tmp_path / "run")
    assert lines[-1]["step"] == 20 and lines[-1]["dev"]["tier12_seq_acc"] == seen[-1][1]
    assert json.loads((tmp_path / "run" / "ckpt" / "state.json").read_text())["step"] == 20


def test_distillation_pulls_the_student_towards_its_teacher(tmp_path, encoder):
    """train.distill_from: a full-ternary student of a trained continuous teacher ends closer to the
    teacher's distributions (KL) than the same student trained without it; a teacher that reads other
    inputs is a one-line error."""
    from sashimi.train.losses import distill_loss
    from sashimi.train.trainer import prompt_memory

    base = ["train.steps=60", "train.eval_every=60", "train.ckpt_every=60", "train.select=last"]
    train(load_config(TINY, base), tmp_path / "teacher", quiet=True, encoder=encoder)
    student = [*base, "model.weight_regime=full", "train.seed=1"]
    train(load_config(TINY, student), tmp_path / "plain", quiet=True, encoder=encoder)
    config = load_config(TINY, [*student, f"train.distill_from={tmp_path / 'teacher'}", "loss.distill_weight=2.0"])
    train(config, tmp_path / "distilled", quiet=True, encoder=encoder)
    lines = _metrics(tmp_path / "distilled")
    assert all(m["distill"] > 0 for m in lines) and lines[-1]["distill"] < lines[0]["distill"]

    prep = prepare(config, encoder=encoder, log=lambda *_: None)
    from sashimi.train.data import collate

    rows = list(range(min(16, len(prep.train))))
    batch = collate(
        prep.train, rows, vocab_size=len(prep.table), max_enc_tokens=32, retrieval=None, retrieval_len=64,
        use_negatives=False,
    )
    teacher = load_run(tmp_path / "teacher").decoder

    def kl(run: str) -> float:
        model = load_run(tmp_path / run).decoder
        with torch.no_grad():
            t = teacher(prompt_memory(teacher, batch), batch.inputs)
            s = model(prompt_memory(model, batch), batch.inputs)
        return float(distill_loss(s, t, batch.targets))

    assert kl("distilled") < kl("plain")

    other = load_config(TINY, [*student, "model.max_enc_tokens=16", f"train.distill_from={tmp_path / 'teacher'}"])
    with pytest.raises(DataError, match="teacher's model.max_enc_tokens is 32, this run's 16"):
        train(other, tmp_path / "mismatch", quiet=True, encoder=encoder)
