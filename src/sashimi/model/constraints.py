"""Constrained decoding: a state machine over the typed-IR token language that masks the decoder's logits.

The decoder emits `[t.text for t in to_typed(ir, catalog).tokens]` (`sashimi.ir.typed`). This module
accepts exactly that language, restricted to programs that parse, validate strict and compile against
the catalog the vocabulary was built with. At every step `ProgramConstraint.allowed(state)` says which
token ids may come next; `advance` returns a new state (states are immutable tuples, so beam search can
branch freely).

The language (one line per construct; `ref` = `$VAR_k | $Repeat_… | @handle`):

    program  SHORTCUT <str> stmt* END
    stmt     ACTION A:x (K:k pvalue)*                 x: a catalog action of the vocabulary, no key twice
             SET $VAR_k value                         defines $VAR_k
             IF ref COND [value] stmt* [ELSE stmt*] ENDIF
             MENU (<str> | interp) (CASE <str> stmt*)+ ENDMENU
             REPEAT (<num> | ref) stmt* ENDREPEAT
             FOREACH ref stmt* ENDFOREACH
             # <str>
    value    <str> | <num> | true | false | ref | interp | <qty> (<num> | ref) <unit> | <dict> | <list> | <headers>
    interp   <interp> (<text> | ref)* </interp>
    pvalue   by the key (Tier 2 vocabulary of the action):
               closed enum key        E:v (v in the key's enum) | ref
               boolean key            true | false | <num> | ref        (the real corpus writes 0/1 too)
               WFVariableName of setvariable/appendvariable   <name> $VAR_k   (defines $VAR_k)
               UUID, CustomOutputName <str>   (the compiler needs a string there)
               any other key          value without true/false

Scope rules are the validator's (`sashimi.dsl.validator`), so an accepted program has neither its errors
nor its scope warnings:

* `$VAR_k` is numbered by first occurrence (as `to_typed` does); a use needs a definition before it in
  scope (SET, or `<name>` of setvariable/appendvariable, effective after the SET's value / the action's
  parameters), a new definition must take the next number. Sibling bodies (THEN/ELSE, CASEs) do not see
  each other's definitions; all of them are visible after the block closes (Shortcuts variables are
  global).
* `$Repeat_Item`/`$Repeat_Index` inside a loop, `$Repeat_Item_d` at loop depth >= d >= 2;
  `@item` inside FOREACH, `@index` inside FOREACH/REPEAT; `@prev` only when the current block has an
  earlier non-comment ACTION (§3.3.2); `@input`, `@date` and the magic handles anywhere; `@conditional`,
  `@choosefrommenu`, `@repeat_each`, `@repeat_count` after such a block has closed; `@<action>` after an
  ACTION of that name. Handles that name a `CustomOutputName` are never allowed: that name is a Tier 3
  value the structural decoder cannot see.
* IF: the comparison value's presence and kinds come from one table, `CONDITION_RULES`, derived from
  the toolchain's condition table (`sashimi.dsl.ast.CONDITION_SPECS`: the key holding the value) or,
  before that table, from `CONDITIONS` and the condition classes of `sashimi.dsl.plist_refs`.

Budget: every state knows the fewest tokens that still complete the program (open blocks' closers,
unfinished headers and values, END). A token is allowed only if the program can still end within
`max_len` after it, so with only enough budget left to close the open blocks, only closers are allowed,
and every walk through the mask ends with END within `max_len` tokens.

Speed: token ids are grouped once per state class into numpy masks, and the mask of a state is an OR of
precomputed groups, cached by (class, budget, dynamic signature).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from sashimi.dsl import ast as dsl_ast
from sashimi.dsl import plist_refs
from sashimi.dsl.ast import CONDITIONS, DictLiteral, HeadersLiteral, ListLiteral
from sashimi.dsl.parser import MAX_NESTING
from sashimi.ir.typed import (
    ACTION_PREFIX,
    ENUM_PREFIX,
    KEY_PREFIX,
    SLOT_TOKENS,
    STATEMENT_KEYWORDS,
    TIER_PARAM,
    TIER_STRUCTURE,
    TIER_VALUE,
    Slot,
    TypedProgram,
    TypedToken,
)
from sashimi.ir.vocab import Vocab, sanitised_handle
from sashimi.model.token_table import TokenTable, build_token_table

# The decoder's output vocabulary (`TokenTable`, `build_token_table`) has one definition, in
# `sashimi.model.token_table` (written first for training); it is re-exported here, as the interface names it.

# ----------------------------------------------------------------------------- condition table


@dataclass(frozen=True)
class ConditionRule:
    """What may follow an IF condition word: whether a comparison value is required, and its kinds."""

    required: bool
    kinds: frozenset[str]  # value kinds: "str", "num", "interp", "ref", "bool"


# Rules by the Apple key that holds the comparison value (None: the condition takes none).
_VALUE_KEY_RULES = {
    # Apple ignores the value of an existence test, but real programs carry one (kept, compiled).
    None: ConditionRule(False, frozenset({"str", "num"})),
    # Numbers always have a value; the real corpus also writes it as a string ("5").
    "WFNumberValue": ConditionRule(True, frozenset({"num", "str", "ref"})),
    # `equals_string` with no value compares with the empty string, which the real corpus does.
    "WFConditionalActionString": ConditionRule(False, frozenset({"str", "interp", "ref", "num"})),
    # the real corpus read in the canonical dialect has `is_before` without a value
    "WFDate": ConditionRule(False, frozenset({"str", "interp", "ref"})),
    "WFEnumeration": ConditionRule(True, frozenset({"str", "ref"})),
    "WFLinkEnumeration": ConditionRule(True, frozenset({"str", "ref"})),
    "WFBooleanValue": ConditionRule(True, frozenset({"bool", "ref"})),
}
_DEFAULT_RULE = _VALUE_KEY_RULES["WFConditionalActionString"]


def _condition_rule(word: str) -> ConditionRule | None:
    """The rule of one condition word, from the toolchain's condition table; None: not generated."""
    specs = getattr(dsl_ast, "CONDITION_SPECS", None)
    if specs is not None and word in specs:  # the per-word table (ConditionSpec: code, value_key, ...)
        spec = specs[word]
        # raw_condition lives in raw IF parameters and a range needs a second bound: the typed IR
        # has no encoding for either, so the decoder never produces them.
        if spec.code is None or getattr(spec, "upper_key", None):
            return None
        return _VALUE_KEY_RULES.get(spec.value_key, _DEFAULT_RULE)
    # the condition classes of plist_refs (before the table existed)
    if word in getattr(plist_refs, "EXISTENCE_CONDITIONS", ()):
        return _VALUE_KEY_RULES[None]
    if word in getattr(plist_refs, "NUMBER_CONDITIONS", ()):
        return _VALUE_KEY_RULES["WFNumberValue"]
    # dates in this older form: the real corpus writes `is_before` with no value
    return _DEFAULT_RULE


