"""The synthetic source: corruptions of the IR itself, printed canonically (see the package docstring)."""

from __future__ import annotations

import re
from dataclasses import replace

from sashimi.data.negatives.common import (
    TAG_ACTION_SWAP,
    TAG_CONDITION,
    TAG_ENUM,
    TAG_HANDLE,
    TAG_PARAM_DROP,
    TAG_STRUCTURE,
    _action_sites,
    _child_body,
    _Context,
    _get_body,
    _map_ref,
    _pick,
    _refs,
    _replace_stmt,
    _set_body,
    _sites,
)
from sashimi.data.negatives.linter_source import (
    _BLOCKS,
)
from sashimi.dsl.ast import (
    BoolValue,
    HandleRef,
    IfBlock,
    MenuBlock,
    ShortcutIR,
    StringValue,
    VarRef,
    child_bodies,
    with_child_body,
)

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
    key = list(dict(child_bodies(block)))[-1]
    new_block = with_child_body(block, key, (*_child_body(block, key), *moved))
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
            key = list(dict(child_bodies(s)))[-1]
            if _child_body(s, key):
                options.append((p, i, s, key))
    site = _pick(ctx.rng, options)
    if site is None:
        return None
    path, i, block, key = site
    inner = _child_body(block, key)
    n = ctx.rng.randrange(1, len(inner) + 1)
    new_block = with_child_body(block, key, inner[: len(inner) - n])
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
