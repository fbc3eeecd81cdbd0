"""CLI of the evaluation area: the experiments that measure model components.

`sashimi exp encoder` (EXP-1.1) and `sashimi exp gate` (EXP-1.2: compare, cross-validate, or score the
shipped gate). An experiment never changes what users run: `exp gate` writes a gate only to an explicit
`--save DIR`.

Like every area's `cli.py`, it imports its implementation modules inside the handlers so that building
the parser (for any command) does not import torch, sentence-transformers or scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(groups: dict) -> None:
    _register_experiments(groups)


def _register_experiments(groups: dict) -> None:
    """`exp encoder` and `exp gate`."""
    exp = groups["exp"]

    p = exp.add_parser("encoder", help="EXP-1.1: MiniLM class separation, silhouette by domain, 2-D map")
    p.add_argument("--data", type=Path, required=True, help="corpus JSONL (ShortcutForge chat format)")
    p.add_argument("--out", type=Path, required=True, help="output folder (metrics JSON, map PNG)")
    p.add_argument("--cache-dir", type=Path, default=None, help="embedding cache (default $SASHIMI_CACHE)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bar (there is none off a terminal)")
    p.set_defaults(func=_cmd_encoder)

    p = exp.add_parser(
        "gate",
        help="EXP-1.2: train/compare domain gates, --cv K to cross-validate, or --evaluate the shipped gate",
    )
    p.add_argument(
        "--ood", type=Path, help="labelled prompts {prompt, label, template_id} to train and test on"
    )
    p.add_argument("--evaluate", type=Path, help="score the saved gate on a labelled JSONL {prompt, label}")
    p.add_argument(
        "--real-dev", type=Path, help="corpus JSONL of in-domain prompts: report the false-reject rate"
    )
    p.add_argument("--gate", type=Path, default=None, help="gate asset folder (default: the shipped one)")
    p.add_argument(
        "--save",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --ood: write the adopted gate to DIR (default: save nothing; the shipped gate is made by "
        "`benchmarks/reproduce.sh OUT gate-ship`)",
    )
    p.add_argument("--out", type=Path, default=None, help="run folder for the metrics JSON")
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threshold-rule",
        choices=("f1", "precision", "fixed"),
        default="precision",
        help="how each head's threshold is set on out-of-fold training scores: 'precision' = the most "
        "OOD caught at >= 0.99 precision (the plan's bar; default), 'f1' = best F1, 'fixed' = 0.5",
    )
    p.add_argument(
        "--features",
        nargs="+",
        choices=("embedding", "embedding+lexical"),
        default=("embedding", "embedding+lexical"),
        help="feature sets to compare (default: both)",
    )
    p.add_argument(
        "--kinds",
        nargs="+",
        choices=("linear", "mlp", "svm"),
        default=None,
        help="gate heads to compare (default: all three; the simplest one meeting the bar is adopted)",
    )
    p.add_argument(
        "--cv",
        type=int,
        default=None,
        metavar="K",
        help="with --ood: pooled K-fold cross-validation grouped by template (every prompt scored once by "
        "a gate that never saw its template); evaluates the protocol only, never saves a gate "
        "(--cv with --save is an error)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bar (there is none off a terminal)")
    p.set_defaults(func=_cmd_exp_gate)

    p = exp.add_parser(
        "gate-flips",
        help="metamorphic test of the saved gate: share of decisions 8 meaning-preserving rewrites flip",
    )
    p.add_argument("--data", type=Path, required=True, help="labelled JSONL {prompt, label}")
    p.add_argument("--gate", type=Path, default=None, help="gate asset folder (default: the shipped one)")
    p.add_argument("--limit", type=int, default=None, help="only the first N rows (a quick look)")
    p.add_argument("--seed", type=int, default=0, help="seed of the typo rewrite")
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--out", type=Path, default=None, help="run folder (metrics, config, commit, wall time)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bar (there is none off a terminal)")
    p.set_defaults(func=_cmd_gate_flips)


def _print(obj: dict, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(obj, ensure_ascii=False))
    else:
        print("\n".join(lines))


def _cmd_encoder(args: argparse.Namespace) -> int:
    from sashimi.eval.encoder_exp import run_encoder_experiment

    result = run_encoder_experiment(
        args.data, args.out, cache_dir=args.cache_dir, seed=args.seed, progress=False if args.quiet else None
    )
    _print(
        result,
        args.json,
        [
            f"EXP-1.1 encoder on {result['data']} ({result['n_prompts']} prompts)",
            f"  action-sequence classes with >=2 members: {result['classes']['n_classes_ge2']}",
            f"  intra {result['intra_class_cosine']:.3f} / inter {result['inter_class_cosine']:.3f}"
            f" = separation ratio {result['separation_ratio']:.3f} -> {result['decision']}",
            f"  silhouette by domain (cosine): {result['silhouette_by_domain']:.3f}",
            f"  wrote {args.out}/metrics.json and {args.out}/{result['map_png']}",
        ],
    )
    return 0


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def _cmd_exp_gate(args: argparse.Namespace) -> int:
    from sashimi.eval.gate_exp import cross_validate_command, evaluate_command, experiment_command

    if args.cv is not None and args.evaluate is not None:
        print(
            "error: --cv cross-validates training on --ood FILE; it cannot be combined with --evaluate",
            file=sys.stderr,
        )
        return 2
    if args.save is not None and (args.cv is not None or args.ood is None):
        print("error: --save DIR saves the gate adopted by --ood FILE (without --cv)", file=sys.stderr)
        return 2
    if args.cv is not None and args.ood is None:
        print("error: --cv needs --ood FILE (the labelled set to cross-validate on)", file=sys.stderr)
        return 2
    common = {  # what both training protocols take
        "real_dev": args.real_dev,
        "out_dir": args.out,
        "cache_dir": args.cache_dir,
        "seed": args.seed,
        "threshold_rule": args.threshold_rule,
        "features": tuple(args.features),
        "kinds": tuple(args.kinds) if args.kinds else None,
        "progress": False if args.quiet else None,
    }
    if args.cv is not None:
        result = cross_validate_command(args.ood, folds=args.cv, **common)
        lines = [
            f"best: {result['best']}" + ("" if result["best_meets_bar"] else " (no candidate meets the bar)")
        ]
        lines += [
            f"  {name}: pooled precision {_fmt(m['precision'])} recall {_fmt(m['recall'])}"
            f" FAR {_fmt(m['false_accept_rate'])} FRR {_fmt(m['false_reject_rate'])} AUROC {_fmt(m['auroc'])}"
            f" folds meeting bar {m['folds_meeting_bar']}/{result['folds']}"
            for name, m in result["candidates"].items()
        ]
    elif args.evaluate is not None:
        result = evaluate_command(args.evaluate, gate_dir=args.gate, cache_dir=args.cache_dir)
        lines = [f"{k}: {v}" for k, v in result.items() if not isinstance(v, dict | list)]
    elif args.ood is not None:
        result = experiment_command(args.ood, save_dir=args.save, **common)
        lines = [f"adopted: {result['adopted']}"] + [
            f"  {name}: precision {m['precision']:.4f} recall {m['recall']:.4f} FAR {m['false_accept_rate']:.4f}"
            f" FRR {m['false_reject_rate']:.4f} AUROC {m['auroc']:.4f}"
            for name, m in result["candidates"].items()
        ]
    else:
        print(
            "error: give --ood FILE (train and compare) or --evaluate FILE (score the saved gate)",
            file=sys.stderr,
        )
        return 2
    _print(result, args.json, lines)
    return 0


def _cmd_gate_flips(args: argparse.Namespace) -> int:
    import time

    from sashimi.eval.gate_exp import load_labelled
    from sashimi.eval.metamorphic import flip_rates
    from sashimi.io import file_sha256, run_metadata, write_json
    from sashimi.model.encoder import Encoder
    from sashimi.model.gate import load_gate

    started = time.time()
    rows = load_labelled(args.data)[: args.limit]
    gate = load_gate(args.gate, encoder=Encoder(args.cache_dir, progress=False if args.quiet else None))
    result = {
        "file": str(args.data),
        "file_sha256": file_sha256(args.data),
        **flip_rates(gate, rows, seed=args.seed),
    }
    if args.out is not None:
        write_json(args.out / "metrics.json", result)
        config = {"data": str(args.data), "gate": str(args.gate), "limit": args.limit, "seed": args.seed}
        write_json(args.out / "run.json", run_metadata(config, started=started, metrics=result))
    lines = [f"{result['n']} prompts, 8 rewrites each; flip rate per kind (bar {result['bar']}):"] + [
        f"  {kind:10s} {v['flip_rate']:.4f} ({v['flips']} flips)" for kind, v in result["per_kind"].items()
    ]
    _print(result, args.json, lines)
    return 0
