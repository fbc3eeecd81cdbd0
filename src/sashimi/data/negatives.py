"""The hard-negative bank (plan Phase 0.3, architecture.md §5): `(prompt, positive, negative)` triples.

Every triple pairs a corpus program (the positive) with a corrupted version of it (the negative), both
as typed IR (`sashimi.ir.typed`), plus the error tags that say what is wrong. Two sources:

**linter** — the program is corrupted *as text* the way our linter repairs model output
(shortcutdsl.md §5.2): hallucinated action aliases (taken from the linter's own table,
`sashimi.dsl.repair_tables`), misspelt action names, condition synonyms, property access such as
`@prev.name`, a truncated last line, unclosed blocks, an orphan ELSE, a block keyword written as an
action, plus optional IR-neutral noise (markdown fence, preamble, lower-case closer, a bare `ACTION`
line, no final newline). The corrupted text is kept in `negative_text`. Its tags are the change kinds
the linter reports when run on it; a triple whose intended repair the linter does not report is
dropped (tags are verified, not assumed).

  Which IR stands for the corrupted text? What the linter turns it back into is (for most lexical
  errors) the positive itself, so it cannot be the negative. We use the **reading** of the text:
  - `literal` — lexical errors (alias, misspelling, condition synonym, property access, truncated
    tail) are kept in the IR exactly as written: the action keeps its wrong name (`A:getcontentsofurl`
    in typed IR), the IF keeps the synonym as its condition word, the handle keeps its property
    (`@prev.name`). Where the text parses as written, this is exactly `parse(text)`;
  - `lint` — structural errors have no literal IR (an unclosed IF does not parse), so the negative is
    what the linter makes of the text: `parse(lint(text))`. These are kept only where that reading
    differs from the positive, i.e. where the repair is lossy (an ENDIF restored at the end of the
    program swallows the statements that followed the block; a removed orphan ELSE leaves its branch
    unconditional; `ACTION repeat.each` becomes `FOREACH @prev`, `ACTION repeat.count` `REPEAT 1`).
  `lint_restores` records whether linting the text gives the positive back.

  Consequence for typed-IR consumers: a literal reading may hold tokens outside the typed-IR
  vocabulary (`A:getcontentsofurl`, a synonym such as `is_empty` in the condition position, a handle
  with a property such as `@prev.name`); a model maps them to `<UNK>`. Synonyms and property access
  are not even lowerable to a ShortcutIR; `lowerable` says which negatives are. Models that emit
  DSL text (the typed-IR-vs-text ablation) use `negative_text`, which is exactly the corrupted text.

**synthetic** — corruptions of the IR itself, printed canonically (`negative_text`): similar-action
swap (same namespace, close name), structural corruption (a dropped or early end marker, ELSE turned
into ENDIF, swapped branches, dropped ELSE, duplicated CASE), enum mutation (another legal value of a
closed enum, a flipped boolean, a confusable condition word), parameter drop, wrong handle.

Every negative differs from its positive in IR and in its Tier 1/2 typed-IR tokens (checked; dropped
otherwise), so a margin loss over the structural tokens always has positions to work on. Where
the negative is still a strict-valid program (printable and no strict validation errors) its tags
include `still_valid`: such negatives are wrong, not malformed, and only fidelity can catch them.

Deterministic: every random choice comes from a generator seeded by (seed, shortcut id, slot), so a
program's negatives do not depend on which other programs are in the file.
"""

from __future__ import annotations

import difflib
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from sashimi.dsl.corpus import CorpusRow
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.ast import (
    CONDITIONS,
    ActionStatement,
    BoolValue,
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
    StringValue,
    Value,
    VarRef,
    walk_statements,
)
from sashimi.dsl.linter import lint
from sashimi.dsl.parser import parse
from sashimi.dsl.printer import print_program
from sashimi.dsl.repair_tables import CONDITION_SYNONYMS, HALLUCINATION_ALIASES, RISKY_ALIASES
from sashimi.errors import SashimiError
from sashimi.ir.typed import to_typed

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


def _child_bodies(stmt: Statement) -> Iterator[tuple[str, tuple[Statement, ...]]]:
    if isinstance(stmt, IfBlock):
        yield "then", stmt.then_body
        if stmt.else_body is not None:
            yield "else", stmt.else_body
    elif isinstance(stmt, MenuBlock):
        for i, case in enumerate(stmt.cases):
            yield f"case:{i}", case.body
    elif isinstance(stmt, RepeatBlock | ForeachBlock):
        yield "body", stmt.body


def _child_body(stmt: Statement, key: str) -> tuple[Statement, ...]:
    return dict(_child_bodies(stmt))[key]


