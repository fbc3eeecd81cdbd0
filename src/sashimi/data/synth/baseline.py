"""Bag-of-words reference point: how easy is the synthetic task for a linear text classifier?

Two targets, both learned from the synthetic train split with TF-IDF (word 1–2-grams) features:

- `skeleton`: the program's Tier 1 skeleton with comment actions removed
  (`sashimi.ir.typed.skeleton(..., drop_comments=True)`, the quantity behind the evaluation's
  "skeleton exact match"), one class per distinct skeleton, predicted by the nearest training
  prompt (cosine 1-NN; most skeletons occur once, so a per-class linear model is retrieval at a
  much higher cost). A closed-set classifier can only output skeletons it saw in training, so the
  share of evaluation skeletons absent from train is reported beside the accuracy.
- `intents`: the set of intent template ids (from metadata.jsonl) as a multi-label problem; one
  logistic regression (log loss, fitted by SGD) per template id. Exact set match and micro-F1 are reported. Unlike the
  skeleton classifier, it can in principle name combinations it never saw together.

Results are a floor: any model worth its complexity must beat them, and the gap between dev and
test_compositional shows how much of the task is memorising seen combinations.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import load_corpus
from sashimi.errors import DataError, Location
from sashimi.io import read_jsonl
from sashimi.ir.typed import skeleton

EVAL_SPLITS = ("dev", "test", "test_compositional")


def _skeletons(rows, catalog) -> list[str]:
    return [" ".join(skeleton(r.parse(), catalog, drop_comments=True)) for r in rows]


def _intents(corpus_dir: Path) -> dict[str, list[str]]:
    path = corpus_dir / "metadata.jsonl"
    out = {}
    for i, obj in enumerate(read_jsonl(path), start=1):
        if not isinstance(obj.get("shortcut_id"), str) or not isinstance(obj.get("intents"), list):
            raise DataError("metadata row needs 'shortcut_id' and 'intents'", Location(str(path), i))
        out[obj["shortcut_id"]] = [str(x) for x in obj["intents"]]
    return out


def run_baseline(corpus_dir: str | os.PathLike, *, seed: int = 0, catalog=None) -> dict:
    """Train on `<dir>/train.jsonl`, evaluate on dev/test/test_compositional; return the figures."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import f1_score
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    started = time.time()
    corpus_dir = Path(corpus_dir)
    catalog = catalog if catalog is not None else Catalog.core()
    rows = {s: load_corpus(corpus_dir / f"{s}.jsonl") for s in ("train", *EVAL_SPLITS)}
    intents = _intents(corpus_dir)
    for split, rs in rows.items():
        missing = [r.shortcut_id for r in rs if r.shortcut_id not in intents]
        if missing:
            raise DataError(
                f"{len(missing)} {split} rows have no metadata (e.g. {missing[0]})", Location(str(corpus_dir))
            )

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
    x = {
        s: (vec.fit_transform if s == "train" else vec.transform)([r.prompt for r in rs])
        for s, rs in rows.items()
    }

    # --- skeleton (multiclass)
    skel = {s: _skeletons(rs, catalog) for s, rs in rows.items()}
    # ~2,000 distinct skeletons from 3,600 rows, most of them seen once: a per-class linear model is
    # minutes of CPU for what is in effect retrieval, so the skeleton classifier is TF-IDF 1-NN.
    clf = KNeighborsClassifier(n_neighbors=1, metric="cosine")
    with warnings.catch_warnings():  # "more classes than half the samples" is the point here
        warnings.filterwarnings("ignore", category=UserWarning)
        clf.fit(x["train"], skel["train"])
    seen_skeletons = set(skel["train"])
    results: dict = {
        "train_size": len(rows["train"]),
        "train_distinct_skeletons": len(seen_skeletons),
        "splits": {},
    }
    for s in EVAL_SPLITS:
        pred = clf.predict(x[s])
        gold = skel[s]
        results["splits"][s] = {
            "n": len(gold),
            "skeleton_accuracy": round(
                sum(p == g for p, g in zip(pred, gold, strict=True)) / max(len(gold), 1), 4
            ),
            "skeleton_unseen_in_train": round(
                sum(g not in seen_skeletons for g in gold) / max(len(gold), 1), 4
            ),
        }

    # --- intent set (multi-label)
    mlb = MultiLabelBinarizer()
    y_train = mlb.fit_transform([intents[r.shortcut_id] for r in rows["train"]])
    # logistic regression fitted by SGD: seconds on 2 cores, where liblinear/lbfgs take minutes
    ovr = OneVsRestClassifier(
        SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=50, tol=1e-4, random_state=seed)
    )
    ovr.fit(x["train"], y_train)
    known = set(mlb.classes_)
    for s in EVAL_SPLITS:
        gold_sets = [set(intents[r.shortcut_id]) for r in rows[s]]
        y_gold = mlb.transform([[i for i in g if i in known] for g in gold_sets])
        y_pred = ovr.predict(x[s])
        exact = sum(set(mlb.classes_[y_pred[i].nonzero()[0]]) == g for i, g in enumerate(gold_sets)) / max(
            len(gold_sets), 1
        )
        results["splits"][s]["intent_set_exact"] = round(exact, 4)
        results["splits"][s]["intent_micro_f1"] = round(
            float(f1_score(y_gold, y_pred, average="micro", zero_division=0)), 4
        )
    results["model"] = (
        "TF-IDF word 1-2-grams; skeleton: 1-nearest-neighbour (cosine); "
        "intents: one-vs-rest logistic regression (SGD, alpha=1e-5)"
    )
    results["seed"] = seed
    results["elapsed_seconds"] = round(time.time() - started, 2)
    return results


def format_results(results: dict) -> str:
    lines = [
        f"bag-of-words baseline: {results['model']}",
        f"train: {results['train_size']} examples, {results['train_distinct_skeletons']} distinct skeletons",
        f"{'split':<20}{'n':>6}{'skel acc':>10}{'skel unseen':>13}{'intent exact':>14}{'intent F1':>11}",
    ]
    for s, r in results["splits"].items():
        lines.append(
            f"{s:<20}{r['n']:>6}{r['skeleton_accuracy']:>10.3f}{r['skeleton_unseen_in_train']:>13.3f}"
            f"{r['intent_set_exact']:>14.3f}{r['intent_micro_f1']:>11.3f}"
        )
    return "\n".join(lines)


def dumps(results: dict) -> str:
    return json.dumps(results, indent=2)
