"""Spelling correction of a request before the models read it (issue 16: a typo must not flip the gate).

MiniLM splits a misspelt word into word pieces it has never seen together ("remidner" -> re ##mid ##ner),
so one swapped pair of letters can move a request across the gate's threshold (3.3 % of the blind set's
typo rewrites did). Teaching the gate typos through misspelt training copies made it no better, so the
typo is undone before the encoder instead: a rare word (Zipf frequency < KNOWN_ZIPF in wordfreq's large
English list: fewer than ~100 per billion words of web and book text) is replaced by the most frequent
word one edit away (a letter deleted, inserted, replaced, or two adjacent letters swapped: the usual
single typo) when that word is common and far more frequent than the one written (MIN_GAIN Zipf, 30x);
otherwise it is left as written. The large list knows product and technical words ("gmail", "jira",
"resize", "struct") that a spelling dictionary lacks and would "correct".

What is never touched: words of fewer than MIN_LETTERS letters (too many neighbours one edit away),
words with digits or inner capitals ("iCal", "MP3", "YAML"), quoted text, URLs, e-mail addresses and
paths. The value filler still reads the request as written, so a correction never changes a value of
the generated program — only what the encoder and the gate read.

Known words: the caller's (WordPiece whole words, the gate's lexical and domain words) are never
corrected; the frequency list (~320 k words: ~0.3 s and ~56 MB) loads on the first word they do not know.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from functools import lru_cache

MIN_LETTERS = 4
KNOWN_ZIPF = 2.0  # a word at least this frequent (Zipf: log10 of uses per billion words) is a word
MIN_GAIN = 1.5  # a correction must be this much more frequent (Zipf) than the word written
_SUFFIXES = ("s", "es", "ed", "d", "ing", "er", "ers", "able", "ly")
MAX_CORRECTIONS = 16  # per request: bounds the cost of a long request full of unknown words

# Spans never corrected: quoted text, URLs / e-mail addresses / paths, and words glued to digits,
# underscores or other words' punctuation.
_PROTECTED = re.compile(r"\"[^\"]*\"|“[^”]*”|'[^'\n]*'(?!\w)|\S*(?:://|www\.|@|/|\\)\S*")
_WORD = re.compile(r"(?<![\w'’.-])[A-Za-z]+(?![\w'’-])")


@dataclass(frozen=True)
class Correction:
    word: str  # as written
    corrected: str  # what the models read instead
    start: int  # character offset in the text that was corrected


@lru_cache(maxsize=1)
def _zipf() -> dict[str, float]:
    """Zipf frequency of every word of wordfreq's large English list (~0.2 s, once per process)."""
    from wordfreq import get_frequency_dict

    return {w: math.log10(f) + 9.0 for w, f in get_frequency_dict("en", wordlist="large").items() if f > 0}


def _correctable(word: str) -> bool:
    return len(word) >= MIN_LETTERS and (word.islower() or (word[0].isupper() and word[1:].islower()))


def _edits(word: str) -> set[str]:
    """Every string one edit (delete, swap of adjacent letters, replace, insert) away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in string.ascii_lowercase}
        | {a + c + b for a, b in splits for c in string.ascii_lowercase}
    )


def _inflected(word: str, zipf: dict[str, float]) -> bool:
    """Whether `word` is a known word with a regular ending ("resizes", "sortable", "linter"): rare
    forms of common words are words, not typos."""
    for suffix in _SUFFIXES:
        stem = word.removesuffix(suffix)
        if (
            len(stem) >= MIN_LETTERS - 1
            and stem != word
            and max(zipf.get(stem, 0.0), zipf.get(stem + "e", 0.0)) >= KNOWN_ZIPF
        ):
            return True
    return False


def _best(word: str) -> str | None:
    """The correction of `word` (lower case), or None when it is a word or has no likely correction."""
    zipf = _zipf()
    own = zipf.get(word, 0.0)
    if own >= KNOWN_ZIPF or _inflected(word, zipf):
        return None
    floor = max(KNOWN_ZIPF, own + MIN_GAIN)
    options = [w for w in _edits(word) if zipf.get(w, 0.0) >= floor]
    if not options:
        return None
    return min(options, key=lambda w: (-zipf[w], w))  # ties broken by the word: same text, same result


def correct_spelling(text: str, known: frozenset[str] = frozenset()) -> tuple[str, list[Correction]]:
    """`text` with its misspelt words corrected, and what was changed (empty when nothing was)."""
    protected = [m.span() for m in _PROTECTED.finditer(text)]
    corrections: list[Correction] = []
    pieces, last = [], 0
    for m in _WORD.finditer(text):
        word = m.group()
        if len(corrections) >= MAX_CORRECTIONS:
            break
        if not _correctable(word) or any(a <= m.start() < b for a, b in protected):
            continue
        lower = word.lower()
        best = None if lower in known else _best(lower)
        if best is None:
            continue
        fixed = best.capitalize() if word[0].isupper() else best
        corrections.append(Correction(word, fixed, m.start()))
        pieces += [text[last : m.start()], fixed]
        last = m.end()
    if not corrections:
        return text, []
    return "".join(pieces) + text[last:], corrections


def preload() -> None:
    """Load the frequency list now (a server does, so that no request pays for it)."""
    _zipf()
