"""`sashimi dsl …`: check, compile, decompile and corpus-check ShortcutDSL programs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sashimi.errors import DataError, Location


def register(groups: dict) -> None:
    dsl = groups["dsl"]

    p = dsl.add_parser("check", help="lint, parse and validate a DSL file; report repairs, errors, warnings")
    p.add_argument("file", help="DSL text file ('-' for stdin)")
    _catalog_arg(p)
    p.add_argument("--no-lint", action="store_true", help="parse the text as is, without repairs")
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
    p.set_defaults(func=cmd_compile)

    p = dsl.add_parser("decompile", help="decompile a .shortcut (binary or XML plist) to canonical DSL")
    p.add_argument("file", help=".shortcut file")
    _catalog_arg(p)
    p.add_argument("-o", "--out", help="write the DSL here instead of stdout")
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


def _read_text(path: str) -> tuple[str, str]:
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(path).read_text(encoding="utf-8"), path
    except FileNotFoundError:
        raise DataError("file not found", Location(path)) from None
    except UnicodeDecodeError as err:
        raise DataError(f"not UTF-8 text (byte {err.start})", Location(path)) from None
    except OSError as err:
        raise DataError(f"cannot read: {err.strerror}", Location(path)) from None


def _issue_json(issue) -> dict:
    return {
        k: getattr(issue, k, None)
        for k in ("severity", "category", "message", "action_name", "param_name", "line")
    }


def _issue_text(issue, file: str) -> str:
    where = f"{file}:{issue.line}" if issue.line else file
    return f"{where}: {issue.severity}: {issue.category}: {issue.message}"


def cmd_check(args: argparse.Namespace) -> int:
    from sashimi.dsl.pipeline import run_pipeline

    text, file = _read_text(args.file)
    catalog = _load_catalog(args)
    result = run_pipeline(text, catalog, file=file, do_lint=not args.no_lint)
    if args.json:
        out = {
            "file": file,
            "parsed": result.parsed,
            "strict_valid": result.strict_valid,
            "permissive_valid": result.permissive_valid,
            "compiles": result.compiled_permissive,
            "lint_changes": [c.__dict__ if hasattr(c, "__dict__") else c for c in result.lint_changes],
            "errors": [_issue_json(i) for i in (result.strict_errors or result.permissive_errors)],
            "warnings": [_issue_json(i) for i in result.warnings],
            "error": result.error,
        }
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        for c in result.lint_changes:
            print(
                f"{file}:{c.line}: repaired ({c.kind}, confidence {c.confidence:.2f}): "
                f"{c.original!r} -> {c.replacement!r}: {c.reason}"
            )
        if not result.parsed:
            print(result.error)
        for issue in result.strict_errors:
            print(_issue_text(issue, file))
        for issue in result.warnings:
            print(_issue_text(issue, file))
        if result.parsed:
            verdict = (
                "valid (strict)"
                if result.strict_valid
                else "valid (permissive only)"
                if result.permissive_valid
                else "invalid"
            )
            print(
                f"{file}: {verdict}; {len(result.lint_changes)} repair(s), "
                f"{len(result.strict_errors)} error(s), {len(result.warnings)} warning(s)"
            )
    return 0 if result.strict_valid else 1


def cmd_compile(args: argparse.Namespace) -> int:
    from sashimi.dsl.pipeline import run_pipeline
    from sashimi.errors import ValidationError
    from sashimi.io import atomic_write_bytes

    text, file = _read_text(args.file)
    catalog = _load_catalog(args)
    result = run_pipeline(text, catalog, file=file, seed=args.seed, do_lint=not args.no_lint)
    for c in result.lint_changes:
        print(f"{file}:{c.line}: repaired ({c.kind}): {c.original!r} -> {c.replacement!r}", file=sys.stderr)
    if not result.parsed:
        print(f"error: {result.error}", file=sys.stderr)
        return 2
    ok = result.compiled_strict or (args.permissive and result.compiled_permissive)
    if not ok:
        if result.failed_stage == "compile":
            print(f"error: {result.error}", file=sys.stderr)
            return 2
        errors = result.strict_errors or result.permissive_errors
        issue = errors[0]
        hint = " (use --permissive to compile anyway)" if result.permissive_valid else ""
        raise ValidationError(f"{issue.category}: {issue.message}{hint}", Location(file, issue.line))
    for issue in result.warnings:
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

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", Location(str(path))) from None
    except OSError as err:
        raise DataError(f"cannot read: {err.strerror}", Location(str(path))) from None
    result = decompile(data, _load_catalog(args), file=str(path))
    for w in result.warnings:
        print(f"{path}: warning: {getattr(w, 'category', '')}: {getattr(w, 'message', w)}", file=sys.stderr)
    text = print_program(result.ir)
    if args.out:
        atomic_write_text(args.out, text)
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
