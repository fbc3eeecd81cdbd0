"""`sashimi interpret` on a tiny full-ternary run trained in the test (configs/tiny.yaml, seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sashimi.cli import main
from sashimi.data.synth import generate_corpus
from sashimi.dsl.catalog import Catalog
from sashimi.eval.harness import Scorer, evaluate, prepare_gold
from sashimi.eval.interpret.attribution import attribute_row
from sashimi.eval.interpret.failures import localise
from sashimi.eval.interpret.weights import head_patterns, top_actions, weight_patterns
from sashimi.eval.predictions import GoldRow, Prediction
from sashimi.io import write_jsonl
from sashimi.model.checkpoint import load_run
from sashimi.model.encoder import Encoder
from sashimi.model.ternary import PackedBitLinear, pack_model
from sashimi.train.config import load_config
from sashimi.train.data import build_examples, parse_rows
from sashimi.train.trainer import train

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.yaml"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny full-ternary run with retrieval, and its synthetic dev rows as a JSONL file."""
    root = tmp_path_factory.mktemp("interp")
    overrides = [
        "train.steps=30",
        "train.eval_every=30",
        "train.ckpt_every=30",
        "model.weight_regime=full",
        "model.retrieval_k=2",
        "model.retrieval_len=32",
    ]
    config = load_config(TINY, overrides)
    encoder = Encoder(progress=False)
    train(config, root / "run", quiet=True, encoder=encoder)
    dev = [e.row for e in generate_corpus(80, 0)["dev"]]  # what the tiny config carves as dev
    write_jsonl(root / "dev.jsonl", [r.to_json() for r in dev])
    return root / "run", root / "dev.jsonl", encoder


def test_ternary_shares_sum_to_one_and_match_the_packed_weights(tiny_run):
    run, _, _ = tiny_run
    model = load_run(run)
    actions = top_actions(model.vocab, model.table, 20)
    assert 1 <= len(actions) <= 20
    counts = [a.training_count for a in actions]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    result = weight_patterns(model.decoder, actions)
    packed = pack_model(model.decoder)  # the inference form a packed export holds
    assert isinstance(packed.lm_head, PackedBitLinear)
    codes = packed.lm_head.codes()
    lm = result["lm_head"]
    assert lm["head_is_ternary"] is True
    for row, a in zip(lm["actions"], actions, strict=True):
        assert row["neg"] + row["zero"] + row["pos"] == pytest.approx(1.0, abs=1e-12)
        c = codes[a.token_id]
        assert row["pos"] == pytest.approx(float((c == 1).float().mean()))
        assert row["neg"] == pytest.approx(float((c == -1).float().mean()))
    # the codes are what the layer computes with: x @ codes^T * gamma == the training layer's output
    x = torch.randn(3, model.decoder.cfg.d_model)
    with torch.no_grad():
        expected = model.decoder.lm_head(x)
    assert torch.equal(F.linear(x, codes) * packed.lm_head.gamma, expected)
    n = len(actions)
    agree = np.array([[np.nan if v is None else v for v in r] for r in lm["sign_agreement"]], dtype=float)
    assert agree.shape == (n, n) and np.allclose(np.diag(agree)[np.isfinite(np.diag(agree))], 1.0)
    assert np.allclose(agree, agree.T, equal_nan=True)
    shared = np.array(lm["shared_units"])
    assert (np.diag(shared) == [r["nonzero_units"] for r in lm["actions"]]).all()


def test_sign_agreement_on_hand_made_codes():
    from sashimi.model.ternary import BitLinear

    layer = BitLinear(4, 3, bias=False, norm="none")
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -1.0, 0.0, 1.0], [1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]]))
    from sashimi.eval.interpret.weights import TopAction

    acts = [TopAction(f"a{i}", i, 1) for i in range(3)]
    out = head_patterns(layer, acts)
    assert out["actions"][0]["neg"] == 0.25 and out["actions"][0]["zero"] == 0.25
    assert out["sign_agreement"][0][1] == pytest.approx(2 / 3)  # units 0, 1, 3 co-used; 0 and 3 agree
    assert out["sign_agreement"][0][2] is None  # no unit used by both
    assert out["shared_units"][0][1] == 3


