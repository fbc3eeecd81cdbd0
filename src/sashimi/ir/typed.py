"""ShortcutIR -> typed IR: one token sequence in three tiers plus a Tier 3 slot table (architecture.md §2).

Token families (the prefix makes every token text unambiguous in one shared vocabulary):

Tier 1 — structure
    SHORTCUT ACTION SET IF ELSE ENDIF MENU CASE ENDMENU REPEAT ENDREPEAT FOREACH ENDFOREACH # END
    A:<canonical action name>     one token per catalog identity (`A:gettext`, `A:com.apple.X.Intent`)
    <condition word>              the ten words of shortcutdsl.md §1.7 (`equals_string`, ...)
    $VAR_k                        user variables, numbered by first occurrence (names kept in `var_names`)
    $Repeat_Item, $Repeat_Index…  Apple's built-in loop variables stay as they are: they have a fixed
                                  meaning, so abstracting them would hide structure from the decoder
    @prev @input @date @item @index @<Name>   handles, named handles verbatim
    <interp> </interp> <qty> <name>            value-kind markers
    true false                    booleans outside action parameters (SET values, IF comparisons)
Tier 2 — typed parameters of the current action
    K:<param key>                 a parameter key
    E:<value>                     a string value from the catalog's closed enum of that parameter
    true false                    a boolean parameter value
Tier 3 — free values: a typed slot token; the literal lives in `TypedProgram.slots`
    <str> <num> <text> <unit> <dict> <list> <headers>

Value encodings (what follows a `K:` key, a SET target or an IF condition):
    string      E:<v> (closed enum) | <name> $VAR_k (the WFVariableName of Set/Add to Variable, which
                links the definition to its `$` uses) | <str> slot
    number      <num> slot;   boolean  true/false;   $var / @handle  one Tier 1 token
    backtick    <interp> ( <text> slot | ref token )* </interp>   — references stay structural
    QTY         <qty> ( <num> slot | ref token ) <unit> slot
    dict/list/HEADERS   one <dict>/<list>/<headers> slot holding the whole literal (variables inside are
                renamed to $VAR_k too, so `var_names` is the single source of user variable names)

The encoding is lossless: `lower(to_typed(ir, catalog)) == ir` (IR equality). A non-canonical spelling of
an action (an alias, the `is.workflow.actions.` prefix) is kept in `spellings`, so it is restored exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sashimi.dsl import plist_refs
from sashimi.dsl.ast import (
    KEYWORDS,
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
    Statement,
    StringValue,
    Value,
    VarRef,
)
from sashimi.errors import DataError, Location

TIER_STRUCTURE = 1
TIER_PARAM = 2
TIER_VALUE = 3

SPECIAL_TOKENS = ("<PAD>", "<BOS>", "<EOS>", "<SEP_TIER>", "<UNK>")
# Tier 1 statement tokens: the DSL keywords but ENDSHORTCUT (implied by <EOS>), "#" for a comment and
# "END" for the program's end marker. The order fixes the vocabulary ids: keep it.
STATEMENT_KEYWORDS = (*(k for k in KEYWORDS if k != "ENDSHORTCUT"), "#", "END")
VALUE_MARKERS = ("<interp>", "</interp>", "<qty>", "<name>")
BOOLEAN_TOKENS = ("true", "false")
SLOT_KINDS = ("str", "num", "text", "unit", "dict", "list", "headers")
SLOT_TOKENS = tuple(f"<{kind}>" for kind in SLOT_KINDS)
RESERVED_HANDLE_TOKENS = ("@prev", "@input", "@date", "@item", "@index")

ACTION_PREFIX = "A:"
KEY_PREFIX = "K:"
ENUM_PREFIX = "E:"
COMMENT_IDENTIFIER = plist_refs.COMMENT

# Set Variable / Add to Variable name the variable with a plain string; encoding it as a variable token
# ties the definition to its `$Name` uses at Tier 1.
# Keyed by canonical name so the rule also holds with a catalog that does not list these actions.
_VARIABLE_NAME_PARAMS = frozenset({("setvariable", "WFVariableName"), ("appendvariable", "WFVariableName")})
_BUILTIN_VARIABLE = re.compile(r"Repeat_(Item|Index)(_[0-9]+)?")
_IDENT = re.compile(r"[^\W\d]\w*")  # as the DSL grammar's IDENT (Unicode letters allowed)


class CatalogLike(Protocol):
    """The part of `sashimi.dsl.catalog.Catalog` the typed IR needs."""

    def resolve(self, name: str) -> str | None: ...

    def canonical_name(self, identifier: str) -> str: ...

    def enum_values(self, identifier: str, param: str) -> tuple[str, ...] | None: ...


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class TypedToken:
    tier: int  # 1 structure, 2 typed parameter, 3 free-value slot
    text: str
    slot: int | None = None  # index into TypedProgram.slots for Tier 3 tokens


@dataclass(frozen=True)
class Slot:
    """A Tier 3 literal and where it sits (the value filler learns per action and parameter)."""

    kind: str  # one of SLOT_KINDS
    value: Any  # str (str/text/unit), int | float (num), DictLiteral | ListLiteral | HeadersLiteral
    role: str  # name | param | set | compare | menu_prompt | case_label | repeat_count | comment
    action: str | None = None  # canonical action name for role == "param"
    param: str | None = None


@dataclass(frozen=True)
class TypedProgram:
    tokens: tuple[TypedToken, ...]
    slots: tuple[Slot, ...]
    var_names: tuple[str, ...]  # var_names[k - 1] is the original name of $VAR_k
    spellings: tuple[tuple[int, str], ...] = ()  # (action ordinal, name as written) when not canonical
    has_endshortcut: bool = False

    def tier_counts(self) -> dict[int, int]:
        counts = {TIER_STRUCTURE: 0, TIER_PARAM: 0, TIER_VALUE: 0}
        for token in self.tokens:
            counts[token.tier] += 1
        return counts

    def to_json(self) -> dict:
        return {
            "tokens": [t.text for t in self.tokens],
            "tiers": [t.tier for t in self.tokens],
            "slots": [_slot_to_json(s) for s in self.slots],
            "var_names": list(self.var_names),
            "spellings": [[ordinal, name] for ordinal, name in self.spellings],
            "has_endshortcut": self.has_endshortcut,
        }

    @classmethod
    def from_json(cls, obj: Any, *, location: Location | None = None) -> TypedProgram:
        """Rebuild from `to_json()` output; malformed input raises one `DataError`."""
        loc = location or Location("<typed-ir>")
        if not isinstance(obj, dict):
            raise DataError("typed IR must be a JSON object", loc)
        texts, tiers = obj.get("tokens"), obj.get("tiers")
        if not isinstance(texts, list) or not isinstance(tiers, list) or len(texts) != len(tiers):
            raise DataError("typed IR needs 'tokens' and 'tiers' lists of equal length", loc)
        raw_slots = obj.get("slots", [])
        if not isinstance(raw_slots, list):
            raise DataError("typed IR 'slots' must be a list", loc)
        slots = tuple(_slot_from_json(s, loc) for s in raw_slots)
        tokens: list[TypedToken] = []
        next_slot = 0
        for text, tier in zip(texts, tiers, strict=True):
            if not isinstance(text, str) or tier not in (1, 2, 3) or isinstance(tier, bool):
                raise DataError(f"bad token {text!r} with tier {tier!r}", loc)
            if tier == TIER_VALUE:
                tokens.append(TypedToken(tier, text, next_slot))
                next_slot += 1
            else:
                tokens.append(TypedToken(tier, text))
        if next_slot != len(slots):
            raise DataError(f"{next_slot} Tier 3 tokens but {len(slots)} slots", loc)
        var_names = obj.get("var_names", [])
        if not isinstance(var_names, list) or not all(isinstance(v, str) for v in var_names):
            raise DataError("typed IR 'var_names' must be a list of strings", loc)
        spellings = obj.get("spellings", [])
        if not isinstance(spellings, list) or not all(
            isinstance(s, list) and len(s) == 2 and isinstance(s[0], int) and isinstance(s[1], str)
            for s in spellings
        ):
            raise DataError("typed IR 'spellings' must be a list of [ordinal, name] pairs", loc)
        return cls(
            tokens=tuple(tokens),
            slots=slots,
            var_names=tuple(var_names),
            spellings=tuple((o, n) for o, n in spellings),
            has_endshortcut=bool(obj.get("has_endshortcut", False)),
        )


# ----------------------------------------------------------------------------- IR -> typed IR


def to_typed(ir: ShortcutIR, catalog: CatalogLike) -> TypedProgram:
    """Linearise `ir` into the three-tier token sequence (lossless; see the module docstring)."""
    encoder = _Encoder(catalog)
    encoder.emit(TIER_STRUCTURE, "SHORTCUT")
    encoder.slot("str", ir.name, role="name")
    encoder.statements(ir.statements)
    encoder.emit(TIER_STRUCTURE, "END")
    return TypedProgram(
        tokens=tuple(encoder.tokens),
        slots=tuple(encoder.slots),
        var_names=tuple(encoder.var_names),
        spellings=tuple(encoder.spellings),
        has_endshortcut=ir.has_endshortcut,
    )


def is_builtin_variable(name: str) -> bool:
    """Apple's loop variables as the decompiler spells them (`Repeat_Item`, `Repeat_Index_2`, ...)."""
    return _BUILTIN_VARIABLE.fullmatch(name) is not None


