"""Compiler: ShortcutIR → Apple Shortcuts plist dict → unsigned binary `.shortcut` (shortcutdsl.md §3).

The output follows Apple's real format ("Our rule" throughout §3), not the reference compiler's
quirks: block-scoped `@prev` (§3.3.2), four-step named-handle resolution (§3.3.3), Apple output
names (§3.3.4), `handle_wrap` on every reference kind (§3.4), named variables for SET and loop
variables numbered by depth (§3.5), UTF-16 attachment offsets (§3.6), UUIDs on end markers (§3.7),
raw dict pass-through with field items only where Apple uses them (§3.8), and the reference
envelope (§3.9).

Decisions the spec leaves open, documented once here:
- UUIDs are UUID5 of a namespace derived from the seed and the program, plus a counter, written
  upper-case: the same program and seed always give the same bytes, different programs differ.
- `"<binary:NNbytes>"` placeholders (§3.12 #14) are emitted unchanged as strings with a
  `lossy_binary` warning: the original NSData is gone and we never invent bytes, and keeping the
  string makes compile → decompile reproduce the text exactly.
- A QTY with a reference magnitude stores the reference attachment-wrapped (`WFTextTokenAttachment`)
  as `Magnitude`, which is how the Shortcuts editor stores a variable magnitude (§3.12 #7).
- `SET $X = <literal>` stores the literal as the Set Variable input (what the reference does) and
  warns `set_literal`; Apple's own idiom would be a Text/Number action first.
- The `list` action's `WFItems` becomes list field items unless an item is already a structured
  dict (data written as `["a", {"WFItemType": 0, …}]`), which passes through raw.
- Named-handle step 3 (§3.3.3) picks the most recent action of that name that is not the current
  `@prev` producer when one exists: the data's decompiler printed `@prev` for that producer, so a
  named handle that also matches it means an earlier action of the same name.
- No `AppIntentDescriptor` is synthesised: its `TeamIdentifier` cannot be derived (§3.12 #15).
"""

from __future__ import annotations

import hashlib
import plistlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sashimi.dsl import plist_refs as P
from sashimi.dsl.ast import (
    CONDITION_SPECS,
    ActionStatement,
    BoolValue,
    Comment,
    ConditionSpec,
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
    StringValue,
    VarRef,
)
from sashimi.errors import CompileError, Location

CLIENT_VERSION = "2302.0.4"
DEFAULT_ICON = {"WFWorkflowIconGlyphNumber": 59653, "WFWorkflowIconStartColor": 4274264319}
DEFAULT_WORKFLOW_TYPES = ("NCWidget", "WatchKit")


@dataclass(frozen=True)
class CompileWarning:
    """Something compiled, but not exactly as written or not verifiably (never an error)."""

    category: str  # unresolved_handle | prev_fallback | lossy_binary | repeat_float | set_literal | ...
    message: str
    line: int | None = None


@dataclass(frozen=True)
class CompiledShortcut:
    plist: dict
    warnings: list = field(default_factory=list)

    def to_bytes(self) -> bytes:
        return to_binary(self.plist)


@dataclass(frozen=True)
class _Producer:
    """An action whose output can be referenced: a regular action or a block's end marker."""

    uuid: str
    output_name: str


def to_binary(plist: dict, *, file: str = "<input>") -> bytes:
    """Serialise as a binary plist, keeping key order (Apple ignores it; round trips keep it)."""
    try:
        return plistlib.dumps(plist, fmt=plistlib.FMT_BINARY, sort_keys=False)
    except (OverflowError, TypeError, ValueError) as err:  # e.g. an integer wider than 64 bits
        raise CompileError(f"cannot write a property list: {err}", Location(file)) from None


