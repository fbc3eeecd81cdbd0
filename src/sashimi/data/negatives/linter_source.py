"""The linter source: programs corrupted as text the way the linter repairs model output (see the
package docstring)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sashimi.data.negatives.common import (
    BodyPath,
    _action_sites,
    _Context,
    _get_body,
    _known,
    _map_ref,
    _pick,
    _refs,
    _replace_stmt,
    _sites,
)
from sashimi.dsl.ast import (
    ActionStatement,
    ForeachBlock,
    HandleRef,
    IfBlock,
    MenuBlock,
    RepeatBlock,
    ShortcutIR,
    Statement,
    VarRef,
)
from sashimi.dsl.parser import parse
from sashimi.dsl.printer import print_program
from sashimi.dsl.repair_tables import HALLUCINATION_ALIASES, RISKY_ALIASES
from sashimi.errors import SashimiError

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