def _with_child_body(stmt: Statement, key: str, body: tuple[Statement, ...]) -> Statement:
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
    new = _with_child_body(stmt, key, _set_body(_child_body(stmt, key), rest, body))
    return (*stmts[:idx], new, *stmts[idx + 1 :])


def _sites_in(stmts: tuple[Statement, ...], path: BodyPath) -> Iterator[tuple[BodyPath, int, Statement]]:
    for i, stmt in enumerate(stmts):
        yield path, i, stmt
        for key, body in _child_bodies(stmt):
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


# ============================================================================ linter source
#
# A linter corruption is built in layers: lexical edits change the literal IR and a printable twin
# (sentinel names where the DSL cannot spell the error), the twin is printed, then line edits and
# sentinel substitutions produce the raw text, and optional noise wraps it.


@dataclass
class _LinterDraft:
    literal: ShortcutIR | None  # None: the reading is the linter's (structural corruption)
    printable: ShortcutIR
    ops: list[str] = field(default_factory=list)
    # (change kind, text) the linter must report for each operator: a change of that kind whose
    # original or replacement contains the text. Checked per operator, so one repair cannot vouch
    # for another operator's corruption.
    expect: list[tuple[str, str]] = field(default_factory=list)
    condition_edits: list[tuple[int, str]] = field(default_factory=list)  # (IF ordinal, word)
    substitutions: list[tuple[str, str]] = field(default_factory=list)  # sentinel -> text
    line_edit: Callable[[str, ShortcutIR], str | None] | None = None  # structural edit on the text
    cut_off: bool = False  # the text stops mid-line (a truncated generation): no final line break


_PROPERTIES = ("name", "text", "value", "count", "title", "url", "first", "contents", "date", "output")


def _lx_alias(ctx: _Context, d: _LinterDraft, risky: bool = False) -> bool:
    table = ctx.tables.risky_of if risky else ctx.tables.alias_of
    sites = [
        (p, i, s, ident)
        for p, i, s, ident in _action_sites(ctx)
        if table.get(ctx.catalog.canonical_name(ident)) and s == _get_body(d.literal.statements, p)[i]
    ]
    site = _pick(ctx.rng, sites)
    if site is None:
        return False
    path, i, stmt, ident = site
    alias = _pick(ctx.rng, table[ctx.catalog.canonical_name(ident)])
    new = replace(stmt, action_name=alias)
    d.literal = _replace_stmt(d.literal, path, i, new)
    d.printable = _replace_stmt(d.printable, path, i, new)
    d.ops.append("risky_alias" if risky else "alias")
    d.expect.append(("alias_warning" if risky else "action", alias))
    return True


def _typo(rng: random.Random, name: str) -> str:
    """A one-edit misspelling of the last dotted segment (a model's near miss)."""
    head, _, tail = name.rpartition(".")
    if len(tail) < 5:
        return name
    k = rng.randrange(1, len(tail) - 1)
    edit = rng.randrange(3)
    if edit == 0:  # drop a letter
        tail = tail[:k] + tail[k + 1 :]
    elif edit == 1:  # double a letter
        tail = tail[:k] + tail[k] + tail[k:]
    else:  # swap two neighbours
        tail = tail[:k] + tail[k + 1] + tail[k] + tail[k + 2 :]
    return f"{head}.{tail}" if head else tail


def _lx_misspelling(ctx: _Context, d: _LinterDraft) -> bool:
    sites = [s for s in _action_sites(ctx) if s[2] == _get_body(d.literal.statements, s[0])[s[1]]]
    ctx.rng.shuffle(sites)
    for path, i, stmt, _ in sites[:4]:
        typo = _typo(ctx.rng, stmt.action_name)
        if typo == stmt.action_name or _known(ctx.catalog, typo) is not None:
            continue
        new = replace(stmt, action_name=typo)
        d.literal = _replace_stmt(d.literal, path, i, new)
        d.printable = _replace_stmt(d.printable, path, i, new)
        d.ops.append("misspelling")
        d.expect.append(("action", typo))
        return True
    return False


def _lx_condition_synonym(ctx: _Context, d: _LinterDraft) -> bool:
    ifs = [s for s in d.literal.walk() if isinstance(s, IfBlock)]
    taken = {k for k, _ in d.condition_edits}
    options = [
        (k, s) for k, s in enumerate(ifs) if k not in taken and ctx.tables.synonyms_of.get(s.condition)
    ]
    choice = _pick(ctx.rng, options)
    if choice is None:
        return False
    k, stmt = choice
    synonym = _pick(ctx.rng, ctx.tables.synonyms_of[stmt.condition])
    # Literal reading: the IF keeps the synonym as its condition word.
    sites = [(p, i) for p, i, s in _sites(d.literal) if isinstance(s, IfBlock)]
    path, i = sites[k]
    d.literal = _replace_stmt(d.literal, path, i, replace(stmt, condition=synonym))
    written = synonym.replace("_", " ") if ctx.rng.random() < 0.3 else synonym
    d.condition_edits.append((k, written))
    d.ops.append("condition_synonym")
    d.expect.append(("condition", written.split()[0]))
    return True


