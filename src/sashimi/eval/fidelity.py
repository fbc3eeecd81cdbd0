"""Fidelity of a predicted program against its reference (architecture.md §6): what the metrics compare.

Both programs are reduced to a `ProgramView` built from the typed IR (`sashimi.ir.typed`), with
comment actions and `#` lines removed and every action identity canonicalised through the catalog
(`is.workflow.actions.openurl` and `openurl` are one action, also when the catalog does not list it).

Metrics of one (prediction, reference) pair — JSON keys as in architecture.md §6:

- `action_f1`: F1 of the multisets of canonical action identities; an empty pair scores 1.
- `skeleton_exact`, `skeleton_edit_distance`: the sequence of statement keywords (SET IF ELSE ENDIF
  MENU CASE ENDMENU REPEAT ENDREPEAT FOREACH ENDFOREACH) and canonical actions in order; the edit
  distance is Levenshtein over those tokens divided by the longer length (0 = equal, 1 = nothing shared;
  two empty skeletons are at distance 0).
- `tier1_exact`: the whole Tier 1 sequence is equal (adds variable slots, handles, condition words).
- `param_key_f1`: actions are aligned by a longest common subsequence of their identities; a predicted
  parameter key is matched when the aligned gold action has the same key. F1 over all keys of all
  actions, so the keys of unaligned actions count against precision or recall. Undefined (None) when
  the gold program has no parameter, like the two accuracies below: every system is then averaged over
  the same rows, and an empty prediction cannot score 1 against parameterless actions.
- `enum_accuracy`: of the gold parameters whose value is a closed enum (`E:` token), the share whose
  aligned predicted action has the same key with the same value. Undefined (None) when the gold has none.
- `value_accuracy`: the same over gold parameters holding a Tier 3 value (strings, numbers, text with
  interpolations, quantities, dict/list literals); values compare with variables abstracted ($VAR_k).
  Undefined when the gold has none.
- `exact`: canonical DSL text equal after printing both programs (comments and a trailing ENDSHORTCUT
  excluded, the SHORTCUT name and variable names included).

A prediction with no parsed program (refused, empty, unparseable, malformed) scores 0 on every metric
and 1 on the edit distance: such a row is a failure, never skipped.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sashimi.dsl.ast import DictLiteral, HeadersLiteral, ListLiteral, ShortcutIR
from sashimi.dsl.catalog import APPLE_PREFIX
from sashimi.dsl.catalog import canonical_name as _canonical_name
from sashimi.dsl.printer import print_program
from sashimi.ir.typed import (
    ACTION_PREFIX,
    ENUM_PREFIX,
    KEY_PREFIX,
    STATEMENT_KEYWORDS,
    TIER_PARAM,
    TIER_STRUCTURE,
    TIER_VALUE,
    drop_comment_actions,
    to_typed,
    value_to_json,
)

SKELETON_KEYWORDS = frozenset(
    {"SET", "IF", "ELSE", "ENDIF", "MENU", "CASE", "ENDMENU", "REPEAT", "ENDREPEAT", "FOREACH", "ENDFOREACH"}
)
_STATEMENT_WORDS = frozenset(STATEMENT_KEYWORDS)

FIDELITY_KEYS = (
    "action_f1",
    "skeleton_exact",
    "skeleton_edit_distance",
    "tier1_exact",
    "param_key_f1",
    "enum_accuracy",
    "value_accuracy",
    "exact",
)
# Metrics where lower is better (for sorting "worst" rows and for oracle choices).
LOWER_IS_BETTER = frozenset({"skeleton_edit_distance"})


class CanonicalCatalog:
    """A catalog view that also canonicalises actions the catalog does not list.

    `to_typed` keeps an unknown action's written name; with this view `is.workflow.actions.x` and `x`
    resolve to the same identifier whether or not the catalog knows `x`, so identities compare equal.
    """

    def __init__(self, catalog) -> None:
        self.catalog = catalog

    def resolve(self, name: str) -> str | None:
        found = self.catalog.resolve(name)
        if found is not None:
            return found
        return name if name.startswith(APPLE_PREFIX) else APPLE_PREFIX + name

    def canonical_name(self, identifier: str) -> str:
        return _canonical_name(identifier)

    def enum_values(self, identifier: str, param: str) -> tuple[str, ...] | None:
        return self.catalog.enum_values(identifier, param)


@dataclass(frozen=True)
class ActionParams:
    """One action of a program: its canonical identity and its parameters as (key, kind, value)."""

    action: str
    params: tuple[tuple[str, str, tuple], ...]  # kind: enum | bool | value | ref


@dataclass(frozen=True)
class ProgramView:
    """What the fidelity metrics need of one parsed program (comments already removed)."""

    actions: tuple[ActionParams, ...]
    skeleton: tuple[str, ...]
    tier1: tuple[str, ...]
    tier12: tuple[str, ...]  # Tier 1 + Tier 2 token texts
    text: str  # canonical printed text

    @property
    def action_names(self) -> tuple[str, ...]:
        return tuple(a.action for a in self.actions)


def program_view(ir: ShortcutIR, catalog) -> ProgramView:
    """The comment-free, canonicalised view of `ir` (catalog: a `Catalog` or a `CanonicalCatalog`)."""
    canon = catalog if isinstance(catalog, CanonicalCatalog) else CanonicalCatalog(catalog)
    # an ENDSHORTCUT line is an end-of-generation marker, not part of the program
    stripped = dataclasses.replace(drop_comment_actions(ir, canon), has_endshortcut=False)
    typed = to_typed(stripped, canon)
    tier1 = tuple(t.text for t in typed.tokens if t.tier == TIER_STRUCTURE)
    tier12 = tuple(t.text for t in typed.tokens if t.tier in (TIER_STRUCTURE, TIER_PARAM))
    skeleton = tuple(t for t in tier1 if t in SKELETON_KEYWORDS or t.startswith(ACTION_PREFIX))
    actions = _actions(typed)
    return ProgramView(actions, skeleton, tier1, tier12, print_program(stripped))


def _slot_key(slot) -> tuple:
    value = slot.value
    if isinstance(value, DictLiteral | ListLiteral | HeadersLiteral):
        value = json.dumps(value_to_json(value), sort_keys=False, ensure_ascii=False)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value)  # 5 and 5.0 are the same number
    return (slot.kind, value)


def _actions(typed) -> tuple[ActionParams, ...]:
    """Split the token stream into actions and their parameters (key, kind, value tokens)."""
    actions: list[ActionParams] = []
    current: str | None = None
    params: list[tuple[str, str, tuple]] = []
    key: str | None = None
    value: list = []

    def close_param() -> None:
        nonlocal key, value
        if key is not None:
            params.append((key, _param_kind(value), tuple(value)))
        key, value = None, []

    def close_action() -> None:
        nonlocal current, params
        close_param()
        if current is not None:
            actions.append(ActionParams(current, tuple(params)))
        current, params = None, []

    tokens = typed.tokens
    for i, tok in enumerate(tokens):
        if tok.tier == TIER_STRUCTURE and tok.text in _STATEMENT_WORDS:
            close_action()
            continue
        if (
            tok.tier == TIER_STRUCTURE
            and tok.text.startswith(ACTION_PREFIX)
            and i
            and tokens[i - 1].text == "ACTION"
        ):
            current = tok.text[len(ACTION_PREFIX) :]
            continue
        if current is None:
            continue
        if tok.tier == TIER_PARAM and tok.text.startswith(KEY_PREFIX):
            close_param()
            key = tok.text[len(KEY_PREFIX) :]
            continue
        if key is not None:
            value.append(_slot_key(typed.slots[tok.slot]) if tok.tier == TIER_VALUE else tok.text)
    close_action()
    return tuple(actions)


def _param_kind(value: list) -> str:
    if len(value) == 1 and isinstance(value[0], str):
        if value[0].startswith(ENUM_PREFIX):
            return "enum"
        if value[0] in ("true", "false"):
            return "bool"
    if any(isinstance(v, tuple) for v in value):
        return "value"
    return "ref"


# ----------------------------------------------------------------------------- primitives


def multiset_f1(predicted: Sequence, gold: Sequence) -> float:
    """F1 of two multisets; two empty multisets score 1, one empty scores 0."""
    if not predicted and not gold:
        return 1.0
    if not predicted or not gold:
        return 0.0
    common = sum((Counter(predicted) & Counter(gold)).values())
    return 2.0 * common / (len(predicted) + len(gold))


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance over sequence items (insert, delete, substitute: cost 1 each)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def normalised_edit_distance(a: Sequence, b: Sequence) -> float:
    """`edit_distance / max(len)`, in [0, 1]; two empty sequences are at distance 0."""
    longest = max(len(a), len(b))
    return edit_distance(a, b) / longest if longest else 0.0


def align(a: Sequence, b: Sequence) -> list[tuple[int, int]]:
    """Index pairs of a longest common subsequence of `a` and `b` (ties: earliest positions)."""
    n, m = len(a), len(b)
    # lcs[i][j] = LCS length of a[i:] and b[j:]; walking forward then picks the earliest match.
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = lcs[i], lcs[i + 1]
        for j in range(m - 1, -1, -1):
            row[j] = below[j + 1] + 1 if a[i] == b[j] else max(below[j], row[j + 1])
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            pairs.append((i, j))
            i += 1
            j += 1
        elif lcs[i + 1][j] >= lcs[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _f1(matched: int, n_pred: int, n_gold: int) -> float:
    if matched == 0:
        return 0.0
    return 2.0 * matched / (n_pred + n_gold)


# ----------------------------------------------------------------------------- metrics


def failed_scores(gold: ProgramView) -> dict[str, float | None]:
    """Scores of a row with no parsed prediction: every metric at its worst (undefined stays undefined)."""
    enums = sum(kind == "enum" for a in gold.actions for _, kind, _ in a.params)
    values = sum(kind == "value" for a in gold.actions for _, kind, _ in a.params)
    return {
        "action_f1": 0.0,
        "skeleton_exact": 0.0,
        "skeleton_edit_distance": 1.0,
        "tier1_exact": 0.0,
        "param_key_f1": 0.0 if any(a.params for a in gold.actions) else None,
        "enum_accuracy": 0.0 if enums else None,
        "value_accuracy": 0.0 if values else None,
        "exact": 0.0,
    }


def fidelity_scores(pred: ProgramView | None, gold: ProgramView) -> dict[str, float | None]:
    """Every fidelity metric of one row (see the module docstring); `pred=None` is a failed row."""
    if pred is None:
        return failed_scores(gold)
    pairs = align(pred.action_names, gold.action_names)
    key_matched = 0
    enum_total = enum_right = value_total = value_right = 0
    aligned_gold = {j: i for i, j in pairs}
    for i, j in pairs:
        key_matched += sum(
            (
                Counter(k for k, _, _ in pred.actions[i].params)
                & Counter(k for k, _, _ in gold.actions[j].params)
            ).values()
        )
    for j, action in enumerate(gold.actions):
        i = aligned_gold.get(j)
        predicted = {}
        if i is not None:
            # the parser keeps the last of duplicated keys; so does this lookup
            predicted = {k: v for k, _, v in pred.actions[i].params}
        for key, kind, value in action.params:
            if kind == "enum":
                enum_total += 1
                enum_right += predicted.get(key) == value
            elif kind == "value":
                value_total += 1
                value_right += predicted.get(key) == value
    n_pred_keys = sum(len(a.params) for a in pred.actions)
    n_gold_keys = sum(len(a.params) for a in gold.actions)
    return {
        "action_f1": multiset_f1(pred.action_names, gold.action_names),
        "skeleton_exact": float(pred.skeleton == gold.skeleton),
        "skeleton_edit_distance": normalised_edit_distance(pred.skeleton, gold.skeleton),
        "tier1_exact": float(pred.tier1 == gold.tier1),
        "param_key_f1": _f1(key_matched, n_pred_keys, n_gold_keys) if n_gold_keys else None,
        "enum_accuracy": enum_right / enum_total if enum_total else None,
        "value_accuracy": value_right / value_total if value_total else None,
        "exact": float(pred.text == gold.text),
    }


def fidelity_category(pred: ProgramView, gold: ProgramView) -> str:
    """How a parsed, compiled prediction differs from the reference, coarsest difference first."""
    if pred.skeleton != gold.skeleton:
        return "wrong_skeleton"
    if pred.tier1 != gold.tier1:
        return "wrong_structure"  # same skeleton; variables, handles or conditions differ
    if pred.tier12 != gold.tier12:
        return "wrong_parameters"  # keys or enum/bool values differ
    if pred.text != gold.text:
        return "wrong_values"  # Tier 3 literals, the name or variable names differ
    return "exact"