def compile_program(
    ir: ShortcutIR,
    catalog: Any,
    *,
    seed: int = 0,
    file: str = "<input>",
    input_types: Sequence[str] = (),
    workflow_types: Sequence[str] | None = None,
    client_release: str | None = None,
) -> CompiledShortcut:
    """Compile `ir` to the `.shortcut` plist dict; raise `CompileError` with the statement's line.

    `input_types` / `workflow_types` take the friendly names of §3.9 (`"url"`, `"widget"`) or raw
    Apple class names. The result has passed `self_check`; serialise it with `to_binary`.
    """
    if isinstance(input_types, str) or isinstance(workflow_types, str):
        raise TypeError("input_types and workflow_types are sequences of names, not one string")
    compiler = _Compiler(ir, catalog, seed, file)
    try:
        compiler.body(ir.statements, prev=None, loop_depth=0)
    except RecursionError:
        raise CompileError("program nests too deeply to compile", Location(file)) from None
    plist: dict[str, Any] = {
        "WFWorkflowActions": compiler.actions,
        "WFWorkflowClientVersion": CLIENT_VERSION,
        "WFWorkflowIcon": dict(DEFAULT_ICON),
        "WFWorkflowImportQuestions": [],
        "WFWorkflowInputContentItemClasses": [P.INPUT_TYPES.get(t, t) for t in input_types],
        "WFWorkflowMinimumClientVersion": 900,
        "WFWorkflowMinimumClientVersionString": "900",
        "WFWorkflowTypes": [
            P.WORKFLOW_TYPES.get(t, t)
            for t in (DEFAULT_WORKFLOW_TYPES if workflow_types is None else workflow_types)
        ],
    }
    if client_release is not None:
        plist["WFWorkflowClientRelease"] = client_release
    # The name travels in the file too (issue 11.8): the decompiler reads it back first, so a
    # round trip keeps it whatever the file is called. Apple ignores the key on import.
    plist["WFWorkflowName"] = ir.name
    problems = self_check(plist)
    if problems:  # a compiler bug, not bad input; still reported as one located line
        raise CompileError(f"structural self-check failed: {problems[0]}", Location(file))
    return CompiledShortcut(plist, compiler.warnings)


