"""The predictions format every system is scored through, and the gold rows it is scored against.

Predictions JSONL, one object per prompt (architecture.md §6):

    {"id": "...", "prompt": "...", "dsl": "<program text, empty when none>", "accepted": true, "ms": 12.5, ...}

`id` (string) and `dsl` (string) are required; `accepted` (the gate's decision) defaults to true; `ms`
(latency) is optional; any other field is kept as an extra and ignored by the metrics.

What a malformed file does (the harness must never crash and never hide a failure):
- a line that is not JSON, not an object, or has no string `id` cannot be attributed to a gold row:
  a one-line `DataError` at `file:line:col`;
- a row with an id but a missing or non-string `dsl`, a non-boolean `accepted` or a non-numeric `ms`
  is kept and scored as a failure of category `malformed` (its `problem` says what is wrong), so the
  other rows are still scored;
- a duplicated id, or an id the gold file does not have, is a one-line error naming it; a gold id with
  no prediction is an error unless `allow_missing`, when it is scored as the failure `missing`.

Gold rows are ShortcutForge chat JSONL (`sashimi.dsl.corpus`; the id is `shortcut_id`) or plain
`{"id", "prompt", "program"}` objects (optional `"dialect"`, default canonical). Gold programs are
read through the corpus reader, which honours each row's condition dialect, and held as canonical
text: `GoldRow.program` is what a system should output. Predictions (`dsl`) are canonical
ShortcutDSL — Apple's true condition codes (shortcutdsl.md §1.7a); baselines that copy training
programs copy this canonical text.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sashimi.dsl.ast import CANONICAL, DIALECTS
from sashimi.dsl.corpus import CorpusRow, row_from_json
from sashimi.errors import DataError, Location, SashimiError
from sashimi.io import write_jsonl

CORE_FIELDS = ("id", "prompt", "dsl", "accepted", "ms")


@dataclass
class Prediction:
    id: str
    dsl: str = ""
    prompt: str = ""
    accepted: bool = True
    ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # set when the row is malformed; the row is then scored as a failure
    line: int | None = None  # 1-based line in the source file, for messages

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "id": self.id,
            "prompt": self.prompt,
            "dsl": self.dsl,
            "accepted": self.accepted,
        }
        if self.ms is not None:
            out["ms"] = self.ms
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class GoldRow:
    id: str
    prompt: str
    program: str


def _decode_lines(path: Path) -> list[tuple[int, Any]]:
    """(line number, decoded JSON) for every non-blank line; bad JSON is a located `DataError`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", Location(str(path))) from None
    except OSError as err:
        raise DataError(f"cannot read: {err.strerror or err}", Location(str(path))) from None
    out: list[tuple[int, Any]] = []
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DataError(
                f"not UTF-8 text: {err.reason}", Location(str(path), lineno, err.start + 1)
            ) from None
        try:
            out.append((lineno, json.loads(text)))
        except json.JSONDecodeError as err:
            raise DataError(f"invalid JSON: {err.msg}", Location(str(path), lineno, err.colno)) from None
        except RecursionError:
            raise DataError("invalid JSON: nested too deeply", Location(str(path), lineno)) from None
    return out


def prediction_from_json(obj: Any, *, file: str = "<predictions>", line: int | None = None) -> Prediction:
    """One prediction row; raises `DataError` only when the row cannot be attributed to an id."""
    loc = Location(file, line)
    if not isinstance(obj, dict):
        raise DataError("expected a JSON object on each line", loc)
    pid = obj.get("id")
    if not isinstance(pid, str) or not pid:
        raise DataError("prediction needs a non-empty string 'id'", loc)
    pred = Prediction(id=pid, line=line)
    problems: list[str] = []
    if "dsl" not in obj:
        problems.append("missing field 'dsl'")
    elif not isinstance(obj["dsl"], str):
        problems.append(f"'dsl' must be a string, got {type(obj['dsl']).__name__}")
    else:
        pred.dsl = obj["dsl"]
    prompt = obj.get("prompt", "")
    pred.prompt = prompt if isinstance(prompt, str) else ""
    accepted = obj.get("accepted", True)
    if isinstance(accepted, bool):
        pred.accepted = accepted
    else:
        problems.append(f"'accepted' must be true or false, got {accepted!r}"[:120])
    ms = obj.get("ms")
    if ms is not None:
        if isinstance(ms, int | float) and not isinstance(ms, bool) and math.isfinite(ms) and ms >= 0:
            pred.ms = float(ms)
        else:
            problems.append(f"'ms' must be a non-negative number, got {ms!r}"[:120])
    pred.extra = {k: v for k, v in obj.items() if k not in CORE_FIELDS}
    if problems:
        pred.problem = "; ".join(problems)
    return pred