def _lx_property_access(ctx: _Context, d: _LinterDraft) -> bool:
    refs = _refs(d.literal)
    candidates = [k for k, r in enumerate(refs) if "." not in (r.name if isinstance(r, VarRef) else r.kind)]
    k = _pick(ctx.rng, candidates)
    if k is None:
        return False
    prop = _pick(ctx.rng, list(_PROPERTIES))
    sentinel = f"NEGPROP{len(d.substitutions)}Z"

    def literal(r):
        return VarRef(f"{r.name}.{prop}") if isinstance(r, VarRef) else HandleRef(f"{r.kind}.{prop}")

    def printable(r):
        return VarRef(sentinel) if isinstance(r, VarRef) else HandleRef(sentinel)

    original = refs[k]
    spelled = f"${original.name}.{prop}" if isinstance(original, VarRef) else f"@{original.kind}.{prop}"
    sigil = "$" if isinstance(original, VarRef) else "@"
    d.literal = _map_ref(d.literal, k, literal)
    d.printable = _map_ref(d.printable, k, printable)
    d.substitutions.append((sigil + sentinel, spelled))
    d.ops.append("property_access")
    d.expect.append(("handle", f".{prop}"))
    return True


def _lx_truncated_tail(ctx: _Context, d: _LinterDraft) -> bool:
    """A generation cut off mid-name: the text ends, without a line break, in an `ACTION` line with
    a stub no catalog name resembles (the linter only treats an unterminated last line as cut off)."""
    names = sorted(n for ns in ctx.tables.names_by_namespace.values() for n in ns if len(n) >= 9)
    for _ in range(6):
        name = _pick(ctx.rng, names)
        stub = name[: ctx.rng.randrange(3, 5)]
        if (
            re.fullmatch(r"[A-Za-z_]\w*", stub)
            and _known(ctx.catalog, stub) is None
            and stub not in HALLUCINATION_ALIASES
            and stub not in RISKY_ALIASES
            and not ctx.catalog.suggest(stub, 0.65)
        ):
            tail = ActionStatement(stub)
            d.literal = replace(d.literal, statements=(*d.literal.statements, tail))
            d.printable = replace(d.printable, statements=(*d.printable.statements, tail))
            d.cut_off = True
            d.ops.append("truncated_tail")
            d.expect.append(("structure", f"ACTION {stub}"))
            return True
    return False


def _line_of(text: str, offset: int) -> int:
    """0-based line index of a character offset."""
    return text.count("\n", 0, max(offset - 1, 0))


def _block_sites(ir: ShortcutIR, kinds: tuple[type, ...]) -> list[tuple[int, BodyPath, int, Statement]]:
    """(walk ordinal among blocks of these kinds, body path, index, stmt)."""
    out = []
    for path, i, s in _sites(ir):
        if isinstance(s, kinds):
            out.append((len(out), path, i, s))
    return out


def _nth_block(parsed: ShortcutIR, kinds: tuple[type, ...], ordinal: int) -> Statement:
    return [s for s in parsed.walk() if isinstance(s, kinds)][ordinal]


_BLOCKS = (IfBlock, MenuBlock, RepeatBlock, ForeachBlock)


def _st_unclosed_block(ctx: _Context, d: _LinterDraft) -> bool:
    """Drop a block's end marker where statements follow it, so the restored closer moves them in."""
    options = [
        (k, path, i)
        for k, path, i, s in _block_sites(ctx.ir, _BLOCKS)
        if i + 1 < len(_get_body(ctx.ir.statements, path))
    ]
    choice = _pick(ctx.rng, options)
    if choice is None:
        return False
    ordinal = choice[0]

    def edit(text: str, parsed: ShortcutIR) -> str | None:
        block = _nth_block(parsed, _BLOCKS, ordinal)
        lines = text.split("\n")
        end = _line_of(text, block.span.end)
        if not lines[end].startswith("END"):
            return None
        return "\n".join(lines[:end] + lines[end + 1 :])

    d.literal = None
    d.line_edit = edit
    d.ops.append("unclosed_block")
    d.expect.append(("structure", "END"))
    return True