class _Compiler:
    def __init__(self, ir: ShortcutIR, catalog: Any, seed: int, file: str):
        self.catalog = catalog
        self.file = file
        digest = hashlib.sha256(repr(ir).encode("utf-8")).hexdigest()
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"sashimi-compiler:{seed}:{digest}")
        self._counter = 0
        self.actions: list[dict] = []
        self.warnings: list[CompileWarning] = []
        self.named: dict[str, list[_Producer]] = {}  # sanitised action / custom name -> producers
        self.closed: dict[str, _Producer] = {}  # block handle -> end marker of latest closed block
        self.last_any: _Producer | None = None  # lexically last ACTION/SET (the fallback rule)
        self.var_names = _original_variable_names(ir)
        self.line: int | None = None

    # ------------------------------------------------------------------ helpers

    def uuid(self) -> str:
        self._counter += 1
        return str(uuid.uuid5(self._namespace, str(self._counter))).upper()

    def error(self, message: str) -> CompileError:
        return CompileError(message, Location(self.file, self.line))

    def warn(self, category: str, message: str) -> None:
        self.warnings.append(CompileWarning(category, message, self.line))

    def resolve(self, name: str) -> str:
        identifier = self.catalog.resolve(name)
        if not identifier:
            raise self.error(f"unknown action {name!r}")
        return identifier

    # ------------------------------------------------------------------ statements

    def body(self, statements, prev: _Producer | None, loop_depth: int) -> None:
        # `prev` is block-scoped (§3.3.2): a body starts from the enclosing value and whatever it
        # changes is dropped when the block closes, so callers keep their own `prev`.
        for stmt in statements:
            prev = self.statement(stmt, prev, loop_depth)

    def statement(self, stmt, prev: _Producer | None, depth: int) -> _Producer | None:
        self.line = getattr(stmt, "line", None)
        if isinstance(stmt, ActionStatement):
            return self.action(stmt, prev, depth)
        if isinstance(stmt, SetVariable):
            self.set_variable(stmt, prev, depth)
        elif isinstance(stmt, IfBlock):
            self.if_block(stmt, prev, depth)
        elif isinstance(stmt, MenuBlock):
            self.menu_block(stmt, prev, depth)
        elif isinstance(stmt, RepeatBlock | ForeachBlock):
            self.loop_block(stmt, prev, depth)
        elif not isinstance(stmt, Comment):  # `#` lines are never compiled
            raise self.error(f"not a statement: {type(stmt).__name__}")
        return prev

    def action(self, stmt: ActionStatement, prev: _Producer | None, depth: int) -> _Producer | None:
        identifier = self.resolve(stmt.action_name)
        ctx = _Ctx(prev, depth)
        params: dict[str, Any] = {}
        for key, value in stmt.params:
            params[key] = self.param(identifier, key, value, ctx)
        explicit = params.get("UUID")
        if explicit is None:
            params["UUID"] = action_uuid = self.uuid()
        elif isinstance(explicit, str):
            action_uuid = explicit  # kept as written (§3.1)
        else:
            raise self.error("UUID parameter must be a string")
        custom = stmt.param("CustomOutputName")
        if isinstance(custom, StringValue):
            output_name = custom.value
        else:
            output_name = self.catalog.output_name(identifier) or "Result"
        self.actions.append({"WFWorkflowActionIdentifier": identifier, "WFWorkflowActionParameters": params})
        producer = _Producer(action_uuid, output_name)
        # Registered after the params: an action cannot reference its own output.
        self.named.setdefault(P.sanitize(stmt.action_name), []).append(producer)
        if isinstance(custom, StringValue):
            self.named.setdefault(P.sanitize(custom.value), []).append(producer)
        if explicit is not None:  # `@uuid_…` names exactly this action (issue 11.9)
            self.named.setdefault(P.uuid_handle(action_uuid), []).append(producer)
        self.last_any = producer
        return prev if identifier == P.COMMENT else producer

    def set_variable(self, stmt: SetVariable, prev: _Producer | None, depth: int) -> None:
        ctx = _Ctx(prev, depth)
        if not isinstance(stmt.value, VarRef | HandleRef | InterpolatedString):
            self.warn("set_literal", f"SET ${stmt.var_name} stores a literal value")
        value = self.param(P.SETVARIABLE, "WFInput", stmt.value, ctx)
        action_uuid = self.uuid()
        params = {
            "WFVariableName": self.variable_name(stmt.var_name),
            "WFInput": value,
            "UUID": action_uuid,
        }
        self.actions.append(
            {"WFWorkflowActionIdentifier": P.SETVARIABLE, "WFWorkflowActionParameters": params}
        )
        self.last_any = _Producer(action_uuid, "Set Variable")

    def marker(self, identifier: str, group: str, mode: int, params: dict | None = None) -> str | None:
        body: dict[str, Any] = {"GroupingIdentifier": group, "WFControlFlowMode": mode}
        for key, value in (params or {}).items():
            if key in body:  # a raw parameter cannot move a marker to another group or mode
                raise self.error(f"parameter {key} of a block is set by the compiler")
            body[key] = value
        end_uuid = None
        if mode == 2:  # end markers carry the block's output (§3.7)
            body["UUID"] = end_uuid = self.uuid()
        self.actions.append({"WFWorkflowActionIdentifier": identifier, "WFWorkflowActionParameters": body})
        return end_uuid

    def close_block(self, identifier: str, group: str) -> None:
        end_uuid = self.marker(identifier, group, 2)
        assert end_uuid is not None
        self.closed[P.BLOCK_HANDLE_OF[identifier]] = _Producer(end_uuid, P.BLOCK_OUTPUT_NAMES[identifier])

    def if_block(self, stmt: IfBlock, prev: _Producer | None, depth: int) -> None:
        ctx = _Ctx(prev, depth)
        line = self.line
        spec = CONDITION_SPECS.get(stmt.condition)
        if spec is None:
            raise self.error(f"unknown condition {stmt.condition!r}")
        params: dict[str, Any] = {}
        if spec.code is not None:  # `raw_condition`: everything comes from the raw parameters
            params["WFCondition"] = spec.code
            params["WFInput"] = P.wrap("variable_ref", self.reference(stmt.target, ctx))
        compare = stmt.compare_value
        if spec.upper_key is not None and isinstance(compare, ListLiteral) and len(compare.items) == 2:
            # `is_between [low, high]`: the two bounds go to their own keys (§1.7a).
            params[spec.value_key] = self.compare_value(spec.value_key, compare.items[0], ctx)
            params[spec.upper_key] = self.compare_value(spec.upper_key, compare.items[1], ctx)
        elif compare is not None:
            key = _compare_key(spec, compare)
            params[key] = self.compare_value(key, compare, ctx)
        for key, value in stmt.params:  # raw start-marker parameters win (§1.7a escape hatch)
            if key == "WFInput" and isinstance(value, VarRef | HandleRef):
                # The IF input is always Apple's `variable_ref` form, whatever the catalog says.
                params[key] = P.wrap("variable_ref", self.reference(value, ctx))
            else:
                params[key] = self.param(P.CONDITIONAL, key, value, ctx)
        group = self.uuid()
        self.marker(P.CONDITIONAL, group, 0, params)
        self.body(stmt.then_body, prev, depth)
        if stmt.else_body is not None:  # an ELSE marker even for an empty else body
            self.line = line
            self.marker(P.CONDITIONAL, group, 1)
            self.body(stmt.else_body, prev, depth)
        self.line = line
        self.close_block(P.CONDITIONAL, group)

    def compare_value(self, key: str, value, ctx: _Ctx) -> Any:
        if isinstance(value, VarRef | HandleRef):
            return P.wrap(P.COMPARE_WRAP.get(key, "attachment"), self.reference(value, ctx))
        return self.param(P.CONDITIONAL, key, value, ctx)

    def menu_block(self, stmt: MenuBlock, prev: _Producer | None, depth: int) -> None:
        ctx = _Ctx(prev, depth)
        line = self.line
        if isinstance(stmt.prompt, InterpolatedString):
            prompt = self.text(stmt.prompt.parts, ctx)
        else:
            prompt = self.string(stmt.prompt)
        group = self.uuid()
        labels = [case.label for case in stmt.cases]
        params: dict[str, Any] = {"WFMenuPrompt": prompt, "WFMenuItems": labels}
        for key, value in stmt.params:  # raw start-marker parameters win
            params[key] = self.param(P.MENU, key, value, ctx)
        self.marker(P.MENU, group, 0, params)
        for case in stmt.cases:
            self.line = case.line if case.line is not None else line
            self.marker(P.MENU, group, 1, {"WFMenuItemTitle": case.label})
            self.body(case.body, prev, depth)
        self.line = line
        self.close_block(P.MENU, group)

    def loop_block(self, stmt: RepeatBlock | ForeachBlock, prev: _Producer | None, depth: int) -> None:
        ctx = _Ctx(prev, depth)
        line = self.line
        if isinstance(stmt, RepeatBlock):
            identifier, key, head = P.REPEAT_COUNT, "WFRepeatCount", stmt.count
        else:
            identifier, key, head = P.REPEAT_EACH, "WFInput", stmt.collection
        if isinstance(head, VarRef | HandleRef):
            value: Any = P.wrap(self.catalog.handle_wrap(identifier, key), self.reference(head, ctx))
        elif (
            isinstance(head, NumberValue)
            and not isinstance(head.value, bool)
            and identifier == P.REPEAT_COUNT
        ):
            value = int(head.value)  # the reference truncates; keep that, but say so
            if value != head.value:
                self.warn("repeat_float", f"REPEAT count {head.value!r} truncated to {value}")
        else:
            raise self.error(
                f"invalid {'REPEAT count' if identifier == P.REPEAT_COUNT else 'FOREACH collection'}"
            )
        group = self.uuid()
        self.marker(identifier, group, 0, {key: value})
        self.body(stmt.body, prev, depth + 1)
        self.line = line
        self.close_block(identifier, group)

    # ------------------------------------------------------------------ references

    def reference(self, ref: VarRef | HandleRef, ctx: _Ctx) -> dict:
        """The bare reference dict (§3.3.1) for `$X` / `@handle`."""
        if isinstance(ref, VarRef):
            return {"Type": "Variable", "VariableName": self.variable_name(ref.name)}
        kind = ref.kind
        if kind == "prev":
            producer = ctx.prev
            if producer is None:
                if self.last_any is None:
                    raise self.error("@prev has no preceding action")
                producer = self.last_any
                self.warn(
                    "prev_fallback", "@prev has no block-scoped producer; using the lexically last action"
                )
            return _output(producer)
        if kind == "input":
            return {"Type": "ExtensionInput"}
        if kind == "date":
            return {"Type": "CurrentDate"}
        if kind in ("item", "index"):
            if ctx.depth == 0:
                self.warn("handle_context", f"@{kind} outside a loop")
            base = "Repeat Item" if kind == "item" else "Repeat Index"
            return {"Type": "Variable", "VariableName": base if ctx.depth <= 1 else f"{base} {ctx.depth}"}
        # Named handles, four steps (§3.3.3).
        if kind in P.MAGIC_HANDLES:
            return {"Type": kind}
        if kind in P.BLOCK_HANDLES and kind in self.closed:
            return _output(self.closed[kind])
        candidates = self.named.get(kind)
        if candidates:
            # The data's decompiler prints `@prev` for the previous action, so a named handle that
            # also matches it most likely means an earlier action of that name (§4.1).
            earlier = [p for p in candidates if p is not ctx.prev]
            return _output(earlier[-1] if earlier else candidates[-1])
        self.warn("unresolved_handle", f"@{kind} names no earlier action; compiled as variable {kind!r}")
        return {"Type": "Variable", "VariableName": kind}

    def variable_name(self, name: str) -> str:
        """DSL variable name → Apple variable name (§3.5)."""
        m = P.REPEAT_VAR_DSL.fullmatch(name)
        if m:
            base = f"Repeat {m.group(1)}"
            return f"{base} {m.group(2)}" if m.group(2) else base
        return self.var_names.get(name, name)

    # ------------------------------------------------------------------ values

    def param(self, identifier: str, key: str, value, ctx: _Ctx) -> Any:
        """A whole parameter value (§3.4)."""
        if isinstance(value, VarRef | HandleRef):
            return P.wrap(self.catalog.handle_wrap(identifier, key), self.reference(value, ctx))
        if isinstance(value, ListLiteral) and key == "WFItems" and identifier == P.PREFIX + "list":
            if not any(isinstance(item, DictLiteral) for item in value.items):
                return [self.field_item(None, item, ctx) for item in value.items]
        return self.nested(value, ctx)

    def nested(self, value, ctx: _Ctx) -> Any:
        """A value inside a dict/list literal, or a parameter value needing no wrapping rule."""
        if isinstance(value, StringValue):
            return self.string(value.value)
        if isinstance(value, BoolValue):
            return value.value
        if isinstance(value, NumberValue):
            if isinstance(value.value, int) and not -(2**63) <= value.value < 2**64:
                raise self.error(f"integer {value.value} does not fit a property list (64 bits)")
            return value.value
        if isinstance(value, VarRef | HandleRef):
            return P.attachment(self.reference(value, ctx))
        if isinstance(value, InterpolatedString):
            return self.text(value.parts, ctx)
        if isinstance(value, DictLiteral):
            return self.dictionary(value, ctx)
        if isinstance(value, ListLiteral):
            return [self.nested(item, ctx) for item in value.items]
        if isinstance(value, QuantityLiteral):
            return self.quantity(value, ctx)
        if isinstance(value, HeadersLiteral):
            items = [self.field_item(k, v, ctx) for k, v in value.entries]
            return {
                "Value": {"WFDictionaryFieldValueItems": items},
                "WFSerializationType": "WFDictionaryFieldValue",
            }
        raise self.error(f"cannot compile value {type(value).__name__}")

    def string(self, text: str) -> str:
        if P.BINARY_PLACEHOLDER.fullmatch(text):
            self.warn("lossy_binary", f"{text} stands for binary data that the DSL does not keep")
        return text

    def text(self, parts, ctx: _Ctx) -> Any:
        """Backtick string → text-token string with UTF-16 ranges, or a plain string (§3.6)."""
        chunks: list[str] = []
        ranges: dict[str, dict] = {}
        pos = 0
        for part in parts:
            if isinstance(part, StringValue):
                chunks.append(part.value)
                pos += P.utf16_len(part.value)
            elif isinstance(part, VarRef | HandleRef):
                ranges[P.range_key(pos)] = self.reference(part, ctx)
                chunks.append(P.OBJECT_REPLACEMENT)
                pos += 1
            else:
                raise self.error(f"invalid interpolation part {type(part).__name__}")
        text = "".join(chunks)
        return P.token_string(text, ranges) if ranges else text

    def dictionary(self, value: DictLiteral, ctx: _Ctx) -> dict:
        """Raw plist dict (§3.8 rule 1), expanding `WFDictionaryFieldValue` items (rule 2)."""
        out: dict[str, Any] = {}
        entries = dict(value.entries)  # duplicate keys: last wins, first position (like the plist)
        is_field_value = entries.get("WFSerializationType") == StringValue("WFDictionaryFieldValue")
        for key, item in entries.items():
            if is_field_value and key == "Value" and isinstance(item, DictLiteral):
                out[key] = self.field_value(item, ctx)
            else:
                out[key] = self.nested(item, ctx)
        return out

    def field_value(self, value: DictLiteral, ctx: _Ctx) -> dict:
        out: dict[str, Any] = {}
        for key, item in dict(value.entries).items():
            if key == "WFDictionaryFieldValueItems" and isinstance(item, DictLiteral):
                # Field items are a list: a key written twice is two items, as in Apple's files.
                out[key] = [self.field_item(k, v, ctx) for k, v in item.entries]
            else:
                out[key] = self.nested(item, ctx)
        return out

    def field_item(self, key: str | None, value, ctx: _Ctx) -> dict:
        """One dictionary (with key) or list (without) field item, typed per §3.8."""
        item: dict[str, Any] = {}
        if isinstance(value, StringValue | InterpolatedString | VarRef | HandleRef):
            item_type, wf_value = 0, self.text_token(value, ctx)
        elif isinstance(value, BoolValue):
            item_type = 4
            wf_value = {"Value": value.value, "WFSerializationType": "WFNumberSubstitutableState"}
        elif isinstance(value, NumberValue):
            item_type, wf_value = 3, P.token_string(_number_text(value.value))
        elif isinstance(value, DictLiteral):
            items = [self.field_item(k, v, ctx) for k, v in value.entries]
            item_type = 1
            wf_value = {
                "Value": {"WFDictionaryFieldValueItems": items},
                "WFSerializationType": "WFDictionaryFieldValue",
            }
        elif isinstance(value, ListLiteral):
            item_type = 2
            wf_value = {
                "Value": [self.field_item(None, v, ctx) for v in value.items],
                "WFSerializationType": "WFArrayParameterState",
            }
        else:
            raise self.error(f"{type(value).__name__} cannot be a dictionary or list field item")
        item["WFItemType"] = item_type
        if key is not None:
            item["WFKey"] = P.token_string(self.string(key))
        item["WFValue"] = wf_value
        return item

    def text_token(self, value, ctx: _Ctx) -> dict:
        """A field item's text: always a token string, even without placeholders (Apple's form)."""
        parts = value.parts if isinstance(value, InterpolatedString) else (value,)
        token = self.text(parts, ctx)
        return P.token_string(token) if isinstance(token, str) else token

    def quantity(self, value: QuantityLiteral, ctx: _Ctx) -> dict:
        magnitude = value.magnitude
        if isinstance(magnitude, VarRef | HandleRef):
            encoded: Any = P.attachment(self.reference(magnitude, ctx))
        elif isinstance(magnitude, int | float) and not isinstance(magnitude, bool):
            encoded = magnitude
        else:
            raise self.error(f"invalid QTY magnitude {magnitude!r}")
        return {
            "Value": {"Unit": value.unit, "Magnitude": encoded},
            "WFSerializationType": "WFQuantityFieldValue",
        }


