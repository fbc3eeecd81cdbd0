"""Compiler: exact plist structure per construct (shortcutdsl.md §3), determinism, self-check."""

from __future__ import annotations

import copy
import plistlib
import re

import pytest

from sashimi.dsl.ast import ActionStatement, HandleRef, NumberValue, RepeatBlock, ShortcutIR
from sashimi.dsl.compiler import CompiledShortcut, compile_program, self_check, to_binary
from sashimi.dsl.parser import parse
from sashimi.errors import CompileError

A = "is.workflow.actions."
UUID_RE = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")


class FakeCatalog:
    """The few catalog methods the compiler/decompiler use, with fixed hand-written answers, so
    these tests do not move when the real catalog grows."""

    OUTPUT = {"ask": "Provided Input", "gettext": "Text", "url": "URL", "list": "List"}
    TOKEN = {("gettext", "WFTextActionText"), ("url", "WFURLActionURL"), ("showresult", "Text")}
    BUILTINS = {
        "comment",
        "ask",
        "gettext",
        "url",
        "openurl",
        "showresult",
        "list",
        "dictionary",
        "adjustdate",
        "getvariable",
        "setvariable",
        "appendvariable",
        "count",
        "downloadurl",
        "openapp",
        "format.date",
        "number",
        "text.split",
        "getclipboard",
        "detect.link",
        "removereminders",
    }

    def resolve(self, name: str) -> str | None:
        if name.startswith(A):
            return name
        if name in self.BUILTINS:
            return A + name
        return name if name.count(".") >= 2 else None

    def canonical_name(self, identifier: str) -> str:
        return identifier[len(A) :] if identifier.startswith(A) else identifier

    def handle_wrap(self, identifier: str, param: str) -> str:
        return "token_string" if (self.canonical_name(identifier), param) in self.TOKEN else "attachment"

    def output_name(self, identifier: str) -> str:
        return self.OUTPUT.get(self.canonical_name(identifier), "Result")


CAT = FakeCatalog()


def build(text: str, seed: int = 0) -> CompiledShortcut:
    return compile_program(parse('SHORTCUT "T"\n' + text, file="t.dsl"), CAT, seed=seed, file="t.dsl")


def actions(text: str) -> list[dict]:
    return build(text).plist["WFWorkflowActions"]


def params(text: str, index: int = -1) -> dict:
    return actions(text)[index]["WFWorkflowActionParameters"]


def output_ref(action: dict, name: str) -> dict:
    return {
        "OutputName": name,
        "OutputUUID": action["WFWorkflowActionParameters"]["UUID"],
        "Type": "ActionOutput",
    }


def attach(ref: dict) -> dict:
    return {"Value": ref, "WFSerializationType": "WFTextTokenAttachment"}


# ----------------------------------------------------------------------------- envelope, UUIDs


def test_envelope_and_plain_action():
    compiled = build('ACTION comment WFCommentActionText="hi"\n')
    plist = compiled.plist
    assert list(plist) == [
        "WFWorkflowActions",
        "WFWorkflowClientVersion",
        "WFWorkflowIcon",
        "WFWorkflowImportQuestions",
        "WFWorkflowInputContentItemClasses",
        "WFWorkflowMinimumClientVersion",
        "WFWorkflowMinimumClientVersionString",
        "WFWorkflowTypes",
        "WFWorkflowName",  # issue 11.8: the name round-trips through the file
    ]
    assert plist["WFWorkflowClientVersion"] == "2302.0.4"
    assert plist["WFWorkflowIcon"] == {
        "WFWorkflowIconGlyphNumber": 59653,
        "WFWorkflowIconStartColor": 4274264319,
    }
    assert plist["WFWorkflowMinimumClientVersion"] == 900
    assert plist["WFWorkflowMinimumClientVersionString"] == "900"
    assert plist["WFWorkflowTypes"] == ["NCWidget", "WatchKit"]
    assert plist["WFWorkflowName"] == "T"  # stored too, so decompiling keeps it (issue 11.8)
    (action,) = plist["WFWorkflowActions"]
    assert action["WFWorkflowActionIdentifier"] == A + "comment"
    p = action["WFWorkflowActionParameters"]
    assert list(p) == ["WFCommentActionText", "UUID"] and p["WFCommentActionText"] == "hi"
    assert UUID_RE.fullmatch(p["UUID"])
    assert compiled.warnings == []


