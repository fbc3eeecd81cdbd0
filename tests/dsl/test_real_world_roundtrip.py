"""Issue 11: decompile what people actually export, and never change a program silently.

Every fixture below is a small hand-written Shortcuts plist (built with plistlib, written as XML and
as binary) holding one structure real exported files contain. For each: decompile (faithful style)
→ compile → decompile gives identical DSL, and the recompiled plist has the original's action
identifiers in the same order and the same parameter keys and values, UUIDs compared up to a
consistent renaming. The only differences allowed are documented in `_ALLOWED`: the compiler gives
every action and end marker a UUID (§3.1, §3.7), and keys that no DSL text can spell (`Show-…`).
"""

from __future__ import annotations

import plistlib
from typing import Any

import pytest

from sashimi.dsl.catalog import Catalog
from sashimi.dsl.compiler import compile_program, to_binary
from sashimi.dsl.decompiler import decompile
from sashimi.dsl.parser import parse
from sashimi.dsl.printer import print_program
from tests.dsl.plist_compare import first_difference

CORE = Catalog.core()
A = "is.workflow.actions."


def act(identifier: str, **params: Any) -> dict:
    return {"WFWorkflowActionIdentifier": identifier, "WFWorkflowActionParameters": params}


def out_ref(uuid: str, name: str) -> dict:
    return {"OutputName": name, "OutputUUID": uuid, "Type": "ActionOutput"}


def attach(ref: dict) -> dict:
    return {"Value": ref, "WFSerializationType": "WFTextTokenAttachment"}


def token(ref: dict) -> dict:
    """A text token holding just one reference: how Apple stores e.g. Show Result's text."""
    return {
        "Value": {"string": "\ufffc", "attachmentsByRange": {"{0, 1}": ref}},
        "WFSerializationType": "WFTextTokenString",
    }


def var_input(ref: dict) -> dict:
    return {"Type": "Variable", "Variable": attach(ref)}


def var(name: str) -> dict:
    return {"Type": "Variable", "VariableName": name}


def envelope(actions: list[dict], **extra: Any) -> dict:
    return {
        "WFWorkflowActions": actions,
        "WFWorkflowClientVersion": "2038.0.2.4",
        "WFWorkflowMinimumClientVersion": 900,
        "WFWorkflowTypes": ["NCWidget"],
        **extra,
    }


U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
U3 = "33333333-3333-4333-8333-333333333333"
G1 = "AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA"
G2 = "BBBBBBBB-BBBB-4BBB-8BBB-BBBBBBBBBBBB"
G3 = "CCCCCCCC-CCCC-4CCC-8CCC-CCCCCCCCCCCC"


def _if(group: str, mode: int, **params: Any) -> dict:
    return act(A + "conditional", GroupingIdentifier=group, WFControlFlowMode=mode, **params)


def _menu(group: str, mode: int, **params: Any) -> dict:
    return act(A + "choosefrommenu", GroupingIdentifier=group, WFControlFlowMode=mode, **params)