class _Encoder:
    def __init__(self, catalog: CatalogLike):
        self.catalog = catalog
        self.tokens: list[TypedToken] = []
        self.slots: list[Slot] = []
        self.var_names: list[str] = []
        self.var_index: dict[str, int] = {}
        self.spellings: list[tuple[int, str]] = []
        self.action_ordinal = 0

    def emit(self, tier: int, text: str) -> None:
        self.tokens.append(TypedToken(tier, text))

    def slot(self, kind: str, value: Any, *, role: str, action: str | None = None, param: str | None = None):
        self.tokens.append(TypedToken(TIER_VALUE, f"<{kind}>", len(self.slots)))
        self.slots.append(Slot(kind, value, role, action, param))

    def variable(self, name: str) -> str:
        """The abstract name of a variable (`VAR_k`, or the built-in name itself)."""
        if is_builtin_variable(name):
            return name
        if name not in self.var_index:
            self.var_names.append(name)
            self.var_index[name] = len(self.var_names)
        return f"VAR_{self.var_index[name]}"

    def ref(self, ref: VarRef | HandleRef) -> None:
        if isinstance(ref, VarRef):
            self.emit(TIER_STRUCTURE, "$" + self.variable(ref.name))
        else:
            self.emit(TIER_STRUCTURE, "@" + ref.kind)

    # -- statements --

    def statements(self, statements: tuple[Statement, ...]) -> None:
        for stmt in statements:
            self.statement(stmt)

    def statement(self, stmt: Statement) -> None:
        if isinstance(stmt, ActionStatement):
            self.action(stmt)
        elif isinstance(stmt, SetVariable):
            self.emit(TIER_STRUCTURE, "SET")
            self.emit(TIER_STRUCTURE, "$" + self.variable(stmt.var_name))
            self.value(stmt.value, role="set")
        elif isinstance(stmt, IfBlock):
            self.emit(TIER_STRUCTURE, "IF")
            self.ref(stmt.target)
            self.emit(TIER_STRUCTURE, stmt.condition)
            if stmt.compare_value is not None:
                self.value(stmt.compare_value, role="compare")
            self.block_params(stmt.params, "conditional")
            self.statements(stmt.then_body)
            if stmt.else_body is not None:
                self.emit(TIER_STRUCTURE, "ELSE")
                self.statements(stmt.else_body)
            self.emit(TIER_STRUCTURE, "ENDIF")
        elif isinstance(stmt, MenuBlock):
            self.emit(TIER_STRUCTURE, "MENU")
            if isinstance(stmt.prompt, InterpolatedString):
                self.interpolated(stmt.prompt, role="menu_prompt")
            else:
                self.slot("str", stmt.prompt, role="menu_prompt")
            self.block_params(stmt.params, "choosefrommenu")
            for case in stmt.cases:
                self.emit(TIER_STRUCTURE, "CASE")
                self.slot("str", case.label, role="case_label")
                self.statements(case.body)
            self.emit(TIER_STRUCTURE, "ENDMENU")
        elif isinstance(stmt, RepeatBlock):
            self.emit(TIER_STRUCTURE, "REPEAT")
            if isinstance(stmt.count, NumberValue):
                self.slot("num", stmt.count.value, role="repeat_count")
            else:
                self.ref(stmt.count)
            self.statements(stmt.body)
            self.emit(TIER_STRUCTURE, "ENDREPEAT")
        elif isinstance(stmt, ForeachBlock):
            self.emit(TIER_STRUCTURE, "FOREACH")
            self.ref(stmt.collection)
            self.statements(stmt.body)
            self.emit(TIER_STRUCTURE, "ENDFOREACH")
        elif isinstance(stmt, Comment):
            self.emit(TIER_STRUCTURE, "#")
            self.slot("str", stmt.text, role="comment")
        else:
            raise TypeError(f"not a statement: {stmt!r}")

    def block_params(self, params: tuple[tuple[str, Value], ...], canonical: str) -> None:
        """Raw start-marker parameters of an IF / MENU (the §1.7a escape hatch): `K:` key + value."""
        for key, value in params:
            self.emit(TIER_PARAM, KEY_PREFIX + key)
            self.value(value, role="param", action=canonical, param=key)

    def action(self, stmt: ActionStatement) -> None:
        identifier = self.catalog.resolve(stmt.action_name)
        # An unknown action keeps its written name as identity: it cannot be canonicalised.
        canonical = self.catalog.canonical_name(identifier) if identifier else stmt.action_name
        if canonical != stmt.action_name:
            self.spellings.append((self.action_ordinal, stmt.action_name))
        self.action_ordinal += 1
        self.emit(TIER_STRUCTURE, "ACTION")
        self.emit(TIER_STRUCTURE, ACTION_PREFIX + canonical)
        for key, value in stmt.params:
            self.emit(TIER_PARAM, KEY_PREFIX + key)
            self.param_value(identifier, canonical, key, value)

    def param_value(self, identifier: str | None, canonical: str, key: str, value: Value) -> None:
        if isinstance(value, BoolValue):
            self.emit(TIER_PARAM, "true" if value.value else "false")
            return
        if isinstance(value, StringValue):
            enums = self.catalog.enum_values(identifier, key) if identifier is not None else None
            if enums and value.value in enums:
                self.emit(TIER_PARAM, ENUM_PREFIX + value.value)
                return
            if (canonical, key) in _VARIABLE_NAME_PARAMS and _IDENT.fullmatch(value.value):
                self.emit(TIER_STRUCTURE, "<name>")
                self.emit(TIER_STRUCTURE, "$" + self.variable(value.value))
                return
        self.value(value, role="param", action=canonical, param=key)

    # -- values --

    def value(self, value: Value, *, role: str, action: str | None = None, param: str | None = None) -> None:
        where = {"role": role, "action": action, "param": param}
        if isinstance(value, StringValue):
            self.slot("str", value.value, **where)
        elif isinstance(value, BoolValue):  # before NumberValue-like checks: bool is an int
            self.emit(TIER_STRUCTURE, "true" if value.value else "false")
        elif isinstance(value, NumberValue):
            self.slot("num", value.value, **where)
        elif isinstance(value, VarRef | HandleRef):
            self.ref(value)
        elif isinstance(value, InterpolatedString):
            self.interpolated(value, **where)
        elif isinstance(value, QuantityLiteral):
            self.emit(TIER_STRUCTURE, "<qty>")
            if isinstance(value.magnitude, VarRef | HandleRef):
                self.ref(value.magnitude)
            else:
                self.slot("num", value.magnitude, **where)
            self.slot("unit", value.unit, **where)
        elif isinstance(value, DictLiteral):
            self.slot("dict", self.abstract_blob(value), **where)
        elif isinstance(value, ListLiteral):
            self.slot("list", self.abstract_blob(value), **where)
        elif isinstance(value, HeadersLiteral):
            self.slot("headers", self.abstract_blob(value), **where)
        else:
            raise TypeError(f"not a value: {value!r}")

    def interpolated(self, value: InterpolatedString, **where: Any) -> None:
        self.emit(TIER_STRUCTURE, "<interp>")
        for part in value.parts:
            if isinstance(part, StringValue):
                self.slot("text", part.value, **where)
            else:
                self.ref(part)
        self.emit(TIER_STRUCTURE, "</interp>")

    def abstract_blob(self, value: Value) -> Value:
        """The literal with user variable names replaced by their `VAR_k` names (first-occurrence order)."""
        return _map_variables(value, self.variable)