def test_envelope_options():
    ir = parse('SHORTCUT "T"\n')
    plist = compile_program(
        ir, CAT, input_types=["url", "WFImageContentItem"], workflow_types=["menu"], client_release="2.0"
    ).plist
    assert plist["WFWorkflowInputContentItemClasses"] == ["WFURLContentItem", "WFImageContentItem"]
    assert plist["WFWorkflowTypes"] == ["Sleep"] and plist["WFWorkflowClientRelease"] == "2.0"
    assert plist["WFWorkflowActions"] == [] and self_check(plist) == []


def test_binary_is_bplist_and_keeps_key_order():
    compiled = build('ACTION url WFURLActionURL="https://a" ZZZ="z" AAA="a"\n')
    data = to_binary(compiled.plist)
    assert data.startswith(b"bplist00")
    back = plistlib.loads(data)
    assert back == compiled.plist
    assert list(back["WFWorkflowActions"][0]["WFWorkflowActionParameters"]) == [
        "WFURLActionURL",
        "ZZZ",
        "AAA",
        "UUID",
    ]


def test_determinism_same_seed_same_bytes_other_seed_other_uuids():
    text = 'ACTION ask\nIF @prev contains "x"\nACTION showresult Text=@prev\nENDIF\n'
    assert to_binary(build(text, seed=3).plist) == to_binary(build(text, seed=3).plist)
    a, b = build(text, seed=3).plist, build(text, seed=4).plist
    assert to_binary(a) != to_binary(b)
    uuids = [x["WFWorkflowActionParameters"].get("UUID") for x in a["WFWorkflowActions"]]
    assert all(u is None or UUID_RE.fullmatch(u) for u in uuids)


def test_explicit_uuid_is_kept():
    p = params('ACTION url WFURLActionURL="x" UUID="ABC"\n')
    assert p["UUID"] == "ABC" and list(p) == ["WFURLActionURL", "UUID"]


# ----------------------------------------------------------------------------- action names


def test_identifier_resolution_and_unknown_action_error():
    acts = actions("ACTION text.split\nACTION is.workflow.actions.url\nACTION com.example.app.DoIntent\n")
    assert [a["WFWorkflowActionIdentifier"] for a in acts] == [
        A + "text.split",
        A + "url",
        "com.example.app.DoIntent",
    ]
    with pytest.raises(CompileError) as err:
        build("ACTION url\nACTION nonexist\n")
    assert str(err.value) == "t.dsl:3: unknown action 'nonexist'"


# ----------------------------------------------------------------------------- text tokens


def test_utf16_offsets_after_emoji_zwj_and_flags():
    # 🤷‍♂️ is 4 code points but 5 UTF-16 units; 🇪🇺 is 2 code points, 4 units.
    acts = actions("ACTION ask\nACTION gettext WFTextActionText=`🤷‍♂️ hi {@prev}🇪🇺{$Name}!`\n")
    token = acts[1]["WFWorkflowActionParameters"]["WFTextActionText"]
    assert token["WFSerializationType"] == "WFTextTokenString"
    assert token["Value"]["string"] == "🤷\u200d♂\ufe0f hi \ufffc🇪🇺\ufffc!"
    assert token["Value"]["attachmentsByRange"] == {
        "{9, 1}": output_ref(acts[0], "Provided Input"),
        "{14, 1}": {"Type": "Variable", "VariableName": "Name"},
    }
    assert (
        self_check(build("ACTION ask\nACTION gettext WFTextActionText=`🤷‍♂️ hi {@prev}🇪🇺{$Name}!`\n").plist)
        == []
    )


def test_interpolation_without_placeholder_is_plain_string():
    assert params("ACTION gettext WFTextActionText=`just text`\n")["WFTextActionText"] == "just text"


# ----------------------------------------------------------------------------- references


