"""The validity stream of one prediction: lint → parse → validate strict / permissive → compile.

Definitions are shortcutdsl.md §7.2 with our rule that "compile" includes serialising the binary
plist and the structural self-check; they live in `sashimi.dsl.pipeline.run_pipeline`, which this
module only wraps so that nothing a prediction contains can stop the evaluation:

- a refused, empty, oversized or malformed prediction is a failure with its own category;
- any exception the toolchain raises on a prediction (a parser crash, a recursion limit) is caught and
  scored as the failure `crash` with its message, and the remaining rows are still scored.

Failure categories (relative to the strict path, shortcutdsl.md §7.3, checked in this order):
`missing`, `malformed`, `refused`, `empty`, `oversize`, `crash`, `parse_error`,
`validate_unknown_action`, `validate_<first error category>`, `compile_error`; a prediction that
compiles strictly then gets a fidelity category (`fidelity.fidelity_category`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sashimi.dsl.ast import ShortcutIR
from sashimi.dsl.corpus_check import VALIDITY_RATE_KEYS
from sashimi.dsl.pipeline import run_pipeline

VALIDITY_KEYS = VALIDITY_RATE_KEYS  # the corpus check's validity stream, scored per system here
# The real corpus's longest target is about 15 kB; far beyond that is a runaway generation, scored as a
# failure without parsing (a 1 MB program must not stall the run).
MAX_PROGRAM_CHARS = 100_000


@dataclass
class ValidityResult:
    parsed: bool = False
    validate_strict: bool = False
    validate_permissive: bool = False
    compile_strict: bool = False
    compile_permissive: bool = False
    runtime_unverified: bool = False
    category: str | None = None  # failure category on the strict path; None when strict-compiled
    message: str | None = None
    ir: ShortcutIR | None = None  # the linted, parsed program (for fidelity)
    lint_changes: int = 0

    def rates(self) -> dict[str, float]:
        return {
            "parse_rate": float(self.parsed),
            "validate_strict_rate": float(self.validate_strict),
            "validate_permissive_rate": float(self.validate_permissive),
            "compile_strict_rate": float(self.compile_strict),
            "compile_permissive_rate": float(self.compile_permissive),
            "runtime_unverified_rate": float(self.runtime_unverified),
        }


def failure(category: str, message: str | None = None) -> ValidityResult:
    return ValidityResult(category=category, message=message)


def check_program(
    text: str, catalog, *, file: str = "<prediction>", seed: int = 0, max_chars: int = MAX_PROGRAM_CHARS
) -> ValidityResult:
    """Validity of one program text; never raises for anything in `text`."""
    if not text.strip():
        return failure("empty", "no program")
    if len(text) > max_chars:
        return failure("oversize", f"program of {len(text):,} characters exceeds the limit of {max_chars:,}")
    try:
        result = run_pipeline(text if text.endswith("\n") else text + "\n", catalog, file=file, seed=seed)
    except RecursionError:
        return failure("crash", "toolchain crashed: nested too deeply (RecursionError)")
    except Exception as err:  # a crash on untrusted text is a scored failure, not the end of the run
        first = (str(err).splitlines() or [""])[0][:200]
        return failure("crash", f"toolchain crashed: {type(err).__name__}: {first}")
    out = ValidityResult(
        parsed=result.parsed,
        validate_strict=result.strict_valid,
        validate_permissive=result.permissive_valid,
        compile_strict=result.compiled_strict,
        compile_permissive=result.compiled_permissive,
        runtime_unverified=result.runtime_unverified,
        ir=result.ir,
        lint_changes=len(result.lint_changes),
        message=result.error,
    )
    if not result.parsed:
        out.category = "parse_error"
    elif not result.strict_valid:
        first = result.strict_errors[0].category if result.strict_errors else "other"
        out.category = (
            "validate_unknown_action"
            if any(e.category == "unknown_action" for e in result.strict_errors)
            else f"validate_{first}"
        )
    elif not result.compiled_strict:
        out.category = "compile_error"
    return out