@dataclass(frozen=True)
class _Ctx:
    prev: _Producer | None
    depth: int  # number of enclosing REPEAT/FOREACH blocks


def _output(producer: _Producer) -> dict:
    return {"OutputName": producer.output_name, "OutputUUID": producer.uuid, "Type": "ActionOutput"}


def _compare_key(spec: ConditionSpec, value) -> str:
    if spec.value_key is not None:
        return spec.value_key
    # Existence checks and `is_today` take no value; one written anyway is kept (§3.7) where the
    # decompiler will find it again.
    return "WFNumberValue" if isinstance(value, NumberValue) else "WFConditionalActionString"


def _number_text(number: int | float) -> str:
    return str(int(number)) if isinstance(number, float) and number.is_integer() else str(number)


def _original_variable_names(ir: ShortcutIR) -> dict[str, str]:
    """Sanitised → original `WFVariableName` of setvariable/appendvariable actions (§3.5)."""
    names: dict[str, str] = {}
    for stmt in ir.walk():
        if isinstance(stmt, ActionStatement) and stmt.action_name in {
            "setvariable",
            "appendvariable",
            P.SETVARIABLE,
            P.APPENDVARIABLE,
        }:
            value = stmt.param("WFVariableName")
            if isinstance(value, StringValue):
                names.setdefault(P.sanitize(value.value), value.value)
    return names


