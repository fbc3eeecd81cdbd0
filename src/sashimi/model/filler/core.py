"""`ValueFiller`: the Tier 3 literals and variable names of a decoded Tier 1+2 token sequence.

Per slot, the candidate generator (`candidates.py`) proposes literals from the request and from learned
vocabularies; a logistic-regression scorer over (slot context x candidate) features picks one; the
choice is made legal for its slot (`values.make_valid`, catalog enums and units), so the lowered program
always prints, parses, validates strict and compiles. Slots are filled left to right and later slots
see what earlier ones took (a quotation already used is less likely again; values tend to follow the
request's order).

Training (`fit`) needs only (prompt, TypedProgram) pairs: the gold literal of every slot is known, so
each candidate is labelled by whether it equals the gold literal. The vocabularies that produce
candidates at training time are built out-of-fold (a row never proposes its own literals), so the scorer
learns how far to trust a vocabulary on unseen requests. Fitting takes seconds on 2 cores.

Data rule: a filler fitted on the real corpus carries literals of that corpus; it is saved only into
run folders, never into the repository. `value_source` records where its vocabulary came from.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sashimi.errors import DataError, Location
from sashimi.io import read_json, write_json
from sashimi.ir.typed import Slot, TypedProgram
from sashimi.model.filler.candidates import (
    VOCAB_TOP,
    Candidate,
    CandidateGenerator,
    FillState,
    cross,
    cross_names,
    static_features,
    vocab_keys,
)
from sashimi.model.filler.context import SlotContext, slot_contexts
from sashimi.model.filler.prompt import PromptView
from sashimi.model.filler.titles import TitleModel
from sashimi.model.filler.values import (
    BLOB_KINDS,
    blob_is_self_contained,
    identifier_from,
    literal_from_json,
    literal_to_json,
    make_valid,
    valid_identifier,
    value_key,
)

FORMAT = "sashimi-value-filler"
FORMAT_VERSION = 1
FILE_NAME = "filler.json"
VALUE_SOURCES = ("synthetic", "real", "mixed")
MAX_VOCAB_CHARS = 200  # longer literals are copies of the request, never worth remembering
FOLDS = 4  # out-of-fold vocabularies for training the scorer
_VAR = re.compile(r"\$VAR_([1-9][0-9]*)\Z")
_UUID_NAMESPACE = uuid.UUID("6f1d2c1e-5a8b-4c35-9e0e-7f3b0a2d4c11")  # fixed: fills are deterministic


class ValueFiller:
    """Fills the Tier 3 slots of a token sequence and names its `$VAR_k` variables."""

    def __init__(
        self,
        *,
        weights: dict[str, float],
        intercept: float,
        titles: TitleModel | None = None,
        vocab: dict[str, list[tuple[Any, str, int]]],
        totals: dict[str, int],
        enums: dict[str, list[str]],
        units: dict[str, list[str]],
        var_vocab: dict[str, list[tuple[str, int]]],
        value_source: str = "synthetic",
        meta: dict | None = None,
    ):
        self.weights = weights
        self.intercept = intercept
        self.vocab = vocab
        self.totals = totals
        self.enums = enums
        self.units = units
        self.var_vocab = var_vocab
        self.value_source = value_source
        self.meta = dict(meta or {})
        self.titles = titles
        self.generator = CandidateGenerator(vocab, totals, enums, units, titles)
        # (kind, role, action, param) -> what `_scorer` reads for that parameter (`_weights_for`)
        self._cross_cache: dict[tuple, tuple[float, dict[str, float], dict[str, array]]] = {}

    # ------------------------------------------------------------------ training

    @classmethod
    def fit(
        cls,
        examples: Iterable[tuple[str, TypedProgram]],
        *,
        seed: int = 0,
        value_source: str = "synthetic",
        catalog: Any = None,
        max_negatives: int = 20,
        C: float = 1.0,
        solver: str = "liblinear",
    ) -> ValueFiller:
        """Learn vocabularies, variable names and the candidate scorer from (prompt, gold program) pairs.

        `catalog` (a `sashimi.dsl.catalog.Catalog`; default the core catalog, whose closed enums and units
        the reference catalog shares) gives the legal values of enum parameters and quantity units.
        `solver`: a `LogisticRegression` solver ("liblinear", the default: the most accurate and stable
        over seeds here) or "sgd" (averaged SGD on the logistic loss, 15 epochs, alpha = 1e-6 / C: the
        scorer fits ~3x faster, canonical exact ~0.02 lower); `max_negatives` wrong candidates are
        sampled per slot for the scorer's training rows.
        """
        from sklearn.linear_model import LogisticRegression

        if value_source not in VALUE_SOURCES:
            raise ValueError(f"value_source must be one of {VALUE_SOURCES}, not {value_source!r}")
        started = time.time()
        rows = [(p if isinstance(p, str) else "", t) for p, t in examples]
        enums, units = catalog_tables(catalog)
        prepared = [(prompt, typed, slot_contexts([t.text for t in typed.tokens])) for prompt, typed in rows]
        full_vocab, full_totals = _build_vocab(prepared)
        rng = np.random.default_rng(seed)
        fold_of = rng.integers(0, FOLDS, size=len(prepared))
        feats = _SparseRows()
        labels: list[int] = []
        n_slots = n_covered = 0
        for fold in range(FOLDS):
            members = [ex for ex, f in zip(prepared, fold_of, strict=True) if f != fold]
            vocab, totals = _build_vocab(members)
            gen = CandidateGenerator(vocab, totals, enums, units, _build_titles(members))
            for (prompt, typed, contexts), f in zip(prepared, fold_of, strict=True):
                if f != fold:
                    continue
                view = PromptView(prompt)
                state = FillState(tokens=tuple(t.text for t in typed.tokens))
                for i in _fill_order(contexts):
                    ctx, slot = contexts[i], typed.slots[i]
                    gold = value_key(slot.kind, slot.value)
                    cands = gen.generate(ctx, view, state)
                    n_slots += 1
                    positives = [c for c in cands if c.key == gold]
                    negatives = [c for c in cands if c.key != gold]
                    n_covered += bool(positives)
                    if len(negatives) > max_negatives:
                        pick = rng.choice(len(negatives), size=max_negatives, replace=False)
                        negatives = [negatives[i] for i in sorted(pick)]
                    if len(positives) + len(negatives) > 1:
                        for c in positives + negatives:
                            feats.add(cross(ctx, c.feats))
                            labels.append(int(c.key == gold))
                    _advance(state, positives[0] if positives else None, gold, ctx, slot.value)
        fit_started = time.time()
        names, X = feats.matrix()
        y = np.asarray(labels)
        if len(set(labels)) < 2:  # degenerate corpus (e.g. a handful of rows): vocabulary order only
            weights, intercept = {}, 0.0
        else:
            if solver == "sgd":
                from sklearn.linear_model import SGDClassifier

                model = SGDClassifier(
                    loss="log_loss", alpha=1e-6 / C, max_iter=15, tol=None, average=True, random_state=seed
                )
            else:
                model = LogisticRegression(C=C, solver=solver, max_iter=300, tol=1e-4, random_state=seed)
            model.fit(X, y)
            coef = model.coef_[0]
            weights = {
                name: round(float(w), 6) for name, w in zip(names, coef, strict=True) if abs(w) >= 1e-5
            }
            intercept = float(model.intercept_[0])
        meta = {
            "seed": seed,
            "n_examples": len(prepared),
            "n_slots": n_slots,
            "candidate_coverage": round(n_covered / max(n_slots, 1), 4),
            "n_training_rows": len(labels),
            "n_features": len(weights),
            "max_negatives": max_negatives,
            "C": C,
            "scorer_seconds": round(time.time() - fit_started, 2),
            "fit_seconds": round(time.time() - started, 2),
        }
        return cls(
            weights=weights,
            intercept=intercept,
            titles=_build_titles(prepared),
            vocab=full_vocab,
            totals=full_totals,
            enums=enums,
            units=units,
            var_vocab=_build_var_vocab(rows),
            value_source=value_source,
            meta=meta,
        )

    # ------------------------------------------------------------------ inference

    def score(self, ctx: SlotContext, feats: dict[str, float]) -> float:
        """intercept + Σ w · x over `cross(ctx, feats)`: the logistic scorer's logit, term by term (the
        reference that `fill`'s faster `_scorer` is tested against)."""
        terms = [self.weights.get(name, 0.0) * x for name, x in cross(ctx, feats).items()]
        return self.intercept + sum(terms)

    def _scorer(self, ctx: SlotContext) -> Callable[[Candidate], float]:
        """`score` for the candidates of one slot from `generate(..., partials=self._static_scores)`: a
        candidate's static vocabulary score (`base`) plus, per remaining feature, x times the sum of its
        crossed weights — looked up once per parameter and feature instead of crossing every candidate's
        names (the filler was a fifth of a request's CPU under load, RESULTS §8). The same logit up to
        float rounding (tested)."""
        offset, summed, _ = self._weights_for(ctx)

        def score(cand: Candidate) -> float:
            total = offset + cand.base
            for name, x in cand.feats.items():
                w = summed.get(name)  # the hot loop: the cached weight, else `_summed` fills it in
                if w is None:
                    w = self._summed(ctx, summed, name)
                total += w if x == 1.0 else w * x
            return total

        return score

    def _summed(self, ctx: SlotContext, summed: dict[str, float], name: str) -> float:
        """Feature `name`'s crossed weights for `ctx`'s parameter, summed and kept in `summed`."""
        w = summed.get(name)
        if w is None:
            w = summed[name] = sum(self.weights.get(k, 0.0) for k in cross_names(ctx, name))
        return w

    def _static_scores(self, ctx: SlotContext, key: str, entries: list) -> array:
        """Each entry's request-independent vocabulary features of context `key`, scored for `ctx`'s
        parameter (`CandidateGenerator.generate`'s `partials`); cached per (parameter, context)."""
        _, summed, statics = self._weights_for(ctx)
        hit = statics.get(key)
        if hit is None:
            hit = array("d")
            for _value, _vkey, static, _words in entries:
                total = 0.0
                for name, x in static_features(static).items():
                    total += self._summed(ctx, summed, name) * x
                hit.append(total)
            statics[key] = hit
        return hit

    def _weights_for(self, ctx: SlotContext) -> tuple[float, dict[str, float], dict[str, array]]:
        """(intercept + the slot's bias weight, feature name -> its summed crossed weights, vocabulary
        context -> its entries' static scores) for `ctx`'s parameter, filled as requests need them."""
        key = (ctx.kind, ctx.role, ctx.action, ctx.param)
        hit = self._cross_cache.get(key)
        if hit is None:
            bias = self.weights.get(f"bias@{ctx.kind}|{ctx.role}", 0.0)
            hit = self._cross_cache[key] = (self.intercept + bias, {}, {})
        return hit

    def fill(self, prompt: str, tokens: Sequence[str]) -> tuple[tuple[Slot, ...], tuple[str, ...]]:
        """Literals for every Tier 3 slot of `tokens` (in order) and the names of `$VAR_1..n`."""
        texts = [str(t) for t in tokens]
        view = PromptView(prompt if isinstance(prompt, str) else "")
        state = FillState(tokens=tuple(texts))
        contexts = slot_contexts(texts)
        slots: list[Slot | None] = [None] * len(contexts)
        for i in _fill_order(contexts):
            ctx = contexts[i]
            cands = self.generator.generate(ctx, view, state, self._static_scores)
            best = max(cands, key=self._scorer(ctx)) if cands else None
            value = best.value if best is not None else self.generator.default(ctx, view)
            value = self._legal(ctx, value, view)
            _advance(state, best, value_key(ctx.kind, value), ctx, value)
            slots[i] = Slot(ctx.kind, value, ctx.role, ctx.action, ctx.param)
        return tuple(slots), self.name_variables(texts)

    def _legal(self, ctx: SlotContext, value: Any, view: PromptView) -> Any:
        if ctx.kind == "str" and ctx.param == "UUID":
            # an action's UUID must be unique in the program (the compiler's self-check): one per slot
            return str(uuid.uuid5(_UUID_NAMESPACE, f"slot-{ctx.index}")).upper()
        value = make_valid(ctx.kind, ctx.role, value)
        allowed = self.enums.get(f"{ctx.action}|{ctx.param}") if ctx.kind == "str" else None
        if allowed and value not in allowed:
            value = allowed[0]
        return value

    def name_variables(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """Distinct, valid identifiers for `$VAR_1..n` (n = the largest k used), learned per context."""
        firsts: dict[int, int] = {}
        for pos, text in enumerate(tokens):
            m = _VAR.match(text)
            if m:
                firsts.setdefault(int(m.group(1)), pos)
        if not firsts:
            return ()
        taken: set[str] = set()
        names: list[str] = []
        # numbering is by first occurrence, so a well-formed sequence never needs more names than tokens
        for k in range(1, min(max(firsts), len(tokens)) + 1):
            pos = firsts.get(k)
            keys = _var_keys(list(tokens), pos) if pos is not None else [""]
            name = ""
            for key in keys:
                for candidate, _count in self.var_vocab.get(key, ()):
                    if valid_identifier(candidate) and candidate.lower() not in taken:
                        name = candidate
                        break
                if name:
                    break
            if not name:
                base = identifier_from(keys[2].split("|")[1]) if pos is not None and len(keys) > 2 else ""
                name = base if valid_identifier(base) else "Value"
                suffix = 2
                root = name
                while name.lower() in taken:
                    name, suffix = f"{root}{suffix}", suffix + 1
            taken.add(name.lower())
            names.append(name)
        return tuple(names)

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> dict:
        kinds = {key: key.split("|", 1)[0] for key in self.vocab}
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "value_source": self.value_source,
            "meta": self.meta,
            "intercept": self.intercept,
            "weights": self.weights,
            "vocab": {
                key: [[literal_to_json(kinds[key], v), n] for v, _k, n in entries]
                for key, entries in self.vocab.items()
            },
            "totals": self.totals,
            "titles": self.titles.to_json() if self.titles is not None else None,
            "enums": self.enums,
            "units": self.units,
            "var_vocab": {key: [[name, n] for name, n in entries] for key, entries in self.var_vocab.items()},
        }

    @classmethod
    def from_json(cls, obj: Any, *, location: Location | None = None) -> ValueFiller:
        loc = location or Location("<filler>")
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise DataError(f"not a value-filler file (expected format {FORMAT!r})", loc)
        if obj.get("version") != FORMAT_VERSION:
            raise DataError(
                f"value-filler format version {obj.get('version')!r} is not {FORMAT_VERSION}", loc
            )
        try:
            vocab: dict[str, list[tuple[Any, str, int]]] = {}
            for key, entries in obj["vocab"].items():
                kind = key.split("|", 1)[0]
                rows = []
                for raw, n in entries:
                    value = literal_from_json(kind, raw)
                    rows.append((value, value_key(kind, value), int(n)))
                vocab[key] = rows
            weights = {str(k): float(v) for k, v in obj["weights"].items()}
            var_vocab = {str(k): [(str(n), int(c)) for n, c in v] for k, v in obj["var_vocab"].items()}
            return cls(
                weights=weights,
                intercept=float(obj["intercept"]),
                titles=TitleModel.from_json(obj["titles"]) if obj.get("titles") else None,
                vocab=vocab,
                totals={str(k): int(v) for k, v in obj["totals"].items()},
                enums={str(k): [str(x) for x in v] for k, v in obj["enums"].items()},
                units={str(k): [str(x) for x in v] for k, v in obj["units"].items()},
                var_vocab=var_vocab,
                value_source=str(obj.get("value_source", "synthetic")),
                meta=dict(obj.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError, AttributeError, DataError) as err:
            raise DataError(f"malformed value-filler file: {err}", loc) from None

    def save(self, directory: str | os.PathLike) -> None:
        """Write `filler.json` (plain JSON, no pickle) into `directory`."""
        write_json(Path(directory) / FILE_NAME, self.to_json(), indent=None)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> ValueFiller:
        path = Path(directory)
        if path.is_dir():
            path = path / FILE_NAME
        if not path.is_file():
            raise DataError("value-filler file not found", Location(str(path)))
        return cls.from_json(read_json(path), location=Location(str(path)))


# ----------------------------------------------------------------------------- helpers


def catalog_tables(catalog: Any = None) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Closed enums and quantity units per "canonical action|param" (default: the core catalog)."""
    from sashimi.dsl.catalog import Catalog, canonical_name

    catalog = catalog if catalog is not None else Catalog.core()
    enums: dict[str, list[str]] = {}
    units: dict[str, list[str]] = {}
    for spec in catalog.actions:
        name = canonical_name(spec.identifier)
        for p in spec.params:
            if p.enum:
                enums[f"{name}|{p.name}"] = list(p.enum)
            if p.units:
                units[f"{name}|{p.name}"] = list(p.units)
    return enums, units


class _SparseRows:
    """Feature dicts appended one at a time into CSR parts (a plain index map: several times faster than
    DictVectorizer). The dicts themselves are not kept: a list of one dict per candidate row was most of
    the fit's peak memory on large corpora (RESULTS §7.10)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.indices = array("i")
        self.data = array("d")
        self.indptr = array("q", [0])

    def add(self, row: dict[str, float]) -> None:
        for name, x in row.items():
            j = self.index.get(name)
            if j is None:
                j = self.index[name] = len(self.index)
            self.indices.append(j)
            self.data.append(x)
        self.indptr.append(len(self.indices))

    def matrix(self):
        """(feature names in column order, CSR matrix of the rows added)."""
        from scipy.sparse import csr_matrix

        X = csr_matrix(
            (
                np.frombuffer(self.data, dtype=np.float64),
                np.frombuffer(self.indices, dtype=np.int32),
                np.asarray(self.indptr, dtype=np.int32),
            ),
            shape=(len(self.indptr) - 1, max(len(self.index), 1)),
        )
        return list(self.index), X


def _fill_order(contexts: list[SlotContext]) -> list[int]:
    """Slot indices in fill order: the program name last, so it can use what the other slots took."""
    return [i for i, c in enumerate(contexts) if c.role != "name"] + [
        i for i, c in enumerate(contexts) if c.role == "name"
    ]


def _build_titles(prepared) -> TitleModel:
    programs = []
    for _prompt, typed, contexts in prepared:
        tokens = [t.text for t in typed.tokens]
        name, labels, repeat = "", {}, None
        for ctx, slot in zip(contexts, typed.slots, strict=False):
            if ctx.role == "name" and isinstance(slot.value, str):
                name = slot.value
            elif ctx.role == "case_label" and isinstance(slot.value, str):
                labels[ctx.position - 1] = slot.value
            elif ctx.role == "repeat_count" and repeat is None and isinstance(slot.value, int):
                repeat = slot.value
        programs.append((tokens, name, labels, repeat))
    return TitleModel.fit(programs)


def _advance(state: FillState, cand, key: str, ctx: SlotContext, value: Any = None) -> None:
    state.used[key] += 1
    if ctx.role == "repeat_count" and state.repeat is None and isinstance(value, int):
        state.repeat = value
    if ctx.role == "case_label" and isinstance(value, str):
        state.labels.append(value)
    if cand is not None and cand.start is not None and "whole" not in cand.feats:
        state.last_start = cand.start
        if ctx.kind == "num":
            state.last_number_word = cand.last_word
    elif ctx.kind == "num":
        state.last_number_word = None


def _build_vocab(prepared) -> tuple[dict[str, list[tuple[Any, str, int]]], dict[str, int]]:
    counts: dict[str, Counter] = defaultdict(Counter)
    literal: dict[tuple[str, str], Any] = {}
    for _prompt, typed, contexts in prepared:
        for ctx, slot in zip(contexts, typed.slots, strict=False):
            value = slot.value
            if ctx.kind != slot.kind:
                continue  # vocabularies are keyed by the context's kind and saved typed
            if slot.kind in BLOB_KINDS:
                if not blob_is_self_contained(value):
                    continue
            elif isinstance(value, str) and len(value) > MAX_VOCAB_CHARS:
                continue
            vkey = value_key(slot.kind, value)
            # keyed by kind too: the number 2 and the text "2" share the key "2"
            literal.setdefault((slot.kind, vkey), value)
            for key in vocab_keys(ctx):
                counts[key][vkey] += 1
    vocab = {
        key: [
            (literal[key.split("|", 1)[0], v], v, n)
            for v, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:VOCAB_TOP]
        ]
        for key, c in counts.items()
    }
    totals = {key: sum(c.values()) for key, c in counts.items()}
    return vocab, totals


