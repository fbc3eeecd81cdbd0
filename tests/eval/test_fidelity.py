"""Fidelity metrics on hand-worked examples (architecture.md §6 definitions)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sashimi.dsl.parser import parse
from sashimi.eval.fidelity import (
    align,
    edit_distance,
    fidelity_category,
    fidelity_scores,
    multiset_f1,
    normalised_edit_distance,
    program_view,
)


def view(text: str, catalog):
    return program_view(parse(text), catalog)


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        (["a", "a", "b"], ["a", "b", "b"], 2 * 2 / 6),  # repeats: min counts a:1, b:1
        (["a", "a", "a"], ["a"], 2 * 1 / 4),
        (["a"], ["a", "a", "a"], 2 * 1 / 4),
        ([], [], 1.0),  # an empty pair scores 1
        ([], ["a"], 0.0),
        (["b"], ["a"], 0.0),
        (["x", "y"], ["y", "x"], 1.0),  # order does not matter
    ],
)
def test_multiset_f1(pred, gold, expected):
    assert multiset_f1(pred, gold) == pytest.approx(expected)


def test_edit_distance():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance(["A", "B"], ["A", "B"]) == 0
    assert edit_distance([], ["A", "B"]) == 2
    assert normalised_edit_distance("kitten", "sitting") == pytest.approx(3 / 7)
    assert normalised_edit_distance([], []) == 0.0
    assert normalised_edit_distance(["A"], ["B", "C"]) == 1.0


def test_align_is_a_longest_common_subsequence():
    assert align(["a", "b", "c", "b"], ["b", "c", "a"]) == [(1, 0), (2, 1)]
    assert align(["a", "a"], ["a"]) == [(0, 0)]
    assert align([], ["a"]) == []
    assert align(["x", "a", "y", "b"], ["a", "b"]) == [(1, 0), (3, 1)]


def test_identities_are_canonicalised_even_for_unknown_actions(catalog):
    short = view('SHORTCUT "A"\nACTION openurl\nACTION frobnicate\n', catalog)
    full = view(
        'SHORTCUT "A"\nACTION is.workflow.actions.openurl\nACTION is.workflow.actions.frobnicate\n', catalog
    )
    assert short.action_names == full.action_names == ("openurl", "frobnicate")
    scores = fidelity_scores(full, short)
    assert scores["action_f1"] == 1.0 and scores["skeleton_exact"] == 1.0 and scores["exact"] == 0.0
    # printed text keeps the written spelling, so canonical exact match sees the difference


def test_comments_and_endshortcut_are_excluded(catalog):
    gold = view('SHORTCUT "A"\nACTION comment WFCommentActionText="x"\nACTION openurl\n', catalog)
    pred = view('SHORTCUT "A"\n# a line comment\nACTION openurl\nENDSHORTCUT\n', catalog)
    assert gold.skeleton == ("A:openurl",)
    assert fidelity_scores(pred, gold) == {
        "action_f1": 1.0,
        "skeleton_exact": 1.0,
        "skeleton_edit_distance": 0.0,
        "tier1_exact": 1.0,
        "param_key_f1": None,  # the gold has no parameter
        "enum_accuracy": None,
        "value_accuracy": None,
        "exact": 1.0,
    }


GOLD = """SHORTCUT "A"
ACTION comment WFCommentActionText="hi"
ACTION gettext WFTextActionText="x"
ACTION gettext WFTextActionText="y"
ACTION openurl
"""
PRED = """SHORTCUT "A"
ACTION is.workflow.actions.gettext WFTextActionText="x"
ACTION showresult Text="z"
ACTION is.workflow.actions.openurl
"""


def test_hand_worked_row(catalog):
    scores = fidelity_scores(view(PRED, catalog), view(GOLD, catalog))
    # actions: gold {gettext: 2, openurl: 1}, predicted {gettext, showresult, openurl}: 2 shared
    assert scores["action_f1"] == pytest.approx(2 * 2 / 6)
    # skeleton gettext gettext openurl vs gettext showresult openurl: one substitution of three
    assert scores["skeleton_edit_distance"] == pytest.approx(1 / 3)
    assert scores["skeleton_exact"] == 0.0 and scores["tier1_exact"] == 0.0
    # aligned: gettext[0]-gettext[0], openurl-openurl; keys: 1 matched of 2 predicted, 2 gold
    assert scores["param_key_f1"] == pytest.approx(2 * 1 / 4)
    # values: "x" right on the aligned gettext, "y" on the unaligned one counts as wrong
    assert scores["value_accuracy"] == pytest.approx(0.5)
    assert scores["enum_accuracy"] is None
    assert scores["exact"] == 0.0


def test_enum_accuracy_on_aligned_actions(catalog):
    gold = view(
        'SHORTCUT "A"\nACTION takevideo WFCameraCaptureDevice="Front"\nACTION hash WFHashType="SHA512"\n',
        catalog,
    )
    pred = view(
        'SHORTCUT "A"\nACTION takevideo WFCameraCaptureDevice="Back"\nACTION hash WFHashType="SHA512"\n',
        catalog,
    )
    assert gold.actions[0].params[0][1] == "enum"
    scores = fidelity_scores(pred, gold)
    assert scores["enum_accuracy"] == pytest.approx(0.5)
    assert scores["param_key_f1"] == 1.0
    assert fidelity_category(pred, gold) == "wrong_parameters"


def test_variables_are_abstracted_but_exact_match_is_not(catalog):
    gold = view('SHORTCUT "A"\nACTION ask\nSET $x = @prev\nACTION showresult Text=$x\n', catalog)
    pred = view('SHORTCUT "A"\nACTION ask\nSET $y = @prev\nACTION showresult Text=$y\n', catalog)
    scores = fidelity_scores(pred, gold)
    assert scores["tier1_exact"] == 1.0 and scores["exact"] == 0.0
    assert fidelity_category(pred, gold) == "wrong_values"


def test_categories(catalog):
    gold = view('SHORTCUT "A"\nACTION ask\nIF @prev equals_string "a"\nACTION vibrate\nENDIF\n', catalog)
    assert fidelity_category(gold, gold) == "exact"
    other_condition = view(
        'SHORTCUT "A"\nACTION ask\nIF @prev contains "a"\nACTION vibrate\nENDIF\n', catalog
    )
    assert fidelity_category(other_condition, gold) == "wrong_structure"
    other_value = view(
        'SHORTCUT "A"\nACTION ask\nIF @prev equals_string "b"\nACTION vibrate\nENDIF\n', catalog
    )
    assert fidelity_category(other_value, gold) == "wrong_values"
    no_if = view('SHORTCUT "A"\nACTION ask\nACTION vibrate\n', catalog)
    assert fidelity_category(no_if, gold) == "wrong_skeleton"


def test_parameter_metrics_are_defined_by_the_gold(catalog):
    gold = view('SHORTCUT "A"\nACTION vibrate\n', catalog)
    pred = view('SHORTCUT "A"\nACTION vibrate UUID="x"\n', catalog)
    assert fidelity_scores(pred, gold)["param_key_f1"] is None  # same rows for every system
    assert fidelity_scores(gold, pred)["param_key_f1"] == 0.0


def test_failed_prediction_scores_worst(catalog):
    gold = view(GOLD, catalog)
    scores = fidelity_scores(None, gold)
    assert scores["action_f1"] == 0.0 and scores["skeleton_edit_distance"] == 1.0
    assert scores["param_key_f1"] == 0.0 and scores["value_accuracy"] == 0.0


tokens = st.lists(st.sampled_from(["A:x", "A:y", "IF", "ENDIF", "SET"]), max_size=8)


@given(tokens, tokens, tokens)
@settings(max_examples=200, deadline=None)
def test_metric_properties(a, b, c):
    assert edit_distance(a, b) == edit_distance(b, a)
    assert edit_distance(a, c) <= edit_distance(a, b) + edit_distance(b, c)
    assert abs(len(a) - len(b)) <= edit_distance(a, b) <= max(len(a), len(b))
    assert 0.0 <= normalised_edit_distance(a, b) <= 1.0
    assert multiset_f1(a, b) == pytest.approx(multiset_f1(b, a))
    assert (multiset_f1(a, b) == 1.0) == (sorted(a) == sorted(b))
    pairs = align(a, b)
    assert all(a[i] == b[j] for i, j in pairs)
    assert all(i1 < i2 and j1 < j2 for (i1, j1), (i2, j2) in zip(pairs, pairs[1:], strict=False))
    # an LCS is never shorter than what a greedy common-prefix match finds
    prefix = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    assert len(pairs) >= prefix
    assert len(pairs) == len(align(b, a))