# ---------------------------------------------------------------------------- self-check


def self_check(plist: Any) -> list[str]:
    """Structural problems Apple would reject (§3.10); an empty list means OK."""
    if not isinstance(plist, dict):
        return ["top level is not a dictionary"]
    problems = [f"missing envelope key {key}" for key in P.ENVELOPE_KEYS if key not in plist]
    actions = plist.get("WFWorkflowActions")
    if not isinstance(actions, list):
        return [*problems, "WFWorkflowActions is not a list"]
    position: dict[str, int] = {}
    for i, action in enumerate(actions):
        params = action.get("WFWorkflowActionParameters") if isinstance(action, dict) else None
        if not isinstance(action, dict) or not isinstance(action.get("WFWorkflowActionIdentifier"), str):
            problems.append(f"action #{i}: no WFWorkflowActionIdentifier")
            continue
        if not isinstance(params, dict):
            problems.append(f"action #{i}: WFWorkflowActionParameters is not a dictionary")
            continue
        action_uuid = params.get("UUID")
        if action_uuid is not None:
            if not isinstance(action_uuid, str):
                problems.append(f"action #{i}: UUID is not a string")
            elif action_uuid in position:
                problems.append(
                    f"action #{i}: duplicate UUID {action_uuid} (also action #{position[action_uuid]})"
                )
            else:
                position[action_uuid] = i
    problems += _check_groups(actions)
    for i, action in enumerate(actions):
        if isinstance(action, dict) and isinstance(action.get("WFWorkflowActionParameters"), dict):
            _check_values(action["WFWorkflowActionParameters"], i, position, problems, 0)
    return problems


