"""Validator: checks a ShortcutIR against an action catalog (shortcutdsl.md §6).

`validate(ir, catalog, mode)` returns errors and warnings; a program is valid when it has no errors.
"strict" measures against the catalog; "permissive" additionally lets unknown actions under a known
vendor prefix, and any other fully qualified identifier (§3.2 rules 1 and 4), through with warnings
(§6.1 tier 3), estimating what might still run. All other checks are the same in both modes.

Errors: `unknown_action`, `invalid_enum` (a literal outside a closed enum set the catalog knows),
`invalid_handle` (`@prev` with nothing at all before it), `unknown_condition` (unreachable from parsed
text but possible in IRs built by the model's lowering).

Warnings: `vendor_prefix_unknown`, `unknown_vendor`, `compiler_risk`, `empty_menu`, `unknown_param`,
`duplicate_param`,
`undefined_variable`, `prev_fallback`, `handle_context`, `unresolved_handle`,
`missing_error_handling`, `unreachable_code`, `repeat_count`, `set_literal`, `lossy_binary`.

Scoping follows §3.3.2 (our `@prev` rule): the producer of `@prev` is the most recent preceding
non-`comment` ACTION at the current level or inherited from enclosing levels, ignoring closed blocks
and SETs. When there is none but something precedes lexically, the compiler falls back to the
reference rule, so this is a `prev_fallback` warning; only when nothing precedes at all is it the
`invalid_handle` error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sashimi.dsl.ast import (
    CONDITIONS,
    ActionStatement,
    Comment,
    ForeachBlock,
    HandleRef,
    IfBlock,
    InterpolatedString,
    MenuBlock,
    NumberValue,
    RepeatBlock,
    SetVariable,
    ShortcutIR,
    Statement,
    StringValue,
    Value,
    VarRef,
    walk_values,
)
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.plist_refs import BINARY_PLACEHOLDER, MAGIC_HANDLES, sanitize

MODES = ("strict", "permissive")
APPLE = "is.workflow.actions."

# Block-output handles (§3.3.3 step 2) -> the block kind whose end marker produces them.
BLOCK_OUTPUT_HANDLES = {
    "conditional": "IF",
    "choosefrommenu": "MENU",
    "repeat_each": "FOREACH",
    "repeat_count": "REPEAT",
}


@dataclass(frozen=True)
class Issue:
    severity: str  # "error" | "warning"
    category: str
    message: str
    action_name: str | None = None
    param_name: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.severity} {self.category}: {self.message}"


@dataclass(frozen=True)
class ValidationResult:
    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def issues(self) -> tuple[Issue, ...]:
        return self.errors + self.warnings

    def categories(self) -> set[str]:
        return {i.category for i in self.issues}


@dataclass
class _Scope:
    """What is visible at a point of a statement list (copied into child blocks)."""

    defined: set[str]
    loop_vars: frozenset[str] = frozenset()
    prev: bool = False  # a block-scoped `@prev` producer exists (§3.3.2)
    loops: tuple[str, ...] = ()  # enclosing loop kinds, outermost first

    def child(self, loop: str | None = None) -> _Scope:
        loops = self.loops + ((loop,) if loop else ())
        loop_vars = self.loop_vars
        if loop:
            depth = len(loops)
            names = {"Repeat_Item", "Repeat_Index"}
            if depth >= 2:
                names |= {f"Repeat_Item_{depth}", f"Repeat_Index_{depth}"}
            loop_vars = loop_vars | names
        return _Scope(set(self.defined), frozenset(loop_vars), self.prev, loops)


@dataclass
class _Validator:
    catalog: Catalog
    mode: str
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    lexical_any: bool = False  # any ACTION/SET so far, anywhere (the reference `@prev` rule)
    closed_blocks: set[str] = field(default_factory=set)
    action_handles: set[str] = field(default_factory=set)  # sanitised names of earlier ACTIONs
    warned_vars: set[str] = field(default_factory=set)

    # -- reporting

    def error(self, category: str, message: str, stmt=None, action=None, param=None) -> None:
        self.errors.append(Issue("error", category, message, action, param, _line(stmt)))

    def warn(self, category: str, message: str, stmt=None, action=None, param=None) -> None:
        self.warnings.append(Issue("warning", category, message, action, param, _line(stmt)))

    # -- helpers

    def ident(self, stmt: ActionStatement) -> str | None:
        return self.catalog.resolve(stmt.action_name)

    def is_action(self, stmt: Statement, *suffixes: str) -> bool:
        return isinstance(stmt, ActionStatement) and self.ident(stmt) in {APPLE + s for s in suffixes}

    # -- statement lists

    def body(self, statements: tuple[Statement, ...], scope: _Scope) -> None:
        self.list_checks(statements)
        for stmt in statements:
            self.statement(stmt, scope)

    def list_checks(self, statements: tuple[Statement, ...]) -> None:
        """Checks about a statement's neighbours: missing error handling, unreachable code."""
        for i, stmt in enumerate(statements):
            if self.is_action(stmt, "downloadurl"):
                following = [
                    s
                    for s in statements[i + 1 :]
                    if not isinstance(s, SetVariable | Comment) and not self.is_action(s, "detect.dictionary")
                ][:3]
                if not any(isinstance(s, IfBlock) for s in following):
                    self.warn(
                        "missing_error_handling",
                        "downloadurl is not followed by an IF that checks the response",
                        stmt,
                        stmt.action_name,
                    )
            if self.is_action(stmt, "exit", "nothing"):
                rest = [s for s in statements[i + 1 :] if not isinstance(s, Comment)]
                if rest:
                    self.warn(
                        "unreachable_code",
                        f"{len(rest)} statement(s) after {stmt.action_name} never run",
                        rest[0],
                        stmt.action_name,
                    )
                break

    def statement(self, stmt: Statement, scope: _Scope) -> None:
        if isinstance(stmt, ActionStatement):
            self.action(stmt, scope)
        elif isinstance(stmt, SetVariable):
            self.uses(stmt.value, scope, stmt)
            if not isinstance(stmt.value, VarRef | HandleRef):
                self.warn(
                    "set_literal",
                    f"SET ${stmt.var_name} to a literal; Apple's idiom is a Text/Number action "
                    "followed by Set Variable",
                    stmt,
                )
            scope.defined.add(stmt.var_name)
            self.lexical_any = True
        elif isinstance(stmt, IfBlock):
            self.uses(stmt.target, scope, stmt)
            for value in (stmt.compare_value, *(v for _, v in stmt.params)):
                if value is not None:
                    self.uses(value, scope, stmt)
            if stmt.condition not in CONDITIONS:
                self.error("unknown_condition", f"unknown condition {stmt.condition!r}", stmt)
            bodies = [stmt.then_body] + ([stmt.else_body] if stmt.else_body is not None else [])
            self.blocks(bodies, scope, None)
            self.closed_blocks.add("IF")
        elif isinstance(stmt, MenuBlock):
            if isinstance(stmt.prompt, InterpolatedString):
                self.uses(stmt.prompt, scope, stmt)
            if not stmt.cases:  # real files contain item-less menus; they compile (issue 11.4)
                self.warn("empty_menu", "MENU without any CASE shows an empty menu", stmt)
            for _, value in stmt.params:
                self.uses(value, scope, stmt)
            self.blocks([case.body for case in stmt.cases], scope, None)
            self.closed_blocks.add("MENU")
        elif isinstance(stmt, RepeatBlock):
            self.uses(stmt.count, scope, stmt)
            count = stmt.count
            if isinstance(count, NumberValue) and not isinstance(count.value, bool):
                if count.value != int(count.value) or count.value < 1:
                    self.warn(
                        "repeat_count",
                        f"REPEAT count {count.value!r} is not a positive integer "
                        f"(compiled as {int(count.value)})",
                        stmt,
                    )
            self.blocks([stmt.body], scope, "REPEAT")
            self.closed_blocks.add("REPEAT")
        elif isinstance(stmt, ForeachBlock):
            self.uses(stmt.collection, scope, stmt)
            self.blocks([stmt.body], scope, "FOREACH")
            self.closed_blocks.add("FOREACH")
        # Comment (`#` line): nothing to check, never compiled.

    def blocks(self, bodies: list[tuple[Statement, ...]], scope: _Scope, loop: str | None) -> None:
        """Each body gets a child scope; variables set inside are merged back (Shortcuts variables
        are global); the `@prev` producer inside a block is discarded when it closes."""
        children = [scope.child(loop) for _ in bodies]  # siblings do not see each other's SETs
        for body, child in zip(bodies, children, strict=True):
            self.body(body, child)
        for child in children:
            scope.defined |= child.defined

    # -- actions

    def action(self, stmt: ActionStatement, scope: _Scope) -> None:
        name = stmt.action_name
        ident = self.ident(stmt)
        spec = self.catalog.get(ident) if ident is not None else None
        for key, value in stmt.params:
            self.uses(value, scope, stmt, name, key)
        # The parser merges repeated names (last value wins) and records them; an IR built by hand
        # may still carry the same name twice.
        seen: set[str] = set()
        repeated = list(stmt.duplicate_params)
        for key in stmt.param_names:
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        for key in repeated:
            self.warn("duplicate_param", f"parameter {key} given twice; the last value wins", stmt, name, key)
        for key, value in stmt.params:
            if any(
                isinstance(v, StringValue) and BINARY_PLACEHOLDER.fullmatch(v.value)
                for v in walk_values(value)
            ):
                self.warn(
                    "lossy_binary",
                    f"{key} holds a binary placeholder; the original data is lost",
                    stmt,
                    name,
                    key,
                )
        if spec is not None:
            self.known_action(stmt, ident)
        elif self.catalog.is_known_vendor(ident or name) or ident is not None:
            # `ident is not None` without a catalog entry: a fully qualified identifier (§3.2 rules 1
            # and 4), the user's explicit choice; permissive mode lets it through like a known vendor
            # (issue 11.5: whatever the decompiler prints must compile with --permissive).
            known = self.catalog.is_known_vendor(ident or name)
            if self.mode == "strict":
                self.error("unknown_action", f"unknown action {name!r} (not in the catalog)", stmt, name)
            else:
                self.warn(
                    "vendor_prefix_unknown" if known else "unknown_vendor",
                    f"action {name!r} is not in the catalog but has a known vendor prefix"
                    if known
                    else f"action {name!r} is a fully qualified identifier the catalog does not list",
                    stmt,
                    name,
                )
                for key, value in stmt.params:
                    if any(isinstance(v, VarRef | HandleRef) for v in walk_values(value)):
                        self.warn(
                            "compiler_risk",
                            f"{key} holds a reference; its wrapping for an uncatalogued action is a guess",
                            stmt,
                            name,
                            key,
                        )
        else:
            self.error("unknown_action", f"unknown action {name!r}", stmt, name)
        if ident in {APPLE + "setvariable", APPLE + "appendvariable"}:
            var = stmt.param("WFVariableName")
            if isinstance(var, StringValue):
                scope.defined.add(sanitize(var.value))
        self.lexical_any = True
        self.action_handles.add(sanitize(name))
        if ident != APPLE + "comment":
            scope.prev = True

    def known_action(self, stmt: ActionStatement, ident: str) -> None:
        name = stmt.action_name
        known = self.catalog.known_params(ident)
        for key, value in stmt.params:
            if known and key not in known:
                self.warn("unknown_param", f"{name} has no parameter {key!r} in the catalog", stmt, name, key)
            allowed = self.catalog.enum_values(ident, key)
            if allowed and isinstance(value, StringValue) and value.value not in allowed:
                self.error(
                    "invalid_enum",
                    f"{name} {key}={value.value!r} is not one of {', '.join(map(repr, allowed))}",
                    stmt,
                    name,
                    key,
                )

    # -- references

    def uses(
        self, value: Value, scope: _Scope, stmt, action: str | None = None, param: str | None = None
    ) -> None:
        for v in walk_values(value):
            if isinstance(v, VarRef):
                self.variable(v.name, scope, stmt, action, param)
            elif isinstance(v, HandleRef):
                self.handle(v.kind, scope, stmt, action, param)

    def variable(self, name: str, scope: _Scope, stmt, action, param) -> None:
        if name in scope.defined or name in scope.loop_vars or name in self.warned_vars:
            return
        self.warned_vars.add(name)  # once per name: the first use is the informative one
        self.warn("undefined_variable", f"${name} is used before it is set", stmt, action, param)

    def handle(self, kind: str, scope: _Scope, stmt, action, param) -> None:
        if kind == "prev":
            if scope.prev:
                return
            if self.lexical_any:
                self.warn(
                    "prev_fallback",
                    "@prev has no producer in its block; it falls back to the last ACTION/SET",
                    stmt,
                    action,
                    param,
                )
            else:
                self.error("invalid_handle", "@prev with no ACTION or SET before it", stmt, action, param)
        elif kind == "item":
            if "FOREACH" not in scope.loops:
                self.warn("handle_context", "@item outside a FOREACH", stmt, action, param)
        elif kind == "index":
            if not scope.loops:
                self.warn("handle_context", "@index outside a FOREACH or REPEAT", stmt, action, param)
        elif kind in ("input", "date") or kind in MAGIC_HANDLES:
            return
        elif kind in BLOCK_OUTPUT_HANDLES:
            if BLOCK_OUTPUT_HANDLES[kind] not in self.closed_blocks:
                self.warn(
                    "unresolved_handle",
                    f"@{kind}: no {BLOCK_OUTPUT_HANDLES[kind]} block has closed before it",
                    stmt,
                    action,
                    param,
                )
        elif kind not in self.action_handles:
            self.warn(
                "unresolved_handle",
                f"@{kind} names no earlier action; compiled as a variable reference",
                stmt,
                action,
                param,
            )


def _line(stmt) -> int | None:
    return getattr(stmt, "line", None) if stmt is not None else None


def validate(ir: ShortcutIR, catalog: Catalog, mode: str = "strict") -> ValidationResult:
    """Check `ir` against `catalog` in "strict" or "permissive" mode (§6)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    v = _Validator(catalog, mode)
    v.body(ir.statements, _Scope(set()))
    return ValidationResult(tuple(v.errors), tuple(v.warnings))