# The conditions the decoder may produce, and what follows each (derived, never listed by hand).
CONDITION_RULES: dict[str, ConditionRule] = {
    word: rule for word in CONDITIONS if (rule := _condition_rule(word)) is not None
}

# ----------------------------------------------------------------------------- state


class ConstraintState(NamedTuple):
    """An immutable point in the machine. Fields are internal; use `ProgramConstraint`'s methods."""

    mode: int
    n: int  # tokens emitted so far
    close: int  # fewest tokens closing every open frame, plus END
    stack: tuple | None  # (kind, saved_defined, acc_defined, saved_prev, parent) cons cells
    defined: int  # bit k: $VAR_k is defined in the current scope
    max_var: int  # highest k numbered so far
    prev: bool  # the current block has an @prev producer
    handles: int  # bit i: action handle i was produced
    closed: int  # bit b: a block of kind b has closed (block-output handles)
    depth: int  # loop depth (FOREACH + REPEAT)
    foreach: int  # FOREACH frames open
    action: int  # current action index, -1 outside an ACTION
    used: int  # keys of the current action already given (bits by key index)
    key: int  # current key index (its value follows)
    ret: int  # where a value returns to
    cond: int  # condition index while its comparison value may follow
    pending: int  # variables defined when the current SET / ACTION ends


# modes
(
    M_START,
    M_NAME,
    M_BODY,
    M_PARAMS,
    M_ACTION_ID,
    M_PVALUE,
    M_NAME_VAR,
    M_SET_VAR,
    M_VALUE,
    M_INTERP,
    M_QTY_MAG,
    M_QTY_UNIT,
    M_IF_TARGET,
    M_COND,
    M_COMPARE,
    M_MENU_PROMPT,
    M_MENU_FIRST,
    M_CASE_LABEL,
    M_REPEAT_COUNT,
    M_FOREACH_COLL,
    M_COMMENT,
    M_FINAL,
) = range(22)

# value continuations
R_PARAMS, R_SET, R_COMPARE, R_MENU_PROMPT = range(4)

# frames
F_TOP, F_IF_THEN, F_IF_ELSE, F_CASE, F_REPEAT, F_FOREACH = range(6)
# frame -> bit of its block kind in `closed` (IF, MENU, FOREACH, REPEAT: the block-output handles)
_FRAME_BLOCK = {F_IF_THEN: 0, F_IF_ELSE: 0, F_CASE: 1, F_FOREACH: 2, F_REPEAT: 3}

# Value kinds of a parameter (what may follow its `K:` token) and their extra cost in tokens.
_KIND_COST = {
    "str": 0, "num": 0, "bool": 0, "dict": 0, "list": 0, "headers": 0, "ref": 0, "enum": 0,
    "interp": 1, "name": 1, "qty": 2,
}  # fmt: skip
GENERIC_KINDS = frozenset({"str", "num", "interp", "qty", "dict", "list", "headers", "ref"})
# Catalog parameter types that narrow the generic kinds (the others, e.g. `variable`, `any`, `date`,
# `file`, stay generic). Each set covers every encoding the real corpus uses for that type: numbers are
# often written as strings there, and one text parameter holds a dictionary.
TYPE_KINDS = {
    "quantity": frozenset({"qty", "ref"}),
    "number": frozenset({"num", "str", "interp", "ref"}),
    "text": frozenset({"str", "interp", "ref", "dict"}),
    # our synthetic corpus names an AirPlay speaker by a string in setplaybackdestination's dict param
    "dict": frozenset({"dict", "headers", "ref", "str"}),
    "app": frozenset({"dict", "ref"}),
    "contact": frozenset({"str", "interp", "dict", "ref"}),  # a name or number as text too
    "filter": frozenset({"dict", "ref"}),
    "list": frozenset({"list", "ref"}),
}
_VARNAME_ACTIONS = frozenset({"setvariable", "appendvariable"})
# The compiler needs a plain string for these (an explicit UUID; the name of a named output).
_STRING_ONLY_KEYS = frozenset({"UUID", "CustomOutputName"})

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ACTION_NAME = re.compile(r"[A-Za-z_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?\Z")
_VAR = re.compile(r"\$VAR_([1-9][0-9]*)\Z")
_LOOP_VAR = re.compile(r"\$Repeat_(?:Item|Index)(?:_([0-9]+))?\Z")

# the fewest tokens needed from a mode back to a statement boundary (frames it opens included)
_RET_NEED = {R_PARAMS: 0, R_SET: 0, R_COMPARE: 1, R_MENU_PROMPT: 3}
_CAP = 8  # budgets above this behave alike (no construct needs more to finish)
DEFAULT_MAX_DEPTH = 32  # block nesting; the data nests at most 6 deep
# Cached masks, kept as packed bits (one bit per table token: ~290 bytes for the real vocabulary, a
# bool array would be ~2.3 kB): bounded so a server's memory stays small (about 3 MB per process when
# full, instead of ~19 MB); a full cache is simply cleared. The most recently unpacked ones are also
# kept as bool arrays (unpacking costs ~3 µs, a decoder step and row asks for one mask).
_MASK_CACHE_SIZE = 8192
_UNPACKED_SIZE = 256
_REF_CACHE_SIZE = 2048


@dataclass
class _ActionInfo:
    name: str
    token: int
    keys: tuple[str, ...]
    key_ids: np.ndarray  # K: token id per key index
    key_kinds: tuple[frozenset[str], ...]  # value kinds per key index
    enum_ids: dict[int, np.ndarray]  # key index -> E: token ids
    handle_bit: int  # bit index of `@<sanitised name>`, -1 if the table has no such handle
    is_comment: bool
    key_index: dict[str, int]
    key_masks: tuple = ()  # per key index: masks by budget (static value tokens)
    key_refs: tuple = ()  # per key index: whether a reference may be the value


