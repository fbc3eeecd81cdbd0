"""Parser tests: every statement and value kind, the lexical rules of §1.2, our extensions and the
`reference_compat` switch (§1.8.1), every error class, and the acceptance facts of §10 on the corpus."""

from __future__ import annotations

import time
from collections import Counter

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
    walk_values,
)
from sashimi.dsl.parser import MAX_NESTING, parse, unescape
from sashimi.errors import DSLSyntaxError, Location

SF = "shortcutforge"  # the real corpus's dialect (sashimi.dsl.ast, issue 11.3)

H = 'SHORTCUT "T"\n'


def one(line: str, **kw):
    """The single statement of a program made of the header plus `line`."""
    (stmt,) = parse(H + line, **kw).statements
    return stmt


def value(text: str):
    """The value of parameter X in `ACTION a X=<text>`."""
    return one(f"ACTION a X={text}\n").params[0][1]


# ------------------------------------------------------------------------------- statements


def test_header_only_program():
    ir = parse('SHORTCUT "My \\"Shortcut\\""\n')
    assert ir == ShortcutIR('My "Shortcut"', ())
    assert ir.has_endshortcut is False


def test_action_with_params_in_order():
    stmt = one('ACTION text.split WFTextSeparator="New Lines" Show=true N=3\n')
    assert stmt == ActionStatement(
        "text.split",
        (("WFTextSeparator", StringValue("New Lines")), ("Show", BoolValue(True)), ("N", NumberValue(3))),
    )


def test_action_without_params_and_long_names():
    name = "com.apple.mobiletimer-framework.MobileTimerIntents.MTCreateAlarmIntent"
    assert one(f"ACTION {name}\n") == ActionStatement(name, ())
    assert one("ACTION a\n") == ActionStatement("a", ())


def test_duplicate_params_last_value_wins_at_first_position():
    stmt = one('ACTION a X="1" Y="2" X="3"\n')
    assert stmt.params == (("X", StringValue("3")), ("Y", StringValue("2")))


def test_params_without_separating_space_and_spaces_around_equals():
    assert one('ACTION a X="1"Y="2"\n').param_names == ("X", "Y")
    assert one('ACTION a X = "1"\n').params == (("X", StringValue("1")),)


def test_set_statement():
    assert one("SET $List = @prev\n") == SetVariable("List", HandleRef("prev"))
    assert one('SET $D = {"a": [1]}\n') == SetVariable(
        "D", DictLiteral((("a", ListLiteral((NumberValue(1),))),))
    )


def test_if_else_blocks():
    src = "IF @input does_not_have_any_value 1\nACTION getclipboard\nELSE\nACTION detect.link\nENDIF\n"
    assert one(src) == IfBlock(
        HandleRef("input"),
        "does_not_have_any_value",
        NumberValue(1),
        (ActionStatement("getclipboard"),),
        (ActionStatement("detect.link"),),
    )


def test_if_without_else_and_with_empty_else():
    assert one("IF $x has_any_value\nENDIF\n") == IfBlock(VarRef("x"), "has_any_value", None, (), None)
    assert one("IF $x has_any_value\nELSE\nENDIF\n").else_body == ()


@pytest.mark.parametrize(
    "cond",
    [
        "equals_number",
        "is_greater_than",
        "is_less_than",
        "equals_string",
        "not_equal_string",
        "contains",
        "does_not_contain",
        "has_any_value",
        "does_not_have_any_value",
        "is_before",
    ],
)
def test_every_condition_word(cond):
    assert one(f'IF @prev {cond} "v"\nENDIF\n').condition == cond


def test_if_compare_value_of_any_kind():
    assert one('IF $a equals_string {"k": `{@b}`}\nENDIF\n').compare_value == DictLiteral(
        (("k", InterpolatedString((HandleRef("b"),))),)
    )


def test_menu_block():
    src = 'MENU "Pick"\nCASE "A"\nACTION a\nCASE "B"\nENDMENU\n'
    assert one(src) == MenuBlock("Pick", (MenuCase("A", (ActionStatement("a"),)), MenuCase("B", ())))
    assert one('MENU `Hi {$n}`\nCASE "A"\nENDMENU\n').prompt == InterpolatedString(
        (StringValue("Hi "), VarRef("n"))
    )