def test_handle_wrap_applies_to_every_reference_kind():
    acts = actions(
        "ACTION gettext WFTextActionText=$X\nACTION getvariable WFVariable=$X\nACTION url WFURLActionURL=@input\n"
    )
    var = {"Type": "Variable", "VariableName": "X"}
    assert acts[0]["WFWorkflowActionParameters"]["WFTextActionText"] == {
        "Value": {"string": "\ufffc", "attachmentsByRange": {"{0, 1}": var}},
        "WFSerializationType": "WFTextTokenString",
    }
    assert acts[1]["WFWorkflowActionParameters"]["WFVariable"] == attach(var)
    assert acts[2]["WFWorkflowActionParameters"]["WFURLActionURL"]["Value"]["attachmentsByRange"] == {
        "{0, 1}": {"Type": "ExtensionInput"}
    }


def test_prev_skips_comments_and_sets_and_closed_blocks():
    text = (
        "ACTION ask\n"  # 0
        'ACTION comment WFCommentActionText="c"\n'  # 1
        "SET $V = @prev\n"  # 2: ask
        "IF @prev has_any_value\n"  # 3: still ask
        "ACTION url\n"  # 4
        "ELSE\n"  # 5
        "ACTION openurl A=@prev\n"  # 6: ask (ELSE starts from before the IF)
        "ENDIF\n"  # 7
        "ACTION showresult Text=@prev\n"  # 8: ask (the block's changes are discarded)
    )
    acts = actions(text)
    ask = output_ref(acts[0], "Provided Input")
    assert acts[2]["WFWorkflowActionParameters"]["WFInput"] == attach(ask)
    assert acts[3]["WFWorkflowActionParameters"]["WFInput"] == {"Type": "Variable", "Variable": attach(ask)}
    assert acts[6]["WFWorkflowActionParameters"]["A"] == attach(ask)
    assert acts[8]["WFWorkflowActionParameters"]["Text"]["Value"]["attachmentsByRange"]["{0, 1}"] == ask
    assert build(text).warnings == []


def test_prev_fallback_and_missing_prev():
    compiled = build('ACTION comment WFCommentActionText="c"\nACTION url WFURLActionURL=@prev\n')
    first = compiled.plist["WFWorkflowActions"][0]
    assert compiled.plist["WFWorkflowActions"][1]["WFWorkflowActionParameters"]["WFURLActionURL"]["Value"][
        "attachmentsByRange"
    ]["{0, 1}"] == output_ref(first, "Result")
    assert [(w.category, w.line) for w in compiled.warnings] == [("prev_fallback", 3)]
    with pytest.raises(CompileError, match=r"^t\.dsl:2: @prev has no preceding action$"):
        build("ACTION url WFURLActionURL=@prev\n")


def test_named_handles_four_steps():
    text = (
        "ACTION ask\n"  # 0
        "ACTION url\n"  # 1
        "ACTION ask\n"  # 2  (the current previous action)
        "ACTION showresult Text=`{@DeviceDetails}{@ask}{@url}{@Markdown}`\n"  # 3
        "IF @prev has_any_value\n"  # 4
        "ENDIF\n"  # 5
        "ACTION openurl X=@conditional\n"  # 6
    )
    compiled = build(text)
    acts = compiled.plist["WFWorkflowActions"]
    ranges = acts[3]["WFWorkflowActionParameters"]["Text"]["Value"]["attachmentsByRange"]
    assert ranges["{0, 1}"] == {"Type": "DeviceDetails"}
    # `@ask` while the latest ask is `@prev`: the decompiler would have printed @prev for that
    # one, so the handle means the earlier ask.
    assert ranges["{1, 1}"] == output_ref(acts[0], "Provided Input")
    assert ranges["{2, 1}"] == output_ref(acts[1], "URL")
    assert ranges["{3, 1}"] == {"Type": "Variable", "VariableName": "Markdown"}
    assert acts[6]["WFWorkflowActionParameters"]["X"] == attach(output_ref(acts[5], "If Result"))
    assert [(w.category, w.line) for w in compiled.warnings] == [("unresolved_handle", 5)]


