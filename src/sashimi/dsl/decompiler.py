"""Decompiler: `.shortcut` (binary or XML plist) → ShortcutIR in the data's canonical style (§4).

`print_program(decompile(data, catalog).ir)` gives DSL text written the way the training targets
are: short names for `is.workflow.actions.*`, full identifiers otherwise (via
`catalog.canonical_name`), hidden bookkeeping parameters, `@prev` where the producer is the
block-scoped previous action, block-output and magic handles, `$Repeat_Item` and friends.

It is the inverse of our compiler's rules, so `parse(print(decompile(compile(parse(t)))))` equals
`parse(t)` for the data, with these deliberate normalisations (all documented in the report):
- "previous action" = the last regular action with a `UUID` that is neither a `comment` nor a
  Set Variable printed as SET, tracked block-scoped (§3.3.2); with no such action, a reference to
  the lexically last action is also printed `@prev` (the compiler's fallback), with a warning.
- A `Variable` that no Set Variable / Add to Variable in the file defines and that is not a loop
  variable is printed as a named handle `@Name`: it is what the compiler emits for a handle it
  could not resolve (§3.3.3 step 4), and undefined `$vars` are far rarer in the data.
- Fixes of §4.2: UTF-16 offsets, list items with attachments as backtick strings, unknown condition
  codes and malformed structure as `DecompileError`, unknown producers as a warning.

Untrusted input never produces a traceback: every problem is one `DecompileError` line naming the
file and, where it applies, the action index.
"""

from __future__ import annotations

import math
import plistlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any