def test_repeat_and_foreach():
    assert one("REPEAT 12\nENDREPEAT\n") == RepeatBlock(NumberValue(12), ())
    assert one("REPEAT 2.5\nENDREPEAT\n").count == NumberValue(2.5)
    assert one("REPEAT @prev\nENDREPEAT\n").count == HandleRef("prev")
    assert one("FOREACH $L\nACTION a\nENDFOREACH\n") == ForeachBlock(VarRef("L"), (ActionStatement("a"),))


def test_deep_nesting_of_all_blocks():
    src = (
        'IF @a has_any_value\nFOREACH @b\nMENU "m"\nCASE "c"\nREPEAT 2\nIF $x contains "y"\n'
        "ACTION deep\nENDIF\nENDREPEAT\nENDMENU\nENDFOREACH\nENDIF\n"
    )
    stmt = one(src)
    inner = stmt.then_body[0].body[0].cases[0].body[0].body[0].then_body[0]
    assert inner == ActionStatement("deep")


def test_comment_lines():
    ir = parse(H + "# first\n   ## second ##  \nACTION a\n#\n")
    assert ir.statements == (Comment("first"), Comment("second ##"), ActionStatement("a"), Comment(""))


def test_endshortcut():
    ir = parse(H + "ACTION a\nENDSHORTCUT\n\n  \n")
    assert ir.has_endshortcut and ir.statements == (ActionStatement("a"),)
    with pytest.raises(DSLSyntaxError, match="expected end of input"):
        parse(H + "ENDSHORTCUT\nACTION a\n")


# ----------------------------------------------------------------------------------- values


def test_strings_and_single_pass_unescaping():
    assert value('"plain"') == StringValue("plain")
    assert value('"C:\\\\new"') == StringValue("C:\\new")  # not C: + LF + ew (reference quirk)
    assert value('"a\\"b\\nc\\td\\\\"') == StringValue('a"b\nc\td\\')
    # `\r` is our escape for CR (issue 11.6); other sequences stay verbatim
    assert value('"\\r\\u00e9\\q"') == StringValue("\r\\u00e9\\q")
    assert value('"raw\nline\r"') == StringValue("raw\nline\r")  # strings may span lines
    assert unescape("\\\\n") == "\\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        ("007", 7),
        ("-3", -3),
        ("+4", 4),
        ("2.5", 2.5),
        ("1.", 1.0),
        (".5", 0.5),
        ("-.5e-1", -0.05),
        ("1.5e3", 1500.0),
        ("1e5", 100000.0),
        ("1E2", 100.0),
    ],
)
def test_numbers(text, expected):
    got = value(text)
    assert got == NumberValue(expected)
    assert type(got.value) is type(expected)


def test_booleans_variables_handles():
    assert value("true") == BoolValue(True)
    assert value("false") == BoolValue(False)
    assert value("$Repeat_Item") == VarRef("Repeat_Item")
    assert value("$ x") == VarRef("x")  # inline whitespace is skipped everywhere
    for word in ("prev", "input", "date", "item", "index"):
        got = value(f"@{word}")
        assert got == HandleRef(word) and got.reserved
    for name in ("previous", "items", "index2", "date_x", "Input", "com_openai_chat_AskIntent"):
        got = value(f"@{name}")
        assert got == HandleRef(name) and not got.reserved


def test_interpolated_strings_keep_all_text():
    assert value("`from:{@prev} {@ask}`") == InterpolatedString(
        (StringValue("from:"), HandleRef("prev"), StringValue(" "), HandleRef("ask"))
    )
    assert value("`  {  $x  }  b\n  c`") == InterpolatedString(
        (StringValue("  "), VarRef("x"), StringValue("  b\n  c"))
    )
    assert value("``") == InterpolatedString(())
    assert value("`\\n stays`") == InterpolatedString((StringValue("\\n stays"),))