def read_predictions(path: str | os.PathLike) -> list[Prediction]:
    """All predictions of a JSONL file, in file order (see the module docstring for malformed rows)."""
    path = Path(path)
    preds = [prediction_from_json(obj, file=str(path), line=lineno) for lineno, obj in _decode_lines(path)]
    seen: dict[str, int | None] = {}
    for pred in preds:
        if pred.id in seen:
            raise DataError(
                f"duplicate prediction id {pred.id!r} (first on line {seen[pred.id]})",
                Location(str(path), pred.line),
            )
        seen[pred.id] = pred.line
    return preds


def write_predictions(path: str | os.PathLike, preds: list[Prediction]) -> None:
    write_jsonl(path, (p.to_json() for p in preds))


def gold_from_json(obj: Any, *, file: str = "<gold>", line: int | None = None) -> GoldRow:
    loc = Location(file, line)
    if not isinstance(obj, dict):
        raise DataError("expected a JSON object on each line", loc)
    if "messages" in obj or "shortcut_id" in obj:
        row = row_from_json(obj, file=file, line=line)
    else:
        gid, prompt, program = obj.get("id"), obj.get("prompt"), obj.get("program")
        if not isinstance(gid, str) or not gid or not isinstance(prompt, str) or not isinstance(program, str):
            raise DataError(
                "gold row needs 'shortcut_id' + 'messages' (ShortcutForge chat format) "
                "or string 'id', 'prompt' and 'program'",
                loc,
            )
        dialect = obj.get("dialect", CANONICAL)
        if dialect not in DIALECTS:
            raise DataError(f"unknown dialect {dialect!r} (known: {', '.join(DIALECTS)})", loc)
        row = CorpusRow(gid, prompt, program, dialect=dialect)
    try:
        program = row.canonical_program()  # the corpus reader's one way to read a row's program
    except SashimiError as err:
        raise DataError(f"gold program of {row.shortcut_id!r} does not parse: {err.message}", loc) from None
    return GoldRow(row.shortcut_id, row.prompt, program)


def read_gold(path: str | os.PathLike) -> list[GoldRow]:
    """Gold rows of a JSONL file (chat format or `{id, prompt, program}`); ids must be unique."""
    path = Path(path)
    rows: list[GoldRow] = []
    seen: dict[str, int] = {}
    for lineno, obj in _decode_lines(path):
        row = gold_from_json(obj, file=str(path), line=lineno)
        if row.id in seen:
            raise DataError(
                f"duplicate gold id {row.id!r} (first on line {seen[row.id]})", Location(str(path), lineno)
            )
        seen[row.id] = lineno
        rows.append(row)
    if not rows:
        raise DataError("no gold rows", Location(str(path)))
    return rows


def match_predictions(
    preds: list[Prediction], gold: list[GoldRow], *, allow_missing: bool = False, file: str = "<predictions>"
) -> list[Prediction | None]:
    """The prediction for each gold row, in gold order (None: missing, only with `allow_missing`)."""
    by_id: dict[str, Prediction] = {}
    for pred in preds:
        if pred.id in by_id:
            raise DataError(f"duplicate prediction id {pred.id!r}", Location(file, pred.line))
        by_id[pred.id] = pred
    gold_ids = {row.id for row in gold}
    for pred in preds:
        if pred.id not in gold_ids:
            raise DataError(f"prediction id {pred.id!r} is not in the gold file", Location(file, pred.line))
    missing = [row.id for row in gold if row.id not in by_id]
    if missing and not allow_missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DataError(
            f"no prediction for gold id {missing[0]!r}{more}; pass --allow-missing to score them as failures",
            Location(file),
        )
    return [by_id.get(row.id) for row in gold]
