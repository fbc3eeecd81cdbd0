"""CLI of the model area: `sashimi exp toy` (plan EXP-2.1), `sashimi exp filler` (the value filler's oracle
Tier 3 measurement) and `sashimi gate "..."` (the shipped domain gate).

The encoder and gate experiments (EXP-1.1, EXP-1.2) evaluate model components and live in `sashimi/eval/cli.py`.

Heavy imports (torch, sentence-transformers, scikit-learn) happen inside the handlers so that building
the parser stays fast.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def register(groups: dict) -> None:
    exp = groups["exp"]

    p = exp.add_parser("toy", help="EXP-2.1: ternary vs continuous 1-layer decoder on a toy structured task")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="training steps per regime (default 500)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", type=Path, default=None, help="run folder (config, commit, metrics, wall time)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (there is none off a terminal)")
    p.set_defaults(func=_cmd_toy)

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
    result = run_toy(cfg, progress=False if args.quiet else None)
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


def _share(value) -> str:
    return "-" if value is None else f"{value:.4f}"


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
        progress=False if args.quiet else None,
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
            f"  {path}: slots {_share(m['slot_accuracy'])} ({m['n_slots']}), var names {_share(m['var_name_accuracy'])},"
            f" canonical exact {_share(m['canonical_exact'])}, filled compile strict"
            f" {_share(m['validity']['filled'].get('compile_strict'))}"
        )
    _print(result, args.json, lines)
    return 0
