"""The `sashimi` command line: one entry point, subcommands grouped by pipeline stage.

Each area of the package owns one `cli.py` with a `register(groups)` function that adds its subcommands
to the argparse groups below (`dsl`, `data`, `exp`, or the top level). `COMMAND_MODULES` lists every one
of them; a module that fails to import is an error, never skipped (tests/test_cli_registry.py checks that
each listed module imports and that every `cli.py` in the package is listed). Handlers are set
with `parser.set_defaults(func=handler)`; a handler returns an exit code (or None for 0).

Errors about bad input are `SashimiError`s and print as one line `file:line:col: message`; anything
else prints one line too (set SASHIMI_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from sashimi import __version__
from sashimi.errors import SashimiError

# The modules that contribute subcommands, in help order (layer order, architecture.md §7). A new area's
# cli.py goes here; the registry test fails until it does.
COMMAND_MODULES = (
    "sashimi.dsl.cli",
    "sashimi.ir.cli",
    "sashimi.data.cli",
    "sashimi.model.cli",
    "sashimi.train.cli",
    "sashimi.eval.cli",
    "sashimi.eval.ablate.cli",
    "sashimi.serve.cli",
)

GROUPS = {
    "dsl": "ShortcutDSL toolchain: check, compile, decompile, corpus-check",
    "data": "data artifacts: splits, typed IR, vocabularies, synthetic corpus, negatives, OOD set",
    "exp": "experiments of the plan (coverage, encoder, gate, toy problem, ...)",
}


# Commands whose start-up time is part of the product (issue 13: a cold `sashimi generate` <= 4 s;
# issue 15: `sashimi serve` answers in <= 5 s): only their own module is imported, not every area's
# CLI (those pull in scipy, scikit-learn, ...).
FAST_COMMANDS = {"generate": "sashimi.model.cli", "serve": "sashimi.serve.cli"}


def build_parser(modules: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sashimi", description="Balanced Sashimi: natural language to Apple Shortcuts."
    )
    parser.add_argument("--version", action="version", version=f"sashimi {__version__}")
    root = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {"root": root}
    for name, help_text in GROUPS.items():
        group_parser = root.add_parser(name, help=help_text, description=help_text)
        groups[name] = group_parser.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")
        group_parser.set_defaults(func=_usage(group_parser))
    for module_name in COMMAND_MODULES if modules is None else modules:  # an import error propagates
        importlib.import_module(module_name).register(groups)
    parser.set_defaults(func=_usage(parser))
    return parser


def _usage(parser: argparse.ArgumentParser):
    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return show


def main(argv: list[str] | None = None) -> int:
    first = (sys.argv[1:] if argv is None else argv)[:1]
    fast = FAST_COMMANDS.get(first[0]) if first else None
    parser = build_parser((fast,) if fast else None)
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except SashimiError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # last line of defence: one line, no traceback
        if os.environ.get("SASHIMI_DEBUG"):
            raise
        print(f"internal error: {type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