def _st_orphan_else(ctx: _Context, d: _LinterDraft) -> bool:
    """ENDIF written before ELSE: the ELSE is orphaned and its branch runs unconditionally."""
    options = [(k, s) for k, _, _, s in _block_sites(ctx.ir, (IfBlock,)) if s.else_body and s.then_body]
    choice = _pick(ctx.rng, options)
    if choice is None:
        return False
    ordinal = choice[0]

    def edit(text: str, parsed: ShortcutIR) -> str | None:
        block = _nth_block(parsed, (IfBlock,), ordinal)
        lines = text.split("\n")
        else_line = _line_of(text, block.then_body[-1].span.end) + 1
        end = _line_of(text, block.span.end)
        if lines[else_line] != "ELSE" or lines[end] != "ENDIF":
            return None
        return "\n".join(lines[:else_line] + ["ENDIF"] + lines[else_line:end] + lines[end + 1 :])

    d.literal = None
    d.line_edit = edit
    d.ops.append("orphan_else")
    d.expect.append(("structure", "ELSE"))
    return True


def _st_keyword_as_action(ctx: _Context, d: _LinterDraft) -> bool:
    """A block header written as an ACTION without its argument (`ACTION repeat.each`)."""
    options = []
    for k, _, _, s in _block_sites(ctx.ir, _BLOCKS):
        if isinstance(s, ForeachBlock) and s.collection not in (HandleRef("prev"), HandleRef("input")):
            options.append((k, "ACTION repeat.each"))
        elif isinstance(s, RepeatBlock) and isinstance(s.count, VarRef | HandleRef):
            options.append((k, "ACTION repeat.count"))  # becomes REPEAT 1: the reference is lost
    choice = _pick(ctx.rng, options)
    if choice is None:
        return False
    ordinal, header = choice

    def edit(text: str, parsed: ShortcutIR) -> str | None:
        block = _nth_block(parsed, _BLOCKS, ordinal)
        lines = text.split("\n")
        start = _line_of(text, block.span.start + 1)
        if not lines[start].startswith(("FOREACH", "REPEAT", "MENU")):
            return None
        return "\n".join(lines[:start] + [header] + lines[start + 1 :])

    d.literal = None
    d.line_edit = edit
    d.ops.append("keyword_as_action")
    d.expect.append(("structure", header))
    return True


_PREAMBLES = (
    "Here is the shortcut you asked for:",
    "Sure! Here's a Shortcut that does that.",
    "Below is the ShortcutDSL program:",
    "Okay, this should work:",
)


def _noise(rng: random.Random, text: str) -> tuple[str, str, tuple[str, str]]:
    """IR-neutral noise the linter strips: (new text, operator, expected change)."""
    kind = rng.randrange(5)
    if kind == 0 and text.endswith("\n"):  # a cut-off text cannot be followed by a closing fence
        fence = _pick(rng, ["```", "```dsl", "```text"])
        return f"{fence}\n{text}```\n", "fence", ("structure", "```")
    if kind == 1:
        preamble = _pick(rng, list(_PREAMBLES))
        return f"{preamble}\n\n{text}", "preamble", ("structure", preamble)
    if kind == 2 and text.endswith("\n"):
        return text.rstrip("\n"), "no_final_newline", ("trailing_newline", "\n")
    lines = text.split("\n")
    if kind == 3:
        closers = [
            k for k, line in enumerate(lines) if line in ("ENDIF", "ENDMENU", "ENDREPEAT", "ENDFOREACH")
        ]
        k = _pick(rng, closers)
        if k is not None:
            lines[k] = lines[k].lower()
            return "\n".join(lines), "lowercase_keyword", ("structure", lines[k])
    # a bare ACTION line right after the header
    return "\n".join([lines[0], "ACTION", *lines[1:]]), "bare_action", ("structure", "ACTION")


def _render(ctx: _Context, d: _LinterDraft) -> str | None:
    text = print_program(d.printable)
    if d.condition_edits or d.line_edit is not None:
        parsed = parse(text)
        if d.condition_edits:
            lines = text.split("\n")
            ifs = [s for s in parsed.walk() if isinstance(s, IfBlock)]
            for k, word in d.condition_edits:
                line = _line_of(text, ifs[k].span.start + 1)
                new = re.sub(
                    r"^(IF[ \t]+[$@]\w+[ \t]+)\w+", lambda m, w=word: m.group(1) + w, lines[line], count=1
                )
                if new == lines[line]:
                    return None
                lines[line] = new
            text = "\n".join(lines)
        if d.line_edit is not None:
            text = d.line_edit(text, parsed)
            if text is None:
                return None
    for sentinel, spelled in d.substitutions:
        if text.count(sentinel) != 1:
            return None
        text = text.replace(sentinel, spelled)
    return text.rstrip("\n") if d.cut_off else text