class ProgramConstraint:
    """Masks the decoder's logits so that every finished sequence is a valid program (module docstring)."""

    def __init__(
        self,
        vocab: Vocab,
        table: TokenTable,
        *,
        max_len: int = 384,
        catalog: Any = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ):
        """`catalog` (optional, the one the vocabulary was built with) narrows parameter values by type
        and gives placeholder units; `max_depth` caps block nesting (the parser's limit counts blocks
        and brackets together, and the filler's literals need room)."""
        if max_len < 3:
            raise ValueError("max_len must be at least 3 (SHORTCUT <str> END)")
        if not 1 <= max_depth <= MAX_NESTING - 8:
            raise ValueError(f"max_depth must be in 1..{MAX_NESTING - 8}")
        self.vocab, self.table, self.max_len, self.max_depth = vocab, table, max_len, max_depth
        self.catalog = catalog  # optional: only used for placeholder units
        self.size = len(table)
        tid = {text: i for i, text in enumerate(table.tokens)}
        self._tid = tid

        def ids(texts) -> np.ndarray:
            return np.array(sorted({tid[t] for t in texts if t in tid}), dtype=np.int64)

        def one(text: str) -> int:
            return tid.get(text, -1)

        self._kw = {
            k: one(k)
            for k in STATEMENT_KEYWORDS
        }
        self._keyword_ids = frozenset(i for i in self._kw.values() if i >= 0)
        missing = [k for k in ("SHORTCUT", "END") if self._kw[k] < 0]
        if missing or any(s not in tid for s in SLOT_TOKENS):
            raise ValueError(f"token table lacks {missing or 'slot tokens'}")
        self._slot = {s[1:-1]: tid[s] for s in SLOT_TOKENS}
        self._slot_kind = {v: k for k, v in self._slot.items()}
        self._mark = {m: one(m) for m in ("<interp>", "</interp>", "<qty>", "<name>")}
        self._true, self._false = one("true"), one("false")
        self._bools = ids(["true", "false"])
        self._cond_words = [w for w in CONDITIONS if w in tid and w in CONDITION_RULES]
        self._cond_index = {tid[w]: i for i, w in enumerate(self._cond_words)}
        self._cond_rules = [CONDITION_RULES[w] for w in self._cond_words]

        # -- variables and handles
        self._var_id: dict[int, int] = {}
        for tok, i in tid.items():
            m = _VAR.fullmatch(tok)
            if m:
                self._var_id[int(m.group(1))] = i
        self._var_of = {i: k for k, i in self._var_id.items()}
        self._max_table_var = 0
        while self._max_table_var + 1 in self._var_id:  # only a gap-free run of $VAR_k is usable
            self._max_table_var += 1
        self._can_define = self._max_table_var >= 1
        self._loop_vars: list[tuple[int, int]] = []  # (token id, minimum loop depth)
        for tok, i in tid.items():
            m = _LOOP_VAR.fullmatch(tok)
            if m:
                d = int(m.group(1)) if m.group(1) else 1
                if m.group(1) is None or d >= 2:
                    self._loop_vars.append((i, d))
        always = ["@input", "@date"] + ["@" + h for h in plist_refs.MAGIC_HANDLES]
        self._always_refs = np.zeros(self.size, dtype=bool)
        self._always_refs[ids(always)] = True
        self._prev_id, self._item_id, self._index_id = one("@prev"), one("@item"), one("@index")
        self._block_handle_ids = [
            one("@" + name) for name in ("conditional", "choosefrommenu", "repeat_each", "repeat_count")
        ]

        # -- actions
        # control-flow actions are written as blocks, never as ACTION lines
        control_flow = {i[len(plist_refs.PREFIX) :] for i in plist_refs.CONTROL_FLOW}
        reserved_handles = (
            {"@prev", "@item", "@index", "@input", "@date"}
            | set(always)
            | {"@" + n for n in ("conditional", "choosefrommenu", "repeat_each", "repeat_count")}
        )
        handle_bits: dict[str, int] = {}
        self._actions: list[_ActionInfo] = []
        self._action_of_token: dict[int, int] = {}
        for name in sorted(vocab.tier2):
            spec = vocab.tier2[name]
            token = tid.get(ACTION_PREFIX + name)
            if (
                token is None
                or not spec.in_catalog
                or name in control_flow
                or not _ACTION_NAME.fullmatch(name)
            ):
                continue
            keys = tuple(k for k in spec.keys if _IDENT.fullmatch(k) and KEY_PREFIX + k in tid)
            kinds: list[frozenset[str]] = []
            enum_ids: dict[int, np.ndarray] = {}
            for j, k in enumerate(keys):
                enum = ids(ENUM_PREFIX + v for v in spec.enums.get(k, ()))
                if len(enum):
                    enum_ids[j] = enum
                kinds.append(
                    self._key_kinds(name, spec.identifier, k, bool(len(enum)), k in spec.boolean_keys)
                )
            handle = sanitised_handle(name)
            bit = -1
            if handle in tid and handle not in reserved_handles:
                bit = handle_bits.setdefault(handle, len(handle_bits))
            info = _ActionInfo(
                name=name,
                token=token,
                keys=keys,
                key_ids=np.array([tid[KEY_PREFIX + k] for k in keys], dtype=np.int64),
                key_kinds=tuple(kinds),
                enum_ids=enum_ids,
                handle_bit=bit,
                is_comment=(spec.identifier == plist_refs.COMMENT),
                key_index={k: j for j, k in enumerate(keys)},
            )
            self._action_of_token[token] = len(self._actions)
            self._actions.append(info)
        self._handle_ids = [0] * len(handle_bits)
        for handle, bit in handle_bits.items():
            self._handle_ids[bit] = tid[handle]
        self._action_ids = np.array(sorted(self._action_of_token), dtype=np.int64)

        self._build_static()
        self._cache: dict = {}  # mask key -> packed bits (`allowed`)
        self._unpacked: dict = {}  # the latest `_UNPACKED_SIZE` of them as bool arrays
        self._ref_cache: dict = {}

    def _key_kinds(
        self, action: str, identifier: str | None, key: str, enum: bool, boolean: bool
    ) -> frozenset:
        """The value kinds a parameter accepts: Tier 2 vocabulary first, then the catalog's type."""
        if action in _VARNAME_ACTIONS and key == "WFVariableName" and self._can_define:
            return frozenset({"name"})  # `<name> $VAR_k`: the definition links to its uses
        if key in _STRING_ONLY_KEYS:
            return frozenset({"str"})
        if enum:  # a string outside the closed set would be an `invalid_enum` error
            return frozenset({"enum", "ref"})
        if boolean:  # the real corpus also writes 0/1
            return frozenset({"bool", "num", "ref"})
        ptype = None
        if self.catalog is not None and identifier is not None:
            spec = self.catalog.get(identifier)
            param = spec.param(key) if spec is not None else None
            ptype = param.type if param is not None else None
        return TYPE_KINDS.get(ptype, GENERIC_KINDS)

    # ------------------------------------------------------------------ static groups

    def _mask_of(self, groups: list[tuple[Sequence[int] | np.ndarray, int]]) -> list[np.ndarray]:
        """Masks for budgets -1.._CAP from (ids, cost) groups: a token is in when its cost <= budget."""
        out = []
        for slack in range(-1, _CAP + 1):
            m = np.zeros(self.size, dtype=bool)
            for idx, cost in groups:
                if cost <= slack and len(idx):
                    m[np.asarray(idx, dtype=np.int64)] = True
            m.flags.writeable = False
            out.append(m)
        return out

    def _build_static(self) -> None:
        kw = self._kw
        ok = [i for i in kw.values() if i >= 0]
        assert ok
        # need of an IF header: target + condition + [value] + ENDIF
        self._need_compare = [(1 if r.required else 0) + 1 for r in self._cond_rules]
        need_cond = min(self._need_compare) + 1 if self._cond_rules else None
        need_if = need_cond + 1 if need_cond is not None else None
        starters: list[tuple[list[int], int]] = []
        if len(self._action_ids) and kw["ACTION"] >= 0:
            starters.append(([kw["ACTION"]], 1))
        if self._can_define and kw["SET"] >= 0:
            starters.append(([kw["SET"]], 2))
        if need_if is not None and kw["IF"] >= 0 and kw["ENDIF"] >= 0:
            starters.append(([kw["IF"]], need_if))
        if min(kw["MENU"], kw["CASE"], kw["ENDMENU"]) >= 0:
            starters.append(([kw["MENU"]], 4))
        if kw["REPEAT"] >= 0 and kw["ENDREPEAT"] >= 0:
            starters.append(([kw["REPEAT"]], 2))
        if kw["FOREACH"] >= 0 and kw["ENDFOREACH"] >= 0:
            starters.append(([kw["FOREACH"]], 2))
        if kw["#"] >= 0:
            starters.append(([kw["#"]], 1))
        closers = {
            F_TOP: [([kw["END"]], -1)],
            F_IF_THEN: [([kw["ELSE"]], 0), ([kw["ENDIF"]], -1)] if kw["ELSE"] >= 0 else [([kw["ENDIF"]], -1)],
            F_IF_ELSE: [([kw["ENDIF"]], -1)],
            F_CASE: [([kw["CASE"]], 1), ([kw["ENDMENU"]], -1)],
            F_REPEAT: [([kw["ENDREPEAT"]], -1)],
            F_FOREACH: [([kw["ENDFOREACH"]], -1)],
        }
        openers = {kw[k] for k in ("IF", "MENU", "REPEAT", "FOREACH")}
        flat = [(g, c) for g, c in starters if g[0] not in openers]
        # indexed by [frame kind][may open a block][budget]
        self._body = {f: (self._mask_of(flat + c), self._mask_of(starters + c)) for f, c in closers.items()}
        s = self._slot
        mk = self._mark
        single_generic = [s["str"], s["num"], s["dict"], s["list"], s["headers"]]
        generic: list[tuple[list[int], int]] = [(single_generic, 0)]
        if mk["<interp>"] >= 0 and mk["</interp>"] >= 0:
            generic.append(([mk["<interp>"]], 1))
        if mk["<qty>"] >= 0:
            generic.append(([mk["<qty>"]], 2))
        # value groups without refs; refs (cost 0) are added dynamically where the kind allows them
        self._val_set = self._mask_of(generic + [(list(self._bools), 0)])
        kind_ids = {k: [s[k]] for k in ("str", "num", "dict", "list", "headers")}
        kind_ids |= {"bool": list(self._bools), "interp": [mk["<interp>"]], "qty": [mk["<qty>"]]}
        kind_ids["name"] = [mk["<name>"]]
        by_kinds: dict[frozenset, list[np.ndarray]] = {}
        for info in self._actions:
            masks, refs = [], []
            for j, kinds in enumerate(info.key_kinds):
                groups = [(kind_ids[k], _KIND_COST[k]) for k in sorted(kinds) if k in kind_ids]
                groups = [(g, c) for g, c in groups if min(g) >= 0]
                if j in info.enum_ids and "enum" in kinds:
                    masks.append(self._mask_of([*groups, (info.enum_ids[j], 0)]))
                else:
                    masks.append(by_kinds.get(kinds) or by_kinds.setdefault(kinds, self._mask_of(groups)))
                refs.append("ref" in kinds)
            info.key_masks = tuple(masks)
            info.key_refs = tuple(refs)
        self._compare = []
        for rule in self._cond_rules:
            g: list[tuple[list[int], int]] = []
            if "str" in rule.kinds:
                g.append(([s["str"]], 0))
            if "num" in rule.kinds:
                g.append(([s["num"]], 0))
            if "bool" in rule.kinds:
                g.append((list(self._bools), 0))
            if "interp" in rule.kinds and mk["<interp>"] >= 0:
                g.append(([mk["<interp>"]], 1))
            self._compare.append(self._mask_of(g))
        self._interp = self._mask_of([([s["text"]], 1), ([mk["</interp>"]], 0)])
        self._qty_mag = self._mask_of([([s["num"]], 1)])
        self._qty_unit = self._mask_of([([s["unit"]], 0)])
        self._start = self._mask_of([([kw["SHORTCUT"]], 1)])
        self._str0 = self._mask_of([([s["str"]], 0)])
        self._str_minus = self._mask_of([([s["str"]], -1)])
        prompt = [([s["str"]], 3)]
        if mk["<interp>"] >= 0 and mk["</interp>"] >= 0:
            prompt.append(([mk["<interp>"]], 4))
        self._menu_prompt = self._mask_of(prompt)
        self._menu_first = self._mask_of([([kw["CASE"]], 2)])
        self._repeat_count = self._mask_of([([s["num"]], 1)])
        self._actions_mask = self._mask_of([(self._action_ids, 0)])
        self._conds = {}
        for i, w in enumerate(self._cond_words):
            self._conds.setdefault(self._need_compare[i], []).append(self._tid[w])
        self._cond_mask = self._mask_of([(v, c) for c, v in self._conds.items()])
        self._need_if = need_if
        self._need_cond = need_cond
        self._empty = np.zeros(self.size, dtype=bool)
        self._empty.flags.writeable = False

    # ------------------------------------------------------------------ dynamic groups

    def _refs(self, st: ConstraintState) -> np.ndarray:
        sig = (st.defined, st.depth, st.foreach > 0, st.prev, st.handles, st.closed)
        m = self._ref_cache.get(sig)
        if m is not None:
            return m
        m = self._always_refs.copy()
        d = st.defined
        while d:
            low = d & -d
            m[self._var_id[low.bit_length() - 1]] = True
            d ^= low
        for i, need in self._loop_vars:
            if st.depth >= need:
                m[i] = True
        if st.foreach and self._item_id >= 0:
            m[self._item_id] = True
        if st.depth and self._index_id >= 0:
            m[self._index_id] = True
        if st.prev and self._prev_id >= 0:
            m[self._prev_id] = True
        for b, i in enumerate(self._block_handle_ids):
            if i >= 0 and st.closed >> b & 1:
                m[i] = True
        h = st.handles
        while h:
            low = h & -h
            m[self._handle_ids[low.bit_length() - 1]] = True
            h ^= low
        m.flags.writeable = False
        if len(self._ref_cache) > _REF_CACHE_SIZE:
            self._ref_cache.clear()
        self._ref_cache[sig] = m
        return m

    def _def_vars(self, st: ConstraintState) -> np.ndarray:
        """Targets of a definition: any numbered variable, or the next number."""
        m = np.zeros(self.size, dtype=bool)
        top = min(st.max_var + 1, self._max_table_var)
        for k in range(1, top + 1):
            m[self._var_id[k]] = True
        return m

    # ------------------------------------------------------------------ public API

    def initial(self) -> ConstraintState:
        return ConstraintState(M_START, 0, 1, None, 0, 0, False, 0, 0, 0, 0, -1, 0, -1, 0, -1, 0)

    def is_final(self, state: ConstraintState) -> bool:
        return state.mode == M_FINAL

    def remaining(self, state: ConstraintState) -> int:
        """The fewest tokens that still complete the program from `state`."""
        return self._need(state) + state.close

    def allowed(self, state: ConstraintState) -> np.ndarray:
        """bool[len(table)]: the tokens that may come next (read-only; all False once final)."""
        slack = self.max_len - state.n - 1 - state.close
        mode = state.mode
        if mode == M_FINAL:
            return self._empty
        if mode in (M_INTERP, M_QTY_MAG, M_QTY_UNIT, M_VALUE):
            slack -= _RET_NEED[state.ret]
        s = -1 if slack < -1 else (_CAP if slack > _CAP else slack)
        key = (mode, s, self._dyn_sig(state))
        m = self._unpacked.get(key)
        if m is not None:
            return m
        packed = self._cache.get(key)
        if packed is None:
            packed = np.packbits(self._compute(state, s))
            if len(self._cache) > _MASK_CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = packed
        m = np.unpackbits(packed, count=self.size).view(np.bool_)
        m.flags.writeable = False
        if len(self._unpacked) >= _UNPACKED_SIZE:
            del self._unpacked[next(iter(self._unpacked))]  # the oldest first
        self._unpacked[key] = m
        return m

    def _dyn_sig(self, st: ConstraintState):
        """What besides mode and budget the mask of `st` depends on (the cache key)."""
        mode = st.mode
        if mode == M_BODY:
            return (self._frame(st), st.close <= self.max_depth)
        if mode == M_PARAMS:
            return (self._frame(st), st.close <= self.max_depth, st.action, st.used)
        if mode in (M_SET_VAR, M_NAME_VAR):
            return st.max_var
        refs = (st.defined, st.depth, st.foreach > 0, st.prev, st.handles, st.closed)
        if mode == M_PVALUE:
            return (st.action, st.key, refs)
        if mode == M_COMPARE:
            return (st.cond, st.close + 1 <= self.max_depth, refs)
        if mode in (M_VALUE, M_INTERP, M_QTY_MAG, M_IF_TARGET, M_REPEAT_COUNT, M_FOREACH_COLL):
            return refs
        return None

    def _frame(self, st: ConstraintState) -> int:
        return st.stack[0] if st.stack is not None else F_TOP

    def _compute(self, st: ConstraintState, s: int) -> np.ndarray:
        i = s + 1  # index into the per-budget mask lists (budget -1 is index 0)
        mode = st.mode
        if mode == M_START:
            return self._start[i].copy()
        if mode in (M_NAME, M_CASE_LABEL, M_COMMENT):
            return self._str0[i].copy()
        # open frames = close - 1 (END), so another block fits while close <= max_depth
        if mode == M_BODY:
            return self._body[self._frame(st)][st.close <= self.max_depth][i].copy()
        if mode == M_PARAMS:
            m = self._body[self._frame(st)][st.close <= self.max_depth][i].copy()
            if s >= 1:
                info = self._actions[st.action]
                for j, tok in enumerate(info.key_ids):
                    if not st.used >> j & 1:
                        m[tok] = True
            return m
        if mode == M_ACTION_ID:
            return self._actions_mask[i].copy()
        if mode == M_PVALUE:
            info = self._actions[st.action]
            m = info.key_masks[st.key][i].copy()
            if s >= 0 and info.key_refs[st.key]:
                m |= self._refs(st)
            return m
        if mode in (M_SET_VAR, M_NAME_VAR):
            need_after = 1 if mode == M_SET_VAR else 0
            return self._def_vars(st) if s >= need_after else np.zeros(self.size, dtype=bool)
        if mode == M_VALUE:  # SET value
            m = self._val_set[i].copy()
            if s >= 0:
                m |= self._refs(st)
            return m
        if mode == M_INTERP:
            m = self._interp[i].copy()
            if s >= 1:
                m |= self._refs(st)
            return m
        if mode == M_QTY_MAG:
            m = self._qty_mag[i].copy()
            if s >= 1:
                m |= self._refs(st)
            return m
        if mode == M_QTY_UNIT:
            return self._qty_unit[i].copy()
        if mode == M_IF_TARGET:
            return self._refs(st).copy() if s >= self._need_cond else np.zeros(self.size, dtype=bool)
        if mode == M_COND:
            return self._cond_mask[i].copy()
        if mode == M_COMPARE:
            rule = self._cond_rules[st.cond]
            # a value, then the IF body (its ENDIF costs 1 more)
            sv = s - 1
            m = (
                self._compare[st.cond][max(sv, -1) + 1].copy()
                if sv >= -1
                else np.zeros(self.size, dtype=bool)
            )
            if sv >= 0 and "ref" in rule.kinds:
                m |= self._refs(st)
            if not rule.required and sv >= -1:
                m |= self._body[F_IF_THEN][st.close + 1 <= self.max_depth][sv + 1]
            return m
        if mode == M_MENU_PROMPT:
            return self._menu_prompt[i].copy()
        if mode == M_MENU_FIRST:
            return self._menu_first[i].copy()
        if mode == M_REPEAT_COUNT:
            m = self._repeat_count[i].copy()
            if s >= 1:  # the loop's ENDREPEAT follows
                m |= self._refs(st)
            return m
        if mode == M_FOREACH_COLL:
            return self._refs(st).copy() if s >= 1 else np.zeros(self.size, dtype=bool)
        raise AssertionError(f"unknown mode {mode}")

    def _need(self, st: ConstraintState) -> int:
        """Fewest tokens from `st` back to a statement boundary (frames it will open included); the
        token costs of `_build_static` are differences of these (tests check the two agree)."""
        mode = st.mode
        ret = _RET_NEED.get(st.ret, 0)
        return {
            M_START: 2,
            M_NAME: 1,
            M_BODY: 0,
            M_PARAMS: 0,
            M_ACTION_ID: 1,
            M_PVALUE: 1,
            M_NAME_VAR: 1,
            M_SET_VAR: 2,
            M_VALUE: 1 + ret,
            M_INTERP: 1 + ret,
            M_QTY_MAG: 2 + ret,
            M_QTY_UNIT: 1 + ret,
            M_IF_TARGET: self._need_if or 0,
            M_COND: self._need_cond or 0,
            M_COMPARE: self._need_compare[st.cond] if st.cond >= 0 else 0,
            M_MENU_PROMPT: 4,
            M_MENU_FIRST: 3,
            M_CASE_LABEL: 1,
            M_REPEAT_COUNT: 2,
            M_FOREACH_COLL: 2,
            M_COMMENT: 1,
            M_FINAL: 0,
        }[mode]

    # ------------------------------------------------------------------ transitions

    def advance(self, state: ConstraintState, token_id: int) -> ConstraintState:
        """The state after `token_id`; ValueError if the mask does not allow it."""
        token_id = int(token_id)
        if not 0 <= token_id < self.size or not self.allowed(state)[token_id]:
            text = self.table.tokens[token_id] if 0 <= token_id < self.size else token_id
            raise ValueError(f"token {text!r} is not allowed here (after {state.n} tokens)")
        return self._step(state._replace(n=state.n + 1), token_id)

    def _step(self, st: ConstraintState, t: int) -> ConstraintState:
        mode = st.mode
        if mode == M_START:
            return st._replace(mode=M_NAME)
        if mode == M_NAME:
            return st._replace(mode=M_BODY)
        if mode == M_PARAMS:
            info = self._actions[st.action]
            j = self._key_of(info, t)
            if j is not None:
                return st._replace(mode=M_PVALUE, key=j, used=st.used | (1 << j))
            # the action ends: its definitions, handle and @prev take effect
            handles = st.handles | (1 << info.handle_bit) if info.handle_bit >= 0 else st.handles
            st = st._replace(
                mode=M_BODY,
                defined=st.defined | st.pending,
                pending=0,
                handles=handles,
                prev=st.prev or not info.is_comment,
                action=-1,
                used=0,
                key=-1,
            )
            return self._body_step(st, t)
        if mode == M_BODY:
            return self._body_step(st, t)
        if mode == M_ACTION_ID:
            return st._replace(mode=M_PARAMS, action=self._action_of_token[t], used=0, key=-1, pending=0)
        if mode == M_PVALUE:
            if t == self._mark["<name>"]:
                return st._replace(mode=M_NAME_VAR)
            return self._value_start(st, t, R_PARAMS)
        if mode == M_NAME_VAR:
            k = self._var_of[t]
            return st._replace(mode=M_PARAMS, pending=st.pending | (1 << k), max_var=max(st.max_var, k))
        if mode == M_SET_VAR:
            k = self._var_of[t]
            return st._replace(mode=M_VALUE, ret=R_SET, pending=1 << k, max_var=max(st.max_var, k))
        if mode == M_VALUE:
            return self._value_start(st, t, st.ret)
        if mode == M_INTERP:
            if t == self._mark["</interp>"]:
                return self._value_end(st, st.ret)
            return st
        if mode == M_QTY_MAG:
            return st._replace(mode=M_QTY_UNIT)
        if mode == M_QTY_UNIT:
            return self._value_end(st, st.ret)
        if mode == M_IF_TARGET:
            return st._replace(mode=M_COND)
        if mode == M_COND:
            return st._replace(mode=M_COMPARE, cond=self._cond_index[t])
        if mode == M_COMPARE:
            if t in self._keyword_ids:
                return self._body_step(self._push(st._replace(cond=-1), F_IF_THEN), t)
            return self._value_start(st, t, R_COMPARE)
        if mode == M_MENU_PROMPT:
            if t == self._mark["<interp>"]:
                return st._replace(mode=M_INTERP, ret=R_MENU_PROMPT)
            return st._replace(mode=M_MENU_FIRST)
        if mode == M_MENU_FIRST:
            return self._push(st, F_CASE)._replace(mode=M_CASE_LABEL)
        if mode in (M_CASE_LABEL, M_COMMENT):
            return st._replace(mode=M_BODY)
        if mode == M_REPEAT_COUNT:
            return self._push(st, F_REPEAT)
        if mode == M_FOREACH_COLL:
            return self._push(st, F_FOREACH)
        raise AssertionError(f"no transition from mode {mode}")

    def _key_of(self, info: _ActionInfo, t: int) -> int | None:
        text = self.table.tokens[t]
        if text.startswith(KEY_PREFIX):
            return info.key_index.get(text[len(KEY_PREFIX) :])
        return None

    def _value_start(self, st: ConstraintState, t: int, ret: int) -> ConstraintState:
        if t == self._mark["<interp>"]:
            return st._replace(mode=M_INTERP, ret=ret)
        if t == self._mark["<qty>"]:
            return st._replace(mode=M_QTY_MAG, ret=ret)
        return self._value_end(st, ret)

    def _value_end(self, st: ConstraintState, ret: int) -> ConstraintState:
        if ret == R_PARAMS:
            return st._replace(mode=M_PARAMS)
        if ret == R_SET:
            return st._replace(mode=M_BODY, defined=st.defined | st.pending, pending=0)
        if ret == R_COMPARE:
            return self._push(st._replace(cond=-1), F_IF_THEN)
        if ret == R_MENU_PROMPT:
            return st._replace(mode=M_MENU_FIRST)
        raise AssertionError(ret)

    def _push(self, st: ConstraintState, kind: int) -> ConstraintState:
        loop = kind in (F_REPEAT, F_FOREACH)
        return st._replace(
            mode=M_BODY,
            stack=(kind, st.defined, 0, st.prev, st.stack),
            close=st.close + 1,
            depth=st.depth + loop,
            foreach=st.foreach + (kind == F_FOREACH),
        )

    def _body_step(self, st: ConstraintState, t: int) -> ConstraintState:
        kw = self._kw
        if t == kw["ACTION"]:
            return st._replace(mode=M_ACTION_ID)
        if t == kw["SET"]:
            return st._replace(mode=M_SET_VAR)
        if t == kw["IF"]:
            return st._replace(mode=M_IF_TARGET)
        if t == kw["MENU"]:
            return st._replace(mode=M_MENU_PROMPT)
        if t == kw["REPEAT"]:
            return st._replace(mode=M_REPEAT_COUNT)
        if t == kw["FOREACH"]:
            return st._replace(mode=M_FOREACH_COLL)
        if t == kw["#"]:
            return st._replace(mode=M_COMMENT)
        if t == kw["END"]:
            return st._replace(mode=M_FINAL, close=0)
        kind, saved, acc, saved_prev, parent = st.stack
        if t == kw["ELSE"] or t == kw["CASE"]:
            # a sibling body: starts from the scope the block opened with
            frame = (F_IF_ELSE if kind == F_IF_THEN else kind, saved, acc | st.defined, saved_prev, parent)
            return st._replace(
                mode=M_BODY if kind == F_IF_THEN else M_CASE_LABEL,
                stack=frame,
                defined=saved,
                prev=saved_prev,
            )
        # a closer: definitions of every body stay visible, @prev returns to the enclosing block's
        return st._replace(
            mode=M_BODY,
            stack=parent,
            close=st.close - 1,
            defined=acc | st.defined,
            prev=saved_prev,
            closed=st.closed | (1 << _FRAME_BLOCK[kind]),
            depth=st.depth - (kind in (F_REPEAT, F_FOREACH)),
            foreach=st.foreach - (kind == F_FOREACH),
        )

    # ------------------------------------------------------------------ replay

    def _replay(self, token_ids: Sequence[int]) -> list[tuple[ConstraintState, int]]:
        """(state before, token) for each token; ValueError on the first token the machine rejects."""
        st = self.initial()
        out = []
        for t in token_ids:
            out.append((st, int(t)))
            st = self.advance(st, t)
        if not self.is_final(st):
            raise ValueError(f"the sequence is not a finished program ({len(out)} tokens, no END)")
        return out

    def accepts(self, token_ids: Sequence[int]) -> bool:
        try:
            self._replay(token_ids)
        except ValueError:
            return False
        return True

    def tier_of(self, state: ConstraintState, token_id: int) -> int:
        """The tier `to_typed` gives `token_id` when it follows `state`."""
        if token_id in self._slot_kind:
            return TIER_VALUE
        text = self.table.tokens[token_id]
        if text.startswith((KEY_PREFIX, ENUM_PREFIX)):
            return TIER_PARAM
        if state.mode == M_PVALUE and token_id in (self._true, self._false):
            return TIER_PARAM
        return TIER_STRUCTURE

    def slot_context(self, state: ConstraintState) -> tuple[str, str | None, str | None]:
        """(role, action, param) of a Tier 3 slot that follows `state` (the `Slot` fields)."""
        mode = state.mode
        if mode == M_NAME:
            return "name", None, None
        if mode == M_CASE_LABEL:
            return "case_label", None, None
        if mode == M_COMMENT:
            return "comment", None, None
        if mode == M_REPEAT_COUNT:
            return "repeat_count", None, None
        if mode == M_MENU_PROMPT:
            return "menu_prompt", None, None
        if mode == M_COMPARE:
            return "compare", None, None
        ret = R_PARAMS if mode == M_PVALUE else state.ret
        if ret == R_PARAMS and state.action >= 0:
            info = self._actions[state.action]
            return "param", info.name, info.keys[state.key]
        return (
            {R_SET: "set", R_COMPARE: "compare", R_MENU_PROMPT: "menu_prompt"}.get(ret, "param"),
            None,
            None,
        )

    def to_typed(
        self, token_ids: Sequence[int], slots: Sequence[Slot], var_names: Sequence[str]
    ) -> TypedProgram:
        """The typed program of an accepted sequence, with the filler's slots and variable names."""
        steps = self._replay(token_ids)
        tokens: list[TypedToken] = []
        n_slots = 0
        max_var = 0
        for st, t in steps:
            tier = self.tier_of(st, t)
            text = self.table.tokens[t]
            if tier == TIER_VALUE:
                if n_slots >= len(slots):
                    raise ValueError(f"{len(slots)} slots given, the sequence has more")
                if slots[n_slots].kind != self._slot_kind[t]:
                    raise ValueError(f"slot {n_slots} is a {slots[n_slots].kind!r}, the token is {text}")
                tokens.append(TypedToken(tier, text, n_slots))
                n_slots += 1
            else:
                tokens.append(TypedToken(tier, text))
            if t in self._var_of:
                max_var = max(max_var, self._var_of[t])
        if n_slots != len(slots):
            raise ValueError(f"{len(slots)} slots given, the sequence has {n_slots}")
        if len(var_names) < max_var:
            raise ValueError(f"{len(var_names)} variable names given, the sequence uses $VAR_{max_var}")
        return TypedProgram(tuple(tokens), tuple(slots), tuple(var_names))