def test_block_outputs_menu_and_loops():
    text = 'MENU "Pick"\nCASE "A"\nACTION url\nENDMENU\nFOREACH @choosefrommenu\nENDFOREACH\nREPEAT 2\nENDREPEAT\n'
    text += "ACTION showresult Text=`{@repeat_each}{@repeat_count}`\n"
    acts = actions(text)
    assert acts[4]["WFWorkflowActionParameters"]["WFInput"] == attach(output_ref(acts[3], "Menu Result"))
    ranges = acts[-1]["WFWorkflowActionParameters"]["Text"]["Value"]["attachmentsByRange"]
    assert ranges == {
        "{0, 1}": output_ref(acts[5], "Repeat Results"),
        "{1, 1}": output_ref(acts[7], "Repeat Results"),
    }


def test_loop_variables_numbered_by_depth():
    text = (
        "ACTION list\n"
        "FOREACH @prev\n"
        "ACTION showresult Text=`{@item}{@index}{$Repeat_Item}`\n"
        "FOREACH $Repeat_Item\n"
        "ACTION showresult Text=`{@item}{$Repeat_Item_2}{$Repeat_Index}`\n"
        "ENDFOREACH\n"
        "ENDFOREACH\n"
    )
    acts = actions(text)

    def names(i):
        ranges = acts[i]["WFWorkflowActionParameters"]["Text"]["Value"]["attachmentsByRange"]
        return [r["VariableName"] for r in ranges.values()]

    assert names(2) == ["Repeat Item", "Repeat Index", "Repeat Item"]
    assert acts[3]["WFWorkflowActionParameters"]["WFInput"] == attach(
        {"Type": "Variable", "VariableName": "Repeat Item"}
    )
    assert names(4) == ["Repeat Item 2", "Repeat Item 2", "Repeat Index"]


def test_set_variable_and_original_names():
    text = 'ACTION ask\nSET $X = @prev\nACTION appendvariable WFVariableName="My List"\nACTION showresult Text=`{$X}{$My_List}`\n'
    acts = actions(text)
    setvar = acts[1]
    assert setvar["WFWorkflowActionIdentifier"] == A + "setvariable"
    p = setvar["WFWorkflowActionParameters"]
    assert list(p) == ["WFVariableName", "WFInput", "UUID"]
    assert p["WFVariableName"] == "X" and p["WFInput"] == attach(output_ref(acts[0], "Provided Input"))
    ranges = acts[3]["WFWorkflowActionParameters"]["Text"]["Value"]["attachmentsByRange"]
    assert [r["VariableName"] for r in ranges.values()] == ["X", "My List"]
    literal = build('SET $Y = "hello"\n')
    assert literal.plist["WFWorkflowActions"][0]["WFWorkflowActionParameters"]["WFInput"] == "hello"
    assert [w.category for w in literal.warnings] == ["set_literal"]


# ----------------------------------------------------------------------------- control flow


def test_if_else_grouping_modes_and_condition_keys():
    acts = actions('ACTION ask\nIF @prev equals_string "yes"\nACTION url\nELSE\nACTION openurl\nENDIF\n')
    markers = [a for a in acts if a["WFWorkflowActionIdentifier"] == A + "conditional"]
    modes = [m["WFWorkflowActionParameters"]["WFControlFlowMode"] for m in markers]
    groups = {m["WFWorkflowActionParameters"]["GroupingIdentifier"] for m in markers}
    assert modes == [0, 1, 2] and len(groups) == 1 and UUID_RE.fullmatch(groups.pop())
    start = markers[0]["WFWorkflowActionParameters"]
    assert start["WFCondition"] == 4 and start["WFConditionalActionString"] == "yes"
    assert "UUID" not in start and "UUID" not in markers[1]["WFWorkflowActionParameters"]
    assert UUID_RE.fullmatch(markers[2]["WFWorkflowActionParameters"]["UUID"])
    # No ELSE → no middle marker; an empty ELSE body still gets one.
    assert len(actions("ACTION ask\nIF @prev has_any_value\nENDIF\n")) == 3
    assert len(actions("ACTION ask\nIF @prev has_any_value\nELSE\nENDIF\n")) == 4


_COMPARE_KEYS = (
    "WFNumberValue",
    "WFConditionalActionString",
    "WFDate",
    "WFEnumeration",
    "WFLinkEnumeration",
    "WFBooleanValue",
    "WFAnotherNumber",
    "WFAnotherDate",
)