def _check_groups(actions: list) -> list[str]:
    problems: list[str] = []
    stack: list[dict] = []  # open groups: id, identifier, start index, middle markers, menu items
    for i, action in enumerate(actions):
        if not isinstance(action, dict) or not isinstance(action.get("WFWorkflowActionParameters"), dict):
            continue
        params = action["WFWorkflowActionParameters"]
        if "WFControlFlowMode" not in params:
            continue
        identifier = action.get("WFWorkflowActionIdentifier")
        mode, group = params.get("WFControlFlowMode"), params.get("GroupingIdentifier")
        if not isinstance(group, str):
            problems.append(f"action #{i}: control-flow marker without GroupingIdentifier")
            continue
        if mode == 0:
            items = params.get("WFMenuItems")
            stack.append({"group": group, "id": identifier, "start": i, "middles": 0, "items": items})
        elif mode in (1, 2):
            if not stack or stack[-1]["group"] != group:
                where = (
                    "interleaved with another group"
                    if any(g["group"] == group for g in stack)
                    else "outside its group"
                )
                problems.append(f"action #{i}: mode-{mode} marker {where}")
                continue
            top = stack[-1]
            if top["id"] != identifier:
                problems.append(
                    f"action #{i}: marker identifier {identifier} differs from its start {top['id']}"
                )
            if mode == 1:
                top["middles"] += 1
                if identifier in (P.REPEAT_COUNT, P.REPEAT_EACH):
                    problems.append(f"action #{i}: loops have no middle marker")
                elif identifier == P.CONDITIONAL and top["middles"] > 1:
                    problems.append(f"action #{i}: second ELSE in one IF")
                continue
            stack.pop()
            if identifier == P.MENU:
                items = top["items"]
                if not isinstance(items, list):  # an empty menu is legal: real files contain them
                    problems.append(f"action #{top['start']}: menu items are not a list")
                elif len(items) != top["middles"]:
                    problems.append(
                        f"action #{top['start']}: {len(items)} menu items but {top['middles']} cases"
                    )
        else:
            problems.append(f"action #{i}: invalid WFControlFlowMode {mode!r}")
    problems += [f"action #{g['start']}: group {g['group']} never closed" for g in stack]
    return problems


def _check_values(value: Any, index: int, position: dict[str, int], problems: list[str], depth: int) -> None:
    if depth > 200:
        problems.append(f"action #{index}: values nest too deeply")
        return
    if isinstance(value, list):
        for item in value:
            _check_values(item, index, position, problems, depth + 1)
        return
    if not isinstance(value, dict):
        return
    if "OutputUUID" in value:
        target = value["OutputUUID"]
        if target not in position:
            problems.append(f"action #{index}: OutputUUID {target} refers to no action")
        elif position[target] >= index:
            problems.append(f"action #{index}: OutputUUID {target} refers to a later action")
    ranges = value.get("attachmentsByRange")
    if ranges is not None:
        text = value.get("string")
        if not isinstance(text, str) or not isinstance(ranges, dict):
            problems.append(f"action #{index}: malformed text-token string")
        else:
            size = P.utf16_len(text)
            for key in ranges:
                m = P.RANGE_KEY.fullmatch(key) if isinstance(key, str) else None
                if not m or int(m.group(1)) + int(m.group(2)) > size:
                    problems.append(f"action #{index}: attachment range {key!r} outside its string")
    for item in value.values():
        _check_values(item, index, position, problems, depth + 1)
