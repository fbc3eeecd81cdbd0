"""`sashimi dsl …`: check, compile, decompile and corpus-check ShortcutDSL programs.

Exit codes (documented once, in README "Exit codes"): 0 success; 1 `check` only — the program parses
but is not strict-valid as written (errors, or valid only after lint repairs); 2 bad input — an
unreadable or empty file, text that does not parse even after repairs, a program `compile` refuses,
an unwritable output path — always one line `file[:line[:col]]: message` on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sashimi.errors import DataError, Location, SashimiError


class _PipelineError(SashimiError):
    """A pipeline failure whose one-line message already starts with its `file:line:col`."""

    def __str__(self) -> str:
        return self.message


def register(groups: dict) -> None:
    dsl = groups["dsl"]

    p = dsl.add_parser("check", help="lint, parse and validate a DSL file; report repairs, errors, warnings")
    p.add_argument("file", help="DSL text file ('-' for stdin)")
    _catalog_arg(p)
    p.add_argument("--no-lint", action="store_true", help="parse the text as is, without repairs")
    _dialect_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_check)

    p = dsl.add_parser("compile", help="compile a DSL file to an unsigned binary .shortcut")
    p.add_argument("file", help="DSL text file ('-' for stdin)")
    p.add_argument("-o", "--out", required=True, help="output .shortcut path")
    _catalog_arg(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the UUID generator (deterministic output)")
    p.add_argument(
        "--permissive",
        action="store_true",
        help="also compile programs that are only permissive-valid (uncatalogued vendor actions)",
    )
    p.add_argument("--no-lint", action="store_true", help="parse the text as is, without repairs")
    _dialect_arg(p)
    p.set_defaults(func=cmd_compile)

    p = dsl.add_parser("decompile", help="decompile a .shortcut (binary or XML plist) to canonical DSL")
    p.add_argument("file", help=".shortcut or .plist file ('-' for stdin)")
    _catalog_arg(p)
    p.add_argument("-o", "--out", help="write the DSL here instead of stdout")
    p.add_argument(
        "--style",
        choices=("faithful", "corpus"),
        default="faithful",
        help="faithful (default): keep WFInput, CustomOutputName and UUID so that compiling the "
        "output preserves every reference; corpus: the training data's style, which hides them",
    )
    _dialect_arg(p)
    p.set_defaults(func=cmd_decompile)

    p = dsl.add_parser("corpus-check", help="run every target of a ShortcutForge JSONL through the toolchain")
    p.add_argument("--data", required=True, help="ShortcutForge-format JSONL")
    _catalog_arg(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object (default: a summary table)")
    p.add_argument(
        "--max-failures", type=int, default=200, help="failures listed in the output (default 200)"
    )
    p.set_defaults(func=cmd_corpus_check)


def _dialect_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dialect",
        choices=("canonical", "shortcutforge"),
        default="canonical",
        help="condition words of the DSL text: canonical (Apple's true codes, default) or "
        "shortcutforge (the real corpus's words; see docs/DIALECTS.md)",
    )


def _catalog_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--catalog-dir",
        default=None,
        help="reference-format catalog directory (action_catalog.json + param_schemas.json); "
        "default: the core catalog shipped with sashimi",
    )


def _load_catalog(args: argparse.Namespace):
    from sashimi.dsl.catalog import Catalog

    return Catalog.load(Path(args.catalog_dir) if args.catalog_dir else None)


def _read_bytes(path: str) -> tuple[bytes, str]:
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    try:
        return Path(path).read_bytes(), path
    except FileNotFoundError:
        raise DataError("file not found", Location(path)) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a file", Location(path)) from None
    except OSError as err:
        raise DataError(f"cannot read: {err.strerror}", Location(path)) from None


def _read_text(path: str) -> tuple[str, str]:
    data, file = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise DataError(f"not UTF-8 text (byte {err.start})", Location(file, line, col)) from None
    if not text.strip():
        raise DataError('empty file — a program starts with SHORTCUT "<name>"', Location(file))
    return text, file


def _issue_json(issue) -> dict:
    return {
        k: getattr(issue, k, None)
        for k in ("severity", "category", "message", "action_name", "param_name", "line")
    }


def _issue_text(issue, file: str) -> str:
    where = f"{file}:{issue.line}" if issue.line else file
    return f"{where}: {issue.severity}: {issue.category}: {issue.message}"


def _change_json(c) -> dict:
    return {k: getattr(c, k) for k in ("line", "kind", "original", "replacement", "confidence", "reason")}


def cmd_check(args: argparse.Namespace) -> int:
    from sashimi.dsl.pipeline import run_pipeline

    text, file = _read_text(args.file)
    catalog = _load_catalog(args)
    result = run_pipeline(text, catalog, file=file, do_lint=not args.no_lint, dialect=args.dialect)
    repaired = bool(result.repairs)
    if args.json:
        out = {
            "file": file,
            "parsed": result.parsed,
            "strict_valid": result.strict_valid,
            "permissive_valid": result.permissive_valid,
            "compiles": result.compiled_permissive,
            # Valid only because the linter changed the text: never reported as plain "valid".
            "repaired": repaired,
            "action_changed": bool(result.action_repairs),
            "lint_changes": [_change_json(c) for c in result.lint_changes],
            "errors": [_issue_json(i) for i in (result.strict_errors or result.permissive_errors)],
            "warnings": [_issue_json(i) for i in result.warnings],
            "error": result.error,
        }
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        for issue in result.strict_errors:
            print(_issue_text(issue, file))
        for issue in result.warnings:  # repairs come first, as `lint_repair` / `action_repair` warnings
            print(_issue_text(issue, file))
        if result.parsed:
            verdict = (
                "valid (strict)"
                if result.strict_valid
                else "valid (permissive only)"
                if result.permissive_valid
                else "invalid"
            )
            if repaired:
                verdict += " only after repairs"
            print(
                f"{file}: {verdict}; {len(result.repairs)} repair(s), "
                f"{len(result.strict_errors)} error(s), {len(result.warnings)} warning(s)"
            )
    if not result.parsed:
        if not args.json:
            for issue in result.warnings:
                print(_issue_text(issue, file), file=sys.stderr)
        raise _PipelineError(result.error or f"{file}: does not parse")
    return 0 if result.strict_valid and not repaired else 1


def cmd_compile(args: argparse.Namespace) -> int:
    from sashimi.dsl.pipeline import run_pipeline
    from sashimi.errors import ValidationError
    from sashimi.io import atomic_write_bytes

    text, file = _read_text(args.file)
    catalog = _load_catalog(args)
    result = run_pipeline(
        text, catalog, file=file, seed=args.seed, do_lint=not args.no_lint, dialect=args.dialect
    )
    for c in result.repairs:
        print(
            f"{file}:{c.line}: warning: {'action_repair' if c in result.action_repairs else 'lint_repair'}: "
            f"{c.original!r} -> {c.replacement!r}: {c.reason}",
            file=sys.stderr,
        )
    if not result.parsed:
        raise _PipelineError(result.error or f"{file}: does not parse")
    ok = result.compiled_strict or (args.permissive and result.compiled_permissive)
    if not ok:
        if result.failed_stage == "compile":
            raise _PipelineError(result.error or f"{file}: does not compile")
        errors = result.strict_errors or result.permissive_errors
        issue = errors[0]
        hint = " (use --permissive to compile anyway)" if result.permissive_valid else ""
        raise ValidationError(f"{issue.category}: {issue.message}{hint}", Location(file, issue.line))
    if result.action_repairs and not args.permissive:
        # A guessed action is a different program: strict mode never compiles it silently.
        c = result.action_repairs[0]
        raise ValidationError(
            f"action_repair: {c.original!r} was rewritten to {c.replacement!r}; fix the name, or use "
            "--permissive to compile the repaired program",
            Location(file, c.line),
        )
    for issue in result.warnings:
        if issue.category not in ("lint_repair", "action_repair"):  # already printed above
            print(_issue_text(issue, file), file=sys.stderr)
    atomic_write_bytes(args.out, result.shortcut_bytes)
    print(
        f"wrote {args.out} ({len(result.shortcut_bytes)} bytes, "
        f"{'strict' if result.compiled_strict else 'permissive: runtime-unverified'})"
    )
    return 0


def cmd_decompile(args: argparse.Namespace) -> int:
    from sashimi.dsl.decompiler import decompile
    from sashimi.dsl.printer import print_program
    from sashimi.io import atomic_write_text

    data, file = _read_bytes(args.file)
    if not data.strip():
        raise DataError("empty file — expected a .shortcut (binary or XML property list)", Location(file))
    result = decompile(data, _load_catalog(args), file=file, style=args.style)
    for w in result.warnings:
        where = f"{file}: action #{w.index}" if w.index is not None else file
        print(f"{where}: warning: {w.category}: {w.message}", file=sys.stderr)
    text = print_program(result.ir, dialect=args.dialect)
    if args.out:
        atomic_write_text(args.out, text)
        print(f"wrote {args.out} ({text.count(chr(10))} lines, {len(result.warnings)} warning(s))")
    else:
        sys.stdout.write(text)
    return 0


def cmd_corpus_check(args: argparse.Namespace) -> int:
    from sashimi.dsl.corpus import load_corpus
    from sashimi.dsl.corpus_check import RATE_KEYS, check_corpus

    rows = load_corpus(args.data)
    catalog = _load_catalog(args)
    report = check_corpus(rows, catalog, seed=args.seed, progress=not args.json)
    out = report.to_json()
    out["failures"] = out["failures"][: args.max_failures]
    out["failures_total"] = len(report.failures)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(f"{args.data}: {report.n} programs in {report.elapsed_seconds:.1f} s")
        for key in RATE_KEYS:
            print(f"  {key:<26} {out[key]:.4f}  ({report.counts[key]})")
        for f in out["failures"][:20]:
            print(f"  FAIL {f['stage']:<10} {f['id']}: {f['message']}")
        if len(report.failures) > 20:
            print(f"  … {len(report.failures) - 20} more (use --json)")
    return 0
