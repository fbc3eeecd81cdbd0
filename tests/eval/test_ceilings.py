"""Baselines and retrieval ceilings on the small synthetic corpus (MiniLM replaced by a hashing stub)."""

from __future__ import annotations

import pytest

from sashimi.eval.baselines import (
    EMPTY_PROGRAM,
    knn_predictions,
    minilm_similarity,
    most_frequent_program,
    run_baseline,
    verbatim_overlap,
)
from sashimi.eval.ceilings import ceiling_predictions
from sashimi.eval.harness import Scorer, evaluate, prepare_gold
from sashimi.eval.predictions import GoldRow, read_gold

from .conftest import HashEncoder


@pytest.fixture(scope="module")
def corpus(synth_dir, catalog):
    train = read_gold(synth_dir / "train.jsonl")
    rows = read_gold(synth_dir / "test.jsonl")
    return train, rows, prepare_gold(rows, catalog)


def test_ceilings_bound_retrieval(corpus, catalog):
    train, rows, gold = corpus
    encoder = HashEncoder()
    scorer = Scorer(catalog)
    ceilings = ceiling_predictions(gold, train, catalog, encoder=encoder)
    assert list(ceilings) == ["oracle-train", "oracle-knn@1", "oracle-knn@5", "oracle-knn@20"]
    knn = knn_predictions(
        rows,
        train,
        minilm_similarity([g.prompt for g in rows], [t.prompt for t in train], encoder),
        name="knn",
    )
    # the best of one neighbour is the nearest neighbour itself
    assert [p.dsl for p in ceilings["oracle-knn@1"]] == [p.dsl for p in knn]
    f1 = {
        name: evaluate(preds, gold, scorer=scorer, resamples=10)["rows"] for name, preds in ceilings.items()
    }
    # per row, a larger candidate set never picks a worse action F1
    for a, b in (
        ("oracle-knn@1", "oracle-knn@5"),
        ("oracle-knn@5", "oracle-knn@20"),
        ("oracle-knn@20", "oracle-train"),
    ):
        assert all(x["action_f1"] <= y["action_f1"] + 1e-12 for x, y in zip(f1[a], f1[b], strict=True)), (
            a,
            b,
        )
    mean = {name: sum(r["action_f1"] for r in rs) / len(rs) for name, rs in f1.items()}
    assert mean["oracle-train"] > mean["oracle-knn@1"]


def test_oracle_picks_the_best_program(catalog):
    gold = prepare_gold(
        [GoldRow("g", "b", 'SHORTCUT "G"\nACTION vibrate\nACTION ask WFAskActionPrompt="q"\n')], catalog
    )
    train = [
        GoldRow("t0", "a", 'SHORTCUT "A"\nACTION vibrate\n'),
        GoldRow("t1", "b", 'SHORTCUT "B"\nACTION ask WFAskActionPrompt="q"\nACTION vibrate\n'),
        GoldRow("t2", "c", 'SHORTCUT "C"\nACTION vibrate\nACTION ask WFAskActionPrompt="r"\n'),
        GoldRow("t3", "d", 'SHORTCUT "D"\nACTION vibrate\nACTION ask WFAskActionPrompt="q"\n'),
    ]

    def oracle(rows):
        return ceiling_predictions(gold, rows, catalog, ks=())["oracle-train"][0].extra["neighbour_id"]

    assert oracle(train[:2]) == "t1"  # action F1 1 beats 2/3
    assert oracle(train[:3]) == "t2"  # same F1; t2 also has the reference's skeleton order
    assert oracle(train) == "t3"  # same skeleton; t3 also has the right value
    exact = GoldRow("t4", "e", 'SHORTCUT "G"\nACTION vibrate\nACTION ask WFAskActionPrompt="q"\n')
    assert oracle(train + [exact]) == "t4"  # a program equal to the reference is always chosen


def test_baselines(corpus, catalog):
    train, rows, gold = corpus
    empty = run_baseline("empty", rows, None, catalog)
    assert {p.dsl for p in empty} == {EMPTY_PROGRAM}
    program = most_frequent_program(train, catalog)
    assert "comment" not in program
    (most,) = {p.dsl for p in run_baseline("most-frequent", rows, train, catalog)}
    assert most == program
    tfidf = run_baseline("knn-tfidf", rows, train, catalog)
    assert all(p.extra["neighbour_id"] for p in tfidf)
    assert verbatim_overlap(rows, train) == 0  # the synthetic generator keeps prompts unique
    assert verbatim_overlap(rows[:3], rows) == 3
    scored = evaluate(tfidf, gold, catalog, resamples=10)
    assert 0.0 < scored["metrics"]["action_f1"] < 1.0
    with pytest.raises(Exception, match="needs a training file"):
        run_baseline("knn-tfidf", rows, None, catalog)


def test_baseline_cli(synth_dir, tmp_path, capsys):
    from sashimi.cli import main
    from sashimi.eval.predictions import read_predictions

    out = tmp_path / "p.jsonl"
    gold = synth_dir / "test.jsonl"
    assert (
        main(
            [
                "baseline",
                "knn-tfidf",
                "--train",
                str(synth_dir / "train.jsonl"),
                "--data",
                str(gold),
                "--out",
                str(out),
                "--latency",
            ]
        )
        == 0
    )
    preds = read_predictions(out)
    assert len(preds) == len(read_gold(gold)) and all(p.ms is not None and p.ms >= 0 for p in preds)
    assert "found verbatim in the training file: 0 of" in capsys.readouterr().err
    assert main(["baseline", "most-frequent", "--data", str(gold), "--out", str(out)]) == 2
    assert main(["baseline", "empty", "--data", str(gold), "--out", str(out), "--latency"]) == 2
    err = capsys.readouterr().err
    assert "needs a training file (--train)" in err and "--latency applies to" in err
    assert main(["baseline", "reference", "--data", str(gold), "--out", str(out)]) == 0
    assert [p.dsl for p in read_predictions(out)] == [g.program for g in read_gold(gold)]


def test_cli_constants_agree_with_the_modules():
    from sashimi.cli import build_parser
    from sashimi.eval import cli
    from sashimi.eval.baselines import BASELINES, REFERENCE
    from sashimi.eval.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
    from sashimi.eval.validity import MAX_PROGRAM_CHARS

    assert cli.BASELINE_CHOICES == BASELINES + (REFERENCE,)
    args = build_parser().parse_args(["evaluate", "--data", "x"])
    assert (args.seed, args.resamples, args.max_chars) == (DEFAULT_SEED, DEFAULT_RESAMPLES, MAX_PROGRAM_CHARS)