_CONDITION_CASES = [
    # Apple's real codes (shortcutdsl.md §1.7a), with the value key the compared type uses.
    ("is_less_than 3", 0, {"WFNumberValue": 3}),
    ("is_less_than_or_equal 3", 1, {"WFNumberValue": 3}),
    ("is_greater_than 3", 2, {"WFNumberValue": 3}),
    ("is_greater_than_or_equal 3", 3, {"WFNumberValue": 3}),
    ('equals_number "10"', 4, {"WFNumberValue": "10"}),  # the literal's type is kept
    ("not_equal_number 10", 5, {"WFNumberValue": 10}),
    ("is_between [1, 10]", 1003, {"WFNumberValue": 1, "WFAnotherNumber": 10}),
    ('equals_string "a"', 4, {"WFConditionalActionString": "a"}),
    ('not_equal_string "a"', 5, {"WFConditionalActionString": "a"}),
    ('begins_with "http"', 8, {"WFConditionalActionString": "http"}),
    ('ends_with ".pdf"', 9, {"WFConditionalActionString": ".pdf"}),
    ('contains "youtu"', 99, {"WFConditionalActionString": "youtu"}),
    ('does_not_contain "x"', 999, {"WFConditionalActionString": "x"}),
    ('equals_enum "Dark"', 4, {"WFEnumeration": "Dark"}),
    ('not_equal_enum "Dark"', 5, {"WFEnumeration": "Dark"}),
    ('equals_link_enum "On"', 4, {"WFLinkEnumeration": "On"}),
    ('not_equal_link_enum "On"', 5, {"WFLinkEnumeration": "On"}),
    ("equals_bool true", 4, {"WFBooleanValue": True}),
    ("not_equal_bool false", 5, {"WFBooleanValue": False}),
    ('is_before "2024-01-01"', 0, {"WFDate": "2024-01-01"}),
    ('is_on_or_before "2024-01-01"', 1, {"WFDate": "2024-01-01"}),
    ('is_after "2024-01-01"', 2, {"WFDate": "2024-01-01"}),
    ('is_on_or_after "2024-01-01"', 3, {"WFDate": "2024-01-01"}),
    ('equals_date "2024-01-01"', 4, {"WFDate": "2024-01-01"}),
    ('not_equal_date "2024-01-01"', 5, {"WFDate": "2024-01-01"}),
    ('is_between_dates ["a", "b"]', 1003, {"WFDate": "a", "WFAnotherDate": "b"}),
    ("is_today", 1002, {}),
    ("does_not_have_any_value 1", 101, {"WFNumberValue": 1}),  # existence check keeps its value
    ('has_any_value "z"', 100, {"WFConditionalActionString": "z"}),
    ("does_not_have_any_value", 101, {}),
]


@pytest.mark.parametrize(("condition", "code", "compare"), _CONDITION_CASES)
def test_condition_codes(condition, code, compare):
    p = params(f"ACTION ask\nIF @prev {condition}\nENDIF\n", 1)
    assert p["WFCondition"] == code
    assert {k: v for k, v in p.items() if k in _COMPARE_KEYS} == compare


def test_every_condition_word_has_a_code_test():
    from sashimi.dsl.ast import CONDITIONS

    tested = {c.split()[0] for c, _, _ in _CONDITION_CASES}
    assert set(CONDITIONS) - tested == {"raw_condition"}


@pytest.mark.parametrize(
    ("word", "code"),
    [
        # The real corpus's words mean what the reference table sent them to (§1.7a).
        ("equals_number 5", 0),
        ("is_greater_than 5", 2),
        ("is_less_than 5", 3),
        ('equals_string "a"', 4),
        ('not_equal_string "a"', 5),
        ('contains "a"', 99),
        ('does_not_contain "a"', 999),
        ("has_any_value", 100),
        ("does_not_have_any_value", 101),
        ("is_before", 1002),
    ],
)
def test_shortcutforge_dialect_compiles_to_the_reference_codes(word, code):
    ir = parse(f'SHORTCUT "T"\nACTION ask\nIF @prev {word}\nENDIF\n', dialect="shortcutforge")
    acts = compile_program(ir, CAT).plist["WFWorkflowActions"]
    assert acts[1]["WFWorkflowActionParameters"]["WFCondition"] == code


