"""ShortcutIR: the typed, immutable tree a ShortcutDSL program parses to (shortcutdsl.md §2).

Every node is a frozen dataclass and every sequence is a tuple, so IRs hash, compare by value
and can be shared freely. Source positions (`line`, `span`) are kept for diagnostics but are
excluded from equality: two programs are equal when they mean the same, wherever they were written.

Python's `bool` is a subclass of `int`: always test for `bool` before `int`/`float`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Union

RESERVED_HANDLES = frozenset({"prev", "item", "index", "input", "date"})

# The statement keywords of grammar.lark, and each block opener's closer: the one table the parser,
# linter, typed IR and lowering read (tests/dsl/test_grammar_tables.py checks them against the grammar).
KEYWORDS = (
    "SHORTCUT",
    "ACTION",
    "SET",
    "IF",
    "ELSE",
    "ENDIF",
    "MENU",
    "CASE",
    "ENDMENU",
    "REPEAT",
    "ENDREPEAT",
    "FOREACH",
    "ENDFOREACH",
    "ENDSHORTCUT",
)
BLOCK_CLOSERS = {"IF": "ENDIF", "MENU": "ENDMENU", "REPEAT": "ENDREPEAT", "FOREACH": "ENDFOREACH"}


@dataclass(frozen=True)
class ConditionSpec:
    """One condition word of the canonical language and its Apple encoding (shortcutdsl.md §1.7a).

    `value_key` is the `conditional` parameter that holds the comparison value (None: the condition
    takes none); `upper_key` the one holding the second bound of `is_between`, whose comparison value
    is written as a two-item list, `IF $x is_between [1, 10]`.
    """

    word: str
    code: int | None  # None: `raw_condition`, whose start-marker keys are all raw IF parameters
    value_key: str | None
    meaning: str
    upper_key: str | None = None


# The single source of truth for condition words: parser (grammar terminal), printer, validator,
# linter, compiler, decompiler and the typed IR all read this table. Codes are Apple's real
# `WFCondition` codes (§1.7a). Words name the compared type where Apple's code is shared (4 / 5 on
# text, numbers, enumerations, booleans and dates; 0-3 and 1003 on numbers and dates), because the
# value key decides how Apple reads the value and must survive a round trip.
CONDITION_TABLE: tuple[ConditionSpec, ...] = (
    ConditionSpec("is_less_than", 0, "WFNumberValue", "is less than"),
    ConditionSpec("is_less_than_or_equal", 1, "WFNumberValue", "is less than or equal to"),
    ConditionSpec("is_greater_than", 2, "WFNumberValue", "is greater than"),
    ConditionSpec("is_greater_than_or_equal", 3, "WFNumberValue", "is greater than or equal to"),
    ConditionSpec("equals_number", 4, "WFNumberValue", "is (number)"),
    ConditionSpec("not_equal_number", 5, "WFNumberValue", "is not (number)"),
    ConditionSpec("is_between", 1003, "WFNumberValue", "is between (numbers)", "WFAnotherNumber"),
    ConditionSpec("equals_string", 4, "WFConditionalActionString", "is (text)"),
    ConditionSpec("not_equal_string", 5, "WFConditionalActionString", "is not (text)"),
    ConditionSpec("begins_with", 8, "WFConditionalActionString", "begins with"),
    ConditionSpec("ends_with", 9, "WFConditionalActionString", "ends with"),
    ConditionSpec("contains", 99, "WFConditionalActionString", "contains"),
    ConditionSpec("does_not_contain", 999, "WFConditionalActionString", "does not contain"),
    ConditionSpec("equals_enum", 4, "WFEnumeration", "is (enumeration)"),
    ConditionSpec("not_equal_enum", 5, "WFEnumeration", "is not (enumeration)"),
    ConditionSpec("equals_link_enum", 4, "WFLinkEnumeration", "is (app-intent enumeration)"),
    ConditionSpec("not_equal_link_enum", 5, "WFLinkEnumeration", "is not (app-intent enumeration)"),
    ConditionSpec("equals_bool", 4, "WFBooleanValue", "is (boolean)"),
    ConditionSpec("not_equal_bool", 5, "WFBooleanValue", "is not (boolean)"),
    ConditionSpec("is_before", 0, "WFDate", "is before (date)"),
    ConditionSpec("is_on_or_before", 1, "WFDate", "is on or before (date)"),
    ConditionSpec("is_after", 2, "WFDate", "is after (date)"),
    ConditionSpec("is_on_or_after", 3, "WFDate", "is on or after (date)"),
    ConditionSpec("equals_date", 4, "WFDate", "is (date)"),
    ConditionSpec("not_equal_date", 5, "WFDate", "is not (date)"),
    ConditionSpec("is_between_dates", 1003, "WFDate", "is between (dates)", "WFAnotherDate"),
    ConditionSpec("is_today", 1002, None, "is today"),
    ConditionSpec("has_any_value", 100, None, "has any value"),
    ConditionSpec("does_not_have_any_value", 101, None, "does not have any value"),
    # Not an Apple condition: the IF's condition lives entirely in its raw parameters (the newer
    # multi-condition `WFConditions` form, or a `WFCondition` no word stands for, such as '' or 1001).
    # The compiler then writes neither WFCondition nor WFInput itself; the target is not compiled.
    ConditionSpec("raw_condition", None, None, "given by the raw parameters"),
)
CONDITION_SPECS: dict[str, ConditionSpec] = {spec.word: spec for spec in CONDITION_TABLE}
CONDITIONS: tuple[str, ...] = tuple(spec.word for spec in CONDITION_TABLE)
# Conditions that take two bounds as a two-item list (`IF $x is_between [1, 10]`).
RANGE_CONDITIONS = frozenset(spec.word for spec in CONDITION_TABLE if spec.upper_key)

# ---------------------------------------------------------------------------- dialects
#
# The real corpus (ShortcutForge's `train.jsonl`) was written by a decompiler whose condition table
# was wrong for three codes (§1.7a): its `equals_number` is Apple's 0 ("is less than"), its
# `is_less_than` is 3 ("is greater than or equal to") and its `is_before` is 1002 ("is today"). Its
# compiled plists are right; its words are not. A *dialect* is the word list a text was written in:
# parsing maps the dialect's words onto canonical ones (so the IR, the typed IR and everything
# downstream carry the true meaning) and printing maps back (so corpus text prints byte for byte).
# Everything else in the language is the same in both dialects, except that the canonical printer
# escapes CR as `\r` while the ShortcutForge dialect writes it raw (as its decompiler did).
CANONICAL = "canonical"
SHORTCUTFORGE = "shortcutforge"
DIALECT_CONDITIONS: dict[str, dict[str, str]] = {
    CANONICAL: {word: word for word in CONDITIONS},
    SHORTCUTFORGE: {
        "equals_number": "is_less_than",  # code 0
        "is_greater_than": "is_greater_than",  # 2
        "is_less_than": "is_greater_than_or_equal",  # 3
        "equals_string": "equals_string",  # 4, text
        "not_equal_string": "not_equal_string",  # 5, text
        "contains": "contains",  # 99
        "does_not_contain": "does_not_contain",  # 999
        "has_any_value": "has_any_value",  # 100
        "does_not_have_any_value": "does_not_have_any_value",  # 101
        "is_before": "is_today",  # 1002
    },
}
DIALECTS: tuple[str, ...] = tuple(DIALECT_CONDITIONS)


def check_dialect(dialect: str) -> str:
    if dialect not in DIALECT_CONDITIONS:
        raise ValueError(f"unknown dialect {dialect!r} (known: {', '.join(DIALECTS)})")
    return dialect


def condition_from_dialect(word: str, dialect: str) -> str | None:
    """The canonical condition a word of `dialect` means, or None if the dialect has no such word."""
    return DIALECT_CONDITIONS[check_dialect(dialect)].get(word)


def condition_to_dialect(condition: str, dialect: str) -> str | None:
    """How `dialect` writes a canonical condition, or None if it cannot express it."""
    for word, canonical in DIALECT_CONDITIONS[check_dialect(dialect)].items():
        if canonical == condition:
            return word
    return None


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class StringValue:
    value: str  # unescaped text


@dataclass(frozen=True)
class NumberValue:
    value: int | float


@dataclass(frozen=True)
class BoolValue:
    value: bool


@dataclass(frozen=True)
class VarRef:
    name: str  # without the `$`


@dataclass(frozen=True)
class HandleRef:
    kind: str  # "prev" | "item" | "index" | "input" | "date" | a custom name, case-sensitive

    @property
    def reserved(self) -> bool:
        return self.kind in RESERVED_HANDLES


Ref = Union[VarRef, HandleRef]  # noqa: UP007 - used at runtime in isinstance checks


@dataclass(frozen=True)
class InterpolatedString:
    parts: tuple[StringValue | VarRef | HandleRef, ...]  # text parts raw, whitespace kept


@dataclass(frozen=True)
class DictLiteral:
    entries: tuple[tuple[str, Value], ...]  # ordered, duplicates kept


@dataclass(frozen=True)
class ListLiteral:
    items: tuple[Value, ...]


@dataclass(frozen=True)
class QuantityLiteral:
    magnitude: int | float | VarRef | HandleRef
    unit: str


@dataclass(frozen=True)
class HeadersLiteral:
    entries: tuple[tuple[str, Value], ...]


Value = Union[  # noqa: UP007
    StringValue,
    NumberValue,
    BoolValue,
    VarRef,
    HandleRef,
    InterpolatedString,
    DictLiteral,
    ListLiteral,
    QuantityLiteral,
    HeadersLiteral,
]


# ----------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Span:
    """Character offsets [start, end) into the source text, plus the 1-based start line/column."""

    start: int
    end: int
    line: int
    col: int


_POS = {"compare": False, "repr": False, "default": None}


@dataclass(frozen=True)
class ActionStatement:
    action_name: str  # as written
    params: tuple[tuple[str, Value], ...] = ()  # ordered, unique names (last value wins at parse)
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)
    # Names the source text gave more than once (the parser keeps the last value); for the
    # validator's `duplicate_param` warning. Not part of the program's meaning.
    duplicate_params: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def param(self, name: str) -> Value | None:
        for key, value in self.params:
            if key == name:
                return value
        return None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.params)


@dataclass(frozen=True)
class SetVariable:
    var_name: str  # without the `$`
    value: Value
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)


@dataclass(frozen=True)
class IfBlock:
    target: VarRef | HandleRef
    condition: str  # one of CONDITIONS
    compare_value: Value | None
    then_body: tuple[Statement, ...]
    else_body: tuple[Statement, ...] | None  # None: no ELSE; (): ELSE with an empty body
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)
    # Raw parameters of the IF's start marker that the condition syntax cannot say (legacy flags,
    # multi-condition `WFConditions`, a non-numeric `WFCondition`): compiled verbatim, overriding
    # what the condition would write, so decompile -> compile keeps every key (§1.7a).
    params: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True)
class MenuCase:
    label: str
    body: tuple[Statement, ...]
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)


@dataclass(frozen=True)
class MenuBlock:
    prompt: str | InterpolatedString
    cases: tuple[MenuCase, ...]  # may be empty: real files contain menus without items
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)
    params: tuple[tuple[str, Value], ...] = ()  # raw start-marker parameters (as IfBlock.params)


@dataclass(frozen=True)
class RepeatBlock:
    count: NumberValue | VarRef | HandleRef
    body: tuple[Statement, ...]
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)


@dataclass(frozen=True)
class ForeachBlock:
    collection: VarRef | HandleRef
    body: tuple[Statement, ...]
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)


@dataclass(frozen=True)
class Comment:
    """A `# text` line: kept in the IR, never compiled (not Apple's Comment action)."""

    text: str
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)


