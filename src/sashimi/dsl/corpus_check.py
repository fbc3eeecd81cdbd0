"""`sashimi dsl corpus-check`: every target of a ShortcutForge-format JSONL through the whole toolchain.

Rates follow shortcutdsl.md §7.2 (fractions of all rows, in [0, 1]) plus our own fidelity checks of
the toolchain itself: printer identity (`print(parse(t)) == t`), the compile → decompile → parse round
trip (IR equal), and whether the linter touched a program that was already canonical. Every row is
read in its own dialect (`CorpusRow.dialect`, see `sashimi.dsl.corpus`), so the real corpus compiles to
the plists its words were meant to produce and prints back byte for byte.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tqdm import tqdm

from sashimi.dsl.corpus import CorpusRow
from sashimi.dsl.decompiler import decompile
from sashimi.dsl.pipeline import run_pipeline
from sashimi.dsl.printer import print_program
from sashimi.errors import SashimiError

# The validity stream (shortcutdsl.md): what `sashimi evaluate` reports for any system's programs too.
VALIDITY_RATE_KEYS = (
    "parse_rate",
    "validate_strict_rate",
    "validate_permissive_rate",
    "compile_strict_rate",
    "compile_permissive_rate",
    "runtime_unverified_rate",
)
RATE_KEYS = (
    *VALIDITY_RATE_KEYS,
    "print_identity_rate",
    "roundtrip_rate",
    "lint_changed_rate",
)


@dataclass
class CorpusReport:
    n: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATE_KEYS, 0))
    failures: list[dict] = field(default_factory=list)
    warning_counts: dict[str, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    def to_json(self) -> dict:
        out: dict = {"n": self.n}
        for key in RATE_KEYS:
            out[key] = round(self.counts[key] / self.n, 6) if self.n else 0.0
        out["counts"] = dict(self.counts)
        out["warning_counts"] = dict(sorted(self.warning_counts.items()))
        out["elapsed_seconds"] = round(self.elapsed_seconds, 3)
        out["failures"] = self.failures
        return out


def check_corpus(rows: list[CorpusRow], catalog, *, seed: int = 0, progress: bool = True) -> CorpusReport:
    report = CorpusReport(n=len(rows))
    started = time.perf_counter()
    for row in tqdm(rows, desc="corpus-check", unit="prog", disable=not progress, leave=False):
        _check_one(row, catalog, seed, report)
    report.elapsed_seconds = time.perf_counter() - started
    return report


def _fail(report: CorpusReport, row: CorpusRow, stage: str, message: str) -> None:
    report.failures.append({"id": row.shortcut_id, "stage": stage, "message": message})


def _check_one(row: CorpusRow, catalog, seed: int, report: CorpusReport) -> None:
    c = report.counts
    file = row.shortcut_id
    result = run_pipeline(row.program, catalog, file=file, seed=seed, dialect=row.dialect)
    if result.lint_changes or result.linted_text != row.program:
        c["lint_changed_rate"] += 1
    c["parse_rate"] += result.parsed
    c["validate_strict_rate"] += result.strict_valid
    c["validate_permissive_rate"] += result.permissive_valid
    c["compile_strict_rate"] += result.compiled_strict
    c["compile_permissive_rate"] += result.compiled_permissive
    c["runtime_unverified_rate"] += result.runtime_unverified
    for issue in result.warnings:
        report.warning_counts[issue.category] = report.warning_counts.get(issue.category, 0) + 1
    if result.failed_stage:
        _fail(report, row, result.failed_stage, result.error or "")

    # Printer identity is about the raw target, independent of the linter.
    try:
        original = row.parse(file=file)
    except SashimiError as err:
        if result.failed_stage != "parse":
            _fail(report, row, "parse", str(err))
        return
    if print_program(original, dialect=row.dialect) == row.program:
        c["print_identity_rate"] += 1
    else:
        _fail(report, row, "print", "print(parse(t)) differs from t")

    if result.shortcut_bytes is None:
        return
    try:
        back = decompile(result.shortcut_bytes, catalog, file=f"{file}.shortcut", name=original.name)
    except SashimiError as err:
        _fail(report, row, "decompile", str(err))
        return
    if back.ir == original:
        c["roundtrip_rate"] += 1
    else:
        _fail(report, row, "roundtrip", _first_difference(original, back.ir))


def _first_difference(a, b) -> str:
    """A short description of where two IRs first differ (for the failure list)."""
    lines_a = print_program(a).splitlines()
    lines_b = print_program(b).splitlines()
    for i, (x, y) in enumerate(zip(lines_a, lines_b, strict=False), start=1):
        if x != y:
            return f"line {i}: {x[:120]!r} became {y[:120]!r}"
    if len(lines_a) != len(lines_b):
        return f"{len(lines_a)} lines became {len(lines_b)}"
    return "IR differs (same printed text: int/float or whitespace-only difference)"
