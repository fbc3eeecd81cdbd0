"""CLI of the ablations: `sashimi ablate report OUT` (the runner's `sashimi ablate --matrix ...` joins here).

`add_report_parser(subparsers)` adds the `report` subcommand to the `ablate` command's subparsers, so
the runner's CLI can build `ablate` itself and call it. Implementation modules are imported in the
handler (building the parser must not import torch or matplotlib).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(groups: dict) -> None:
    ablate = groups["root"].add_parser(
        "ablate",
        help="ablation matrices (plan 4.1/4.2): `ablate report OUT` writes the report of a run folder",
    )
    sub = ablate.add_subparsers(dest="ablate_command", metavar="SUBCOMMAND")
    add_report_parser(sub)
    ablate.set_defaults(func=lambda _args: (ablate.print_help(sys.stderr), 2)[1])


def add_report_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report",
        help="OUT/report.md, results.csv, comparisons.csv and plots/*.png from the run folders of OUT",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="the folder `sashimi ablate --out OUT` wrote")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples over rows (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(func=_report)
    return p


def _report(args: argparse.Namespace) -> int:
    from sashimi.errors import DataError
    from sashimi.eval.ablate.report import write_report

    if args.resamples < 1:
        raise DataError("--resamples must be at least 1")
    path = write_report(args.out, resamples=args.resamples, seed=args.seed, plots=not args.no_plots)
    print(f"wrote {path}, {args.out / 'results.csv'}, {args.out / 'comparisons.csv'}", file=sys.stderr)
    return 0
