"""`sashimi train` with a trainable prompt encoder (model.encoder finetune | scratch) on the tiny config:
step-0 features, the encoder trains, run folder round trip, resume, and `sashimi generate` on the run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sashimi.cli import main
from sashimi.model.checkpoint import load_run
from sashimi.model.decoder import DecoderConfig, SashimiDecoder
from sashimi.model.encoder import Encoder
from sashimi.model.prompt_encoder import MiniLMTop
from sashimi.train.config import load_config
from sashimi.train.data import collate
from sashimi.train.trainer import encoder_lr_scale, prepare, prompt_memory, train

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.yaml"
FINETUNE = ["model.encoder=finetune", "model.encoder_finetune_layers=1", "train.encoder_lr=0.001"]
SHORT = ["train.steps=8", "train.eval_every=4", "train.ckpt_every=4", "filler.value_source=synthetic"]


@pytest.fixture(scope="module")
def encoder():
    return Encoder(progress=False)


@pytest.fixture(scope="module")
def finetune_run(tmp_path_factory, encoder):
    out = tmp_path_factory.mktemp("ft") / "run"
    train(load_config(TINY, [*FINETUNE, *SHORT]), out, quiet=True, encoder=encoder)
    return out


def test_finetune_step0_features_are_the_frozen_ones(encoder):
    """Through the trainer's own data path (cached lower-layer states, collate, prompt_memory's encoder
    call), the untrained fine-tune model reads exactly the frozen features of the cached path."""
    config = load_config(TINY, [*FINETUNE, "data.max_train_rows=20"])
    prep = prepare(config, encoder=encoder, log=lambda *_: None)
    cfg = DecoderConfig(vocab_size=len(prep.table), **config["model"])
    model = SashimiDecoder(cfg).eval()
    model.prompt_encoder.load_pretrained()
    batch = collate(
        prep.train, list(range(12)), vocab_size=cfg.vocab_size, max_enc_tokens=cfg.max_enc_tokens,
        retrieval=None, retrieval_len=cfg.retrieval_len, use_negatives=False,
    )  # fmt: skip
    with torch.no_grad():
        pooled, states, mask = model.read_prompt(
            batch.pooled, batch.token_states, batch.token_mask, batch.enc_inputs
        )
    np.testing.assert_allclose(pooled.numpy(), batch.pooled.numpy(), atol=2e-5)
    t = batch.token_states.shape[1]
    assert torch.equal(mask[:, :t], batch.token_mask)
    np.testing.assert_allclose(
        (states[:, :t] * mask[:, :t, None]).numpy(), batch.token_states.numpy(), atol=2e-4
    )


def test_the_finetuned_layers_train_and_round_trip(finetune_run, encoder):
    run = finetune_run
    loaded = load_run(run)
    pe = loaded.decoder.prompt_encoder
    assert isinstance(pe, MiniLMTop) and pe.n_layers == 1 and not pe.training
    start = MiniLMTop(1).load_pretrained()
    moved = [n for n, p in pe.named_parameters() if not torch.equal(p, dict(start.named_parameters())[n])]
    assert len(moved) == len(list(start.parameters()))  # every weight of the top layer was trained
    # the run folder holds them (safetensors) and load_run gives back exactly what training saved
    from safetensors.torch import load_file

    saved = load_file(str(run / "model.safetensors"))
    enc_keys = [k for k in saved if k.startswith("prompt_encoder.")]
    assert enc_keys and all(torch.equal(saved[k], loaded.decoder.state_dict()[k]) for k in enc_keys)
    meta = json.loads((run / "meta.json").read_text())
    n_enc = sum(p.numel() for p in pe.parameters())
    assert meta["params"]["encoder"] == n_enc == meta["encoder"]["trainable_params"]
    assert meta["params"]["total"] == sum(p.numel() for p in loaded.decoder.parameters())
    assert meta["encoder"]["kind"] == "finetune" and meta["encoder"]["lr"] == pytest.approx(0.001)
    health = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(r["grad_norm_by_part"]["prompt_encoder"] > 0 for r in health if "grad_norm_by_part" in r)


def test_generate_uses_the_runs_encoder(finetune_run, capsys):
    from sashimi.model.generator import Generator

    gen = Generator.load(finetune_run)
    prompt = "set a timer for 5 minutes"
    result = gen.generate(prompt)
    assert result.accepted and result.dsl.startswith("SHORTCUT") and result.validity["parsed"]
    # the memory it decodes from is the fine-tuned encoder's: zeroing that encoder's weights changes it
    pooled, states = gen.encoder.encode([prompt])
    from sashimi.model.prompt_encoder import prompt_inputs

    enc = prompt_inputs(gen.model.decoder.prompt_encoder, [prompt], gen.encoder)
    before = gen.model.memory(pooled, states, enc).states.clone()
    with pytest.raises(ValueError, match="finetune prompt encoder"):
        gen.model.memory(pooled, states)
    with torch.no_grad():
        gen.model.decoder.prompt_encoder.layers[0].ff_out.weight.mul_(0.0)
    assert not torch.allclose(before, gen.model.memory(pooled, states, enc).states)
    assert main(["generate", "--model", str(finetune_run), prompt, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["accepted"] and out["dsl"] == result.dsl


def test_scratch_trains_saves_resumes_and_generates(tmp_path, encoder):
    overrides = ["model.encoder=scratch", "model.encoder_scratch_d=32", "train.steps=12", "train.ckpt_every=4",
                 "train.eval_every=6", "model.dropout=0.1", "filler.value_source=synthetic"]  # fmt: skip
    config = load_config(TINY, overrides)
    assert encoder_lr_scale(config) == 1.0 and encoder_lr_scale(load_config(TINY, FINETUNE[:1])) == 0.1
    train(config, tmp_path / "whole", quiet=True, encoder=encoder)
    train(
        load_config(TINY, [*overrides, "train.interrupt_at=8"]),
        tmp_path / "parts",
        quiet=True,
        encoder=encoder,
    )
    train(config, tmp_path / "parts", quiet=True, encoder=encoder, resume=True)
    a, b = load_run(tmp_path / "whole"), load_run(tmp_path / "parts")
    sa, sb = a.decoder.state_dict(), b.decoder.state_dict()
    assert any(k.startswith("prompt_encoder.tok_emb") for k in sa)
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    torch.manual_seed(0)  # the untrained init of the same config: training moved the encoder
    fresh = SashimiDecoder(a.decoder.cfg).prompt_encoder.state_dict()
    assert not torch.equal(fresh["out.weight"], sa["prompt_encoder.out.weight"])
    from sashimi.model.generator import Generator

    result = Generator.load(tmp_path / "whole").generate("remind me to call mum at 6pm")
    assert result.accepted and result.dsl.startswith("SHORTCUT")


def test_prompt_memory_of_a_frozen_batch_is_the_plain_path(encoder):
    config = load_config(TINY, ["data.max_train_rows=8"])
    prep = prepare(config, encoder=encoder, log=lambda *_: None)
    assert prep.train.enc_inputs is None
    cfg = DecoderConfig(vocab_size=len(prep.table), **config["model"])
    model = SashimiDecoder(cfg).eval()
    batch = collate(
        prep.train, list(range(8)), vocab_size=cfg.vocab_size, max_enc_tokens=cfg.max_enc_tokens,
        retrieval=None, retrieval_len=cfg.retrieval_len, use_negatives=False,
    )  # fmt: skip
    assert batch.enc_inputs is None
    with torch.no_grad():
        a = prompt_memory(model, batch).states
        b = model.encode(batch.pooled, batch.token_states, batch.token_mask).states
    assert torch.equal(a, b)
