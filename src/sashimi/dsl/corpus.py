"""Reading and writing prompt->program corpora in the ShortcutForge chat JSONL format (shortcutdsl.md §8.1).

Every command that takes `--data FILE.jsonl` reads through `load_corpus`, so any file of the same
format (our dev split, the held-back test set, the synthetic corpus) works the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sashimi.errors import DataError, Location
from sashimi.io import read_jsonl, write_jsonl

SYSTEM_PROMPT = (
    "You are ShortcutForge, an expert Apple Shortcuts DSL generator. Given a natural language description, "
    'output ONLY the DSL code. Start with SHORTCUT "Name" and include all necessary ACTION, SET, IF/ENDIF, '
    "MENU/ENDMENU, REPEAT/ENDREPEAT, and FOREACH/ENDFOREACH blocks. Do not include any explanation or commentary."
)


@dataclass(frozen=True)
class CorpusRow:
    shortcut_id: str
    prompt: str
    program: str  # DSL text of the target
    system: str = SYSTEM_PROMPT

    def to_json(self) -> dict:
        return {
            "shortcut_id": self.shortcut_id,
            "messages": [
                {"role": "system", "content": self.system},
                {"role": "user", "content": self.prompt},
                {"role": "assistant", "content": self.program},
            ],
        }


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
    return CorpusRow(sid, by_role["user"], by_role["assistant"], by_role.get("system", SYSTEM_PROMPT))


def load_corpus(path: str | os.PathLike) -> list[CorpusRow]:
    """All rows of a ShortcutForge-format JSONL file, in file order."""
    rows = read_jsonl(path)
    return [row_from_json(obj, file=str(path), line=i) for i, obj in enumerate(rows, start=1)]


def save_corpus(path: str | os.PathLike, rows: list[CorpusRow]) -> None:
    write_jsonl(path, (r.to_json() for r in rows))
