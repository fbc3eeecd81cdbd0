"""Neighbour chooser: pick, among the retrieved training programs and the decoder's own program, the one
whose actions best match what the request asks for (architecture.md §3, retrieval augmentation).

On the real corpus the nearest neighbour's program scores action-F1 ~0.5 while the best of the 20
nearest would score ~0.8 (`sashimi evaluate --ceilings`): most of the room lies in *choosing*. The
decoder's own likelihood turned out to be a poor judge of a neighbour (measured in docs/RESULTS.md §7.7:
it prefers short, generic programs), so the choice is made by a separate, small model of the request:

    request ─► [MiniLM pooled vector ; hashed word 1-2-gram tf-idf] ─► one logistic regression per
               catalog action seen in training ─► p(action a appears in the program)      (ActionModel)
    candidate program S (its set of actions) ─► expected action-F1 under p:
               E[F1](S) ≈ 2 Σ_{a∈S} p_a / (|S| + Σ_a p_a)
    score = E[F1](S) + mix · cosine(request, the neighbour's request)   (the decoder's program: the
            best neighbour cosine, so that it competes on the action evidence alone)

The candidates are sequences the decoding constraint accepts (a neighbour it rejects is no candidate),
so the chosen program is valid by construction exactly like a decoded one; the value filler then writes
its Tier 3 literals from *this* request (the neighbour's own values are never copied: the index holds
no literal). `Generation.source` says where the skeleton came from.

No vocabulary is stored: word n-grams are hashed (crc32) into `buckets` columns, and what the model
keeps is per-bucket idf and regression weights — aggregate statistics, like any trained weight
(architecture.md §5). The retrieval index, which holds training programs row by row, is separate
(`retrieval.py`) and never ships built from the real corpus.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from sashimi.errors import DataError, Location

CHOOSER_DIR = "chooser"
_WEIGHTS = "chooser.safetensors"
_META = "chooser.json"
FORMAT = "sashimi-neighbour-chooser"
ACTION_PREFIX = "A:"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_CERTAIN = 9.0  # logit of an action present in every (or no) training program: p = 0.9999 (0.0001)


@dataclass(frozen=True)
class ChooserConfig:
    k: int = 20  # retrieved neighbours considered (plus the decoder's own program)
    mix: float = 0.5  # weight of the request-request cosine beside the expected action-F1
    buckets: int = 4096  # hashed word 1-2-gram columns of the lexical view (no vocabulary kept)
    c: float = 4.0  # inverse L2 strength of each action's logistic regression
    min_programs: int = 2  # actions in fewer training programs get no regression (p = 0)
    minilm_weight: float = 3.0  # scale of the (unit) MiniLM block beside the unit lexical block
    include_decoder: bool = True  # the decoder's own program is a candidate too

    def __post_init__(self) -> None:
        ints = {"k": 1, "buckets": 1, "min_programs": 1}  # name -> smallest allowed
        for name, low in ints.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise DataError(f"chooser setting {name} must be an integer >= {low}, not {value!r}")
        for name in ("mix", "c", "minilm_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise DataError(f"chooser setting {name} must be a number >= 0, not {value!r}")
        if self.c == 0:
            raise DataError("chooser setting c must be > 0")
        if not isinstance(self.include_decoder, bool):
            raise DataError(
                f"chooser setting include_decoder must be true or false, not {self.include_decoder!r}"
            )

    @classmethod
    def from_json(cls, obj: dict) -> ChooserConfig:
        if not isinstance(obj, dict):
            raise DataError("chooser settings must be a mapping")
        known = {f.name for f in fields(cls)}
        unknown = set(obj) - known
        if unknown:
            raise DataError(f"unknown chooser settings: {sorted(unknown)}")
        return cls(**obj)


def hashed_counts(prompts: Sequence[str], buckets: int) -> np.ndarray:
    """(B, buckets) sublinear term frequencies (1 + ln count) of lowercase word 1- and 2-grams."""
    out = np.zeros((len(prompts), buckets), dtype=np.float32)
    for i, text in enumerate(prompts):
        words = _TOKEN.findall(text.lower())
        terms = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        counts: dict[int, int] = {}
        for term in terms:
            j = zlib.crc32(term.encode("utf-8")) % buckets
            counts[j] = counts.get(j, 0) + 1
        for j, n in counts.items():
            out[i, j] = 1.0 + np.log(n)
    return out


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each row scaled to unit L2 norm (all-zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


@dataclass
class ActionModel:
    """p(action appears in the program | request): one logistic regression per action."""

    config: ChooserConfig
    actions: tuple[str, ...]  # token texts ("A:<identifier>") of the modelled actions
    idf: np.ndarray  # (buckets,) float32
    weights: np.ndarray  # (384 + buckets, A) float32
    bias: np.ndarray  # (A,) float32

    def features(self, pooled: np.ndarray, prompts: Sequence[str]) -> np.ndarray:
        """(B, 384 + buckets): the unit MiniLM vector (scaled) and the unit tf-idf vector."""
        if len(pooled) != len(prompts):
            raise ValueError(f"{len(pooled)} pooled vectors for {len(prompts)} prompts")
        lexical = unit_rows(hashed_counts(prompts, self.config.buckets) * self.idf)
        minilm = unit_rows(np.asarray(pooled, dtype=np.float32)) * self.config.minilm_weight
        return np.concatenate([minilm, lexical], axis=1)

    def probs(self, pooled: np.ndarray, prompts: Sequence[str]) -> np.ndarray:
        """(B, A) presence probabilities."""
        logits = self.features(pooled, prompts) @ self.weights + self.bias  # (B, A)
        return 1.0 / (1.0 + np.exp(-logits))

    @classmethod
    def fit(
        cls,
        pooled: np.ndarray,
        prompts: Sequence[str],
        programs: Sequence[Sequence[str]],
        config: ChooserConfig = ChooserConfig(),
        *,
        progress: Callable | None = None,
    ) -> ActionModel:
        """Fit on training rows: `programs[i]` = the token texts of row i's program (its "A:" ones count)."""
        from sklearn.linear_model import LogisticRegression  # fit time only: inference is numpy

        present = [{t for t in prog if t.startswith(ACTION_PREFIX)} for prog in programs]
        counts: dict[str, int] = {}
        for s in present:
            for a in s:
                counts[a] = counts.get(a, 0) + 1
        actions = tuple(sorted(a for a, n in counts.items() if n >= config.min_programs))
        n = len(prompts)
        if n == 0 or not actions:
            raise DataError("the chooser needs training programs with actions")
        tf = hashed_counts(prompts, config.buckets)
        df = (tf > 0).sum(axis=0)
        idf = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)  # scikit-learn's smooth idf
        model = cls(config, actions, idf, np.zeros((0, 0), np.float32), np.zeros(0, np.float32))
        x = model.features(pooled, prompts)
        weights = np.zeros((x.shape[1], len(actions)), dtype=np.float32)
        bias = np.zeros(len(actions), dtype=np.float32)
        columns = range(len(actions)) if progress is None else progress(range(len(actions)))
        for j in columns:
            y = np.array([actions[j] in s for s in present], dtype=np.int64)
            if y.min() == y.max():  # in every training program (or none): a constant, no regression
                bias[j] = _CERTAIN if y[0] else -_CERTAIN
                continue
            clf = LogisticRegression(C=config.c, solver="liblinear", max_iter=200, random_state=0).fit(x, y)
            weights[:, j] = clf.coef_[0]
            bias[j] = clf.intercept_[0]
        model.weights, model.bias = weights, bias
        return model

    def save(self, directory: str | os.PathLike) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{_WEIGHTS}.tmp"
        save_file({"idf": self.idf, "weights": self.weights, "bias": self.bias}, str(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, d / _WEIGHTS)
        meta = {"format": FORMAT, "version": 1, "config": asdict(self.config), "actions": list(self.actions)}
        tmp = d / f".{_META}.tmp"
        tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        os.replace(tmp, d / _META)
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike) -> ActionModel:
        d = Path(directory)
        try:
            meta = json.loads((d / _META).read_text(encoding="utf-8"))
            arrays = load_file(str(d / _WEIGHTS))
        except FileNotFoundError as err:
            raise DataError("chooser files missing", Location(str(err.filename or d))) from None
        except (OSError, ValueError) as err:  # JSONDecodeError is a ValueError
            raise DataError(f"unreadable chooser: {err}", Location(str(d))) from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise DataError(f"not a {FORMAT} folder", Location(str(d / _META)))
        try:
            model = cls(
                ChooserConfig.from_json(meta["config"]),
                tuple(str(a) for a in meta["actions"]),
                arrays["idf"].astype(np.float32),
                arrays["weights"].astype(np.float32),
                arrays["bias"].astype(np.float32),
            )
        except (KeyError, TypeError) as err:
            raise DataError(f"malformed chooser: {err}", Location(str(d))) from None
        a, f = len(model.actions), 384 + model.config.buckets
        if model.weights.shape != (f, a) or model.bias.shape != (a,) or model.idf.shape != (f - 384,):
            raise DataError("chooser weights do not fit its config", Location(str(d / _WEIGHTS)))
        return model


