"""The domain gate's adapted encoder layers in the product (issue 16): MiniLM's tapped states, the merged
adapter graph against the training-side torch layers, the fused gate's storage, errors and the generator."""

from __future__ import annotations

import numpy as np
import pytest

from sashimi.errors import DataError
from sashimi.model.gate import Gate, fit_gate, load_gate, save_gate
from sashimi.model.gate_adapter import ADAPTED, GateAdapter
from sashimi.model.minilm import MiniLM

TEXTS = ["Turn on Wi-Fi", "Set a timer for ten minutes and text Mom", "Write a poem about the autumn sea"]


def random_adapter(layers: int = 3, rank: int = 4, seed: int = 0, **stats) -> GateAdapter:
    """Adapters with non-zero updates (B = 0 would test nothing), as training leaves them."""
    rng = np.random.default_rng(seed)
    shapes = {m: (384, 384) for m in ADAPTED[:4]} | {"intermediate.dense": (1536, 384), "output.dense": (384, 1536)}
    arrays = {}
    for k in range(layers):
        for m, (out, inp) in shapes.items():
            arrays[f"layers.{k}.{m}.a"] = rng.normal(0, 0.05, (rank, inp)).astype(np.float32)
            arrays[f"layers.{k}.{m}.b"] = rng.normal(0, 0.05, (out, rank)).astype(np.float32)
    arrays["head.weight"] = rng.normal(0, 0.3, (1, 384)).astype(np.float32)
    arrays["head.bias"] = np.array([0.1], np.float32)
    return GateAdapter(layers, rank, 16.0, 10.0, arrays, **stats)


@pytest.fixture(scope="module")
def tapped():
    return MiniLM(tap=3)


def test_minilm_taps_a_layer_from_the_same_pass(tapped):
    plain = MiniLM()
    pooled, states, taps = tapped.encode_with_tap(TEXTS)
    ref_pooled, ref_states = plain.encode(TEXTS)
    assert np.allclose(pooled, ref_pooled, atol=1e-6)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(states, ref_states, strict=True))
    reference = plain.hidden_states(TEXTS, 3)  # the torch forward pass up to layer 3
    assert all(t.shape == r.shape and np.allclose(t, r, atol=1e-4) for t, r in zip(taps, reference, strict=True))
    together = tapped.encode_together_with_tap(TEXTS)[2]
    assert all(np.allclose(a, b, atol=1e-4) for a, b in zip(together, taps, strict=True))
    torch_taps = MiniLM(backend="torch", tap=3).encode_with_tap(TEXTS)[2]
    assert all(np.allclose(a, b, atol=1e-4) for a, b in zip(torch_taps, taps, strict=True))


def test_minilm_tap_errors_are_clear(tapped):
    with pytest.raises(DataError, match="tap the states after layers 0..5"):
        MiniLM(tap=6)
    with pytest.raises(DataError, match="taps no layer"):
        MiniLM().encode_with_tap(TEXTS)


def test_merged_adapter_graph_equals_the_training_layers(encoder):
    torch = pytest.importorskip("torch")
    from sashimi.train import gate_adapter as lora

    adapter = random_adapter()
    config = lora.LoRAConfig(layers=3, rank=4, alpha=16.0, temperature=10.0)
    model = lora.load(encoder, config, adapter.arrays)  # the layers as trained: adapters beside the base
    states = encoder.hidden_states(TEXTS, adapter.first_layer)
    with torch.no_grad():
        trained = lora.ood_logits(model, states)
    merged = adapter.ood_logits(states)
    assert np.allclose(merged, trained, atol=1e-4)
    assert np.ptp(merged) > 0.1  # the adapters change the logits: a real comparison


def test_adapter_arrays_are_checked():
    good = random_adapter(layers=1)
    with pytest.raises(DataError, match="do not fit"):
        GateAdapter(1, 4, 16.0, 10.0, {k: v for k, v in good.arrays.items() if k != "head.bias"})
    bad = dict(good.arrays)
    bad["layers.0.output.dense.a"] = bad["layers.0.output.dense.a"][:2]
    with pytest.raises(DataError, match="shapes"):
        GateAdapter(1, 4, 16.0, 10.0, bad)
    with pytest.raises(DataError, match="standard deviations"):
        GateAdapter(1, 4, 16.0, 10.0, good.arrays, std=0.0)
    with pytest.raises(DataError, match="layers must be"):
        GateAdapter(7, 4, 16.0, 10.0, good.arrays)