def test_raw_if_params_are_compiled_verbatim_and_win():
    text = 'ACTION ask\nIF @prev contains "a" WFCondition="Contains" WFConditionalLegacyComparisonBehavior=true\nENDIF\n'
    p = params(text, 1)
    assert p["WFCondition"] == "Contains" and p["WFConditionalLegacyComparisonBehavior"] is True
    assert p["WFConditionalActionString"] == "a"
    # raw_condition: no WFCondition / WFInput of its own
    p = params('ACTION ask\nIF @prev raw_condition WFConditions={"a": 1}\nENDIF\n', 1)
    assert "WFCondition" not in p and "WFInput" not in p and p["WFConditions"] == {"a": 1}
    with pytest.raises(CompileError, match="set by the compiler"):
        actions('ACTION ask\nIF @prev has_any_value GroupingIdentifier="x"\nENDIF\n')


def test_menu_without_cases_and_menu_params():
    acts = actions('MENU "m" WFMenuLegacyCancelBehavior=true\nENDMENU\n')
    assert [a["WFWorkflowActionParameters"]["WFControlFlowMode"] for a in acts] == [0, 2]
    start = acts[0]["WFWorkflowActionParameters"]
    assert start["WFMenuItems"] == [] and start["WFMenuLegacyCancelBehavior"] is True


def test_if_reference_comparison_value_is_token_string():
    acts = actions("ACTION ask\nIF @input contains @prev\nENDIF\n")
    value = acts[1]["WFWorkflowActionParameters"]["WFConditionalActionString"]
    assert value["Value"]["attachmentsByRange"] == {"{0, 1}": output_ref(acts[0], "Provided Input")}


def test_menu_structure():
    acts = actions('MENU `Pick {@input}`\nCASE "One"\nACTION url\nCASE "Two"\nENDMENU\n')
    assert [
        a["WFWorkflowActionParameters"]["WFControlFlowMode"]
        for a in acts
        if "WFControlFlowMode" in a["WFWorkflowActionParameters"]
    ] == [0, 1, 1, 2]
    start = acts[0]["WFWorkflowActionParameters"]
    assert start["WFMenuItems"] == ["One", "Two"]
    assert start["WFMenuPrompt"]["Value"] == {
        "string": "Pick \ufffc",
        "attachmentsByRange": {"{5, 1}": {"Type": "ExtensionInput"}},
    }
    assert acts[1]["WFWorkflowActionParameters"]["WFMenuItemTitle"] == "One"
    assert acts[3]["WFWorkflowActionParameters"]["WFMenuItemTitle"] == "Two"


def test_repeat_counts():
    acts = actions("ACTION number\nREPEAT @prev\nENDREPEAT\nREPEAT 3\nENDREPEAT\n")
    assert acts[1]["WFWorkflowActionParameters"]["WFRepeatCount"] == attach(output_ref(acts[0], "Result"))
    assert acts[3]["WFWorkflowActionParameters"]["WFRepeatCount"] == 3
    ir = ShortcutIR("T", (ActionStatement("url", line=2), RepeatBlock(NumberValue(2.5), (), line=3)))
    compiled = compile_program(ir, CAT)
    assert compiled.plist["WFWorkflowActions"][1]["WFWorkflowActionParameters"]["WFRepeatCount"] == 2
    assert [(w.category, w.line) for w in compiled.warnings] == [("repeat_float", 3)]


# ----------------------------------------------------------------------------- values


def test_qty_number_and_reference_magnitudes():
    acts = actions('ACTION number\nACTION adjustdate WFDuration=QTY(@prev, "days") X=QTY(5, "min")\n')
    p = acts[1]["WFWorkflowActionParameters"]
    assert p["WFDuration"] == {
        "Value": {"Unit": "days", "Magnitude": attach(output_ref(acts[0], "Result"))},
        "WFSerializationType": "WFQuantityFieldValue",
    }
    assert p["X"] == {"Value": {"Unit": "min", "Magnitude": 5}, "WFSerializationType": "WFQuantityFieldValue"}
    plistlib.loads(to_binary(build('ACTION number\nACTION adjustdate WFDuration=QTY(@prev, "days")\n').plist))