def _var_keys(tokens: list[str], pos: int) -> list[str]:
    """Contexts of a variable's first occurrence, most specific first: how it is defined (SET / the
    <name> of Set Variable / a use), the action before it, the token after it and where it is used next
    (the action and key of its second occurrence: a `$Message` feeds Send Message's content)."""
    before = tokens[pos - 1] if pos > 0 else ""
    defined = {"SET": "set", "<name>": "name"}.get(before, "use")
    last_action = next((t[2:] for t in reversed(tokens[:pos]) if t.startswith("A:")), "")
    after = tokens[pos + 1] if pos + 1 < len(tokens) else ""
    after = "$VAR" if after.startswith("$VAR_") else after
    use = ""
    again = next((i for i in range(pos + 1, len(tokens)) if tokens[i] == tokens[pos]), None)
    if again is not None:
        key = next(
            (t for t in reversed(tokens[pos + 1 : again]) if t.startswith(("K:", "A:", "IF", "FOREACH"))), ""
        )
        act = next((t for t in reversed(tokens[pos + 1 : again]) if t.startswith("A:")), "")
        use = f"{act}{key}"
    base = f"{defined}|{last_action}|{after}"
    return [f"{base}|{use}", base, f"{defined}|{last_action}", defined, ""]


def _build_var_vocab(rows: list[tuple[str, TypedProgram]]) -> dict[str, list[tuple[str, int]]]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for _prompt, typed in rows:
        texts = [t.text for t in typed.tokens]
        seen: set[int] = set()
        for pos, text in enumerate(texts):
            m = _VAR.match(text)
            if not m or int(m.group(1)) in seen:
                continue
            k = int(m.group(1))
            seen.add(k)
            if k > len(typed.var_names) or not valid_identifier(typed.var_names[k - 1]):
                continue
            for key in _var_keys(texts, pos):
                counts[key][typed.var_names[k - 1]] += 1
    return {key: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:10] for key, c in counts.items()}


__all__ = ["FILE_NAME", "ValueFiller", "catalog_tables"]
