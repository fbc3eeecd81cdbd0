"""What both negative sources share: the triple record, tags, IR navigation by body path, reference
mapping, and the per-program context (see the package docstring)."""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from sashimi.dsl.ast import (
    ActionStatement,
    DictLiteral,
    ForeachBlock,
    HandleRef,
    HeadersLiteral,
    IfBlock,
    InterpolatedString,
    ListLiteral,
    MenuBlock,
    QuantityLiteral,
    RepeatBlock,
    SetVariable,
    ShortcutIR,
    Statement,
    Value,
    VarRef,
    child_bodies,
    with_child_body,
)
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.repair_tables import CONDITION_SYNONYMS, HALLUCINATION_ALIASES, RISKY_ALIASES

LINTER, SYNTHETIC = "linter", "synthetic"
SOURCES = (LINTER, SYNTHETIC)
STILL_VALID = "still_valid"

# Synthetic error tags (the linter source uses the linter's change kinds instead).
TAG_ACTION_SWAP = "action_swap"
TAG_STRUCTURE = "structure"
TAG_ENUM = "enum"
TAG_CONDITION = "condition"
TAG_PARAM_DROP = "param_drop"
TAG_HANDLE = "handle"

_COMMENT_NAMES = frozenset({"comment", "is.workflow.actions.comment"})


@dataclass(frozen=True)
class NegativeTriple:
    prompt: str
    shortcut_id: str
    positive: dict  # typed IR JSON (TypedProgram.to_json)
    negative: dict  # typed IR JSON of the negative's reading
    error_tags: tuple[str, ...]
    source: str  # "linter" | "synthetic"
    operators: tuple[str, ...]  # the corruption operators applied, in order
    negative_text: str  # linter: the raw corrupted text; synthetic: canonical text of the negative
    reading: str  # "literal" | "lint" | "ir" (synthetic)
    lint_restores: bool  # linting negative_text gives back the positive IR
    lowerable: bool  # the negative typed IR lowers back to a ShortcutIR (see module docstring)

    def to_json(self) -> dict:
        return {
            "prompt": self.prompt,
            "shortcut_id": self.shortcut_id,
            "positive": self.positive,
            "negative": self.negative,
            "error_tags": list(self.error_tags),
            "source": self.source,
            "operators": list(self.operators),
            "negative_text": self.negative_text,
            "reading": self.reading,
            "lint_restores": self.lint_restores,
            "lowerable": self.lowerable,
        }


# ============================================================================ IR navigation
#
# A body is addressed by a path of (statement index, body key) steps from the program's top level;
# keys: "then", "else", "body" (loops), "case:<i>".

BodyPath = tuple[tuple[int, str], ...]


def _child_body(stmt: Statement, key: str) -> tuple[Statement, ...]:
    return dict(child_bodies(stmt))[key]


def _get_body(stmts: tuple[Statement, ...], path: BodyPath) -> tuple[Statement, ...]:
    for idx, key in path:
        stmts = _child_body(stmts[idx], key)
    return stmts


def _set_body(
    stmts: tuple[Statement, ...], path: BodyPath, body: tuple[Statement, ...]
) -> tuple[Statement, ...]:
    if not path:
        return body
    (idx, key), rest = path[0], path[1:]
    stmt = stmts[idx]
    new = with_child_body(stmt, key, _set_body(_child_body(stmt, key), rest, body))
    return (*stmts[:idx], new, *stmts[idx + 1 :])


def _sites_in(stmts: tuple[Statement, ...], path: BodyPath) -> Iterator[tuple[BodyPath, int, Statement]]:
    for i, stmt in enumerate(stmts):
        yield path, i, stmt
        for key, body in child_bodies(stmt):
            yield from _sites_in(body, (*path, (i, key)))


def _sites(ir: ShortcutIR) -> list[tuple[BodyPath, int, Statement]]:
    """Every statement with its body path and index, in `ShortcutIR.walk()` order (depth-first)."""
    return list(_sites_in(ir.statements, ()))


def _replace_stmt(
    ir: ShortcutIR, path: BodyPath, idx: int, new: Statement | Iterable[Statement]
) -> ShortcutIR:
    body = _get_body(ir.statements, path)
    new_stmts = (new,) if not isinstance(new, tuple | list) else tuple(new)
    return replace(ir, statements=_set_body(ir.statements, path, (*body[:idx], *new_stmts, *body[idx + 1 :])))


def _is_comment_action(stmt: Statement) -> bool:
    return isinstance(stmt, ActionStatement) and stmt.action_name in _COMMENT_NAMES


# ---------------------------------------------------------------------------- references
#
# A reference occurrence is addressed by its ordinal in a fixed traversal order; `_map_refs` rebuilds
# the program with one occurrence replaced.

RefFn = Callable[[VarRef | HandleRef], VarRef | HandleRef]


