"""Retrieval index: nearest programs by cosine, never the row's own family group, safetensors round trip."""

from __future__ import annotations

import numpy as np

from sashimi.model.retrieval import RetrievalIndex, build_index


def _index() -> RetrievalIndex:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(6, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return build_index(
        emb, [[5, 6, 7], [8], [9, 10], [11, 12, 13, 14], [15], [16, 17]], [0, 0, 1, 2, 3, 3], 3
    )


def test_neighbours_are_by_cosine_and_skip_the_own_group():
    index = _index()
    plain = index.neighbours(index.embeddings, 2)
    assert (plain[:, 0] == np.arange(6)).all()  # without exclusion a row is its own nearest neighbour
    excl = index.neighbours(index.embeddings, 3, exclude_groups=index.groups)
    for i, row in enumerate(excl):
        assert all(index.groups[j] != index.groups[i] for j in row if j >= 0)
        sims = index.embeddings[row] @ index.embeddings[i]
        assert (np.diff(sims) <= 1e-6).all()


def test_too_few_candidates_leave_padding_and_ids_are_padded():
    index = _index()
    rows = index.neighbours(index.embeddings[:1], 10, exclude_groups=[0])
    assert (rows[0, 4:] == -1).all() and (rows[0, :4] >= 0).all()
    ids = index.retrieved_ids(rows, 3)
    assert ids.shape == (1, 10, 3)
    assert int(ids[0, 5:].abs().sum()) == 0
    assert index.tokens[3].tolist() == [11, 12, 13]  # truncated to max_len


def test_save_and_load(tmp_path):
    index = _index()
    index.save(tmp_path)
    back = RetrievalIndex.load(tmp_path)
    assert np.array_equal(back.tokens, index.tokens) and np.array_equal(back.groups, index.groups)
    assert np.allclose(back.embeddings, index.embeddings)
