"""ShortcutIR -> canonical ShortcutDSL text (shortcutdsl.md §1.10).

The canonical spelling reproduces every train target byte-for-byte from its IR, and for every IR the
printer accepts, `parse(print_program(ir)) == ir`. IRs that no text can express (a `}` inside backtick
text, a variable name with a space, a non-finite float, a menu without cases, ...) raise
`UnprintableError` instead of producing text that would not parse back.

Two normalisations are not errors: adjacent or empty text parts of an interpolated string print as one
run (the parser then sees one part), and duplicate parameter names print as written (the parser keeps
the last value).
"""

from __future__ import annotations

import math
import re

from sashimi.dsl.ast import (
    CONDITIONS,
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
    NumberValue,
    QuantityLiteral,
    RepeatBlock,
    SetVariable,
    ShortcutIR,
    Statement,
    StringValue,
    Value,
    VarRef,
)
from sashimi.errors import SashimiError

__all__ = ["UnprintableError", "format_value", "print_program", "quote"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ACTION_NAME = re.compile(r"[A-Za-z_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?\Z")
_CONDITIONS = frozenset(CONDITIONS)


class UnprintableError(SashimiError, ValueError):
    """The IR contains something ShortcutDSL cannot spell."""


def quote(text: str) -> str:
    """A double-quoted DSL string: `\\` first, then `"`, LF and TAB escaped; everything else verbatim."""
    return (
        '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'
    )


def _name(name: str, what: str, pattern: re.Pattern[str] = _IDENT) -> str:
    if not isinstance(name, str) or not pattern.match(name):
        raise UnprintableError(f"{what} {name!r} is not a valid DSL name")
    return name


def _number(value: int | float) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnprintableError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise UnprintableError(f"non-finite number {value!r} has no DSL spelling")
    text = repr(value)
    if "e" in text and "." not in text:
        # `1e+16` -> `1.0e+16`: the reference lexer cannot convert an exponent without a dot (§1.4).
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _ref(ref: VarRef | HandleRef) -> str:
    if isinstance(ref, VarRef):
        return "$" + _name(ref.name, "variable name")
    if isinstance(ref, HandleRef):
        return "@" + _name(ref.kind, "handle name")
    raise UnprintableError(f"expected a $variable or @handle, got {type(ref).__name__}")


def _interp(value: InterpolatedString) -> str:
    out = ["`"]
    for part in value.parts:
        if isinstance(part, StringValue):
            if any(ch in part.value for ch in "`{}"):
                raise UnprintableError(f"backtick text cannot contain '`', '{{' or '}}': {part.value[:40]!r}")
            out.append(part.value)
        else:
            out.append("{" + _ref(part) + "}")
    out.append("`")
    return "".join(out)


def _entries(entries: tuple[tuple[str, Value], ...]) -> str:
    return "{" + ", ".join(f"{quote(k)}: {format_value(v)}" for k, v in entries) + "}"


def format_value(value: Value) -> str:
    """The canonical DSL spelling of one value node."""
    # Order matters: BoolValue before NumberValue is not needed (distinct classes), but a bool inside
    # NumberValue is rejected by _number.
    if isinstance(value, StringValue):
        return quote(value.value)
    if isinstance(value, NumberValue):
        return _number(value.value)
    if isinstance(value, BoolValue):
        return "true" if value.value else "false"
    if isinstance(value, VarRef | HandleRef):
        return _ref(value)
    if isinstance(value, InterpolatedString):
        return _interp(value)
    if isinstance(value, DictLiteral):
        return _entries(value.entries)
    if isinstance(value, ListLiteral):
        return "[" + ", ".join(format_value(v) for v in value.items) + "]"
    if isinstance(value, QuantityLiteral):
        mag = value.magnitude
        mag_text = _ref(mag) if isinstance(mag, VarRef | HandleRef) else _number(mag)
        return f"QTY({mag_text}, {quote(value.unit)})"
    if isinstance(value, HeadersLiteral):
        return "HEADERS " + _entries(value.entries)
    raise UnprintableError(f"not a DSL value: {type(value).__name__}")


def _statements(body: tuple[Statement, ...], out: list[str]) -> None:
    for stmt in body:
        if isinstance(stmt, ActionStatement):
            name = _name(stmt.action_name, "action name", _ACTION_NAME)
            params = "".join(f" {_name(k, 'parameter name')}={format_value(v)}" for k, v in stmt.params)
            out.append(f"ACTION {name}{params}")
        elif isinstance(stmt, SetVariable):
            out.append(f"SET ${_name(stmt.var_name, 'variable name')} = {format_value(stmt.value)}")
        elif isinstance(stmt, IfBlock):
            if stmt.condition not in _CONDITIONS:
                raise UnprintableError(f"unknown condition {stmt.condition!r}")
            head = f"IF {_ref(stmt.target)} {stmt.condition}"
            if stmt.compare_value is not None:
                head += " " + format_value(stmt.compare_value)
            out.append(head)
            _statements(stmt.then_body, out)
            if stmt.else_body is not None:
                out.append("ELSE")
                _statements(stmt.else_body, out)
            out.append("ENDIF")
        elif isinstance(stmt, MenuBlock):
            if not stmt.cases:
                raise UnprintableError("a MENU needs at least one CASE")
            prompt = stmt.prompt
            out.append("MENU " + (quote(prompt) if isinstance(prompt, str) else _interp(prompt)))
            for case in stmt.cases:
                out.append(f"CASE {quote(case.label)}")
                _statements(case.body, out)
            out.append("ENDMENU")
        elif isinstance(stmt, RepeatBlock):
            count = stmt.count
            count_text = format_value(count) if isinstance(count, NumberValue) else _ref(count)
            out.append(f"REPEAT {count_text}")
            _statements(stmt.body, out)
            out.append("ENDREPEAT")
        elif isinstance(stmt, ForeachBlock):
            out.append(f"FOREACH {_ref(stmt.collection)}")
            _statements(stmt.body, out)
            out.append("ENDFOREACH")
        elif isinstance(stmt, Comment):
            text = stmt.text
            if "\n" in text or text != text.strip(" \t\r"):
                raise UnprintableError(f"comment text cannot round-trip: {text[:40]!r}")
            out.append(f"# {text}" if text else "#")
        else:
            raise UnprintableError(f"not a DSL statement: {type(stmt).__name__}")


def print_program(ir: ShortcutIR) -> str:
    """The canonical text of a program: LF line endings, no indentation, final LF (§1.10).

    `ENDSHORTCUT` is printed only when the IR came from a text that had it (`has_endshortcut`).
    """
    out = [f"SHORTCUT {quote(ir.name)}"]
    _statements(ir.statements, out)
    if ir.has_endshortcut:
        out.append("ENDSHORTCUT")
    return "\n".join(out) + "\n"
