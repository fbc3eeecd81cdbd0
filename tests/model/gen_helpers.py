"""A small run folder for inference tests, written in well under a second: vocabulary and token table
from a few synthetic programs + the core catalog, a randomly initialised full-ternary decoder, and a
value filler fitted on the same synthetic rows. It is untrained, so its programs are arbitrary; what
the tests check (every program compiles strict, packed = unpacked, decompile round trip, CLI) does not
depend on training.
"""

from __future__ import annotations

from pathlib import Path

import torch

from sashimi.data.synth import generate_corpus
from sashimi.dsl.catalog import Catalog
from sashimi.io import write_json
from sashimi.ir.typed import to_typed
from sashimi.ir.vocab import build_vocab
from sashimi.model.checkpoint import save_model_files
from sashimi.model.decoder import DecoderConfig, SashimiDecoder
from sashimi.model.token_table import build_token_table
from sashimi.train.data import parse_rows


def tiny_decoder_config(**overrides) -> DecoderConfig:
    """A decoder small enough for unit tests (d 32, 2 layers, 2 heads), with `overrides`."""
    base = dict(
        vocab_size=40,
        d_model=32,
        n_layers=2,
        n_heads=2,
        d_intent=32,
        d_bottleneck=16,
        n_intent=2,
        max_len=24,
        max_enc_tokens=10,
        dropout=0.0,
    )
    return DecoderConfig(**{**base, **overrides})


def synthetic_rows(n: int = 60, seed: int = 0):
    corpus = generate_corpus(n, seed)
    return [e.row for e in corpus["train"]], [e.row for e in corpus["test"]]


def make_run(
    out: Path, *, regime: str = "full", seed: int = 0, n: int = 60, corpus_file: str | None = None
) -> Path:
    """`corpus_file`: record the run as trained on that corpus file (its filler then may not ship)."""
    from sashimi.model.filler import ValueFiller

    catalog = Catalog.core()
    train_rows, _ = synthetic_rows(n, seed)
    parsed, _ = parse_rows(train_rows)
    vocab = build_vocab([ir for _, ir in parsed], catalog, catalog_actions=catalog.actions)
    table = build_token_table(vocab)
    torch.manual_seed(seed)
    cfg = DecoderConfig(
        vocab_size=len(table),
        d_model=64,
        n_layers=2,
        n_heads=2,
        d_intent=64,
        d_bottleneck=32,
        n_intent=2,
        max_len=96,
        max_enc_tokens=32,
        dropout=0.0,
        weight_regime=regime,
    )
    model = SashimiDecoder(cfg).eval()
    value_source = "real" if corpus_file else "synthetic"
    train_config = {"data": {"catalog_dir": None}, "filler": {"value_source": value_source}}
    save_model_files(out, model, table, vocab, train_config)
    examples = [(row.prompt, to_typed(ir, catalog)) for row, ir in parsed]
    ValueFiller.fit(examples, seed=seed, value_source=value_source).save(out / "filler")
    data = {"catalog_dir": None, "data_files": [{"path": corpus_file}] if corpus_file else []}
    if not corpus_file:
        data["synth"] = {"n": n, "seed": seed}
    write_json(out / "meta.json", {"data": data, "note": "untrained test model"})
    return out