def _map_variables(value: Value, rename) -> Value:
    if isinstance(value, VarRef):
        return VarRef(rename(value.name))
    if isinstance(value, InterpolatedString):
        return InterpolatedString(tuple(_map_variables(p, rename) for p in value.parts))
    if isinstance(value, DictLiteral):
        return DictLiteral(tuple((k, _map_variables(v, rename)) for k, v in value.entries))
    if isinstance(value, HeadersLiteral):
        return HeadersLiteral(tuple((k, _map_variables(v, rename)) for k, v in value.entries))
    if isinstance(value, ListLiteral):
        return ListLiteral(tuple(_map_variables(v, rename) for v in value.items))
    if isinstance(value, QuantityLiteral) and isinstance(value.magnitude, VarRef):
        return QuantityLiteral(VarRef(rename(value.magnitude.name)), value.unit)
    return value


# ----------------------------------------------------------------------------- token views


def tier_texts(
    typed: TypedProgram, tiers: Iterable[int] = (1,), *, placeholders: bool = False
) -> tuple[str, ...]:
    """Token texts of the given tiers; `placeholders=True` also keeps Tier 3 slot tokens (`<str>`, ...)."""
    wanted = set(tiers)
    if placeholders:
        wanted.add(TIER_VALUE)
    return tuple(t.text for t in typed.tokens if t.tier in wanted)


