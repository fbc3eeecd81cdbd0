"""`sashimi train` / `generate` / `evaluate` with `model.output_target=dsl_text` (plan 4.1.5) on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sashimi.cli import main
from sashimi.model.checkpoint import load_run
from sashimi.model.encoder import Encoder
from sashimi.model.text_target import TextTokenizer
from sashimi.model.token_table import EOS_ID
from sashimi.train.config import load_config
from sashimi.train.trainer import evaluate, prepare, train

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.yaml"
TEXT = ["model.output_target=dsl_text", "model.text_vocab_size=384", "model.text_max_len=384"]


@pytest.fixture(scope="module")
def encoder():
    return Encoder(progress=False)


def test_text_examples_negatives_and_run_folder(tmp_path, encoder):
    config = load_config(TINY, [*TEXT, "data.max_train_rows=12", "train.steps=4", "train.eval_every=4"])
    prep = prepare(config, encoder=encoder, log=lambda *_: None)
    assert prep.text is not None and len(prep.table) == len(prep.text) <= 384
    for ex in prep.train.examples:
        assert ex.ids[-1] == EOS_ID and set(ex.tiers) == {1}
        assert prep.text.decode(ex.ids) == prep.text.decode(ex.ids[:-1])
        assert prep.text.decode(ex.ids[:-1]).startswith("SHORTCUT ")
        for neg in ex.negatives:  # rendered to text, diverging where the token ids differ
            assert neg.ids != ex.ids and neg.ids[-1] == EOS_ID
            assert neg.pos_div and max(neg.pos_div) < len(ex.ids)
            assert neg.neg_div and max(neg.neg_div) < len(neg.ids)
    assert prep.train.stats["negatives"] > 0 and prep.train.stats["target"] == "dsl_text"
    train(config, tmp_path / "run", quiet=True, encoder=encoder)
    run = tmp_path / "run"
    assert (run / "tokenizer.json").is_file() and not (run / "filler").exists()
    meta = json.loads((run / "meta.json").read_text())
    assert meta["output_target"] == "dsl_text" and meta["filler"]["fitted"] is False
    loaded = load_run(run)
    assert loaded.decoder.cfg.max_len == 384 and loaded.text.to_str() == prep.text.to_str()
    assert TextTokenizer.load(run).to_str() == prep.text.to_str()


def test_overfits_a_few_programs_to_exact_text(tmp_path, encoder):
    config = load_config(
        TINY,
        [
            *TEXT,
            "data.max_train_rows=6",
            "data.negatives_per_program=0",
            "train.steps=200",
            "train.batch_size=6",
            "train.lr=0.005",
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
    assert len(prep.train) == 6
    result = evaluate(loaded.decoder, prep.train, config, prep.retrieval)
    assert result["seq_acc"] == 1.0, result
    assert result["tier1_token_acc"] == result["token_acc"] == 1.0  # text: every token counts as Tier 1


def test_cli_train_generate_evaluate(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "--config", str(TINY), "--out", str(run), "--quiet"]
    for s in [*TEXT, "data.max_train_rows=16", "train.steps=6", "train.eval_every=6", "model.retrieval_k=2"]:
        argv += ["--set", s]
    assert main(argv) == 0
    from sashimi.data.synth import generate_corpus

    rows = [e.row for e in generate_corpus(80, 0)["dev"]][:3]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(r.to_json()) + "\n" for r in rows))
    preds = tmp_path / "preds.jsonl"
    for beam in (1, 2):
        assert main(["generate", "--model", str(run), "--input", str(gold), "--out", str(preds),
                     "--quiet", "--beam", str(beam)]) == 0  # fmt: skip
        out = [json.loads(line) for line in preds.read_text().splitlines()]
        assert [r["id"] for r in out] == [r.shortcut_id for r in rows]
        for r in out:
            if not r["accepted"]:
                continue
            v = r["validity"]
            assert v["linted"] is True and isinstance(v["lint_repairs"], list)
            assert 0 < r["tokens"] <= 384 and (r["tokens"] == 384 or not v["truncated"])
            assert r["dsl"] or v["failed_stage"]  # an untrained model: whatever it wrote, judged as is
            assert set(r["stages"]) == {"encode", "gate", "decode", "compile"}
    capsys.readouterr()
    assert main(["evaluate", "--predictions", str(preds), "--data", str(gold), "--out",
                 str(tmp_path / "eval"), "--name", "text", "--quiet", "--resamples", "50"]) == 0  # fmt: skip
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert summary["order"] == ["text"] and "metrics" in summary["systems"]["text"]
    assert len((tmp_path / "eval" / "rows.jsonl").read_text().splitlines()) == 3
    capsys.readouterr()  # the evaluation's report
    assert main(["generate", "--model", str(run), "set a timer for 10 minutes", "--json"]) in (0, 1, 3)
    one = json.loads(capsys.readouterr().out)
    assert not one["accepted"] or "lint_repairs" in one["validity"]
    # a text run is an ablation: the packed format has no tokenizer, so export says so
    assert main(["export", str(run), "--out", str(tmp_path / "packed"), "--local"]) == 2
    assert "typed_ir models only" in capsys.readouterr().err


@pytest.mark.parametrize("weighting", ["fixed", "adaptive"])
def test_row_chunks_give_the_whole_batch_loss_and_gradients(encoder, weighting):
    import torch

    from sashimi.model.decoder import DecoderConfig, SashimiDecoder
    from sashimi.train.data import collate
    from sashimi.train.losses import LossWeighting
    from sashimi.train.trainer import _accumulated_losses, _forward_losses, split_batch

    config = load_config(
        TINY, [*TEXT, "data.max_train_rows=10", f"loss.weighting={weighting}", "model.retrieval_k=2"]
    )
    prep = prepare(config, encoder=encoder, log=lambda *_: None)
    mc = {**config["model"], "max_len": 384}
    torch.manual_seed(0)
    model = SashimiDecoder(DecoderConfig(vocab_size=len(prep.table), **mc)).train()
    lc = config["loss"]
    weights = LossWeighting(lc["weighting"], lc["weights"], lc["logvar_clamp"])
    if weighting == "adaptive":
        with torch.no_grad():
            weights.log_vars.copy_(torch.tensor([0.3, -0.2, 0.5]))
    batch = collate(
        prep.train, list(range(10)), vocab_size=len(prep.table), max_enc_tokens=32,
        retrieval=prep.retrieval, retrieval_len=int(mc["retrieval_len"]), use_negatives=True,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert len(batch.neg_rows) > 2
    params = list(model.parameters()) + list(weights.parameters())
    total, terms = _forward_losses(model, weights, batch, config)
    total.backward()
    whole = [p.grad.clone() for p in params]
    for p in params:
        p.grad = None
    budget = 3 * (batch.targets.shape[1] + batch.neg_targets.shape[1])  # 3 rows with their negatives
    parts = split_batch(batch, budget)
    assert len(parts) == 4 and sum(p.targets.shape[0] for p in parts) == 10
    total_f, terms_f = _accumulated_losses(model, weights, batch, config, budget)
    assert total_f == pytest.approx(float(total.detach()), rel=1e-5)
    assert terms_f == pytest.approx({k: float(v.detach()) for k, v in terms.items()}, rel=1e-5)
    for a, p in zip(whole, params, strict=True):
        torch.testing.assert_close(p.grad, a, rtol=1e-4, atol=1e-6)