def _dev_examples(run, dev, encoder):
    from sashimi.dsl.corpus import load_corpus
    from sashimi.model.catalogs import model_catalog

    model = load_run(run)
    parsed, _ = parse_rows(load_corpus(dev))
    examples, _ = build_examples(
        parsed, model_catalog(model, run), model.table, max_len=model.decoder.cfg.max_len
    )
    prompts = [e.prompt for e in examples]
    return model, examples, encoder.embed(prompts), encoder.token_states(prompts)


def test_attribution_is_nonzero_and_changes_with_the_prompt(tiny_run):
    run, dev, encoder = tiny_run
    model, examples, pooled, states = _dev_examples(run, dev, encoder)
    actions = {a.token_id: a.action for a in top_actions(model.vocab, model.table, 20)}
    cfg = model.decoder.cfg
    i = next(k for k, e in enumerate(examples) if any(t in actions for t in e.ids))
    j = next(k for k, e in enumerate(examples) if e.prompt != examples[i].prompt)

    def run_row(row):
        nb = model.retrieval.neighbours(pooled[row : row + 1], cfg.retrieval_k)
        retrieved = model.retrieval.retrieved_ids(nb, cfg.retrieval_len)
        # the same gold target (row i's) under prompt `row`: only the prompt changes
        return attribute_row(model.decoder, pooled[row], states[row], examples[i].ids, actions, retrieved)

    mine, other = run_row(i), run_row(j)
    assert mine and len(mine) == len(other)
    for (act, n, p, tok, ret), (act2, _, p2, tok2, _) in zip(mine, other, strict=True):
        assert act == act2 and n >= 1
        assert p != 0.0 and np.abs(tok).sum() > 0 and ret > 0
        assert p != p2 or not np.array_equal(tok, tok2)
    assert any(abs(a[2] - b[2]) > 1e-6 for a, b in zip(mine, other, strict=True))


def test_raw_gradient_x_input_vanishes_through_the_input_norm(tiny_run):
    """Why attribution reads the normalised inputs: through an RMSNorm, grad . x is 0 (Euler)."""
    run, dev, encoder = tiny_run
    model, examples, pooled, states = _dev_examples(run, dev, encoder)
    actions = {a.token_id: a.action for a in top_actions(model.vocab, model.table, 20)}
    cfg = model.decoder.cfg
    i = next(k for k, e in enumerate(examples) if any(t in actions for t in e.ids))
    nb = model.retrieval.neighbours(pooled[i : i + 1], cfg.retrieval_k)
    retrieved = model.retrieval.retrieved_ids(nb, cfg.retrieval_len)
    normed = attribute_row(model.decoder, pooled[i], states[i], examples[i].ids, actions, retrieved)
    from sashimi.model.decoder import pad_token_states
    from sashimi.model.token_table import BOS_ID

    x = torch.from_numpy(pooled[i : i + 1]).requires_grad_(True)
    st, mask = pad_token_states([states[i]], cfg.max_enc_tokens)
    memory = model.decoder.encode(x, st, mask, retrieved)
    logits = model.decoder(memory, torch.tensor([[BOS_ID, *examples[i].ids[:-1]]]))[0]
    tid = next(t for t in examples[i].ids if t in actions)
    pos = [k for k, t in enumerate(examples[i].ids) if t == tid]
    (g,) = torch.autograd.grad(logits[pos, tid].sum(), [x])
    raw = float((g * x.detach()).sum())
    mine = next(p for a, _, p, _, _ in normed if a == actions[tid])
    assert abs(raw) < 1e-3 * abs(mine)


GOLD = 'SHORTCUT "T"\nACTION ask WFAskActionPrompt="How many?" WFInputType="Number"\nACTION showresult Text="Done"\n'


