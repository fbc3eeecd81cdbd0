"""Vocabulary coverage of a corpus (plan EXP-1.3 / EXP-1.4).

For every program: its Tier 1 tokens must be in the Tier 1 vocabulary, and each Tier 2 token must be in
the vocabulary of the action it belongs to. Coverage is reported by occurrence and by type (distinct
token; for Tier 2 a type is the pair action + token), with every uncovered token listed, plus the
sequence-length statistics the decoder is sized by, and what ends up in Tier 3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sashimi.ir.typed import ENUM_PREFIX, KEY_PREFIX, TIER_STRUCTURE, CatalogLike, TypedProgram, to_typed
from sashimi.ir.vocab import Vocab, iter_tier2

TIER1_TARGET = 0.99
TIER2_TARGET = 0.95


@dataclass(frozen=True)
class _Rate:
    covered: int
    total: int

    @property
    def rate(self) -> float | None:
        return round(self.covered / self.total, 6) if self.total else None

    def to_json(self) -> dict:
        return {"covered": self.covered, "total": self.total, "rate": self.rate}


def _length_stats(values: list[int]) -> dict:
    if not values:
        return {"mean": None, "p95": None, "max": None}
    arr = np.asarray(values)
    return {
        "mean": round(float(arr.mean()), 3),
        "p95": round(float(np.percentile(arr, 95)), 3),
        "max": int(arr.max()),
    }


def tier2_kind(token: str) -> str:
    if token.startswith(KEY_PREFIX):
        return "keys"
    if token.startswith(ENUM_PREFIX):
        return "enums"
    return "booleans"


def coverage_report(
    vocab: Vocab,
    programs: Iterable[tuple[str, TypedProgram]],
    catalog: CatalogLike | None = None,
    *,
    max_listed: int = 200,
) -> dict:
    """Coverage of the typed `programs` ((id, typed program) pairs) by `vocab`.

    `catalog` is only used to count strings of closed-enum parameters that fell to Tier 3.
    """
    t1_vocab = frozenset(vocab.tier1)
    t1_counts: Counter[str] = Counter()
    t2_counts: Counter[tuple[str, str]] = Counter()
    t1_lengths: list[int] = []
    t12_lengths: list[int] = []
    full_lengths: list[int] = []
    per_action: list[tuple[int, str, str]] = []  # (tier 2 tokens, action, shortcut id)
    slot_kinds: Counter[str] = Counter()
    enum_fallthrough: Counter[tuple[str, str]] = Counter()
    n = 0
    for sid, typed in programs:
        n += 1
        t1 = [t.text for t in typed.tokens if t.tier == TIER_STRUCTURE]
        t1_counts.update(t1)
        t1_lengths.append(len(t1))
        t12_lengths.append(sum(1 for t in typed.tokens if t.tier in (1, 2)))
        full_lengths.append(len(typed.tokens))
        for action, key, token in iter_tier2(typed):
            if key is None:
                per_action.append((0, action, sid))
                continue
            t2_counts[(action, token)] += 1
            per_action[-1] = (per_action[-1][0] + 1, action, sid)
        slot_kinds.update(s.kind for s in typed.slots)
        if catalog is not None:
            for slot in typed.slots:
                if slot.kind == "str" and slot.role == "param" and slot.action and slot.param:
                    ident = catalog.resolve(slot.action)
                    if ident and catalog.enum_values(ident, slot.param):
                        enum_fallthrough[(slot.action, slot.param)] += 1

    def covered_t1(tok: str) -> bool:
        return tok in t1_vocab

    def covered_t2(pair: tuple[str, str]) -> bool:
        return pair[1] in vocab.tier2_tokens(pair[0])

    t1_occ = _Rate(sum(c for t, c in t1_counts.items() if covered_t1(t)), sum(t1_counts.values()))
    t1_typ = _Rate(sum(1 for t in t1_counts if covered_t1(t)), len(t1_counts))
    t2_occ = _Rate(sum(c for p, c in t2_counts.items() if covered_t2(p)), sum(t2_counts.values()))
    t2_typ = _Rate(sum(1 for p in t2_counts if covered_t2(p)), len(t2_counts))
    by_kind = {}
    for kind in ("keys", "enums", "booleans"):
        items = {p: c for p, c in t2_counts.items() if tier2_kind(p[1]) == kind}
        by_kind[kind] = _Rate(
            sum(c for p, c in items.items() if covered_t2(p)), sum(items.values())
        ).to_json()

    uncovered_t1 = sorted(
        ((t, c) for t, c in t1_counts.items() if not covered_t1(t)), key=lambda x: (-x[1], x[0])
    )
    uncovered_t2 = sorted(
        ((p, c) for p, c in t2_counts.items() if not covered_t2(p)), key=lambda x: (-x[1], x[0])
    )
    counts_per_action = [c for c, _, _ in per_action]
    top = max(per_action, default=None)
    vocab_sizes = {a: len(v.tokens()) for a, v in vocab.tier2.items()}
    biggest = max(vocab_sizes.items(), key=lambda kv: (kv[1], kv[0]), default=None)
    return {
        "programs": n,
        "tier1": {
            "by_occurrence": t1_occ.to_json(),
            "by_type": t1_typ.to_json(),
            "target": TIER1_TARGET,
            "meets_target": t1_occ.rate is not None and t1_occ.rate >= TIER1_TARGET,
            "uncovered": [{"token": t, "count": c} for t, c in uncovered_t1[:max_listed]],
            "uncovered_types": len(uncovered_t1),
        },
        "tier2": {
            "by_occurrence": t2_occ.to_json(),
            "by_type": t2_typ.to_json(),
            "by_kind": by_kind,
            "target": TIER2_TARGET,
            "meets_target": t2_occ.rate is None or t2_occ.rate >= TIER2_TARGET,
            "uncovered": [{"action": p[0], "token": p[1], "count": c} for p, c in uncovered_t2[:max_listed]],
            "uncovered_types": len(uncovered_t2),
        },
        "lengths": {
            "tier1": _length_stats(t1_lengths),
            "tier1_2": _length_stats(t12_lengths),
            "all_tiers": _length_stats(full_lengths),
        },
        "tier2_per_action": {
            "actions": len(per_action),
            "mean": round(float(np.mean(counts_per_action)), 3) if per_action else None,
            "max": top[0] if top else None,
            "max_action": top[1] if top else None,
            "max_shortcut_id": top[2] if top else None,
        },
        "tier2_vocab_size_per_action": {
            "actions": len(vocab_sizes),
            "mean": round(float(np.mean(list(vocab_sizes.values()))), 3) if vocab_sizes else None,
            "max": biggest[1] if biggest else None,
            "max_action": biggest[0] if biggest else None,
        },
        "tier3": {
            "slots_by_kind": dict(sorted(slot_kinds.items())),
            "closed_enum_params_with_free_string": [
                {"action": a, "param": p, "count": c}
                for (a, p), c in sorted(enum_fallthrough.items(), key=lambda x: (-x[1], x[0]))
            ],
        },
    }


def typed_programs(
    programs: Iterable[tuple[str, object]], catalog: CatalogLike
) -> Iterable[tuple[str, TypedProgram]]:
    for sid, ir in programs:
        yield sid, to_typed(ir, catalog)
