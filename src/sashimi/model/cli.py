"""CLI of the model area: `sashimi exp toy` (plan EXP-2.1) and `sashimi gate "..."` (the shipped domain gate).

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

    p = groups["root"].add_parser(
        "gate",
        help="domain gate: is this request something a Shortcut can do? (exit 0 accept, 3 refuse, 2 bad input)",
        description="Exit status: 0 = accepted; 3 = refused (out of domain, or a request with no meaning; the "
        "reason is printed); 2 = bad input (e.g. a request that is not valid UTF-8).",
    )
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


GATE_REFUSED = 3  # exit status of `sashimi gate` on a refusal (2 is bad input, as everywhere)


def _cmd_gate(args: argparse.Namespace) -> int:
    from sashimi.errors import SashimiError
    from sashimi.model.gate import load_gate

    try:  # argv bytes that are not UTF-8 arrive as lone surrogates (PEP 383)
        args.text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise SashimiError(f"the request is not valid UTF-8 text (byte {err.start + 1})") from None
    gate = load_gate(args.gate)
    decision = gate.decide([args.text])[0]
    obj = {
        "accept": decision.accept,
        "score": round(decision.score, 4),
        "threshold": gate.threshold,
        "reason": decision.reason,
    }
    verdict = "accept" if decision.accept else f"refuse: {decision.reason}"
    _print(
        obj, args.json, [f"{verdict} (in-domain score {decision.score:.3f}, threshold {gate.threshold:.3f})"]
    )
    return 0 if decision.accept else GATE_REFUSED
