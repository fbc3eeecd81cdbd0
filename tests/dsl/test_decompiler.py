"""Decompiler: real-file conventions (§4.1/§4.2), round trips of hand-written programs, and
one-line `DecompileError`s for malformed `.shortcut` input."""

from __future__ import annotations

import copy
import plistlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sashimi.dsl.ast import (
    ActionStatement,
    HandleRef,
    IfBlock,
    InterpolatedString,
    SetVariable,
    ShortcutIR,
    StringValue,
    VarRef,
)
from sashimi.dsl.compiler import compile_program, to_binary
from sashimi.dsl.decompiler import decompile, decompile_plist
from sashimi.dsl.parser import parse
from sashimi.dsl.printer import print_program
from sashimi.errors import DecompileError
from tests.dsl.test_compiler import CAT

A = "is.workflow.actions."


def roundtrip(text: str) -> tuple[ShortcutIR, ShortcutIR, list]:
    ir = parse(text, file="t.dsl")
    data = to_binary(compile_program(ir, CAT, seed=1).plist)
    back = decompile(data, CAT, file="t.shortcut", name=ir.name)
    return ir, back.ir, back.warnings


def envelope(actions: list, **extra) -> dict:
    return {"WFWorkflowActions": actions, "WFWorkflowClientVersion": "2302.0.4", **extra}


def act(identifier: str, **params) -> dict:
    return {"WFWorkflowActionIdentifier": identifier, "WFWorkflowActionParameters": params}


def out(uuid: str, name: str = "X") -> dict:
    return {"OutputName": name, "OutputUUID": uuid, "Type": "ActionOutput"}


def attach(ref: dict) -> dict:
    return {"Value": ref, "WFSerializationType": "WFTextTokenAttachment"}


def tokens(text: str, ranges: dict) -> dict:
    return {
        "Value": {"string": text, "attachmentsByRange": ranges},
        "WFSerializationType": "WFTextTokenString",
    }


# ----------------------------------------------------------------------------- round trips


