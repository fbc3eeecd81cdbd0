"""Tier 1 and per-action Tier 2 vocabularies of the typed IR (plan Phase 0.2).

Tier 1 (one file, `tier1_vocab.json`): special tokens first (PAD = 0), then statement keywords, value-kind
markers, booleans, condition words, Tier 3 slot placeholders (the decoder emits them), handles, variables
and one `A:` token per action. Actions and handles come from the catalog *and* the training programs, so
an action the training data never uses can still be generated.

Tier 2 (`tier2_vocab/<canonical action>.json`): for each action, its parameter keys (catalog observed
params + parameter schemas + training data), the closed enum values of each key (catalog + training
data) and `true`/`false` when a key is boolean. An action that training never uses still gets its
catalog-derived vocabulary.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sashimi.dsl.ast import CONDITIONS, ShortcutIR
from sashimi.dsl.plist_refs import BLOCK_HANDLES, MAGIC_HANDLES, sanitize
from sashimi.errors import DataError, Location
from sashimi.io import read_json, write_json
from sashimi.ir.typed import (
    ACTION_PREFIX,
    BOOLEAN_TOKENS,
    ENUM_PREFIX,
    KEY_PREFIX,
    RESERVED_HANDLE_TOKENS,
    SLOT_TOKENS,
    SPECIAL_TOKENS,
    STATEMENT_KEYWORDS,
    TIER_PARAM,
    TIER_STRUCTURE,
    VALUE_MARKERS,
    CatalogLike,
    TypedProgram,
    to_typed,
)

TIER1_FILE = "tier1_vocab.json"
TIER2_DIR = "tier2_vocab"
MANIFEST_FILE = "vocab_manifest.json"
FORMAT_VERSION = 1

_ABSTRACT_VARIABLE = re.compile(r"\$VAR_([1-9][0-9]*)")
# The Apple loop variables always exist, whatever training happens to use.
_BASE_BUILTIN_VARIABLES = ("$Repeat_Index", "$Repeat_Item")
TIER1_CATEGORIES = (
    "special",
    "keywords",
    "markers",
    "booleans",
    "conditions",
    "slots",
    "handles",
    "variables",
    "actions",
)


@dataclass(frozen=True)
class ActionVocab:
    action: str  # canonical DSL spelling (the `A:` token without its prefix)
    identifier: str | None  # full catalog identifier, None for an action the catalog cannot resolve
    keys: tuple[str, ...]
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> closed values
    boolean_keys: tuple[str, ...] = ()
    in_catalog: bool = False
    training_count: int = 0  # occurrences in the training programs

    def tokens(self) -> tuple[str, ...]:
        toks = [KEY_PREFIX + k for k in self.keys]
        toks += sorted({ENUM_PREFIX + v for values in self.enums.values() for v in values})
        if self.boolean_keys:
            toks += list(BOOLEAN_TOKENS)
        return tuple(toks)

    def to_json(self) -> dict:
        return {
            "action": self.action,
            "identifier": self.identifier,
            "tokens": list(self.tokens()),
            "keys": list(self.keys),
            "enums": {k: list(v) for k, v in self.enums.items()},
            "boolean_keys": list(self.boolean_keys),
            "in_catalog": self.in_catalog,
            "training_count": self.training_count,
        }

    @classmethod
    def from_json(cls, obj: Any, loc: Location) -> ActionVocab:
        try:
            if not isinstance(obj, dict) or not isinstance(obj["action"], str):
                raise TypeError
            enums = {str(k): tuple(map(str, v)) for k, v in obj.get("enums", {}).items()}
            return cls(
                action=obj["action"],
                identifier=obj.get("identifier"),
                keys=tuple(map(str, obj["keys"])),
                enums=enums,
                boolean_keys=tuple(map(str, obj.get("boolean_keys", ()))),
                in_catalog=bool(obj.get("in_catalog", False)),
                training_count=int(obj.get("training_count", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise DataError("malformed Tier 2 vocabulary file", loc) from None


@dataclass(frozen=True)
class Vocab:
    tier1: tuple[str, ...]  # ordered; the index of a token is its id
    categories: dict[str, tuple[str, ...]]
    tier2: dict[str, ActionVocab]  # canonical action name -> vocabulary
    meta: dict = field(default_factory=dict)

    def tier1_index(self) -> dict[str, int]:
        return {tok: i for i, tok in enumerate(self.tier1)}

    def tier2_tokens(self, action: str) -> frozenset[str]:
        spec = self.tier2.get(action)
        return frozenset(spec.tokens()) if spec else frozenset()


def sanitised_handle(action_name: str) -> str:
    """The named handle the decompiler writes for an action's output (shortcutdsl.md §3.3.3 step 3)."""
    return "@" + sanitize(action_name)


