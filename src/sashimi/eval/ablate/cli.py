"""`sashimi ablate`: run an ablation matrix (train + generate + evaluate per run and seed), and report it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(groups: dict) -> None:
    p = groups["root"].add_parser(
        "ablate",
        help="run an ablation matrix (train, generate, evaluate every run x seed), resumably; `ablate report`",
        description=(
            "Run every run of --matrix for --seeds seeds into --out: data and baselines once, then per job "
            "`sashimi train`, `sashimi generate` and `sashimi evaluate` as child processes, --workers at a time. "
            "Rerunning the command resumes: finished jobs are kept, a killed training continues from its "
            "checkpoint. Then writes the report (`sashimi ablate report OUT` rewrites it)."
        ),
    )
    p.add_argument("--matrix", type=Path, help="matrix YAML (e.g. configs/ablation/priority.yaml)")
    p.add_argument("--out", type=Path, help="matrix folder (runs/, data/, baselines/, report)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per run (default 3)")
    p.add_argument("--workers", type=int, default=2, help="jobs at a time (default 2: one per core)")
    p.add_argument(
        "--backend", choices=("local", "ray"), default="local", help="local processes or Ray tasks"
    )
    p.add_argument("--ray-address", default=None, help="an existing Ray cluster (default: start a local one)")
    p.add_argument("--only", nargs="+", metavar="RUN", help="run only these runs of the matrix")
    p.add_argument("--no-report", action="store_true", help="do not write the report at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    p.add_argument("--json", action="store_true", help="print the invocation record as JSON")
    p.set_defaults(func=_cmd_ablate)
    sub = p.add_subparsers(dest="ablate_command", metavar="SUBCOMMAND")
    r = sub.add_parser("report", help="(re)write OUT/report.md, results.csv and plots/ from the run folders")
    r.add_argument("out_dir", type=Path, help="a matrix folder written by `sashimi ablate`")
    r.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples over rows (default 1000)")
    r.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.set_defaults(func=_cmd_report)


def _cmd_ablate(args: argparse.Namespace) -> int:
    from sashimi.errors import DataError
    from sashimi.eval.ablate.matrix import load_matrix
    from sashimi.eval.ablate.runner import run_matrix

    if args.matrix is None or args.out is None:
        raise DataError(
            "sashimi ablate needs --matrix FILE.yaml and --out DIR (or: sashimi ablate report DIR)"
        )
    matrix = load_matrix(args.matrix)
    record = run_matrix(
        matrix,
        args.out,
        seeds=args.seeds,
        workers=args.workers,
        backend=args.backend,
        ray_address=args.ray_address,
        only=args.only,
        quiet=args.quiet,
    )
    if not args.no_report:
        from sashimi.eval.ablate.report import write_report

        path = write_report(args.out)
        if not args.quiet:
            print(f"report: {path}")
    if args.json:
        print(json.dumps(record, indent=2))
    elif not args.quiet:
        print(
            f"matrix {record['matrix']}: {record['ran']} of {record['jobs']} jobs run in {record['wall_seconds']:.0f}s "
            f"({', '.join(f'{k} {v}' for k, v in sorted(record['statuses'].items())) or 'nothing to do'})"
        )
    return 1 if record["statuses"].get("failed") else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from sashimi.errors import DataError, Location
    from sashimi.eval.ablate.report import write_report

    if not (args.out_dir / "matrix.json").is_file():
        raise DataError("not a matrix folder (no matrix.json)", Location(str(args.out_dir)))
    if args.resamples < 1:
        raise DataError("--resamples must be at least 1")
    path = write_report(args.out_dir, resamples=args.resamples, seed=args.seed, plots=not args.no_plots)
    print(f"report: {path}")
    return 0