def test_failure_localisation_on_hand_made_rows():
    catalog = Catalog.core()
    variants = {
        "exact": (True, GOLD),
        "refused": (False, ""),
        "wrong-action": (
            True,
            GOLD.replace(
                'ACTION showresult Text="Done"', 'ACTION notification WFNotificationActionBody="Done"'
            ),
        ),
        "wrong-key": (True, GOLD.replace(' WFInputType="Number"', "")),
        "wrong-value": (True, GOLD.replace('Text="Done"', 'Text="Finished"')),
        "unparseable": (True, "not a program at all"),
    }
    gold_rows = [GoldRow(k, f"prompt {k}", GOLD) for k in variants]
    gold = prepare_gold(gold_rows, catalog)
    preds = [Prediction(k, dsl=d, accepted=acc) for k, (acc, d) in variants.items()]
    rows = evaluate(preds, gold, catalog, resamples=10)["rows"]
    out = localise(rows, {p.id: p for p in preds}, {g.row.id: g for g in gold}, Scorer(catalog))
    assert out["exact"] == 1 and out["failed"] == 5
    stages = {s: v["examples"] for s, v in out["stages"].items()}
    assert stages == {
        "gate": ["refused"],
        "no_program": ["unparseable"],
        "skeleton": ["wrong-action"],
        "tier2": ["wrong-key"],
        "tier3": ["wrong-value"],
    }
    assert sum(v["share"] for v in out["stages"].values()) == pytest.approx(1.0)


def test_cli_end_to_end_is_deterministic(tiny_run, tmp_path):
    run, dev, encoder = tiny_run
    rows = [json.loads(line) for line in dev.read_text().splitlines()]
    catalog = Catalog.core()
    gold = prepare_gold(
        [GoldRow(r["shortcut_id"], r["messages"][1]["content"], r["messages"][2]["content"]) for r in rows],
        catalog,
    )
    preds = []
    for k, g in enumerate(gold):  # hand-made predictions: exact, refused, or another row's program
        if k % 3 == 0:
            preds.append(Prediction(g.row.id, dsl=g.row.program))
        elif k % 3 == 1:
            preds.append(Prediction(g.row.id, dsl="", accepted=False))
        else:
            preds.append(Prediction(g.row.id, dsl=gold[(k + 1) % len(gold)].row.program))
    write_jsonl(tmp_path / "preds.jsonl", [p.to_json() for p in preds])
    scored = evaluate(preds, gold, catalog, resamples=10)["rows"]
    write_jsonl(tmp_path / "rows.jsonl", scored)
    args = [
        "interpret",
        str(run),
        "--data",
        str(dev),
        "--predictions",
        str(tmp_path / "preds.jsonl"),
        "--rows",
        str(tmp_path / "rows.jsonl"),
        "--no-umap",
        "--quiet",
        "--top",
        "5",
    ]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    result = json.loads((tmp_path / "a" / "interpret.json").read_text())
    again = json.loads((tmp_path / "b" / "interpret.json").read_text())
    assert result.pop("command").endswith(
        "/a --predictions "
        + str(tmp_path / "preds.jsonl")
        + " --rows "
        + str(tmp_path / "rows.jsonl")
        + " --top 5 --no-umap"
    )
    again.pop("command")
    assert result == again  # everything but the output folder in the command is the same
    assert (tmp_path / "a" / "z_pca.png").read_bytes() == (tmp_path / "b" / "z_pca.png").read_bytes()
    for name in ("report.md", "run.json", "z_pca.png", "sign_agreement.png"):
        assert (tmp_path / "a" / name).is_file()
    fl = result["failures"]
    assert fl["stages"]["gate"]["count"] == sum(1 for p in preds if not p.accepted)
    assert fl["exact"] + fl["failed"] == len(gold)
    assert len(result["weights"]["lm_head"]["actions"]) == 5
    shares = result["attribution"]["overall_shares"]
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-5) and shares["retrieved"] > 0
    labels = result["bottleneck"]["labellings"]
    assert set(labels) == {"domain", "action F1", "compiled"}
    report = (tmp_path / "a" / "report.md").read_text()
    for g in gold:  # ids only: no prompt text in the report
        assert g.row.prompt not in report


def test_cli_bad_input_is_one_line(tiny_run, tmp_path, capsys):
    run, dev, _ = tiny_run
    code = main(
        ["interpret", str(run), "--data", str(dev), "--out", str(tmp_path), "--predictions", str(dev)]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--rows" in err[0]
    assert main(["interpret", str(tmp_path / "nope"), "--data", str(dev), "--out", str(tmp_path)]) == 2