def drop_comment_actions(ir: ShortcutIR, catalog: CatalogLike) -> ShortcutIR:
    """`ir` without Apple Comment actions and `#` lines, at every depth (fidelity metrics exclude them)."""

    def keep(stmt: Statement) -> bool:
        if isinstance(stmt, Comment):
            return False
        if not isinstance(stmt, ActionStatement):
            return True
        # `comment` is Apple's Comment action even under a catalog that does not list it.
        return (catalog.resolve(stmt.action_name) or stmt.action_name) not in (COMMENT_IDENTIFIER, "comment")

    def body(statements: tuple[Statement, ...]) -> tuple[Statement, ...]:
        return tuple(_strip(s) for s in statements if keep(s))

    def _strip(stmt: Statement) -> Statement:
        if isinstance(stmt, IfBlock):
            else_body = None if stmt.else_body is None else body(stmt.else_body)
            return IfBlock(
                stmt.target,
                stmt.condition,
                stmt.compare_value,
                body(stmt.then_body),
                else_body,
                params=stmt.params,
            )
        if isinstance(stmt, MenuBlock):
            cases = tuple(MenuCase(c.label, body(c.body)) for c in stmt.cases)
            return MenuBlock(stmt.prompt, cases, params=stmt.params)
        if isinstance(stmt, RepeatBlock):
            return RepeatBlock(stmt.count, body(stmt.body))
        if isinstance(stmt, ForeachBlock):
            return ForeachBlock(stmt.collection, body(stmt.body))
        return stmt

    return ShortcutIR(ir.name, body(ir.statements), ir.has_endshortcut)


