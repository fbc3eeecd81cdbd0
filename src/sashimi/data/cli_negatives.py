"""`sashimi data negatives`: build the hard-negative bank from a corpus file."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sashimi.dsl.corpus import load_corpus
from sashimi.data.negatives import SOURCES, build_bank
from sashimi.dsl.catalog import Catalog
from sashimi.errors import DataError
from sashimi.io import run_metadata, write_json, write_jsonl


def register(groups: dict) -> None:
    p = groups["data"].add_parser(
        "negatives",
        help="build the hard-negative bank (linter-style and synthetic corruptions, typed IR triples)",
        description=(
            "Write {prompt, shortcut_id, positive, negative, error_tags, source, ...} triples, positive and "
            "negative as typed IR JSON. A report JSON with counts per source, tag and operator is written "
            "beside the output (<out stem>.report.json)."
        ),
    )
    p.add_argument(
        "--data", required=True, type=Path, help="ShortcutForge-format corpus (e.g. the train split)"
    )
    p.add_argument("--out", required=True, type=Path, help="output JSONL file")
    p.add_argument(
        "--catalog-dir",
        type=Path,
        help="catalog directory (default: the reference catalog beside --data if present, else the core catalog)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-program", type=int, default=4, help="negatives per program, alternating sources")
    p.add_argument("--min-triples", type=int, default=0, help="exit non-zero if fewer triples were made")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def report_path(out: Path) -> Path:
    return out.with_name(out.stem + ".report.json")


def _catalog_dir(args: argparse.Namespace) -> Path | None:
    if args.catalog_dir is not None:
        return args.catalog_dir
    beside = args.data.parent / "action_catalog.json"
    return args.data.parent if beside.is_file() else None


def _run(args: argparse.Namespace) -> int:
    started = time.time()
    if args.per_program < 1:
        raise DataError("--per-program must be at least 1")
    catalog_dir = _catalog_dir(args)
    catalog = Catalog.load(catalog_dir)
    rows = load_corpus(args.data)
    print(f"{len(rows)} programs from {args.data}; catalog: {catalog_dir or 'core'} ({len(catalog)} actions)")
    triples, report = build_bank(
        rows, catalog, seed=args.seed, per_program=args.per_program, progress=not args.no_progress
    )
    write_jsonl(args.out, (t.to_json() for t in triples))
    config = {
        "data": str(args.data),
        "out": str(args.out),
        "catalog_dir": str(catalog_dir) if catalog_dir else None,
        "seed": args.seed,
        "per_program": args.per_program,
    }
    write_json(report_path(args.out), {**report, "run": run_metadata(config, started=started)})

    print(f"wrote {report['triples']} triples to {args.out}")
    print("  by source: " + ", ".join(f"{k} {v}" for k, v in report["by_source"].items()))
    print(f"  {'tag':22s} " + " ".join(f"{s:>10s}" for s in SOURCES) + f" {'total':>10s}")
    for tag, total in report["by_tag"].items():
        per = [report["by_source_tag"][s].get(tag, 0) for s in SOURCES]
        print(f"  {tag:22s} " + " ".join(f"{n:10d}" for n in per) + f" {total:10d}")
    print("  by operator: " + ", ".join(f"{k} {v}" for k, v in report["by_operator"].items()))
    if report.get("positives_not_strict_valid"):
        print(
            f"  note: {report['positives_not_strict_valid']} positives are not strict-valid under this catalog"
        )
    if report.get("skipped_unparseable"):
        print(f"  note: {report['skipped_unparseable']} programs did not parse and were skipped")
    print(f"report: {report_path(args.out)}")
    if report["triples"] < args.min_triples:
        print(f"error: {report['triples']} triples < --min-triples {args.min_triples}")
        return 1
    return 0