def test_dicts_lists_quantities_headers():
    assert value('{"a": 1, "b": [true, "x", {}], "c": `{$v}`}') == DictLiteral(
        (
            ("a", NumberValue(1)),
            ("b", ListLiteral((BoolValue(True), StringValue("x"), DictLiteral(())))),
            ("c", InterpolatedString((VarRef("v"),))),
        )
    )
    assert value("[]") == ListLiteral(())
    assert value('{"k": 1, "k": 2}').entries == (("k", NumberValue(1)), ("k", NumberValue(2)))
    assert value('QTY(1, "days")') == QuantityLiteral(1, "days")
    assert value('QTY(2.5, "min")') == QuantityLiteral(2.5, "min")
    assert value('QTY(@prev, "min")') == QuantityLiteral(HandleRef("prev"), "min")
    assert value('QTY($n, "°F")') == QuantityLiteral(VarRef("n"), "°F")
    assert value('HEADERS {"Accept": "json"}') == HeadersLiteral((("Accept", StringValue("json")),))
    assert value('{"multi\nline": "ok"}').entries[0][0] == "multi\nline"


# ------------------------------------------------------------------- lexical rules and extensions


def test_context_sensitive_words_are_names_elsewhere():
    stmt = one("ACTION true IF=1 true=false contains=2 QTY=3 ENDIF=4\n")
    assert stmt.action_name == "true"
    assert stmt.param_names == ("IF", "true", "contains", "QTY", "ENDIF")
    assert one("ACTION contains\n").action_name == "contains"
    assert one("SET $IF = @IF\n") == SetVariable("IF", HandleRef("IF"))
    assert one("SET $true = 1\n").var_name == "true"
    stmt = one("ACTION a X=@IF contains=1\n")
    assert stmt.params == (("X", HandleRef("IF")), ("contains", NumberValue(1)))


def test_line_breaks_crlf_blank_lines_and_indentation():
    src = 'SHORTCUT "T"\r\n\r\n   ACTION a\r\n\t\tIF @x has_any_value\r\n  \r\n    ACTION b\r\n  ENDIF\r\n'
    ir = parse(src)
    assert ir.statements == (
        ActionStatement("a"),
        IfBlock(HandleRef("x"), "has_any_value", None, (ActionStatement("b"),), None),
    )
    assert [s.line for s in ir.statements] == [3, 4]


def test_lone_cr_is_not_a_line_break():
    with pytest.raises(DSLSyntaxError):
        parse(H + "ACTION a\rACTION b\n")


def test_line_numbers_count_lines_inside_strings():
    ir = parse(H + 'ACTION a X=`one\ntwo\nthree`\nACTION b Y="x\ny"\nACTION c\n')
    assert [s.line for s in ir.statements] == [2, 5, 7]


def test_spans():
    src = H + "ACTION a X=1   \n  IF @x has_any_value\nENDIF\n"
    action, block = parse(src).statements
    assert src[action.span.start : action.span.end] == "ACTION a X=1"
    assert src[block.span.start : block.span.end] == "IF @x has_any_value\nENDIF"
    assert (block.span.line, block.span.col) == (3, 3)


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ('SHORTCUT "T"\nACTION a', "no final line break"),
        ('\n\n  SHORTCUT "T"\nACTION a\n', "blank lines before SHORTCUT"),
        (H + 'MENU "m"\n# note\n\nCASE "c"\nENDMENU\n', "# between MENU and the first CASE"),
        (H + 'MENU "m"\nENDMENU\n', "MENU without CASE"),
        (H + "ACTION a Xé=1\n", "non-ASCII name"),
        (H + "IF @x has_any_value A=1\nENDIF\n", "parameters on an IF line"),
        (H + "ACTION a X=1e5\n", "exponent without a dot"),
        (H + "ACTION a X=@previous\n", "handle starting with a reserved word"),
        (H + "ACTION a X=`{@items}`\n", "handle starting with a reserved word (interpolation)"),
    ],
)
def test_extensions_are_off_in_reference_compat(src, reason):
    parse(src)  # accepted by default
    with pytest.raises(DSLSyntaxError):
        parse(src, reference_compat=True)


def test_reference_compat_accepts_the_reference_language():
    src = H + 'ACTION a X=@prev Y=1.5e3 Z=`  {@Input}`\n# c\nMENU "m"\n\nCASE "c"\nENDMENU\n'
    assert parse(src, reference_compat=True) == parse(src)


def test_menu_comment_is_dropped():
    assert one('MENU "m"\n# note\nCASE "c"\nENDMENU\n') == MenuBlock("m", (MenuCase("c", ()),))


def test_menu_cases_and_nested_statements_record_lines():
    menu = one('MENU "m"\n\nCASE "a"\n  ACTION x\nCASE "b"\nENDMENU\n')
    assert [c.line for c in menu.cases] == [4, 6]
    assert menu.cases[0].body[0].line == 5 and menu.cases[0].body[0].span.col == 3


