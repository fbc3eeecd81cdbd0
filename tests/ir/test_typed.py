"""Typed IR: tier assignment, variable numbering, lossless lowering, JSON form, token views."""

from __future__ import annotations

import json

import pytest

from sashimi.dsl.ast import (
    ActionStatement,
    BoolValue,
    Comment,
    DictLiteral,
    HandleRef,
    IfBlock,
    InterpolatedString,
    SetVariable,
    ShortcutIR,
    StringValue,
    VarRef,
)
from sashimi.errors import DataError
from sashimi.ir.lowering import lower
from sashimi.ir.typed import (
    Slot,
    TypedProgram,
    TypedToken,
    drop_comment_actions,
    skeleton,
    structure_tokens,
    tier_texts,
    to_typed,
)
from tests.ir.helpers import every_kind_program, small_catalog

CAT = small_catalog()


def _tokens(ir: ShortcutIR) -> list[tuple[int, str]]:
    return [(t.tier, t.text) for t in to_typed(ir, CAT).tokens]


def _one_action(*params) -> ShortcutIR:
    return ShortcutIR("T", (ActionStatement("text.combine", tuple(params)),))


def test_every_kind_is_lossless_and_survives_json():
    ir = every_kind_program()
    typed = to_typed(ir, CAT)
    assert lower(typed) == ir
    reloaded = TypedProgram.from_json(json.loads(json.dumps(typed.to_json())))
    assert reloaded == typed
    assert lower(reloaded) == ir


def test_lowering_keeps_int_float_and_empty_bodies_apart():
    ir = every_kind_program()
    lowered = lower(TypedProgram.from_json(json.loads(json.dumps(to_typed(ir, CAT).to_json()))))
    # Equality would already fail, but check the corners explicitly: ELSE () vs None, 1 vs 1.0.
    ifs = [s for s in lowered.statements if isinstance(s, IfBlock)]
    assert ifs[0].else_body == () and ifs[1].else_body is None
    slots = to_typed(ir, CAT).slots
    assert any(s.kind == "num" and s.value == 2 and isinstance(s.value, int) for s in slots)
    assert any(s.kind == "num" and isinstance(s.value, float) for s in slots)


def test_statement_and_structure_tokens_are_tier1():
    ir = ShortcutIR(
        "T",
        (
            IfBlock(HandleRef("input"), "has_any_value", None, (Comment("x"),), ()),
            SetVariable("Name", HandleRef("prev")),
        ),
    )
    assert _tokens(ir) == [
        (1, "SHORTCUT"),
        (3, "<str>"),
        (1, "IF"),
        (1, "@input"),
        (1, "has_any_value"),
        (1, "#"),
        (3, "<str>"),
        (1, "ELSE"),
        (1, "ENDIF"),
        (1, "SET"),
        (1, "$VAR_1"),
        (1, "@prev"),
        (1, "END"),
    ]


def test_action_identity_is_one_canonical_token_and_spelling_is_restored():
    ir = ShortcutIR(
        "T",
        (
            ActionStatement("gettext"),
            ActionStatement("is.workflow.actions.gettext"),
            ActionStatement("text"),  # alias
        ),
    )
    typed = to_typed(ir, CAT)
    assert [t.text for t in typed.tokens if t.text.startswith("A:")] == ["A:gettext"] * 3
    assert typed.spellings == ((1, "is.workflow.actions.gettext"), (2, "text"))
    assert [s.action_name for s in lower(typed).statements] == [
        "gettext",
        "is.workflow.actions.gettext",
        "text",
    ]


def test_unknown_and_third_party_actions_keep_their_written_name():
    ir = ShortcutIR("T", (ActionStatement("frobnicate"), ActionStatement("com.example.app.DoThingIntent")))
    typed = to_typed(ir, CAT)
    assert tier_texts(typed) == (
        "SHORTCUT",
        "ACTION",
        "A:frobnicate",
        "ACTION",
        "A:com.example.app.DoThingIntent",
        "END",
    )
    assert typed.spellings == ()


def test_tier2_keys_enums_and_booleans():
    ir = _one_action(
        ("WFTextSeparator", StringValue("Spaces")),
        ("ShowWhenRun", BoolValue(True)),
    )
    assert _tokens(ir)[2:-1] == [
        (1, "ACTION"),
        (1, "A:text.combine"),
        (2, "K:WFTextSeparator"),
        (2, "E:Spaces"),
        (2, "K:ShowWhenRun"),
        (2, "true"),
    ]


def test_string_outside_the_closed_enum_falls_to_tier3():
    typed = to_typed(_one_action(("WFTextSeparator", StringValue(" | "))), CAT)
    assert [(t.tier, t.text) for t in typed.tokens][4:6] == [(2, "K:WFTextSeparator"), (3, "<str>")]
    slot = typed.slots[typed.tokens[5].slot]
    assert slot == Slot("str", " | ", "param", "text.combine", "WFTextSeparator")