def fused_gate(encoder) -> Gate:
    texts = ["turn on wifi", "set a timer", "text mom", "write a poem", "what is the capital of peru", "tell a joke"]
    head = fit_gate("linear", encoder.embed(texts), np.array([1, 1, 1, 0, 0, 0]), texts=texts)
    return Gate(
        head.kind, head.arrays, 0.5, adapter=random_adapter(mean=0.2, std=2.0, head_mean=-0.1, head_std=3.0)
    )


def test_fused_gate_round_trips_and_needs_its_states(encoder, tmp_path):
    import json

    gate = fused_gate(encoder)
    emb = encoder.embed(TEXTS)
    taps = encoder.hidden_states(TEXTS, gate.tap_layer)
    head_only = Gate(gate.kind, gate.arrays, 0.5).logits(emb)
    want = (head_only + 0.1) / 3.0 + (-gate.adapter.ood_logits(taps) - 0.2) / 2.0
    assert np.allclose(gate.logits(emb, None, taps), want)
    save_gate(gate, tmp_path, {"note": "test"})
    again = load_gate(tmp_path, encoder=encoder)
    assert again.tap_layer == 3 and again.adapter.to_json() == gate.adapter.to_json()
    assert again.features_name == "embedding+adapter" == json.loads((tmp_path / "gate.json").read_text())["features"]
    assert np.allclose(again.scores(emb, None, taps), gate.scores(emb, None, taps))
    decided = [d.score for d in again.decide(TEXTS)]  # decide gets the states from its encoder
    assert np.allclose(decided, gate.scores(emb, None, taps), atol=1e-5)
    with pytest.raises(DataError, match="needs MiniLM's states after layer 3"):
        gate.scores(emb)
    assert Gate(gate.kind, gate.arrays).tap_layer is None


