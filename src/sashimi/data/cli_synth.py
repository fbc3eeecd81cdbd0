"""`sashimi data synth` (generate the synthetic corpus) and `sashimi data synth-baseline`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(groups: dict) -> None:
    data = groups["data"]
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
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_synth)

    b = data.add_parser(
        "synth-baseline",
        help="bag-of-words baseline on a synthetic corpus directory",
        description="TF-IDF + logistic regression trained on <dir>/train.jsonl predicting the program skeleton "
        "and the intent-template set; evaluated on dev, test and test_compositional.",
    )
    b.add_argument("--dir", required=True, help="a directory written by `sashimi data synth`")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--json", action="store_true", help="print the results as JSON")
    b.set_defaults(func=_baseline)


def _bar(total: int, desc: str, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="ex", file=sys.stderr, disable=quiet, leave=False)


def _synth(args: argparse.Namespace) -> int:
    from sashimi.data.synth import generate_corpus, write_corpus
    from sashimi.errors import DataError, Location
    from sashimi.io import write_json

    if args.n < 10:
        raise DataError(f"--n must be at least 10, got {args.n}", Location("<args>"))
    with _bar(args.n, "generating", args.quiet) as bar:
        splits = generate_corpus(args.n, args.seed, comment=not args.no_comment, progress=bar.update)
    manifest = write_corpus(splits, args.out, seed=args.seed, n=args.n)
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


def _baseline(args: argparse.Namespace) -> int:
    from sashimi.data.synth.baseline import dumps, format_results, run_baseline

    results = run_baseline(args.dir, seed=args.seed)
    print(dumps(results) if args.json else format_results(results))
    return 0
