"""Reading and writing prompt->program corpora in the ShortcutForge chat JSONL format (shortcutdsl.md §8.1).

Every command that takes `--data FILE.jsonl` reads through `load_corpus`, so any file of the same
format (our dev split, the held-back test set, the synthetic corpus) works the same way.

Dialects (issue 11.3, `sashimi.dsl.ast.DIALECTS`). The real corpus's condition words were written with
a wrong code table: its `equals_number`, `is_less_than` and `is_before` mean "is less than", "is
greater than or equal to" and "is today". Each row therefore carries the dialect its program text is
written in: the optional JSON key `"dialect"`, and `"shortcutforge"` when the key is absent (every file
in this format written before the key existed — the real corpus, its splits, older synthetic files —
was written in that dialect, so reading them this way compiles to exactly the plists they always
did). Readers never parse `row.program` themselves: `row.parse()` (or `parse_program(row)`) gives the
canonical IR, which carries the true meaning, and `row.canonical_program()` the canonical text
(what a model should learn).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sashimi.dsl.ast import CANONICAL, DIALECTS, SHORTCUTFORGE, ShortcutIR
from sashimi.dsl.parser import parse
from sashimi.dsl.printer import print_program
from sashimi.errors import DataError, Location
from sashimi.io import read_jsonl, write_jsonl

# The dialect of a row whose JSON has no "dialect" key.
DEFAULT_FILE_DIALECT = SHORTCUTFORGE

SYSTEM_PROMPT = (
    "You are ShortcutForge, an expert Apple Shortcuts DSL generator. Given a natural language description, "
    'output ONLY the DSL code. Start with SHORTCUT "Name" and include all necessary ACTION, SET, IF/ENDIF, '
    "MENU/ENDMENU, REPEAT/ENDREPEAT, and FOREACH/ENDFOREACH blocks. Do not include any explanation or commentary."
)


@dataclass(frozen=True)
class CorpusRow:
    shortcut_id: str
    prompt: str
    program: str  # DSL text of the target, in `dialect`
    system: str = SYSTEM_PROMPT
    # Rows built in code are canonical; rows read from a file without the key are ShortcutForge.
    dialect: str = CANONICAL

    def to_json(self) -> dict:
        out: dict = {
            "shortcut_id": self.shortcut_id,
            "messages": [
                {"role": "system", "content": self.system},
                {"role": "user", "content": self.prompt},
                {"role": "assistant", "content": self.program},
            ],
        }
        if self.dialect != DEFAULT_FILE_DIALECT:  # real-corpus rows keep their exact format
            out["dialect"] = self.dialect
        return out

    def parse(self, *, file: str | None = None) -> ShortcutIR:
        """The program's canonical IR (condition words mapped from the row's dialect)."""
        return parse(self.program, file=file or self.shortcut_id, dialect=self.dialect)

    def canonical_program(self) -> str:
        """The program in canonical text: the same IR, condition words with Apple's true meaning."""
        if self.dialect == CANONICAL:
            return self.program
        return print_program(self.parse(), dialect=CANONICAL)


def parse_program(row: CorpusRow, *, file: str | None = None) -> ShortcutIR:
    """`row.parse()`: the one way to read a corpus row's program (honours its dialect)."""
    return row.parse(file=file)


def row_from_json(obj: dict, *, file: str = "<input>", line: int | None = None) -> CorpusRow:
    loc = Location(file, line)
    messages = obj.get("messages")
    sid = obj.get("shortcut_id")
    if not isinstance(sid, str) or not isinstance(messages, list):
        raise DataError("row needs 'shortcut_id' (string) and 'messages' (list)", loc)
    by_role: dict[str, str] = {}
    for msg in messages:
        if not isinstance(msg, dict) or not isinstance(msg.get("content"), str):
            raise DataError("each message needs a string 'content'", loc)
        by_role.setdefault(str(msg.get("role")), msg["content"])
    if "user" not in by_role or "assistant" not in by_role:
        raise DataError("row needs a 'user' and an 'assistant' message", loc)
    dialect = obj.get("dialect", DEFAULT_FILE_DIALECT)
    if dialect not in DIALECTS:
        raise DataError(f"unknown dialect {dialect!r} (known: {', '.join(DIALECTS)})", loc)
    return CorpusRow(
        sid, by_role["user"], by_role["assistant"], by_role.get("system", SYSTEM_PROMPT), dialect
    )


def load_corpus(path: str | os.PathLike) -> list[CorpusRow]:
    """All rows of a ShortcutForge-format JSONL file, in file order. An empty file is an error: every
    consumer (split, corpus-check, training) would otherwise report meaningless zero rates."""
    rows = read_jsonl(path)
    if not rows:
        raise DataError("no rows (the file is empty)", Location(str(path)))
    return [row_from_json(obj, file=str(path), line=i) for i, obj in enumerate(rows, start=1)]


def save_corpus(path: str | os.PathLike, rows: list[CorpusRow]) -> None:
    write_jsonl(path, (r.to_json() for r in rows))
