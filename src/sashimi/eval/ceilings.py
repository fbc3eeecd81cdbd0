"""Retrieval ceilings: how well could a system do that only ever outputs a training program?

- `oracle-train`: for each gold row, the single training program that fits it best (an oracle that
  sees the reference) — the limit of any retriever over that training file.
- `oracle-knn@k` for k in {1, 5, 20}: the best of the k training rows nearest by MiniLM prompt cosine
  — the limit of a system that picks or reranks among k retrieved neighbours (`oracle-knn@1` is the
  kNN MiniLM baseline itself).

"Fits best" is lexicographic: highest action F1 against the reference (comments excluded, canonical
identities), then the smaller normalised skeleton edit distance, then the finer metrics in the order
Tier 1 exact, parameter-key F1, Tier 3 value accuracy, enum accuracy, canonical exact (undefined = 0),
then the nearer neighbour (kNN) or the earlier training row. So a training program equal to the
reference is always chosen when there is one. The chosen programs are then scored by the harness like
any predictions, so every metric of the table is reported for the ceilings too; they are the ceilings
of action F1 and, among its maxima, of the rest — not separately the maximum of every metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sashimi.eval.baselines import similarity
from sashimi.eval.fidelity import (
    CanonicalCatalog,
    ProgramView,
    fidelity_scores,
    normalised_edit_distance,
    program_view,
)
from sashimi.eval.harness import GoldProgram, parse_gold
from sashimi.eval.predictions import GoldRow, Prediction

KNN_KS = (1, 5, 20)


class _Counts:
    """Action-count matrices of the gold and training programs over one shared action vocabulary."""

    def __init__(self, gold: Sequence[ProgramView], train: Sequence[ProgramView]) -> None:
        vocab: dict[str, int] = {}
        for view in list(gold) + list(train):
            for name in view.action_names:
                vocab.setdefault(name, len(vocab))
        self.gold = self._matrix(gold, vocab)
        self.train = self._matrix(train, vocab)
        self.gold_len = self.gold.sum(axis=1)
        self.train_len = self.train.sum(axis=1)

    @staticmethod
    def _matrix(views: Sequence[ProgramView], vocab: dict[str, int]) -> np.ndarray:
        m = np.zeros((len(views), max(len(vocab), 1)), dtype=np.int32)
        for i, view in enumerate(views):
            for name in view.action_names:
                m[i, vocab[name]] += 1
        return m

    def action_f1(self, i: int, candidates: np.ndarray) -> np.ndarray:
        """Action-multiset F1 of gold row `i` against the training rows `candidates` (vectorised)."""
        inter = np.minimum(self.train[candidates], self.gold[i]).sum(axis=1)
        total = self.train_len[candidates] + self.gold_len[i]
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 1.0)
        return f1


# Beyond this many candidates tied on action F1 and skeleton distance, only the first ones (nearest or
# earliest) are compared on the finer metrics; bounds the cost on corpora with many equal skeletons.
MAX_FINE_CANDIDATES = 400
_FINE_KEYS = ("tier1_exact", "param_key_f1", "value_accuracy", "enum_accuracy", "exact")


def _best(
    i: int, candidates: np.ndarray, counts: _Counts, gold: ProgramView, train: Sequence[ProgramView]
) -> int:
    """The candidate (a training index) that fits gold row `i` best; see the module docstring."""
    f1 = counts.action_f1(i, candidates)
    tied = candidates[f1 >= f1.max() - 1e-12]
    distances: dict[tuple, float] = {}
    for j in tied:
        skel = train[int(j)].skeleton
        if skel not in distances:
            distances[skel] = normalised_edit_distance(skel, gold.skeleton)
    nearest = min(distances.values())
    tied = [int(j) for j in tied if distances[train[int(j)].skeleton] == nearest][:MAX_FINE_CANDIDATES]
    if len(tied) == 1:
        return tied[0]

    def fine(j: int) -> tuple[float, ...]:
        scores = fidelity_scores(train[j], gold)
        return tuple(scores[k] or 0.0 for k in _FINE_KEYS)

    # max() keeps the first of equal keys: candidates are in nearest-first (or training) order
    return max(tied, key=fine)


def train_views(train: Sequence[GoldRow], catalog) -> list[ProgramView]:
    canon = CanonicalCatalog(catalog)
    return [program_view(parse_gold(row.program, file=f"<train>[{row.id}]"), canon) for row in train]


def ceiling_predictions(
    gold: Sequence[GoldProgram],
    train: Sequence[GoldRow],
    catalog,
    *,
    ks: Sequence[int] = KNN_KS,
    encoder=None,
) -> dict[str, list[Prediction]]:
    """`{"oracle-train": [...], "oracle-knn@1": [...], ...}`: one chosen training program per gold row."""
    views = train_views(train, catalog)
    counts = _Counts([g.view for g in gold], views)
    every = np.arange(len(train))
    sims = similarity("knn-minilm", [g.row for g in gold], train, encoder) if ks else None
    out: dict[str, list[Prediction]] = {"oracle-train": []}
    for k in ks:
        out[f"oracle-knn@{k}"] = []
    for i, g in enumerate(gold):
        j = _best(i, every, counts, g.view, views)
        out["oracle-train"].append(_prediction(g.row, train[j], "oracle-train"))
        if sims is not None:
            # nearest first (ties: earlier training row), so equal fits go to the nearer neighbour
            order = np.argsort(-sims[i], kind="stable")
            for k in ks:
                j = _best(i, order[:k], counts, g.view, views)
                out[f"oracle-knn@{k}"].append(_prediction(g.row, train[j], f"oracle-knn@{k}"))
    return out


def _prediction(gold: GoldRow, neighbour: GoldRow, name: str) -> Prediction:
    return Prediction(
        id=gold.id,
        prompt=gold.prompt,
        dsl=neighbour.program,
        extra={"ceiling": name, "neighbour_id": neighbour.id},
    )