def test_non_text_input_is_a_syntax_error():
    with pytest.raises(DSLSyntaxError, match="expected DSL text"):
        parse(None)  # type: ignore[arg-type]


def test_bytes_input():
    assert parse((H + "ACTION a\n").encode()) == parse(H + "ACTION a\n")
    with pytest.raises(DSLSyntaxError, match="not UTF-8"):
        parse(b"\xff\xfe")


# ----------------------------------------------------------------------------------- errors


def error(src: str, **kw) -> DSLSyntaxError:
    with pytest.raises(DSLSyntaxError) as info:
        parse(src, file="prog.dsl", **kw)
    err = info.value
    text = str(err)
    assert "\n" not in text
    assert text.startswith(f"prog.dsl:{err.location.line}:{err.location.col}: ")
    return err


@pytest.mark.parametrize(
    ("src", "where", "fragments"),
    [
        # unclosed blocks
        (
            H + "IF @x has_any_value\nACTION a\n",
            (4, 1),
            ["end of input", "ENDIF", "IF at line 2 is not closed"],
        ),
        (H + "FOREACH @x\n", (3, 1), ["ENDFOREACH", "FOREACH at line 2 is not closed"]),
        (H + 'MENU "m"\nCASE "a"\n', (4, 1), ["ENDMENU"]),
        (
            H + "REPEAT 3\nIF @x has_any_value\nENDREPEAT\n",
            (4, 1),
            ["'ENDREPEAT'", "IF at line 3 is not closed"],
        ),
        # stray or misplaced closers
        (H + "ENDIF\n", (2, 1), ["unexpected 'ENDIF'", "ENDIF without an open IF"]),
        (H + "ELSE\n", (2, 1), ["ELSE without an open IF"]),
        (H + "IF @x has_any_value\nELSE\nELSE\nENDIF\n", (4, 1), ["already has an ELSE"]),
        (H + "IF @x has_any_value\nELSE IF @y has_any_value\nENDIF\n", (3, 6), ["'IF'", "line break"]),
        # bad tokens
        (H + "ACTION a X=True\n", (2, 12), ["'True'", "lower-case"]),
        (H + "ACTION a X=foo\n", (2, 12), ["'foo'", "STRING", "NUMBER"]),
        (H + "SET $a.b = 1\n", (2, 7), ["unexpected '.'", "'='"]),
        (H + "ACTION a X=$a.b\n", (2, 14), ["unexpected '.'"]),
        (H + "ACTION a X=1 # note\n", (2, 14), ["'#'", "own"]),
        ("SHORTCUT `T`\n", (1, 10), ["'`'", "STRING"]),
        (H + 'ACTION a X={"a": 1,\n"b": 2}\n', (2, 20), ["line break", "one line"]),
        (H + "ACTION a X=[1\n]\n", (2, 14), ["line break"]),
        (H + "ACTION a.b. X=1\n", (2, 11), ["'.'"]),
        (H + "ACTION a 1X=1\n", (2, 10), ["'1X'"]),
        (H + "action comment\n", (2, 1), ["'action'", "ACTION"]),
        (H + "IF @a equals 1\nENDIF\n", (2, 7), ["'equals'", "CONDITION"]),
        (H + 'IF "lit" contains "x"\nENDIF\n', (2, 4), ["'\"lit\"'"]),
        (H + 'FOREACH "lit"\nENDFOREACH\n', (2, 9), ["'\"lit\"'"]),
        (H + "ACTION a X=`{x}`\n", (2, 14), ["'x'", "'$'", "'@'"]),
        (H + "ACTION a X={a: 1}\n", (2, 13), ["'a'", "STRING"]),
        (H + "ACTION a X=[1,]\n", (2, 15), ["']'"]),
        (H + 'ACTION a X=QTY(`x`, "s")\n', (2, 16), ["'`'"]),
        # unterminated strings
        (H + 'ACTION a X="abc\n', (2, 12), ["unterminated string"]),
        (H + 'ACTION a X="abc\\\n"\n', (2, 12), ["unterminated string"]),
        (H + "ACTION a X=`abc {@x}\n", (3, 1), ["end of input", "backtick string opened at 2:12"]),
        # program shape
        ("", (1, 1), ["empty program", "SHORTCUT"]),
        ("\n  \n", (1, 1), ["empty program", "SHORTCUT"]),  # not "line 2" of a file that has none
        (H + "IF @x has_any_value\nELSE IF @y has_any_value\n", (3, 6), ["no ELSE IF", "nest an IF"]),
        (H + 'ACTION a X="1" # note\n', (2, 16), ["must be on a line of its own"]),
        ("ACTION a\n", (1, 1), ["'ACTION'", "SHORTCUT"]),
        (H + H, (2, 1), ["'SHORTCUT'"]),
        ("\x00\x01", (1, 1), ["'\\x00'"]),
        ("\ufeffSHORTCUT", (1, 1), ["'\\ufeff'"]),
        (H + "ACTION a X=1e999\n", (2, 12), ["out of range"]),
        (H + "ACTION a X=" + "9" * 5000 + "\n", (2, 12), ["digits"]),
    ],
)
def test_error_messages(src, where, fragments):
    err = error(src)
    assert (err.location.line, err.location.col) == where, str(err)
    for fragment in fragments:
        assert fragment in err.message, str(err)