def build_vocab(
    programs: Iterable[ShortcutIR], catalog: CatalogLike, *, catalog_actions: Iterable[Any] = ()
) -> Vocab:
    """Vocabularies from the training programs plus the catalog.

    `catalog_actions` are the catalog's `ActionSpec`s (`catalog.actions`); they give every catalog action
    a Tier 1 token and a Tier 2 vocabulary whether or not training uses it.
    """
    seen_t1: Counter[str] = Counter()
    seen_keys: dict[str, set[str]] = {}
    seen_enums: dict[str, dict[str, set[str]]] = {}
    seen_bools: dict[str, set[str]] = {}
    action_counts: Counter[str] = Counter()
    identifiers: dict[str, str | None] = {}
    n_programs = 0
    for ir in programs:
        n_programs += 1
        typed = to_typed(ir, catalog)
        seen_t1.update(t.text for t in typed.tokens if t.tier == TIER_STRUCTURE)
        for action, key, token in iter_tier2(typed):
            action_counts[action] += key is None
            if key is None:
                continue
            if token.startswith(KEY_PREFIX):
                seen_keys.setdefault(action, set()).add(key)
            elif token.startswith(ENUM_PREFIX):
                seen_enums.setdefault(action, {}).setdefault(key, set()).add(token[len(ENUM_PREFIX) :])
            elif token in BOOLEAN_TOKENS:
                seen_bools.setdefault(action, set()).add(key)
        for ir_action in ir.all_actions():
            ident = catalog.resolve(ir_action.action_name)
            canonical = catalog.canonical_name(ident) if ident else ir_action.action_name
            identifiers.setdefault(canonical, ident)

    tier2: dict[str, ActionVocab] = {}
    for spec in catalog_actions:
        canonical = catalog.canonical_name(spec.identifier)
        identifiers[canonical] = spec.identifier
    for canonical in sorted(identifiers):
        ident = identifiers[canonical]
        spec = _spec(catalog, ident)
        keys = set(seen_keys.get(canonical, ()))
        enums: dict[str, set[str]] = {k: set(v) for k, v in seen_enums.get(canonical, {}).items()}
        bools = set(seen_bools.get(canonical, ()))
        if ident is not None:
            keys |= set(catalog.known_params(ident) or ())
        if spec is not None:
            for param in spec.params:
                keys.add(param.name)
                if param.enum:
                    enums.setdefault(param.name, set()).update(param.enum)
                if param.type == "bool":
                    bools.add(param.name)
        tier2[canonical] = ActionVocab(
            action=canonical,
            identifier=ident,
            keys=tuple(sorted(keys)),
            enums={k: tuple(sorted(v)) for k, v in sorted(enums.items())},
            boolean_keys=tuple(sorted(bools)),
            in_catalog=spec is not None,
            training_count=action_counts.get(canonical, 0),
        )

    max_var = max((int(m.group(1)) for t in seen_t1 if (m := _ABSTRACT_VARIABLE.fullmatch(t))), default=0)
    handles = set(RESERVED_HANDLE_TOKENS)
    handles |= {"@" + h for h in MAGIC_HANDLES} | {"@" + h for h in BLOCK_HANDLES}
    handles |= {sanitised_handle(a) for a in tier2}
    handles |= {t for t in seen_t1 if t.startswith("@")}
    builtin_vars = set(_BASE_BUILTIN_VARIABLES) | {
        t for t in seen_t1 if t.startswith("$") and not _ABSTRACT_VARIABLE.fullmatch(t)
    }
    categories: dict[str, tuple[str, ...]] = {
        "special": SPECIAL_TOKENS,
        "keywords": STATEMENT_KEYWORDS,
        "markers": VALUE_MARKERS,
        "booleans": BOOLEAN_TOKENS,
        "conditions": tuple(CONDITIONS),
        "slots": SLOT_TOKENS,
        "handles": tuple(sorted(handles - set(RESERVED_HANDLE_TOKENS))),
        "variables": tuple(f"$VAR_{k}" for k in range(1, max_var + 1)) + tuple(sorted(builtin_vars)),
        "actions": tuple(ACTION_PREFIX + a for a in sorted(tier2)),
    }
    categories["handles"] = RESERVED_HANDLE_TOKENS + categories["handles"]
    tier1: list[str] = []
    seen: set[str] = set()
    for name in TIER1_CATEGORIES:
        for tok in categories[name]:
            if tok not in seen:
                seen.add(tok)
                tier1.append(tok)
    meta = {
        "training_programs": n_programs,
        "max_variables": max_var,
        "tier1_size": len(tier1),
        "tier2_actions": len(tier2),
        "tier2_actions_seen_in_training": sum(1 for a in tier2.values() if a.training_count),
    }
    return Vocab(tuple(tier1), categories, tier2, meta)


