"""Learned titles: names for `SHORTCUT "…"` and `CASE "…"` composed from the program's own structure.

A title lexicon maps a *signature* — a run of the program's signature tokens (actions other than
comments, condition words, the handle an IF or FOREACH reads) — to the titles training used for it. It
is learned from the training programs alone:
  1. a name that is one piece titles the whole program; a CASE label titles its case body;
  2. in a name of several pieces (split at title punctuation: `,` `&` `(` `)` `:` `or` `and` `xN`),
     the pieces the lexicon already explains are removed; when exactly one piece and one uncovered run
     of signature tokens remain, that run gets that title (repeated twice, so new titles explain more).
A name *format* records how the matched titles (numbered in program order) and the REPEAT count are
joined (e.g. "{0}, {1} & {2}", "{1} ({0})", "{0} x{n}"), per top-level block structure and title count.

At fill time the program's signature tokens are covered greedily (longest known run first) and every
learned format for its structure is offered as a name candidate; the scorer decides whether to trust it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sashimi.dsl.ast import CONDITIONS

_CONDITIONS = frozenset(CONDITIONS)
_SPLIT = re.compile(r"\s*(?:,|&|\(|\)|:|\bor\b|\band\b)\s*|\s+x(?=\d+\b)")
_JOINERS = re.compile(r"\b(?:or|and|x)\b")  # words that join titles, not part of any
_BLOCKS = ("IF", "MENU", "REPEAT", "FOREACH")
_BLOCK_ENDS = ("ENDIF", "ENDMENU", "ENDREPEAT", "ENDFOREACH")
_STATEMENTS = frozenset(
    {"SHORTCUT", "ACTION", "SET", "IF", "ELSE", "MENU", "CASE", "REPEAT", "FOREACH", "#", "END"}
)
MAX_SIGNATURE = 8
MAX_FORMATS = 4


def name_pieces(name: str) -> list[str]:
    """The title pieces of a name ("Timer x3, Notes & Flashlight" -> ["Timer", "Notes", "Flashlight"])."""
    return [p.strip() for p in _SPLIT.split(name) if p and p.strip() and not p.strip().isdigit()]


def signature(tokens: Sequence[str], start: int = 0, end: int | None = None) -> list[tuple[int, str]]:
    """(position, token) of the signature tokens of `tokens[start:end]`. Inside a FOREACH body a token
    carries the prefix `each:` (what a loop does to each item is titled apart from the bare action)."""
    end = len(tokens) if end is None else end
    out: list[tuple[int, str]] = []
    stack: list[str] = []
    for pos in range(0, end):
        t = tokens[pos]
        if t in _BLOCKS:
            stack.append(t)
        elif t in _BLOCK_ENDS and stack:
            stack.pop()
        if pos < start:
            continue
        prefix = (
            "each:"
            if "FOREACH" in stack[:-1] or (stack and stack[-1] == "FOREACH" and t != "FOREACH")
            else ""
        )
        if t.startswith("A:"):
            if t != "A:comment":
                out.append((pos, prefix + t))
        elif t in _CONDITIONS:
            out.append((pos, prefix + t))
        elif t.startswith("@") and pos > 0 and tokens[pos - 1] in ("IF", "FOREACH"):
            # the handle a block reads belongs to the block's own line, not to an enclosing loop body
            outer = "each:" if "FOREACH" in stack[:-1] else ""
            out.append((pos, outer + tokens[pos - 1] + t))
    return out


def depths(tokens: Sequence[str]) -> list[int]:
    """Block depth of the statement each position belongs to (a block's header is at the outer depth)."""
    out, depth, current = [], 0, 0
    for t in tokens:
        if t in _BLOCK_ENDS:
            depth = max(depth - 1, 0)
        if t in _STATEMENTS or t in _BLOCK_ENDS:
            current = depth
        out.append(current)
        if t in _BLOCKS:
            depth += 1
    return out


def structure_key(tokens: Sequence[str]) -> str:
    """The top-level block keywords in order ("IF", "MENU", "" for straight-line programs)."""
    depth, keys = 0, []
    for t in tokens:
        if t in _BLOCKS:
            if depth == 0:
                keys.append(t)
            depth += 1
        elif t in ("ENDIF", "ENDMENU", "ENDREPEAT", "ENDFOREACH"):
            depth -= 1
    return " ".join(keys)


def case_bodies(tokens: Sequence[str]) -> list[tuple[int, int, int]]:
    """(position of the CASE token, body start, body end) for every CASE, at any depth."""
    out: list[tuple[int, int, int]] = []
    stack: list[list[int]] = []  # per open MENU: positions of its CASE tokens
    for pos, t in enumerate(tokens):
        if t == "MENU":
            stack.append([])
        elif t == "CASE" and stack:
            stack[-1].append(pos)
        elif t == "ENDMENU" and stack:
            cases = stack.pop()
            for i, c in enumerate(cases):
                end = cases[i + 1] if i + 1 < len(cases) else pos
                out.append((c, c + 2, end))
    return sorted(out)


@dataclass(frozen=True)
class Match:
    start: int  # index into the signature list
    end: int
    title: str  # the most frequent title of the signature
    count: int  # how often training used this title for this signature
    options: tuple[tuple[str, int], ...] = ()  # every title training used for the signature


def pick(match: Match, words: frozenset[str] | None) -> str:
    """The title of a match, preferring one whose words the request uses ("log my weight")."""
    if not words or len(match.options) < 2:
        return match.title

    def score(option: tuple[str, int]) -> tuple[float, int]:
        tw = re.findall(r"[a-z0-9]+", option[0].lower())
        return (sum(w in words for w in tw) / len(tw) if tw else 0.0, option[1])

    return max(match.options, key=score)[0]


class TitleModel:
    def __init__(self, lexicon: dict[tuple[str, ...], Counter], formats: dict[str, Counter]):
        self.lexicon = lexicon
        self.formats = formats

    # ------------------------------------------------------------------ learning

    @classmethod
    def fit(cls, programs: Sequence[tuple[Sequence[str], str, dict[int, str], int | None]]) -> TitleModel:
        """`programs`: (token texts, name, {CASE position: label}, REPEAT count or None)."""
        lexicon: dict[tuple[str, ...], Counter] = defaultdict(Counter)
        for tokens, name, labels, _n in programs:
            sig = tuple(t for _, t in signature(tokens))
            pieces = name_pieces(name)
            if len(pieces) == 1 and 0 < len(sig) <= MAX_SIGNATURE:
                lexicon[sig][pieces[0]] += 1
            for case_pos, start, end in case_bodies(tokens):
                body = tuple(t for _, t in signature(tokens, start, end))
                if case_pos in labels and 0 < len(body) <= MAX_SIGNATURE:
                    lexicon[body][labels[case_pos]] += 1
        model = cls(lexicon, {})
        for _round in range(2):
            learned: dict[tuple[str, ...], Counter] = defaultdict(Counter)
            for tokens, name, _labels, _n in programs:
                pieces = name_pieces(name)
                if len(pieces) < 2:
                    continue
                sig_pos = signature(tokens)
                sig = [t for _, t in sig_pos]
                matches = model.match(sig)
                titles = {m.title for m in matches}
                rest = [p for p in pieces if p not in titles]
                runs = _uncovered(sig, matches, _depth_of(tokens, sig_pos))
                runs = [r for r in runs if len(r) <= MAX_SIGNATURE]
                if len(rest) == 1 and len(runs) == 1:
                    learned[runs[0]][rest[0]] += 2
                elif len(rest) == 2 and len(runs) == 2:  # both orders; recurring pairings win by count
                    for a, b in ((0, 1), (1, 0)):
                        learned[runs[a]][rest[0]] += 1
                        learned[runs[b]][rest[1]] += 1
            for sig, counts in learned.items():
                lexicon[sig].update(counts)
        formats: dict[str, Counter] = defaultdict(Counter)
        for tokens, name, labels, n in programs:
            skey = structure_key(tokens)
            matches = model.match([t for _, t in signature(tokens)])
            titles = [m.title for m in matches]
            ordered_labels = [labels[p] for p, _, _ in case_bodies(tokens) if p in labels]
            dpat = _depth_pattern(tokens, matches)
            for family, names in (("t", titles), ("l", ordered_labels)):
                fmt = _format(name, names, n) if names else None
                if fmt is not None:
                    if family == "t":
                        formats[f"t|{skey}|{dpat}"][fmt] += 1
                    formats[f"{family}|{skey}|{len(names)}"][fmt] += 1
                    formats[f"{family}|*|{len(names)}"][fmt] += 1
        model.formats = dict(formats)
        return model

    # ------------------------------------------------------------------ use

    def best(self, sig: tuple[str, ...]) -> tuple[str, int] | None:
        counts = self.lexicon.get(sig)
        if not counts:
            return None
        title, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return title, n

    def match(self, sig: Sequence[str]) -> list[Match]:
        """Greedy left-to-right cover of `sig` by the longest known signature at each position."""
        out: list[Match] = []
        i = 0
        while i < len(sig):
            for length in range(min(MAX_SIGNATURE, len(sig) - i), 0, -1):
                key = tuple(sig[i : i + length])
                found = self.best(key)
                if found:
                    options = tuple(sorted(self.lexicon[key].items(), key=lambda kv: (-kv[1], kv[0]))[:20])
                    out.append(Match(i, i + length, found[0], found[1], options))
                    i += length
                    break
            else:
                i += 1
        return out

    def name_candidates(
        self,
        tokens: Sequence[str],
        repeat: int | None,
        words: frozenset[str] | None = None,
        labels: Sequence[str] = (),
    ) -> list[tuple[str, dict[str, float]]]:
        """Names composed by the learned formats from the program's matched titles and, for a MENU,
        from its (already filled) case labels."""
        out: list[tuple[str, dict[str, float]]] = []
        seen: set[str] = set()
        skey = structure_key(tokens)
        sig = [t for _, t in signature(tokens)]
        matches = self.match(sig)
        families = []
        if matches:
            covered = sum(m.end - m.start for m in matches) / max(len(sig), 1)
            titles = [pick(m, words) for m in matches]
            families.append(("t", titles, covered))
        if labels:
            families.append(("l", list(labels), 1.0))
        dpat = _depth_pattern(tokens, matches)
        for family, titles, covered in families:
            keys = [("s", f"{family}|{skey}|{len(titles)}"), ("any", f"{family}|*|{len(titles)}")]
            if family == "t":
                keys.insert(0, ("d", f"t|{skey}|{dpat}"))
            for level, key in keys:
                counts = self.formats.get(key)
                if not counts:
                    continue
                total = sum(counts.values())
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_FORMATS]
                for rank, (fmt, n) in enumerate(ranked):
                    text = _apply(fmt, titles, repeat)
                    if text is None or text in seen:
                        continue
                    seen.add(text)
                    feats = {
                        f"tfmt_{family}{level}": 1.0,
                        f"tfmt_{family}{level}_share": n / total,
                        f"tfmt_{family}{level}_rank{min(rank, 2)}": 1.0,
                        "tfmt_covered": covered,
                    }
                    if covered == 1.0:
                        feats["tfmt_full"] = 1.0
                    out.append((text, feats))
        return out

    def case_candidates(
        self, tokens: Sequence[str], case_pos: int, words: frozenset[str] | None = None
    ) -> list[tuple[str, dict[str, float]]]:
        for pos, start, end in case_bodies(tokens):
            if pos != case_pos:
                continue
            body = [t for _, t in signature(tokens, start, end)]
            matches = self.match(body)
            if not matches:
                return []
            exact = len(matches) == 1 and matches[0].start == 0 and matches[0].end == len(body)
            out = [(pick(matches[0], words), {"tcase_exact" if exact else "tcase_first": 1.0})]
            if matches[0].title != out[0][0]:
                out.append((matches[0].title, {"tcase_frequent": 1.0}))
            return out
        return []

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> dict:
        return {
            "lexicon": [
                [list(sig), sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
                for sig, c in sorted(self.lexicon.items())
            ],  # fmt: skip
            "formats": {
                k: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
                for k, c in sorted(self.formats.items())
            },
        }

    @classmethod
    def from_json(cls, obj: dict) -> TitleModel:
        lexicon = {
            tuple(map(str, sig)): Counter({str(t): int(n) for t, n in titles})
            for sig, titles in obj["lexicon"]
        }
        formats = {str(k): Counter({str(f): int(n) for f, n in v}) for k, v in obj["formats"].items()}
        return cls(lexicon, formats)


def _depth_pattern(tokens: Sequence[str], matches: list[Match]) -> str:
    """The block depth of each matched title, e.g. "0.0.1" (a title before an IF vs inside its body)."""
    d = _depth_of(tokens, signature(tokens))
    return ".".join(str(d[m.start]) if m.start < len(d) else "?" for m in matches)


def _depth_of(tokens: Sequence[str], sig_pos: list[tuple[int, str]]) -> list[int]:
    d = depths(tokens)
    return [d[pos] for pos, _ in sig_pos]


def _uncovered(
    sig: Sequence[str], matches: list[Match], depth: Sequence[int] | None = None
) -> list[tuple[str, ...]]:
    """Maximal runs of signature tokens no match covers (a run also ends where the block depth changes)."""
    covered = [False] * len(sig)
    for m in matches:
        for i in range(m.start, m.end):
            covered[i] = True
    runs, run = [], []
    for i, (token, c) in enumerate(zip(sig, covered, strict=True)):
        if run and (c or (depth is not None and depth[i] != depth[i - 1])):
            runs.append(tuple(run))
            run = []
        if not c:
            run.append(token)
    if run:
        runs.append(tuple(run))
    return runs


def _format(name: str, titles: list[str], repeat: int | None) -> str | None:
    """`name` with matched titles replaced by {0}, {1}, ... and the REPEAT count by {n}; None when some
    letters are left over (the name is not a composition of the matched titles). A title the name does
    not use is skipped (e.g. the titles of an IF's body in "Change Case & Network Check")."""
    if not titles:
        return None
    fmt = name.replace("{", "{{").replace("}", "}}")
    used = 0
    for i in sorted(range(len(titles)), key=lambda i: -len(titles[i])):
        title = titles[i].replace("{", "{{").replace("}", "}}")
        at = fmt.find(title)
        if at >= 0:
            fmt = fmt[:at] + "\x00" + str(i) + "\x01" + fmt[at + len(title) :]
            used += 1
    if not used:
        return None
    if repeat is not None:
        fmt = re.sub(rf"(?<![0-9]){repeat}(?![0-9])", "\x00n\x01", fmt, count=1)
    rest = re.sub("\x00[0-9n]+\x01", " ", fmt)
    if re.search(r"[A-Za-z0-9]", _JOINERS.sub(" ", rest)):
        return None
    return fmt.replace("\x00", "{").replace("\x01", "}")


def _apply(fmt: str, titles: list[str], repeat: int | None) -> str | None:
    try:
        return fmt.format(*titles, n=repeat if repeat is not None else 1)
    except (IndexError, KeyError, ValueError):
        return None


__all__ = ["TitleModel", "case_bodies", "name_pieces", "signature", "structure_key"]
