"""benchmarks/recipe_cv.py: fold assignment, the paired intervals and the pooled summary."""

import importlib.util
import json
from pathlib import Path

import numpy as np

from sashimi.data.splits import split_corpus
from sashimi.dsl.corpus import CorpusRow

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "recipe_cv.py"
_spec = importlib.util.spec_from_file_location("recipe_cv", _PATH)
recipe_cv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recipe_cv)


def _corpus(n=120):
    rows = []
    for i in range(n):
        rid = f"fam{i // 20}x-{i}" if i % 10 == 0 else f"req{i}x"  # fam0x-0 and fam0x-10: one family
        rows.append(CorpusRow(rid, f"request number {i}", f'SHORTCUT "s{i}"\n'))
    rows.append(CorpusRow("dup-a", "Same request", 'SHORTCUT "a"\n'))
    rows.append(CorpusRow("dup-b", "same   REQUEST", 'SHORTCUT "b"\n'))  # same normalised prompt: one group
    return rows


def test_fold_zero_is_the_dev_split_and_no_group_straddles_two_folds():
    rows = _corpus()
    fold_of, group_of = recipe_cv.assign_folds(rows, 5, seed=3)
    dev_ids = {r.shortcut_id for r in split_corpus(rows, 0.1, 0).dev}
    assert {r.shortcut_id for r, f in zip(rows, fold_of, strict=True) if f == 0} == dev_ids
    assert set(fold_of) == {0, 1, 2, 3, 4}
    folds_of_group = {}
    for i, f in enumerate(fold_of):
        folds_of_group.setdefault(group_of[i], set()).add(f)
    assert all(len(f) == 1 for f in folds_of_group.values())
    assert group_of[len(rows) - 1] == group_of[len(rows) - 2]  # the same normalised prompt
    assert group_of[0] == group_of[10] != group_of[20]  # fam0x-0 and fam0x-10 share a family
    sizes = [fold_of.count(k) for k in range(1, 5)]
    assert max(sizes) - min(sizes) <= 2  # groups hold at most 2 rows here


def test_fold_assignment_is_seeded():
    rows = _corpus()
    assert recipe_cv.assign_folds(rows, 4, 1) == recipe_cv.assign_folds(rows, 4, 1)
    assert recipe_cv.assign_folds(rows, 4, 1)[0] != recipe_cv.assign_folds(rows, 4, 2)[0]


def test_paired_mean_counts_and_intervals():
    d = np.array([0.5, 0.5, 0.0, -0.25, 0.5, 0.0, 0.25, 0.5])
    groups = np.array(["a", "a", "b", "c", "d", "d", "e", "f"])
    out = recipe_cv.paired(d, groups)
    assert out["diff"] == round(d.mean(), 4)
    assert (out["better_rows"], out["worse_rows"]) == (5, 1)
    for key in ("ci_rows", "ci_groups"):
        low, high = out[key]
        assert low <= out["diff"] <= high and low < high
    same = recipe_cv.paired(np.full(6, 0.2), np.array(list("aabbcc")))
    assert same["ci_rows"] == same["ci_groups"] == [0.2, 0.2]


def _write_fold(out, k, scores, sources):
    fold = out / f"fold_{k}"
    (fold / "eval").mkdir(parents=True)
    for system, name in recipe_cv.SYSTEMS.items():
        with open(fold / "eval" / name, "w") as f:
            for rid, by_system in scores.items():
                f1, skel = by_system[system]
                f.write(json.dumps({"id": rid, "action_f1": f1, "skeleton_exact": skel}) + "\n")
    with open(fold / "preds.jsonl", "w") as f:
        for rid, source in sources.items():
            f.write(json.dumps({"id": rid, "accepted": source is not None, "source": source}) + "\n")


def test_summary_pools_every_fold(tmp_path):
    _write_fold(
        tmp_path,
        0,
        {
            "x": {"recipe": (1.0, 1.0), "knn-minilm": (0.5, 0.0), "knn-tfidf": (1.0, 1.0)},
            "y": {"recipe": (None, 0.0), "knn-minilm": (0.0, 0.0), "knn-tfidf": (0.5, 0.0)},
        },
        {"x": "neighbour 1 of 50 (cosine 0.7)", "y": None},
    )
    _write_fold(
        tmp_path,
        1,
        {"z": {"recipe": (0.5, 0.0), "knn-minilm": (0.5, 0.0), "knn-tfidf": (0.0, 0.0)}},
        {"z": "decoder"},
    )
    report = recipe_cv.summarise(tmp_path, 2, {"x": "g1", "y": "g2", "z": "g3"})
    assert report["rows"] == 3 and report["groups"] == 3
    assert report["pooled"]["recipe"]["action_f1"] == 0.5  # a refusal (None) scores 0
    assert report["pooled"]["knn-minilm"]["action_f1"] == round(1 / 3, 4)
    assert report["paired"]["recipe-knn-minilm"]["action_f1"]["diff"] == round(0.5 - 1 / 3, 4)
    assert report["per_fold"][0]["recipe-knn_minilm/action_f1"] == 0.25
    assert report["sources"] == {"neighbour": 1, "refused": 1, "decoder": 1}
    recipe_cv.plot(report, tmp_path / "cv.png")
    assert (tmp_path / "cv.png").stat().st_size > 1000