PROGRAMS = {
    "linear": 'SHORTCUT "Lin"\nACTION comment WFCommentActionText="Hi \\"you\\"\\n"\nACTION ask WFAskActionPrompt="Q?"\nACTION url\n'
    "ACTION gettext WFTextActionText=`from:{@prev} {@ask} 🤷‍♂️ {@date}{@input}`\nACTION openurl\n",
    "control": 'SHORTCUT "C"\nACTION ask\nIF @prev does_not_have_any_value 1\nACTION getclipboard\nELSE\n'
    'ACTION detect.link\nENDIF\nACTION ask WFAskActionDefaultAnswer=`{@conditional}`\nMENU "Pick"\nCASE "A"\n'
    'ACTION url\nCASE "B"\nENDMENU\nACTION openurl X=@choosefrommenu\nREPEAT 3\nACTION number\nENDREPEAT\n'
    'IF $Repeat_Item equals_number "10"\nELSE\nENDIF\n',
    "loops": 'SHORTCUT "L"\nACTION list WFItems=["a", `b{@input}`]\nSET $L = @prev\nFOREACH $L\nFOREACH $Repeat_Item\n'
    "ACTION gettext WFTextActionText=`{$Repeat_Item_2}{$Repeat_Index}`\nENDFOREACH\nENDFOREACH\n"
    'ACTION text.split text=@repeat_each\nACTION appendvariable WFVariableName="My List"\nACTION getvariable WFVariable=$My_List\n',
    "values": 'SHORTCUT "V"\nACTION number\nACTION adjustdate WFDuration=QTY(@prev, "days") X=QTY(2.5, "min") '
    'F=1.5 B=false N=-3\nACTION dictionary WFItems={"Value": {"WFDictionaryFieldValueItems": {"k": "v", "t": `{@prev}!`}}, '
    '"WFSerializationType": "WFDictionaryFieldValue"}\nACTION openapp WFSelectedApp={"BundleIdentifier": "com.x", '
    '"L": [1, "two", {"x": @prev}], "E": {}} IntentData="<binary:12bytes>" D={"Value": {"WFDictionaryFieldValueItems": []}}\n',
    "handles": 'SHORTCUT "H"\nACTION ask\nACTION url\nACTION ask\nACTION showresult Text=`{@ask}{@url}{@DeviceDetails}{@Clipboard}`\n'
    "ACTION gettext WFTextActionText=`{@First}`\nACTION format.date\n",
    "prev_after_blocks": 'SHORTCUT "P"\nACTION ask\nIF @prev has_any_value\nACTION url\nELSE\nFOREACH @prev\n'
    'ACTION url\nENDFOREACH\nACTION removereminders X=@prev\nENDIF\nACTION comment WFCommentActionText="c"\nACTION openurl Y=@prev\n'
    "SET $A = @prev\nSET $B = @prev\n",
    "fallback": 'SHORTCUT "F"\nACTION comment WFCommentActionText="c"\nACTION url WFURLActionURL=`{@prev}`\n',
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_hand_written_programs_round_trip(name):
    ir, back, _ = roundtrip(PROGRAMS[name])
    assert print_program(back) == print_program(ir)
    assert back == ir


def test_round_trip_warnings_are_reported():
    _, _, warnings = roundtrip(PROGRAMS["fallback"])
    assert [w.category for w in warnings] == ["prev_fallback"]
    _, _, warnings = roundtrip(PROGRAMS["values"])
    assert [w.category for w in warnings] == []  # the placeholder is a string in our own output


def test_shortcut_name_sources():
    compiled = compile_program(parse('SHORTCUT "x"\n'), CAT).plist
    # Our compiler stores the name, so it survives whatever the file is called (issue 11.8).
    assert decompile(to_binary(compiled), CAT, file="dir/other.shortcut").ir.name == "x"
    del compiled["WFWorkflowName"]
    data = to_binary(compiled)
    assert decompile(data, CAT, file="dir/My_Great_Tool.shortcut").ir.name == "My Great Tool"
    # One rule for every format: an XML plist is named after its file too.
    xml = plistlib.dumps(compiled, fmt=plistlib.FMT_XML)
    assert decompile(xml, CAT, file="dir/My_Great_Tool.plist").ir.name == "My Great Tool"
    assert decompile(data, CAT, file="dir/My_Great_Tool.shortcut", name="N").ir.name == "N"
    assert decompile(data, CAT).ir.name == "Untitled"
    named = plistlib.dumps(envelope([], WFWorkflowName="Stored"))
    assert decompile(named, CAT, file="other.shortcut").ir.name == "Stored"


def test_xml_and_binary_give_the_same_ir():
    ir = parse(PROGRAMS["control"])
    plist = compile_program(ir, CAT).plist
    xml = plistlib.dumps(plist, fmt=plistlib.FMT_XML, sort_keys=False)
    assert decompile(xml, CAT, name="C").ir == decompile(to_binary(plist), CAT, name="C").ir == ir


_TEXT = st.text(st.characters(blacklist_characters="`{}\r", blacklist_categories=("Cs",)), max_size=6)
_PART = st.one_of(_TEXT, st.sampled_from([VarRef("Name"), HandleRef("input"), HandleRef("date")]))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(_PART, min_size=1, max_size=6))
def test_text_tokens_round_trip_with_any_unicode(parts):
    merged: list = []  # the IR never holds empty or adjacent text parts
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], StringValue):
                merged[-1] = StringValue(merged[-1].value + part)
                continue
            part = StringValue(part)
        merged.append(part)
    if not any(isinstance(p, VarRef | HandleRef) for p in merged):
        return
    value = InterpolatedString(tuple(merged))
    define = SetVariable("Name", HandleRef("input"))  # an undefined $Name would decompile as @Name
    ir = ShortcutIR("T", (define, ActionStatement("gettext", (("WFTextActionText", value),))))
    back = decompile(to_binary(compile_program(ir, CAT).plist), CAT, name="T").ir
    assert back == ir


# ----------------------------------------------------------------------------- real-file conventions


def test_real_file_conventions():
    ask, date_fmt, end = "U-ASK", "U-FMT", "U-END"
    plist = envelope(
        [
            act(A + "comment", WFCommentActionText="c"),
            act(A + "ask", UUID=ask, WFAskActionPrompt="Q", **{"Show-WFAskActionPrompt": True}),
            act(A + "showresult", Text="no uuid: not the previous action"),
            act(
                A + "conditional",
                GroupingIdentifier="G",
                WFControlFlowMode=0,
                WFCondition=4,
                WFInput={"Type": "Variable", "Variable": attach(out(ask))},
                WFConditionalActionString="x",
            ),
            act(
                A + "format.date",
                UUID=date_fmt,
                WFDate=attach({"Type": "CurrentDate"}),
                CustomOutputName="Start Day",
            ),
            act(A + "conditional", GroupingIdentifier="G", WFControlFlowMode=2, UUID=end),
            act(
                "com.apple.app.SomeIntent",
                AppIntentDescriptor={"BundleIdentifier": "com.apple.app"},
                Text=tokens("🤷‍♂️ \ufffc and \ufffc", {"{6, 1}": out(ask), "{12, 1}": out(date_fmt)}),
                Blob=b"\x00\x01\x02",
                Ratio=2.0,
                Other=attach(out(end)),
                Dev={"Type": "DeviceDetails"},
            ),
        ],
        WFWorkflowName="Real",
    )
    result = decompile_plist(plist, CAT)
    assert print_program(result.ir) == (
        'SHORTCUT "Real"\n'
        'ACTION comment WFCommentActionText="c"\n'
        'ACTION ask WFAskActionPrompt="Q"\n'
        'ACTION showresult Text="no uuid: not the previous action"\n'
        'IF @prev equals_string "x"\n'
        "ACTION format.date WFDate=@date\n"
        "ENDIF\n"
        "ACTION com.apple.app.SomeIntent Text=`🤷‍♂️ {@prev} and {@Start_Day}` "
        'Blob="<binary:3bytes>" Ratio=2 Other=@conditional Dev=@DeviceDetails\n'
    )
    assert [w.category for w in result.warnings] == ["lossy_binary"]


