"""Text-level linter: repairs raw (model) text before parsing (shortcutdsl.md §5).

The linter never sees the IR. It works on the text in the phases of §5.2, in order:

1. markdown fence / preamble / epilogue stripping;
2. string repair: only strings that are actually unterminated are touched (our rule, §5.3);
3. line repairs: folding of line breaks inside `{}`/`[]` and of wrapped `Param=value` lines,
   incomplete `ACTION`, lower-case keywords, stray prose, ACTION-as-keyword, action names (alias
   table of `repair_tables`, catalog spelling, fuzzy via `catalog.suggest` with namespace scoping and
   the dotted-suffix check), conditions (synonym table, then fuzzy), property access;
4. structure: text after `ENDSHORTCUT` or a second header, truncated last line, orphan `ELSE`/`CASE`,
   stray and mismatched closers, unclosed blocks (innermost first);
5. trailing newline.

`lint` runs these passes to a fixpoint (one repair can expose another), so it is idempotent.

Phase 0 (macro expansion) is skipped: the reference's macro templates are not in the shared data and
macros never occur in it.

Everything is string-aware: a small scanner splits the text into code, quoted strings, backtick
strings and `#` comment lines, and line repairs run on a *masked* copy of each line in which every
string is replaced by an opaque sentinel, so nothing inside a string can ever be edited (the
reference turned `$0.99` in a comment into `$0`).

Deviations from the reference (all so that canonical programs stay byte-identical and
`parse(lint(t)) == parse(t)` holds on the whole corpus):
- `ENDSHORTCUT` is never appended (the reference appends it to every program); only text after an
  existing one is dropped.
- Well-formed multi-line backtick strings are left alone (the reference rewrote their newlines).
- `is_after` is not mapped onto `is_before` (it means the opposite).
- Fuzzy action-name repair needs similarity >= 0.8, not 0.65: at 0.65 it rewrote 38 of 299 real
  Apple actions missing from the core catalog into different actions (see FUZZY_ACTION_CUTOFF).
- A fully qualified identifier (two or more dots) is never repaired at all (issue 11.1): it is the
  user's explicit choice, and the compiler passes it through (§3.2 rule 4).
- A paramless unknown `ACTION` on the last line is dropped only when the raw text stops on that
  line (evidence of truncation; so lint wants the raw text, without an appended newline); the
  reference drops any such line, which would delete a model's (wrong but complete) final action.
- `ACTION repeat.each` without `WFInput` becomes `FOREACH @prev` (Apple's implicit input), or
  `FOREACH @input` when no action precedes; the reference always uses `@input`.

Invariants (tested): lint never raises on any `str`; on text that already parses in canonical form
it changes nothing; it is idempotent (`lint(lint(x).text).text == lint(x).text`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sashimi.dsl.ast import BLOCK_CLOSERS, CANONICAL, DIALECT_CONDITIONS, KEYWORDS, condition_to_dialect
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.repair_tables import (
    CONDITION_SYNONYMS,
    HALLUCINATION_ALIASES,
    NO_FUZZY_CONDITIONS,
    NUMERIC_EQUALITY_SYNONYMS,
    RISKY_ALIASES,
    normalise_alias_key,
)

LINT_KINDS = (
    "macro_expansion",
    "structure",
    "interpolation",
    "action",
    "alias_warning",
    "condition",
    "handle",
    "trailing_newline",
)


@dataclass(frozen=True)
class LintChange:
    """One repair. `line` is 1-based: the line of the raw text for phases 1-3; phase-4 repairs
    (after lines were removed or joined) and later passes count in the text as it stood then."""

    line: int
    kind: str  # one of LINT_KINDS
    original: str
    replacement: str
    confidence: float
    reason: str


@dataclass(frozen=True)
class LintResult:
    text: str
    changes: tuple[LintChange, ...]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


# ----------------------------------------------------------------------------- scanner

_KEYWORD_SET = frozenset(KEYWORDS)
OPENERS = BLOCK_CLOSERS
CLOSERS = {v: k for k, v in OPENERS.items()}

# A line inside a broken string that starts with one of these is taken to be the next statement.
_KEYWORD_LINE = re.compile(r"[ \t]*(?:" + "|".join(KEYWORDS) + r")(?=[ \t\r\n]|$)")

# Segment kinds. "fence" is a ``` line at statement start (markdown), "comment" a `#` line.
CODE, STRING, BACKTICK, COMMENT, FENCE = "code", "string", "backtick", "comment", "fence"


@dataclass(frozen=True)
class _Segment:
    kind: str
    start: int
    end: int
    closed: bool = True  # False: a string that runs to the end of the text


def _string_end(text: str, i: int) -> int | None:
    """Index just after the closing quote of the string opening at `i`, or None if unterminated."""
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
        elif c == '"':
            return j + 1
        else:
            j += 1
    return None


def _scan(text: str) -> list[_Segment]:
    """Split `text` into code / string / backtick / comment / fence segments (covering all of it)."""
    segs: list[_Segment] = []
    n = len(text)
    i = 0
    code_start = 0
    at_stmt_start = True

    def flush_code(upto: int) -> None:
        if upto > code_start:
            segs.append(_Segment(CODE, code_start, upto))

    while i < n:
        c = text[i]
        if c == "\n":
            at_stmt_start = True
            i += 1
            continue
        if at_stmt_start and c in " \t\r":
            i += 1
            continue
        if at_stmt_start and (c == "#" or text.startswith("```", i)):
            flush_code(i)
            end = text.find("\n", i)
            end = n if end < 0 else end
            segs.append(_Segment(COMMENT if c == "#" else FENCE, i, end))
            i = code_start = end
            continue
        at_stmt_start = False
        if c == '"':
            end = _string_end(text, i)
        elif c == "`":
            found = text.find("`", i + 1)
            end = None if found < 0 else found + 1
        else:
            i += 1
            continue
        flush_code(i)
        kind = STRING if c == '"' else BACKTICK
        if end is None:
            segs.append(_Segment(kind, i, n, closed=False))
            return segs
        segs.append(_Segment(kind, i, end))
        i = code_start = end
    flush_code(n)
    return segs


def _logical_lines(text: str) -> list[str]:
    """Split at line breaks that are outside strings (a multi-line string stays in its statement)."""
    lines: list[str] = []
    start = 0
    for seg in _scan(text):
        if seg.kind != CODE:
            continue
        pos = text.find("\n", seg.start, seg.end)
        while pos >= 0:
            lines.append(text[start:pos])
            start = pos + 1
            pos = text.find("\n", start, seg.end)
    lines.append(text[start:])
    return lines


_NONCHARS = [chr(c) for c in range(0xFDD0, 0xFDF0)]


class _Masker:
    """Replaces every string, backtick string and comment in a line by `<open><n><close>`."""

    def __init__(self, text: str):
        free = [c for c in _NONCHARS if c not in text]
        self.ok = len(free) >= 2
        self.open, self.close = (free[0], free[1]) if self.ok else ("", "")
        self.token = re.compile(re.escape(self.open) + r"(\d+)" + re.escape(self.close))

    def mask(self, line: str) -> tuple[str, list[str]]:
        out: list[str] = []
        protected: list[str] = []
        for seg in _scan(line):
            piece = line[seg.start : seg.end]
            if seg.kind == CODE:
                out.append(piece)
            else:
                out.append(f"{self.open}{len(protected)}{self.close}")
                protected.append(piece)
        return "".join(out), protected

    def unmask(self, masked: str, protected: list[str]) -> str:
        return self.token.sub(lambda m: protected[int(m.group(1))], masked)


# ----------------------------------------------------------------------------- the linter


class _Linter:
    def __init__(self, text: str, catalog: Catalog | None, dialect: str = CANONICAL):
        self.text = text
        self.catalog = catalog
        self.dialect = dialect
        self.condition_words = DIALECT_CONDITIONS[dialect]  # the words the text may use
        self.changes: list[LintChange] = []
        self.masker = _Masker(text)
        self.has_header = False
        self.line_offset = 0
        # the raw text stops mid-line: its last line may be cut off (see _drop_truncated_tail)
        self.ends_unterminated = text.rsplit("\n", 1)[-1].strip() != ""
        self._name_cache: dict[tuple[str, float], tuple[str, str, float, str] | None] = {}

    def log(self, line: int, kind: str, original: str, replacement: str, conf: float, why: str):
        # `line_offset` maps lines of the text after preamble removal back to the raw text
        line += self.line_offset
        self.changes.append(LintChange(line, kind, original, replacement, conf, why))

    # ------------------------------------------------------------------ phase 1: fences, preamble

    def strip_wrapping(self) -> None:
        text = self.text
        header = re.search(r'(?m)^[ \t]*SHORTCUT[ \t]*"', text) or re.search(r'SHORTCUT[ \t]*"', text)
        if header is None:
            return
        prefix = text[: header.start()]
        # Leading spaces on the header line are fine; anything else before it is not program text.
        self.has_header = True
        if prefix.strip(" \t") != "":
            fence_only = re.fullmatch(r"\s*```[^\n]*\n\s*", prefix) is not None
            self.log(
                1,
                "structure",
                prefix,
                "",
                1.0 if fence_only else 0.9,
                "markdown fence removed" if fence_only else "text before SHORTCUT removed",
            )
            text = text[header.start() :].lstrip(" \t")
            self.line_offset = prefix.count("\n")
        for seg in _scan(text):
            if seg.kind == FENCE:
                tail = text[seg.start :]
                only_fence = tail.strip().strip("`").strip() == ""
                self.log(
                    text.count("\n", 0, seg.start) + 1,
                    "structure",
                    tail,
                    "",
                    1.0 if only_fence else 0.9,
                    "closing markdown fence removed"
                    if only_fence
                    else "closing fence and text after it removed",
                )
                text = text[: seg.start]
                self.ends_unterminated = False  # a closing fence: the program was complete
                break
        self.text = text

    # ------------------------------------------------------------------ phase 2: strings

    def repair_strings(self) -> None:
        """Close strings that run to the end of the text. Well-formed strings are never touched."""
        segs = _scan(self.text)
        if all(s.closed for s in segs):
            return
        text = self.text
        out: list[str] = []
        i, n = 0, len(text)
        at_stmt_start = True
        while i < n:
            c = text[i]
            if c == "\n":
                at_stmt_start = True
                out.append(c)
                i += 1
                continue
            if at_stmt_start and c in " \t\r":
                out.append(c)
                i += 1
                continue
            if at_stmt_start and (c == "#" or text.startswith("```", i)):
                end = text.find("\n", i)
                end = n if end < 0 else end
                out.append(text[i:end])
                i = end
                continue
            at_stmt_start = False
            if c not in '"`':
                out.append(c)
                i += 1
                continue
            piece, i = self._heal_string(text, i)
            out.append(piece)
        self.text = "".join(out)

    def _heal_string(self, text: str, i: int) -> tuple[str, int]:
        """Read the string opening at `i`; close it before a line that starts a statement, or at the
        end of the text. Returns (string text, index after it)."""
        quote = text[i]
        kind = "interpolation" if quote == "`" else "structure"
        j, n = i + 1, len(text)
        line = text.count("\n", 0, i) + 1
        while j < n:
            c = text[j]
            if quote == '"' and c == "\\":
                j += 2
                continue
            if c == quote:
                return text[i : j + 1], j + 1
            if c == "\n" and _KEYWORD_LINE.match(text, j + 1):
                cut = j - 1 if j > i + 1 and text[j - 1] == "\r" else j
                body = self._closable(text[i + 1 : cut], quote)
                self.log(
                    line,
                    kind,
                    text[i:cut],
                    quote + body + quote,
                    0.85,
                    "unterminated "
                    f"{'backtick' if quote == '`' else 'quoted'} string closed before the next statement",
                )
                return quote + body + quote, cut
            j += 1
        raw = text[i + 1 : n]
        stripped = raw.rstrip("\r\n")
        body = self._closable(stripped, quote)
        self.log(
            line,
            kind,
            text[i:n],
            quote + body + quote + raw[len(stripped) :],
            0.8,
            f"unterminated {'backtick' if quote == '`' else 'quoted'} string closed at end of text",
        )
        return quote + body + quote + raw[len(stripped) :], n

    @staticmethod
    def _closable(body: str, quote: str) -> str:
        """Make a string body safe to close: drop a dangling placeholder or escape backslash."""
        if quote == "`":
            brace = body.rfind("{")
            if brace >= 0 and "}" not in body[brace:]:
                body = body[:brace]
            return body
        trailing = len(body) - len(body.rstrip("\\"))
        return body[:-1] if trailing % 2 else body

    # ------------------------------------------------------------------ phase 3: line repairs

    def fold_lines(self, lines: list[str]) -> list[str]:
        """Join continuation lines to the statement they belong to: a line inside an open dict/list
        literal (§1.8.1: line breaks inside `{}` / `[]` are an error; the linter folds them), and a
        wrapped `Param=value` line after an ACTION line."""
        out: list[str] = []
        depth = 0
        lineno = 1
        for line in lines:
            # a line that starts a statement is never a continuation, nor is a `#` line (it only
            # means a comment at statement start)
            continuation = (
                bool(out)
                and bool(line.strip())
                and not _KEYWORD_LINE.match(line)
                and not line.lstrip().startswith(("#", "```"))
            )
            wrapped = (
                continuation
                and re.match(r"[ \t]*(?i:action)[ \t]", out[-1]) is not None
                and re.match(r"[ \t]*[A-Za-z_]\w*[ \t]*=", line) is not None
            )
            if continuation and (depth > 0 or wrapped):
                why = (
                    "line break inside a dict/list literal folded"
                    if depth > 0
                    else "wrapped parameter joined to its ACTION line"
                )
                self.log(lineno, "structure", line, "", 0.8 if depth > 0 else 0.7, why)
                out[-1] = out[-1].rstrip() + " " + line.strip()
            else:
                out.append(line)
            lineno += line.count("\n") + 1
            masked, _ = self.masker.mask(out[-1])
            depth = masked.count("{") + masked.count("[") - masked.count("}") - masked.count("]")
        return out

    def line_number(self, lines: list[str], k: int) -> int:
        return 1 + sum(line.count("\n") + 1 for line in lines[:k])

    def repair_lines(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        lineno = 1
        for k, line in enumerate(lines):
            if k:
                lineno += lines[k - 1].count("\n") + 1
            masked, prot = self.masker.mask(line)
            stripped = masked.strip()
            if not stripped or (
                prot
                and stripped == f"{self.masker.open}0{self.masker.close}"
                and prot[0].lstrip().startswith("#")
            ):
                out.append(line)
                continue
            first = re.match(r"[ \t]*([A-Za-z_]\w*)", masked)
            word = first.group(1) if first else ""
            if word not in _KEYWORD_SET:
                fixed = self._fix_keyword_case(masked, word)
                if fixed is not None:
                    self.log(lineno, "structure", word, word.upper(), 0.85, "keyword written in lower case")
                    masked = fixed
                    word = word.upper()
            if word not in _KEYWORD_SET:
                self.log(lineno, "structure", line, "", 0.6, "line is not a statement")
                continue
            if word == "ACTION":
                new = self._repair_action(masked, prot, lines, k, lineno, out)
                if new is None:
                    continue
                masked = new
            elif word == "IF":
                masked = self._repair_condition(masked, prot, lineno)
            masked = self._repair_property_access(masked, prot, lineno)
            out.append(self.masker.unmask(masked, prot))
        return out

    @staticmethod
    def _fix_keyword_case(masked: str, word: str) -> str | None:
        """`endif` -> `ENDIF` etc., but only where the rest of the line has the statement's shape, so
        that prose such as "If you want ..." is not turned into an IF."""
        up = word.upper()
        if up not in _KEYWORD_SET or up == "SHORTCUT":
            return None
        # Capitalised words start prose sentences ("If you ..."); only lone closers may be capitalised.
        if word != word.lower() and not (word == word.capitalize() and (up in CLOSERS or up == "ELSE")):
            return None
        rest = masked.split(word, 1)[1]
        shapes = {
            "ACTION": r"[ \t]+[A-Za-z_][\w.\-]*.*",
            "SET": r"[ \t]*\$\w+[ \t]*=.*",
            "IF": r"[ \t]*[$@]\w+[ \t]+\w.*",
            "FOREACH": r"[ \t]*[$@]\w+[ \t\r]*",
            "REPEAT": r"[ \t]*([$@]\w+|\d+)[ \t\r]*",
            "MENU": r"[ \t]*\S.*",
            "CASE": r"[ \t]*\S.*",
        }
        pattern = shapes.get(up, r"[ \t\r]*")
        if not re.fullmatch(pattern, rest, re.S):
            return None
        return masked.replace(word, up, 1)

    # -- actions

    def _known(self, name: str) -> str | None:
        """Identifier of `name` if it names a catalog action (not a mere pass-through), else None."""
        if self.catalog is None:
            return None
        try:
            ident = self.catalog.resolve(name)
            return ident if ident is not None and self.catalog.get(ident) is not None else None
        except Exception:  # a catalog must not make lint raise on odd input
            return None

    def _dsl_name(self, ident: str) -> str:
        return self.catalog.canonical_name(ident)

    def _repair_action(self, masked, prot, lines, k, lineno, out) -> str | None:
        m = re.match(r"([ \t]*ACTION)([ \t]+)([A-Za-z_][\w.\-]*)?(.*)", masked, re.S)
        if m is None or m.group(3) is None:
            if masked.strip() == "ACTION":
                self.log(lineno, "structure", "ACTION", "", 0.9, "incomplete ACTION line removed")
                return None
            return masked
        head, gap, name, rest = m.groups()
        keyword = self._action_as_keyword(name, rest, prot, lines, k, out)
        if keyword is not None:
            self.log(
                lineno,
                "structure",
                self.masker.unmask(masked, prot).strip(),
                self.masker.unmask(keyword, prot),
                0.9,
                "action used for a block keyword",
            )
            return keyword
        if name == "comment" or self._known(name) is not None or self.catalog is None:
            return masked
        if is_fully_qualified(name):
            # A reverse-DNS identifier (two or more dots) is the user's explicit choice: a vendor
            # intent the catalog lacks is not a typo of a catalogued one (issue 11.1: the fuzzy
            # repair turned `…ScanDocumentIntent` into `…SwitchCaseIntent`). Never rewrite it.
            return masked
        fixed = self._repair_action_name(name, FUZZY_ACTION_CUTOFF)
        if fixed is None:
            return masked
        new, kind, conf, why = fixed
        self.log(lineno, kind, name, new, conf, why)
        repaired = head + gap + new + rest
        # the repaired name may itself be a block action (`repeat.each`): convert it now, so that
        # a second lint pass finds nothing left to do
        keyword = self._action_as_keyword(new, rest, prot, lines, k, out)
        if keyword is not None:
            self.log(
                lineno,
                "structure",
                self.masker.unmask(repaired, prot).strip(),
                self.masker.unmask(keyword, prot),
                0.9,
                "action used for a block keyword",
            )
            return keyword
        return repaired

    def _action_as_keyword(self, name, rest, prot, lines, k, out) -> str | None:
        low = name.lower()
        params = dict(re.findall(r"(\w+)[ \t]*=[ \t]*(\S+)", rest))
        if low in ("menu", "choosefrommenu"):
            # MENU needs CASEs: only convert when the next statement is one.
            for later in lines[k + 1 :]:
                lm, _ = self.masker.mask(later)
                if lm.strip():
                    if not re.match(r"[ \t]*CASE\b", lm):
                        return None
                    break
            else:
                return None
            prompt = params.get("WFMenuPrompt", "")
            if not self.masker.token.fullmatch(prompt):
                prompt = '"Choose"'
            return f"MENU {prompt}"
        if low in ("repeat", "repeat.count", "repeat_count"):
            count = params.get("WFRepeatCount", "1")
            if not re.fullmatch(r"[$@]\w+|\d+", count):
                count = "1"
            return f"REPEAT {count}"
        if low in ("foreach", "repeat_with_each", "repeat.each", "repeat_each", "for_each"):
            coll = params.get("WFInput", "")
            if not re.fullmatch(r"[$@]\w+", coll):
                # Apple's Repeat with Each takes the previous output; at the very start, the input.
                has_action = any(re.match(r"[ \t]*ACTION[ \t]", o) for o in out)
                coll = "@prev" if has_action else "@input"
            return f"FOREACH {coll}"
        return None

    def _repair_action_name(self, name: str, cutoff: float) -> tuple[str, str, float, str] | None:
        key = (name, cutoff)  # model output repeats its mistakes; fuzzy matching is the slow part
        if key not in self._name_cache:
            self._name_cache[key] = self._lookup_action_name(name, cutoff)
        return self._name_cache[key]

    def _lookup_action_name(self, name: str, cutoff: float) -> tuple[str, str, float, str] | None:
        key = normalise_alias_key(name)
        keys = [key, key.removeprefix("is.workflow.actions."), key.replace("_", "")]
        for table, kind, conf, why in (
            (HALLUCINATION_ALIASES, "action", 0.95, "hallucinated action name (alias table)"),
            (RISKY_ALIASES, "alias_warning", 0.7, "risky alias: the target may mean something else"),
        ):
            for cand in keys:
                target = table.get(cand)
                ident = self._known(target) if target else None
                if ident is not None:
                    return self._dsl_name(ident), kind, conf, why
        for cand in keys[1:] + [name.lower()]:
            ident = self._known(cand)
            if ident is not None:
                return self._dsl_name(ident), "action", 0.95, "action name spelling normalised"
        return self._fuzzy_action(name, cutoff)

    def _fuzzy_action(self, name: str, cutoff: float) -> tuple[str, str, float, str] | None:
        try:
            suggestions = list(self.catalog.suggest(name, cutoff, 10))
        except Exception:
            return None
        dots = name.count(".")
        prefix = name.rsplit(".", 1)[0] + "." if dots > 2 else None

        def tier(cand: str) -> int:
            if prefix is not None and cand.startswith(prefix):
                return 0
            return 1 if (cand.count(".") > 2) == (dots > 2) else 2

        ranked = sorted(
            ((tier(c), -score, c, score) for c, score in suggestions if score >= cutoff),
        )
        for _, _, cand, score in ranked:
            if _suffix_similarity(name, cand) < 0.55:
                continue
            ident = self._known(cand)
            if ident is None:
                continue
            new = self._dsl_name(ident)
            if new == name:
                continue
            return new, "action", round(float(score), 3), f"unknown action; closest catalog match {cand!r}"
        return None

    # -- conditions

    def _repair_condition(self, masked: str, prot: list[str], lineno: int) -> str:
        m = re.match(r"([ \t]*IF[ \t]+[$@][^\W\d]\w*(?:\.\w+)*[ \t]+)(.*)", masked, re.S)
        if m is None:
            return masked
        head, rest = m.groups()
        words_ok = self.condition_words
        word = re.match(r"[A-Za-z_]\w*", rest)
        if word and word.group(0) in words_ok:
            return masked
        words = list(re.finditer(r"[ \t]*([A-Za-z_]\w*|[=!<>]+)", rest))
        # only the leading run of words can be the condition
        run = []
        pos = 0
        for w in words:
            if w.start() != pos:
                break
            run.append(w)
            pos = w.end()
        if not run:
            return masked
        for n in range(min(4, len(run)), 0, -1):
            span_end = run[n - 1].end()
            key = normalise_alias_key("_".join(w.group(1) for w in run[:n]))
            cond = key if key in words_ok else self._in_dialect(CONDITION_SYNONYMS.get(key))
            if cond is None:
                continue
            after = rest[span_end:]
            if key in NUMERIC_EQUALITY_SYNONYMS and re.match(r"[ \t]*[+-]?(\d|\.\d)", after):
                cond = self._in_dialect("equals_number") or cond
            original = rest[:span_end].strip()
            self.log(lineno, "condition", original, cond, 0.95, "condition synonym")
            return head + cond + after
        first = normalise_alias_key(run[0].group(1))
        if first in NO_FUZZY_CONDITIONS:
            return masked
        vocab = list(words_ok) + [k for k, v in CONDITION_SYNONYMS.items() if self._in_dialect(v)]
        close = difflib.get_close_matches(first, vocab, n=1, cutoff=0.6)
        if not close:
            return masked
        target = close[0] if close[0] in words_ok else self._in_dialect(CONDITION_SYNONYMS[close[0]])
        score = difflib.SequenceMatcher(None, first, close[0]).ratio()
        self.log(lineno, "condition", run[0].group(1), target, round(score, 3), "closest condition word")
        return head + target + rest[run[0].end() :]

    def _in_dialect(self, canonical: str | None) -> str | None:
        """How the text's dialect writes a canonical condition (None: it cannot)."""
        return condition_to_dialect(canonical, self.dialect) if canonical is not None else None

    # -- property access

    def _repair_property_access(self, masked: str, prot: list[str], lineno: int) -> str:
        def strip(m: re.Match) -> str:
            self.log(lineno, "handle", m.group(0), m.group(1), 0.85, "property access is not DSL syntax")
            return m.group(1)

        masked = _PROPERTY.sub(strip, masked)
        for i, piece in enumerate(prot):
            if piece.startswith("`"):
                prot[i] = _PLACEHOLDER_PROPERTY.sub(lambda m: self._placeholder_fix(m, lineno), piece)
        return masked

    def _placeholder_fix(self, m: re.Match, lineno: int) -> str:
        self.log(
            lineno, "handle", m.group(0), "{" + m.group(1) + "}", 0.85, "property access inside a placeholder"
        )
        return "{" + m.group(1) + "}"

    # ------------------------------------------------------------------ phase 4: structure

    def repair_structure(self, lines: list[str]) -> list[str]:
        lines = self._cut_after_end(lines)
        lines = self._drop_truncated_tail(lines)
        lines, stack = self._balance_blocks(lines)
        trimmed = self._drop_truncated_tail(lines)
        if trimmed != lines:  # removing an orphan may expose a cut-off last line: rebalance
            lines, stack = self._balance_blocks(trimmed)
        # append missing closers (innermost first) after the last statement, before ENDSHORTCUT
        if stack:
            idx = len(lines)
            while idx > 0 and not lines[idx - 1].strip():
                idx -= 1
            if idx > 0 and self._first_word(lines[idx - 1]) == "ENDSHORTCUT":
                idx -= 1
            closers = [OPENERS[kind] for kind, _ in reversed(stack)]
            lineno = self.line_number(lines, idx)
            for closer in closers:
                self.log(lineno, "structure", "", closer, 0.8, f"unclosed block: {closer} appended")
            lines = lines[:idx] + closers + lines[idx:]
        return lines

    def _first_word(self, line: str) -> str:
        masked, _ = self.masker.mask(line)
        m = re.match(r"[ \t]*([A-Za-z_]\w*)", masked)
        return m.group(1) if m else ""

    def _cut_after_end(self, lines: list[str]) -> list[str]:
        """Drop everything after a statement-level ENDSHORTCUT, or after a second SHORTCUT header."""
        seen_header = False
        for k, line in enumerate(lines):
            word = self._first_word(line)
            if word == "SHORTCUT":
                if seen_header:
                    return self._cut(lines, k, 0.8, "second SHORTCUT header and everything after it removed")
                seen_header = True
            elif word == "ENDSHORTCUT":
                return self._cut(lines, k + 1, 0.95, "text after ENDSHORTCUT removed")
        return lines

    def _cut(self, lines: list[str], k: int, conf: float, why: str) -> list[str]:
        tail = lines[k:]
        if any(t.strip() for t in tail):
            self.log(self.line_number(lines, k), "structure", "\n".join(tail), "", conf, why)
            return lines[:k] + [""]
        return lines

    def _drop_truncated_tail(self, lines: list[str]) -> list[str]:
        """Remove a last line that was cut off mid-statement (repeatedly, so the result is stable).

        A paramless `ACTION <unknown name>` is only taken to be cut off when the raw text stops on
        that line (no final line break). Otherwise it is the model's (wrong but complete) choice,
        kept for the validator to report rather than silently deleted. Syntactically incomplete
        last lines (`X=` with no value, `IF @x` with no condition) are repaired regardless.
        """
        unterminated, self.ends_unterminated = self.ends_unterminated, False
        while True:
            idx = len(lines) - 1
            while idx >= 0 and not lines[idx].strip():
                idx -= 1
            if idx <= 0:
                return lines
            masked, prot = self.masker.mask(lines[idx])
            lineno = self.line_number(lines, idx)
            m = re.fullmatch(r"[ \t]*ACTION[ \t]+([A-Za-z_][\w.\-]*)[ \t\r]*", masked)
            if m is not None and not self._resolves_or_close(m.group(1)) and unterminated:
                unterminated = False  # only the very last line of the raw text can be cut off
                self.log(lineno, "structure", lines[idx], "", 0.7, "truncated last line removed")
                lines = lines[:idx] + lines[idx + 1 :]
                continue
            if "#" in masked:
                # A trailing `# note` (outside strings) is not a cut-off parameter: deleting its words
                # one by one never makes it parse (issue 11). The parser says what is wrong instead.
                return lines
            dangling = re.match(
                r"([ \t]*ACTION[ \t]+\S+.*?)[ \t]+[A-Za-z_]\w*[ \t]*=?[ \t\r]*$", masked, re.S
            )
            if dangling is not None and (masked.rstrip().endswith("=") or self._ends_with_bare_word(masked)):
                kept = self.masker.unmask(dangling.group(1), prot)
                self.log(lineno, "structure", lines[idx], kept, 0.7, "truncated parameter removed")
                lines = lines[:idx] + [kept] + lines[idx + 1 :]
                continue
            opener = re.fullmatch(
                r"[ \t]*(IF([ \t]+[$@]\w+)?|FOREACH|REPEAT|MENU|CASE|SET([ \t]+\$\w+)?([ \t]*=)?)[ \t\r]*",
                masked,
            )
            if opener is not None:
                self.log(lineno, "structure", lines[idx], "", 0.7, "truncated last statement removed")
                lines = lines[:idx] + lines[idx + 1 :]
                continue
            return lines

    @staticmethod
    def _ends_with_bare_word(masked: str) -> bool:
        # `... X="a" Foo` : a bare word after at least one parameter, not a value after `=`
        m = re.search(r"([^\s])[ \t]+[A-Za-z_]\w*[ \t\r]*$", masked)
        return m is not None and m.group(1) != "=" and "=" in masked

    def _resolves_or_close(self, name: str) -> bool:
        if self.catalog is None or name == "comment":
            return True
        try:
            if self.catalog.resolve(name) is not None:
                return True
            return bool(self.catalog.suggest(name, 0.7))
        except Exception:
            return True

    def _balance_blocks(self, lines: list[str]) -> tuple[list[str], list[list]]:
        """Orphan ELSE/CASE and stray closers are removed; a closer that skips unclosed inner blocks
        gets their closers inserted before it (innermost first). Returns the open blocks left."""
        out: list[str] = []
        stack: list[list] = []  # [kind, has_else]
        lineno = 1  # line number (in the output) of the next line appended to `out`

        def innermost(match) -> int | None:
            return next((i for i in range(len(stack) - 1, -1, -1) if match(stack[i])), None)

        for line in lines:
            word = self._first_word(line)
            pos = None
            if word in OPENERS:
                stack.append([word, False])
            elif word in ("ELSE", "CASE") or word in CLOSERS:
                if word == "ELSE":
                    pos = innermost(lambda b: b[0] == "IF" and not b[1])
                else:
                    kind = "MENU" if word == "CASE" else CLOSERS[word]
                    pos = innermost(lambda b, kind=kind: b[0] == kind)
                if pos is None:
                    where = "an IF" if word == "ELSE" else f"a {'MENU' if word == 'CASE' else CLOSERS[word]}"
                    self.log(lineno, "structure", line, "", 0.8, f"{word} outside {where} removed")
                    continue
                while len(stack) > pos + 1:
                    closer = OPENERS[stack.pop()[0]]
                    self.log(lineno, "structure", "", closer, 0.8, f"unclosed block: {closer} inserted")
                    out.append(closer)
                    lineno += 1
                if word == "ELSE":
                    stack[pos][1] = True
                elif word in CLOSERS:
                    stack.pop()
            out.append(line)
            lineno += line.count("\n") + 1
        return out, stack

    # ------------------------------------------------------------------ driver

    def run(self) -> LintResult:
        self.strip_wrapping()
        self.repair_strings()
        # Without a header nothing can parse and there is no program to repair line by line.
        if self.masker.ok and self.has_header:
            lines = _logical_lines(self.text)
            lines = self.fold_lines(lines)
            lines = self.repair_lines(lines)
            lines = self.repair_structure(lines)
            self.text = "\n".join(lines)
        if not self.text.endswith("\n"):
            self.log(self.text.count("\n") + 1, "trailing_newline", "", "\n", 1.0, "final line break added")
            self.text += "\n"
        return LintResult(self.text, tuple(self.changes))