def test_error_message_format_matches_the_contract():
    err = error(H + 'ACTION a X={"k": }\n')
    assert str(err) == (
        "prog.dsl:2:18: unexpected '}' — expected one of: "
        "'$', '@', '[', '`', '{', HEADERS, NUMBER, QTY, STRING, false, true"
    )
    assert err.location == Location("prog.dsl", 2, 18)


def test_reference_compat_errors_are_located():
    err = error('\n\nSHORTCUT "T"\n', reference_compat=True)
    assert (err.location.line, err.location.col) == (1, 1) and "blank line" in err.message
    err = error(H + "ACTION a", reference_compat=True)
    assert (err.location.line, err.location.col) == (2, 9) and "end of input" in err.message
    err = error(H + "ACTION a X=@previous\n", reference_compat=True)
    assert (err.location.line, err.location.col) == (2, 12) and "reserved word 'prev'" in err.message
    err = error(H + "ACTION a X=`{ @index2 }`\n", reference_compat=True)
    assert (err.location.line, err.location.col) == (2, 15) and "reserved word 'index'" in err.message
    err = error(H + 'MENU "m"\n# c\nCASE "a"\nENDMENU\n', reference_compat=True)
    assert (err.location.line, err.location.col) == (3, 1)


@pytest.mark.parametrize(
    "src",
    [
        H + "ACTION a X=" + "[" * 5000 + "]" * 5000 + "\n",
        H + "ACTION a X=" + '{"k": ' * 5000 + "1" + "}" * 5000 + "\n",
        H + "IF @x has_any_value\n" * 5000 + "ENDIF\n" * 5000,
        H + "REPEAT 2\n" * (MAX_NESTING + 1) + "ENDREPEAT\n" * (MAX_NESTING + 1),
    ],
)
def test_deep_nesting_is_a_located_error(src):
    err = error(src)
    assert f"deeper than {MAX_NESTING}" in err.message


def test_nesting_up_to_the_limit_parses():
    src = H + "ACTION a X=" + "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1) + "\n"
    ir = parse(src)
    assert isinstance(ir.statements[0].params[0][1], ListLiteral)


def test_huge_input_is_fast():
    body = 'ACTION comment WFCommentActionText="' + "x" * 100 + '"\n'
    src = H + body * 5_000  # ~700 kB
    t0 = time.perf_counter()
    assert len(parse(src).statements) == 5_000
    assert time.perf_counter() - t0 < 30
    t0 = time.perf_counter()
    error(H + 'ACTION a X="' + "y" * 2_000_000 + "\n")  # unterminated 2 MB string
    assert time.perf_counter() - t0 < 10


# ------------------------------------------------------------------------- corpus (§10 facts)


@pytest.fixture(scope="module")
def parsed(corpus_targets):
    """(id, text, IR) for every train target, parsed without linting or added newlines."""
    return [(sid, text, parse(text, file=sid, dialect=SF)) for sid, text in corpus_targets]


def _depth(body, level=0):
    """Deepest body level (§9.3: top level 0, a block body one deeper than its block, empty or not)."""
    deepest = level
    for stmt in body:
        for child in _bodies(stmt):
            deepest = max(deepest, _depth(child, level + 1))
    return deepest


