"""benchmarks/chooser_edits.py's greedy action edits and chooser_prior.py's prior shift (RESULTS §7.18)."""

import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def edits():
    import chooser_edits

    return chooser_edits


@pytest.fixture(scope="module")
def prior():
    import chooser_prior

    return chooser_prior


COLUMN = {"A:x": 0, "A:y": 1, "A:z": 2}


def test_an_absent_likely_action_is_added_once(edits):
    p = np.array([0.9, 0.9, 0.05])
    got, drops, adds = edits.edit_actions(["A:x", "A:x"], p, COLUMN, delta=0.0, edits=3, kinds="add")
    assert got == ["A:x", "A:x", "A:y"] and (drops, adds) == (0, 1)  # z is too unlikely to raise E[F1]


def test_an_unlikely_action_is_dropped_with_all_its_occurrences(edits):
    p = np.array([0.9, 0.01, 0.0])
    got, drops, adds = edits.edit_actions(["A:x", "A:y", "A:y"], p, COLUMN, delta=0.0, edits=3, kinds="drop")
    assert got == ["A:x"] and (drops, adds) == (1, 0)
    # never down to an empty program, and an unknown action counts as p = 0
    got, _, _ = edits.edit_actions(["A:q"], p, COLUMN, delta=0.0, edits=3, kinds="drop")
    assert got == ["A:q"]


def test_delta_and_the_edit_budget_hold_edits_back(edits):
    p = np.array([0.9, 0.9, 0.9])
    assert edits.edit_actions(["A:x"], p, COLUMN, delta=0.0, edits=1)[0] == ["A:x", "A:y"]
    assert edits.edit_actions(["A:x"], p, COLUMN, delta=0.0, edits=2)[0] == ["A:x", "A:y", "A:z"]
    assert edits.edit_actions(["A:x"], p, COLUMN, delta=0.5, edits=2)[0] == ["A:x"]


def test_best_free_set_maximises_expected_f1(edits):
    p = np.array([0.95, 0.6, 0.1])
    assert edits.best_free_set(p, list(COLUMN)) == ["A:x", "A:y"]


def test_the_prior_shift_is_the_identity_at_gamma_zero_and_monotone(prior):
    p = np.array([0.2, 0.5, 0.9])
    cos = np.array([-0.1, 0.0, 0.3])
    assert prior.shifted(p, cos, 0.0) == pytest.approx(p)
    up = prior.shifted(p, cos, 5.0)
    assert up[0] < p[0] and up[1] == pytest.approx(p[1]) and up[2] > p[2]


def test_action_texts_read_names_and_descriptions_and_name_a_missing_action(prior, tmp_path):
    catalog = {
        "_meta": {"canonical_map": {"comment": "is.workflow.actions.comment"}},
        "actions": {"is.workflow.actions.comment": {"name": "Comment", "description": "A note in the shortcut."}},
    }
    (tmp_path / "action_catalog.json").write_text(json.dumps(catalog))
    assert prior.action_texts(tmp_path, ["A:comment"]) == ["Comment: A note in the shortcut."]
    with pytest.raises(SystemExit, match="'nosuch' is not in"):
        prior.action_texts(tmp_path, ["A:nosuch"])


def test_shared_helpers_score_candidates_and_write_a_report(tmp_path):
    import chooser_cv

    actions = [["A:x", "A:y"], ["A:x"], ["A:z"]]
    order = np.array([[1, 2], [0, 2], [0, 1]])
    gains = chooser_cv.candidate_gains(actions, order)
    assert gains.shape == (3, 2) and gains[0].tolist() == pytest.approx([2 / 3, 0.0]) and gains[2].tolist() == [0.0, 0.0]
    path = chooser_cv.write_report(tmp_path / "out", "r.json", {"k": 1}, 0.0, {"mean": 0.5})
    saved = json.loads(path.read_text())
    assert saved["metrics"] == {"mean": 0.5} and saved["config"] == {"k": 1} and "git_commit" in saved