def skeleton(ir: ShortcutIR, catalog: CatalogLike, *, drop_comments: bool = False) -> tuple[str, ...]:
    """The Tier 1 skeleton of a program (structure only), e.g. for skeleton exact match / edit distance."""
    if drop_comments:
        ir = drop_comment_actions(ir, catalog)
    return tier_texts(to_typed(ir, catalog), (TIER_STRUCTURE,))


def structure_tokens(
    ir: ShortcutIR, catalog: CatalogLike, *, drop_comments: bool = False, placeholders: bool = False
) -> tuple[str, ...]:
    """Tier 1 + Tier 2 token texts (what the structural decoder emits), optionally with slot placeholders."""
    if drop_comments:
        ir = drop_comment_actions(ir, catalog)
    return tier_texts(to_typed(ir, catalog), (TIER_STRUCTURE, TIER_PARAM), placeholders=placeholders)


# ----------------------------------------------------------------------------- JSON of literals


def value_to_json(value: Value) -> Any:
    """A tagged JSON tree for any IR value (used for dict/list/headers slots)."""
    if isinstance(value, StringValue):
        return ["str", value.value]
    if isinstance(value, BoolValue):
        return ["bool", value.value]
    if isinstance(value, NumberValue):
        return ["num", value.value]
    if isinstance(value, VarRef):
        return ["var", value.name]
    if isinstance(value, HandleRef):
        return ["handle", value.kind]
    if isinstance(value, InterpolatedString):
        return ["interp", [value_to_json(p) for p in value.parts]]
    if isinstance(value, DictLiteral):
        return ["dict", [[k, value_to_json(v)] for k, v in value.entries]]
    if isinstance(value, HeadersLiteral):
        return ["headers", [[k, value_to_json(v)] for k, v in value.entries]]
    if isinstance(value, ListLiteral):
        return ["list", [value_to_json(v) for v in value.items]]
    if isinstance(value, QuantityLiteral):
        magnitude = value.magnitude
        mag = value_to_json(magnitude) if isinstance(magnitude, VarRef | HandleRef) else ["num", magnitude]
        return ["qty", mag, value.unit]
    raise TypeError(f"not a value: {value!r}")


