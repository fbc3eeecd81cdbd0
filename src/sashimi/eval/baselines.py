"""Baselines: predictors that write the predictions format, so they are scored like any system.

- `empty`: the smallest valid program (`SHORTCUT "Shortcut"`): it compiles, so it shows that
  "compiles" is not "correct" (action F1 0 against any reference with an action).
- `most-frequent`: one program for every prompt — the most frequent training program once comments
  are removed and the text is printed canonically, taken from the most frequent skeleton (the real
  corpus has almost no repeated program, so the skeleton decides; ties: first in file order).
- `knn-minilm`: the program of the training row whose prompt is nearest by MiniLM cosine
  (architecture.md §6's retrieval floor); `knn-tfidf`: the same with TF-IDF word 1-2 grams.
  A training prompt identical to the gold prompt is allowed (a real retriever finds it);
  `verbatim_overlap` counts how often that happens so reports can say it.

Ties in similarity go to the earliest training row, so every baseline is deterministic.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np

from sashimi.dsl.printer import print_program
from sashimi.errors import DataError
from sashimi.eval.fidelity import CanonicalCatalog, program_view
from sashimi.eval.harness import parse_gold
from sashimi.eval.predictions import GoldRow, Prediction
from sashimi.ir.typed import drop_comment_actions
from sashimi.model.encoder import Encoder

BASELINES = ("empty", "most-frequent", "knn-minilm", "knn-tfidf")
# Not a baseline: the gold program itself, the harness's self-check (1.0 on every fidelity metric).
REFERENCE = "reference"
EMPTY_PROGRAM = 'SHORTCUT "Shortcut"\n'


def empty_predictions(gold: Sequence[GoldRow]) -> list[Prediction]:
    return [
        Prediction(id=g.id, prompt=g.prompt, dsl=EMPTY_PROGRAM, extra={"baseline": "empty"}) for g in gold
    ]


def most_frequent_program(train: Sequence[GoldRow], catalog) -> str:
    """The most frequent comment-free canonical program within the most frequent skeleton."""
    canon = CanonicalCatalog(catalog)
    skeletons: list[tuple] = []
    texts: list[str] = []
    for row in train:
        ir = parse_gold(row.program, file=f"<train>[{row.id}]")
        skeletons.append(program_view(ir, canon).skeleton)
        texts.append(print_program(drop_comment_actions(ir, canon)))
    if not texts:
        raise DataError("the training file has no rows")
    skeleton_counts = Counter(skeletons)
    best_skeleton = max(skeleton_counts, key=lambda s: (skeleton_counts[s], -skeletons.index(s)))
    candidates = [t for t, s in zip(texts, skeletons, strict=True) if s == best_skeleton]
    text_counts = Counter(candidates)
    return max(text_counts, key=lambda t: (text_counts[t], -candidates.index(t)))


def most_frequent_predictions(gold: Sequence[GoldRow], train: Sequence[GoldRow], catalog) -> list[Prediction]:
    program = most_frequent_program(train, catalog)
    return [
        Prediction(id=g.id, prompt=g.prompt, dsl=program, extra={"baseline": "most-frequent"}) for g in gold
    ]


def minilm_similarity(gold_prompts: Sequence[str], train_prompts: Sequence[str], encoder) -> np.ndarray:
    """Cosine similarities (n_gold, n_train) of MiniLM embeddings (L2-normalised, so a dot product)."""
    return encoder.embed(list(gold_prompts)) @ encoder.embed(list(train_prompts)).T


def tfidf_similarity(gold_prompts: Sequence[str], train_prompts: Sequence[str]) -> np.ndarray:
    """Cosine similarities (n_gold, n_train) of TF-IDF vectors fitted on the training prompts."""
    # imported here: building the CLI must not load scikit-learn
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    train_matrix = vectoriser.fit_transform(list(train_prompts))
    gold_matrix = vectoriser.transform(list(gold_prompts))
    return (gold_matrix @ train_matrix.T).toarray()


def knn_predictions(
    gold: Sequence[GoldRow], train: Sequence[GoldRow], similarity: np.ndarray, *, name: str
) -> list[Prediction]:
    """Each gold row gets the program of its most similar training row (first on ties)."""
    best = np.argmax(similarity, axis=1)  # argmax returns the first maximum
    preds = []
    for g, j in zip(gold, best, strict=True):
        neighbour = train[int(j)]
        preds.append(
            Prediction(
                id=g.id,
                prompt=g.prompt,
                dsl=neighbour.program,
                extra={
                    "baseline": name,
                    "neighbour_id": neighbour.id,
                    "similarity": round(float(similarity[len(preds), j]), 6),
                },
            )
        )
    return preds


def verbatim_overlap(gold: Sequence[GoldRow], train: Sequence[GoldRow]) -> int:
    """How many gold prompts occur verbatim (after trimming whitespace) among the training prompts."""
    seen = {row.prompt.strip() for row in train}
    return sum(g.prompt.strip() in seen for g in gold)


def similarity(kind: str, gold: Sequence[GoldRow], train: Sequence[GoldRow], encoder=None) -> np.ndarray:
    gold_prompts = [g.prompt for g in gold]
    train_prompts = [t.prompt for t in train]
    if kind == "knn-minilm":
        if encoder is None:
            encoder = Encoder(progress=None)
        return minilm_similarity(gold_prompts, train_prompts, encoder)
    if kind == "knn-tfidf":
        return tfidf_similarity(gold_prompts, train_prompts)
    raise ValueError(f"no similarity for {kind!r}")


def query_latencies(kind: str, gold: Sequence[GoldRow], train: Sequence[GoldRow]) -> list[float]:
    """Milliseconds to answer each gold prompt alone, as a deployed retriever would: encode the query
    without the embedding cache, score it against the (precomputed) training index, take the argmax.
    The model is loaded and warmed up before timing; process start-up is not included. Torch runs on
    one thread while timing (a server answering one request per core): on a shared 2-core machine its
    default of one thread per core makes the threads wait on each other (p50 ~230 ms instead of ~40 ms)."""
    import torch  # only here: the other baselines must not pay torch's import time

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _query_latencies(kind, gold, train)
    finally:
        torch.set_num_threads(threads)


def _query_latencies(kind: str, gold: Sequence[GoldRow], train: Sequence[GoldRow]) -> list[float]:
    train_prompts = [t.prompt for t in train]
    if kind == "knn-minilm":
        index = Encoder(progress=False).embed(train_prompts)
        fresh = Encoder(progress=False, use_cache=False)
        fresh.embed(["warm-up"])

        def answer(prompt: str) -> int:
            return int(np.argmax(index @ fresh.embed([prompt])[0]))

    elif kind == "knn-tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        matrix = vectoriser.fit_transform(train_prompts)

        def answer(prompt: str) -> int:
            return int(np.argmax((matrix @ vectoriser.transform([prompt]).T).toarray()[:, 0]))

    else:
        raise DataError(f"no latency measurement for baseline {kind!r}")
    out = []
    for g in gold:
        started = time.perf_counter()
        answer(g.prompt)
        out.append(round((time.perf_counter() - started) * 1000.0, 3))
    return out


def run_baseline(
    kind: str,
    gold: Sequence[GoldRow],
    train: Sequence[GoldRow] | None,
    catalog,
    *,
    encoder=None,
    timed: bool = False,
) -> list[Prediction]:
    """Predictions of one baseline for every gold row (`timed`: kNN rows get a measured `ms`)."""
    if kind == "empty":
        return empty_predictions(gold)
    if kind == REFERENCE:
        return [
            Prediction(id=g.id, prompt=g.prompt, dsl=g.program, extra={"baseline": REFERENCE}) for g in gold
        ]
    if not train:
        raise DataError(f"baseline {kind!r} needs a training file (--train)")
    if kind == "most-frequent":
        return most_frequent_predictions(gold, train, catalog)
    if kind in ("knn-minilm", "knn-tfidf"):
        preds = knn_predictions(gold, train, similarity(kind, gold, train, encoder), name=kind)
        if timed:
            for pred, ms in zip(preds, query_latencies(kind, gold, train), strict=True):
                pred.ms = ms
        return preds
    raise DataError(f"unknown baseline {kind!r}; choose from {', '.join(BASELINES)}")
