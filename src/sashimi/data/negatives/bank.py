"""Checks and assembly: every negative differs from its positive in IR and typed tokens; the bank and
its report (see the package docstring)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sashimi.data.negatives.common import (
    LINTER,
    SOURCES,
    STILL_VALID,
    SYNTHETIC,
    NegativeTriple,
    _Context,
    _Tables,
)
from sashimi.data.negatives.linter_source import (
    _linter_candidate,
    _unreported,
    _weighted_order,
)
from sashimi.data.negatives.synthetic_source import (
    _SYNTHETIC_OPS,
    _SYNTHETIC_WEIGHTS,
)
from sashimi.dsl.ast import (
    CONDITIONS,
    IfBlock,
    ShortcutIR,
    walk_statements,
)
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import CorpusRow
from sashimi.dsl.linter import lint
from sashimi.dsl.parser import parse
from sashimi.dsl.printer import print_program
from sashimi.dsl.validator import validate
from sashimi.errors import SashimiError
from sashimi.io import progress as progress_bar
from sashimi.ir.lowering import lower
from sashimi.ir.typed import TypedProgram, to_typed

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
    if not _printable(ir):
        return False
    return bool(validate(ir, catalog, "strict").valid)


def _typed_json(ir: ShortcutIR, catalog: Catalog) -> dict:
    return to_typed(ir, catalog).to_json()


def _structural_tokens(typed: dict) -> list[str]:
    """Tier 1 and Tier 2 token texts (Tier 3 literals live in slots)."""
    return [t for t, tier in zip(typed["tokens"], typed["tiers"], strict=True) if tier != 3]


def _lowerable(typed: dict) -> bool:
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
    sources: Sequence[str] = SOURCES,
) -> list[NegativeTriple]:
    """Up to `per_program` distinct negatives of one program; slot i comes from `sources[i % len(sources)]`
    (default: alternating linter / synthetic). A slot's generator is seeded by (seed, id, slot) whatever
    its source, so `sources=("linter",)` draws the linter slots of the default bank plus new ones."""
    unknown = [s for s in sources if s not in SOURCES]
    if not sources or unknown:
        raise ValueError(f"negative sources must be a non-empty subset of {SOURCES}, got {list(sources)}")
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
        source = sources[slot % len(sources)]
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
    progress: bool | None = False,
) -> tuple[list[NegativeTriple], dict]:
    """Negatives for every program, plus a report (counts per source / tag / operator, drop reasons).
    `progress`: a bar on stderr (None: only on a terminal)."""
    rows = list(rows)
    tables = _Tables.build(catalog)
    stats = BankStats()
    triples: list[NegativeTriple] = []
    for row in progress_bar(rows, desc="negatives", unit="program", enabled=progress):
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