def value_from_json(obj: Any, loc: Location | None = None) -> Value:
    loc = loc or Location("<typed-ir>")
    if not isinstance(obj, list) or not obj or not isinstance(obj[0], str):
        raise DataError(f"bad literal {str(obj)[:60]!r}", loc)
    tag, args = obj[0], obj[1:]
    try:
        if tag == "str" and isinstance(args[0], str):
            return StringValue(args[0])
        if tag == "bool" and isinstance(args[0], bool):
            return BoolValue(args[0])
        if tag == "num" and _is_number(args[0]):
            return NumberValue(args[0])
        if tag == "var" and isinstance(args[0], str):
            return VarRef(args[0])
        if tag == "handle" and isinstance(args[0], str):
            return HandleRef(args[0])
        if tag == "interp":
            parts = tuple(value_from_json(p, loc) for p in args[0])
            if all(isinstance(p, StringValue | VarRef | HandleRef) for p in parts):
                return InterpolatedString(parts)
        if tag in ("dict", "headers"):
            entries = tuple((_key(k, loc), value_from_json(v, loc)) for k, v in args[0])
            return DictLiteral(entries) if tag == "dict" else HeadersLiteral(entries)
        if tag == "list":
            return ListLiteral(tuple(value_from_json(v, loc) for v in args[0]))
        if tag == "qty" and isinstance(args[1], str):
            mag = value_from_json(args[0], loc)
            if isinstance(mag, NumberValue):
                return QuantityLiteral(mag.value, args[1])
            if isinstance(mag, VarRef | HandleRef):
                return QuantityLiteral(mag, args[1])
    except (IndexError, TypeError, ValueError):
        pass
    raise DataError(f"bad {tag!r} literal {str(obj)[:60]!r}", loc)


def _key(key: Any, loc: Location) -> str:
    if not isinstance(key, str):
        raise DataError(f"dict key must be a string, got {key!r}", loc)
    return key


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


_BLOB_KINDS = frozenset({"dict", "list", "headers"})


def _slot_to_json(slot: Slot) -> dict:
    value = value_to_json(slot.value) if slot.kind in _BLOB_KINDS else slot.value
    return {"kind": slot.kind, "value": value, "role": slot.role, "action": slot.action, "param": slot.param}


def _slot_from_json(obj: Any, loc: Location) -> Slot:
    if not isinstance(obj, dict) or obj.get("kind") not in SLOT_KINDS:
        raise DataError(f"bad slot {str(obj)[:60]!r}", loc)
    kind, value = obj["kind"], obj.get("value")
    if kind in _BLOB_KINDS:
        value = value_from_json(value, loc)
        expected = {"dict": DictLiteral, "list": ListLiteral, "headers": HeadersLiteral}[kind]
        if not isinstance(value, expected):
            raise DataError(f"slot of kind {kind!r} holds a {type(value).__name__}", loc)
    elif kind == "num":
        if not _is_number(value):
            raise DataError(f"number slot holds {value!r}", loc)
    elif not isinstance(value, str):
        raise DataError(f"{kind} slot holds {value!r}", loc)
    action, param, role = obj.get("action"), obj.get("param"), obj.get("role", "param")
    if not all(x is None or isinstance(x, str) for x in (action, param)) or not isinstance(role, str):
        raise DataError("slot 'role', 'action' and 'param' must be strings", loc)
    return Slot(kind, value, role, action, param)


__all__ = [
    "BOOLEAN_TOKENS",
    "RESERVED_HANDLE_TOKENS",
    "SLOT_KINDS",
    "SLOT_TOKENS",
    "SPECIAL_TOKENS",
    "STATEMENT_KEYWORDS",
    "TIER_PARAM",
    "TIER_STRUCTURE",
    "TIER_VALUE",
    "VALUE_MARKERS",
    "Slot",
    "TypedProgram",
    "TypedToken",
    "drop_comment_actions",
    "is_builtin_variable",
    "skeleton",
    "structure_tokens",
    "tier_texts",
    "to_typed",
    "value_from_json",
    "value_to_json",
]