def test_dictionary_field_items_vs_raw_dict():
    text = (
        'ACTION ask\nACTION dictionary WFItems={"Value": {"WFDictionaryFieldValueItems": '
        '{"s": "v", "t": `hi {@prev}`, "b": true, "n": 2, "d": {"k": "x"}, "l": ["a"]}}, '
        '"WFSerializationType": "WFDictionaryFieldValue"}\n'
        'ACTION openapp WFSelectedApp={"BundleIdentifier": "com.x", "Name": "X", "Ref": @prev, "On": false}\n'
    )
    acts = actions(text)

    def tok(s):
        return {"Value": {"string": s}, "WFSerializationType": "WFTextTokenString"}

    items = acts[1]["WFWorkflowActionParameters"]["WFItems"]
    assert items["WFSerializationType"] == "WFDictionaryFieldValue"
    ask = output_ref(acts[0], "Provided Input")
    assert items["Value"]["WFDictionaryFieldValueItems"] == [
        {"WFItemType": 0, "WFKey": tok("s"), "WFValue": tok("v")},
        {
            "WFItemType": 0,
            "WFKey": tok("t"),
            "WFValue": {
                "Value": {"string": "hi \ufffc", "attachmentsByRange": {"{3, 1}": ask}},
                "WFSerializationType": "WFTextTokenString",
            },
        },
        {
            "WFItemType": 4,
            "WFKey": tok("b"),
            "WFValue": {"Value": True, "WFSerializationType": "WFNumberSubstitutableState"},
        },
        {"WFItemType": 3, "WFKey": tok("n"), "WFValue": tok("2")},
        {
            "WFItemType": 1,
            "WFKey": tok("d"),
            "WFValue": {
                "Value": {
                    "WFDictionaryFieldValueItems": [{"WFItemType": 0, "WFKey": tok("k"), "WFValue": tok("x")}]
                },
                "WFSerializationType": "WFDictionaryFieldValue",
            },
        },
        {
            "WFItemType": 2,
            "WFKey": tok("l"),
            "WFValue": {
                "Value": [{"WFItemType": 0, "WFValue": tok("a")}],
                "WFSerializationType": "WFArrayParameterState",
            },
        },
    ]
    # Anywhere else a dict literal is a raw plist dict; a bare reference inside is an attachment
    # (here `@prev` = the dictionary action).
    assert acts[2]["WFWorkflowActionParameters"]["WFSelectedApp"] == {
        "BundleIdentifier": "com.x",
        "Name": "X",
        "Ref": attach(output_ref(acts[1], "Result")),
        "On": False,
    }


def test_list_action_items_and_raw_lists():
    acts = actions(
        'ACTION list WFItems=["a", `x{@input}`]\nACTION openapp tags=["a", 1]\nACTION list WFItems=["a", {"WFItemType": 0}]\n'
    )
    assert acts[0]["WFWorkflowActionParameters"]["WFItems"] == [
        {"WFItemType": 0, "WFValue": {"Value": {"string": "a"}, "WFSerializationType": "WFTextTokenString"}},
        {
            "WFItemType": 0,
            "WFValue": {
                "Value": {"string": "x\ufffc", "attachmentsByRange": {"{1, 1}": {"Type": "ExtensionInput"}}},
                "WFSerializationType": "WFTextTokenString",
            },
        },
    ]
    assert acts[1]["WFWorkflowActionParameters"]["tags"] == ["a", 1]
    assert acts[2]["WFWorkflowActionParameters"]["WFItems"] == ["a", {"WFItemType": 0}]


def test_headers_get_dictionary_field_value_wrapper():
    p = params('ACTION downloadurl WFHTTPHeaders=HEADERS {"Accept": "json"}\n')
    assert p["WFHTTPHeaders"] == {
        "Value": {
            "WFDictionaryFieldValueItems": [
                {
                    "WFItemType": 0,
                    "WFKey": {"Value": {"string": "Accept"}, "WFSerializationType": "WFTextTokenString"},
                    "WFValue": {"Value": {"string": "json"}, "WFSerializationType": "WFTextTokenString"},
                }
            ]
        },
        "WFSerializationType": "WFDictionaryFieldValue",
    }


