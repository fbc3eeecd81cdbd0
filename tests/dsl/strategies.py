"""Hypothesis strategies for ShortcutIR programs (shortcutdsl.md §2).

Every program drawn from `programs()` is printable, and `parse(print_program(ir)) == ir` holds for it:
interpolated strings never have two adjacent or empty text parts, parameter names are unique per
action, comment texts carry no surrounding whitespace, floats are finite. Names mix ordinary
identifiers with words that are keywords elsewhere (`IF`, `true`, `contains`, ...) because those are
legal as names (§1.2).

Other test modules may import these (e.g. `from tests.dsl.strategies import programs, values`).
"""

from __future__ import annotations

from functools import cache

from hypothesis import strategies as st

from sashimi.dsl.ast import (
    CONDITIONS,
    RESERVED_HANDLES,
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

KEYWORD_LIKE = (
    "IF",
    "ELSE",
    "ENDIF",
    "ACTION",
    "SET",
    "MENU",
    "CASE",
    "QTY",
    "HEADERS",
    "true",
    "false",
    "contains",
    "equals_string",
    "previous",
    "items",
    "Input",
)

# Any character but surrogates (unencodable in the plist/JSON consumers that reuse these strategies).
_chars = st.characters(blacklist_categories=("Cs",))


_LETTERS = "ABCXYZabcxyz_"
_WORD = _LETTERS + "0189"


# Unicode names are an extension (issue 11.7): letters of any script, as exported variable names have.
UNICODE_NAMES = ("变量", "变量二", "café", "Ωmega", "naïve_2")


@cache
def idents() -> st.SearchStrategy[str]:
    """IDENT (§1.2), biased towards keyword-like words, with some Unicode names."""
    plain = st.builds(
        lambda a, b: a + b, st.sampled_from(_LETTERS), st.text(st.sampled_from(_WORD), max_size=8)
    )
    return st.one_of(st.sampled_from(KEYWORD_LIKE), st.sampled_from(UNICODE_NAMES), plain)


@cache
def block_param_names() -> st.SearchStrategy[str]:
    """Raw IF/MENU parameter names: IDENTs other than the value keywords `true`, `false`, `QTY` and
    `HEADERS` (after a bare IF condition those start a value) and the keys the compiler sets itself."""
    reserved = {"true", "false", "QTY", "HEADERS", "GroupingIdentifier", "WFControlFlowMode", "WFMenuPrompt"}
    return idents().filter(lambda name: name not in reserved)


@cache
def action_names() -> st.SearchStrategy[str]:
    dotted = st.builds(
        lambda a, mid, z: a + mid + z,
        st.sampled_from(_LETTERS),
        st.text(st.sampled_from(_WORD + ".-"), max_size=12),
        st.sampled_from(_WORD),
    )
    return st.one_of(
        st.sampled_from(("comment", "text.split", "true", "IF", "com.apple.x-y.Intent", "a")),
        dotted,
    )


@cache
def texts(max_size: int = 30) -> st.SearchStrategy[str]:
    """Content of a quoted string: anything, including quotes, backslashes, LF, TAB and CR."""
    special = st.sampled_from(['"', "\\", "\n", "\t", "\r", "\\n", '\\"', "{", "`", "\ufffc", "é"])
    pieces = st.one_of(special, st.text(_chars, max_size=6))
    return st.lists(pieces, max_size=max(1, max_size // 3)).map("".join)


@cache
def refs() -> st.SearchStrategy[VarRef | HandleRef]:
    return st.one_of(
        idents().map(VarRef),
        st.sampled_from(sorted(RESERVED_HANDLES)).map(HandleRef),
        idents().map(HandleRef),
    )


@cache
def numbers() -> st.SearchStrategy[int | float]:
    return st.one_of(
        st.integers(-(10**15), 10**15),
        st.floats(allow_nan=False, allow_infinity=False),
    )


@cache
def interpolations() -> st.SearchStrategy[InterpolatedString]:
    """Text runs and placeholders, never two text runs in a row (they would print as one)."""
    # Raw text runs: anything but a backtick or a brace; leading spaces and line breaks included.
    run = st.text(
        st.one_of(
            st.sampled_from(' \t\n\r\\"#'),
            st.characters(blacklist_categories=("Cs",), blacklist_characters="`{}"),
        ),
        min_size=1,
        max_size=10,
    ).map(StringValue)

    def build(items: list) -> InterpolatedString:
        parts: list = []
        for item in items:
            if isinstance(item, StringValue) and parts and isinstance(parts[-1], StringValue):
                continue
            parts.append(item)
        return InterpolatedString(tuple(parts))

    return st.lists(st.one_of(run, refs()), max_size=5).map(build)


@cache
def scalar_values() -> st.SearchStrategy:
    return st.one_of(
        texts().map(StringValue),
        numbers().map(NumberValue),
        st.booleans().map(BoolValue),
        refs(),
        interpolations(),
        st.builds(QuantityLiteral, st.one_of(numbers(), refs()), texts(12)),
    )


@cache
def values(max_leaves: int = 5) -> st.SearchStrategy:
    """Any value kind (§1.4), dict/list/HEADERS nested."""

    def extend(children):
        entries = st.lists(st.tuples(texts(12), children), max_size=3).map(tuple)
        return st.one_of(
            entries.map(DictLiteral),
            st.lists(children, max_size=3).map(lambda xs: ListLiteral(tuple(xs))),
            entries.map(HeadersLiteral),
        )

    return st.recursive(scalar_values(), extend, max_leaves=max_leaves)


@cache
def actions() -> st.SearchStrategy[ActionStatement]:
    params = st.lists(st.tuples(idents(), values()), max_size=4, unique_by=lambda p: p[0])
    return st.builds(ActionStatement, action_names(), params.map(tuple))


@cache
def comments() -> st.SearchStrategy[Comment]:
    body = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=20)
    return body.map(lambda t: t.strip(" \t\r")).map(Comment)


@cache
def statements(max_leaves: int = 6) -> st.SearchStrategy:
    """Any statement kind (§1.3), blocks nested inside blocks."""
    simple = st.one_of(actions(), st.builds(SetVariable, idents(), values()), comments())

    def extend(children):
        body = st.lists(children, max_size=3).map(tuple)
        cases = st.lists(st.builds(MenuCase, texts(12), body), min_size=0, max_size=3).map(tuple)
        block_params = st.lists(
            st.tuples(block_param_names(), values(3)), max_size=2, unique_by=lambda p: p[0]
        ).map(tuple)
        return st.one_of(
            st.builds(
                IfBlock,
                refs(),
                st.sampled_from(CONDITIONS),
                st.one_of(st.none(), values()),
                body,
                st.one_of(st.none(), body),
                params=block_params,
            ),
            st.builds(MenuBlock, st.one_of(texts(), interpolations()), cases, params=block_params),
            st.builds(RepeatBlock, st.one_of(numbers().map(NumberValue), refs()), body),
            st.builds(ForeachBlock, refs(), body),
        )

    return st.recursive(simple, extend, max_leaves=max_leaves)


@cache
def programs(max_statements: int = 4) -> st.SearchStrategy[ShortcutIR]:
    return st.builds(
        ShortcutIR,
        texts(),
        st.lists(statements(), max_size=max_statements).map(tuple),
        st.booleans(),
    )
