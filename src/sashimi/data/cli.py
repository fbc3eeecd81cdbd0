"""CLI of the data area: `sashimi data split|synth|synth-baseline|negatives|ood`.

Like every area's `cli.py`, it imports its implementation modules inside the handlers: `sashimi --help`
and every other command build the whole parser, and should not pay for scipy, scikit-learn or torch.

The typed-IR commands of the `data` group (`data typed-ir`, `data vocab`) build on `sashimi.ir` and live
in `sashimi/ir/cli.py`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sashimi.errors import DataError, Location
from sashimi.io import progress, run_metadata, write_json, write_jsonl


def register(groups: dict) -> None:
    data = groups["data"]
    _register_split(data)
    _register_synth(data)
    _register_negatives(data)
    _register_ood(data)


def report_path(out: Path) -> Path:
    """Where `data negatives` and `data ood` write their report: beside the output, `<stem>.report.json`."""
    return out.with_name(out.stem + ".report.json")


# ----------------------------------------------------------------------------- split


def _register_split(data) -> None:
    p = data.add_parser("split", help="deterministic train/dev split grouped by shortcut family")
    p.add_argument("--data", required=True, help="input JSONL (ShortcutForge chat format)")
    p.add_argument("--out", required=True, help="output folder for train.jsonl, dev.jsonl, manifest.json")
    p.add_argument("--dev-fraction", type=float, default=0.1, help="share of rows in dev (default 0.1)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_split)


def cmd_split(args: argparse.Namespace) -> int:
    from sashimi.data.splits import write_split

    manifest = write_split(args.data, args.out, args.dev_fraction, args.seed)
    c = manifest["counts"]
    print(
        f"{c['total']} rows -> train {c['train']}, dev {c['dev']} ({100 * c['dev_share']:.1f}%); "
        f"{c['groups']} groups ({c['multi_row_groups']} with several rows); written to {args.out}"
    )
    return 0


# ----------------------------------------------------------------------------- synth


def _register_synth(data) -> None:
    p = data.add_parser(
        "synth",
        help="generate the synthetic (prompt, program) corpus",
        description="Generate the synthetic corpus: train/dev/test/test_compositional JSONL (ShortcutForge "
        "format), metadata.jsonl and manifest.json. Deterministic for a seed.",
    )
    p.add_argument("--n", type=int, default=5000, help="total examples over all splits (default 5000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument(
        "--no-comment", action="store_true", help="omit the leading comment action holding the request"
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="also parse/validate/compile (strict, core catalog) and typed-IR round-trip every program; "
        "writes check.json",
    )
    p.add_argument(
        "--baseline", action="store_true", help="also run the bag-of-words baseline; writes baseline.json"
    )
    p.add_argument(
        "--holdout-seed",
        type=int,
        default=None,
        help="hold out the intent pairs of this seed's corpus instead of --seed's (more training data for "
        "an existing corpus: use only the new train split, which then holds none of its compositional pairs)",
    )
    p.add_argument(
        "--exclude",
        nargs="+",
        default=[],
        metavar="FILE.jsonl",
        help="never draw a prompt that occurs in these corpus files (e.g. an existing corpus's splits)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_synth)

    b = data.add_parser(
        "synth-baseline",
        help="bag-of-words baseline on a synthetic corpus directory",
        description="TF-IDF + logistic regression trained on <dir>/train.jsonl predicting the program skeleton "
        "and the intent-template set; evaluated on dev, test and test_compositional.",
    )
    b.add_argument("--dir", required=True, help="a directory written by `sashimi data synth`")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--json", action="store_true", help="print the results as JSON")
    b.set_defaults(func=cmd_synth_baseline)


def _bar(total: int, desc: str, quiet: bool):
    return progress(total=total, desc=desc, unit="ex", enabled=False if quiet else None)


def cmd_synth(args: argparse.Namespace) -> int:
    from sashimi.data.synth import generate_corpus, write_corpus

    if args.n < 10:
        raise DataError(f"--n must be at least 10, got {args.n}", Location("<args>"))
    from sashimi.dsl.corpus import load_corpus

    excluded = {row.prompt for path in args.exclude for row in load_corpus(path)}
    with _bar(args.n, "generating", args.quiet) as bar:
        splits = generate_corpus(
            args.n,
            args.seed,
            comment=not args.no_comment,
            progress=bar.update,
            holdout_seed=args.holdout_seed,
            exclude_prompts=excluded,
        )
    manifest = write_corpus(splits, args.out, seed=args.seed, n=args.n)
    if args.holdout_seed is not None or args.exclude:
        manifest["holdout_seed"] = args.seed if args.holdout_seed is None else args.holdout_seed
        manifest["excluded_prompts_of"] = [str(p) for p in args.exclude]
        write_json(Path(args.out) / "manifest.json", manifest)
    counts = ", ".join(f"{k} {v['count']}" for k, v in manifest["splits"].items())
    print(f"wrote {manifest['total']} examples to {args.out}: {counts}")
    print(
        f"domains {len(manifest['splits']['train']['domains'])}, templates used {manifest['distinct_templates_used']}, "
        f"control flow {manifest['control_flow_share']:.1%} ({manifest['control_flow_kinds']})"
    )
    code = 0
    if args.check:
        from sashimi.data.synth.check import check_examples

        examples = [e for name in ("train", "dev", "test", "test_compositional") for e in splits[name]]
        with _bar(len(examples), "checking", args.quiet) as bar:
            report = check_examples(examples, progress=bar.update)
        write_json(Path(args.out) / "check.json", report.to_json())
        rates = report.rates()
        print("check: " + ", ".join(f"{k} {v:.2%}" for k, v in rates.items()))
        for sid, stage, msg in report.failures[:10]:
            print(f"  {sid}: {stage}: {msg}")
        code = 0 if all(v == 1.0 for v in rates.values()) else 1
    if args.baseline:
        from sashimi.data.synth.baseline import format_results, run_baseline

        results = run_baseline(args.out, seed=args.seed)
        # elapsed time stays out of the file so reruns stay byte-identical
        write_json(
            Path(args.out) / "baseline.json", {k: v for k, v in results.items() if k != "elapsed_seconds"}
        )
        print(format_results(results))
    return code


def cmd_synth_baseline(args: argparse.Namespace) -> int:
    from sashimi.data.synth.baseline import dumps, format_results, run_baseline

    results = run_baseline(args.dir, seed=args.seed)
    print(dumps(results) if args.json else format_results(results))
    return 0


# ----------------------------------------------------------------------------- negatives


def _register_negatives(data) -> None:
    p = data.add_parser(
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
    p.add_argument("--quiet", "--no-progress", dest="quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_negatives)


def _catalog_dir(args: argparse.Namespace) -> Path | None:
    if args.catalog_dir is not None:
        return args.catalog_dir
    beside = args.data.parent / "action_catalog.json"
    return args.data.parent if beside.is_file() else None


def cmd_negatives(args: argparse.Namespace) -> int:
    from sashimi.data.negatives import SOURCES, build_bank
    from sashimi.dsl.catalog import Catalog
    from sashimi.dsl.corpus import load_corpus

    started = time.time()
    if args.per_program < 1:
        raise DataError("--per-program must be at least 1")
    catalog_dir = _catalog_dir(args)
    catalog = Catalog.load(catalog_dir)
    rows = load_corpus(args.data)
    print(f"{len(rows)} programs from {args.data}; catalog: {catalog_dir or 'core'} ({len(catalog)} actions)")
    triples, report = build_bank(
        rows, catalog, seed=args.seed, per_program=args.per_program, progress=False if args.quiet else None
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


# ----------------------------------------------------------------------------- ood


def _register_ood(data) -> None:
    p = data.add_parser(
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
    p.add_argument(
        "--per-category",
        type=int,
        default=60,
        help="OOD prompts per category (16 categories; 22 with --more-templates)",
    )
    p.add_argument("--in-domain", type=int, default=600, help="number of in-domain prompts")
    p.add_argument(
        "--more-templates",
        action="store_true",
        help="add the third template batch (six more OOD categories and their in-domain twins; issue 16)",
    )
    p.add_argument(
        "--typo-copies",
        type=int,
        default=0,
        metavar="K",
        help="add K copies of every prompt with one typo each (same label and template id; issue 16)",
    )
    p.set_defaults(func=cmd_ood)


def cmd_ood(args: argparse.Namespace) -> int:
    from sashimi.data.ood import IN_DOMAIN, OOD, build_ood_set

    started = time.time()
    result = build_ood_set(
        seed=args.seed,
        per_category=args.per_category,
        in_domain=args.in_domain,
        data=args.data,
        progress=True,
        more_templates=args.more_templates,
        typo_copies=args.typo_copies,
    )
    write_jsonl(args.out, (row.to_json() for row in result.rows))
    config = {
        "out": str(args.out),
        "data": str(args.data) if args.data else None,
        "seed": args.seed,
        "per_category": args.per_category,
        "in_domain": args.in_domain,
        "more_templates": args.more_templates,
        "typo_copies": args.typo_copies,
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