FIXTURES: dict[str, dict] = {
    # 11.1 / 11.5: vendor intents the catalog lacks, and built-ins whose short name is unknown.
    "vendor_and_unknown_builtins": envelope(
        [
            act(
                "com.example.scanner.ScanDocumentIntent",
                UUID=U1,
                AppIntentDescriptor={"BundleIdentifier": "com.example.scanner", "Name": "Scanner"},
                ShowWhenRun=False,
            ),
            act("com.apple.Numbers.NewChartWithSeriesIntent", series=["a", "b"]),
            act(A + "imgur.upload", WFInput=attach(out_ref(U1, "Document"))),
            act(A + "evernote.append", WFEvernoteNoteTitle="Log"),
            act(A + "selectemail"),
            act("ch.a.b.c.RunShortcutIntent", **{"Show-shortcut": True, "shortcut": "x"}),
        ]
    ),
    # 11.2 / 11.3: the operator decides the value key; stale values of other types are kept.
    "conditions_and_value_keys": envelope(
        [
            act(A + "gettext", UUID=U1, WFTextActionText="https://youtu.be/x"),
            _if(
                G1,
                0,
                WFCondition=99,
                WFNumberValue=0,
                WFConditionalActionString="youtu",
                WFInput=var_input(out_ref(U1, "Text")),
            ),
            act(A + "showresult", Text="video"),
            _if(G1, 2, UUID=U2),
            _if(
                G2,
                0,
                WFCondition=8,
                WFConditionalActionString="https",
                WFInput=var_input(out_ref(U1, "Text")),
            ),
            _if(G2, 1),
            _if(G2, 2),
            _if(G3, 0, WFCondition=1003, WFNumberValue=1, WFAnotherNumber=10, WFInput=var_input(var("n"))),
            _if(G3, 2),
        ]
    ),
    "enum_bool_date_today": envelope(
        [
            _if(
                G1,
                0,
                WFCondition=4,
                WFEnumeration={"Value": "Dark", "WFSerializationType": "WFStringSubstitutableState"},
                WFInput=var_input({"Type": "DeviceDetails"}),
            ),
            _if(G1, 2),
            _if(G2, 0, WFCondition=5, WFBooleanValue=True, WFInput=var_input(var("flag"))),
            _if(G2, 2),
            _if(G3, 0, WFCondition=1002, WFInput=var_input({"Type": "CurrentDate"})),
            _if(G3, 2),
        ]
    ),
    # 11.3: what the table does not hold is kept raw (text codes, '', 1001, WFConditions, flags).
    "raw_conditions": envelope(
        [
            _if(
                G1,
                0,
                WFCondition="Equals",
                WFConditionalActionString="yes",
                WFConditionalLegacyComparisonBehavior=True,
                WFInput=var_input(var("answer")),
            ),
            _if(G1, 2),
            _if(G2, 0, WFCondition="", WFInput=var_input(var("answer"))),
            _if(G2, 2),
            _if(G3, 0, WFCondition=1001, WFInput=var_input(var("answer"))),
            _if(G3, 2),
            _if(
                "DDDDDDDD-DDDD-4DDD-8DDD-DDDDDDDDDDDD",
                0,
                WFConditions={
                    "Value": {
                        "WFActionParameterFilterPrefix": 1,
                        "WFActionParameterFilterTemplates": [
                            {
                                "WFCondition": 4,
                                "WFConditionalActionString": "a",
                                "WFInput": var_input(var("x")),
                            },
                            {"WFCondition": 100, "WFInput": var_input(var("y"))},
                        ],
                    },
                    "WFSerializationType": "WFContentPredicateTableTemplate",
                },
            ),
            _if("DDDDDDDD-DDDD-4DDD-8DDD-DDDDDDDDDDDD", 2),
        ]
    ),
    # 11.4: menus as real files have them.
    "menus": envelope(
        [
            _menu(G1, 0, WFMenuPrompt="Pick", WFMenuItems=["A", "B"], WFMenuLegacyCancelBehavior=True),
            _menu(G1, 1, WFMenuItemTitle="A"),
            act(A + "showresult", Text="a"),
            _menu(G1, 1, WFMenuItemTitle="B"),
            _menu(G1, 2, UUID=U1),
            _menu(G2, 0, WFMenuPrompt="Nothing here", WFMenuItems=[]),
            _menu(G2, 2),
            _menu(
                G3,
                0,
                WFMenuPrompt="Synonyms",
                WFMenuItems=[
                    {
                        "WFItemType": 0,
                        "WFValue": {"Value": {"string": "Yes"}, "WFSerializationType": "WFTextTokenString"},
                    },
                ],
            ),
            _menu(G3, 1, WFMenuItemTitle="Yes"),
            _menu(G3, 2),
        ]
    ),
    # 11.6 / 11.7 / 11.9: CR kept, Unicode variables distinct, named outputs and inputs kept.
    "text_names_outputs": envelope(
        [
            act(A + "gettext", UUID=U1, WFTextActionText="line one\r\nline two\rend"),
            act(A + "setvariable", WFVariableName="变量一", WFInput=attach(out_ref(U1, "Text"))),
            act(A + "gettext", UUID=U2, WFTextActionText="other", CustomOutputName="Greeting"),
            act(A + "setvariable", WFVariableName="变量二", WFInput=attach(out_ref(U2, "Greeting"))),
            act(
                A + "showresult",
                Text={
                    "Value": {
                        "string": "\ufffc and \ufffc",
                        "attachmentsByRange": {"{0, 1}": var("变量一"), "{6, 1}": var("变量二")},
                    },
                    "WFSerializationType": "WFTextTokenString",
                },
            ),
            act(A + "getvalueforkey", UUID=U3, WFDictionaryKey="k", WFInput=attach(out_ref(U1, "Text"))),
            act(A + "showresult", Text=token(out_ref(U2, "Greeting"))),
            act(A + "showresult", Text=token(out_ref(U3, "Dictionary Value"))),
        ],
        WFWorkflowName="Texts and names",
    ),
}

