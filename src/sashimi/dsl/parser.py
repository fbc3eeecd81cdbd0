"""ShortcutDSL text -> ShortcutIR (shortcutdsl.md §1, §2).

The syntax lives in `grammar.lark` (lark LALR(1), contextual lexer). This module builds the IR while
the parser reduces (lark's inline transformer: no parse tree, no recursion, so arbitrarily long or
deeply nested input cannot overflow the Python stack), adds the checks a grammar cannot express, and
turns every failure into a one-line `DSLSyntaxError` located at `file:line:col`.

`reference_compat=True` switches off our extensions (§1.8.1) so that the accepted language equals the
reference parser's: no missing final newline, no blank lines before SHORTCUT, no `#` lines between MENU
and the first CASE, no exponent without a dot, no named handle that starts with a reserved word.
The two bug fixes (single-pass unescaping, whitespace kept in backtick text) are always on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput, UnexpectedToken

from sashimi.dsl.ast import (
    BLOCK_CLOSERS,
    CANONICAL,
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
    Span,
    StringValue,
    VarRef,
    check_dialect,
    condition_from_dialect,
)
from sashimi.errors import DSLSyntaxError, Location

__all__ = ["MAX_NESTING", "parse", "unescape"]

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

# Blocks and brackets together may nest this deep. Far above the data (block depth 6, a few dict
# levels) and far below what the recursive consumers of the IR (printer, compiler, dataclass __eq__)
# can handle on CPython's default stack.
MAX_NESTING = 100

# Python refuses int() of longer digit strings (CVE-2020-10735 limit is 4300); stay below it.
_MAX_INT_DIGITS = 4000

_BLOCK_CLOSER = BLOCK_CLOSERS
_OPENERS = frozenset(BLOCK_CLOSERS) | {"LBRACE", "LSQB", "LPAR"}
_CLOSERS = frozenset(BLOCK_CLOSERS.values()) | {"RBRACE", "RSQB", "RPAR"}

# `\r` is our extension (issue 11.6): the canonical printer escapes CR so that no string holds a raw
# CR; the corpus never contains the two characters `\r` (§1.4), so reading it is unchanged.
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


class _Failure(Exception):
    """Internal: a located failure found by the transformer or postlexer (converted in `parse`)."""

    def __init__(self, pos: int, message: str):
        super().__init__(message)
        self.pos = pos
        self.message = message


def unescape(body: str) -> str:
    """Single-pass unescaping of a quoted string's body: exactly \\" \\\\ \\n \\t \\r (§1.4).

    Any other backslash sequence stays verbatim, backslash included.
    """
    if "\\" not in body:
        return body
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), body)


def _count_params(children: list) -> int:
    """How many leading children are `param` results, i.e. come before the line's NL token."""
    n = 0
    while not isinstance(children[n], Token):
        n += 1
    return n


def _span(start_tok: Token, end: int) -> Span:
    return Span(start_tok.start_pos, end, start_tok.line, start_tok.column)


def _string(tok: Token) -> str:
    return unescape(tok.value[1:-1])


class _NestingGuard:
    """lark postlexer: rejects input nested deeper than MAX_NESTING before the parser sees it."""

    always_accept = ()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        for tok in stream:
            if tok.type in _OPENERS:
                depth += 1
                if depth > MAX_NESTING:
                    raise _Failure(tok.start_pos, f"nesting deeper than {MAX_NESTING} levels")
            elif tok.type in _CLOSERS:
                depth -= 1
            yield tok


