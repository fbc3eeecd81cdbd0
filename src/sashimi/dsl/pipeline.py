"""The whole toolchain on one text: lint → parse → validate (strict, permissive) → compile → serialise.

`run_pipeline` is what `sashimi dsl check/compile`, `corpus-check` and the evaluation use, so the
metric definitions of shortcutdsl.md §7.2 live in one place. "Compile" means: compiled, serialised to
a binary plist, and passed the structural self-check (our rule in §7.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sashimi.dsl.ast import CANONICAL, ShortcutIR
from sashimi.dsl.compiler import compile_program, self_check, to_binary
from sashimi.dsl.linter import ACTION_CHANGING_KINDS, LintChange, lint
from sashimi.dsl.parser import parse
from sashimi.dsl.validator import Issue, validate
from sashimi.errors import CompileError, Location, SashimiError


@dataclass
class PipelineResult:
    """Outcome of every stage for one program text. `error` holds the first failure message."""

    linted_text: str
    lint_changes: tuple[LintChange, ...] = ()
    ir: ShortcutIR | None = None
    strict_errors: tuple[Issue, ...] = ()
    permissive_errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()
    compiled_strict: bool = False
    compiled_permissive: bool = False
    shortcut_bytes: bytes | None = None
    compile_warnings: list = field(default_factory=list)
    failed_stage: str | None = None  # parse | validate | compile | None
    error: str | None = None

    @property
    def parsed(self) -> bool:
        return self.ir is not None

    @property
    def strict_valid(self) -> bool:
        return self.parsed and not self.strict_errors

    @property
    def permissive_valid(self) -> bool:
        return self.parsed and not self.permissive_errors

    @property
    def repairs(self) -> tuple[LintChange, ...]:
        """Lint repairs that changed the program text (the final line break does not count)."""
        return tuple(c for c in self.lint_changes if c.kind != "trailing_newline")

    @property
    def action_repairs(self) -> tuple[LintChange, ...]:
        """Repairs that changed which action a line runs (issue 11.1): never silent."""
        return tuple(c for c in self.lint_changes if c.kind in ACTION_CHANGING_KINDS)

    @property
    def runtime_unverified(self) -> bool:
        """Compiled on the permissive path only: depends on uncatalogued vendor actions."""
        return self.compiled_permissive and not self.compiled_strict


def compile_checked(ir: ShortcutIR, catalog, *, seed: int = 0, file: str = "<input>"):
    """Compile, serialise and self-check; raise `SashimiError` on any failure. Returns (bytes, compiled)."""
    compiled = compile_program(ir, catalog, seed=seed, file=file)
    problems = self_check(compiled.plist)
    if problems:
        raise CompileError(f"structural self-check failed: {problems[0]}", Location(file))
    return to_binary(compiled.plist, file=file), compiled


def run_pipeline(
    text: str,
    catalog,
    *,
    file: str = "<input>",
    seed: int = 0,
    do_lint: bool = True,
    dialect: str = CANONICAL,
) -> PipelineResult:
    """`dialect`: the condition words `text` is written in (`sashimi.dsl.ast.DIALECTS`)."""
    if do_lint:
        linted = lint(text, catalog, dialect=dialect)
        result = PipelineResult(linted_text=linted.text, lint_changes=tuple(linted.changes))
    else:
        result = PipelineResult(linted_text=text)
    # Every repair is also a warning, so that no report calls a repaired program plainly valid
    # (issue 11: "every repair must show as a warning"); action-changing ones get their own category.
    # Set before parsing, so that the repairs of a text that still fails to parse are shown too.
    repairs = tuple(
        Issue(
            "warning",
            "action_repair" if c.kind in ACTION_CHANGING_KINDS else "lint_repair",
            f"{c.original!r} -> {c.replacement!r}: {c.reason}",
            line=c.line,
        )
        for c in result.repairs
    )
    result.warnings = repairs
    try:
        result.ir = parse(result.linted_text, file=file, dialect=dialect)
    except SashimiError as err:
        result.failed_stage, result.error = "parse", str(err)
        return result
    strict = validate(result.ir, catalog, mode="strict")
    permissive = validate(result.ir, catalog, mode="permissive")
    result.strict_errors = tuple(strict.errors)
    result.permissive_errors = tuple(permissive.errors)
    result.warnings = repairs + tuple(permissive.warnings if strict.errors else strict.warnings)
    if not result.permissive_valid:
        first = (result.strict_errors or result.permissive_errors)[0]
        result.failed_stage, result.error = "validate", _issue_line(first, file)
        return result
    try:
        data, compiled = compile_checked(result.ir, catalog, seed=seed, file=file)
    except SashimiError as err:
        result.failed_stage, result.error = "compile", str(err)
        return result
    result.shortcut_bytes = data
    result.compile_warnings = list(compiled.warnings)
    result.compiled_permissive = True
    result.compiled_strict = result.strict_valid
    if not result.strict_valid:
        result.failed_stage, result.error = "validate", _issue_line(result.strict_errors[0], file)
    return result


def _issue_line(issue: Issue, file: str) -> str:
    where = f"{file}:{issue.line}" if getattr(issue, "line", None) else file
    return f"{where}: {issue.category}: {issue.message}"