def _bodies(stmt):
    if isinstance(stmt, IfBlock):
        yield stmt.then_body
        if stmt.else_body is not None:
            yield stmt.else_body
    elif isinstance(stmt, MenuBlock):
        for case in stmt.cases:
            yield case.body
    elif isinstance(stmt, RepeatBlock | ForeachBlock):
        yield stmt.body


def _stmt_values(stmt):
    """Every value written on a statement's own line (params, SET value, IF target/value, heads)."""
    if isinstance(stmt, ActionStatement):
        yield from (v for _, v in stmt.params)
    elif isinstance(stmt, SetVariable):
        yield stmt.value
    elif isinstance(stmt, IfBlock):
        yield stmt.target
        if stmt.compare_value is not None:
            yield stmt.compare_value
    elif isinstance(stmt, MenuBlock):
        if isinstance(stmt.prompt, InterpolatedString):
            yield stmt.prompt
    elif isinstance(stmt, RepeatBlock):
        yield stmt.count
    elif isinstance(stmt, ForeachBlock):
        yield stmt.collection


def test_corpus_all_targets_parse(corpus_targets, parsed):
    assert len(corpus_targets) == 1671  # §10 #2: no linting, no added newline
    assert len(parsed) == 1671


def test_corpus_is_in_the_reference_language(parsed):
    # The targets use no extension, so reference_compat must accept them all with the same IR.
    for sid, text, ir in parsed:
        assert parse(text, file=sid, reference_compat=True, dialect=SF) == ir, sid


def test_corpus_parse_time(corpus_targets):
    t0 = time.perf_counter()
    for sid, text in corpus_targets:
        parse(text, file=sid, dialect=SF)
    assert time.perf_counter() - t0 < 10


def test_corpus_fact_4_absent_constructs(parsed):
    stmts = [s for _, _, ir in parsed for s in ir.walk()]
    assert sum(ir.has_endshortcut for _, _, ir in parsed) == 0
    assert sum(isinstance(s, Comment) for s in stmts) == 0
    values = [w for s in stmts for v in _stmt_values(s) for w in walk_values(v)]
    assert sum(isinstance(w, HeadersLiteral) for w in values) == 0
    assert sum(isinstance(w, HandleRef) and w.kind in ("item", "index") for w in values) == 0


def test_corpus_fact_5_13_actions_and_parameters(parsed):
    actions = [a for _, _, ir in parsed for a in ir.all_actions()]
    assert (len(actions), len({a.action_name for a in actions})) == (8245, 488)
    params = [k for a in actions for k, _ in a.params]
    assert (len(params), len(set(params))) == (9609, 535)
    assert all(len(set(a.param_names)) == len(a.params) for a in actions)


def test_corpus_facts_8_9_10_control_flow(parsed):
    count = Counter()
    used_in = Counter()
    max_cases = 0
    for _, _, ir in parsed:
        kinds = set()
        for s in ir.walk():
            kind = type(s).__name__
            count[kind] += 1
            kinds.add(kind)
            if isinstance(s, IfBlock) and s.else_body is not None:
                count["else"] += 1
            if isinstance(s, MenuBlock):
                count["case"] += len(s.cases)
                max_cases = max(max_cases, len(s.cases))
        used_in.update(kinds)
    assert (count["IfBlock"], count["else"], used_in["IfBlock"]) == (440, 370, 309)
    assert (count["MenuBlock"], count["case"], used_in["MenuBlock"], max_cases) == (143, 678, 133, 23)
    assert (count["SetVariable"], used_in["SetVariable"]) == (253, 122)
    assert (count["ForeachBlock"], used_in["ForeachBlock"]) == (85, 72)
    assert (count["RepeatBlock"], used_in["RepeatBlock"]) == (7, 6)


def test_corpus_fact_11_nesting_depth(parsed):
    depths = Counter(_depth(ir.statements) for _, _, ir in parsed)
    assert dict(depths) == {0: 1216, 1: 357, 2: 74, 3: 19, 4: 4, 6: 1}