class _ToIR(Transformer):
    """Inline LALR callbacks: one method per grammar rule, children in grammar order."""

    def __init__(self, reference_compat: bool, dialect: str):
        super().__init__(visit_tokens=False)
        self.compat = reference_compat
        self.dialect = dialect

    def _ident(self, tok: Token) -> str:
        if self.compat and not tok.value.isascii():
            raise _Failure(tok.start_pos, f"non-ASCII name {tok.value!r}")
        return tok.value

    def _params(self, params) -> tuple[tuple[tuple[str, object], ...], tuple[str, ...]]:
        merged: dict[str, object] = {}
        duplicates: list[str] = []
        for key, value in params:  # last value wins, first position kept (§1.3)
            if key in merged and key not in duplicates:
                duplicates.append(key)
            merged[key] = value
        return tuple(merged.items()), tuple(duplicates)

    # -- program structure

    def start(self, c):
        _leading_nl, name, body, endshortcut, _nl = c
        return ShortcutIR(name, body, has_endshortcut=endshortcut is not None)

    def header(self, c):
        return _string(c[1])

    def body(self, c):
        return tuple(c)

    def action(self, c):
        kw, name, *params, nl = c
        merged, duplicates = self._params(params)
        return ActionStatement(
            name.value,
            merged,
            line=kw.line,
            span=_span(kw, nl.start_pos),
            duplicate_params=duplicates,
        )

    def param(self, c):
        return (self._ident(c[0]), c[1])

    def set(self, c):
        kw, ident, value, nl = c
        return SetVariable(self._ident(ident), value, line=kw.line, span=_span(kw, nl.start_pos))

    def if_block(self, c):
        kw, target, cond, value, *rest = c
        n = _count_params(rest)
        params = rest[:n]
        _nl, then_body, else_body, end, _nl2 = rest[n:]
        condition = condition_from_dialect(cond.value, self.dialect)
        if condition is None:
            raise _Failure(
                cond.start_pos, f"condition {cond.value!r} is not a word of the {self.dialect} dialect"
            )
        if params and self.compat:
            raise _Failure(cond.end_pos, "parameters on an IF line")
        merged, _ = self._params(params)
        return IfBlock(
            target,
            condition,
            value,
            then_body,
            else_body,
            line=kw.line,
            span=_span(kw, end.end_pos),
            params=merged,
        )

    def else_part(self, c):
        return c[2]

    def menu_block(self, c):
        kw, prompt, *rest = c
        params = rest[: _count_params(rest)]
        end = rest[-2]
        cases = tuple(x for x in rest[:-2] if isinstance(x, MenuCase))
        if self.compat and not cases:
            raise _Failure(end.start_pos, "MENU without CASE")
        if self.compat and params:
            raise _Failure(kw.end_pos, "parameters on a MENU line")
        prompt = prompt.value if isinstance(prompt, StringValue) else prompt
        merged, _ = self._params(params)
        return MenuBlock(prompt, cases, line=kw.line, span=_span(kw, end.end_pos), params=merged)

    def menu_comment(self, c):
        # Extension (§1.3 "Our rule"): accepted and dropped; these lines are never compiled.
        if self.compat:
            raise _Failure(c[0].start_pos, "'#' line between MENU and its first CASE")
        return None

    def case(self, c):
        kw, label, nl, body = c
        end = body[-1].span.end if body else nl.start_pos
        return MenuCase(_string(label), body, line=kw.line, span=_span(kw, end))

    def repeat_block(self, c):
        kw, count, _nl, body, end, _nl2 = c
        return RepeatBlock(count, body, line=kw.line, span=_span(kw, end.end_pos))

    def foreach_block(self, c):
        kw, coll, _nl, body, end, _nl2 = c
        return ForeachBlock(coll, body, line=kw.line, span=_span(kw, end.end_pos))

    def comment(self, c):
        tok, nl = c
        text = tok.value.lstrip("#").strip(" \t\r")
        return Comment(text, line=tok.line, span=_span(tok, nl.start_pos))

    # -- values

    def string(self, c):
        return StringValue(_string(c[0]))

    def number(self, c):
        tok = c[0]
        text = tok.value
        if "." in text or "e" in text or "E" in text:
            if self.compat and "." not in text:
                raise _Failure(tok.start_pos, f"exponent without '.' in number {text!r}")
            value = float(text)
            if not math.isfinite(value):
                raise _Failure(tok.start_pos, f"number out of range: {text[:20]!r}")
            return NumberValue(value)
        if len(text) > _MAX_INT_DIGITS:
            raise _Failure(tok.start_pos, f"number has more than {_MAX_INT_DIGITS} digits")
        return NumberValue(int(text))

    def bool(self, c):
        return BoolValue(c[0].value == "true")

    def var(self, c):
        return VarRef(self._ident(c[0]))

    def handle(self, c):
        at, name = c[0], self._ident(c[1])
        if self.compat and name not in RESERVED_HANDLES:
            # The reference lexes the five reserved words greedily as fixed tokens (§1.5).
            for word in RESERVED_HANDLES:
                if name.startswith(word):
                    raise _Failure(at.start_pos, f"handle '@{name}' starts with the reserved word '{word}'")
        return HandleRef(name)

    def interp(self, c):
        return InterpolatedString(tuple(StringValue(x.value) if isinstance(x, Token) else x for x in c))

    def dict(self, c):
        return DictLiteral(tuple(e for e in c if e is not None))

    def dict_entry(self, c):
        return (_string(c[0]), c[1])

    def list(self, c):
        return ListLiteral(tuple(v for v in c if v is not None))

    def qty(self, c):
        _kw, magnitude, unit = c
        if isinstance(magnitude, NumberValue):
            magnitude = magnitude.value
        return QuantityLiteral(magnitude, _string(unit))

    def headers(self, c):
        return HeadersLiteral(c[1].entries)