def test_binary_placeholder_kept_with_warning():
    compiled = build('ACTION com.apple.x.Intent IntentData="<binary:12bytes>" D={"k": "<binary:3bytes>"}\n')
    p = compiled.plist["WFWorkflowActions"][0]["WFWorkflowActionParameters"]
    assert p["IntentData"] == "<binary:12bytes>" and p["D"] == {"k": "<binary:3bytes>"}
    assert [w.category for w in compiled.warnings] == ["lossy_binary", "lossy_binary"]


def test_comment_lines_are_not_compiled():
    assert len(actions("# note\nACTION url\n")) == 1


# ----------------------------------------------------------------------------- self-check


BASE = 'ACTION ask\nIF @prev has_any_value\nACTION url WFURLActionURL=`a{@prev}`\nENDIF\nMENU "m"\nCASE "a"\nCASE "b"\nENDMENU\nACTION openurl X=@conditional\n'


def corrupt(fn) -> list[str]:
    plist = copy.deepcopy(build(BASE).plist)
    fn(plist["WFWorkflowActions"], plist)
    return self_check(plist)


def else_of(start: dict) -> dict:
    group = start["WFWorkflowActionParameters"]["GroupingIdentifier"]
    return {
        "WFWorkflowActionIdentifier": A + "conditional",
        "WFWorkflowActionParameters": {"GroupingIdentifier": group, "WFControlFlowMode": 1},
    }


def test_self_check_accepts_compiled_output():
    assert self_check(build(BASE).plist) == []
    assert self_check(plistlib.loads(to_binary(build(BASE).plist))) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda acts, pl: acts.pop(3), "never closed"),
        (lambda acts, pl: acts.pop(1), "outside its group"),
        (
            lambda acts, pl: acts[2]["WFWorkflowActionParameters"].update(
                UUID=acts[0]["WFWorkflowActionParameters"]["UUID"]
            ),
            "duplicate UUID",
        ),
        (
            lambda acts, pl: acts[-1]["WFWorkflowActionParameters"]["X"]["Value"].update(OutputUUID="NOPE"),
            "refers to no action",
        ),
        (
            lambda acts, pl: acts[4]["WFWorkflowActionParameters"]["WFMenuItems"].append("c"),
            "3 menu items but 2 cases",
        ),
        (
            lambda acts, pl: acts[4]["WFWorkflowActionParameters"].update(WFMenuItems=[]),
            "0 menu items but 2 cases",
        ),
        (
            lambda acts, pl: acts[4]["WFWorkflowActionParameters"].update(WFMenuItems="x"),
            "menu items are not a list",
        ),
        (
            lambda acts, pl: acts[2]["WFWorkflowActionParameters"]["WFURLActionURL"]["Value"].update(
                attachmentsByRange={"{2, 1}": {"Type": "CurrentDate"}}
            ),
            "outside its string",
        ),
        (lambda acts, pl: pl.pop("WFWorkflowTypes"), "missing envelope key WFWorkflowTypes"),
        (lambda acts, pl: acts.insert(3, {"WFWorkflowActionIdentifier": A + "url"}), "not a dictionary"),
        (lambda acts, pl: acts[0].pop("WFWorkflowActionIdentifier"), "no WFWorkflowActionIdentifier"),
        (lambda acts, pl: acts.insert(4, acts.pop(3)), "interleaved"),
        (lambda acts, pl: acts.__setitem__(slice(3, 3), [else_of(acts[1]), else_of(acts[1])]), "second ELSE"),
        (
            lambda acts, pl: acts[1]["WFWorkflowActionParameters"].update(WFControlFlowMode=7),
            "invalid WFControlFlowMode",
        ),
        (lambda acts, pl: acts.insert(1, copy.deepcopy(acts[-1])), "later action"),
    ],
)
def test_self_check_catches_corruption(mutate, expected):
    problems = corrupt(mutate)
    assert any(expected in p for p in problems), problems


def test_compile_errors_are_one_line_with_location():
    ir = ShortcutIR("T", (ActionStatement("url", (("A", HandleRef("prev")),), line=7),))
    with pytest.raises(CompileError) as err:
        compile_program(ir, CAT, file="x.dsl")
    assert str(err.value) == "x.dsl:7: @prev has no preceding action" and "\n" not in str(err.value)