# Keys the recompiled plist may add or lose, with the reason (all documented in docs/DIALECTS.md).
_ALLOWED_ADDED = {"UUID"}  # every action and end marker gets one (§3.1, §3.7)


def _show_key(key: str) -> bool:
    return key.startswith("Show-")  # no DSL spelling (a UI visibility flag)


def _roundtrip(data: bytes, file: str):
    first = decompile(data, CORE, file=file, style="faithful")
    text = print_program(first.ir)
    compiled = compile_program(parse(text, file=file), CORE, seed=7).plist
    second = decompile(to_binary(compiled), CORE, file=file, style="faithful")
    return first, text, compiled, print_program(second.ir)


def _compare_actions(original: list[dict], recompiled: list[dict]) -> list[str]:
    problems: list[str] = []
    ids_a = [a["WFWorkflowActionIdentifier"] for a in original]
    ids_b = [a["WFWorkflowActionIdentifier"] for a in recompiled]
    if ids_a != ids_b:
        return [f"identifiers differ: {ids_a} vs {ids_b}"]
    mapping: dict = {}
    for i, (a, b) in enumerate(zip(original, recompiled, strict=True)):
        pa, pb = a["WFWorkflowActionParameters"], b["WFWorkflowActionParameters"]
        keys_a = {k for k in pa if not _show_key(k)}
        missing, added = keys_a - set(pb), set(pb) - keys_a - _ALLOWED_ADDED
        if missing or added:
            problems.append(f"action #{i}: keys lost {sorted(missing)}, added {sorted(added)}")
            continue
        for key in keys_a:
            diff = first_difference(pa[key], pb[key], f"#{i}.{key}", mapping)
            if diff:
                problems.append(diff)
    return problems


@pytest.mark.parametrize("fmt", ["xml", "binary"])
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_round_trip(name, fmt):
    plist = FIXTURES[name]
    data = plistlib.dumps(
        plist, fmt=plistlib.FMT_XML if fmt == "xml" else plistlib.FMT_BINARY, sort_keys=False
    )
    first, text, compiled, text2 = _roundtrip(data, f"{name}.plist")
    assert text2 == text
    original = plistlib.loads(data)  # what the file holds (an XML parser turns CR into LF)
    assert _compare_actions(original["WFWorkflowActions"], compiled["WFWorkflowActions"]) == []


def test_conditions_read_the_operators_slot():
    text = _roundtrip(plistlib.dumps(FIXTURES["conditions_and_value_keys"]), "c.plist")[1]
    # 11.2: "contains youtu", not "contains 0"; the stale number stays a raw parameter.
    assert (
        'IF @gettext contains "youtu" WFNumberValue=0' in text
        or 'IF @prev contains "youtu" WFNumberValue=0' in text
    )
    assert 'begins_with "https"' in text and "is_between [1, 10]" in text


def test_enum_bool_date_words():
    text = _roundtrip(plistlib.dumps(FIXTURES["enum_bool_date_today"]), "e.plist")[1]
    assert "IF @DeviceDetails equals_enum {" in text
    assert "IF @flag not_equal_bool true" in text and "IF @date is_today" in text