Statement = Union[  # noqa: UP007
    ActionStatement, SetVariable, IfBlock, MenuBlock, RepeatBlock, ForeachBlock, Comment
]


@dataclass(frozen=True)
class ShortcutIR:
    name: str
    statements: tuple[Statement, ...]
    has_endshortcut: bool = field(default=False, compare=False)

    # -- derived queries (shortcutdsl.md §2.3) --

    def walk(self) -> Iterator[Statement]:
        """Every statement, depth-first in source order (blocks before their bodies)."""
        yield from walk_statements(self.statements)

    def all_actions(self) -> list[ActionStatement]:
        return [s for s in self.walk() if isinstance(s, ActionStatement)]

    def action_count(self) -> int:
        """ACTION and SET statements, recursively (the reference's definition)."""
        return sum(isinstance(s, ActionStatement | SetVariable) for s in self.walk())

    def defined_variables(self) -> set[str]:
        """SET names plus `WFVariableName` of setvariable/appendvariable actions."""
        names: set[str] = set()
        for s in self.walk():
            if isinstance(s, SetVariable):
                names.add(s.var_name)
            elif isinstance(s, ActionStatement) and s.action_name in {
                "setvariable",
                "appendvariable",
                "is.workflow.actions.setvariable",
                "is.workflow.actions.appendvariable",
            }:
                v = s.param("WFVariableName")
                if isinstance(v, StringValue):
                    names.add(v.value)
        return names


