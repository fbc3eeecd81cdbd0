"""The evaluation harness: score a predictions file against gold programs (architecture.md §6).

In-process API (the trainer and the ablations call this; `sashimi evaluate` is a thin wrapper):

    gold = prepare_gold(read_gold("dev.jsonl"), catalog)
    report = evaluate(read_predictions("p.jsonl"), gold, catalog)      # one system
    report["metrics"]["action_f1"], report["ci"]["action_f1"], report["failures"], report["rows"]

Every row of the gold file is scored (validity stream + fidelity stream, `validity.py`, `fidelity.py`);
a refused, empty, missing or malformed prediction is a failure of its own category, never skipped.
Every rate gets a 95 % percentile bootstrap interval over rows (`bootstrap.py`, seeded). Program
texts are scored once per `Scorer` (baselines and ceilings repeat training programs), so a table of
several systems costs little more than one.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from sashimi.dsl.parser import parse
from sashimi.errors import DataError, Location, SashimiError
from sashimi.eval.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, table_cis
from sashimi.eval.fidelity import (
    FIDELITY_KEYS,
    CanonicalCatalog,
    ProgramView,
    failed_scores,
    fidelity_category,
    fidelity_scores,
    program_view,
)
from sashimi.eval.predictions import GoldRow, Prediction, match_predictions, prediction_from_json
from sashimi.eval.validity import MAX_PROGRAM_CHARS, VALIDITY_KEYS, ValidityResult, check_program, failure

METRIC_KEYS = VALIDITY_KEYS + FIDELITY_KEYS + ("accept_rate",)
# Per-row boolean fields behind the validity rates.
_ROW_VALIDITY = {
    "parse_rate": "parsed",
    "validate_strict_rate": "validate_strict",
    "validate_permissive_rate": "validate_permissive",
    "compile_strict_rate": "compile_strict",
    "compile_permissive_rate": "compile_permissive",
    "runtime_unverified_rate": "runtime_unverified",
}
FAILURE_ORDER = (
    "missing",
    "malformed",
    "refused",
    "empty",
    "oversize",
    "crash",
    "parse_error",
    "validate_unknown_action",
    "validate_*",
    "compile_error",
    "wrong_skeleton",
    "wrong_structure",
    "wrong_parameters",
    "wrong_values",
    "exact",
)


@dataclass(frozen=True)
class GoldProgram:
    row: GoldRow
    view: ProgramView


def parse_gold(program: str, *, file: str):
    """Parse one reference program (the single place that decides how gold text is read)."""
    return parse(program, file=file)


def prepare_gold(rows: list[GoldRow], catalog, *, file: str = "<gold>") -> list[GoldProgram]:
    """Parse every reference program once; a reference that does not parse is a one-line error."""
    canon = CanonicalCatalog(catalog)
    out: list[GoldProgram] = []
    for row in rows:
        try:
            ir = parse_gold(row.program, file=f"{file}[{row.id}]")
        except SashimiError as err:
            raise DataError(
                f"gold program of {row.id!r} does not parse: {err.message}", Location(file)
            ) from None
        out.append(GoldProgram(row, program_view(ir, canon)))
    return out


class Scorer:
    """Validity + view of program texts, memoised by text (one catalog, one compile seed)."""

    def __init__(self, catalog, *, seed: int = 0, max_chars: int = MAX_PROGRAM_CHARS) -> None:
        self.catalog = catalog
        self.canon = CanonicalCatalog(catalog)
        self.seed = seed
        self.max_chars = max_chars
        self._cache: dict[str, tuple[ValidityResult, ProgramView | None]] = {}

    def program(self, text: str) -> tuple[ValidityResult, ProgramView | None]:
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        validity = check_program(text, self.catalog, seed=self.seed, max_chars=self.max_chars)
        view = None
        if validity.ir is not None:
            try:
                view = program_view(validity.ir, self.canon)
            except Exception as err:  # an IR the typed IR or printer cannot take: a scored failure
                validity = failure("crash", f"fidelity view failed: {type(err).__name__}: {err}"[:200])
        validity.ir = None  # the view holds what fidelity needs; keep the cache small
        self._cache[text] = (validity, view)
        return validity, view


def score_row(pred: Prediction | None, gold: GoldProgram, scorer: Scorer) -> dict[str, Any]:
    """All scores and the failure category of one gold row."""
    row: dict[str, Any] = {"id": gold.row.id}
    view: ProgramView | None = None
    if pred is None:
        validity = failure("missing", "no prediction for this id")
        row["accepted"] = False
    elif pred.problem is not None:
        validity = failure("malformed", pred.problem)
        row["accepted"] = pred.accepted
    elif not pred.accepted:
        validity = failure("refused", "the system refused the request")
        row["accepted"] = False
    else:
        validity, view = scorer.program(pred.dsl)
        row["accepted"] = True
    for field_name in _ROW_VALIDITY.values():
        row[field_name] = bool(getattr(validity, field_name))
    scores = fidelity_scores(view, gold.view) if view is not None else failed_scores(gold.view)
    row.update(scores)
    category = validity.category
    if category is None:
        category = fidelity_category(view, gold.view) if view is not None else "crash"
    row["category"] = category
    # messages quote the prediction; a lone surrogate must not break writing the report as UTF-8
    message = validity.message if validity.category else None
    row["message"] = message.encode("utf-8", "backslashreplace").decode("utf-8") if message else None
    row["ms"] = pred.ms if pred is not None else None
    return row


def latency(rows: list[dict]) -> dict[str, float | int | None]:
    ms = np.array([r["ms"] for r in rows if r.get("ms") is not None], dtype=np.float64)
    if ms.size == 0:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None, "max_ms": None}
    return {
        "n": int(ms.size),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
        "max_ms": float(ms.max()),
    }


def metric_columns(rows: list[dict], keys: Sequence[str] = METRIC_KEYS) -> dict[str, np.ndarray]:
    """Per-row values of each metric (rates as 0/1; NaN where a metric is undefined for the row), in row
    order: what the summary's means and intervals are computed from (the ablation report pools them)."""
    columns: dict[str, np.ndarray] = {}
    for key in keys:
        if key == "accept_rate":
            values = [float(r["accepted"]) for r in rows]
        elif key in _ROW_VALIDITY:
            values = [float(r[_ROW_VALIDITY[key]]) for r in rows]
        else:
            values = [math.nan if r[key] is None else float(r[key]) for r in rows]
        columns[key] = np.array(values, dtype=np.float64)
    return columns