def test_field_items_and_list_items_collapse():
    def tok(s):
        return {"Value": {"string": s}, "WFSerializationType": "WFTextTokenString"}

    plist = envelope(
        [
            act(
                A + "list",
                WFItems=[
                    {"WFItemType": 0, "WFValue": tok("a")},
                    {
                        "WFItemType": 0,
                        "WFValue": tokens("\ufffc", {"{0, 1}": {"Type": "Variable", "VariableName": "Name"}}),
                    },
                ],
            ),
            act(A + "setvariable", WFVariableName="Name", WFInput=attach({"Type": "ExtensionInput"})),
            act(
                A + "dictionary",
                WFItems={
                    "Value": {
                        "WFDictionaryFieldValueItems": [
                            {"WFItemType": 0, "WFKey": tok("k"), "WFValue": tok("v")},
                            {"WFItemType": 3, "WFKey": tok("n"), "WFValue": tok("4")},
                            {
                                "WFItemType": 4,
                                "WFKey": tok("b"),
                                "WFValue": {
                                    "Value": True,
                                    "WFSerializationType": "WFNumberSubstitutableState",
                                },
                            },
                        ]
                    },
                    "WFSerializationType": "WFDictionaryFieldValue",
                },
            ),
        ]
    )
    text = print_program(decompile_plist(plist, CAT, name="F").ir)
    assert text == (
        'SHORTCUT "F"\n'
        'ACTION list WFItems=["a", `{$Name}`]\n'
        "SET $Name = @input\n"
        'ACTION dictionary WFItems={"Value": {"WFDictionaryFieldValueItems": {"k": "v", "n": 4, "b": true}}, '
        '"WFSerializationType": "WFDictionaryFieldValue"}\n'
    )


def test_unknown_producer_is_a_warning_not_silent_prev():
    plist = envelope(
        [act(A + "url", UUID="U1"), act(A + "openurl", X=attach(out("GONE", "Contents of URL")))]
    )
    result = decompile_plist(plist, CAT, name="U")
    assert result.ir.statements[1].params == (("X", HandleRef("Contents_of_URL")),)
    assert [(w.category, w.index) for w in result.warnings] == [("unknown_producer", 1)]


def test_reserved_names_and_menu_titles():
    title = {"Value": {"string": "Fancy"}, "WFSerializationType": "WFTextTokenString"}
    plist = envelope(
        [
            act(A + "openurl", X=attach({"Type": "Variable", "VariableName": "date"})),
            act(A + "choosefrommenu", GroupingIdentifier="M", WFControlFlowMode=0, WFMenuItems=["x", "y"]),
            act(
                A + "choosefrommenu",
                GroupingIdentifier="M",
                WFControlFlowMode=1,
                WFMenuItemAttributedTitle=title,
            ),
            act(A + "choosefrommenu", GroupingIdentifier="M", WFControlFlowMode=1),
            act(A + "choosefrommenu", GroupingIdentifier="M", WFControlFlowMode=2),
        ]
    )
    text = print_program(decompile_plist(plist, CAT, name="R").ir)
    # An undefined variable called `date` must not turn into `@date` (the current date).
    # Items that differ from the case titles are kept raw, so recompiling writes them back.
    assert text == (
        'SHORTCUT "R"\nACTION openurl X=$date\nMENU "Choose" WFMenuItems=["x", "y"]\n'
        'CASE "Fancy"\nCASE "y"\nENDMENU\n'
    )