def grammar_text() -> str:
    """grammar.lark with the condition words of `sashimi.dsl.ast.CONDITIONS` filled in."""
    # Longest first: the terminal is one regex alternation, and `is_less_than` must not win over
    # `is_less_than_or_equal`.
    words = " | ".join(f'"{w}"' for w in sorted(CONDITIONS, key=lambda w: (-len(w), w)))
    return GRAMMAR_PATH.read_text(encoding="utf-8").replace("__CONDITION_WORDS__", words)


@cache
def _parser(reference_compat: bool, dialect: str) -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        transformer=_ToIR(reference_compat, dialect),
        postlex=_NestingGuard(),
        maybe_placeholders=True,
    )


def parse(
    text: str, *, file: str = "<input>", reference_compat: bool = False, dialect: str = CANONICAL
) -> ShortcutIR:
    """Parse ShortcutDSL text (or UTF-8 bytes) into a ShortcutIR.

    `dialect` names the condition words the text was written in (`sashimi.dsl.ast.DIALECTS`):
    "canonical" (Apple's real codes, the default) or "shortcutforge" (the real corpus, whose
    `equals_number` / `is_less_than` / `is_before` mean "is less than" / "is greater than or equal
    to" / "is today"). The IR always holds canonical words.

    Statements carry `line` and `span`; `#` lines between MENU and its first CASE are dropped. Raises
    `DSLSyntaxError` (one line, `file:line:col: unexpected X — expected ...`) for anything that is not
    a program, and never any other exception.
    """
    file = file if isinstance(file, str) else str(file)
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DSLSyntaxError(f"input is not UTF-8 (byte {exc.start})", Location(file, 1, 1)) from None
    if not isinstance(text, str):
        raise DSLSyntaxError(f"expected DSL text, got {type(text).__name__}", Location(file))

    check_dialect(dialect)
    if not text.strip():
        raise DSLSyntaxError('empty program — expected SHORTCUT "<name>"', Location(file, 1, 1))
    source = text
    if reference_compat:
        stripped = text.lstrip(" \t")
        if stripped.startswith(("\n", "\r\n")):
            raise _located(text, file, len(text) - len(stripped), "blank line before SHORTCUT")
    elif not text.endswith("\n"):
        source = text + "\n"  # extension: end of input terminates the last line

    try:
        return _parser(reference_compat, dialect).parse(source)
    except _Failure as exc:
        raise _located(text, file, exc.pos, exc.message) from None
    except UnexpectedInput as exc:
        pos, message = _describe(exc, text, source)
        raise _located(text, file, pos, message) from None
    except RecursionError:  # defensive: the parser is iterative; should be unreachable
        raise _located(text, file, 0, "input too deeply nested") from None


# ------------------------------------------------------------------------------------ diagnostics

_DISPLAY = {
    "NL": "line break",
    "$END": "end of input",
    "<END-OF-FILE>": "end of input",
    "EQUALS": "'='",
    "DOLLAR": "'$'",
    "AT": "'@'",
    "BACKTICK": "'`'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "COLON": "':'",
    "TEXT": "text",
    "TRUE": "true",
    "FALSE": "false",
}
_WORD_RE = re.compile(r"[A-Za-z0-9_]+|.", re.DOTALL)
_STRING_RE = re.compile(r'"[^"\\]*(?:\\[^\n][^"\\]*)*"')  # as grammar.lark's STRING
_BREAK_RE = re.compile(r"[ \t]*(\r?\n)")
_BRACKETS = frozenset({"LBRACE", "LSQB", "LPAR"})
_OPEN_KINDS = frozenset(_BLOCK_CLOSER) | _BRACKETS | {"BACKTICK"}
_STRAY = {
    "ENDIF": "ENDIF without an open IF",
    "ELSE": "ELSE without an open IF",
    "ENDMENU": "ENDMENU without an open MENU",
    "CASE": "CASE outside a MENU",
    "ENDREPEAT": "ENDREPEAT without an open REPEAT",
    "ENDFOREACH": "ENDFOREACH without an open FOREACH",
}