def summarise(rows: list[dict], *, seed: int = DEFAULT_SEED, resamples: int = DEFAULT_RESAMPLES) -> dict:
    """Point values, bootstrap CIs, defined-row counts, failure counts and latency of scored rows."""
    table = table_cis(metric_columns(rows), resamples=resamples, seed=seed)
    failures = Counter(r["category"] for r in rows)
    return {
        "n": len(rows),
        "metrics": {k: _round(v["value"]) for k, v in table.items()},
        "ci": {k: [_round(v["ci_low"]), _round(v["ci_high"])] for k, v in table.items()},
        "defined": {k: v["n"] for k, v in table.items() if v["n"] != len(rows)},
        "failures": dict(sorted(failures.items(), key=lambda kv: category_rank(kv[0]))),
        "latency": latency(rows),
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def category_rank(category: str) -> tuple[int, str]:
    key = (
        "validate_*"
        if category.startswith("validate_") and category != "validate_unknown_action"
        else category
    )
    return (FAILURE_ORDER.index(key) if key in FAILURE_ORDER else len(FAILURE_ORDER), category)


def evaluate(
    predictions: Sequence[Prediction | dict | None],
    gold: Sequence[GoldProgram | GoldRow],
    catalog=None,
    *,
    scorer: Scorer | None = None,
    allow_missing: bool = False,
    seed: int = DEFAULT_SEED,
    resamples: int = DEFAULT_RESAMPLES,
    name: str = "system",
    progress: bool = False,
    aligned: bool = False,
) -> dict:
    """Score one system; the report `sashimi evaluate` writes for it (`summarise`) plus `name`, `rows`.

    `predictions`: `Prediction`s or dicts in the predictions format (a malformed dict is a scored
    failure, as in a file), matched to `gold` by id — unless `aligned`, when there is one entry per
    gold row in gold order (None = missing). `gold`: `GoldProgram`s from `prepare_gold` (parse once,
    score many systems) or plain `GoldRow`s. Give a `catalog` or a `Scorer` (which memoises programs
    across calls)."""
    started = time.perf_counter()
    if scorer is None:
        if catalog is None:
            raise ValueError("evaluate needs a catalog or a scorer")
        scorer = Scorer(catalog)
    gold = [g if isinstance(g, GoldProgram) else prepare_gold([g], scorer.catalog)[0] for g in gold]
    preds = [
        prediction_from_json(p, file="<predictions>", line=i) if isinstance(p, dict) else p
        for i, p in enumerate(predictions, start=1)
    ]
    if aligned:
        if len(preds) != len(gold):
            raise ValueError("aligned predictions must have one entry per gold row")
        matched = preds
    else:
        matched = match_predictions(
            [p for p in preds if p is not None], [g.row for g in gold], allow_missing=allow_missing
        )
    rows = [
        score_row(pred, g, scorer)
        for pred, g in tqdm(
            list(zip(matched, gold, strict=True)),
            desc=f"score {name}",
            unit="row",
            disable=not progress,
            leave=False,
        )
    ]
    report = {"name": name, **summarise(rows, seed=seed, resamples=resamples)}
    report["elapsed_seconds"] = round(time.perf_counter() - started, 3)
    report["rows"] = rows
    return report


def worst_rows(rows: list[dict], per_category: int = 3) -> dict[str, list[dict]]:
    """The `per_category` worst rows of each failure category (lowest action F1, then largest edit distance)."""
    by_category: dict[str, list[dict]] = {}
    for row in rows:
        by_category.setdefault(row["category"], []).append(row)
    out: dict[str, list[dict]] = {}
    for category in sorted(by_category, key=category_rank):
        if category == "exact":
            continue
        ranked = sorted(
            by_category[category], key=lambda r: (r["action_f1"], -r["skeleton_edit_distance"], r["id"])
        )
        out[category] = [
            {k: r[k] for k in ("id", "action_f1", "skeleton_edit_distance", "message")}
            for r in ranked[:per_category]
        ]
    return out