def _union(*groups: Iterable[str]) -> tuple[str, ...]:
    """The items of `groups` in order of first appearance, once each."""
    return tuple(dict.fromkeys(item for group in groups for item in group))


def merge_vocab(base: Vocab, extra: Vocab) -> Vocab:
    """`base` plus what `extra` adds: Tier 1 tokens and category members appended in `extra`'s order,
    `extra`'s actions added, and for an action in both the union of keys, enum values and boolean keys
    (base's first). Deterministic: every order comes from the two vocabularies, none from a set."""
    tier2 = dict(extra.tier2)
    for name, old in base.tier2.items():
        new = tier2.get(name)
        if new is None:
            tier2[name] = old
            continue
        enum_keys = _union(old.enums, new.enums)
        tier2[name] = replace(
            new,
            keys=_union(old.keys, new.keys),
            enums={k: _union(old.enums.get(k, ()), new.enums.get(k, ())) for k in enum_keys},
            boolean_keys=_union(old.boolean_keys, new.boolean_keys),
        )
    names = _union(base.categories, extra.categories)
    categories = {k: _union(base.categories.get(k, ()), extra.categories.get(k, ())) for k in names}
    return replace(base, tier1=_union(base.tier1, extra.tier1), categories=categories, tier2=tier2)


def _spec(catalog: CatalogLike, identifier: str | None):
    get = getattr(catalog, "get", None)
    return get(identifier) if (get is not None and identifier is not None) else None


def iter_tier2(typed: TypedProgram) -> Iterable[tuple[str, str | None, str]]:
    """(action, key, token) for each Tier 2 token, plus (action, None, "") once per ACTION statement.

    The current action is the last `A:` token seen; the current key the last `K:` token.
    """
    action: str | None = None
    key: str | None = None
    for tok in typed.tokens:
        if tok.tier == TIER_STRUCTURE and tok.text.startswith(ACTION_PREFIX):
            action, key = tok.text[len(ACTION_PREFIX) :], None
            yield action, None, ""
        elif tok.tier == TIER_PARAM and action is not None:
            if tok.text.startswith(KEY_PREFIX):
                key = tok.text[len(KEY_PREFIX) :]
            yield action, key, tok.text


def save_vocab(vocab: Vocab, out_dir: str | os.PathLike, *, extra_meta: dict | None = None) -> Path:
    out = Path(out_dir)
    write_json(
        out / TIER1_FILE,
        {
            "format_version": FORMAT_VERSION,
            "tokens": list(vocab.tier1),
            "categories": {k: list(v) for k, v in vocab.categories.items()},
            "special_tokens": list(SPECIAL_TOKENS),
        },
    )
    tier2_dir = out / TIER2_DIR
    tier2_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"{a}.json" for a in vocab.tier2}
    for stale in tier2_dir.glob("*.json"):  # a re-run into the same folder must not keep old actions
        if stale.name not in wanted:
            stale.unlink()
    for action, spec in vocab.tier2.items():
        write_json(tier2_dir / f"{action}.json", spec.to_json())
    write_json(out / MANIFEST_FILE, {"format_version": FORMAT_VERSION, **vocab.meta, **(extra_meta or {})})
    return out


def load_vocab(vocab_dir: str | os.PathLike) -> Vocab:
    root = Path(vocab_dir)
    t1_path = root / TIER1_FILE
    obj = read_json(t1_path)
    loc = Location(str(t1_path))
    if not isinstance(obj, dict) or not isinstance(obj.get("tokens"), list):
        raise DataError("expected an object with a 'tokens' list", loc)
    if not all(isinstance(t, str) for t in obj["tokens"]):
        raise DataError("Tier 1 tokens must be strings", loc)
    raw_categories = obj.get("categories", {})
    if not isinstance(raw_categories, dict):
        raise DataError("'categories' must be an object", loc)
    categories = {str(k): tuple(map(str, v)) for k, v in raw_categories.items()}
    tier2: dict[str, ActionVocab] = {}
    tier2_dir = root / TIER2_DIR
    if not tier2_dir.is_dir():
        raise DataError("missing Tier 2 vocabulary folder", Location(str(tier2_dir)))
    for path in sorted(tier2_dir.glob("*.json")):
        spec = ActionVocab.from_json(read_json(path), Location(str(path)))
        tier2[spec.action] = spec
    meta_path = root / MANIFEST_FILE
    meta = read_json(meta_path) if meta_path.is_file() else {}
    return Vocab(tuple(obj["tokens"]), categories, tier2, meta if isinstance(meta, dict) else {})
