"""`sashimi data ood`: build the in-domain / out-of-domain prompt set for the domain gate."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sashimi.data.ood import IN_DOMAIN, OOD, build_ood_set
from sashimi.io import run_metadata, write_json, write_jsonl


def register(groups: dict) -> None:
    p = groups["data"].add_parser(
        "ood",
        help="build the OOD prompt set (in-domain vs out-of-domain, template ids, balanced fillers)",
        description=(
            "Write {prompt, label, category, template_id} rows: in-domain prompts from the synthetic "
            "corpus, our own 'do this on the iPhone' contrast prompts (the counterpart of the OOD "
            "questions about iOS) and, with --data, real prompts; out-of-domain prompts from our "
            "templates; with a "
            "shared filler layer that keeps politeness/filler-word rates equal in both classes. A report "
            "JSON with counts and filler rates is written beside the output (<out stem>.report.json)."
        ),
    )
    p.add_argument("--out", required=True, type=Path, help="output JSONL file")
    p.add_argument(
        "--data", type=Path, help="optional ShortcutForge-format corpus: half the in-domain prompts"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-category", type=int, default=60, help="OOD prompts per category (10 categories)")
    p.add_argument("--in-domain", type=int, default=600, help="number of in-domain prompts")
    p.set_defaults(func=_run)


def report_path(out: Path) -> Path:
    return out.with_name(out.stem + ".report.json")


def _run(args: argparse.Namespace) -> int:
    started = time.time()
    result = build_ood_set(
        seed=args.seed,
        per_category=args.per_category,
        in_domain=args.in_domain,
        data=args.data,
        progress=True,
    )
    write_jsonl(args.out, (row.to_json() for row in result.rows))
    config = {
        "out": str(args.out),
        "data": str(args.data) if args.data else None,
        "seed": args.seed,
        "per_category": args.per_category,
        "in_domain": args.in_domain,
    }
    write_json(report_path(args.out), {**result.report, "run": run_metadata(config, started=started)})

    report = result.report
    print(f"wrote {len(result.rows)} rows to {args.out}")
    for key, count in report["counts"]["category"].items():
        print(f"  {key:40s} {count:5d}")
    print(
        f"  distinct templates: ood {report['templates']['ood_distinct']}, "
        f"in-domain {report['templates']['in_domain_distinct']}"
    )
    rates = report["filler"]["rates"]
    print(f"  {'filler (% of prompts)':24s} {IN_DOMAIN:>10s} {OOD:>10s} {'gap':>6s}")
    for name, gap in report["filler"]["gap_points"].items():
        print(f"  {name:24s} {rates[IN_DOMAIN][name]:10.1f} {rates[OOD][name]:10.1f} {gap:6.1f}")
    print(f"report: {report_path(args.out)}")
    return 0