# Relative weights: operators that apply to every program (a truncated tail) would otherwise crowd
# out the ones that need a particular construct (an IF for a condition synonym).
_LEXICAL_WEIGHTS = {
    "alias": 3.0,
    "risky_alias": 0.3,
    "misspelling": 2.0,
    "condition_synonym": 4.0,
    "property_access": 3.0,
    "truncated_tail": 1.0,
}
_LEXICAL_OPS: dict[str, Callable[[_Context, _LinterDraft], bool]] = {
    "alias": _lx_alias,
    "risky_alias": lambda ctx, d: _lx_alias(ctx, d, risky=True),
    "misspelling": _lx_misspelling,
    "condition_synonym": _lx_condition_synonym,
    "property_access": _lx_property_access,
    "truncated_tail": _lx_truncated_tail,
}
_STRUCTURAL_OPS = (_st_unclosed_block, _st_orphan_else, _st_keyword_as_action)
_STRUCTURAL_SHARE = 0.35


def _weighted_order(rng: random.Random, weights: dict[str, float]) -> list[str]:
    """All keys in a random order where heavier keys tend to come first (weighted sampling without replacement)."""
    return sorted(weights, key=lambda k: rng.random() ** (1.0 / weights[k]), reverse=True)


def _linter_candidate(ctx: _Context) -> tuple[_LinterDraft, str] | None:
    d = _LinterDraft(literal=ctx.ir, printable=ctx.ir)
    rng = ctx.rng
    if rng.random() < _STRUCTURAL_SHARE:
        ops = list(_STRUCTURAL_OPS)
        rng.shuffle(ops)
        for op in ops:
            if op(ctx, d):
                break
    if not d.ops:
        wanted = 2 if rng.random() < 0.35 else 1
        done, condition_wanted = 0, False
        for name in _weighted_order(rng, _LEXICAL_WEIGHTS):
            if done == wanted:
                break
            if name == "condition_synonym":
                # Spelled by editing printed lines, so it runs after the IR-level edits below.
                if any(
                    isinstance(s, IfBlock) and s.condition in ctx.tables.synonyms_of for s in ctx.ir.walk()
                ):
                    condition_wanted = True
                    done += 1
            elif name == "risky_alias" and "alias" in d.ops:
                continue
            elif _LEXICAL_OPS[name](ctx, d):
                done += 1
        if condition_wanted:
            _lx_condition_synonym(ctx, d)
    if not d.ops:
        return None
    try:
        text = _render(ctx, d)
    except SashimiError:
        return None
    if text is None:
        return None
    if rng.random() < 0.3:
        text, op, expected = _noise(rng, text)
        d.ops.append(op)
        d.expect.append(expected)
    return d, text


def _unreported(expect: list[tuple[str, str]], changes) -> list[str]:
    """Expected repairs the linter did not report."""
    return [
        kind
        for kind, needle in expect
        if not any(c.kind == kind and (needle in c.original or needle in c.replacement) for c in changes)
    ]


# ============================================================================ synthetic source


_CONFUSABLE_CONDITIONS = {
    "equals_string": ("not_equal_string", "contains", "equals_number"),
    "not_equal_string": ("equals_string", "does_not_contain"),
    "contains": ("does_not_contain", "equals_string"),
    "does_not_contain": ("contains", "not_equal_string"),
    "has_any_value": ("does_not_have_any_value",),
    "does_not_have_any_value": ("has_any_value",),
    "is_greater_than": ("is_less_than", "equals_number"),
    "is_less_than": ("is_greater_than", "equals_number"),
    "equals_number": ("equals_string", "is_greater_than"),
    "is_before": ("is_greater_than", "equals_string"),
}


def _sy_action_swap(ctx: _Context) -> tuple[ShortcutIR, str, str] | None:
    sites = [s for s in _action_sites(ctx) if ctx.tables.similar_actions(s[3])]
    site = _pick(ctx.rng, sites)
    if site is None:
        return None
    path, i, stmt, ident = site
    other = _pick(ctx.rng, ctx.tables.similar_actions(ident))
    return _replace_stmt(ctx.ir, path, i, replace(stmt, action_name=other)), "action_swap", TAG_ACTION_SWAP


def _sy_block_extend(ctx: _Context) -> tuple[ShortcutIR, str, str] | None:
    """Dropped end marker: the block swallows the statements that followed it."""
    options = [
        (p, i, s)
        for p, i, s in _sites(ctx.ir)
        if isinstance(s, _BLOCKS) and i + 1 < len(_get_body(ctx.ir.statements, p))
    ]
    site = _pick(ctx.rng, options)
    if site is None:
        return None
    path, i, block = site
    body = _get_body(ctx.ir.statements, path)
    n = ctx.rng.randrange(1, len(body) - i)
    moved = body[i + 1 : i + 1 + n]
    key = list(dict(_child_bodies(block)))[-1]
    new_block = _with_child_body(block, key, (*_child_body(block, key), *moved))
    new_body = (*body[:i], new_block, *body[i + 1 + n :])
    return (
        replace(ctx.ir, statements=_set_body(ctx.ir.statements, path, new_body)),
        "block_extend",
        TAG_STRUCTURE,
    )


