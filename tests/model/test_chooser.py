"""The neighbour chooser: features, expected action-F1, fitting, files, and the generator with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sashimi.cli import main
from sashimi.errors import DataError
from sashimi.model.chooser import (
    ActionModel,
    Candidate,
    Chooser,
    ChooserConfig,
    expected_f1,
    hashed_counts,
)

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"


def _toy(n=40, seed=0):
    """Prompts that name their action ("timer" -> A:timer, "note" -> A:note), random MiniLM-like vectors."""
    rng = np.random.default_rng(seed)
    prompts, programs = [], []
    for i in range(n):
        kind = ["timer", "note", "both"][i % 3]
        words = {"timer": "start a timer please", "note": "write a note now", "both": "timer then a note"}
        prompts.append(words[kind] + f" {i}")
        acts = {"timer": ["A:timer"], "note": ["A:note"], "both": ["A:timer", "A:note"]}[kind]
        programs.append(["SHORTCUT", *[x for a in acts for x in ("ACTION", a)], "END"])
    pooled = rng.normal(size=(n, 384)).astype(np.float32)
    return pooled, prompts, programs


def test_hashed_counts_are_deterministic_and_sublinear():
    a = hashed_counts(["timer timer note", "other words"], 64)
    b = hashed_counts(["timer timer note", "other words"], 64)
    assert a.shape == (2, 64) and np.array_equal(a, b)
    assert np.isclose(a[0].max(), 1.0 + np.log(2))  # "timer" twice (unless it shares a bucket)
    assert (a[0] > 0).sum() >= 3  # timer, note, "timer timer", "timer note" (collisions may merge)
    assert not hashed_counts([""], 8).any()


def test_expected_f1_equals_f1_for_certain_probabilities():
    p = np.array([1.0, 1.0, 0.0, 0.0])  # the gold program has actions 0 and 1
    assert expected_f1(p, [0, 1], 2) == pytest.approx(1.0)
    assert expected_f1(p, [0], 1) == pytest.approx(2 * 1 / (1 + 2))  # precision 1, recall 1/2
    assert expected_f1(p, [0], 2) == pytest.approx(2 * 1 / (2 + 2))  # one unmodelled action: a miss
    assert expected_f1(p, [], 0) == 0.0


def test_fit_predicts_named_actions_and_round_trips(tmp_path):
    pooled, prompts, programs = _toy()
    model = ActionModel.fit(pooled, prompts, programs, ChooserConfig(buckets=256, minilm_weight=0.0))
    assert set(model.actions) == {"A:timer", "A:note"}
    probe = np.zeros((2, 384), np.float32)
    p = model.probs(probe, ["start a timer please", "write a note now"])
    t, n = model.actions.index("A:timer"), model.actions.index("A:note")
    assert p[0, t] > 0.5 > p[0, n] and p[1, n] > 0.5 > p[1, t]
    model.save(tmp_path / "ch")
    again = ActionModel.load(tmp_path / "ch")
    assert np.array_equal(again.probs(probe[:1], ["timer"]), model.probs(probe[:1], ["timer"]))
    assert again.config == model.config


def test_bad_chooser_files_give_located_errors(tmp_path):
    with pytest.raises(DataError, match="missing"):
        ActionModel.load(tmp_path)
    pooled, prompts, programs = _toy()
    ActionModel.fit(pooled, prompts, programs, ChooserConfig(buckets=64)).save(tmp_path / "ch")
    meta = tmp_path / "ch" / "chooser.json"
    obj = json.loads(meta.read_text())
    obj["config"]["buckets"] = 128  # weights no longer fit
    meta.write_text(json.dumps(obj))
    with pytest.raises(DataError, match="do not fit"):
        ActionModel.load(tmp_path / "ch")
    obj["config"]["surprise"] = 1
    meta.write_text(json.dumps(obj))
    with pytest.raises(DataError, match="unknown chooser settings"):
        ActionModel.load(tmp_path / "ch")
    meta.write_text("{not json")
    with pytest.raises(DataError, match="unreadable"):
        ActionModel.load(tmp_path / "ch")
    (tmp_path / "ch" / "chooser.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(DataError):
        ActionModel.load(tmp_path / "ch")


@pytest.mark.parametrize(
    "bad",
    [
        {"k": 0},
        {"k": "20"},
        {"k": True},
        {"mix": -1},
        {"mix": float("nan")},
        {"c": 0},
        {"buckets": 2.5},
        {"include_decoder": "yes"},
    ],
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(DataError, match="chooser setting"):
        ChooserConfig.from_json(bad)


def test_choose_prefers_expected_f1_then_cosine():
    model = ActionModel(
        ChooserConfig(buckets=4, mix=0.5),
        ("A:timer", "A:note"),
        np.ones(4, np.float32),
        np.zeros((388, 2), np.float32),
        np.zeros(2, np.float32),
    )
    table = ["<PAD>", "<BOS>", "SHORTCUT", "A:timer", "A:note", "A:other", "END"]
    chooser = Chooser(model, table)
    p = np.array([0.9, 0.1])
    timer = Candidate((2, 3, 6), "neighbour", 1, 0.50)
    note = Candidate((2, 4, 6), "neighbour", 0, 0.60)
    other = Candidate((2, 5, 6), "neighbour", 2, 0.95)  # an action the model does not know: E[F1] = 0
    assert chooser.choose(p, [note, timer, other]).candidate is timer  # 0.9/1 beats cosine 0.1 x 0.5
    close = chooser.choose(np.array([0.5, 0.5]), [timer, note])  # equal E[F1]: the nearer request wins
    assert close.candidate is note and close.considered == 2
    decoded = Candidate((2, 3, 6), "decoder", -1, None)  # same program as `timer`, competes at top cosine
    assert chooser.choose(p, [timer, note, decoded]).candidate is decoded
    with pytest.raises(ValueError):
        chooser.choose(p, [])


@pytest.fixture(scope="module")
def chooser_run(tmp_path_factory):
    from sashimi.train.config import load_config
    from sashimi.train.trainer import train

    out = tmp_path_factory.mktemp("chooser") / "run"
    config = load_config(
        TINY,
        [
            "train.steps=6",
            "train.eval_every=6",
            "train.ckpt_every=6",
            "model.retrieval_k=2",
            "model.retrieval_len=16",
            "chooser.fit=true",
            "chooser.k=5",
            "chooser.buckets=256",
            "chooser.include_decoder=false",
        ],
    )
    train(config, out, quiet=True)
    return out


def test_trained_run_chooses_a_neighbour_and_compiles_strict(chooser_run):
    from sashimi.model.checkpoint import load_run
    from sashimi.model.generator import STAGES, Generator

    meta = json.loads((chooser_run / "meta.json").read_text())
    assert meta["chooser"]["fitted"] and meta["chooser"]["actions"] > 0
    loaded = load_run(chooser_run)
    assert loaded.chooser is not None
    assert loaded.retrieval.tokens.shape[1] == loaded.decoder.cfg.max_len  # whole programs
    gen = Generator(loaded, model_dir=chooser_run)
    indexed = {tuple(int(t) for t in row if t != 0) for row in loaded.retrieval.tokens}
    for prompt in ["start a timer for 5 minutes", "log 300 ml of water to Health"]:
        out = gen.generate(prompt)
        if not out.accepted:
            continue
        assert out.source.startswith("neighbour "), out.source
        assert out.tokens == 0  # the decoder did not run: its program was no candidate
        assert out.validity["compiled_strict"], out.validity
        assert set(out.stages) == set(STAGES)
        assert out.to_json()["source"] == out.source
        table = {t: i for i, t in enumerate(loaded.table.tokens)}
        from sashimi.dsl.parser import parse
        from sashimi.ir.typed import to_typed

        typed = to_typed(parse(out.dsl), gen.catalog)
        assert tuple(table[t.text] for t in typed.tokens) in indexed  # the skeleton is a training program's


def test_cli_says_where_the_structure_came_from(chooser_run, capsys):
    code = main(["generate", "--model", str(chooser_run), "start a timer for 5 minutes"])
    out = capsys.readouterr().out
    if code == 0:
        assert "structure from the neighbour " in out and "values from this request" in out
    else:
        assert code == 3  # refused by the gate: nothing to attribute


def test_fit_chooser_cli_refits_with_settings(chooser_run, capsys):
    assert (
        main(["fit-chooser", str(chooser_run), "--set", "k=3", "--set", "include_decoder=true", "--quiet"])
        == 0
    )
    assert "chooser" in capsys.readouterr().out
    from sashimi.model.checkpoint import load_run
    from sashimi.model.generator import Generator

    loaded = load_run(chooser_run)
    assert loaded.chooser.config.k == 3 and loaded.chooser.config.include_decoder
    out = Generator(loaded, model_dir=chooser_run).generate("start a timer for 5 minutes")
    assert out.tokens > 0 or not out.accepted  # the decoder ran: its program is a candidate
    everything = json.loads((chooser_run / "meta.json").read_text())["chooser"]["indexed_programs"]
    assert main(["fit-chooser", str(chooser_run), "--hold-out-dev-carve", "--set", "k=3", "--quiet"]) == 0
    meta = json.loads((chooser_run / "meta.json").read_text())["chooser"]
    assert meta["dev_carve_held_out"] and 0 < meta["indexed_programs"] < everything
    assert main(["fit-chooser", str(chooser_run), "--set", "nonsense=1", "--quiet"]) == 2
    assert "unknown chooser settings" in capsys.readouterr().err


def test_fit_chooser_on_a_packed_model_writes_a_local_copy(tmp_path, capsys):
    """The product path: a packed model + a user's own corpus file -> a local copy that chooses."""
    from sashimi.dsl.corpus import save_corpus
    from sashimi.model.export import export_run
    from sashimi.model.generator import Generator

    from .gen_helpers import make_run, synthetic_rows

    run = make_run(tmp_path / "run")
    packed = tmp_path / "packed"
    export_run(run, packed)
    before = sorted(p.name for p in packed.iterdir())
    rows, _ = synthetic_rows(40, seed=3)
    data = tmp_path / "mine.jsonl"
    save_corpus(data, rows)
    assert main(["fit-chooser", str(packed), "--data", str(data), "--quiet"]) == 2  # --out required
    assert "--out" in capsys.readouterr().err
    local = tmp_path / "local"
    args = [
        "fit-chooser",
        str(packed),
        "--data",
        str(data),
        "--out",
        str(local),
        "--set",
        "include_decoder=false",
    ]
    assert main([*args, "--quiet"]) == 0
    assert sorted(p.name for p in packed.iterdir()) == before  # the packed model is untouched
    assert main([*args, "--quiet"]) == 2  # --out now exists and is not empty
    meta = json.loads((local / "meta.json").read_text())
    assert "never ship" in meta["local_only"] and meta["chooser"]["indexed_programs"] > 0
    gen = Generator.load(local)
    assert gen.model.chooser is not None
    out = gen.generate(rows[0].prompt)
    if out.accepted:
        assert out.validity["compiled_strict"]
        assert out.source.startswith("neighbour") or out.source == "decoder"