def test_missing_condition_is_kept_raw():
    plist = envelope(
        [
            act(
                A + "conditional",
                GroupingIdentifier="G",
                WFControlFlowMode=0,
                WFInput={"Type": "Variable", "Variable": attach({"Type": "ExtensionInput"})},
            ),
            act(A + "conditional", GroupingIdentifier="G", WFControlFlowMode=2),
        ]
    )
    result = decompile_plist(plist, CAT)
    (stmt,) = result.ir.statements
    # No WFCondition: nothing may be invented; recompiling must give the same keys (issue 11.3).
    assert stmt == IfBlock(
        HandleRef("prev"), "raw_condition", None, (), None, params=(("WFInput", HandleRef("input")),)
    )
    assert [w.category for w in result.warnings] == ["raw_condition"]


# ----------------------------------------------------------------------------- malformed input


def _bad(data: bytes) -> str:
    with pytest.raises(DecompileError) as err:
        decompile(data, CAT, file="bad.shortcut")
    message = str(err.value)
    assert "\n" not in message and message.startswith("bad.shortcut: ")
    return message


GOOD = to_binary(compile_program(parse(PROGRAMS["control"]), CAT).plist)


def _xml(obj) -> bytes:
    return plistlib.dumps(obj, fmt=plistlib.FMT_XML)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (GOOD[: len(GOOD) // 2], "not a property list"),
        (GOOD[:-5], "not a property list"),
        (bytes(random.Random(7).randrange(256) for _ in range(300)), "not a property list"),
        (b"", "not a property list"),
        (b"AEA1" + bytes(40), "signed shortcut"),
        (_xml([1, 2]), "top level is a list"),
        (_xml({"WFWorkflowActions": {"a": 1}}), "WFWorkflowActions missing or not a list"),
        (
            _xml(envelope([act(A + "url"), {"WFWorkflowActionParameters": {}}])),
            "action #1: has no WFWorkflowActionIdentifier",
        ),
        (_xml(envelope(["x"])), "action #0: is a str"),
        (
            _xml(envelope([{"WFWorkflowActionIdentifier": A + "url", "WFWorkflowActionParameters": [1]}])),
            "action #0: WFWorkflowActionParameters is not a dictionary",
        ),
        (
            _xml(envelope([act(A + "url", X=tokens("ab", {"{5, 1}": {"Type": "CurrentDate"}}))])),
            "action #0: attachment range '{5, 1}' outside its string",
        ),
        (
            _xml(envelope([act(A + "url", X=attach({"Type": "Variable"}))])),
            "action #0: variable reference without VariableName",
        ),
        (
            _xml(envelope([act(A + "url", WFControlFlowMode=0, GroupingIdentifier="G")])),
            "action #0: unsupported control-flow action",
        ),
        (_xml(envelope([act("bad name!")])), "action #0: action identifier 'bad name!' cannot be written"),
        (
            _xml(envelope([act(A + "conditional", WFControlFlowMode="0", GroupingIdentifier="G")])),
            "action #0: invalid WFControlFlowMode",
        ),
    ],
)
def test_malformed_input_gives_one_line_error(data, expected):
    assert expected in _bad(data)


def test_deeply_nested_values_are_rejected_cleanly():
    value: dict = {"x": 1}
    for _ in range(150):
        value = {"x": value}
    message = _bad(_xml(envelope([act(A + "url", X=value)])))
    assert "nest too deeply" in message


_JUNK = (
    None,
    0,
    -5,
    2.5,
    float("nan"),
    "",
    "x",
    b"\x00",
    [],
    {},
    [1, {}],
    True,
    {"Type": {}},
    {"Type": "ActionOutput"},
    {"Type": "Variable", "VariableName": ""},
    {
        "WFSerializationType": "WFTextTokenString",
        "Value": {"string": "a", "attachmentsByRange": {"{0, 1}": "x"}},
    },
)


def _paths(obj, path=()):
    yield path
    children = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, child in children:
        yield from _paths(child, (*path, key))


def test_mutated_plists_never_crash():
    """Seeded structural fuzzing: any damage gives a DecompileError or a printable, parseable IR."""
    rng = random.Random(11)
    sources = [compile_program(parse(text), CAT).plist for text in PROGRAMS.values()]
    outcomes = {"ok": 0, "error": 0}
    for _ in range(400):
        plist = copy.deepcopy(rng.choice(sources))
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(list(_paths(plist))[1:])
            parent = plist
            for key in path[:-1]:
                parent = parent[key]
            if rng.random() < 0.3:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(rng.choice(_JUNK))
        try:
            ir = decompile_plist(plist, CAT, file="f.shortcut").ir
        except DecompileError as err:
            assert "\n" not in str(err) and str(err).startswith("f.shortcut: ")
            outcomes["error"] += 1
            continue
        assert parse(print_program(ir)) == ir
        outcomes["ok"] += 1
    assert outcomes["ok"] > 50 and outcomes["error"] > 50, outcomes