def _sy_block_shrink(ctx: _Context) -> tuple[ShortcutIR, str, str] | None:
    """Early (or duplicated) end marker: the block's last statements end up after it."""
    options = []
    for p, i, s in _sites(ctx.ir):
        if isinstance(s, _BLOCKS):
            key = list(dict(_child_bodies(s)))[-1]
            if _child_body(s, key):
                options.append((p, i, s, key))
    site = _pick(ctx.rng, options)
    if site is None:
        return None
    path, i, block, key = site
    inner = _child_body(block, key)
    n = ctx.rng.randrange(1, len(inner) + 1)
    new_block = _with_child_body(block, key, inner[: len(inner) - n])
    return (
        _replace_stmt(ctx.ir, path, i, (new_block, *inner[len(inner) - n :])),
        "block_shrink",
        TAG_STRUCTURE,
    )


def _sy_if_edit(ctx: _Context) -> tuple[ShortcutIR, str, str] | None:
    """ELSE written as ENDIF (else branch escapes), swapped branches, or a dropped ELSE."""
    options = [(p, i, s) for p, i, s in _sites(ctx.ir) if isinstance(s, IfBlock) and s.else_body]
    site = _pick(ctx.rng, options)
    if site is None:
        return None
    path, i, block = site
    choice = ctx.rng.randrange(3)
    if choice == 0:
        return (
            _replace_stmt(ctx.ir, path, i, (replace(block, else_body=None), *block.else_body)),
            "else_escape",
            TAG_STRUCTURE,
        )
    if choice == 1 and block.then_body != block.else_body:
        swapped = replace(block, then_body=block.else_body, else_body=block.then_body)
        return _replace_stmt(ctx.ir, path, i, swapped), "swap_branches", TAG_STRUCTURE
    return _replace_stmt(ctx.ir, path, i, replace(block, else_body=None)), "drop_else", TAG_STRUCTURE


def _sy_duplicate_case(ctx: _Context) -> tuple[ShortcutIR, str, str] | None:
    options = [(p, i, s) for p, i, s in _sites(ctx.ir) if isinstance(s, MenuBlock)]
    site = _pick(ctx.rng, options)
    if site is None:
        return None
    path, i, menu = site
    k = ctx.rng.randrange(len(menu.cases))
    cases = (*menu.cases[: k + 1], menu.cases[k], *menu.cases[k + 1 :])
    return _replace_stmt(ctx.ir, path, i, replace(menu, cases=cases)), "duplicate_case", TAG_STRUCTURE


def _sy_enum_mutation(ctx: _Context) -> tuple[ShortcutIR, str, str] | None:
    """Another legal value of a closed enum, a flipped boolean parameter, or a confusable condition."""
    options = []
    for path, i, stmt, ident in _action_sites(ctx):
        for j, (key, value) in enumerate(stmt.params):
            if isinstance(value, BoolValue):
                options.append((path, i, stmt, j, BoolValue(not value.value), "bool_flip"))
            elif isinstance(value, StringValue):
                enums = ctx.catalog.enum_values(ident, key) or ()
                others = [e for e in enums if e != value.value]
                if value.value in enums and others:
                    options.append((path, i, stmt, j, StringValue(_pick(ctx.rng, others)), "enum_mutation"))
    for path, i, s in _sites(ctx.ir):
        if isinstance(s, IfBlock) and s.condition in _CONFUSABLE_CONDITIONS:
            options.append(
                (
                    path,
                    i,
                    s,
                    None,
                    _pick(ctx.rng, list(_CONFUSABLE_CONDITIONS[s.condition])),
                    "condition_mutation",
                )
            )
    # Pick the kind of mutation first, so a program with many enum sites still yields the others.
    kind = _pick(ctx.rng, sorted({o[-1] for o in options}))
    choice = _pick(ctx.rng, [o for o in options if o[-1] == kind])
    if choice is None:
        return None
    path, i, stmt, j, new, op = choice
    if op == "condition_mutation":
        return _replace_stmt(ctx.ir, path, i, replace(stmt, condition=new)), op, TAG_CONDITION
    params = list(stmt.params)
    params[j] = (params[j][0], new)
    return _replace_stmt(ctx.ir, path, i, replace(stmt, params=tuple(params))), op, TAG_ENUM


def _sy_param_drop(ctx: _Context) -> tuple[ShortcutIR, str, str] | None:
    options = [s for s in _action_sites(ctx) if s[2].params]
    site = _pick(ctx.rng, options)
    if site is None:
        return None
    path, i, stmt, _ = site
    j = ctx.rng.randrange(len(stmt.params))
    params = stmt.params[:j] + stmt.params[j + 1 :]
    return _replace_stmt(ctx.ir, path, i, replace(stmt, params=params)), "param_drop", TAG_PARAM_DROP


