"""Printer tests: the canonical spelling of §1.10, byte-exact round trip of the corpus (§10 #3), and
IRs that have no spelling."""

from __future__ import annotations

import math
import time

import pytest

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
from sashimi.dsl.parser import parse
from sashimi.dsl.printer import UnprintableError, format_value, print_program, quote
from sashimi.errors import SashimiError

SF = "shortcutforge"  # the real corpus's dialect (sashimi.dsl.ast, issue 11.3)


def test_corpus_round_trip_is_byte_exact(corpus_targets):
    t0 = time.perf_counter()
    mismatches = [
        sid
        for sid, text in corpus_targets
        if print_program(parse(text, file=sid, dialect=SF), dialect=SF) != text
    ]
    elapsed = time.perf_counter() - t0
    assert mismatches == []
    assert len(corpus_targets) == 1671
    assert elapsed < 10, f"parse+print of the corpus took {elapsed:.1f}s"


def test_program_layout():
    ir = ShortcutIR(
        'The "Name"',
        (
            ActionStatement("comment", (("WFCommentActionText", StringValue("Hi")),)),
            SetVariable("X", HandleRef("prev")),
            IfBlock(
                VarRef("X"),
                "equals_string",
                StringValue("a"),
                (ActionStatement("a"),),
                (),
            ),
            IfBlock(HandleRef("input"), "has_any_value", None, (), None),
            MenuBlock("Pick", (MenuCase("One", (ActionStatement("b"),)), MenuCase("Two", ()))),
            MenuBlock(InterpolatedString((StringValue("P "), HandleRef("date"))), (MenuCase("C", ()),)),
            RepeatBlock(NumberValue(3), (ForeachBlock(HandleRef("prev"), (Comment("note"),)),)),
            RepeatBlock(HandleRef("Number_Of_Days"), ()),
        ),
    )
    assert print_program(ir) == (
        'SHORTCUT "The \\"Name\\""\n'
        'ACTION comment WFCommentActionText="Hi"\n'
        "SET $X = @prev\n"
        'IF $X equals_string "a"\n'
        "ACTION a\n"
        "ELSE\n"
        "ENDIF\n"
        "IF @input has_any_value\n"
        "ENDIF\n"
        'MENU "Pick"\n'
        'CASE "One"\n'
        "ACTION b\n"
        'CASE "Two"\n'
        "ENDMENU\n"
        "MENU `P {@date}`\n"
        'CASE "C"\n'
        "ENDMENU\n"
        "REPEAT 3\n"
        "FOREACH @prev\n"
        "# note\n"
        "ENDFOREACH\n"
        "ENDREPEAT\n"
        "REPEAT @Number_Of_Days\n"
        "ENDREPEAT\n"
    )


def test_endshortcut_printed_only_when_present():
    assert print_program(ShortcutIR("A", ())) == 'SHORTCUT "A"\n'
    assert print_program(ShortcutIR("A", (), has_endshortcut=True)) == 'SHORTCUT "A"\nENDSHORTCUT\n'


def test_non_canonical_text_prints_canonically():
    src = (
        '\r\n  SHORTCUT "A"\r\n\r\n\tACTION a X = "1"Y=007 Z=`{ $v }`\r\n# c\r\n'
        'IF @ prev contains "x"\r\n   ACTION b W=[ 1 ,2 ] V={ "k" :QTY( 2 , "s" ) }\r\nENDIF'
    )
    assert print_program(parse(src)) == (
        'SHORTCUT "A"\n'
        'ACTION a X="1" Y=7 Z=`{$v}`\n'
        "# c\n"
        'IF @prev contains "x"\n'
        'ACTION b W=[1, 2] V={"k": QTY(2, "s")}\n'
        "ENDIF\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a\\b", '"a\\\\b"'),
        ("C:\\new", '"C:\\\\new"'),  # backslash escaped first: never `\n`
        ("line\nnext\ttab", '"line\\nnext\\ttab"'),
        ("cr\rkept", '"cr\\rkept"'),  # escaped in the canonical dialect (issue 11.6)
        ("obj\ufffc 🎶 é", '"obj\ufffc 🎶 é"'),
        ("\\n", '"\\\\n"'),
    ],
)
def test_quoted_strings(text, expected):
    assert quote(text) == expected
    assert format_value(StringValue(text)) == expected
    assert parse(f"SHORTCUT {expected}\n").name == text


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "0"),
        (-42, "-42"),
        (10**20, "100000000000000000000"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        (-0.0, "-0.0"),
        (100000.0, "100000.0"),
        (1e16, "1.0e+16"),  # repr '1e+16' gets a dot so the reference can read it
        (1e-07, "1.0e-07"),
        (1.5e-07, "1.5e-07"),
        (-2e22, "-2.0e+22"),
    ],
)
def test_numbers(number, expected):
    assert format_value(NumberValue(number)) == expected
    back = parse(f'SHORTCUT "N"\nACTION a X={expected}\n').statements[0].params[0][1]
    assert back == NumberValue(number) and type(back.value) is type(number)


