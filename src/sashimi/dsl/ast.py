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

CONDITIONS = (
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
)


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


@dataclass(frozen=True)
class MenuCase:
    label: str
    body: tuple[Statement, ...]
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)


@dataclass(frozen=True)
class MenuBlock:
    prompt: str | InterpolatedString
    cases: tuple[MenuCase, ...]
    line: int | None = field(**_POS)
    span: Span | None = field(**_POS)


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
