"""Check generated programs with the real toolchain: parse, canonical print, strict validation,
strict compile (serialised + self-check), typed-IR losslessness.

The generator builds programs as IR, so these checks are what proves the corpus is usable: every
program must pass all of them against the core catalog (tests assert it; `sashimi data synth
--check` reports the figures for a full run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sashimi.data.synth.generator import SynthExample
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.parser import parse
from sashimi.dsl.pipeline import compile_checked
from sashimi.dsl.printer import print_program
from sashimi.dsl.validator import validate
from sashimi.errors import SashimiError
from sashimi.ir.lowering import lower
from sashimi.ir.typed import to_typed


@dataclass
class CheckReport:
    total: int = 0
    parsed: int = 0
    canonical: int = 0  # print(parse(text)) == text
    strict_valid: int = 0
    compiled_strict: int = 0
    lossless: int = 0  # lower(to_typed(ir)) == ir
    warnings: Counter = field(default_factory=Counter)  # validator warning categories (strict)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (id, stage, message)

    def rates(self) -> dict[str, float]:
        n = max(self.total, 1)
        return {
            "parse": self.parsed / n,
            "canonical": self.canonical / n,
            "validate_strict": self.strict_valid / n,
            "compile_strict": self.compiled_strict / n,
            "typed_lossless": self.lossless / n,
        }

    def to_json(self) -> dict:
        return {
            "total": self.total,
            "parsed": self.parsed,
            "canonical": self.canonical,
            "strict_valid": self.strict_valid,
            "compiled_strict": self.compiled_strict,
            "lossless": self.lossless,
            "rates": {k: round(v, 6) for k, v in self.rates().items()},
            "warnings": dict(sorted(self.warnings.items())),
            "failures": [list(f) for f in self.failures[:50]],
        }


def check_examples(
    examples: Iterable[SynthExample], catalog=None, *, progress: Callable[[int], None] | None = None
) -> CheckReport:
    catalog = catalog if catalog is not None else Catalog.core()
    report = CheckReport()
    for ex in examples:
        report.total += 1
        sid, text = ex.row.shortcut_id, ex.row.program
        if progress is not None:
            progress(1)
        try:
            ir = parse(text, file=sid)
        except SashimiError as err:
            report.failures.append((sid, "parse", str(err)))
            continue
        report.parsed += 1
        if print_program(ir) == text:
            report.canonical += 1
        else:
            report.failures.append((sid, "canonical", "print(parse(text)) != text"))
        result = validate(ir, catalog, "strict")
        report.warnings.update(w.category for w in result.warnings)
        if result.valid:
            report.strict_valid += 1
            try:
                compile_checked(ir, catalog, file=sid)
                report.compiled_strict += 1
            except SashimiError as err:
                report.failures.append((sid, "compile", str(err)))
        else:
            first = result.errors[0]
            report.failures.append((sid, "validate", f"{first.category}: {first.message}"))
        try:
            if lower(to_typed(ir, catalog)) == ir:
                report.lossless += 1
            else:
                report.failures.append((sid, "typed", "lower(to_typed(ir)) != ir"))
        except SashimiError as err:
            report.failures.append((sid, "typed", str(err)))
    return report
