"""What the filler can copy from a request: words, spans, quoted text, numbers.

Everything here is bounded (a 100 k-character request is cut to its first `MAX_SPAN_CHARS` characters for
span search) and total (any string, however odd, yields a `PromptView`), so hostile input never crashes
and never makes the filler slow.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

MAX_SPAN_CHARS = 2000  # span / number search looks at this much of the request
MAX_LITERAL_CHARS = 20000  # the longest literal the filler ever writes (whole-prompt comments)
MAX_SPAN_WORDS = 6  # longest word span offered as a candidate (longer values come from quotes)

_WORD = re.compile(r"\S+")
_EDGE_PUNCT = "\"'“”‘’«»()[]<>.,;:!?*"
_QUOTES = (
    re.compile(r'"([^"\n]{1,300})"'),
    re.compile(r"“([^”\n]{1,300})”"),
    re.compile(r"‘([^’\n]{1,300})’"),
    re.compile(r"(?:^|(?<=[\s(]))'([^'\n]{1,300})'(?=$|[\s.,;:!?)])"),
)
_NUMBER = re.compile(r"(?<![\w.])([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(%?)")
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+\.(?:com|org|net|io|dev|app|co|edu|gov)(?:/\S*)?\Z", re.I)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}\Z")
_TIME = re.compile(r"\d{1,2}(?::\d{2})(?:\s?[AaPp][Mm])?\Z|\d{1,2}\s?[AaPp][Mm]\Z")
_WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip
STOPWORDS = frozenset(
    "a an the my me to of in on at for and or but with from into by is it this that be i you your "
    "please can could would will then and so if when as up".split()
)


def clean_text(text: str, *, limit: int = MAX_LITERAL_CHARS) -> str:
    """`text` without characters a literal cannot carry safely: lone surrogates (no UTF-8 form) and C0/C1
    controls other than LF and TAB (plists and terminals mangle them); cut to `limit` characters."""
    text = text[:limit]
    if text.isprintable():
        return text
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    text: str  # as written
    norm: str  # lower-cased, edge punctuation stripped


@dataclass(frozen=True)
class Span:
    value: str  # text to copy (edge punctuation stripped)
    start: int  # character offsets in the prompt
    end: int
    first: int  # word indices [first, last]
    last: int
    quoted: bool = False  # exactly the contents of a quotation


@dataclass(frozen=True)
class NumberMention:
    value: int | float
    word: int  # index of the word holding it
    start: int
    percent: bool = False
    spelled: bool = False  # "ten" rather than "10"


class PromptView:
    """The request, cut into the pieces the candidate generators need (computed once per request)."""

    def __init__(self, prompt: str):
        self.prompt = clean_text(prompt if isinstance(prompt, str) else "")
        head = self.prompt[:MAX_SPAN_CHARS]
        self.words = [
            Word(m.start(), m.end(), m.group(), m.group().strip(_EDGE_PUNCT).lower())
            for m in _WORD.finditer(head)
        ]
        self.word_set = frozenset(w.norm for w in self.words if w.norm)
        self.quotes = self._quotes(head)
        self.spans = self._spans()
        self.numbers = self._numbers(head)
        self.number_keys = frozenset(json.dumps(n.value) for n in self.numbers)
        self.cache: dict[str, object] = {}  # per-request memo of the candidate generator

    def word_at(self, offset: int) -> int:
        """Index of the word containing or following character `offset` (len(words) if none)."""
        for i, w in enumerate(self.words):
            if w.end > offset:
                return i
        return len(self.words)

    def norm(self, i: int) -> str:
        return self.words[i].norm if 0 <= i < len(self.words) else ("<s>" if i < 0 else "</s>")

    def _quotes(self, head: str) -> list[Span]:
        out: list[Span] = []
        seen: set[tuple[int, int]] = set()
        for pattern in _QUOTES:
            for m in pattern.finditer(head):
                start, end = m.span(1)
                value = m.group(1).strip()
                if value and (start, end) not in seen:
                    seen.add((start, end))
                    first, last = self.word_at(start), self.word_at(max(start, end - 1))
                    out.append(Span(value, start, end, first, last, quoted=True))
        return sorted(out, key=lambda s: s.start)

    def _spans(self) -> list[Span]:
        out: list[Span] = []
        for i in range(len(self.words)):
            for j in range(i, min(len(self.words), i + MAX_SPAN_WORDS)):
                start, end = self.words[i].start, self.words[j].end
                raw = self.prompt[start:end]
                value = raw.strip(_EDGE_PUNCT)
                if not value:
                    continue
                # a span never crosses a sentence end or a quotation boundary inside it
                inner = raw[: len(raw.rstrip(_EDGE_PUNCT))]
                if j > i and any(ch in inner for ch in '"“”') and not raw.startswith(('"', "“")):
                    continue
                offset = raw.find(value)
                out.append(Span(value, start + offset, start + offset + len(value), i, j))
                if value.endswith("'s") and len(value) > 2:  # "Theo's" -> "Theo"
                    out.append(Span(value[:-2], start + offset, start + offset + len(value) - 2, i, j))
        return out

    def _numbers(self, head: str) -> list[NumberMention]:
        out: list[NumberMention] = []
        for m in _NUMBER.finditer(head):
            raw = m.group(1).replace(",", "")
            try:
                value: int | float = float(raw) if "." in raw else int(raw)
            except ValueError:
                continue
            if isinstance(value, int) and abs(value) > 10**15:
                continue
            out.append(NumberMention(value, self.word_at(m.start()), m.start(), percent=bool(m.group(2))))
        for i, w in enumerate(self.words):
            n = _WORD_NUMBERS.get(w.norm)
            if n is not None:
                out.append(NumberMention(n, i, w.start, spelled=True))
        return sorted(out, key=lambda n: n.start)


def shape(value: str) -> list[str]:
    """Coarse shape features of a copied string."""
    feats = []
    if _URL.match(value):
        feats.append("url")
    if _EMAIL.match(value):
        feats.append("email")
    if _TIME.match(value):
        feats.append("time")
    if any(map(str.isdigit, value)):
        feats.append("digit")
    words = value.split()
    if words and all(w[:1].isupper() for w in words):
        feats.append("allcap")
    elif value[:1].isupper():
        feats.append("cap")
    if words and words[0].lower() in STOPWORDS:
        feats.append("stop_first")
    if words and words[-1].lower() in STOPWORDS:
        feats.append("stop_last")
    return feats


def content_words(text: str) -> list[str]:
    """Lower-cased alphanumeric words of at least two characters (for prompt-overlap features)."""
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 2]


__all__ = [
    "MAX_LITERAL_CHARS",
    "NumberMention",
    "PromptView",
    "Span",
    "Word",
    "clean_text",
    "content_words",
    "shape",
]