# ----------------------------------------------------------------------------- placeholders

_DEFAULT_UNIT = "min"


# How often search may emit one action in a program. Measured on the programs we train on: 95 % of the
# real training split's programs use no action more than 4 times (99 %: 10; the most anywhere: 23), the
# synthetic corpus at most 3. A decoder that loses its way instead emits one action until the length
# budget runs out, in a row or alternating with others: 5 % of the shipped model's real dev programs
# ran 100-192 tokens that way - wrong programs, and the slowest requests. Of the caps 10 / 6 / 4, 4
# scored best on the real dev split and both synthetic test splits (docs/RESULTS.md §7.8).
DEFAULT_MAX_ACTION_COUNT = 4

# Logit bias on the closers (END, ENDIF, ENDMENU, ENDREPEAT, ENDFOREACH) during search
# (`search.closing_bias`; kept here beside the cap because search imports torch and the CLI and the
# generator module read the default without it): of 0 / 0.5 / 1 / 1.5 / 2, 1 scored best on the real dev split and the
# synthetic dev split together (action F1 0.320 / 0.609 against 0.318 / 0.593 without), with a third
# fewer decoded tokens (RESULTS §7.8).
DEFAULT_CLOSE_BIAS = 1.0


class RepeatState(NamedTuple):
    inner: ConstraintState  # the program constraint's state
    counts: tuple[tuple[int, int], ...]  # (action token id, statements so far) for each action used


