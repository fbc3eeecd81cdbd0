"""Plan 4.2 ablation axes in the trainer: `data.negative_sources` (linter / synthetic / the model's own
invalid beams) and the loss weighting (`loss.weighting`, `loss.weights`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sashimi.cli import main
from sashimi.data.negatives.bank import negatives_for_program
from sashimi.data.synth import generate_corpus
from sashimi.dsl.catalog import Catalog
from sashimi.errors import DataError
from sashimi.model.constraints import ProgramConstraint
from sashimi.model.decoder import DecoderConfig, SashimiDecoder
from sashimi.train import beams
from sashimi.train.config import load_config
from sashimi.train.data import collate
from sashimi.train.losses import LossWeighting
from sashimi.train.trainer import TrainingError, _forward_losses, prepare, train

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.yaml"
GOLDEN = Path(__file__).parent / "data" / "tiny_default_golden.json"
QUIET = lambda *_: None  # noqa: E731


@pytest.fixture(scope="module")
def encoder():
    from sashimi.model.encoder import Encoder

    return Encoder(progress=False)


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


# ----------------------------------------------------------------------------------------------- defaults


def test_default_recipe_trains_exactly_as_before_the_new_axes(tmp_path, encoder):
    """Losses of a default tiny run equal those recorded before negative_sources / beams existed."""
    golden = json.loads(GOLDEN.read_text())
    if golden["torch"] != torch.__version__:
        pytest.skip(f"golden losses were recorded with torch {golden['torch']}, this is {torch.__version__}")
    config = load_config(
        TINY, ["train.steps=20", "train.eval_every=20", "train.ckpt_every=20", "filler.fit=false"]
    )
    assert config["data"]["negative_sources"] == ["linter", "synthetic"]
    train(config, tmp_path / "run", quiet=True, encoder=encoder)
    got = _metrics(tmp_path / "run")
    assert [g["step"] for g in got] == [s["step"] for s in golden["steps"]]
    for g, want in zip(got, golden["steps"], strict=True):
        for key, value in want.items():
            assert g[key] == pytest.approx(value, rel=1e-6, abs=1e-7), (g["step"], key)
    for key, value in golden["dev"].items():
        assert got[-1]["dev"][key] == pytest.approx(value, rel=1e-6, abs=1e-7), key
    assert not (tmp_path / "run" / beams.BEAMS_FILE).exists()


# ----------------------------------------------------------------------------------------------- sources


def test_bank_sources_filter():
    catalog = Catalog.load(None)
    rows = [e.row for e in generate_corpus(40, 0)["train"]][:25]
    default = [t for r in rows for t in negatives_for_program(r, catalog, seed=0, per_program=2)]
    explicit = [
        t
        for r in rows
        for t in negatives_for_program(r, catalog, seed=0, per_program=2, sources=("linter", "synthetic"))
    ]
    assert [t.negative for t in default] == [t.negative for t in explicit]
    assert {t.source for t in default} == {"linter", "synthetic"}
    for only in ("linter", "synthetic"):
        got = [
            t for r in rows for t in negatives_for_program(r, catalog, seed=0, per_program=2, sources=(only,))
        ]
        assert got and {t.source for t in got} == {only}
        # slot 0 has the same seed whatever the list: the linter's first slot is the default bank's
        if only == "linter":
            firsts = [negatives_for_program(r, catalog, seed=0, per_program=1, sources=(only,)) for r in rows]
            defaults = [negatives_for_program(r, catalog, seed=0, per_program=1) for r in rows]
            assert [[t.negative for t in f] for f in firsts] == [[t.negative for t in d] for d in defaults]
    with pytest.raises(ValueError, match="negative sources"):
        negatives_for_program(rows[0], catalog, sources=("beams",))


def test_negative_sources_config_filters_training_negatives_only(encoder):
    base = ["data.max_train_rows=30", "train.steps=10"]
    full = prepare(load_config(TINY, base), encoder=encoder, log=QUIET)
    only = prepare(
        load_config(TINY, [*base, "data.negative_sources=[synthetic]"]), encoder=encoder, log=QUIET
    )
    synth_tags = {"action_swap", "structure", "enum", "param_drop", "handle", "condition", "still_valid"}
    tags = {t for e in only.train.examples for n in e.negatives for t in n.tags}
    assert tags and tags <= synth_tags, tags
    assert only.train.stats["negatives"] > 0
    # dev negatives (separability) do not depend on the training sources
    assert [[n.ids for n in e.negatives] for e in only.dev.examples] == [
        [n.ids for n in e.negatives] for e in full.dev.examples
    ]
    beams_only = prepare(
        load_config(TINY, [*base, "data.negative_sources=[beams]"]), encoder=encoder, log=QUIET
    )
    assert beams_only.train.stats["negatives"] == 0
    for bad in ("[linter, linter]", "[]", "[lint]", "beam"):
        with pytest.raises(DataError, match="negative_sources"):
            prepare(load_config(TINY, [*base, f"data.negative_sources={bad}"]), encoder=encoder, log=QUIET)


# ----------------------------------------------------------------------------------------------- beams


def test_mining_an_untrained_model_finds_invalid_beams_that_make_the_margin_nonzero(encoder):
    config = load_config(
        TINY, ["data.max_train_rows=24", "data.negatives_per_program=0", "data.negative_sources=[beams]"]
    )
    prep = prepare(config, encoder=encoder, log=QUIET)
    torch.manual_seed(0)
    model = SashimiDecoder(DecoderConfig(vocab_size=len(prep.table), **config["model"]))
    settings = beams.BeamSettings(width=3, prompts=12, max_per_program=2, max_seconds=None, batch=5)
    kw = dict(
        vocab=prep.vocab,
        table=prep.table,
        catalog=prep.catalog,
        retrieval=prep.retrieval,
        settings=settings,
        seed=0,
        max_enc_tokens=model.cfg.max_enc_tokens,
        retrieval_len=model.cfg.retrieval_len,
    )
    mined, stats = beams.mine(model, prep.train, **kw)
    assert stats["prompts_decoded"] == 12 and stats["beams"] == 36
    assert stats["invalid"] > 0 and 0 < len(mined) <= 24 and stats["kept"] == len(mined)
    assert sum(stats["invalid_by_tag"].values()) == stats["invalid"]
    assert model.training  # mining leaves the mode as it found it
    again, _ = beams.mine(model, prep.train, **kw)
    assert [m.to_json() for m in again] == [m.to_json() for m in mined]  # deterministic
    constraint = ProgramConstraint(prep.vocab, prep.table, max_len=model.cfg.max_len, catalog=prep.catalog)
    for m in mined:
        ids = prep.table.encode(m.tokens)
        assert beams.classify(ids, constraint, prep.catalog) == (m.tag, m.fail_at)
        assert m.tag in beams.BEAM_SEVERITY and m.rank < settings.width
    assert all(m.row in set(range(len(prep.train))) for m in mined)

    assert all(not e.negatives for e in prep.train.examples)
    negs, _ = beams.to_negatives(mined, prep.train, prep.table, model.cfg.max_len)
    added = beams.attach(prep.train, negs)
    assert added > 0
    rows = sorted(negs)[:8]
    batch = collate(
        prep.train,
        rows,
        vocab_size=model.cfg.vocab_size,
        max_enc_tokens=model.cfg.max_enc_tokens,
        retrieval=prep.retrieval,
        retrieval_len=model.cfg.retrieval_len,
        use_negatives=True,
        generator=torch.Generator().manual_seed(0),
    )
    assert len(batch.neg_rows) == len(rows)
    weighting = LossWeighting("fixed", [1.0, 0.1, 0.1])
    _, terms = _forward_losses(model, weighting, batch, config)
    assert float(terms["margin"].detach()) > 0 and float(terms["repair"].detach()) > 0


def test_classify_accepts_gold_programs_and_tags_a_broken_one(encoder):
    prep = prepare(load_config(TINY, ["data.max_train_rows=10"]), encoder=encoder, log=QUIET)
    constraint = ProgramConstraint(prep.vocab, prep.table, max_len=96, catalog=prep.catalog)
    golds = [e.ids for e in prep.train.examples if not e.truncated]
    assert golds and all(beams.classify(g, constraint, prep.catalog) == (None, None) for g in golds)
    gold = golds[0]
    assert beams.classify(gold[:-1], constraint, prep.catalog) == ("beam:unfinished", len(gold) - 1)
    action_at = next(i for i, t in enumerate(gold) if prep.table.tokens[t].startswith("A:"))
    broken = gold[:action_at] + [prep.table.id("ENDIF")] + gold[action_at + 1 :]
    assert beams.classify(broken, constraint, prep.catalog) == ("beam:action", action_at)


def test_mining_step():
    assert (
        beams.mining_step(0.5, 30) == 15 and beams.mining_step(7, 30) == 7 and beams.mining_step(0.0, 30) == 0
    )
    assert beams.mining_step(None, 30) is None
    for bad in (1.5, 31, -1, "half", True):
        with pytest.raises(DataError):
            beams.mining_step(bad, 30)


def test_resume_after_mining_reads_the_stored_beams(tmp_path, encoder):
    """Killed after the mining step: resumed from the stored beams; killed before: mined again, the same."""
    overrides = [
        "train.steps=20",
        "train.ckpt_every=5",
        "train.eval_every=10",
        "data.max_train_rows=40",
        "data.negative_sources=[linter, synthetic, beams]",
        "data.beam_negatives_at=0.5",
        "data.beam_prompts=16",
        "data.beam_width=3",
        "filler.fit=false",
    ]
    config = load_config(TINY, overrides)
    whole = train(config, tmp_path / "whole", quiet=True, encoder=encoder)
    info = whole["beam_negatives"]
    assert info["step"] == 10 and info["prompts_decoded"] == 16 and info["added"] > 0
    mined = json.loads((tmp_path / "whole" / beams.BEAMS_FILE).read_text())
    strip = lambda m: {  # noqa: E731
        k: ({**v, "seconds": None, "cpu_seconds": None} if k == "beam_negatives" else v)
        for k, v in m.items()
        if k != "steps_per_s"
    }
    for interrupt_at in (15, 5):
        parts = tmp_path / f"parts{interrupt_at}"
        killed = load_config(TINY, [*overrides, f"train.interrupt_at={interrupt_at}"])
        assert train(killed, parts, quiet=True, encoder=encoder) == {"interrupted_at": interrupt_at}
        stored = parts / beams.BEAMS_FILE
        assert stored.exists() == (interrupt_at > 10)
        before = stored.read_text() if stored.exists() else None
        resumed = train(config, parts, quiet=True, encoder=encoder, resume=True)
        if before is not None:
            assert stored.read_text() == before  # read back, not mined again
        again = json.loads(stored.read_text())
        assert again["negatives"] == mined["negatives"] and again["step"] == 10
        assert [strip(m) for m in _metrics(tmp_path / "whole")] == [strip(m) for m in _metrics(parts)]
        assert resumed["metrics"] == whole["metrics"]
        assert sum("beam_negatives" in m for m in _metrics(parts)) == 1


def test_resume_without_the_stored_beams_is_an_error(tmp_path, encoder):
    overrides = [
        "train.steps=20",
        "train.ckpt_every=10",
        "data.negative_sources=[beams]",
        "data.beam_negatives_at=5",
        "data.beam_prompts=8",
        "filler.fit=false",
    ]
    train(
        load_config(TINY, [*overrides, "train.interrupt_at=10"]), tmp_path / "r", quiet=True, encoder=encoder
    )
    (tmp_path / "r" / beams.BEAMS_FILE).unlink()
    with pytest.raises(TrainingError, match="beam negatives"):
        train(load_config(TINY, overrides), tmp_path / "r", quiet=True, encoder=encoder, resume=True)


# ----------------------------------------------------------------------------------------------- weighting


def test_fixed_weights_from_the_command_line_weight_the_terms(tmp_path, capsys):
    run = tmp_path / "fixed"
    args = ["train", "--config", str(TINY), "--out", str(run), "--quiet"]
    sets = ["train.steps=4", "train.eval_every=4", "filler.fit=false", "loss.weights=[1,0.5,0.5]"]
    assert main([*args, *[x for s in sets for x in ("--set", s)]]) == 0
    meta = json.loads((run / "meta.json").read_text())
    assert meta["loss_weighting"] == {
        "mode": "fixed",
        "final_weights": {"ce": 1.0, "margin": 0.5, "repair": 0.5},
    }
    bag_weight = load_config(TINY)["loss"]["bag_weight"]
    for m in _metrics(run):
        want = m["ce"] + 0.5 * m["margin"] + 0.5 * m["repair"] + bag_weight * m["bag"]
        assert m["loss"] == pytest.approx(want, rel=1e-5)


def test_adaptive_weighting_logs_its_learned_weights(tmp_path):
    run = tmp_path / "adaptive"
    args = ["train", "--config", str(TINY), "--out", str(run), "--quiet"]
    sets = ["train.steps=20", "train.eval_every=10", "train.log_every=10", "filler.fit=false"]
    sets.append("loss.weighting=adaptive")
    assert main([*args, *[x for s in sets for x in ("--set", s)]]) == 0
    logged = [m["loss_weights"] for m in _metrics(run) if "loss_weights" in m]
    assert len(logged) == 2 and all(set(w) == {"ce", "margin", "repair"} for w in logged)
    assert any(abs(v - 1.0) > 1e-3 for v in logged[-1].values())  # exp(-s) moved from its start, 1
    meta = json.loads((run / "meta.json").read_text())
    assert meta["loss_weighting"]["mode"] == "adaptive"
    assert meta["loss_weighting"]["final_weights"] == logged[-1]