def test_a_damaged_adapter_in_gate_json_is_one_clear_error(encoder, tmp_path):
    import json

    save_gate(fused_gate(encoder), tmp_path)
    meta = json.loads((tmp_path / "gate.json").read_text())
    del meta["adapter"]["head_std"]
    (tmp_path / "gate.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match=r"malformed 'adapter'.*gate\.json"):
        load_gate(tmp_path, encoder=encoder)


def test_generator_gates_with_the_tapped_states(encoder, shipped_generator):
    """The generator's encoder taps the layer its gate's adapter reads, and its gate score is the
    gate's own on those states (one pass), alone and in a batch."""
    from sashimi.model.generator import Generator

    gate = fused_gate(encoder)
    gen = Generator(shipped_generator.model, gate=gate, model_dir=shipped_generator.model_dir)
    assert gen.encoder.tap == 3
    prompt = "Set a timer for ten minutes"
    result = gen.generate(prompt)
    text = gen.gate.request_text(prompt)
    pooled, _, taps = gen.encoder.encode_with_tap([text])
    assert result.gate_score == pytest.approx(float(gate.scores(pooled, [text], taps)[0]), abs=1e-4)
    batch = gen.generate_batch([prompt, "Turn on Wi-Fi"])
    assert batch[0].gate_score == pytest.approx(result.gate_score, abs=1e-3)


def _ood_file(tmp_path):
    import json

    from sashimi.data.ood import build_ood_set

    rows = build_ood_set(seed=0, per_category=4, in_domain=40).rows
    path = tmp_path / "ood.jsonl"
    path.write_text("".join(json.dumps(r.to_json()) + "\n" for r in rows))
    return path


def test_exp_gate_adapter_fuses_keeps_its_adapters_and_saves_a_usable_gate(tmp_path, encoder, monkeypatch):
    import sashimi.eval.gate_exp as gate_exp
    from sashimi.train import gate_adapter as lora

    monkeypatch.setattr(gate_exp, "_latency", lambda gate, texts: {"n_timed": 0})  # not this test's subject
    path = _ood_file(tmp_path)
    kw = dict(cache_dir=encoder.cache_root, kinds=("linear",), features=("embedding+lexical",), n_timed=0)
    config = {"layers": "1", "rank": "2", "epochs": "1"}
    result = gate_exp.experiment_command(path, out_dir=tmp_path / "run", save_dir=tmp_path / "g", adapter=config, **kw)
    assert result["adopted"] == "linear+lexical+adapter" and set(result["candidates"]) == {
        "linear+lexical",
        "linear+lexical+adapter",
    }
    assert result["decision"].startswith("linear+lexical+adapter: asked for with --adapter; it ")
    kept = sorted(p.name for p in (tmp_path / "run" / "adapters").iterdir())
    assert kept == ["all.safetensors"] + [f"fold{k}.safetensors" for k in range(5)]
    gate = load_gate(tmp_path / "g", encoder=encoder)
    assert gate.adapter is not None and gate.adapter.layers == 1 and gate.lexical is not None
    m = result["candidates"]["linear+lexical+adapter"]
    assert m["features"] == "embedding+lexical+adapter" and 0.0 <= m["cv_train"]["recall"] <= 1.0
    # the saved gate scores the held-out part as the experiment did (product graph, tapped states)
    assert [d.accept for d in gate.decide(["Set a timer for 10 minutes"])] in ([True], [False])

    (tmp_path / "run" / "adapters" / "fold2.safetensors").write_bytes(b"not a safetensors file")
    trained = []
    real_train = lora.train
    monkeypatch.setattr(lora, "train", lambda *a, **k: trained.append(1) or real_train(*a, **k))
    again = gate_exp.experiment_command(path, out_dir=tmp_path / "run", adapter=config, **kw)
    assert len(trained) == 1  # only the damaged one is trained again, to the same numbers
    fused = again["candidates"]["linear+lexical+adapter"]
    assert fused == m | {"fit_seconds": fused["fit_seconds"]}
    # the head with the neighbour margin as the partner: the same kept adapters (same training texts)
    nb_kw = kw | {"features": ("embedding+lexical+neighbours",)}
    nb = gate_exp.experiment_command(path, out_dir=tmp_path / "run", save_dir=tmp_path / "nb", adapter=config, **nb_kw)
    assert len(trained) == 1 and nb["adopted"] == "linear+lexical+neighbours+adapter"
    assert nb["candidates"][nb["adopted"]]["features"] == "embedding+lexical+neighbours+adapter"
    nb_gate = load_gate(tmp_path / "nb", encoder=encoder)
    assert nb_gate.features_name == "embedding+lexical+neighbours+adapter" and nb_gate.neighbour_weight > 0
    assert [d.accept for d in nb_gate.decide(["Set a timer for 10 minutes"])] in ([True], [False])
    with pytest.raises(DataError, match="linear embedding\\+lexical\\[\\+neighbours\\] head"):
        gate_exp.experiment_command(path, adapter=config, **(kw | {"features": ("embedding",)}))
    with pytest.raises(DataError, match="rank >= 1"):
        gate_exp.experiment_command(path, adapter={"rank": "0"}, **kw)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--adapter", "rank"], "KEY=VALUE"),
        (["--adapter", "layers=9"], "layers must be in"),
        (["--adapter", "colour=red"], "unknown keys"),
    ],
)
def test_exp_gate_adapter_argument_errors_are_one_line(tmp_path, capsys, extra, message):
    from sashimi.cli import main

    path = _ood_file(tmp_path)
    assert main(["exp", "gate", "--ood", str(path), "--kinds", "linear", "--features", "embedding+lexical", *extra]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


def test_exp_gate_cv_cross_validates_the_fused_gate_and_resumes(tmp_path, encoder, monkeypatch):
    import sashimi.eval.gate_exp as gate_exp
    from sashimi.train import gate_adapter as lora

    path = _ood_file(tmp_path)
    kw = dict(folds=2, cache_dir=encoder.cache_root, kinds=("linear",), features=("embedding+lexical",))
    config = {"layers": "1", "rank": "2", "epochs": "1"}
    result = gate_exp.cross_validate_command(path, out_dir=tmp_path / "cv", adapter=config, **kw)
    fused = result["candidates"]["linear+lexical+adapter"]
    assert result["adapter"] == config and len(fused["per_fold"]) == 2
    assert sum(fused["confusion"].values()) == result["n"]  # every prompt scored once
    for f in (1, 2):
        assert len(list((tmp_path / "cv" / "adapters" / f"outer{f}").glob("*.safetensors"))) == 6
    monkeypatch.setattr(lora, "train", lambda *a, **k: (_ for _ in ()).throw(AssertionError("retrained")))
    again = gate_exp.cross_validate_command(path, out_dir=tmp_path / "cv", adapter=config, **kw)
    assert again["candidates"]["linear+lexical+adapter"] == fused


def test_int8_minilm_taps_its_own_pass():
    """The generator's 8-bit MiniLM: tapping adds an output, never changes the states it returned
    before, and its tapped states stay close to float32's (the adapters were trained on float32)."""
    int8 = MiniLM(precision="int8", tap=3)
    pooled, states, taps = int8.encode_with_tap(TEXTS)
    before = MiniLM(precision="int8").encode(TEXTS)
    assert np.allclose(pooled, before[0], atol=1e-6)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(states, before[1], strict=True))
    reference = MiniLM(tap=3).encode_with_tap(TEXTS)[2]
    for t, r in zip(taps, reference, strict=True):
        cos = (t * r).sum(1) / (np.linalg.norm(t, axis=1) * np.linalg.norm(r, axis=1))
        assert t.shape == r.shape and cos.mean() > 0.98
