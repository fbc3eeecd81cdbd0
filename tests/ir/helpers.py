"""A small hand-written catalog and programs for the typed-IR tests (independent of the shipped core
catalog, whose content grows over time)."""

from __future__ import annotations

from sashimi.dsl.ast import (
    ActionStatement,
    BoolValue,
    Comment,
    DictLiteral,
    ForeachBlock,
    HandleRef,
    HeadersLiteral,
    IfBlock,
    InterpolatedString,
    ListLiteral,
    MenuBlock,
    MenuCase,
    NumberValue,
    QuantityLiteral,
    RepeatBlock,
    SetVariable,
    ShortcutIR,
    StringValue,
    VarRef,
)
from sashimi.dsl.catalog import ActionSpec, Catalog, ParamSpec

P = "is.workflow.actions."


def _action(short: str, params: tuple[ParamSpec, ...] = ()) -> ActionSpec:
    return ActionSpec(
        identifier=P + short,
        short_name=short,
        title=short.title(),
        output_name=short.title(),
        params=params,
        input_param=None,
        category="test",
    )


def small_catalog() -> Catalog:
    actions = [
        _action("comment", (ParamSpec("WFCommentActionText", "text"),)),
        _action("gettext", (ParamSpec("WFTextActionText", "text"),)),
        _action(
            "text.combine",
            (
                ParamSpec("WFTextSeparator", "enum", ("New Lines", "Spaces", "Custom")),
                ParamSpec("text", "variable"),
                ParamSpec("ShowWhenRun", "bool"),
            ),
        ),
        _action("setvariable", (ParamSpec("WFVariableName", "text"), ParamSpec("WFInput", "variable"))),
        _action("appendvariable", (ParamSpec("WFVariableName", "text"),)),
        _action("adjustdate", (ParamSpec("WFDuration", "quantity"), ParamSpec("WFDate", "text"))),
        _action("downloadurl", (ParamSpec("WFHTTPHeaders", "dict"), ParamSpec("WFJSONValues", "dict"))),
        _action("list", (ParamSpec("WFItems", "list"),)),
        _action("number", (ParamSpec("WFNumberActionNumber", "number"),)),
        _action("unusedaction", (ParamSpec("Mode", "enum", ("Fast", "Slow")), ParamSpec("Flag", "bool"))),
    ]
    cmap = {a.short_name: a.identifier for a in actions} | {"text": P + "gettext"}
    return Catalog(actions, cmap, source="test")


def every_kind_program() -> ShortcutIR:
    """Every statement kind and every value kind, including the awkward corners of the IR."""
    return ShortcutIR(
        "Every kind",
        (
            ActionStatement("comment", (("WFCommentActionText", StringValue('Say "hi"\n\tthen go')),)),
            ActionStatement(
                "is.workflow.actions.gettext",  # non-canonical spelling: must come back as written
                (
                    (
                        "WFTextActionText",
                        InterpolatedString((StringValue("  a "), HandleRef("prev"), VarRef("X"))),
                    ),
                ),
            ),
            ActionStatement("text", (("WFTextActionText", InterpolatedString(())),)),  # alias, empty interp
            ActionStatement(
                "text.combine",
                (
                    ("WFTextSeparator", StringValue("New Lines")),  # closed enum value -> Tier 2
                    ("text", HandleRef("repeat_each")),
                    ("ShowWhenRun", BoolValue(False)),
                ),
            ),
            ActionStatement("text.combine", (("WFTextSeparator", StringValue(" / ")),)),  # not in enum
            ActionStatement(
                "setvariable", (("WFVariableName", StringValue("Y")), ("WFInput", HandleRef("prev")))
            ),
            ActionStatement("appendvariable", (("WFVariableName", StringValue("not an ident")),)),
            SetVariable(
                "X",
                DictLiteral(
                    (
                        ("k", VarRef("Y")),
                        ("n", ListLiteral((NumberValue(1), NumberValue(2.5), BoolValue(True)))),
                        ("i", InterpolatedString((VarRef("Late"), StringValue("!")))),
                        ("q", QuantityLiteral(HandleRef("prev"), "min")),
                        ("empty", DictLiteral(())),
                    )
                ),
            ),
            SetVariable("Flag", BoolValue(True)),
            IfBlock(VarRef("Repeat_Item"), "equals_number", NumberValue(3), (), ()),  # ELSE with empty body
            IfBlock(HandleRef("input"), "has_any_value", None, (Comment("a # line"),), None),  # no ELSE
            IfBlock(HandleRef("date"), "is_before", InterpolatedString((HandleRef("Ask"),)), (), None),
            IfBlock(VarRef("X"), "contains", BoolValue(False), (), None),
            MenuBlock(
                InterpolatedString((StringValue("Pick "), VarRef("X"))),
                (
                    MenuCase("A", ()),
                    MenuCase(
                        "B",
                        (RepeatBlock(NumberValue(2), (ForeachBlock(HandleRef("prev"), ()),)),),
                    ),
                ),
            ),
            MenuBlock("Plain prompt", (MenuCase("Only", (ActionStatement("number", ()),)),)),
            RepeatBlock(
                VarRef("X"),
                (
                    ActionStatement(
                        "adjustdate",
                        (
                            ("WFDuration", QuantityLiteral(VarRef("Z"), "days")),
                            ("WFDate", QuantityLiteral(-1.5, "hr")),
                        ),
                    ),
                ),
            ),
            RepeatBlock(HandleRef("prev"), ()),
            ForeachBlock(
                VarRef("Repeat_Item_2"),
                (ActionStatement("number", (("WFNumberActionNumber", NumberValue(0)),)),),
            ),
            ActionStatement(
                "downloadurl",
                (
                    (
                        "WFHTTPHeaders",
                        HeadersLiteral((("Auth", VarRef("Z")), ("Accept", StringValue("json")))),
                    ),
                    ("WFJSONValues", DictLiteral((("a", NumberValue(10**20)), ("a", NumberValue(1e-7))))),
                ),
            ),
            ActionStatement("list", (("WFItems", ListLiteral(())),)),
            ActionStatement("frobnicate", (("Anything", StringValue("x")),)),  # unknown action
            ActionStatement("com.example.app.DoThingIntent", ()),  # third-party pass-through
            ActionStatement("number", (("WFNumberActionNumber", VarRef("Repeat_Index")),)),
        ),
    )