def test_interpolated_strings_keep_references_structural():
    ir = ShortcutIR(
        "T",
        (
            ActionStatement(
                "gettext",
                (
                    (
                        "WFTextActionText",
                        InterpolatedString(
                            (StringValue("from:"), HandleRef("prev"), StringValue(" "), VarRef("Who"))
                        ),
                    ),
                ),
            ),
        ),
    )
    typed = to_typed(ir, CAT)
    assert [(t.tier, t.text) for t in typed.tokens][4:11] == [
        (2, "K:WFTextActionText"),
        (1, "<interp>"),
        (3, "<text>"),
        (1, "@prev"),
        (3, "<text>"),
        (1, "$VAR_1"),
        (1, "</interp>"),
    ]
    assert [s.value for s in typed.slots[1:]] == ["from:", " "]
    assert typed.var_names == ("Who",)


def test_variables_numbered_by_first_occurrence_and_builtins_kept():
    ir = ShortcutIR(
        "T",
        (
            SetVariable("B", VarRef("A")),
            SetVariable("A", VarRef("Repeat_Item")),
            ActionStatement("setvariable", (("WFVariableName", StringValue("C")),)),
            ActionStatement("appendvariable", (("WFVariableName", StringValue("B")),)),
        ),
    )
    typed = to_typed(ir, CAT)
    assert typed.var_names == ("B", "A", "C")
    t1 = tier_texts(typed)
    assert t1.count("$VAR_1") == 2 and t1.count("$VAR_2") == 2 and "$Repeat_Item" in t1
    # The variable-name string of Set/Add to Variable is a variable token, linked to its uses.
    assert ("<name>", "$VAR_3") == t1[t1.index("A:setvariable") + 1 : t1.index("A:setvariable") + 3]
    assert lower(typed) == ir


def test_variables_inside_blobs_are_renamed_consistently():
    ir = ShortcutIR(
        "T", (SetVariable("X", DictLiteral((("k", VarRef("Secret")),))), SetVariable("Secret", VarRef("X")))
    )
    typed = to_typed(ir, CAT)
    assert typed.var_names == ("X", "Secret")
    assert typed.slots[1].value == DictLiteral((("k", VarRef("VAR_2")),))
    assert "Secret" not in json.dumps(typed.to_json()["slots"])
    assert lower(typed) == ir


def test_renaming_through_var_names_renames_every_use():
    ir = ShortcutIR(
        "T", (SetVariable("Old", HandleRef("prev")), IfBlock(VarRef("Old"), "has_any_value", None, (), None))
    )
    typed = to_typed(ir, CAT)
    renamed = TypedProgram(typed.tokens, typed.slots, ("New",), typed.spellings)
    lowered = lower(renamed)
    assert lowered.statements[0].var_name == "New" and lowered.statements[1].target == VarRef("New")


def test_token_views_and_comment_dropping():
    ir = every_kind_program()
    typed = to_typed(ir, CAT)
    t1 = skeleton(ir, CAT)
    assert t1 == tier_texts(typed, (1,))
    assert all(not t.startswith(("K:", "E:", "<str>")) for t in t1)
    t12 = structure_tokens(ir, CAT)
    assert "K:WFTextSeparator" in t12 and "E:New Lines" in t12 and "<str>" not in t12
    assert "<str>" in structure_tokens(ir, CAT, placeholders=True)
    no_comments = skeleton(ir, CAT, drop_comments=True)
    assert "A:comment" in t1 and "A:comment" not in no_comments and "#" not in no_comments
    stripped = drop_comment_actions(ir, CAT)
    assert not any(isinstance(s, Comment) for s in stripped.walk())
    assert len(stripped.all_actions()) == len(ir.all_actions()) - 1


def test_tier_counts_partition_the_tokens():
    typed = to_typed(every_kind_program(), CAT)
    counts = typed.tier_counts()
    assert sum(counts.values()) == len(typed.tokens)
    assert counts[3] == len(typed.slots)
    assert all((t.tier == 3) == (t.slot is not None) for t in typed.tokens)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(tokens=d["tokens"][:-1], tiers=d["tiers"][:-1]), "unexpected end of tokens"),
        (lambda d: d.update(var_names=[]), "has no name"),
        (lambda d: d["tokens"].__setitem__(2, "ELSE"), "expected 'END', got 'ELSE'"),
        (lambda d: d["tokens"].__setitem__(2, "K:Stray"), "expected a statement"),
        (lambda d: d["tokens"].__setitem__(3, "plain"), "expected a \\$variable or @handle"),
        (lambda d: d.update(slots=d["slots"][:-1]), "slots"),
        (lambda d: d["tiers"].__setitem__(0, 7), "bad token"),
        (
            lambda d: d["tokens"].__setitem__(d["tokens"].index("has_any_value"), "is_about"),
            "unknown condition",
        ),
    ],
)
def test_malformed_typed_ir_raises_one_located_error(mutate, message):
    ir = ShortcutIR(
        "T", (SetVariable("V", HandleRef("prev")), IfBlock(VarRef("V"), "has_any_value", None, (), None))
    )
    obj = to_typed(ir, CAT).to_json()
    mutate(obj)
    with pytest.raises(DataError, match=message):
        lower(TypedProgram.from_json(obj))


def test_slot_of_wrong_kind_is_rejected():
    typed = to_typed(ShortcutIR("T", ()), CAT)
    bad = TypedProgram(
        (TypedToken(1, "SHORTCUT"), TypedToken(3, "<num>", 0), TypedToken(1, "END")), typed.slots, ()
    )
    with pytest.raises(DataError, match="slot"):
        lower(bad)