def test_raw_conditions_are_kept_with_warnings():
    first, text, _, _ = _roundtrip(plistlib.dumps(FIXTURES["raw_conditions"]), "r.plist")
    assert 'equals_string "yes" WFCondition="Equals" WFConditionalLegacyComparisonBehavior=true' in text
    assert 'IF @prev raw_condition WFCondition="" WFInput=@answer' in text
    assert "IF @prev raw_condition WFCondition=1001" in text
    assert "IF @prev raw_condition WFConditions={" in text
    assert [w.category for w in first.warnings].count("raw_condition") == 3


def test_menus_decompile_faithfully():
    first, text, _, _ = _roundtrip(plistlib.dumps(FIXTURES["menus"]), "m.plist")
    assert 'MENU "Pick" WFMenuLegacyCancelBehavior=true\nCASE "A"' in text
    assert 'MENU "Nothing here"\nENDMENU' in text
    assert 'MENU "Synonyms" WFMenuItems=' in text  # field items kept raw


def test_names_and_outputs_survive():
    # Binary: an XML plist parser normalises CR to LF before we ever see it.
    data = plistlib.dumps(FIXTURES["text_names_outputs"], fmt=plistlib.FMT_BINARY)
    first, text, compiled, _ = _roundtrip(data, "t.plist")
    assert text.startswith('SHORTCUT "Texts and names"\n')
    assert '"line one\\r\\nline two\\rend"' in text  # 11.6: CR escaped, every character kept
    assert "SET $变量一 = @prev" in text and "$变量二" in text  # 11.7: distinct Unicode names
    names = [a["WFWorkflowActionParameters"].get("WFVariableName") for a in compiled["WFWorkflowActions"]]
    assert names.count("变量一") == 1 and names.count("变量二") == 1
    assert 'CustomOutputName="Greeting"' in text  # 11.9
    # The first `gettext` is not the nearest one of that name: it is named by its UUID (11.9).
    assert "WFInput=@uuid_11111111_1111_4111_8111_111111111111" in text
    assert compiled["WFWorkflowName"] == "Texts and names"  # 11.8


def test_vendor_names_compile_back():
    first, text, compiled, _ = _roundtrip(plistlib.dumps(FIXTURES["vendor_and_unknown_builtins"]), "v.plist")
    # 11.5: a short name that would not resolve is printed in full.
    assert "ACTION is.workflow.actions.imgur.upload" in text
    assert "ACTION com.example.scanner.ScanDocumentIntent" in text
    assert "AppIntentDescriptor=" in text


# ----------------------------------------------------------------------------- 11.4 broken structure


def test_menu_preamble_is_moved_before_the_menu_with_a_warning():
    plist = envelope(
        [
            _menu(G1, 0, WFMenuPrompt="P", WFMenuItems=["A"]),
            act(A + "comment", WFCommentActionText="written by another compiler"),
            _menu(G1, 1, WFMenuItemTitle="A"),
            _menu(G1, 2),
        ]
    )
    result = decompile(plistlib.dumps(plist), CORE, style="faithful")
    text = print_program(result.ir)
    assert text.splitlines()[1:3] == [
        'ACTION comment WFCommentActionText="written by another compiler"',
        'MENU "P"',
    ]
    (warning,) = result.warnings
    assert warning.category == "menu_preamble" and warning.index == 0


def test_stray_and_unclosed_markers_are_read_with_located_warnings():
    plist = envelope(
        [
            act(A + "gettext", WFTextActionText="a"),
            _if(G1, 2),  # an end whose start is missing
            _if(G2, 0, WFCondition=100, WFInput=var_input(var("x"))),
            act(A + "showresult", Text="b"),  # never closed
        ]
    )
    result = decompile(plistlib.dumps(plist), CORE, style="faithful")
    assert [(w.category, w.index) for w in result.warnings] == [("stray_marker", 1), ("unclosed_block", 2)]
    assert print_program(result.ir).endswith('IF @x has_any_value\nACTION showresult Text="b"\nENDIF\n')