def _show(fragment: str, limit: int = 24) -> str:
    """A short, single-line, quoted rendering of an offending piece of input."""
    if len(fragment) > limit:
        fragment = fragment[: limit - 1] + "…"
    out = []
    for ch in fragment:
        if ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif not ch.isprintable():  # control characters, BOM, lone surrogates, U+2028, ...
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def _expected(names) -> str:
    shown = sorted({_DISPLAY.get(n, n) for n in names if n != "WS"})
    if not shown:
        return ""
    if len(shown) == 1:
        return f" — expected {shown[0]}"
    return " — expected one of: " + ", ".join(shown)


def _open_token(exc: UnexpectedInput) -> Token | None:
    """The innermost unfinished block, backtick string or bracket at the point of failure.

    Tokens of rules that are not yet reduced are still on the LALR value stack, so the last opener
    found there is the innermost construct still waiting for its closer.
    """
    state = getattr(exc, "interactive_parser", None)
    stack = getattr(getattr(state, "parser_state", None), "value_stack", None) or ()
    for item in reversed(stack):
        if isinstance(item, Token) and item.type in _OPEN_KINDS:
            return item
    return None


def _describe(exc: UnexpectedInput, text: str, source: str) -> tuple[int, str]:
    """(offset, one-line message) for a lark error.

    The offending input is described from the source text itself: when the current state's lexer
    fails, lark re-lexes with all terminals, and there the catch-all TEXT terminal usually wins, so its
    token says little about what is actually there.
    """
    real: Token | None = None
    if isinstance(exc, UnexpectedToken):
        expected = set(exc.expected)
        tok = exc.token
        if tok.type == "$END":
            pos = len(text)
        else:
            pos = tok.start_pos or 0
            if tok.type != "TEXT":
                real = tok
    else:
        expected = set(getattr(exc, "allowed", None) or ())
        pos = getattr(exc, "pos_in_stream", 0) or 0
    expected.discard("WS")

    word = ""
    if pos >= len(text):  # includes the line break appended for a missing final newline
        pos, what = len(text), "end of input"
    elif (m := _BREAK_RE.match(source, pos)) is not None:
        pos, what = m.start(1), "line break"
    elif source[pos] == '"' and (real is None or real.type != "STRING"):
        string = _STRING_RE.match(source, pos)
        if string is None:
            return pos, "unterminated string"
        word = string.group(0)
        what = _show(word)
    else:
        word = real.value if real is not None else _WORD_RE.match(source, pos).group(0)
        what = _show(word)

    message = f"unexpected {what}{_expected(expected)}"
    opened = _open_token(exc)
    line_start = source.rfind("\n", 0, pos) + 1
    if word == "IF" and source[line_start:pos].strip() == "ELSE":
        message += " (there is no ELSE IF: nest an IF inside the ELSE, closed by its own ENDIF)"
    elif word in ("True", "False", "TRUE", "FALSE"):
        message += " (booleans are lower-case: true / false)"
    elif word == "#":
        message += " (a '#' comment must be on a line of its own)"
    elif what == "line break" and opened is not None and opened.type in _BRACKETS:
        message += (
            f" ('{opened.value}' at {opened.line}:{opened.column} is not closed on its line;"
            " dict and list literals must stay on one line)"
        )
    elif opened is not None and opened.type == "BACKTICK" and "BACKTICK" in expected:
        message += f" (backtick string opened at {opened.line}:{opened.column} is not closed)"
    elif word == "ENDMENU" and opened is not None and opened.type == "MENU":
        message += f" (MENU at line {opened.line} needs at least one CASE)"
    elif opened is not None and _BLOCK_CLOSER.get(opened.type) in expected:
        if word == "ELSE" and opened.type == "IF":
            message += f" (IF at line {opened.line} already has an ELSE)"
        else:
            message += f" ({opened.type} at line {opened.line} is not closed)"
    elif word in _STRAY and word not in expected:
        message += f" ({_STRAY[word]})"
    return pos, message


def _located(text: str, file: str, pos: int, message: str) -> DSLSyntaxError:
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return DSLSyntaxError(message, Location(file, line, col))