def child_bodies(stmt: Statement) -> Iterator[tuple[str, tuple[Statement, ...]]]:
    """`(key, body)` for each body of a block statement, in source order; keys "then", "else" (when
    present), "case:<i>" and "body" (loops). The one walk over the tree's shape."""
    if isinstance(stmt, IfBlock):
        yield "then", stmt.then_body
        if stmt.else_body is not None:
            yield "else", stmt.else_body
    elif isinstance(stmt, MenuBlock):
        for i, case in enumerate(stmt.cases):
            yield f"case:{i}", case.body
    elif isinstance(stmt, RepeatBlock | ForeachBlock):
        yield "body", stmt.body


def with_child_body(stmt: Statement, key: str, body: tuple[Statement, ...]) -> Statement:
    """`stmt` with the body named `key` (as `child_bodies` names it) replaced by `body`."""
    if key == "then":
        return replace(stmt, then_body=body)
    if key == "else":
        return replace(stmt, else_body=body)
    if key == "body":
        return replace(stmt, body=body)
    i = int(key.split(":", 1)[1])
    cases = list(stmt.cases)
    cases[i] = replace(cases[i], body=body)
    return replace(stmt, cases=tuple(cases))


def walk_statements(statements: tuple[Statement, ...]) -> Iterator[Statement]:
    """Every statement, depth-first in source order."""
    for stmt in statements:
        yield stmt
        for _, body in child_bodies(stmt):
            yield from walk_statements(body)


def walk_values(value: Value) -> Iterator[Value]:
    """The value itself and every value nested in it (dict/list entries, interpolation parts)."""
    yield value
    if isinstance(value, InterpolatedString):
        yield from value.parts
    elif isinstance(value, DictLiteral | HeadersLiteral):
        for _, v in value.entries:
            yield from walk_values(v)
    elif isinstance(value, ListLiteral):
        for v in value.items:
            yield from walk_values(v)
    elif isinstance(value, QuantityLiteral) and isinstance(value.magnitude, VarRef | HandleRef):
        yield value.magnitude