_MAX_PASSES = 4

# Fuzzy action-name repair: the reference uses a difflib cutoff of 0.65. Ours is 0.8, measured by
# tests/dsl/test_linter.py::test_fuzzy_action_repair_precision on real Apple action names from the
# corpus that the core catalog lacks (a rewrite is a false repair: `filter.notes` -> `file.move`,
# `location` -> `notification`) and on seeded one-edit typos of core names (a restore is a true
# repair). Cutoff 0.65: 38 of 299 real names rewritten, 211 of 213 typos restored; 0.8: 2 and 203.
FUZZY_ACTION_CUTOFF = 0.8

# Kinds of repair that change which action a line runs (issue 11.1): reported as warnings that
# `sashimi dsl check` / `compile` surface in their output, JSON and exit code.
ACTION_CHANGING_KINDS = frozenset({"action", "alias_warning"})


def is_fully_qualified(name: str) -> bool:
    """A reverse-DNS action identifier (§3.2 rules 1 and 4: two or more dots), never repaired."""
    return name.count(".") >= 2


_PROPERTY = re.compile(r"(?<![\w$@])([@$][A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)")
_PLACEHOLDER_PROPERTY = re.compile(r"\{\s*([@$][A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)+\s*\}")


def _suffix_similarity(name: str, cand: str) -> float:
    """Similarity of the dotted suffixes that differ (after the longest common dotted prefix)."""
    a, b = name.split("."), cand.split(".")
    i = 0
    while i < min(len(a), len(b)) - 1 and a[i] == b[i]:
        i += 1
    return difflib.SequenceMatcher(None, ".".join(a[i:]).lower(), ".".join(b[i:]).lower()).ratio()


def lint(text: str, catalog: Catalog | None = None, *, dialect: str = CANONICAL) -> LintResult:
    """Repair `text` (typically model output) so that it parses; see the module docstring.

    `catalog` drives action-name repair; None uses the core catalog. `dialect` is the condition
    vocabulary of the text (`sashimi.dsl.ast.DIALECTS`): condition repairs write its words. Never
    raises on a `str`.
    """
    if catalog is None:
        catalog = Catalog.core()
    result = _Linter(text, catalog, dialect).run()
    if not result.changes:
        return result
    # One repair can expose another (a closed string creates a header, a removed line uncovers a
    # cut-off one). Iterate to a fixpoint so that lint is idempotent; in practice one extra pass.
    changes = list(result.changes)
    for _ in range(_MAX_PASSES - 1):
        again = _Linter(result.text, catalog, dialect).run()
        if again.text == result.text:
            break
        changes.extend(again.changes)
        result = again
    return LintResult(result.text, tuple(changes))
