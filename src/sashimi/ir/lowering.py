"""Typed IR -> ShortcutIR -> DSL text: the deterministic inverse of `sashimi.ir.typed.to_typed`.

Lowering needs no catalog: the action token carries the canonical DSL spelling and `spellings` restores
any other spelling. A malformed token sequence (e.g. from a model, or a hand-edited JSONL file) raises
one `DataError` naming the token position, never an exception from deep inside.
"""

from __future__ import annotations

import re

from sashimi.dsl.ast import (
    BLOCK_CLOSERS,
    CONDITIONS,
    ActionStatement,
    BoolValue,
    Comment,
    ForeachBlock,
    HandleRef,
    IfBlock,
    InterpolatedString,
    MenuBlock,
    MenuCase,
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
from sashimi.dsl.printer import print_program
from sashimi.errors import DataError, Location
from sashimi.ir.typed import (
    ACTION_PREFIX,
    ENUM_PREFIX,
    KEY_PREFIX,
    TIER_VALUE,
    TypedProgram,
    TypedToken,
    _map_variables,
    is_builtin_variable,
)

_ABSTRACT_VARIABLE = re.compile(r"VAR_([1-9][0-9]*)")
_IDENT = re.compile(r"[^\W\d]\w*")  # as the DSL grammar's IDENT (Unicode letters allowed)
_CONDITIONS = frozenset(CONDITIONS)
_BLOCK_ENDS = frozenset(BLOCK_CLOSERS.values()) | {"ELSE", "CASE", "END"}


def lower(typed: TypedProgram, *, location: Location | None = None) -> ShortcutIR:
    """Rebuild the ShortcutIR a typed program encodes."""
    return _Lowerer(typed, location or Location("<typed-ir>")).program()


def lower_to_text(
    typed: TypedProgram, *, location: Location | None = None, dialect: str = "canonical"
) -> str:
    """Canonical DSL text of a typed program (lowering, then the canonical printer).

    `dialect` is the printer's (`sashimi.dsl.ast.DIALECTS`): "shortcutforge" reproduces real-corpus
    text byte for byte; the typed IR itself always holds canonical condition words."""
    return print_program(lower(typed, location=location), dialect=dialect)


class _Lowerer:
    def __init__(self, typed: TypedProgram, loc: Location):
        self.typed = typed
        self.tokens = typed.tokens
        self.loc = loc
        self.pos = 0
        self.action_ordinal = 0
        self.spellings = dict(typed.spellings)

    # -- token access --

    def fail(self, message: str) -> DataError:
        where = f"token {self.pos}" if self.pos < len(self.tokens) else "end of tokens"
        return DataError(f"typed IR: {message} at {where}", self.loc)

    def peek(self) -> TypedToken | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> TypedToken:
        token = self.peek()
        if token is None:
            raise self.fail("unexpected end of tokens")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text or token.tier == TIER_VALUE:
            self.pos -= 1
            raise self.fail(f"expected {text!r}, got {token.text!r}")

    def slot(self, kind: str):
        token = self.take()
        if token.tier != TIER_VALUE or token.slot is None or token.text != f"<{kind}>":
            self.pos -= 1
            raise self.fail(f"expected a <{kind}> slot, got {token.text!r}")
        if not 0 <= token.slot < len(self.typed.slots):
            raise self.fail(f"slot index {token.slot} out of range")
        slot = self.typed.slots[token.slot]
        if slot.kind != kind:
            raise self.fail(f"expected a <{kind}> slot, got a <{slot.kind}> slot")
        return slot.value

    # -- names --

    def variable(self, abstract: str) -> str:
        match = _ABSTRACT_VARIABLE.fullmatch(abstract)
        if match:
            k = int(match.group(1))
            if k > len(self.typed.var_names):
                raise self.fail(f"$VAR_{k} has no name (only {len(self.typed.var_names)} variables)")
            return self.typed.var_names[k - 1]
        if is_builtin_variable(abstract):
            return abstract
        raise self.fail(f"unknown variable token ${abstract}")

    def ref(self) -> VarRef | HandleRef:
        token = self.take()
        if token.text.startswith("$"):
            return VarRef(self.variable(token.text[1:]))
        if token.text.startswith("@") and _IDENT.fullmatch(token.text[1:]):
            return HandleRef(token.text[1:])
        self.pos -= 1
        raise self.fail(f"expected a $variable or @handle, got {token.text!r}")

    def is_ref(self) -> bool:
        token = self.peek()
        return token is not None and token.tier != TIER_VALUE and token.text[:1] in ("$", "@")

    # -- program and statements --

    def program(self) -> ShortcutIR:
        self.expect("SHORTCUT")
        name = self.slot("str")
        statements = self.statements()
        self.expect("END")
        if self.pos != len(self.tokens):
            raise self.fail("tokens after END")
        return ShortcutIR(name, statements, self.typed.has_endshortcut)

    def statements(self) -> tuple[Statement, ...]:
        body: list[Statement] = []
        while (token := self.peek()) is not None and token.text not in _BLOCK_ENDS:
            body.append(self.statement())
        return tuple(body)

    def statement(self) -> Statement:
        token = self.take()
        keyword = token.text if token.tier != TIER_VALUE else token.text + " slot"
        if keyword == "ACTION":
            return self.action()
        if keyword == "SET":
            target = self.ref()
            if not isinstance(target, VarRef):
                raise self.fail("SET needs a $variable")
            return SetVariable(target.name, self.value())
        if keyword == "IF":
            target = self.ref()
            condition = self.take().text
            if condition not in _CONDITIONS:
                self.pos -= 1
                raise self.fail(f"unknown condition {condition!r}")
            compare = self.value() if self.starts_value() else None
            params = self.block_params()
            then_body = self.statements()
            else_body = None
            if self.peek() is not None and self.peek().text == "ELSE":
                self.take()
                else_body = self.statements()
            self.expect("ENDIF")
            return IfBlock(target, condition, compare, then_body, else_body, params=params)
        if keyword == "MENU":
            prompt = self.interpolated() if self.peek_text() == "<interp>" else self.slot("str")
            params = self.block_params()
            cases: list[MenuCase] = []
            while self.peek_text() == "CASE":
                self.take()
                label = self.slot("str")
                cases.append(MenuCase(label, self.statements()))
            self.expect("ENDMENU")  # a MENU without CASE is legal (real files have them)
            return MenuBlock(prompt, tuple(cases), params=params)
        if keyword == "REPEAT":
            count = self.ref() if self.is_ref() else NumberValue(self.slot("num"))
            body = self.statements()
            self.expect("ENDREPEAT")
            return RepeatBlock(count, body)
        if keyword == "FOREACH":
            collection = self.ref()
            body = self.statements()
            self.expect("ENDFOREACH")
            return ForeachBlock(collection, body)
        if keyword == "#":
            return Comment(self.slot("str"))
        self.pos -= 1
        raise self.fail(f"expected a statement, got {token.text!r}")

    def peek_text(self) -> str | None:
        token = self.peek()
        return None if token is None else token.text

    def block_params(self) -> tuple[tuple[str, Value], ...]:
        """Raw IF / MENU start-marker parameters: `K:` key + value, as `TypedEncoder.block_params`."""
        return self.keyed(self.value)

    def keyed(self, read_value) -> tuple[tuple[str, Value], ...]:
        """`K:` key + value pairs up to the next token that is not a key; `read_value` reads each value."""
        params: list[tuple[str, Value]] = []
        while (
            (token := self.peek()) is not None
            and token.tier != TIER_VALUE
            and token.text.startswith(KEY_PREFIX)
        ):
            self.take()
            params.append((token.text[len(KEY_PREFIX) :], read_value()))
        return tuple(params)

    def action(self) -> ActionStatement:
        token = self.take()
        if not token.text.startswith(ACTION_PREFIX) or len(token.text) == len(ACTION_PREFIX):
            self.pos -= 1
            raise self.fail(f"expected an action token, got {token.text!r}")
        name = self.spellings.get(self.action_ordinal, token.text[len(ACTION_PREFIX) :])
        self.action_ordinal += 1
        return ActionStatement(name, self.keyed(self.param_value))

    # -- values --

    def starts_value(self) -> bool:
        token = self.peek()
        if token is None:
            return False
        if token.tier == TIER_VALUE:
            return token.text != "<text>" and token.text != "<unit>"
        return token.text in ("true", "false", "<interp>", "<qty>") or token.text[:1] in ("$", "@")

    def param_value(self) -> Value:
        token = self.peek()
        if token is not None and token.tier != TIER_VALUE:
            if token.text.startswith(ENUM_PREFIX):
                self.take()
                return StringValue(token.text[len(ENUM_PREFIX) :])
            if token.text == "<name>":
                self.take()
                target = self.ref()
                if not isinstance(target, VarRef):
                    raise self.fail("<name> must be followed by a $variable")
                return StringValue(target.name)
        return self.value()

    def value(self) -> Value:
        token = self.peek()
        if token is None:
            raise self.fail("expected a value")
        if token.tier == TIER_VALUE:
            slot_kind = token.text[1:-1]
            if slot_kind == "str":
                return StringValue(self.slot("str"))
            if slot_kind == "num":
                return NumberValue(self.slot("num"))
            if slot_kind in ("dict", "list", "headers"):
                return _map_variables(self.slot(slot_kind), self.variable)
            raise self.fail(f"a <{slot_kind}> slot cannot stand alone as a value")
        if token.text in ("true", "false"):
            self.take()
            return BoolValue(token.text == "true")
        if token.text == "<interp>":
            return self.interpolated()
        if token.text == "<qty>":
            self.take()
            magnitude = self.ref() if self.is_ref() else self.slot("num")
            return QuantityLiteral(magnitude, self.slot("unit"))
        if self.is_ref():
            return self.ref()
        raise self.fail(f"expected a value, got {token.text!r}")

    def interpolated(self) -> InterpolatedString:
        self.expect("<interp>")
        parts: list[StringValue | VarRef | HandleRef] = []
        while self.peek_text() != "</interp>":
            if self.peek() is None:
                raise self.fail("unterminated <interp>")
            parts.append(self.ref() if self.is_ref() else StringValue(self.slot("text")))
        self.take()
        return InterpolatedString(tuple(parts))


__all__ = ["lower", "lower_to_text"]