from sashimi.dsl import plist_refs as P
from sashimi.dsl.ast import (
    CONDITION_SPECS,
    CONDITION_TABLE,
    RESERVED_HANDLES,
    ActionStatement,
    BoolValue,
    DictLiteral,
    ForeachBlock,
    HandleRef,
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
from sashimi.errors import DecompileError, Location

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 100  # block nesting and value nesting; real shortcuts stay far below

# Parameters never printed for regular actions (§4.1).
HIDDEN_PARAMS = frozenset(
    {
        "UUID",
        "GroupingIdentifier",
        "WFControlFlowMode",
        "WFMenuItems",
        "WFMenuItemTitle",
        "WFMenuItemAttributedTitle",
        "WFMenuPrompt",
        "WFCondition",
        "WFInput",
        "AppIntentDescriptor",
        "WFEnumeration",
        "WFLinkEnumeration",
        "WFNumberValue",
        "WFConditionalActionString",
        "CustomOutputName",
    }
)
# The "faithful" style prints every parameter of a regular action that the DSL can spell, including
# those the corpus style hides (§4.1): an explicit WFInput, CustomOutputName, AppIntentDescriptor,
# comparison-like keys, and — when some reference points at it — the UUID, so that decompile -> edit
# -> compile keeps every input, named output and app-intent descriptor (issue 11.9). Only `Show-…`
# keys (no DSL spelling; UI visibility flags) are still lost.
STYLES = ("corpus", "faithful")
# ShortcutDSL's ACTION_NAME token (§1.2): identifiers outside it cannot be printed.
_ACTION_NAME = re.compile(r"[A-Za-z_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_REF_TYPES = frozenset({"ActionOutput", "Variable", "ExtensionInput", "CurrentDate", *P.MAGIC_HANDLES})


@dataclass(frozen=True)
class DecompileWarning:
    category: str  # lossy_binary | prev_fallback | unknown_producer | dropped_param | ...
    message: str
    index: int | None = None  # action index in WFWorkflowActions


@dataclass(frozen=True)
class DecompiledShortcut:
    ir: ShortcutIR
    warnings: list = field(default_factory=list)


def decompile(
    data: bytes,
    catalog: Any,
    *,
    file: str = "<input>",
    name: str | None = None,
    style: str = "corpus",
) -> DecompiledShortcut:
    """Decompile `.shortcut` bytes (binary or XML plist).

    The name (one rule for every format, issue 11.8): `name` if given, else the plist's
    `WFWorkflowName` (our compiler writes it), else the file name without its extension (`_` read as
    a space, as Apple names exported files), else "Untitled" (stdin).

    `style="corpus"` prints the data's canonical style (§4.1: `WFInput`, `CustomOutputName` and
    `UUID` hidden); `style="faithful"` keeps those three, so that decompile -> compile preserves
    every explicit input, named output and reference (issue 11.9)."""
    if not isinstance(data, bytes | bytearray):
        raise DecompileError("input is not bytes", Location(file))
    if len(data) > MAX_BYTES:
        raise DecompileError(f"file larger than {MAX_BYTES} bytes", Location(file))
    if data[:4] == b"AEA1":
        raise DecompileError(
            "signed shortcut (Apple Encrypted Archive); only unsigned plists are readable", Location(file)
        )
    try:
        plist = plistlib.loads(bytes(data))
    except Exception as err:  # noqa: BLE001 - plistlib raises many types on corrupt input
        detail = " ".join(str(err).split())[:120] or type(err).__name__
        raise DecompileError(f"not a property list ({detail})", Location(file)) from None
    return decompile_plist(plist, catalog, file=file, name=name, style=style)


def decompile_plist(
    plist: Any, catalog: Any, *, file: str = "<input>", name: str | None = None, style: str = "corpus"
) -> DecompiledShortcut:
    """Decompile an already-loaded plist dict (see `decompile`)."""
    if style not in STYLES:
        raise ValueError(f"unknown decompile style {style!r} (known: {', '.join(STYLES)})")
    if not isinstance(plist, dict):
        raise DecompileError(f"top level is a {type(plist).__name__}, not a dictionary", Location(file))
    actions = plist.get("WFWorkflowActions")
    if not isinstance(actions, list):
        raise DecompileError("WFWorkflowActions missing or not a list", Location(file))
    if name is None:
        name = _shortcut_name(plist, file)
    decompiler = _Decompiler(actions, catalog, file, style)
    try:
        statements = decompiler.run()
    except RecursionError:
        raise DecompileError("nesting too deep", Location(file)) from None
    return DecompiledShortcut(ShortcutIR(name, tuple(statements)), decompiler.warnings)


@dataclass
class _Action:
    index: int
    identifier: str
    params: dict
    mode: int | None  # WFControlFlowMode, None for regular actions
    group: str | None
    synthetic: bool = False  # an end marker added by _repair_structure


@dataclass(frozen=True)
class _Producer:
    handle: str  # the named handle printed when the producer is not `@prev`
    index: int


class _Decompiler:
    def __init__(self, raw_actions: list, catalog: Any, file: str, style: str = "corpus"):
        self.catalog = catalog
        self.file = file
        # "faithful" keeps what the corpus style hides but behaviour depends on (issue 11.9).
        self.kept = HIDDEN_PARAMS if style == "faithful" else frozenset()
        self.warnings: list[DecompileWarning] = []
        self.actions = [self._normalise(i, a) for i, a in enumerate(raw_actions)]
        self._repair_structure()
        self.all_uuids = {
            a.params.get("UUID"): a.index for a in self.actions if isinstance(a.params.get("UUID"), str)
        }
        self.defined_vars = self._defined_variables()
        self.referenced = _referenced_uuids(raw_actions) if self.kept else frozenset()
        self.producers: dict[str, _Producer] = {}
        self.resolvable: set[str] = set()  # handle names the compiler would resolve (§3.3.3)
        self.named: dict[str, list[str]] = {}  # handle -> action keys, as the compiler registers them
        self.closed: dict[str, str | None] = {}  # block handle -> end-marker UUID of the latest one
        self.last_any: str | None = None  # UUID of the lexically last regular action
        self.pos = 0
        self.index: int | None = None

    # ------------------------------------------------------------------ input checks

    def error(self, message: str, index: int | None = None) -> DecompileError:
        index = self.index if index is None else index
        where = f"action #{index}: " if index is not None else ""
        return DecompileError(where + message, Location(self.file))

    def warn(self, category: str, message: str) -> None:
        self.warnings.append(DecompileWarning(category, message, self.index))

    def _normalise(self, i: int, raw: Any) -> _Action:
        if not isinstance(raw, dict):
            raise self.error(f"is a {type(raw).__name__}, not a dictionary", i)
        identifier = raw.get("WFWorkflowActionIdentifier")
        if not isinstance(identifier, str) or not identifier:
            raise self.error("has no WFWorkflowActionIdentifier", i)
        params = raw.get("WFWorkflowActionParameters", {})
        if not isinstance(params, dict):
            raise self.error("WFWorkflowActionParameters is not a dictionary", i)
        if any(not isinstance(k, str) for k in params):
            raise self.error("parameter name is not a string", i)
        mode = params.get("WFControlFlowMode")
        if mode is None:
            return _Action(i, identifier, params, None, None)
        if isinstance(mode, bool) or mode not in (0, 1, 2):
            raise self.error(f"invalid WFControlFlowMode {mode!r}", i)
        if identifier not in P.CONTROL_FLOW:
            raise self.error(f"unsupported control-flow action {identifier}", i)
        group = params.get("GroupingIdentifier")
        if not isinstance(group, str):
            raise self.error("control-flow marker without GroupingIdentifier", i)
        return _Action(i, identifier, params, int(mode), group)

    def _repair_structure(self) -> None:
        """Make the marker structure balanced, warning (with the action index) for every change.

        Real files contain what Apple's editor never writes: an end or middle marker whose start is
        missing, a loop with a middle marker, a second ELSE, a block never closed. Instead of refusing
        the whole file, stray markers are dropped and unclosed blocks are closed (at the point where an
        enclosing block ends, or at the end of the file): the best faithful reading (issue 11.4).
        """
        out: list[_Action] = []
        stack: list[_Action] = []
        middles: dict[int, int] = {}

        def close(start: _Action, why: str) -> None:
            self.warnings.append(
                DecompileWarning("unclosed_block", f"block opened here is never closed; {why}", start.index)
            )
            out.append(_Action(start.index, start.identifier, {}, 2, start.group, synthetic=True))

        for a in self.actions:
            if a.mode is None:
                out.append(a)
                continue
            if a.mode == 0:
                stack.append(a)
                if len(stack) > MAX_DEPTH:
                    raise self.error("blocks nest too deeply", a.index)
                middles[a.index] = 0
                out.append(a)
                continue
            kind = "end" if a.mode == 2 else "middle"
            match = next(
                (
                    i
                    for i in range(len(stack) - 1, -1, -1)
                    if stack[i].group == a.group and stack[i].identifier == a.identifier
                ),
                None,
            )
            if match is None:
                self.warnings.append(
                    DecompileWarning("stray_marker", f"{kind} marker without its start; dropped", a.index)
                )
                continue
            while len(stack) - 1 > match:  # blocks opened inside and never closed end here
                close(stack.pop(), f"closed where its enclosing block ends (action #{a.index})")
            start = stack[-1]
            if a.mode == 1:
                middles[start.index] += 1
                if a.identifier in (P.REPEAT_COUNT, P.REPEAT_EACH) or (
                    a.identifier == P.CONDITIONAL and middles[start.index] > 1
                ):
                    self.warnings.append(
                        DecompileWarning("stray_marker", "unexpected middle marker; dropped", a.index)
                    )
                    continue
            else:
                stack.pop()
            out.append(a)
        while stack:
            close(stack.pop(), "closed at the end of the file")
        self.actions = out

    def _defined_variables(self) -> set[str]:
        names = set()
        for a in self.actions:
            if a.identifier in (P.SETVARIABLE, P.APPENDVARIABLE):
                value = a.params.get("WFVariableName")
                if isinstance(value, str):
                    names.add(value)
        return names

    # ------------------------------------------------------------------ structure

    def run(self) -> list:
        statements, _ = self.body(prev=None)
        return statements

    def body(self, prev: str | None) -> tuple[list, _Action | None]:
        """Statements up to the next middle/end marker (returned, not consumed) or the end."""
        out: list = []
        while self.pos < len(self.actions):
            a = self.actions[self.pos]
            self.index = a.index
            if a.mode in (1, 2):
                return out, a
            if a.mode == 0:
                block = self.block(a, prev)
                out.extend(block if isinstance(block, tuple) else (block,))
            else:
                self.pos += 1
                stmt, produces = self.regular(a, prev)
                out.append(stmt)
                if produces is not None:
                    prev = produces
        return out, None

    def regular(self, a: _Action, prev: str | None):
        """A non-marker action → (statement, whether it becomes the previous action)."""
        params = a.params
        var_name = params.get("WFVariableName")
        if a.identifier == P.SETVARIABLE and isinstance(var_name, str) and var_name and "WFInput" in params:
            stmt: Any = SetVariable(P.sanitize(var_name), self.value(params["WFInput"], prev, 0))
            self.register(a, prev_candidate=False)
            return stmt, None
        name = self.action_name(a.identifier)
        out = []
        for key, raw in params.items():
            if key.startswith("Show-") or (key in HIDDEN_PARAMS and key not in self.kept):
                continue
            if self.kept and key == "UUID" and raw not in self.referenced:
                continue  # only a UUID that some reference points at carries meaning
            if not P.IDENT.fullmatch(key):
                self.warn("dropped_param", f"parameter {key!r} cannot be written in ShortcutDSL")
                continue
            value = self.value(raw, prev, 0)
            out.append((key, value))
        produces = self.register(a, prev_candidate=a.identifier != P.COMMENT)
        # What the compiler will let `@Name` resolve to from here on (§3.3.3 step 3), registered
        # exactly as the compiler does: under the name as written, the custom output name and an
        # explicit UUID.
        action_key = self._key(a)
        handles = [P.sanitize(name)]
        custom = params.get("CustomOutputName")
        if isinstance(custom, str) and custom:
            handles.append(P.sanitize(custom))
        if self.kept and params.get("UUID") in self.referenced:
            handles.append(P.uuid_handle(params["UUID"]))
        for handle in handles:
            self.resolvable.add(handle)
            if action_key is not None:
                self.named.setdefault(handle, []).append(action_key)
        return ActionStatement(name, tuple(out)), produces

    def action_name(self, identifier: str, *, warn: bool = True) -> str:
        """The data's spelling (short name for built-ins) when it resolves back to `identifier`,
        else the full identifier: whatever is printed must compile to the same action (issue 11.5)."""
        name = self.catalog.canonical_name(identifier)
        if name != identifier and self.catalog.resolve(name) != identifier:
            name = identifier
        if not _ACTION_NAME.fullmatch(name):
            raise self.error(f"action identifier {identifier!r} cannot be written in ShortcutDSL")
        if warn and self.catalog.resolve(name) != identifier:
            self.warn("unresolvable_action", f"{identifier!r} will not compile back to the same action")
        return name

    def _key(self, a: _Action) -> str | None:
        """How references name this action: its UUID; in the faithful style an action without one
        still gets a private key, because the compiler will give it a UUID and so make it the
        previous action (references then resolve exactly as they will after compiling)."""
        action_uuid = a.params.get("UUID")
        if isinstance(action_uuid, str):
            return action_uuid
        return f"#action{a.index}" if self.kept else None

    def register(self, a: _Action, *, prev_candidate: bool) -> str | None:
        """Record a regular action as a producer; return its key if it becomes the previous action."""
        key = self._key(a)
        if key is None:
            return None
        action_uuid = a.params.get("UUID")
        if isinstance(action_uuid, str):
            custom = a.params.get("CustomOutputName")
            label = (
                custom if isinstance(custom, str) and custom else self.action_name(a.identifier, warn=False)
            )
            self.producers[action_uuid] = _Producer(P.sanitize(label), a.index)
        self.last_any = key
        return key if prev_candidate else None

    def _resolves_to(self, handle: str, prev: str | None) -> str | None:
        """The action key the compiler will resolve `@handle` to (§3.3.3 step 3, our compiler's rule:
        the most recent action of that name other than the current `@prev` producer)."""
        candidates = self.named.get(handle)
        if not candidates:
            return None
        earlier = [c for c in candidates if c != prev]
        return earlier[-1] if earlier else candidates[-1]

    def block(self, start: _Action, prev: str | None):
        self.pos += 1
        ident, params = start.identifier, start.params
        if ident == P.CONDITIONAL:
            condition, consumed = self.condition(params)
            if condition == "raw_condition":
                target: Any = HandleRef("prev")  # not compiled: WFInput, if any, stays raw
            else:
                target = self.if_target(params, prev)
                consumed.add("WFInput")
            compare = self.compare_value(condition, params, consumed, prev)
            raw = self.raw_params(params, consumed, prev)
            then_body, marker = self.body(prev)
            else_body = None
            if marker is not None and marker.mode == 1:
                self.pos += 1
                else_body, marker = self.body(prev)
                else_body = tuple(else_body)
            self.end(start, marker)
            return IfBlock(target, condition, compare, tuple(then_body), else_body, params=raw)
        if ident == P.MENU:
            prompt = self.menu_prompt(params, prev)
            labels = params.get("WFMenuItems")
            # Raw parameters are read before the cases, as the compiler writes them: `@prev` and
            # named handles must resolve from what precedes the MENU, not from its last case.
            raw = self.raw_params(params, {"WFMenuPrompt"}, prev)
            cases = []
            preamble, marker = self.body(prev)
            if preamble:
                # Actions between a menu's start and its first case never run in Apple's model of a
                # menu; the DSL has no place for them, so they are printed just before the MENU.
                self.warnings.append(
                    DecompileWarning(
                        "menu_preamble",
                        f"{len(preamble)} statement(s) between the menu start and its first case "
                        "moved before the MENU",
                        start.index,
                    )
                )
            while marker is not None and marker.mode == 1:
                self.pos += 1
                label = self.case_label(marker, len(cases), labels)
                body, next_marker = self.body(prev)
                cases.append(MenuCase(label, tuple(body)))
                marker = next_marker
            self.end(start, marker)
            # WFMenuItems is implied by the cases when it is the plain list of their labels; any
            # other form (field items with synonyms, a mismatch) is kept raw so it compiles back.
            if labels == [case.label for case in cases]:
                raw = tuple((key, value) for key, value in raw if key != "WFMenuItems")
            menu = MenuBlock(prompt, tuple(cases), params=raw)
            return (*preamble, menu) if preamble else menu
        if ident == P.REPEAT_COUNT:
            count = self.repeat_count(params, prev)
            body, marker = self.body(prev)
            self.end(start, marker)
            return RepeatBlock(count, tuple(body))
        collection = self.loop_input(params, prev, "FOREACH collection")
        body, marker = self.body(prev)
        self.end(start, marker)
        return ForeachBlock(collection, tuple(body))

    def end(self, start: _Action, marker: _Action | None) -> None:
        # _check_structure guarantees the marker exists and belongs to `start`.
        assert marker is not None and marker.mode == 2 and marker.group == start.group
        self.pos += 1
        self.index = marker.index
        self.resolvable.add(P.BLOCK_HANDLE_OF[start.identifier])
        end_uuid = marker.params.get("UUID")
        self.closed[P.BLOCK_HANDLE_OF[start.identifier]] = end_uuid if isinstance(end_uuid, str) else None
        if isinstance(end_uuid, str):
            self.producers[end_uuid] = _Producer(P.BLOCK_HANDLE_OF[start.identifier], marker.index)

    # ------------------------------------------------------------------ block heads

    def if_target(self, params: dict, prev: str | None):
        raw = params.get("WFInput")
        if raw is None:
            self.warn("implicit_input", "IF without WFInput compares the previous output")
            return HandleRef("prev")
        if isinstance(raw, dict) and raw.get("Type") == "Variable" and isinstance(raw.get("Variable"), dict):
            raw = raw["Variable"]
        value = self.value(raw, prev, 0)
        if not isinstance(value, VarRef | HandleRef):
            raise self.error("IF input is not a reference")
        return value

    def condition(self, params: dict) -> tuple[str, set[str]]:
        """(canonical condition word, start-marker keys it accounts for) — §1.7a.

        The code picks the meaning; for codes Apple shares between compared types (4, 5, 0-3, 1003)
        the value key present picks the word. A `WFCondition` no word can reproduce exactly (text
        such as 'Equals', '', 1001, a missing key) stays a raw parameter, so recompiling writes the
        same value; a missing one with `WFConditions` is the multi-condition form.
        """
        marker_keys = {"GroupingIdentifier", "WFControlFlowMode"}
        code = params.get("WFCondition")
        exact = True
        if isinstance(code, str) and code in P.TEXT_CONDITION_CODES:
            code, exact = P.TEXT_CONDITION_CODES[code], False
        if isinstance(code, bool) or not isinstance(code, int):
            code = None
        # Text first, then numbers, ...: with no value key present, `equals_string` is the reading.
        candidates = sorted(
            (spec for spec in CONDITION_TABLE if spec.code is not None and spec.code == code),
            key=lambda spec: P.COMPARE_KEYS.index(spec.value_key) if spec.value_key else -1,
        )
        if not candidates:
            if "WFConditions" not in params:
                self.warn(
                    "raw_condition", f"condition code {params.get('WFCondition', '(none)')!r} kept as written"
                )
            return "raw_condition", marker_keys
        present = [key for key in P.COMPARE_KEYS if key in params]
        chosen = next(
            (spec for key in present for spec in candidates if spec.value_key == key),
            candidates[0],
        )
        if not exact:
            self.warn("raw_condition", f"condition {params['WFCondition']!r} read as {chosen.word}")
            return chosen.word, marker_keys
        return chosen.word, marker_keys | {"WFCondition"}

    def compare_value(self, condition: str, params: dict, consumed: set[str], prev: str | None):
        """The comparison value, from the key the condition reads — never from another type's key,
        which real files often keep with a stale value (issue 11.2). `is_between` with both bounds
        gives the two-item list `[low, high]`."""
        spec = CONDITION_SPECS[condition]
        if spec.code is None:
            return None
        key = spec.value_key
        if key is None:
            # Existence checks and `is_today` take no value; one stored anyway is read where the
            # compiler writes it back (§3.7): a number under WFNumberValue, else the text key.
            if isinstance(params.get("WFNumberValue"), int | float) and not isinstance(
                params.get("WFNumberValue"), bool
            ):
                key = "WFNumberValue"
            elif "WFConditionalActionString" in params and not (
                isinstance(params["WFConditionalActionString"], int | float)
                and not isinstance(params["WFConditionalActionString"], bool)
            ):
                key = "WFConditionalActionString"
            else:
                return None
        if key not in params:
            return None
        consumed.add(key)
        compare = self.value(params[key], prev, 0)
        if spec.upper_key is not None and spec.upper_key in params:
            consumed.add(spec.upper_key)
            compare = ListLiteral((compare, self.value(params[spec.upper_key], prev, 0)))
        return compare

    def raw_params(self, params: dict, consumed: set[str], prev: str | None) -> tuple:
        """Start-marker parameters nothing else prints, kept as raw IF/MENU parameters (§1.7a)."""
        out = []
        for key, raw in params.items():
            if key in consumed or key in ("GroupingIdentifier", "WFControlFlowMode"):
                continue
            if not P.IDENT.fullmatch(key):
                self.warn("dropped_param", f"parameter {key!r} cannot be written in ShortcutDSL")
                continue
            if key == "WFInput" or _referenced_uuids(raw):
                # The IF input is a reference (compiled back in Apple's variable_ref form); any other
                # value that points at an action's output must become a handle too, in both styles:
                # a SET keeps no UUID, so a verbatim OutputUUID would dangle after recompiling.
                out.append((key, self.value(raw, prev, 0)))
            else:
                # Verbatim: no reading of field items, text tokens or references, so that the
                # compiler writes back exactly these keys and values (issue 11.3).
                out.append((key, self.verbatim(raw, 0)))
        return tuple(out)

    def verbatim(self, raw: Any, depth: int):
        """A plist value as a literal, structure for structure (the raw-parameter escape hatch)."""
        if depth > MAX_DEPTH:
            raise self.error("values nest too deeply")
        if isinstance(raw, dict):
            if any(not isinstance(k, str) for k in raw):
                raise self.error("dictionary key is not a string")
            return DictLiteral(tuple((k, self.verbatim(v, depth + 1)) for k, v in raw.items()))
        if isinstance(raw, list):
            return ListLiteral(tuple(self.verbatim(v, depth + 1) for v in raw))
        return self.value(raw, None, depth)

    def menu_prompt(self, params: dict, prev: str | None):
        raw = params.get("WFMenuPrompt", "Choose")
        value = self.value(raw, prev, 0)
        if isinstance(value, StringValue):
            return value.value
        if isinstance(value, InterpolatedString):
            return value
        if isinstance(value, VarRef | HandleRef):
            return InterpolatedString((value,))
        raise self.error("menu prompt is not text")

    def case_label(self, marker: _Action, n: int, labels: Any) -> str:
        title = marker.params.get("WFMenuItemTitle")
        if isinstance(title, str):
            return title
        attributed = marker.params.get("WFMenuItemAttributedTitle")
        if isinstance(attributed, dict) and isinstance(attributed.get("Value"), dict):
            attributed = attributed["Value"]  # the text-token wrapper
        if isinstance(attributed, dict) and isinstance(attributed.get("string"), str):
            return attributed["string"]
        if isinstance(labels, list) and n < len(labels) and isinstance(labels[n], str):
            return labels[n]
        return f"Case {n + 1}"

    def repeat_count(self, params: dict, prev: str | None):
        raw = params.get("WFRepeatCount", 1)
        value = self.value(raw, prev, 0)
        if isinstance(value, StringValue):
            value = _number(value.value)
        if isinstance(value, NumberValue | VarRef | HandleRef):
            return value
        raise self.error("REPEAT count is neither a number nor a reference")

    def loop_input(self, params: dict, prev: str | None, what: str):
        raw = params.get("WFInput")
        if raw is None:
            self.warn("implicit_input", f"{what} without WFInput iterates the previous output")
            return HandleRef("prev")
        value = self.value(raw, prev, 0)
        if not isinstance(value, VarRef | HandleRef):
            raise self.error(f"{what} is not a reference")
        return value

    # ------------------------------------------------------------------ references

    def reference(self, raw: dict, prev: str | None):
        kind = raw.get("Type")
        if kind == "ActionOutput":
            target = raw.get("OutputUUID")
            if target == prev and prev is not None:
                return HandleRef("prev")
            if prev is None and target is not None and target == self.last_any:
                self.warn("prev_fallback", "reference to the lexically last action printed as @prev")
                return HandleRef("prev")
            producer = self.producers.get(target) if isinstance(target, str) else None
            if producer is not None:
                handle = producer.handle
                if handle in RESERVED_HANDLES:  # e.g. the `date` action vs `@date`
                    self.warn("ambiguous_handle", f"@{handle} also means a built-in handle")
                elif handle in P.BLOCK_HANDLES:
                    if self.closed.get(handle) != target:
                        self.warn("ambiguous_handle", f"@{handle} will name a later block's output")
                elif self._resolves_to(handle, prev) != target:
                    if self.kept and target in self.referenced:
                        # Another action of the same name is nearer: name this one by its UUID.
                        return HandleRef(P.uuid_handle(target))
                    self.warn("ambiguous_handle", f"@{handle} will name a later action of that name")
                return HandleRef(handle)
            output_name = raw.get("OutputName")
            fallback = P.sanitize(output_name) if isinstance(output_name, str) and output_name else "prev"
            self.warn(
                "unknown_producer", f"OutputUUID {target!r} names no earlier action; printed as @{fallback}"
            )
            return HandleRef(fallback)
        if kind == "Variable":
            name = raw.get("VariableName")
            if not isinstance(name, str) or not name:
                raise self.error("variable reference without VariableName")
            sanitized = P.sanitize(name)
            if (
                name in self.defined_vars
                or P.REPEAT_VAR_APPLE.fullmatch(name)
                or sanitized in RESERVED_HANDLES
            ):
                return VarRef(sanitized)
            if sanitized in self.resolvable or sanitized in P.MAGIC_HANDLES:
                # `@Name` would compile to something else (an action output, a block output or
                # a magic value): print the variable as `$Name`, which compiles to this variable.
                return VarRef(sanitized)
            return HandleRef(sanitized)  # an unresolved handle (see module docstring)
        if kind == "ExtensionInput":
            return HandleRef("input")
        if kind == "CurrentDate":
            return HandleRef("date")
        return HandleRef(kind)  # magic values: DeviceDetails, Ask, Clipboard, AskEachTime

    # ------------------------------------------------------------------ values

    def value(self, raw: Any, prev: str | None, depth: int):
        if depth > MAX_DEPTH:
            raise self.error("values nest too deeply")
        if isinstance(raw, bool):
            return BoolValue(raw)
        if isinstance(raw, int):
            return NumberValue(raw)
        if isinstance(raw, float):
            if not math.isfinite(raw):
                raise self.error(f"non-finite number {raw!r}")
            # The data's convention: integral floats print as ints — but only where a plist integer
            # can hold them (a binary plist stores at most 64 bits).
            return NumberValue(int(raw) if raw.is_integer() and abs(raw) < 2**63 else raw)
        if isinstance(raw, str):
            return StringValue(raw)
        if isinstance(raw, bytes | bytearray):
            self.warn("lossy_binary", f"{len(raw)} bytes of binary data replaced by a placeholder")
            return StringValue(f"<binary:{len(raw)}bytes>")
        if isinstance(raw, datetime):
            self.warn("date_as_text", "a date value is written as ISO text")
            return StringValue(raw.isoformat())
        if isinstance(raw, list):
            return self.list_value(raw, prev, depth)
        if isinstance(raw, dict):
            return self.dict_value(raw, prev, depth)
        raise self.error(f"unsupported plist value of type {type(raw).__name__}")

    def dict_value(self, raw: dict, prev: str | None, depth: int):
        if any(not isinstance(k, str) for k in raw):
            raise self.error("dictionary key is not a string")
        kind = raw.get("Type")
        kind = kind if isinstance(kind, str) else None
        if kind in _REF_TYPES and not (kind == "Variable" and "Variable" in raw):
            return self.reference(raw, prev)
        serialization = raw.get("WFSerializationType")
        inner = raw.get("Value")
        if kind == "Variable" and isinstance(raw.get("Variable"), dict):
            return self.value(raw["Variable"], prev, depth + 1)  # the `variable_ref` wrapper
        if serialization == "WFTextTokenAttachment" and isinstance(inner, dict):
            value = self.value(inner, prev, depth + 1)
            if isinstance(value, VarRef | HandleRef):
                return value
        if (
            serialization == "WFTextTokenString"
            and isinstance(inner, dict)
            and isinstance(inner.get("string"), str)
        ):
            return self.text_token(inner, prev, depth)
        if serialization == "WFQuantityFieldValue" and isinstance(inner, dict):
            quantity = self.quantity(inner, prev, depth)
            if quantity is not None:
                return quantity
        return DictLiteral(tuple((k, self.value(v, prev, depth + 1)) for k, v in raw.items()))

    def text_token(self, inner: dict, prev: str | None, depth: int):
        text = inner["string"]
        ranges = inner.get("attachmentsByRange") or {}
        if not isinstance(ranges, dict):
            raise self.error("attachmentsByRange is not a dictionary")
        units = text.encode("utf-16-le")
        size = len(units) // 2
        spans = []
        for key, ref in ranges.items():
            m = P.RANGE_KEY.fullmatch(key) if isinstance(key, str) else None
            if not m:
                raise self.error(f"malformed attachment range {key!r}")
            start, length = int(m.group(1)), int(m.group(2))
            if start + length > size:
                raise self.error(f"attachment range {key!r} outside its string")
            if not isinstance(ref, dict):
                raise self.error("attachment is not a reference")
            spans.append((start, length, ref))
        spans.sort(key=lambda s: s[0])
        parts: list = []
        cursor = 0
        for start, length, ref in spans:
            if start < cursor:
                raise self.error("overlapping attachment ranges")
            parts.append(_utf16_slice(units, cursor, start))
            covered = _utf16_slice(units, start, start + length)
            if covered != P.OBJECT_REPLACEMENT:
                self.warn("attachment_text", f"attachment range covers {covered!r}, not U+FFFC")
            value = self.value(ref, prev, depth + 1)
            if not isinstance(value, VarRef | HandleRef):
                raise self.error("attachment is not a reference")
            parts.append(value)
            cursor = start + length
        parts.append(_utf16_slice(units, cursor, size))
        refs = [p for p in parts if not isinstance(p, str)]
        if not refs:
            return StringValue(text)
        runs = [p for p in parts if isinstance(p, str)]
        if any(ch in run for run in runs for ch in "`{}"):
            # A backtick string cannot hold these characters: inline the references as text (§4.1).
            self.warn("lossy_text", "text with ` { or } and placeholders printed as plain text")
            return StringValue("".join(p if isinstance(p, str) else _ref_text(p) for p in parts))
        merged = tuple(StringValue(p) if isinstance(p, str) else p for p in parts if p != "")
        return InterpolatedString(merged)

    def quantity(self, inner: dict, prev: str | None, depth: int):
        unit = inner.get("Unit")
        if not isinstance(unit, str) or "Magnitude" not in inner:
            return None
        magnitude = self.value(inner["Magnitude"], prev, depth + 1)
        if isinstance(magnitude, StringValue):
            magnitude = _number(magnitude.value)
        if isinstance(magnitude, NumberValue):
            return QuantityLiteral(magnitude.value, unit)
        if isinstance(magnitude, VarRef | HandleRef):
            return QuantityLiteral(magnitude, unit)
        return None

    def list_value(self, raw: list, prev: str | None, depth: int):
        first = raw[0] if raw else None
        if isinstance(first, dict) and "WFKey" in first:
            return self.field_items(raw, prev, depth)
        if isinstance(first, dict) and "WFValue" in first:
            return ListLiteral(tuple(self.field_item_value(item, prev, depth) for item in raw))
        return ListLiteral(tuple(self.value(item, prev, depth + 1) for item in raw))

    def field_items(self, raw: list, prev: str | None, depth: int) -> DictLiteral:
        entries = []
        for item in raw:
            if not isinstance(item, dict):
                raise self.error("dictionary field item is not a dictionary")
            key = self.value(item.get("WFKey", ""), prev, depth + 1)
            if isinstance(key, InterpolatedString):
                self.warn("lossy_text", "a dictionary key with placeholders is written as plain text")
                key = StringValue(
                    "".join(p.value if isinstance(p, StringValue) else _ref_text(p) for p in key.parts)
                )
            if not isinstance(key, StringValue):
                raise self.error("dictionary field key is not text")
            entries.append((key.value, self.field_item_value(item, prev, depth)))
        return DictLiteral(tuple(entries))

    def field_item_value(self, item: Any, prev: str | None, depth: int):
        if not isinstance(item, dict) or "WFValue" not in item:
            return self.value(item, prev, depth + 1)
        item_type = item.get("WFItemType", 0)
        raw = item["WFValue"]
        inner = raw.get("Value") if isinstance(raw, dict) else None
        if item_type == 1 and isinstance(inner, dict):
            if isinstance(inner.get("Value"), dict):  # exported files sometimes wrap twice (§3.8)
                inner = inner["Value"]
            items = inner.get("WFDictionaryFieldValueItems")
            if isinstance(items, list):
                return self.field_items(items, prev, depth + 1) if items else DictLiteral(())
        if item_type == 2 and isinstance(inner, list):
            return ListLiteral(tuple(self.field_item_value(v, prev, depth + 1) for v in inner))
        if item_type == 4 and isinstance(inner, bool):
            return BoolValue(inner)
        value = self.value(raw, prev, depth + 1)
        if item_type == 3 and isinstance(value, StringValue):
            number = _number(value.value)
            return number if number is not None else value
        return value


def _shortcut_name(plist: dict, file: str) -> str:
    """`WFWorkflowName` if stored, else the file name without extension (Apple writes spaces as `_`,
    §3.9), else Untitled — the same rule for binary and XML plists, whatever the extension."""
    stored = plist.get("WFWorkflowName")
    if isinstance(stored, str):
        return stored
    if file.startswith("<") and file.endswith(">"):  # <input>, <stdin>: no file name
        return "Untitled"
    stem = PurePath(file).stem
    return stem.replace("_", " ") if stem else "Untitled"


def _referenced_uuids(value: Any, depth: int = 0) -> frozenset[str]:
    """Every `OutputUUID` some reference in the file points at."""
    found: set[str] = set()
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if level > 4 * MAX_DEPTH:
            continue
        if isinstance(item, dict):
            target = item.get("OutputUUID")
            if isinstance(target, str):
                found.add(target)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return frozenset(found)


def _utf16_slice(units: bytes, start: int, end: int) -> str:
    return units[2 * start : 2 * end].decode("utf-16-le", errors="replace")


def _ref_text(ref: VarRef | HandleRef) -> str:
    return f"${ref.name}" if isinstance(ref, VarRef) else f"@{ref.kind}"


def _number(text: str) -> NumberValue | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if number.is_integer() and "." not in text and "e" not in text.lower():
        return NumberValue(int(number))
    return NumberValue(int(number) if number.is_integer() else number)
