"""benchmarks/chooser_variants.py's `count` rule (RESULTS §7.18) and chooser_cv's paired difference."""

import numpy as np
import pytest

from sashimi.eval.fidelity import multiset_f1


@pytest.fixture(scope="module")
def variants():
    import chooser_variants

    return chooser_variants


def _certain_survival(counts: list[int], width: int) -> np.ndarray:
    """P(C >= j + 1 | present) for counts known exactly."""
    return np.array([[1.0 if j < k else 0.0 for j in range(width)] for k in counts])


def test_count_ef1_is_the_multiset_f1_when_nothing_is_uncertain(variants):
    column = {"A:x": 0, "A:y": 1, "A:z": 2}
    gold = ["A:x", "A:x", "A:y"]  # x twice, y once, z absent
    p = np.array([1.0, 1.0, 0.0])
    surv = _certain_survival([2, 1, 1], variants.MAX_COUNT)
    cands = [["A:x"], ["A:x", "A:x", "A:y"], ["A:x", "A:y", "A:z"], ["A:x", "A:x", "A:x", "A:y"], []]
    got = variants.count_ef1(p, surv, column, cands)
    want = [multiset_f1(c, gold) if c else 0.0 for c in cands]
    assert got == pytest.approx(want)


def test_count_ef1_prefers_the_repeat_the_set_rule_cannot_see(variants):
    from sashimi.model.chooser import expected_f1

    column = {"A:x": 0}
    p = np.array([0.9])
    once, twice = ["A:x"], ["A:x", "A:x"]
    # the set rule scores both the same; with the action usually present twice, the repeat wins
    assert expected_f1(p, [0], 1) == expected_f1(p, [0], len(set(twice)))
    usually_twice = np.array([[1.0, 0.9] + [0.0] * (variants.MAX_COUNT - 2)])
    a, b = variants.count_ef1(p, usually_twice, column, [once, twice])
    assert b > a
    usually_once = np.array([[1.0, 0.1] + [0.0] * (variants.MAX_COUNT - 2)])
    a, b = variants.count_ef1(p, usually_once, column, [once, twice])
    assert a > b


def test_fold_count_survival_reads_only_the_fit_rows(variants):
    actions = [["A:x"] * (1 + i % 2) for i in range(10)]
    columns = [{"A:x": 0}] * 10
    groups = np.arange(10)
    surv = variants.fold_count_survival(actions, groups, columns, folds=5)
    for s in surv:
        assert s.shape == (1, variants.MAX_COUNT)
        assert s[0, 0] == pytest.approx(1.0)  # present means at least once
        assert 0.0 < s[0, 1] < 1.0 and s[0, 2] == pytest.approx(0.0)


def test_paired_difference_counts_rows_and_brackets_the_mean():
    import chooser_cv

    out = chooser_cv.paired_difference([1.0, 0.5, 0.2, 0.9], [0.5, 0.5, 0.3, 0.4])
    assert out["diff"] == pytest.approx(0.225)  # (0.5 + 0 - 0.1 + 0.5) / 4
    assert out["ci"][0] <= out["diff"] <= out["ci"][1]
    assert (out["rows_better"], out["rows_worse"]) == (2, 1)


@pytest.mark.parametrize(
    "argv",
    [
        ["RUN", "--extra", "0", "500", "--out", "OUT"],  # synthetic rows asked for, no synthetic run given
        ["RUN", "--extra", "0", "--real-fraction", "0", "--out", "OUT"],
        ["RUN", "--extra", "0", "--real-fraction", "1.5", "--out", "OUT"],
    ],
)
def test_chooser_synth_rows_refuses_bad_arguments_before_reading_anything(argv, capsys):
    import chooser_synth_rows

    with pytest.raises(SystemExit) as err:
        chooser_synth_rows.main(argv)
    assert err.value.code == 2
    assert "error:" in capsys.readouterr().err