class RepetitionCap:
    """A `ProgramConstraint` that also lets one action occur at most `max_count` times in a program.

    Only a decoding rule: it narrows the mask (never to nothing: when a capped action is the only token
    the program constraint allows, it stays allowed), so every program it lets through is one the
    program constraint accepts; the index of a neighbour chooser and `accepts` are not affected."""

    def __init__(self, inner: ProgramConstraint, max_count: int = DEFAULT_MAX_ACTION_COUNT) -> None:
        if int(max_count) < 1:
            raise ValueError("max_count must be at least 1")
        self.inner, self.max_count, self.max_len = inner, int(max_count), inner.max_len
        self._is_action = np.array([t.startswith(ACTION_PREFIX) for t in inner.table.tokens], dtype=bool)

    def initial(self) -> RepeatState:
        return RepeatState(self.inner.initial(), ())

    def is_final(self, state: RepeatState) -> bool:
        return self.inner.is_final(state.inner)

    def allowed(self, state: RepeatState) -> np.ndarray:
        mask = self.inner.allowed(state.inner)
        capped = [a for a, n in state.counts if n >= self.max_count and mask[a]]
        if not capped:
            return mask
        narrowed = mask.copy()  # the inner masks are cached and read-only
        narrowed[capped] = False
        return narrowed if narrowed.any() else mask

    def advance(self, state: RepeatState, token_id: int) -> RepeatState:
        inner = self.inner.advance(state.inner, token_id)
        t = int(token_id)
        if not self._is_action[t]:
            return RepeatState(inner, state.counts)
        counts = dict(state.counts)
        counts[t] = counts.get(t, 0) + 1
        return RepeatState(inner, tuple(counts.items()))