def _sy_wrong_handle(ctx: _Context) -> tuple[ShortcutIR, str, str] | None:
    refs = _refs(ctx.ir)
    if not refs:
        return None
    pool = {HandleRef("prev"), HandleRef("input"), HandleRef("date")} | set(refs)
    pool |= {VarRef(n) for n in ctx.ir.defined_variables() if re.fullmatch(r"[A-Za-z_]\w*", n)}
    k = ctx.rng.randrange(len(refs))
    others = sorted((r for r in pool if r != refs[k]), key=lambda r: (type(r).__name__, str(r)))
    new = _pick(ctx.rng, others)
    if new is None:
        return None
    return _map_ref(ctx.ir, k, lambda _r: new), "wrong_handle", TAG_HANDLE


_SYNTHETIC_OPS = {
    "action_swap": _sy_action_swap,
    "block_extend": _sy_block_extend,
    "block_shrink": _sy_block_shrink,
    "if_edit": _sy_if_edit,
    "duplicate_case": _sy_duplicate_case,
    "enum_mutation": _sy_enum_mutation,
    "param_drop": _sy_param_drop,
    "wrong_handle": _sy_wrong_handle,
}
# Swaps and drops apply to every program; operators that need a block or an enum get more weight so
# that each kind of error is well represented in the bank.
_SYNTHETIC_WEIGHTS = {
    "action_swap": 1.0,
    "block_extend": 2.0,
    "block_shrink": 2.0,
    "if_edit": 2.0,
    "duplicate_case": 1.5,
    "enum_mutation": 2.0,
    "param_drop": 1.0,
    "wrong_handle": 1.5,
}


# ============================================================================ checks and assembly


def _printable(ir: ShortcutIR) -> bool:
    try:
        print_program(ir)
    except SashimiError:
        return False
    return all(
        not isinstance(s, IfBlock) or s.condition in CONDITIONS for s in walk_statements(ir.statements)
    )


def strict_valid(ir: ShortcutIR, catalog: Catalog) -> bool:
    """A program no text can spell is not valid; otherwise the strict validator decides."""
    from sashimi.dsl.validator import validate

    if not _printable(ir):
        return False
    return bool(validate(ir, catalog, "strict").valid)


def _typed_json(ir: ShortcutIR, catalog: Catalog) -> dict:
    return to_typed(ir, catalog).to_json()


def _structural_tokens(typed: dict) -> list[str]:
    """Tier 1 and Tier 2 token texts (Tier 3 literals live in slots)."""
    return [t for t, tier in zip(typed["tokens"], typed["tiers"], strict=True) if tier != 3]


def _lowerable(typed: dict) -> bool:
    from sashimi.ir.lowering import lower
    from sashimi.ir.typed import TypedProgram

    try:
        lower(TypedProgram.from_json(typed))
    except SashimiError:
        return False
    return True


def _canon(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, default=repr)


@dataclass
class BankStats:
    programs: int = 0
    skipped_unparseable: int = 0
    positives_not_strict_valid: int = 0
    attempts: int = 0
    dropped: Counter = field(default_factory=Counter)


def negatives_for_program(
    row: CorpusRow,
    catalog: Catalog,
    *,
    seed: int = 0,
    per_program: int = 4,
    tables: _Tables | None = None,
    stats: BankStats | None = None,
    max_tries: int = 8,
) -> list[NegativeTriple]:
    """Up to `per_program` distinct negatives of one program, alternating linter / synthetic."""
    stats = stats if stats is not None else BankStats()
    tables = tables or _Tables.build(catalog)
    stats.programs += 1
    try:
        positive = row.parse()  # honours the row's dialect (issue 11.3)
    except SashimiError:
        stats.skipped_unparseable += 1
        return []
    if not strict_valid(positive, catalog):
        stats.positives_not_strict_valid += 1
    pos_typed = _typed_json(positive, catalog)
    pos_key = _canon(pos_typed)
    seen = {pos_key}
    out: list[NegativeTriple] = []
    for slot in range(per_program):
        source = SOURCES[slot % 2]
        rng = random.Random(f"neg:{seed}:{row.shortcut_id}:{slot}")
        ctx = _Context(positive, catalog, rng, tables)
        for _ in range(max_tries):
            stats.attempts += 1
            triple, reason = (_try_linter if source == LINTER else _try_synthetic)(
                ctx, row, pos_typed, catalog
            )
            if triple is None:
                stats.dropped[reason] += 1
                continue
            key = _canon(triple.negative)
            if key in seen:
                stats.dropped["duplicate" if key != pos_key else "same_typed_ir"] += 1
                continue
            seen.add(key)
            out.append(triple)
            break
    return out


