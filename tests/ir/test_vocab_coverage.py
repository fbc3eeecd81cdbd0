"""Tier 1 / Tier 2 vocabularies and the EXP-1.3/1.4 coverage report."""

from __future__ import annotations

import json

import pytest

from sashimi.dsl.ast import (
    ActionStatement,
    BoolValue,
    HandleRef,
    IfBlock,
    InterpolatedString,
    SetVariable,
    ShortcutIR,
    StringValue,
    VarRef,
)
from sashimi.errors import DataError
from sashimi.ir.coverage import coverage_report
from sashimi.ir.typed import SPECIAL_TOKENS, to_typed
from sashimi.ir.vocab import build_vocab, load_vocab, save_vocab
from tests.ir.helpers import every_kind_program, small_catalog

CAT = small_catalog()

TRAIN = [
    ShortcutIR(
        "one",
        (
            ActionStatement("comment", (("WFCommentActionText", StringValue("hello")),)),
            ActionStatement(
                "text.combine", (("WFTextSeparator", StringValue("Spaces")), ("ShowWhenRun", BoolValue(True)))
            ),
            SetVariable("A", HandleRef("prev")),
            ActionStatement("frobnicate", (("Odd", StringValue("x")),)),
        ),
    ),
    ShortcutIR("two", (IfBlock(HandleRef("Custom_Name"), "has_any_value", None, (), None),)),
]


@pytest.fixture(scope="module")
def vocab():
    return build_vocab(TRAIN, CAT, catalog_actions=CAT.actions)


def test_tier1_vocab_contents(vocab):
    assert vocab.tier1[: len(SPECIAL_TOKENS)] == SPECIAL_TOKENS and vocab.tier1_index()["<PAD>"] == 0
    assert len(set(vocab.tier1)) == len(vocab.tier1)
    t1 = set(vocab.tier1)
    # every catalog action, seen or not; plus the unknown action training used
    assert {"A:comment", "A:unusedaction", "A:frobnicate", "A:gettext"} <= t1
    # handles: reserved, magic, block outputs, sanitised action names, and named handles from training
    assert {"@prev", "@item", "@DeviceDetails", "@repeat_each", "@text_combine", "@Custom_Name"} <= t1
    assert "$VAR_1" in t1 and "$VAR_2" not in t1 and "$Repeat_Item" in t1
    assert {"IF", "ENDFOREACH", "END", "<interp>", "<str>", "is_before", "true"} <= t1


def test_tier2_vocab_from_catalog_and_training(vocab):
    unseen = vocab.tier2["unusedaction"]
    assert unseen.training_count == 0 and unseen.in_catalog
    # the catalog's own params plus its generic ones (UUID, CustomOutputName) via known_params
    assert {"K:Mode", "K:Flag", "E:Fast", "E:Slow", "true", "false"} <= set(unseen.tokens())
    assert set(unseen.keys) == {"Mode", "Flag"} | set(CAT.known_params(unseen.identifier))
    combine = vocab.tier2["text.combine"]
    assert combine.training_count == 1 and combine.enums["WFTextSeparator"] == (
        "Custom",
        "New Lines",
        "Spaces",
    )
    assert combine.boolean_keys == ("ShowWhenRun",)
    unknown = vocab.tier2["frobnicate"]
    assert unknown.identifier is None and not unknown.in_catalog and unknown.tokens() == ("K:Odd",)


def test_vocab_save_load_round_trip(vocab, tmp_path):
    save_vocab(vocab, tmp_path / "v")
    (tmp_path / "v" / "tier2_vocab" / "stale-action.json").write_text("{}", encoding="utf-8")
    save_vocab(vocab, tmp_path / "v")  # re-run into the same folder drops files of vanished actions
    loaded = load_vocab(tmp_path / "v")
    assert loaded.tier1 == vocab.tier1 and loaded.tier2 == vocab.tier2
    assert json.loads((tmp_path / "v" / "tier2_vocab" / "unusedaction.json").read_text())["tokens"]


