"""`sashimi exp toy|encoder|gate` and `sashimi gate "..."` (model components, plan phases 1.1, 1.2, 2.1).

Heavy imports (torch, sentence-transformers, scikit-learn) happen inside the handlers so that building
the parser stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(groups: dict) -> None:
    exp = groups["exp"]

    p = exp.add_parser("toy", help="EXP-2.1: ternary vs continuous 1-layer decoder on a toy structured task")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="training steps per regime (default 500)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", type=Path, default=None, help="run folder (config, commit, metrics, wall time)")
    p.set_defaults(func=_cmd_toy)

    p = exp.add_parser("encoder", help="EXP-1.1: MiniLM class separation, silhouette by domain, 2-D map")
    p.add_argument("--data", type=Path, required=True, help="corpus JSONL (ShortcutForge chat format)")
    p.add_argument("--out", type=Path, required=True, help="output folder (metrics JSON, map PNG)")
    p.add_argument("--cache-dir", type=Path, default=None, help="embedding cache (default $SASHIMI_CACHE)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
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
        "--save", type=Path, default=None, help="where to save the adopted gate (default: shipped)"
    )
    p.add_argument("--no-save", action="store_true", help="compare only; do not write the adopted gate")
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
        "(--save/--no-save are ignored)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_exp_gate)

    register_filler(groups)

    p = groups["root"].add_parser("gate", help="domain gate: is this request something a Shortcut can do?")
    p.add_argument("text", help="the request")
    p.add_argument("--gate", type=Path, default=None, help="gate asset folder (default: the shipped one)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_gate)


def _print(obj: dict, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(obj, ensure_ascii=False))
    else:
        print("\n".join(lines))


def _cmd_toy(args: argparse.Namespace) -> int:
    from dataclasses import asdict, replace

    from sashimi.io import run_metadata, write_json
    from sashimi.model.toy import ToyConfig, run_toy

    started = time.time()
    cfg = ToyConfig(seed=args.seed)
    if args.steps is not None:
        cfg = replace(cfg, steps=args.steps)
    result = run_toy(cfg)
    if args.out is not None:
        write_json(args.out / "metrics.json", result)
        write_json(args.out / "run.json", run_metadata(asdict(cfg), started=started, metrics=result))
    _print(
        result,
        args.json,
        [
            f"EXP-2.1 toy (seed {cfg.seed}, {cfg.steps} steps, {result['n_test']} held-out prompts)",
            f"  ternary    sequence accuracy {result['ternary_accuracy']:.3f}",
            f"  continuous sequence accuracy {result['continuous_accuracy']:.3f}",
            f"  packed model same outputs: {result['ternary']['packed_same_outputs']}",
            f"  {'PASS' if result['passed'] else 'FAIL'} (ternary >= 0.95) in {result['seconds']:.1f} s",
        ],
    )
    return 0 if result["passed"] else 1


def _cmd_encoder(args: argparse.Namespace) -> int:
    from sashimi.eval.encoder_exp import run_encoder_experiment

    result = run_encoder_experiment(args.data, args.out, cache_dir=args.cache_dir, seed=args.seed)
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
        result = experiment_command(args.ood, save_dir=args.save, save=not args.no_save, **common)
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


def _cmd_gate(args: argparse.Namespace) -> int:
    from sashimi.model.gate import load_gate

    gate = load_gate(args.gate)
    decision = gate.decide([args.text])[0]
    obj = {"accept": decision.accept, "score": round(decision.score, 4), "threshold": gate.threshold}
    verdict = "accept" if decision.accept else "refuse: this does not look like a request a Shortcut can do"
    _print(
        obj, args.json, [f"{verdict} (in-domain score {decision.score:.3f}, threshold {gate.threshold:.3f})"]
    )
    return 0


# ----------------------------------------------------------------------------- value filler (Tier 3)


def register_filler(groups: dict) -> None:
    """`sashimi exp filler`: oracle Tier 3 vs predicted (self-contained so CLI refactors merge easily)."""
    p = groups["exp"].add_parser(
        "filler",
        help="value filler: fit on TRAIN, fill the slots of GOLD Tier 1+2 sequences, report literal accuracy",
    )
    p.add_argument(
        "--train", type=Path, required=True, help="training corpus JSONL (ShortcutForge chat format)"
    )
    p.add_argument("--data", type=Path, nargs="+", required=True, help="gold corpus JSONL file(s) to fill")
    p.add_argument("--catalog-dir", type=Path, default=None, help="reference catalog folder (default: core)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--value-source",
        choices=("synthetic", "real", "mixed"),
        default=None,
        help="where the training values come from (recorded in the filler; default: 'real' with "
        "--catalog-dir, else 'synthetic')",
    )
    p.add_argument(
        "--save",
        type=Path,
        default=None,
        help="also save the fitted filler here (a run folder, never the repo)",
    )
    p.add_argument("--out", type=Path, default=None, help="run folder for metrics.json and run.json")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_exp_filler)


def _cmd_exp_filler(args: argparse.Namespace) -> int:
    from sashimi.io import run_metadata, write_json
    from sashimi.model.filler.measure import run_filler_experiment

    started = time.time()
    source = args.value_source or ("real" if args.catalog_dir else "synthetic")
    result = run_filler_experiment(
        args.train,
        args.data,
        catalog_dir=args.catalog_dir,
        seed=args.seed,
        value_source=source,
        save_dir=args.save,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    if args.out is not None:
        write_json(args.out / "metrics.json", result)
        config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "func"}
        config["data"] = [str(d) for d in args.data]
        write_json(args.out / "run.json", run_metadata(config, started=started, metrics=result))
    lines = [f"value filler fitted on {result['train']} ({result['fit']['n_examples']} programs, "
             f"{result['fit']['fit_seconds']} s)"]  # fmt: skip
    for path, m in result["results"].items():
        lines.append(
            f"  {path}: slots {_fmt(m['slot_accuracy'])} ({m['n_slots']}), var names {_fmt(m['var_name_accuracy'])},"
            f" canonical exact {_fmt(m['canonical_exact'])}, filled compile strict"
            f" {_fmt(m['validity']['filled'].get('compile_strict'))}"
        )
    _print(result, args.json, lines)
    return 0
