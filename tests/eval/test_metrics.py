"""sashimi.eval.metrics: threshold search against a brute-force reference, and the metrics at a threshold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sashimi.errors import DataError
from sashimi.eval.metrics import (
    choose_threshold,
    f1_threshold,
    meets_bar,
    ood_metrics,
    precision_threshold,
    recall_at_precision,
)


def _cuts(scores):
    """Every refusal set a threshold can make, smallest first: (refused mask, threshold between scores)."""
    s = np.unique(scores)
    for i, cut in enumerate(s):
        t = (cut + s[i + 1]) / 2 if i + 1 < len(s) else min(1.0, cut + 1e-6)
        yield scores <= cut, float(np.clip(t, 0.0, 1.0))


def _brute(scores, is_ood, target):
    """(precision-rule threshold, F1-rule threshold, recall at target precision) by trying every cut."""
    best_p, best_f1, best_r = 0.5, None, 0.0
    best_f1_value = -1.0
    for refused, t in _cuts(scores):
        tp = int((refused & is_ood).sum())
        precision = tp / refused.sum()
        recall = tp / max(int(is_ood.sum()), 1)
        f1 = 2 * tp / (refused.sum() + max(int(is_ood.sum()), 1))
        if precision >= target:
            best_p, best_r = t, max(best_r, recall)
        if f1 > best_f1_value:
            best_f1, best_f1_value = t, f1
    return best_p, best_f1, best_r


scored = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        # many ties; below 1, since a threshold is clipped to [0, 1] and cannot refuse a score of exactly 1
        st.lists(st.integers(0, 7).map(lambda k: k / 8), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)


@settings(max_examples=300, deadline=None)
@given(scored, st.sampled_from([0.99, 0.8, 0.5]))
def test_threshold_search_matches_brute_force(data, target):
    scores, is_ood = np.array(data[0]), np.array(data[1])
    want_p, want_f1, want_r = _brute(scores, is_ood, target)
    assert precision_threshold(scores, is_ood, target) == want_p
    assert f1_threshold(scores, is_ood) == want_f1
    assert recall_at_precision(scores, is_ood, target) == pytest.approx(want_r)
    if want_r > 0:  # some cut meets the target: the threshold refuses exactly such a set
        refused = scores < precision_threshold(scores, is_ood, target)
        assert refused.any() and (refused & is_ood).sum() / refused.sum() >= target


def test_known_cases():
    # in-domain scores, lowest first: 3 OOD, then an in-domain prompt, then 1 OOD
    scores = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.9])
    is_ood = np.array([True, True, True, False, True, False])
    assert precision_threshold(scores, is_ood) == pytest.approx(0.25)  # refuse the 3 lowest
    assert recall_at_precision(scores, is_ood, 0.99) == pytest.approx(3 / 4)
    assert recall_at_precision(scores, is_ood, 0.8) == pytest.approx(1.0)  # 4 of 5 refusals OOD
    assert recall_at_precision(1 - scores, is_ood, 0.99) == 0.0  # an in-domain prompt is lowest
    assert f1_threshold(scores, is_ood) == pytest.approx(0.65)  # 4 of 5 refused: F1 = 8/9
    assert choose_threshold("fixed", scores, is_ood) == 0.5
    assert precision_threshold(scores, np.zeros(6, bool)) == 0.5  # no OOD: nothing to refuse
    with pytest.raises(DataError, match="unknown threshold rule"):
        choose_threshold("best", scores, is_ood)
    with pytest.raises(DataError, match="at least one score"):
        precision_threshold(np.array([]), np.array([], bool))


def test_metrics_at_a_threshold():
    scores = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.9])
    is_ood = np.array([True, True, True, False, True, False])
    m = ood_metrics(scores, is_ood, 0.35)  # refuses 4: 3 OOD + 1 in-domain
    assert (m["precision"], m["recall"]) == (0.75, 0.75)
    assert m["false_accept_rate"] == 0.25 and m["false_reject_rate"] == 0.5
    assert m["confusion"] == {
        "ood_refused": 3,
        "ood_accepted": 1,
        "in_domain_refused": 1,
        "in_domain_accepted": 1,
    }
    assert m["auroc"] == pytest.approx(7 / 8) and not meets_bar(m)
    assert meets_bar({"precision": 0.99, "recall": 0.95})