def expected_f1(p: np.ndarray, columns: Sequence[int], n_actions: int) -> float:
    """E[action-F1] of a program with `n_actions` distinct actions, `columns` of them modelled, under the
    independent presence probabilities `p` (the ratio of expectations, a standard approximation)."""
    if n_actions == 0:
        return 0.0
    hit = float(p[list(columns)].sum()) if columns else 0.0
    return 2.0 * hit / (n_actions + float(p.sum()))


@dataclass(frozen=True)
class Candidate:
    token_ids: tuple[int, ...]  # a sequence the decoding constraint accepts
    source: str  # "decoder" | "neighbour"
    rank: int  # neighbour rank (0 = nearest); -1 for the decoder
    cosine: float | None  # request-request cosine of a neighbour (None for the decoder)


@dataclass(frozen=True)
class Choice:
    candidate: Candidate
    score: float
    expected_f1: float
    considered: int  # candidates scored


class Chooser:
    """An `ActionModel` bound to a token table: scores candidate token sequences for one request."""

    def __init__(self, model: ActionModel, token_texts: Sequence[str]):
        self.model = model
        column = {a: j for j, a in enumerate(model.actions)}
        # token id -> column of the action model (-1: an action token it does not model; absent: not an action)
        self._column = {
            i: column.get(t, -1) for i, t in enumerate(token_texts) if t.startswith(ACTION_PREFIX)
        }

    @property
    def config(self) -> ChooserConfig:
        return self.model.config

    def expected_f1(self, p: np.ndarray, token_ids: Sequence[int]) -> float:
        actions = {t for t in token_ids if t in self._column}
        cols = [self._column[t] for t in actions if self._column[t] >= 0]
        return expected_f1(p, cols, len(actions))

    def choose(self, p: np.ndarray, candidates: Sequence[Candidate]) -> Choice:
        """The best candidate (ties: the earlier one; the decoder's program, when given, comes first)."""
        if not candidates:
            raise ValueError("no candidate to choose from")
        top_cos = max((c.cosine for c in candidates if c.cosine is not None), default=0.0)
        best: Choice | None = None
        for cand in candidates:
            ef1 = self.expected_f1(p, cand.token_ids)
            cos = top_cos if cand.cosine is None else cand.cosine
            score = ef1 + self.config.mix * cos
            if best is None or score > best.score:
                best = Choice(cand, score, ef1, len(candidates))
        assert best is not None
        return best


def load_chooser(run_dir: str | os.PathLike, token_texts: Sequence[str]) -> Chooser | None:
    """The run's chooser (its `chooser/` folder), or None when it has none."""
    d = Path(run_dir) / CHOOSER_DIR
    if not d.is_dir():
        return None
    return Chooser(ActionModel.load(d), token_texts)


__all__ = [
    "CHOOSER_DIR",
    "ActionModel",
    "Candidate",
    "Choice",
    "Chooser",
    "ChooserConfig",
    "expected_f1",
    "hashed_counts",
    "load_chooser",
    "unit_rows",
]
