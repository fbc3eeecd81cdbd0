"""The domain gate: shipped asset, metrics, export/load round trip, and one-line errors on bad input."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from sashimi.cli import main
from sashimi.errors import DataError
from sashimi.eval.gate_exp import evaluate_command, load_labelled
from sashimi.eval.metrics import ood_metrics, precision_threshold
from sashimi.model.gate import ASSET_DIR, KINDS, Gate, fit_gate, load_gate, save_gate

LABELLED = [
    {"prompt": "Set a timer for 10 minutes", "label": "in_domain", "category": "hand"},
    {"prompt": "Turn on Do Not Disturb until I leave the office", "label": "in_domain", "category": "hand"},
    {"prompt": "Log 250 ml of water to Health", "label": "in_domain", "category": "hand"},
    {"prompt": "Text my sister that I'm on my way", "label": "in_domain", "category": "hand"},
    {"prompt": "What is the capital of France?", "label": "ood", "category": "hand"},
    {"prompt": "Prove that the square root of two is irrational", "label": "ood", "category": "hand"},
    {
        "prompt": "Write a Python function that sorts a list with quicksort",
        "label": "ood",
        "category": "hand",
    },
    {"prompt": "Is free will compatible with determinism?", "label": "ood", "category": "hand"},
]


@pytest.fixture()
def labelled_file(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in LABELLED))
    return path


def test_shipped_gate_refuses_ood_and_accepts_in_domain(encoder):
    gate = load_gate(encoder=encoder)  # the package asset
    assert (ASSET_DIR / "gate.json").is_file() and gate.kind in KINDS and gate.encoder is encoder
    refuse, accept = gate.decide(["What is the capital of France?", "Set a timer for 10 minutes"])
    assert not refuse.accept and accept.accept
    assert refuse.score < gate.threshold <= accept.score
    meta = json.loads((ASSET_DIR / "gate.json").read_text())
    assert "decision" in meta and "heldout_metrics" in meta


def test_evaluate_on_a_tiny_file_gives_sane_json(labelled_file, encoder):
    result = evaluate_command(labelled_file, encoder=encoder)
    assert result["n"] == 8 and result["n_ood"] == 4 and result["n_in_domain"] == 4
    for key in ("precision", "recall", "f1", "false_accept_rate", "false_reject_rate", "auroc"):
        assert 0.0 <= result[key] <= 1.0, key
    c = result["confusion"]
    assert sum(c.values()) == 8
    assert result["false_accept_rate"] == c["ood_accepted"] / 4
    assert result["auroc"] >= 0.75  # obvious prompts: the shipped gate must rank them well
    # per-category accept rates when rows carry a category (issue 16 item 5)
    per_cat = result["per_category_accept_rate"]
    assert per_cat == {"hand": {"n": 8, "accept_rate": per_cat["hand"]["accept_rate"]}}
    assert per_cat["hand"]["accept_rate"] == (c["in_domain_accepted"] + c["ood_accepted"]) / 8
    assert result["refused_no_meaning"] == 0
    json.dumps(result)  # serialisable as is


def test_cli_gate_and_evaluate(labelled_file, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SASHIMI_CACHE", str(tmp_path / "cache"))
    assert main(["gate", "What is the capital of France?", "--json"]) == 3  # refused: exit 3
    out = json.loads(capsys.readouterr().out)
    assert out["accept"] is False and 0.0 <= out["score"] <= 1.0 and out["reason"].startswith("out of domain")
    assert main(["gate", "Set a timer for 10 minutes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accept"] is True
    assert main(["exp", "gate", "--evaluate", str(labelled_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 8 and {
        "precision",
        "recall",
        "f1",
        "false_accept_rate",
        "false_reject_rate",
        "auroc",
    } <= set(out)


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"prompt": "hi", "label": "in_domain"}\n{"prompt": "x", "label": "maybe"}\n', "tiny.jsonl:2"),
        ('{"prompt": "hi", "label": "in_domain"}\n{not json\n', "tiny.jsonl:2:2"),
        ('{"label": "ood"}\n', "tiny.jsonl:1"),
        ("", "no rows"),
    ],
)
def test_bad_labelled_files_give_one_line_errors(tmp_path, capsys, content, message):
    path = tmp_path / "tiny.jsonl"
    path.write_text(content)
    with pytest.raises(DataError) as err:
        load_labelled(path)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert main(["exp", "gate", "--evaluate", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_missing_file_and_missing_template_ids(tmp_path, labelled_file, capsys):
    assert main(["exp", "gate", "--evaluate", str(tmp_path / "nope.jsonl")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["exp", "gate", "--ood", str(labelled_file)]) == 2
    assert "template_id" in capsys.readouterr().err


def _blobs(seed=0, n=120, dim=384):
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=dim)
    x = np.concatenate([rng.normal(size=(n, dim)) + centre, rng.normal(size=(n, dim)) - centre])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), np.array([1] * n + [0] * n)


@pytest.mark.parametrize("kind", KINDS)
def test_each_head_fits_and_round_trips_through_safetensors(kind, tmp_path):
    x, y = _blobs()
    gate = fit_gate(kind, x[::2], y[::2], seed=0)
    scores = gate.scores(x[1::2])
    assert ((scores >= 0.5) == y[1::2].astype(bool)).mean() >= 0.95
    save_gate(gate, tmp_path / "g", {"note": "test"})
    again = load_gate(tmp_path / "g")
    assert again.kind == kind and again.threshold == gate.threshold
    assert np.array_equal(again.scores(x), gate.scores(x))
    assert not list((tmp_path / "g").glob("*.pkl"))


def test_corrupt_gate_assets_raise_data_errors(tmp_path):
    x, y = _blobs(n=20)
    save_gate(fit_gate("linear", x, y), tmp_path)
    (tmp_path / "gate.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(DataError, match="gate.safetensors"):
        load_gate(tmp_path)
    save_gate(fit_gate("linear", x, y), tmp_path)
    (tmp_path / "gate.json").write_text('{"kind": "forest"}')
    with pytest.raises(DataError, match="unknown gate kind"):
        load_gate(tmp_path)
    with pytest.raises(DataError, match="no gate here"):
        load_gate(tmp_path / "missing")
    with pytest.raises(DataError):
        Gate("linear", {"w": np.zeros(3, np.float32), "b": np.zeros(1, np.float32)}).scores(np.zeros((2, 4)))


def test_ood_metrics_on_known_scores():
    scores = np.array([0.9, 0.8, 0.3, 0.2, 0.6, 0.1])  # in-domain score
    is_ood = np.array([False, False, False, True, True, True])
    m = ood_metrics(scores, is_ood, 0.5)
    # refused: 0.3 (in), 0.2 (ood), 0.1 (ood) -> precision 2/3, recall 2/3; 0.6 is an OOD false accept
    assert m["precision"] == pytest.approx(0.6667, abs=1e-4) and m["recall"] == pytest.approx(
        0.6667, abs=1e-4
    )
    assert m["false_accept_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["false_reject_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["auroc"] == pytest.approx(8 / 9, abs=1e-4)  # 8 of 9 (ood, in) pairs ranked right
    assert ood_metrics(scores[:3], is_ood[:3], 0.5)["auroc"] is None  # one class only


def test_calibrated_threshold_maximises_recall_at_the_precision_target():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.9])
    is_ood = np.array([True, True, True, False, True, False])
    assert precision_threshold(scores, is_ood, 0.99) == pytest.approx(0.35)  # refuse the 3 lowest
    assert precision_threshold(scores, is_ood, 0.75) == pytest.approx(0.7)  # 4 of 5 refusals correct
    assert precision_threshold(np.array([0.1, 0.2]), np.array([False, True]), 0.99) == 0.5  # nothing works
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.uniform(0.3, 1.0, 200), rng.uniform(0.0, 0.6, 100)])
    is_ood = np.array([False] * 200 + [True] * 100)
    t = precision_threshold(scores, is_ood, 0.95)
    refused = scores < t
    assert is_ood[refused].mean() >= 0.95
    above = np.sort(scores[scores >= t])[0]  # refusing one more prompt would break the target
    assert is_ood[scores <= above].mean() < 0.95


_TEXTS_IN = [
    "Turn on Low Power Mode",
    "Text Mom that I am late",
    "Start a 10 minute timer",
    "Play my jazz playlist",
]
_TEXTS_OOD = [
    "Write a Tasker profile for Wi-Fi",
    "Explain PowerShell remoting",
    "Why is my iPhone hot?",
    "Write a poem",
]


def test_lexical_gate_round_trips_as_json_and_needs_texts(tmp_path):
    from sashimi.model.gate import LexicalView

    texts = (_TEXTS_IN + _TEXTS_OOD) * 3  # min_df needs repeats
    x, _ = _blobs(n=12)
    y = np.array([1] * 4 + [0] * 4)
    y = np.concatenate([y, y, y])
    view = LexicalView.fit(texts)
    assert "tasker" in view.vocab["word"] and view.size == len(view.vocab["word"]) + len(view.vocab["char"])
    gate = fit_gate("linear", x, y, texts=texts, lexical=view)
    assert gate.embedding_dim == 384 and gate.dim == 384 + view.size
    save_gate(gate, tmp_path / "g")
    meta = json.loads((tmp_path / "g" / "gate.json").read_text())
    assert meta["features"] == "embedding+lexical" and meta["lexical"]["vocab"]["word"] == view.vocab["word"]
    again = load_gate(tmp_path / "g")
    assert np.array_equal(again.scores(x, texts), gate.scores(x, texts))
    # the lexical block moves the score: same embedding, different words
    assert (
        gate.scores(x[:1], ["Write a Tasker profile"])[0] != gate.scores(x[:1], ["Turn on Low Power Mode"])[0]
    )
    with pytest.raises(DataError, match="needs the texts"):
        gate.scores(x)
    meta["lexical"]["idf"]["word"] = meta["lexical"]["idf"]["word"][:-1]
    (tmp_path / "g" / "gate.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="gate.json"):
        load_gate(tmp_path / "g")


def test_lexical_vocabulary_never_comes_from_real_prompts():
    from sashimi.eval.gate_exp import _fit

    texts = (_TEXTS_IN + _TEXTS_OOD) * 2 + ["zorblax quuxfrob shortcut"] * 4
    groups = np.array(["synth/a"] * 8 + ["ood/b/c"] * 8 + ["real/family"] * 4)
    is_ood = np.array(([False] * 4 + [True] * 4) * 2 + [False] * 4)
    x = np.random.default_rng(0).normal(size=(len(texts), 384))
    gate = _fit("linear", "embedding+lexical", x, is_ood, groups, texts, seed=0)
    vocab = " ".join(gate.lexical.vocab["word"] + gate.lexical.vocab["char"])
    assert "zorblax" not in vocab and "quux" not in vocab and "tasker" in vocab


def test_neighbour_margin_moves_the_logit_and_round_trips(tmp_path):
    x, y = _blobs()
    plain = fit_gate("linear", x[::2], y[::2], seed=0)
    refs = (x[::2][y[::2] == 1], x[::2][y[::2] == 0])
    gate = fit_gate("linear", x[::2], y[::2], seed=0, neighbours=refs, neighbour_weight=10.0)
    assert gate.neighbour_weight == 10.0 and gate.arrays["nb_in"].dtype == np.float16
    q = x[1::2]
    sims_in, sims_ood = q @ refs[0].T, q @ refs[1].T
    margin = sims_in.max(1) - sims_ood.max(1)
    assert np.allclose(gate.neighbour_margin(q), margin, atol=2e-3)  # float16 references
    logit = lambda s: np.log(s / (1 - s))  # noqa: E731
    # the same head as without references, plus 10 x the margin on the logit
    assert np.allclose(logit(gate.scores(q)), logit(plain.scores(q)) + 10.0 * gate.neighbour_margin(q), atol=1e-6)
    save_gate(gate, tmp_path / "g")
    meta = json.loads((tmp_path / "g" / "gate.json").read_text())
    assert meta["neighbour_weight"] == 10.0 and meta["features"] == "embedding+neighbours"
    again = load_gate(tmp_path / "g")
    assert again.neighbour_weight == 10.0 and np.array_equal(again.scores(q), gate.scores(q))
    # a gate saved before the margin existed (no key) loads without one
    save_gate(plain, tmp_path / "old")
    meta = json.loads((tmp_path / "old" / "gate.json").read_text())
    del meta["neighbour_weight"]
    (tmp_path / "old" / "gate.json").write_text(json.dumps(meta))
    assert load_gate(tmp_path / "old").neighbour_weight == 0.0
    with pytest.raises(DataError, match="nb_in"):
        replace(plain, neighbour_weight=1.0)
    with pytest.raises(DataError, match="finite"):
        replace(gate, neighbour_weight=-1.0)


def test_neighbour_references_never_come_from_real_prompts():
    from sashimi.eval.gate_exp import _fit

    texts = (_TEXTS_IN + _TEXTS_OOD) * 2 + ["zorblax quuxfrob shortcut"] * 4
    groups = np.array(["synth/a"] * 8 + ["ood/b/c"] * 8 + ["real/family"] * 4)
    is_ood = np.array(([False] * 4 + [True] * 4) * 2 + [False] * 4)
    x = np.random.default_rng(0).normal(size=(len(texts), 384))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    gate = _fit("linear", "embedding+lexical+neighbours", x, is_ood, groups, texts, seed=0)
    nb_in, nb_ood = gate.arrays["nb_in"].astype(np.float32), gate.arrays["nb_ood"].astype(np.float32)
    assert len(nb_in) == 8 and len(nb_ood) == 8  # the 4 real in-domain rows are not among them
    assert np.allclose(nb_in, x[:16][~is_ood[:16]], atol=1e-3)
    assert (x[16:] @ nb_in.T).max() < 0.5  # no real row's vector (a copy would have cosine 1)
    with pytest.raises(DataError, match="both labels"):
        rows = [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7]  # 8 own in-domain rows, the 4 OOD ones marked real
        own_in_domain_only = np.array(["synth/a"] * 8 + ["real/x"] * 4)
        _fit("linear", "embedding+lexical+neighbours", x[rows], is_ood[rows], own_in_domain_only,
             [texts[i] for i in rows], 0)


def test_experiment_compares_feature_sets_and_saves_a_usable_gate(tmp_path, encoder):
    from sashimi.data.ood import build_ood_set
    from sashimi.eval.gate_exp import experiment_command

    rows = build_ood_set(seed=0, per_category=12, in_domain=100).rows
    path = tmp_path / "ood.jsonl"
    path.write_text("".join(json.dumps(r.to_json()) + "\n" for r in rows))
    result = experiment_command(
        path, save_dir=tmp_path / "g", cache_dir=encoder.cache_root, kinds=("linear",), n_timed=2
    )
    assert set(result["candidates"]) == {"linear", "linear+lexical"}
    lex = result["candidates"]["linear+lexical"]
    assert lex["features"] == "embedding+lexical" and 0.0 <= lex["cv_train"]["recall"] <= 1.0
    assert result["templates_shared"] == 0  # held-out templates are unseen
    gate = load_gate(tmp_path / "g", encoder=encoder)
    meta = json.loads((tmp_path / "g" / "gate.json").read_text())
    assert meta["features"] == ("embedding+lexical" if gate.lexical else "embedding")
    assert meta["heldout_metrics"] == {
        k: v for k, v in result["candidates"][result["adopted"]].items() if k != "per_category_accept_rate"
    }
    # Adoption reads the out-of-fold training metrics only: the first candidate meeting the bar there,
    # else the best out-of-fold F1 -- whatever the held-out numbers say.
    cv = {name: m["cv_train"] for name, m in result["candidates"].items()}
    passing = [name for name in cv if cv[name]["meets_bar"]]
    assert result["adopted"] == (passing[0] if passing else max(cv, key=lambda k: cv[k]["f1"]))
    assert result["adopted_meets_bar_cv_train"] == bool(passing)
    assert meta["selected_on"].startswith("cv_train")
    decisions = gate.decide(["What is the capital of France?", "Set a timer for 10 minutes"])
    assert len(decisions) == 2


def test_a_gate_without_an_encoder_cannot_decide_raw_texts():
    x, y = _blobs()
    gate = fit_gate("linear", x, y)
    with pytest.raises(DataError, match="no encoder"):
        gate.decide(["Set a timer"])


def test_an_experiment_saves_only_to_an_explicit_dir(tmp_path, encoder, capsys, monkeypatch):
    """`exp gate --ood` never touches the shipped gate; --save DIR is the only way to write one."""
    import sashimi.eval.gate_exp as gate_exp
    from sashimi.data.ood import build_ood_set

    # The latency probe loads a second, uncached MiniLM; it is not what this test is about.
    monkeypatch.setattr(gate_exp, "_latency", lambda gate, texts: {"n_timed": 0})

    rows = build_ood_set(seed=0, per_category=12, in_domain=100).rows
    path = tmp_path / "ood.jsonl"
    path.write_text("".join(json.dumps(r.to_json()) + "\n" for r in rows))
    shipped = {f.name: f.read_bytes() for f in ASSET_DIR.iterdir()}
    args = ["exp", "gate", "--ood", str(path), "--cache-dir", str(encoder.cache_root), "--kinds", "linear"]
    args += ["--features", "embedding", "--json"]
    assert main(args) == 0
    assert "saved_to" not in json.loads(capsys.readouterr().out)
    assert {f.name: f.read_bytes() for f in ASSET_DIR.iterdir()} == shipped
    assert main([*args, "--save", str(tmp_path / "g")]) == 0
    assert json.loads(capsys.readouterr().out)["saved_to"] == str(tmp_path / "g")
    assert load_gate(tmp_path / "g").kind == "linear"
    assert {f.name: f.read_bytes() for f in ASSET_DIR.iterdir()} == shipped
    assert main([*args, "--cv", "2", "--save", str(tmp_path / "h")]) == 2  # cross-validation saves nothing
    assert "--save" in capsys.readouterr().err and not (tmp_path / "h").exists()
