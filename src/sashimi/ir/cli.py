"""CLI of the typed-IR area: `data typed-ir`, `data vocab` and `exp coverage`.

They sit in the `data` and `exp` groups of the command line but build on `sashimi.ir`, so they live here;
`data split` and the other data artifacts are in `sashimi/data/cli.py`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from sashimi.dsl.ast import ShortcutIR
from sashimi.dsl.corpus import CorpusRow, load_corpus
from sashimi.errors import DataError, Location, SashimiError
from sashimi.io import file_sha256, write_json, write_jsonl


def register(groups: dict) -> None:
    data, exp = groups["data"], groups["exp"]

    p = data.add_parser(
        "typed-ir", help="convert programs to the three-tier typed IR and check the round trip"
    )
    p.add_argument("--data", required=True, help="input JSONL (ShortcutForge chat format)")
    p.add_argument("--out", required=True, help="output JSONL of typed programs")
    p.add_argument("--report", required=True, help="output JSON report")
    p.add_argument("--catalog-dir", default=None, help="reference catalog folder (default: core catalog)")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.set_defaults(func=cmd_typed_ir)

    p = data.add_parser("vocab", help="build the Tier 1 and per-action Tier 2 vocabularies")
    p.add_argument("--data", required=True, help="training JSONL")
    p.add_argument("--catalog-dir", default=None, help="reference catalog folder (default: core catalog)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.set_defaults(func=cmd_vocab)

    p = exp.add_parser("coverage", help="EXP-1.3/1.4: Tier 1 / Tier 2 vocabulary coverage of a corpus")
    p.add_argument("--vocab", required=True, help="folder written by `sashimi data vocab`")
    p.add_argument("--data", required=True, help="JSONL to measure (e.g. the dev split)")
    p.add_argument(
        "--catalog-dir", default=None, help="catalog folder (default: the one the vocabulary was built with)"
    )
    p.add_argument("--out", default=None, help="also write the report to this JSON file")
    p.add_argument("--json", action="store_true", help="print the full report as JSON on stdout")
    p.set_defaults(func=cmd_coverage)


# ----------------------------------------------------------------------------- helpers


def _catalog(catalog_dir: str | None):
    from sashimi.dsl.catalog import Catalog

    return Catalog.load(catalog_dir)


def _parse_rows(
    rows: list[CorpusRow], data: str, desc: str
) -> tuple[list[tuple[CorpusRow, ShortcutIR]], list]:
    """Parse every target; unparseable rows are returned as failures (id, reason), never raised."""
    parsed: list[tuple[CorpusRow, ShortcutIR]] = []
    failures: list[dict] = []
    for row in tqdm(rows, desc=desc, file=sys.stderr, mininterval=0.5, leave=False):
        try:
            # row.parse honours the row's dialect (issue 11.3): the IR carries the true conditions.
            parsed.append((row, row.parse(file=f"{data}#{row.shortcut_id}")))
        except SashimiError as err:
            failures.append({"shortcut_id": row.shortcut_id, "stage": "parse", "reason": str(err)})
    return parsed, failures


def _print(obj: dict, as_json: bool, summary: str) -> None:
    if as_json:
        print(json.dumps(obj, indent=2, ensure_ascii=False))
    else:
        print(summary)


# ----------------------------------------------------------------------------- commands


def convert_row(row: CorpusRow, ir: ShortcutIR, catalog) -> tuple[dict | None, str | None]:
    """The typed JSONL record of one row, or the reason the round trip failed."""
    from sashimi.dsl.parser import parse
    from sashimi.ir.lowering import lower, lower_to_text
    from sashimi.ir.typed import TypedProgram, to_typed

    typed = to_typed(ir, catalog)
    record_typed = typed.to_json()
    # The record that is written must itself be lossless, so check the JSON form, not the object.
    reloaded = TypedProgram.from_json(json.loads(json.dumps(record_typed)))
    if reloaded != typed:
        return None, "typed IR changes through its JSON form"
    if lower(reloaded) != ir:
        return None, "lower(to_typed(ir)) != ir"
    text = lower_to_text(reloaded, dialect=row.dialect)
    if parse(text, dialect=row.dialect) != ir:
        return None, "parse(lower_to_text(typed)) != ir"
    counts = typed.tier_counts()
    record = {
        "shortcut_id": row.shortcut_id,
        "prompt": row.prompt,
        **record_typed,
        "metadata": {
            "actions": len(ir.all_actions()),
            "action_count": ir.action_count(),
            "tokens": len(typed.tokens),
            "tier1_tokens": counts[1],
            "tier2_tokens": counts[2],
            "tier3_slots": counts[3],
            "variables": len(typed.var_names),
            "dsl_chars": len(row.program),
            "dsl_lines": row.program.count("\n") + (not row.program.endswith("\n")),
            "canonical_text": text == row.program,
        },
    }
    return record, None


def cmd_typed_ir(args: argparse.Namespace) -> int:
    started = time.time()
    catalog = _catalog(args.catalog_dir)
    rows = load_corpus(args.data)
    parsed, failures = _parse_rows(rows, args.data, "parse")
    records: list[dict] = []
    for row, ir in tqdm(parsed, desc="typed IR", file=sys.stderr, mininterval=0.5, leave=False):
        try:
            record, reason = convert_row(row, ir, catalog)
        except SashimiError as err:
            record, reason = None, str(err)
        if record is None:
            failures.append({"shortcut_id": row.shortcut_id, "stage": "round_trip", "reason": reason})
        else:
            records.append(record)
    write_jsonl(args.out, records)
    elapsed = time.time() - started
    report = {
        "data": str(args.data),
        "input_sha256": file_sha256(args.data),
        "catalog": args.catalog_dir or "core",
        "total": len(rows),
        "parsed": len(parsed),
        "success": len(records),
        "lossless_rate": round(len(records) / len(parsed), 6) if parsed else None,
        "success_rate": round(len(records) / len(rows), 6) if rows else None,
        "canonical_text_rows": sum(r["metadata"]["canonical_text"] for r in records),
        "tokens": {
            "tier1": sum(r["metadata"]["tier1_tokens"] for r in records),
            "tier2": sum(r["metadata"]["tier2_tokens"] for r in records),
            "tier3": sum(r["metadata"]["tier3_slots"] for r in records),
        },
        "failed_ids": failures,
        "elapsed_seconds": round(elapsed, 3),
    }
    write_json(args.report, report)
    _print(
        report,
        args.json,
        f"{report['success']}/{report['total']} rows converted losslessly "
        f"(lossless_rate {report['lossless_rate']} of {report['parsed']} parsed, "
        f"{len(failures)} failed) in {elapsed:.1f}s -> {args.out}",
    )
    return 0


def cmd_vocab(args: argparse.Namespace) -> int:
    from sashimi.ir.vocab import build_vocab, save_vocab

    catalog = _catalog(args.catalog_dir)
    rows = load_corpus(args.data)
    parsed, failures = _parse_rows(rows, args.data, "parse")
    vocab = build_vocab((ir for _, ir in parsed), catalog, catalog_actions=catalog.actions)
    extra = {
        "data": Path(args.data).name,
        "input_sha256": file_sha256(args.data),
        "catalog_dir": args.catalog_dir,
        "catalog_source": getattr(catalog, "source", "custom"),
        "rows": len(rows),
        "parse_failures": failures,
    }
    save_vocab(vocab, args.out, extra_meta=extra)
    summary = {**vocab.meta, **extra, "out": str(args.out)}
    _print(
        summary,
        args.json,
        f"Tier 1: {len(vocab.tier1)} tokens; Tier 2: {len(vocab.tier2)} actions "
        f"({vocab.meta['tier2_actions_seen_in_training']} seen in training); "
        f"{len(parsed)} programs ({len(failures)} unparseable) -> {args.out}",
    )
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from sashimi.ir.coverage import coverage_report
    from sashimi.ir.typed import to_typed
    from sashimi.ir.vocab import load_vocab

    vocab = load_vocab(args.vocab)
    catalog_dir = args.catalog_dir if args.catalog_dir is not None else vocab.meta.get("catalog_dir")
    if catalog_dir is not None and not Path(catalog_dir).exists():
        raise DataError(
            "the catalog the vocabulary was built with is not here; pass --catalog-dir",
            Location(str(catalog_dir)),
        )
    catalog = _catalog(catalog_dir)
    rows = load_corpus(args.data)
    parsed, failures = _parse_rows(rows, args.data, "parse")
    report = coverage_report(vocab, ((row.shortcut_id, to_typed(ir, catalog)) for row, ir in parsed), catalog)
    report = {
        "vocab": str(args.vocab),
        "data": str(args.data),
        "catalog": catalog_dir or "core",
        "rows": len(rows),
        "parse_failures": failures,
        **report,
    }
    if args.out:
        write_json(args.out, report)
    t1, t2 = report["tier1"], report["tier2"]
    _print(
        report,
        args.json,
        "\n".join(
            [
                f"programs: {report['programs']} parsed of {len(rows)}",
                f"Tier 1 coverage: {t1['by_occurrence']['rate']} by occurrence, {t1['by_type']['rate']} by type "
                f"(target {t1['target']}: {'met' if t1['meets_target'] else 'NOT met'}); "
                f"uncovered: {', '.join(u['token'] for u in t1['uncovered'][:10]) or '-'}",
                f"Tier 2 coverage: {t2['by_occurrence']['rate']} by occurrence, {t2['by_type']['rate']} by type "
                f"(target {t2['target']}: {'met' if t2['meets_target'] else 'NOT met'})",
                f"Tier 1 length: {report['lengths']['tier1']}",
                f"Tier 2 tokens per action: {report['tier2_per_action']}",
            ]
        ),
    )
    return 0