def test_load_vocab_rejects_bad_files(vocab, tmp_path):
    save_vocab(vocab, tmp_path / "v")
    (tmp_path / "v" / "tier2_vocab" / "comment.json").write_text('{"action": 3}', encoding="utf-8")
    with pytest.raises(DataError, match="comment.json"):
        load_vocab(tmp_path / "v")
    with pytest.raises(DataError, match="not found"):
        load_vocab(tmp_path / "missing")


def test_coverage_counts_uncovered_tokens(vocab):
    dev = ShortcutIR(
        "dev",
        (
            SetVariable("A", VarRef("B")),  # $VAR_2 never seen in training
            ActionStatement(
                "text.combine", (("WFTextSeparator", StringValue("Custom")), ("Extra", StringValue("y")))
            ),
            ActionStatement(
                "gettext", (("WFTextActionText", InterpolatedString((HandleRef("Brand_New"),))),)
            ),
        ),
    )
    report = coverage_report(vocab, [("dev", to_typed(dev, CAT))], CAT)
    t1 = report["tier1"]
    # SHORTCUT SET $VAR_1 $VAR_2 ACTION A:text.combine ACTION A:gettext <interp> @Brand_New </interp> END
    assert t1["by_occurrence"] == {"covered": 10, "total": 12, "rate": round(10 / 12, 6)}
    assert {u["token"] for u in t1["uncovered"]} == {"$VAR_2", "@Brand_New"}
    assert not t1["meets_target"]
    t2 = report["tier2"]
    # K:WFTextSeparator E:Custom K:Extra K:WFTextActionText -> K:Extra unknown for text.combine
    assert t2["by_occurrence"] == {"covered": 3, "total": 4, "rate": 0.75}
    assert t2["uncovered"] == [{"action": "text.combine", "token": "K:Extra", "count": 1}]
    assert t2["by_kind"]["enums"] == {"covered": 1, "total": 1, "rate": 1.0}
    assert report["lengths"]["tier1"] == {"mean": 12.0, "p95": 12.0, "max": 12}
    assert (
        report["tier2_per_action"]["max"] == 3 and report["tier2_per_action"]["max_action"] == "text.combine"
    )
    assert report["tier3"]["slots_by_kind"] == {"str": 2}  # the name and the free "y"


def test_coverage_of_training_data_is_complete(vocab):
    report = coverage_report(vocab, [(ir.name, to_typed(ir, CAT)) for ir in TRAIN], CAT)
    assert report["tier1"]["by_occurrence"]["rate"] == 1.0 and report["tier1"]["meets_target"]
    assert report["tier2"]["by_type"]["rate"] == 1.0 and report["tier2"]["meets_target"]


def test_closed_enum_strings_that_fall_to_tier3_are_reported(vocab):
    report = coverage_report(vocab, [("x", to_typed(every_kind_program(), CAT))], CAT)
    assert {"action": "text.combine", "param": "WFTextSeparator", "count": 1} in report["tier3"][
        "closed_enum_params_with_free_string"
    ]


def test_merge_vocab_keeps_the_base_and_adds_the_rest_in_order():
    from dataclasses import replace

    from sashimi.ir.vocab import ActionVocab, Vocab, merge_vocab

    base = Vocab(
        ("ACTION", "A:x"),
        {"handles": ("@prev",)},
        {"x": ActionVocab("x", None, ("K1",), {"K1": ("a", "b")}, ("K1",))},
    )
    extra = Vocab(
        ("ACTION", "A:y", "A:x"),
        {"handles": ("@item", "@prev"), "vars": ("$VAR_1",)},
        {
            "x": ActionVocab("x", "is.x", ("K2", "K1"), {"K1": ("c", "a"), "K2": ("z",)}, (), in_catalog=True),
            "y": ActionVocab("y", None, ("K",)),
        },
    )
    merged = merge_vocab(base, extra)
    assert merged.tier1 == ("ACTION", "A:x", "A:y")
    assert merged.categories == {"handles": ("@prev", "@item"), "vars": ("$VAR_1",)}
    x = merged.tier2["x"]
    assert x.keys == ("K1", "K2") and x.enums == {"K1": ("a", "b", "c"), "K2": ("z",)}
    assert x.boolean_keys == ("K1",) and x.identifier == "is.x" and x.in_catalog
    assert merged.tier2["y"] == extra.tier2["y"]
    assert merge_vocab(base, replace(base)) == base