class _RefMapper:
    def __init__(self, target: int | None, fn: RefFn | None):
        self.count = 0
        self.found: list[VarRef | HandleRef] = []
        self.target, self.fn = target, fn

    def ref(self, ref: VarRef | HandleRef) -> VarRef | HandleRef:
        k = self.count
        self.count += 1
        self.found.append(ref)
        return self.fn(ref) if k == self.target and self.fn is not None else ref

    def value(self, v: Value) -> Value:
        if isinstance(v, VarRef | HandleRef):
            return self.ref(v)
        if isinstance(v, InterpolatedString):
            return InterpolatedString(
                tuple(self.ref(p) if isinstance(p, VarRef | HandleRef) else p for p in v.parts)
            )
        if isinstance(v, DictLiteral | HeadersLiteral):
            return type(v)(tuple((k, self.value(x)) for k, x in v.entries))
        if isinstance(v, ListLiteral):
            return ListLiteral(tuple(self.value(x) for x in v.items))
        if isinstance(v, QuantityLiteral) and isinstance(v.magnitude, VarRef | HandleRef):
            return QuantityLiteral(self.ref(v.magnitude), v.unit)
        return v

    def stmts(self, body: tuple[Statement, ...]) -> tuple[Statement, ...]:
        return tuple(self.stmt(s) for s in body)

    def stmt(self, s: Statement) -> Statement:
        if isinstance(s, ActionStatement):
            if s.action_name in _COMMENT_NAMES:
                return s
            return replace(s, params=tuple((k, self.value(v)) for k, v in s.params))
        if isinstance(s, SetVariable):
            return replace(s, value=self.value(s.value))
        if isinstance(s, IfBlock):
            target = self.ref(s.target)
            cmp = self.value(s.compare_value) if s.compare_value is not None else None
            then = self.stmts(s.then_body)
            other = self.stmts(s.else_body) if s.else_body is not None else None
            return replace(s, target=target, compare_value=cmp, then_body=then, else_body=other)
        if isinstance(s, MenuBlock):
            prompt = self.value(s.prompt) if isinstance(s.prompt, InterpolatedString) else s.prompt
            cases = tuple(replace(c, body=self.stmts(c.body)) for c in s.cases)
            return replace(s, prompt=prompt, cases=cases)
        if isinstance(s, RepeatBlock):
            count = self.ref(s.count) if isinstance(s.count, VarRef | HandleRef) else s.count
            return replace(s, count=count, body=self.stmts(s.body))
        if isinstance(s, ForeachBlock):
            return replace(s, collection=self.ref(s.collection), body=self.stmts(s.body))
        return s


def _refs(ir: ShortcutIR) -> list[VarRef | HandleRef]:
    mapper = _RefMapper(None, None)
    mapper.stmts(ir.statements)
    return mapper.found


def _map_ref(ir: ShortcutIR, ordinal: int, fn: RefFn) -> ShortcutIR:
    return replace(ir, statements=_RefMapper(ordinal, fn).stmts(ir.statements))


# ============================================================================ context


@dataclass
class _Context:
    """What every operator needs about one positive program."""

    ir: ShortcutIR
    catalog: Catalog
    rng: random.Random
    tables: _Tables


@dataclass
class _Tables:
    """Catalog-derived lookups, built once per catalog."""

    catalog: Catalog
    alias_of: dict[str, list[str]] = field(default_factory=dict)  # DSL name -> hallucinated aliases
    risky_of: dict[str, list[str]] = field(default_factory=dict)
    synonyms_of: dict[str, list[str]] = field(default_factory=dict)  # condition -> synonyms
    _similar: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, catalog: Catalog) -> _Tables:
        t = cls(catalog)
        for table, out in ((HALLUCINATION_ALIASES, t.alias_of), (RISKY_ALIASES, t.risky_of)):
            for alias, target in sorted(table.items()):
                # The linter leaves names that already resolve alone, so those are not linter errors.
                if _known(catalog, alias) is None and re.fullmatch(r"[A-Za-z_][\w.\-]*\w|\w", alias):
                    out.setdefault(target, []).append(alias)
        for syn, cond in sorted(CONDITION_SYNONYMS.items()):
            if re.fullmatch(r"\w+", syn):  # symbol synonyms ("==") are tried too rarely to matter
                t.synonyms_of.setdefault(cond, []).append(syn)
        return t

    @cached_property
    def names_by_namespace(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for ident in self.catalog.identifiers:
            name = self.catalog.canonical_name(ident)
            if name in _COMMENT_NAMES:
                continue
            out.setdefault(_namespace(ident), []).append(name)
        return out

    def similar_actions(self, identifier: str) -> list[str]:
        """DSL names of other catalog actions that a model could confuse with this one."""
        if identifier not in self._similar:
            name = self.catalog.canonical_name(identifier)
            pool = [n for n in self.names_by_namespace.get(_namespace(identifier), []) if n != name]
            close = difflib.get_close_matches(name, pool, n=6, cutoff=0.45)
            if not close:  # nothing with a close name: a sibling of the same category
                spec = self.catalog.get(identifier)
                cat = self.catalog.by_category().get(spec.category, ()) if spec else ()
                close = sorted({self.catalog.canonical_name(i) for i in cat} - {name} - _COMMENT_NAMES)[:6]
            self._similar[identifier] = close
        return self._similar[identifier]


def _namespace(identifier: str) -> str:
    if identifier.startswith("is.workflow.actions."):
        return "is.workflow.actions"
    return identifier.rsplit(".", 1)[0]


def _known(catalog: Catalog, name: str) -> str | None:
    ident = catalog.resolve(name)
    return ident if ident is not None and catalog.get(ident) is not None else None


def _action_sites(ctx: _Context) -> list[tuple[BodyPath, int, ActionStatement, str]]:
    """Non-comment actions that resolve in the catalog, with their identifier."""
    out = []
    for path, i, s in _sites(ctx.ir):
        if isinstance(s, ActionStatement) and not _is_comment_action(s):
            ident = _known(ctx.catalog, s.action_name)
            if ident is not None:
                out.append((path, i, s, ident))
    return out


def _pick(rng: random.Random, items: list):
    return items[rng.randrange(len(items))] if items else None
