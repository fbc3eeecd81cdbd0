"""The scoring helpers of benchmarks/gate_study.py, whose figures RESULTS §4.3 quotes.

`benchmarks/` is on the test path (pyproject `pythonpath`), so the script imports as a module."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def study():
    import gate_study

    return gate_study


def test_summary_reads_ood_scores_higher_is_more_ood(study):
    # OOD scores, highest first: 3 OOD, then an in-domain prompt, then 1 OOD.
    score = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.0])
    is_ood = np.array([True, True, True, False, True, False])
    assert study.summary(score, is_ood) == {"recall_at_p99": 0.75, "auroc": pytest.approx(7 / 8)}
    assert study.summary(-score, is_ood)["recall_at_p99"] == 0.0  # an in-domain prompt ranks first


def test_held_out_threshold_comes_from_out_of_fold_scores_only(study):
    rng = np.random.default_rng(0)
    is_ood_oof = np.array([True] * 20 + [False] * 40)
    oof = {"a": np.where(is_ood_oof, 2.0, -2.0) + rng.normal(0, 0.1, 60)}
    is_ood_test = np.array([True] * 10 + [False] * 10)
    # The OOF cut lies just under 0 in logit units: it refuses the 7 held-out OOD prompts at 0 and above
    # and the in-domain one at 1.0. A cut fitted on these held-out scores at 99 % precision would
    # refuse only the 4 OOD prompts above 1.0.
    test = np.concatenate([np.linspace(-1.5, 3.0, 10), np.r_[1.0, np.full(9, -3.0)]])
    dev = np.full(4, -3.0)
    m = study.held_out_metrics(oof, {"a": np.concatenate([test, dev])}, is_ood_oof, is_ood_test, 20)
    assert m["confusion"] == {
        "ood_refused": 7,
        "ood_accepted": 3,
        "in_domain_refused": 1,
        "in_domain_accepted": 9,
    }
    assert m["precision"] == pytest.approx(7 / 8, abs=1e-4)
    assert not m["meets_bar"]
    assert m["real_dev_false_reject_rate"] == 0.0


def test_held_out_fusion_sums_z_scores_of_every_component(study):
    is_ood = np.array([True, False] * 50)
    base = np.where(is_ood, 1.0, -1.0)
    oof = {"a": base * 10, "b": base * 0.1}  # same ranking, very different scales
    m = study.held_out_metrics(oof, {"a": base * 10, "b": base * 0.1}, is_ood, is_ood, len(is_ood))
    assert m["precision"] == 1.0 and m["recall"] == 1.0 and m["meets_bar"]
    assert "real_dev_false_reject_rate" not in m


def test_held_out_scores_the_blind_set_after_real_dev_with_the_out_of_fold_cut(study):
    is_ood_oof = np.array([True] * 20 + [False] * 40)
    oof = {"a": np.where(is_ood_oof, 2.0, -2.0)}
    is_ood_test = np.array([True, False])
    test, dev = np.array([2.0, -2.0]), np.array([-2.0, 2.0, -2.0])  # one real dev prompt refused
    # blind: 4 OOD (one scored in-domain: a false accept), 3 in-domain (one refused)
    blind = np.array([2.0, 2.0, 2.0, -2.0, -2.0, -2.0, 2.0])
    labels = np.array([True, True, True, True, False, False, False])
    categories = ["chat", "chat", "cron", "cron", "terse", "terse", "terse"]
    refit = {"a": np.concatenate([test, dev, blind])}
    m = study.held_out_metrics(oof, refit, is_ood_oof, is_ood_test, 2, 3, (labels, categories))
    assert m["real_dev_false_reject_rate"] == pytest.approx(1 / 3, abs=1e-4)
    b = m["blind"]
    assert (b["false_accepts"], b["false_rejects"]) == ("1/4", "1/3")
    assert b["false_accept_rate"] == 0.25 and b["false_reject_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert b["ood_accept_rate_by_category"] == {"chat": 0.0, "cron": 0.5}  # in-domain categories not listed
