"""Commands of the eval area: `sashimi evaluate`, `sashimi baseline`, `sashimi gates` (top level).

`register(groups)` is what `sashimi.cli` calls; the harness commands are added by `_register_harness`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sashimi.dsl.catalog import Catalog
from sashimi.errors import DataError, Location
from sashimi.eval.baselines import BASELINES, REFERENCE, run_baseline, verbatim_overlap
from sashimi.eval.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
from sashimi.eval.ceilings import ceiling_predictions
from sashimi.eval.gates import check_gates
from sashimi.eval.gates import render as render_gates
from sashimi.eval.harness import Scorer, evaluate, prepare_gold
from sashimi.eval.predictions import match_predictions, read_gold, read_predictions, write_predictions
from sashimi.eval.report import build_summary, render_markdown, write_outputs, write_plot
from sashimi.eval.validity import MAX_PROGRAM_CHARS
from sashimi.io import git_commit, read_json


def register(groups: dict) -> None:
    _register_harness(groups)


def _register_harness(groups: dict) -> None:
    root = groups["root"]
    p = root.add_parser(
        "evaluate",
        help="score predictions against gold programs: validity + fidelity, bootstrap CIs, baselines, ceilings",
        description="Score a predictions JSONL ({id, prompt, dsl, accepted, ms}) against gold programs "
        "(ShortcutForge chat JSONL or {id, prompt, program}). Writes rows.jsonl, summary.json and report.md "
        "into --out.",
    )
    p.add_argument(
        "--predictions", type=Path, help="predictions JSONL (optional with --baselines/--ceilings)"
    )
    p.add_argument("--data", type=Path, required=True, help="gold JSONL")
    p.add_argument("--out", type=Path, help="output folder for rows.jsonl, summary.json, report.md")
    p.add_argument("--json", action="store_true", help="print summary.json to stdout (default: report.md)")
    p.add_argument(
        "--name", default="system", help="name of the scored system in the table (default: system)"
    )
    p.add_argument(
        "--allow-missing", action="store_true", help="score gold ids without a prediction as failures"
    )
    p.add_argument(
        "--baselines", action="store_true", help=f"also score {', '.join(BASELINES)} (needs --train)"
    )
    p.add_argument("--ceilings", action="store_true", help="also score retrieval ceilings (needs --train)")
    p.add_argument("--train", type=Path, help="training JSONL for --baselines / --ceilings")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="bootstrap seed (default 0)")
    p.add_argument(
        "--resamples", type=int, default=DEFAULT_RESAMPLES, help="bootstrap resamples (default 1000)"
    )
    p.add_argument(
        "--max-chars",
        type=int,
        default=MAX_PROGRAM_CHARS,
        help="longer programs are failures (default 100000)",
    )
    p.add_argument(
        "--plot", action="store_true", help="also write DIR/report.png (metrics with CIs per system)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _catalog_arg(p)
    p.set_defaults(func=_evaluate)

    p = root.add_parser(
        "baseline",
        help="write a baseline's predictions (empty, most-frequent, knn-minilm, knn-tfidf)",
        description="Predict every gold prompt with a baseline and write the predictions format.",
    )
    p.add_argument(
        "kind",
        choices=BASELINES + (REFERENCE,),
        help="a baseline, or 'reference' (the gold programs themselves: the harness's self-check)",
    )
    p.add_argument("--train", type=Path, help="training JSONL (all but 'empty' and 'reference')")
    p.add_argument("--data", type=Path, required=True, help="gold JSONL whose prompts are predicted")
    p.add_argument("--out", type=Path, required=True, help="predictions JSONL to write")
    p.add_argument(
        "--latency",
        action="store_true",
        help="kNN only: time each query alone (uncached encoding + search) and write it as 'ms'",
    )
    _catalog_arg(p)
    p.set_defaults(func=_baseline)

    p = root.add_parser(
        "gates",
        help="promotion gates of the plan: pass/fail per gate, fidelity beside; exit 0 iff all pass",
        description="Check the plan's promotion gates on an evaluation summary. A gate with no measurement "
        "prints 'not measured' and fails.",
    )
    p.add_argument("report", type=Path, help="summary.json written by sashimi evaluate --out DIR")
    p.add_argument(
        "--gate", type=Path, help="gate report JSON (sashimi exp gate --json) for OOD false accept"
    )
    p.add_argument(
        "--model",
        type=Path,
        help="model report JSON with params_total and/or separability_nats (top level or 'metrics')",
    )
    p.add_argument("--system", help="which system of the summary (default: the first)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_gates)


def _catalog_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--catalog-dir",
        type=Path,
        help="reference-format catalog directory (action_catalog.json + param_schemas.json); "
        "default: the core catalog shipped with sashimi",
    )


def _load_catalog(args: argparse.Namespace) -> Catalog:
    return Catalog.load(args.catalog_dir)


def _baseline(args: argparse.Namespace) -> int:
    catalog = _load_catalog(args)
    gold = read_gold(args.data)
    train = read_gold(args.train) if args.train else None
    if args.latency and args.kind not in ("knn-minilm", "knn-tfidf"):
        raise DataError("--latency applies to knn-minilm and knn-tfidf")
    preds = run_baseline(args.kind, gold, train, catalog, timed=args.latency)
    write_predictions(args.out, preds)
    info = f"{args.kind}: {len(preds)} predictions -> {args.out}"
    if train is not None:
        info += f"; gold prompts found verbatim in the training file: {verbatim_overlap(gold, train)} of {len(gold)}"
    print(info, file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.predictions is None and not (args.baselines or args.ceilings):
        raise DataError("give --predictions, or --baselines / --ceilings with --train")
    if (args.baselines or args.ceilings) and args.train is None:
        raise DataError("--baselines and --ceilings need --train TRAIN.jsonl")
    if args.resamples < 1:
        raise DataError("--resamples must be at least 1")
    progress = not args.quiet and sys.stderr.isatty()
    catalog = _load_catalog(args)
    gold_rows = read_gold(args.data)
    gold = prepare_gold(gold_rows, catalog, file=str(args.data))
    scorer = Scorer(catalog, max_chars=args.max_chars)
    common = {"scorer": scorer, "seed": args.seed, "resamples": args.resamples, "progress": progress}
    systems: list[dict] = []
    if args.predictions is not None:
        preds = read_predictions(args.predictions)
        matched = match_predictions(
            preds, gold_rows, allow_missing=args.allow_missing, file=str(args.predictions)
        )
        systems.append(evaluate(matched, gold, name=args.name, aligned=True, **common))
    extra: dict = {}
    train = read_gold(args.train) if args.train is not None else None
    if train is not None:
        extra["verbatim_prompts_in_train"] = verbatim_overlap(gold_rows, train)
    if args.baselines:
        for kind in BASELINES:
            preds = run_baseline(kind, gold_rows, train, catalog)
            systems.append(evaluate(preds, gold, name=kind, **common))
    if args.ceilings:
        for name, preds in ceiling_predictions(gold, train, catalog).items():
            systems.append(evaluate(preds, gold, name=name, aligned=True, **common))
    config = {
        "data": str(args.data),
        "predictions": str(args.predictions) if args.predictions else None,
        "train": str(args.train) if args.train else None,
        "catalog": str(args.catalog_dir) if args.catalog_dir else "core",
        "seed": args.seed,
        "resamples": args.resamples,
        "max_chars": args.max_chars,
        "git_commit": git_commit(Path(__file__).parent),
    }
    extra["elapsed_seconds"] = round(time.perf_counter() - started, 3)
    summary = build_summary(systems, config, extra)
    if args.plot and args.out is None:
        raise DataError("--plot needs --out DIR")
    if args.out is not None:
        write_outputs(args.out, summary, systems)
        if args.plot:
            write_plot(args.out / "report.png", systems, title=f"{args.data.name} ({summary['n']} rows)")
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(render_markdown(summary, systems))
    return 0


def _gates(args: argparse.Namespace) -> int:
    summary = _json_object(args.report)
    gate_report = _json_object(args.gate) if args.gate else None
    model_report = _json_object(args.model) if args.model else None
    result = check_gates(summary, gate_report=gate_report, model_report=model_report, system=args.system)
    print(json.dumps(result, indent=2) if args.json else render_gates(result))
    return 0 if result["passed"] else 1


def _json_object(path: Path) -> dict:
    obj = read_json(path)
    if not isinstance(obj, dict):
        raise DataError("expected a JSON object", Location(str(path)))
    return obj
