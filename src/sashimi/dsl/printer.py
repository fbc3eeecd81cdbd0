"""ShortcutIR -> canonical ShortcutDSL text (shortcutdsl.md §1.10).

The canonical spelling reproduces every train target byte-for-byte from its IR (printed in the
"shortcutforge" dialect, see `sashimi.dsl.ast`), and for every IR the printer accepts,
`parse(print_program(ir, dialect=d), dialect=d) == ir`. IRs that no text can express (a `}` inside
backtick text, a variable name with a space, a non-finite float, a condition the dialect has no word
for, ...) raise
`UnprintableError` instead of producing text that would not parse back.

Two normalisations are not errors: adjacent or empty text parts of an interpolated string print as one
run (the parser then sees one part), and duplicate parameter names print as written (the parser keeps
the last value).
"""

from __future__ import annotations

import math
import re

from sashimi.dsl.ast import (
    CANONICAL,
    SHORTCUTFORGE,
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
    check_dialect,
    condition_to_dialect,
)
from sashimi.errors import SashimiError

__all__ = ["UnprintableError", "format_value", "print_program", "quote"]

_IDENT = re.compile(r"[^\W\d]\w*\Z")  # as grammar.lark's IDENT (Unicode letters allowed)
_VALUE_WORDS = frozenset({"true", "false", "QTY", "HEADERS"})
_ACTION_NAME = re.compile(r"[A-Za-z_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?\Z")


class UnprintableError(SashimiError, ValueError):
    """The IR contains something ShortcutDSL cannot spell."""


def quote(text: str, *, escape_cr: bool = True) -> str:
    """A double-quoted DSL string: `\\` first, then `"`, LF, TAB and CR escaped; everything else verbatim.

    `escape_cr=False` writes CR raw, as the ShortcutForge dialect does (§1.4: 73 corpus strings hold a
    raw CR); a raw CR survives parsing too, but escaping it keeps every character visible and safe
    from editors and tools that normalise line endings (issue 11.6).
    """
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    if escape_cr:
        out = out.replace("\r", "\\r")
    return '"' + out + '"'


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


def _entries(entries: tuple[tuple[str, Value], ...], esc: bool) -> str:
    return "{" + ", ".join(f"{quote(k, escape_cr=esc)}: {_value(v, esc)}" for k, v in entries) + "}"


def format_value(value: Value, *, dialect: str = CANONICAL) -> str:
    """The canonical DSL spelling of one value node (`dialect` decides only how CR is written)."""
    return _value(value, check_dialect(dialect) != SHORTCUTFORGE)


def _value(value: Value, esc: bool) -> str:
    # A bool inside NumberValue is rejected by _number.
    if isinstance(value, StringValue):
        return quote(value.value, escape_cr=esc)
    if isinstance(value, NumberValue):
        return _number(value.value)
    if isinstance(value, BoolValue):
        return "true" if value.value else "false"
    if isinstance(value, VarRef | HandleRef):
        return _ref(value)
    if isinstance(value, InterpolatedString):
        return _interp(value)
    if isinstance(value, DictLiteral):
        return _entries(value.entries, esc)
    if isinstance(value, ListLiteral):
        return "[" + ", ".join(_value(v, esc) for v in value.items) + "]"
    if isinstance(value, QuantityLiteral):
        mag = value.magnitude
        mag_text = _ref(mag) if isinstance(mag, VarRef | HandleRef) else _number(mag)
        return f"QTY({mag_text}, {quote(value.unit, escape_cr=esc)})"
    if isinstance(value, HeadersLiteral):
        return "HEADERS " + _entries(value.entries, esc)
    raise UnprintableError(f"not a DSL value: {type(value).__name__}")


def _params(params: tuple[tuple[str, Value], ...], esc: bool) -> str:
    return "".join(f" {_name(k, 'parameter name')}={_value(v, esc)}" for k, v in params)


def _statements(body: tuple[Statement, ...], out: list[str], dialect: str, esc: bool) -> None:
    for stmt in body:
        if isinstance(stmt, ActionStatement):
            name = _name(stmt.action_name, "action name", _ACTION_NAME)
            out.append(f"ACTION {name}{_params(stmt.params, esc)}")
        elif isinstance(stmt, SetVariable):
            out.append(f"SET ${_name(stmt.var_name, 'variable name')} = {_value(stmt.value, esc)}")
        elif isinstance(stmt, IfBlock):
            word = condition_to_dialect(stmt.condition, dialect)
            if word is None:
                raise UnprintableError(f"condition {stmt.condition!r} has no word in the {dialect} dialect")
            head = f"IF {_ref(stmt.target)} {word}"
            if stmt.compare_value is not None:
                head += " " + _value(stmt.compare_value, esc)
            elif any(key in _VALUE_WORDS for key, _ in stmt.params):
                # Right after the condition these words start a comparison value, not a parameter.
                raise UnprintableError(
                    "an IF without a value cannot have a parameter named true/false/QTY/HEADERS"
                )
            out.append(head + _params(stmt.params, esc))
            _statements(stmt.then_body, out, dialect, esc)
            if stmt.else_body is not None:
                out.append("ELSE")
                _statements(stmt.else_body, out, dialect, esc)
            out.append("ENDIF")
        elif isinstance(stmt, MenuBlock):
            prompt = stmt.prompt
            head = "MENU " + (quote(prompt, escape_cr=esc) if isinstance(prompt, str) else _interp(prompt))
            out.append(head + _params(stmt.params, esc))
            for case in stmt.cases:
                out.append(f"CASE {quote(case.label, escape_cr=esc)}")
                _statements(case.body, out, dialect, esc)
            out.append("ENDMENU")
        elif isinstance(stmt, RepeatBlock):
            count = stmt.count
            count_text = _value(count, esc) if isinstance(count, NumberValue) else _ref(count)
            out.append(f"REPEAT {count_text}")
            _statements(stmt.body, out, dialect, esc)
            out.append("ENDREPEAT")
        elif isinstance(stmt, ForeachBlock):
            out.append(f"FOREACH {_ref(stmt.collection)}")
            _statements(stmt.body, out, dialect, esc)
            out.append("ENDFOREACH")
        elif isinstance(stmt, Comment):
            text = stmt.text
            if "\n" in text or text != text.strip(" \t\r"):
                raise UnprintableError(f"comment text cannot round-trip: {text[:40]!r}")
            out.append(f"# {text}" if text else "#")
        else:
            raise UnprintableError(f"not a DSL statement: {type(stmt).__name__}")


def print_program(ir: ShortcutIR, *, dialect: str = CANONICAL) -> str:
    """The canonical text of a program: LF line endings, no indentation, final LF (§1.10).

    `dialect` (see `sashimi.dsl.ast.DIALECTS`) chooses the condition words and whether CR is escaped:
    `print_program(parse(t, dialect=d), dialect=d) == t` for every canonical text `t` of dialect `d`.
    `ENDSHORTCUT` is printed only when the IR came from a text that had it (`has_endshortcut`).
    """
    esc = check_dialect(dialect) != SHORTCUTFORGE
    out = [f"SHORTCUT {quote(ir.name, escape_cr=esc)}"]
    _statements(ir.statements, out, dialect, esc)
    if ir.has_endshortcut:
        out.append("ENDSHORTCUT")
    return "\n".join(out) + "\n"