def test_corpus_fact_12_conditions(parsed):
    from sashimi.dsl.ast import condition_to_dialect

    ifs = [s for _, _, ir in parsed for s in ir.walk() if isinstance(s, IfBlock)]
    # The IR holds the true meaning (§1.7a): 12 "is less than", 1 ">=", 1 "is today" ...
    assert Counter(s.condition for s in ifs)["is_less_than"] == 12
    assert Counter(s.condition for s in ifs)["is_today"] == 1
    # ... and the corpus's own words are exactly the spec's counts.
    conds = Counter(condition_to_dialect(s.condition, SF) for s in ifs)
    assert conds == {
        "equals_string": 156,
        "contains": 70,
        "not_equal_string": 65,
        "does_not_have_any_value": 61,
        "has_any_value": 50,
        "is_greater_than": 20,
        "equals_number": 12,
        "does_not_contain": 4,
        "is_less_than": 1,
        "is_before": 1,
    }


def test_corpus_fact_14_parameter_value_kinds(parsed):
    kinds = Counter(type(v).__name__ for _, _, ir in parsed for a in ir.all_actions() for _, v in a.params)
    assert kinds == {
        "StringValue": 5538,
        "InterpolatedString": 1240,
        "DictLiteral": 1232,
        "BoolValue": 589,
        "HandleRef": 517,
        "NumberValue": 260,
        "QuantityLiteral": 118,
        "VarRef": 74,
        "ListLiteral": 41,
    }


def test_corpus_facts_15_18_references_and_quantities(parsed):
    uses = Counter()
    qty = Counter()
    for _, _, ir in parsed:
        for s in ir.walk():
            for v in _stmt_values(s):
                for w in walk_values(v):
                    if isinstance(w, HandleRef):
                        uses[f"@{w.kind}" if w.reserved else "named"] += 1
                    elif isinstance(w, VarRef):
                        uses["$var"] += 1
                    elif isinstance(w, QuantityLiteral):
                        qty["all"] += 1
                        qty["ref"] += isinstance(w.magnitude, VarRef | HandleRef)
    assert (uses["@prev"], uses["named"], uses["$var"], uses["@input"], uses["@date"]) == (
        1482,
        931,
        464,
        111,
        88,
    )
    assert (qty["all"], qty["ref"]) == (118, 47)


def _quoted_strings(ir):
    """Every double-quoted string of a program, decoded (header, labels, prompts, keys, values, units)."""
    yield ir.name
    for s in ir.walk():
        if isinstance(s, MenuBlock):
            if isinstance(s.prompt, str):
                yield s.prompt
            yield from (c.label for c in s.cases)
        stack = list(_stmt_values(s))
        while stack:
            v = stack.pop()
            if isinstance(v, StringValue):
                yield v.value
            elif isinstance(v, DictLiteral | HeadersLiteral):
                for key, item in v.entries:
                    yield key
                    stack.append(item)
            elif isinstance(v, ListLiteral):
                stack.extend(v.items)
            elif isinstance(v, QuantityLiteral):
                yield v.unit


def test_corpus_facts_19_22_escapes(parsed):
    chars = Counter()
    differs, targets = 0, set()
    for sid, _, ir in parsed:
        for s in _quoted_strings(ir):
            chars.update(ch for ch in s if ch in '\n"\t\\')
            # Rebuild the source spelling and decode it the reference's way (sequential replacement).
            raw = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
            sequential = (
                raw.replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n").replace("\\t", "\t")
            )
            if sequential != s:
                differs += 1
                targets.add(sid)
    # No raw LF/TAB occurs in quoted strings, so decoded characters count the escapes.
    assert (chars["\n"], chars['"'], chars["\t"], chars["\\"]) == (1240, 737, 310, 81)
    assert (differs, len(targets)) == (9, 7)


def test_corpus_facts_20_21_backtick_text(parsed):
    leading_ws, leading_targets, multiline_targets = 0, set(), set()
    for sid, _, ir in parsed:
        for s in ir.walk():
            for v in _stmt_values(s):
                for w in walk_values(v):
                    if not isinstance(w, InterpolatedString):
                        continue
                    for part in w.parts:
                        if isinstance(part, StringValue):
                            if part.value[:1] in (" ", "\t"):
                                leading_ws += 1
                                leading_targets.add(sid)
                            if "\n" in part.value:
                                multiline_targets.add(sid)
    assert (leading_ws, len(leading_targets)) == (170, 98)
    assert len(multiline_targets) == 68
