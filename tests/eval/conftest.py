"""Fixtures for the evaluation harness: a small synthetic corpus written as gold/train files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sashimi.data.synth import generate_corpus
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import save_corpus


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.core()


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """train/test JSONL of a 240-example synthetic corpus (our own generator, seed 3)."""
    out = tmp_path_factory.mktemp("synth")
    splits = generate_corpus(240, seed=3)
    for name, examples in splits.items():
        save_corpus(out / f"{name}.jsonl", [e.row for e in examples])
    return out


def write_predictions(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class HashEncoder:
    """A deterministic stand-in for MiniLM in unit tests (bag of hashed words, L2-normalised)."""

    def embed(self, texts):
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)