def test_a_chooser_without_a_whole_program_index_is_refused(chooser_run, tmp_path):
    import shutil

    from sashimi.model.generator import Generator
    from sashimi.model.retrieval import RetrievalIndex

    short = tmp_path / "short"  # an index of the decoder's retrieval_len prefixes, as runs wrote before
    shutil.copytree(chooser_run, short, ignore=shutil.ignore_patterns("ckpt"))
    index = RetrievalIndex.load(short)
    RetrievalIndex(index.embeddings, index.tokens[:, :16], index.groups).save(short)
    with pytest.raises(DataError, match="whole-program retrieval index"):
        Generator.load(short)
    (short / "retrieval.safetensors").unlink()
    with pytest.raises(DataError, match="whole-program retrieval index"):
        Generator.load(short)


def test_local_copy_with_the_reference_catalog_chooses_programs_outside_the_model_catalog(
    tmp_path, shortcutforge_dir
):
    """`fit-chooser PACKED --catalog-dir REF`: the copy's vocabulary and token table grow with what the
    rows' programs use (old ids kept), its programs compile strict against the reference catalog, and
    some use actions the model's own (core) catalog does not have."""
    from sashimi.dsl.catalog import Catalog
    from sashimi.dsl.corpus import load_corpus, save_corpus
    from sashimi.model.generator import DEFAULT_MODEL_DIR, Generator
    from sashimi.model.token_table import TokenTable

    rows = load_corpus(shortcutforge_dir / "train.jsonl")[:150]
    data = tmp_path / "mine.jsonl"
    save_corpus(data, rows)
    local = tmp_path / "local"
    args = ["fit-chooser", str(DEFAULT_MODEL_DIR), "--data", str(data), "--out", str(local)]
    assert main([*args, "--catalog-dir", str(shortcutforge_dir), "--set", "include_decoder=false", "--quiet"]) == 0
    old = json.loads((DEFAULT_MODEL_DIR / "token_table.json").read_text())["tokens"]
    new = TokenTable.from_json(json.loads((local / "token_table.json").read_text())).tokens
    assert list(new[: len(old)]) == old and len(new) > len(old)
    meta = json.loads((local / "meta.json").read_text())
    assert meta["data"]["catalog_dir"] == str(shortcutforge_dir.resolve())
    gen = Generator.load(local)
    core = {n for a in Catalog.core().actions for n in (a.short_name, a.identifier, *a.aliases)}
    outside = 0
    for row in rows[:12]:
        out = gen.generate(row.prompt)
        if not out.accepted:
            continue
        assert out.validity["compiled_strict"], (row.prompt, out.reason)
        actions = {line.split()[1] for line in out.dsl.splitlines() if line.startswith("ACTION ")}
        outside += bool(actions - core)
    assert outside > 0


def test_catalog_dir_is_for_packed_models_only(chooser_run, capsys):
    assert main(["fit-chooser", str(chooser_run), "--catalog-dir", "/nowhere", "--quiet"]) == 2
    assert "--catalog-dir is for packed models" in capsys.readouterr().err