def _try_linter(ctx: _Context, row: CorpusRow, pos_typed: dict, catalog: Catalog):
    made = _linter_candidate(ctx)
    if made is None:
        return None, "no_applicable_operator"
    draft, text = made
    result = lint(text, catalog)
    kinds = {c.kind for c in result.changes}
    missing = _unreported(draft.expect, result.changes)
    if missing:
        return None, "linter_did_not_report_" + "+".join(sorted(set(missing)))
    try:
        linted = parse(result.text)
    except SashimiError:
        linted = None
    if draft.literal is not None:
        negative, reading = draft.literal, "literal"
    elif linted is not None:
        negative, reading = linted, "lint"
    else:
        return None, "lint_reading_unparseable"
    if negative == ctx.ir:
        return None, "same_ir"
    neg_typed = _typed_json(negative, catalog)
    if _structural_tokens(neg_typed) == _structural_tokens(pos_typed):
        return None, "same_tier12_tokens"
    tags = sorted(kinds)
    if strict_valid(negative, catalog):
        tags.append(STILL_VALID)
    return NegativeTriple(
        prompt=row.prompt,
        shortcut_id=row.shortcut_id,
        positive=pos_typed,
        negative=neg_typed,
        error_tags=tuple(tags),
        source=LINTER,
        operators=tuple(draft.ops),
        negative_text=text,
        reading=reading,
        lint_restores=linted == ctx.ir,
        lowerable=_lowerable(neg_typed),
    ), None


def _try_synthetic(ctx: _Context, row: CorpusRow, pos_typed: dict, catalog: Catalog):
    for name in _weighted_order(ctx.rng, _SYNTHETIC_WEIGHTS):
        made = _SYNTHETIC_OPS[name](ctx)
        if made is not None:
            break
    else:
        return None, "no_applicable_operator"
    negative, op_name, tag = made
    if negative == ctx.ir:
        return None, "same_ir"
    try:
        text = print_program(negative)
    except SashimiError:
        return None, "unprintable"
    neg_typed = _typed_json(negative, catalog)
    if _structural_tokens(neg_typed) == _structural_tokens(pos_typed):
        return None, "same_tier12_tokens"
    tags = [tag]
    if strict_valid(negative, catalog):
        tags.append(STILL_VALID)
    try:
        restores = parse(lint(text, catalog).text) == ctx.ir
    except SashimiError:
        restores = False
    return NegativeTriple(
        prompt=row.prompt,
        shortcut_id=row.shortcut_id,
        positive=pos_typed,
        negative=neg_typed,
        error_tags=tuple(tags),
        source=SYNTHETIC,
        operators=(op_name,),
        negative_text=text,
        reading="ir",
        lint_restores=restores,
        lowerable=_lowerable(neg_typed),
    ), None


def build_bank(
    rows: Iterable[CorpusRow],
    catalog: Catalog,
    *,
    seed: int = 0,
    per_program: int = 4,
    progress: bool = False,
) -> tuple[list[NegativeTriple], dict]:
    """Negatives for every program, plus a report (counts per source / tag / operator, drop reasons)."""
    rows = list(rows)
    tables = _Tables.build(catalog)
    stats = BankStats()
    triples: list[NegativeTriple] = []
    iterator: Iterable[CorpusRow] = rows
    if progress:
        from tqdm import tqdm

        iterator = tqdm(rows, desc="negatives", unit="program")
    for row in iterator:
        triples += negatives_for_program(
            row, catalog, seed=seed, per_program=per_program, tables=tables, stats=stats
        )
    return triples, bank_report(triples, stats)


def bank_report(triples: list[NegativeTriple], stats: BankStats | None = None) -> dict:
    report: dict = {
        "triples": len(triples),
        "by_source": dict(sorted(Counter(t.source for t in triples).items())),
        "by_tag": dict(sorted(Counter(tag for t in triples for tag in t.error_tags).items())),
        "by_source_tag": {
            source: dict(
                sorted(Counter(tag for t in triples if t.source == source for tag in t.error_tags).items())
            )
            for source in SOURCES
        },
        "by_operator": dict(sorted(Counter(op for t in triples for op in t.operators).items())),
        "by_reading": dict(sorted(Counter(f"{t.source}/{t.reading}" for t in triples).items())),
        "still_valid": sum(STILL_VALID in t.error_tags for t in triples),
        "lint_restores": sum(t.lint_restores for t in triples),
        "lowerable": sum(t.lowerable for t in triples),
    }
    if stats is not None:
        report["programs"] = stats.programs
        report["skipped_unparseable"] = stats.skipped_unparseable
        report["positives_not_strict_valid"] = stats.positives_not_strict_valid
        report["attempts"] = stats.attempts
        report["dropped"] = dict(sorted(stats.dropped.items()))
    return report