def placeholder_slots(
    constraint: ProgramConstraint, token_ids: Sequence[int]
) -> tuple[tuple[Slot, ...], tuple[str, ...]]:
    """Kind-correct dummy literals for every slot of an accepted sequence, and `$VAR_k` names.

    For tests and as the value filler's last resort: strings that print and parse back, a unit the
    catalog lists for the parameter (`min` otherwise), `1` for numbers, empty dict/list/headers, a
    unique UUID-shaped string for `UUID` keys, distinct menu labels, `Var1..VarN` for variables.
    """
    steps = constraint._replay(token_ids)
    slots: list[Slot] = []
    max_var = 0
    for st, t in steps:
        if t in constraint._var_of:
            max_var = max(max_var, constraint._var_of[t])
        kind = constraint._slot_kind.get(t)
        if kind is None:
            continue
        role, action, param = constraint.slot_context(st)
        i = len(slots)
        value: Any
        if kind == "str":
            if param == "UUID":
                value = f"00000000-0000-4000-8000-{i:012d}"
            elif role == "name":
                value = "Generated shortcut"
            elif role == "case_label":
                value = f"Option {i}"
            elif role == "comment":
                value = "note"
            else:
                value = "text"
        elif kind == "num":
            value = 1
        elif kind == "text":
            value = "text "
        elif kind == "unit":
            value = _unit_for(constraint, action, param)
        elif kind == "dict":
            value = DictLiteral(())
        elif kind == "list":
            value = ListLiteral(())
        else:
            value = HeadersLiteral(())
        slots.append(Slot(kind, value, role, action, param))
    return tuple(slots), tuple(f"Var{k}" for k in range(1, max_var + 1))


def _unit_for(constraint: ProgramConstraint, action: str | None, param: str | None) -> str:
    catalog = constraint.catalog
    if catalog is None or action is None or param is None:
        return _DEFAULT_UNIT
    spec = constraint.vocab.tier2.get(action)
    ident = spec.identifier if spec is not None else None
    action_spec = catalog.get(ident) if ident is not None else None
    p = action_spec.param(param) if action_spec is not None else None
    return p.units[0] if p is not None and p.units else _DEFAULT_UNIT


__all__ = [
    "CONDITION_RULES",
    "ConditionRule",
    "ConstraintState",
    "ProgramConstraint",
    "TokenTable",
    "build_token_table",
    "placeholder_slots",
]