def test_other_values():
    assert format_value(BoolValue(True)) == "true"
    assert format_value(BoolValue(False)) == "false"
    assert format_value(VarRef("Repeat_Item")) == "$Repeat_Item"
    assert format_value(HandleRef("prev")) == "@prev"
    assert format_value(InterpolatedString((StringValue("  a "), VarRef("x"), StringValue("\n b")))) == (
        "`  a {$x}\n b`"
    )
    assert format_value(InterpolatedString(())) == "``"
    assert (
        format_value(DictLiteral((("k", NumberValue(1)), ('a "q"', ListLiteral((BoolValue(False),))))))
        == '{"k": 1, "a \\"q\\"": [false]}'
    )
    assert format_value(DictLiteral(())) == "{}"
    assert format_value(ListLiteral(())) == "[]"
    assert format_value(ListLiteral((StringValue("a"), NumberValue(2.5)))) == '["a", 2.5]'
    assert format_value(QuantityLiteral(1, "days")) == 'QTY(1, "days")'
    assert format_value(QuantityLiteral(HandleRef("prev"), "min")) == 'QTY(@prev, "min")'
    assert format_value(HeadersLiteral((("Accept", StringValue("*/*")),))) == 'HEADERS {"Accept": "*/*"}'


def test_adjacent_text_parts_print_as_one_run():
    text = format_value(InterpolatedString((StringValue("a"), StringValue(""), StringValue("b"))))
    assert text == "`ab`"


def test_comment_spelling():
    assert print_program(ShortcutIR("A", (Comment(""), Comment("#x")))) == 'SHORTCUT "A"\n#\n# #x\n'
    assert parse('SHORTCUT "A"\n#\n# #x\n').statements == (Comment(""), Comment("#x"))


@pytest.mark.parametrize(
    "value",
    [
        InterpolatedString((StringValue("a}b"),)),
        InterpolatedString((StringValue("a`b"),)),
        VarRef("has space"),
        VarRef(""),
        HandleRef("a.b"),
        NumberValue(math.nan),
        NumberValue(math.inf),
        NumberValue(True),
        QuantityLiteral(True, "s"),
        "not a node",
    ],
)
def test_unprintable_values(value):
    with pytest.raises(UnprintableError):
        format_value(value)


@pytest.mark.parametrize(
    "stmt",
    [
        ActionStatement("a.b."),
        ActionStatement("1abc"),
        ActionStatement("a", (("Show-WFInput", BoolValue(True)),)),
        SetVariable("a.b", NumberValue(1)),
        IfBlock(HandleRef("x"), "==", None, (), None),
        IfBlock(StringValue("lit"), "contains", None, (), None),
        MenuBlock("m", (), params=(("Show-X", BoolValue(True)),)),
        Comment("two\nlines"),
        Comment(" padded"),
        "not a statement",
    ],
)
def test_unprintable_statements(stmt):
    with pytest.raises(UnprintableError) as info:
        print_program(ShortcutIR("A", (stmt,)))
    assert isinstance(info.value, SashimiError) and isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_dialect_words_and_cr():
    ir = ShortcutIR("A\r", (IfBlock(HandleRef("x"), "is_greater_than_or_equal", NumberValue(3), (), None),))
    assert print_program(ir) == 'SHORTCUT "A\\r"\nIF @x is_greater_than_or_equal 3\nENDIF\n'
    # The real corpus wrote "is greater than or equal to" as `is_less_than`, and CR raw (§1.7a, §1.4).
    assert print_program(ir, dialect="shortcutforge") == 'SHORTCUT "A\r"\nIF @x is_less_than 3\nENDIF\n'
    between = ShortcutIR("A", (IfBlock(HandleRef("x"), "is_between", None, (), None),))
    with pytest.raises(UnprintableError, match="no word in the shortcutforge dialect"):
        print_program(between, dialect="shortcutforge")
    with pytest.raises(ValueError, match="unknown dialect"):
        print_program(between, dialect="klingon")


@pytest.mark.parametrize("text", ["a\r\nb", "\r", "x\r\n\r\ny", "tab\t\r"])
def test_carriage_returns_survive_print_and_parse(text):
    ir = ShortcutIR(text, (ActionStatement("a", (("X", StringValue(text)),)),))
    printed = print_program(ir)
    assert "\r" not in printed  # escaped: editors and CRLF conversion cannot touch it
    assert parse(printed) == ir and parse(printed).name == text
