"""The shipped gate's lexical view computed with the standard library + numpy, without scikit-learn.

`sashimi.model.gate.LexicalView.transform` builds scikit-learn `TfidfVectorizer`s; importing
scikit-learn costs about 1 s of a cold `sashimi generate` (budget: 4 s for everything). The view is
simple arithmetic over a fixed vocabulary, so this module re-implements exactly what those vectorizers
compute for the settings in `gate.LEXICAL_PARAMS`:

- word analyzer: lowercase, tokens = regex `(?u)\\b\\w\\w+\\b`, n-grams 1..2 joined by one space;
- char_wb analyzer: lowercase, for each whitespace-separated word w, the n-grams (n = 3..5) of
  " " + w + " " (a word shorter than n contributes itself once);
- sublinear tf (1 + ln count), times idf, each block L2-normalised, blocks concatenated and scaled by
  weight / sqrt(2).

`tests/model/test_fast_lexical.py` checks equality with scikit-learn on varied texts. `FastLexicalView`
is a `LexicalView` whose `transform` uses this code, so a `Gate` carrying it scores identically.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from sashimi.model.gate import LEXICAL_PARAMS, Gate, LexicalView

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


def word_ngrams(text: str, lo: int, hi: int) -> list[str]:
    tokens = _TOKEN.findall(text.lower())
    out = list(tokens) if lo == 1 else []
    for n in range(max(lo, 2), hi + 1):
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def char_wb_ngrams(text: str, lo: int, hi: int) -> list[str]:
    out: list[str] = []
    for word in text.lower().split():
        w = f" {word} "
        for n in range(lo, hi + 1):
            offset = 0
            out.append(w[offset : offset + n])
            while offset + n < len(w):
                offset += 1
                out.append(w[offset : offset + n])
            if offset == 0:  # a word shorter than n is counted once, as scikit-learn does
                break
    return out


_ANALYZERS = {"word": word_ngrams, "char_wb": char_wb_ngrams}


@dataclass(frozen=True)
class FastLexicalView(LexicalView):
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, view: LexicalView) -> FastLexicalView:
        fast = cls(view.vocab, view.idf, view.weight)
        for name in LEXICAL_PARAMS:
            fast._index[name] = {term: i for i, term in enumerate(view.vocab[name])}
        return fast

    def _block(self, name: str, text: str) -> np.ndarray:
        params = LEXICAL_PARAMS[name]
        lo, hi = params["ngram_range"]
        counts = Counter(_ANALYZERS[params["analyzer"]](text, lo, hi))
        index = self._index[name]
        row = np.zeros(len(self.vocab[name]), dtype=np.float64)
        for term, count in counts.items():
            j = index.get(term)
            if j is not None:
                row[j] = 1.0 + np.log(count)
        row *= self.idf[name]
        norm = np.sqrt(np.dot(row, row))
        return row / norm if norm > 0 else row

    def transform(self, texts: list[str]) -> np.ndarray:
        rows = [np.concatenate([self._block(name, t) for name in LEXICAL_PARAMS]) for t in texts]
        width = sum(len(self.vocab[name]) for name in LEXICAL_PARAMS)
        x = np.stack(rows) if rows else np.zeros((0, width))
        return x * (self.weight / np.sqrt(len(LEXICAL_PARAMS)))


def fast_gate(gate: Gate) -> Gate:
    """The same gate with its lexical view (if any) computed without scikit-learn."""
    if gate.lexical is None or isinstance(gate.lexical, FastLexicalView):
        return gate
    return replace(gate, lexical=FastLexicalView.of(gate.lexical))
