"""Candidate literals for one slot, each with the sparse features the scorer reads.

Sources (a candidate proposed by several sources is one candidate carrying all their features):
  span     a word span of the request (1..6 words, edge punctuation stripped; e.g. a name, a city)
  quote    the exact contents of a quotation in the request
  number   a number written in the request (digits or a number word), and /100 of a percentage
  list     an enumeration of the request ("coffee, bread and pasta") as a list literal
  dict     a JSON object of the request, or a quoted key next to a quoted value
  vocab    frequent literals of the training programs at five levels of context, most specific first:
           (kind, role, action, param, interp shape, condition, what follows the statement),
           (kind, role, action, param, interp shape, condition), (kind, role, action, param),
           (kind, role, next action), (kind, role)
  unit     a unit the catalog allows for the parameter (else the units training used with it)
  whole    the whole request (comment text)
  titles   names composed by the learned title lexicon and name formats (`titles.py`), case labels
  title    a short title-cased key phrase of the request (for `SHORTCUT "…"`)
  default  the schema default of the kind (1, the first allowed unit, the empty dict, ...)

Every feature is crossed with the slot's coarse key (kind|role) and fine key (kind|role|action|param),
so one linear scorer learns per parameter which source to trust (recipients copy a name after "to",
a WFVolume takes a percentage / 100, a comment takes the whole request).
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sashimi.dsl.ast import DictLiteral, ListLiteral, NumberValue, StringValue
from sashimi.model.filler.context import SlotContext
from sashimi.model.filler.prompt import STOPWORDS, PromptView, content_words, shape
from sashimi.model.filler.titles import TitleModel
from sashimi.model.filler.values import BLOB_KINDS, empty_blob, value_key

VOCAB_TOP = 40  # literals kept per vocabulary context
LEVELS = ("L0", "L1", "L2", "L3", "L4")
LEVEL_TOP = (10, VOCAB_TOP, VOCAB_TOP, 15, 15)  # candidates taken from each level


def vocab_keys(ctx: SlotContext) -> tuple[str, str, str, str, str]:
    """The five vocabulary contexts of a slot, most specific first."""
    base = f"{ctx.kind}|{ctx.role}"
    fine = f"{base}|{ctx.action}|{ctx.param}"
    l1 = f"{fine}|{ctx.interp_shape}|{ctx.condition}|{int(ctx.in_qty)}"
    return (
        f"{l1}|{ctx.following}",
        l1,
        fine,
        f"{base}|next={ctx.next_action}",
        base,
    )


@dataclass(slots=True)
class Candidate:
    value: Any
    key: str
    feats: dict[str, float] = field(default_factory=dict)
    start: int | None = None  # character offset of a copied span (ordering features)
    last_word: int | None = None  # last word index of a copied span / number
    # inference only (`generate(..., partials=)`): the score of the vocabulary features that do not depend
    # on the request, summed per vocabulary level; `feats` then holds only the other features
    base: float = 0.0


@dataclass
class FillState:
    """What the earlier slots of the same program chose (sequential features)."""

    tokens: tuple[str, ...] = ()  # the program's token texts (title sources read its structure)
    repeat: int | None = None  # the first REPEAT count filled (names like "Timer x3")
    labels: list[str] = field(default_factory=list)  # CASE labels filled so far (menu names)
    used: Counter = field(default_factory=Counter)
    last_start: int = -1  # offset of the last value copied from the request
    last_number_word: int | None = None  # word index of the last copied number (for its unit)


# (slot context, vocabulary context key, its entries (`_vocab_entries`)) -> each entry's static score
StaticScores = Callable[[SlotContext, str, list], Sequence[float]]


_IN_PROMPT = {"voc_in_prompt": 1.0}  # a vocabulary number the request writes too (shared: never mutated)
_NONE: dict[str, float] = {}


def _overlap(memo: dict, view: PromptView, value: Any, vkey: str, words: tuple[str, ...]) -> dict[str, float]:
    """The request-dependent features of a vocabulary literal (how many of its words the request has),
    memoised per request in `memo` (`add` copies them into a candidate, never mutates them)."""
    hit = sum(map(view.word_set.__contains__, words)) / len(words)
    extra = memo[vkey] = {"voc_overlap": hit}
    if hit == 1.0:
        extra["voc_overlap_all"] = 1.0
    if isinstance(value, str) and value in view.prompt:
        extra["voc_in_prompt"] = 1.0
    return extra


def _bucket(n: int) -> str:
    return str(n) if n < 3 else ("3-5" if n < 6 else "6+")


@functools.cache
def _static_names(level: str, bucket: str) -> tuple[str, str, str, str]:
    """The names of a vocabulary literal's four static features at `level` and rank `bucket`: one tuple
    shared by every literal that has them (a server keeps thousands of literals' statics, RESULTS §8)."""
    level_name, share, rank, logn = (
        sys.intern(f"voc{level}{suffix}") for suffix in ("", "_share", f"_rank{bucket}", "_logn")
    )
    return level_name, share, rank, logn


def static_features(static: tuple[tuple[str, str, str, str], float, float]) -> dict[str, float]:
    """A vocabulary literal's request-independent features from its compact form in `_vocab_entries`
    (names, share, scaled log count): its level, its share, its rank bucket and its count."""
    names, share, logn = static
    return {names[0]: 1.0, names[1]: share, names[2]: 1.0, names[3]: logn}


class CandidateGenerator:
    """Turns (slot context, request, state) into scored-ready candidates using the learned tables."""

    def __init__(
        self,
        vocab: dict[str, list[tuple[Any, str, int]]],
        totals: dict[str, int],
        enums: dict[str, list[str]],
        units: dict[str, list[str]],
        titles: TitleModel | None = None,
    ):
        self.vocab = vocab  # context key -> [(literal, value key, count)], most frequent first
        self.totals = totals
        self.enums = enums  # "action|param" -> closed values (catalog)
        self.units = units  # "action|param" -> allowed units (catalog)
        self.titles = titles
        self._cache: dict[str, list] = {}

    # ------------------------------------------------------------------ public

    def generate(
        self, ctx: SlotContext, view: PromptView, state: FillState, partials: StaticScores | None = None
    ) -> list[Candidate]:
        """The slot's candidates, each with its features. `partials` (inference: `ValueFiller.fill`) scores
        the request-independent features of a vocabulary context once (`StaticScores`): its candidates
        then carry that score as `base` instead of those features, which the scorer would sum again for
        every candidate of every request (the vocabularies propose up to 120 per slot)."""
        cands: dict[str, Candidate] = {}

        def add(value: Any, feats: dict[str, float], start: int | None = None, last: int | None = None,
                key: str | None = None, base: float = 0.0):  # fmt: skip
            key = key if key is not None else value_key(ctx.kind, value)
            cand = cands.get(key)
            if cand is None:
                cands[key] = Candidate(value, key, dict(feats), start, last, base)
                return
            if cand.start is None and start is not None:
                cand.start, cand.last_word = start, last
            # a context lists a literal once, and each level's static features have their own names, so
            # the levels' static scores add up as their features would
            cand.base += base
            old = cand.feats
            for name, x in feats.items():
                if x > old.get(name, 0.0):
                    old[name] = x

        self._vocab(ctx, view, add, partials)
        if ctx.kind in ("str", "text"):
            self._spans(ctx, view, add)
            if ctx.kind == "str":
                add(view.prompt, {"whole": 1.0})
                if self.titles is not None and ctx.role == "name":
                    names = self.titles.name_candidates(
                        state.tokens, state.repeat, view.word_set, state.labels
                    )
                    for text, feats in names:
                        add(text, feats)
                elif self.titles is not None and ctx.role == "case_label":
                    for text, feats in self.titles.case_candidates(
                        state.tokens, ctx.position - 1, view.word_set
                    ):
                        add(text, feats)
                if ctx.role in ("name", "case_label", "menu_prompt"):
                    title = make_title(view)
                    if title:
                        add(title, {"title": 1.0})
        elif ctx.kind == "num":
            self._numbers(view, add)
        elif ctx.kind == "unit":
            self._units(ctx, view, state, add)
        elif ctx.kind == "list":
            for value, feats in list_candidates(view):
                add(value, feats)
        elif ctx.kind == "dict":
            for value, feats in dict_candidates(view):
                add(value, feats)
        if not cands:
            add(self._default(ctx, view), {"default": 1.0})
        out = list(cands.values())
        allowed = self.enums.get(f"{ctx.action}|{ctx.param}") if ctx.kind == "str" else None
        if allowed:  # a closed enum: only catalog values are legal
            out = [c for c in out if c.value in allowed]
            known = {c.key for c in out}
            out += [Candidate(v, v, {"enum": 1.0}) for v in allowed if v not in known]
        for cand in out:
            self._common(ctx, view, state, cand)
        return out

    def default(self, ctx: SlotContext, view: PromptView) -> Any:
        return self._default(ctx, view)

    # ------------------------------------------------------------------ sources

    def _vocab_entries(self, key: str, level: str) -> list[tuple[Any, str, tuple, tuple[str, ...]]]:
        """The vocabulary of one context with the features that do not depend on the request (cached):
        (literal, value key, its static features in compact form (`static_features`), its words)."""
        cached = self._cache.get(key)
        if cached is None:
            total = self.totals.get(key, 1)
            cached = []
            # A server fills this cache over its first thousands of requests: feature names are shared
            # tuples of interned strings, the words interned too, so it grows less (RESULTS §8).
            for rank, (value, vkey, count) in enumerate(self.vocab.get(key, ())):
                static = (_static_names(level, _bucket(rank)), count / total, math.log1p(count) / 5.0)
                words = tuple(map(sys.intern, content_words(vkey if not isinstance(value, str) else value)))
                cached.append((value, vkey, static, words))
            self._cache[key] = cached
        return cached

    def _vocab(self, ctx: SlotContext, view: PromptView, add, partials: StaticScores | None = None) -> None:
        numbers = view.number_keys
        overlap = view.cache.setdefault("overlap", {})
        for level, key, top in zip(LEVELS, vocab_keys(ctx), LEVEL_TOP, strict=True):
            if key not in self.vocab:
                continue
            entries = self._vocab_entries(key, level)
            if partials is not None:  # the static features scored already: only the request's are left
                bases = partials(ctx, key, entries)
                for rank, (value, vkey, _static, words) in enumerate(entries[:top]):
                    if ctx.kind == "num":
                        feats = _IN_PROMPT if vkey in numbers else _NONE
                    elif words:
                        feats = overlap.get(vkey) or _overlap(overlap, view, value, vkey, words)
                    else:
                        feats = _NONE
                    add(value, feats, key=vkey, base=bases[rank])
                continue
            for value, vkey, static, words in entries[:top]:
                feats = static_features(static)
                if ctx.kind == "num":
                    if vkey in numbers:
                        feats["voc_in_prompt"] = 1.0
                elif words:
                    feats.update(overlap.get(vkey) or _overlap(overlap, view, value, vkey, words))
                add(value, feats, key=vkey)

    def _spans(self, ctx: SlotContext, view: PromptView, add) -> None:
        for value, feats, start, last in span_candidates(view):
            add(value, feats, start, last, key=value)

    def _numbers(self, view: PromptView, add) -> None:
        count = len(view.numbers)
        for i, n in enumerate(view.numbers):
            feats = {
                "num": 1.0,
                "pw=" + view.norm(n.word - 1): 1.0,
                "nw=" + view.norm(n.word + 1): 1.0,
                "num_first" if i == 0 else ("num_last" if i == count - 1 else "num_mid"): 1.0,
            }
            if n.spelled:
                feats["num_spelled"] = 1.0
            if isinstance(n.value, float):
                feats["num_float"] = 1.0
            if n.percent:
                feats["num_percent"] = 1.0
            add(n.value, feats, n.start, n.word)
            if n.percent or (not n.spelled and isinstance(n.value, int) and 0 < n.value <= 100):
                frac = round(n.value / 100, 6)
                add(frac, {"num_frac": 1.0, "num_percent": float(n.percent), "pw=" + view.norm(n.word - 1): 1.0},
                    n.start, n.word)  # fmt: skip
            if isinstance(n.value, int) and not n.spelled:
                add(float(n.value), {"num_as_float": 1.0}, n.start, n.word)

    def _units(self, ctx: SlotContext, view: PromptView, state: FillState, add) -> None:
        allowed = self.units.get(f"{ctx.action}|{ctx.param}")
        if allowed is None:
            seen = self.vocab.get(vocab_keys(ctx)[2]) or self.vocab.get(vocab_keys(ctx)[4]) or []
            allowed = [v for v, _, _ in seen]
        after = state.last_number_word
        nxt = [view.norm(after + 1), view.norm(after + 2)] if after is not None else ["<none>", "<none>"]
        for rank, unit in enumerate(allowed):
            feats = {
                "unit": 1.0,
                f"unit_rank{_bucket(rank)}": 1.0,
                f"u={unit}|w1={nxt[0]}": 1.0,
                f"u={unit}|w2={nxt[1]}": 1.0,
            }
            low = unit.lower()
            if low in view.word_set or low + "s" in view.word_set:
                feats["unit_word_in_prompt"] = 1.0
            if nxt[0] in (low, low + "s", low + "."):
                feats["unit_after_number"] = 1.0
            add(unit, feats)

    def _default(self, ctx: SlotContext, view: PromptView) -> Any:
        if ctx.kind == "num":
            return 1
        if ctx.kind in BLOB_KINDS:
            return empty_blob(ctx.kind)
        if ctx.kind == "unit":
            allowed = self.units.get(f"{ctx.action}|{ctx.param}")
            return allowed[0] if allowed else "min"
        if ctx.kind == "text":
            return " "
        if ctx.role == "name":
            return make_title(view) or "My Shortcut"
        return ""

    # ------------------------------------------------------------------ sequential features

    def _common(self, ctx: SlotContext, view: PromptView, state: FillState, cand: Candidate) -> None:
        feats = cand.feats
        if state.used.get(cand.key):
            feats["used_before"] = 1.0
        if cand.start is not None:
            feats["after_last" if cand.start > state.last_start else "before_last"] = 1.0


def span_candidates(view: PromptView) -> list[tuple[str, dict[str, float], int, int]]:
    """Quotations and word spans of the request with their features (computed once per request)."""
    cached = view.cache.get("spans")
    if cached is not None:
        return cached
    out: list[tuple[str, dict[str, float], int, int]] = []
    for q in view.quotes:
        out.append((q.value, {"quote": 1.0, "pw=" + view.norm(q.first - 1): 1.0}, q.start, q.last))
    quoted = [(q.start, q.end) for q in view.quotes]
    for s in view.spans:
        n = s.last - s.first + 1
        feats = {
            "span": 1.0,
            f"span_len{n}": 1.0,
            "pw=" + view.norm(s.first - 1): 1.0,
            "pw2=" + view.norm(s.first - 2) + "_" + view.norm(s.first - 1): 1.0,
            "nw=" + view.norm(s.last + 1): 1.0,
        }
        for f in shape(s.value):
            feats["shape_" + f] = 1.0
        if quoted and any(a <= s.start and s.end <= b for a, b in quoted):
            feats["in_quote"] = 1.0
        if s.first == 0:
            feats["span_at_start"] = 1.0
        out.append((s.value, feats, s.start, s.last))
    view.cache["spans"] = out
    return out


_CLAUSE = re.compile(r"[^.;:!?\n]+")
_ENUM = re.compile(r"[^,]+(?:,\s*[^,]+)+,?\s+(?:and|or)\s+[^,]+|[^,]+(?:,\s*[^,]+){2,}")
_ITEM_SPLIT = re.compile(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")
_JSON_OBJECT = re.compile(r"\{[^{}]{1,500}\}")


def list_candidates(view: PromptView) -> list[tuple[Any, dict[str, float]]]:
    """Enumerations of the request ("coffee, bread and pasta") as list literals, with the first item
    trimmed of 0-5 leading words and the last 0-1 items dropped (the scorer learns where lists start)."""
    cached = view.cache.get("lists")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: list[tuple[Any, dict[str, float]]] = []
    head = view.prompt[:2000]
    for clause in _CLAUSE.finditer(head):
        for m in _ENUM.finditer(clause.group()):
            items = [i.strip(" \"'“”") for i in _ITEM_SPLIT.split(m.group().strip())]
            items = [i for i in items if i]
            if len(items) < 2 or len(items) > 30:
                continue
            first_words = items[0].split()
            for trim in range(min(6, len(first_words))):
                lead = " ".join(first_words[trim:])
                before = first_words[trim - 1].lower() if trim else "<clause>"
                for drop in (0, 1):
                    body = [lead] + items[1 : len(items) - drop]
                    if len(body) < 2:
                        continue
                    value = ListLiteral(tuple(StringValue(i) for i in body))
                    feats = {"enum_list": 1.0, f"enum_trim{trim}": 1.0, f"enum_drop{drop}": 1.0,
                             "enum_pw=" + before: 1.0, f"enum_n{min(len(body), 6)}": 1.0}  # fmt: skip
                    out.append((value, feats))
    view.cache["lists"] = out
    return out


def dict_candidates(view: PromptView) -> list[tuple[Any, dict[str, float]]]:
    """Dictionaries the request spells: a JSON object, or a quoted key next to a quoted value."""
    out: list[tuple[Any, dict[str, float]]] = []
    head = view.prompt[:2000]
    for m in _JSON_OBJECT.finditer(head):
        try:
            obj = json.loads(m.group())
        except ValueError:
            continue
        if isinstance(obj, dict) and obj and all(isinstance(v, str | int | float) for v in obj.values()):
            entries = tuple(
                (str(k), StringValue(v) if isinstance(v, str) else NumberValue(v)) for k, v in obj.items()
                if not isinstance(v, bool)
            )  # fmt: skip
            if entries:
                out.append((DictLiteral(entries), {"dict_json": 1.0}))
    quotes = view.quotes
    for a, b in zip(quotes, quotes[1:], strict=False):
        between = view.prompt[a.end : b.start]
        if len(between) <= 20:
            out.append(
                (
                    DictLiteral(((a.value, StringValue(b.value)),)),
                    {"dict_quotes": 1.0, "dict_sep=" + between.strip(' "“”')[:8]: 1.0},
                )
            )
    return out


def make_title(view: PromptView, max_words: int = 4) -> str:
    """A short title-cased key phrase of the request: its first content words ("Set Timer 10 Minutes")."""
    words = [w.norm for w in view.words[:60] if w.norm and w.norm not in STOPWORDS and w.norm.isalnum()]
    return " ".join(w[:1].upper() + w[1:] for w in words[:max_words])


_FINE_ONLY = frozenset({"whole"})  # sources that are right for a few parameters only (comment text)


def cross_names(ctx: SlotContext, name: str) -> tuple[str, ...]:
    """The crossed feature names one feature `name` contributes in `cross` (in its order)."""
    coarse = f"{ctx.kind}|{ctx.role}"
    fine = f"{name}@{coarse}|{ctx.action}|{ctx.param}"
    if name in _FINE_ONLY:
        return (fine,)
    return (name, f"{name}@{coarse}", fine)


def cross(ctx: SlotContext, feats: dict[str, float]) -> dict[str, float]:
    """Each feature alone, with the coarse slot key and with the fine slot key.

    The whole-request source is crossed with the fine key only: it is right for comment text and wrong
    nearly everywhere else, so a shared weight would leak into every string parameter.
    """
    out: dict[str, float] = {}
    for name, x in feats.items():
        if x == 0.0:
            continue
        for crossed in cross_names(ctx, name):
            out[crossed] = x
    out["bias@" + f"{ctx.kind}|{ctx.role}"] = 1.0
    return out


__all__ = ["Candidate", "CandidateGenerator", "FillState", "cross", "make_title", "vocab_keys"]
