"""CLI of the model area: `sashimi exp toy` (plan EXP-2.1), `sashimi exp filler` (the value filler's oracle
Tier 3 measurement) and `sashimi gate "..."` (the shipped domain gate).

The encoder and gate experiments (EXP-1.1, EXP-1.2) evaluate model components and live in `sashimi/eval/cli.py`.

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
    p.add_argument("--quiet", action="store_true", help="no progress bar (there is none off a terminal)")
    p.set_defaults(func=_cmd_toy)

    register_filler(groups)

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

    register_generate(groups)


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
    read_as, corrections = gate.read_request(args.text)
    obj = {
        "accept": decision.accept,
        "score": round(decision.score, 4),
        "threshold": gate.threshold,
        "reason": decision.reason,
        "read_as": read_as if corrections else "",  # the request as the gate read it, when corrected
    }
    verdict = "accept" if decision.accept else f"refuse: {decision.reason}"
    lines = [f"{verdict} (in-domain score {decision.score:.3f}, threshold {gate.threshold:.3f})"]
    if corrections:
        lines.append(f"read as: {read_as}")
    _print(obj, args.json, lines)
    return 0 if decision.accept else GATE_REFUSED


# ---------------------------------------------------------------------- generate / export (issues 12, 13)
# Self-contained: `register_generate` adds `sashimi generate` and `sashimi export`; the handlers import
# the model code lazily so that `sashimi --help` stays fast.

EXIT_REFUSED = 3  # the domain gate refused the request (issue 12)


def register_generate(groups: dict) -> None:
    root = groups["root"]
    p = root.add_parser(
        "generate",
        help="request -> Shortcut: the shipped model (or --model DIR) writes a .shortcut from a sentence",
        description="Generate a Shortcut program from a natural-language request (domain gate in front). "
        "One request: prints the program, its validity and the written path. Batch: --input FILE.jsonl "
        "--out PREDS.jsonl writes the evaluation harness's predictions format.",
    )
    p.add_argument("request", nargs="?", help='the request, e.g. "set a timer for 10 minutes"')
    p.add_argument("--model", type=Path, default=None, help="run folder or packed model (default: shipped)")
    p.add_argument("-o", "--output", type=Path, default=None, help="write the .shortcut here")
    p.add_argument("--dsl", action="store_true", help="print only the program")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--beam", type=int, default=1, metavar="K", help="beam width (1 = greedy, default)")
    p.add_argument(
        "--max-action-count",
        type=int,
        default=None,
        metavar="N",
        help="the search emits one action at most N times in a program (default 4, measured on the "
        "training programs; 0 = no cap)",
    )
    p.add_argument(
        "--close-bias",
        type=float,
        default=None,
        metavar="B",
        help="added to the logits of END and the block closers at every step, a length penalty "
        "(default 1, selected on the dev splits; 0 = none)",
    )
    p.add_argument(
        "--input", type=Path, default=None, help="batch: ShortcutForge chat JSONL or {id, prompt} lines"
    )
    p.add_argument("--out", type=Path, default=None, help="batch: predictions JSONL to write")
    p.add_argument("--quiet", action="store_true", help="batch: no progress bar or summary")
    p.set_defaults(func=_cmd_generate)

    p = root.add_parser(
        "export",
        help="pack a trained run for shipping (2-bit ternary + scales, the rest float32; safetensors + JSON)",
        description="Pack RUN_DIR into DIR. Nothing holding real-corpus rows is copied: a value filler "
        "fitted on corpus values is refitted, and a retrieval index rebuilt, on --synthetic FILE.jsonl; "
        "--local keeps the run's own (a model for local use, marked not shippable).",
    )
    p.add_argument("run_dir", type=Path, help="a run folder of `sashimi train`")
    p.add_argument("--out", type=Path, required=True, help="packed model folder to write (replaced)")
    p.add_argument("--synthetic", type=Path, default=None, help="our synthetic corpus (train split) JSONL")
    p.add_argument(
        "--local", action="store_true", help="keep the run's corpus-derived index/filler (never ship)"
    )
    p.add_argument(
        "--float-dtype",
        choices=("float16", "float32"),
        default="float32",
        help="non-ternary tensors (embeddings, norms, biases); float16 halves them but changed 1 of 50 "
        "programs of the shipped model (packed must equal unpacked), so float32 is the default",
    )
    p.add_argument(
        "--encoder-precision",
        choices=("float32", "int8"),
        default="float32",
        help="the MiniLM graph the packed model runs with: int8 = 8-bit weights and integer products "
        "(~1.8x less encoder CPU; features move, so measure the model with it)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_export)


def _batch_rows(path: Path) -> list[tuple[str, str]]:
    """(id, prompt) of each line: ShortcutForge chat rows or {id, prompt} objects."""
    from sashimi.dsl.corpus import row_from_json
    from sashimi.errors import DataError, Location
    from sashimi.io import read_jsonl

    out = []
    for line, obj in enumerate(read_jsonl(path), start=1):
        if "messages" in obj:
            row = row_from_json(obj, file=str(path), line=line)
            out.append((row.shortcut_id, row.prompt))
        elif isinstance(obj.get("id"), str) and isinstance(obj.get("prompt"), str):
            out.append((obj["id"], obj["prompt"]))
        else:
            raise DataError(
                'expected a ShortcutForge chat row or {"id": str, "prompt": str}', Location(str(path), line)
            )
    ids = [i for i, _ in out]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DataError(f"duplicate id {dup!r}", Location(str(path)))
    return out


def _decoding_options(args: argparse.Namespace) -> dict:
    """`Generator.load` keywords for --max-action-count / --close-bias (absent: the defaults)."""
    options = {}
    if args.max_action_count is not None:
        options["max_action_count"] = args.max_action_count or None
    if args.close_bias is not None:
        options["close_bias"] = args.close_bias
    return options


def _cmd_generate(args: argparse.Namespace) -> int:
    from sashimi.errors import DataError

    if args.beam < 1:
        raise DataError("--beam must be at least 1")
    if args.max_action_count is not None and args.max_action_count < 0:
        raise DataError("--max-action-count must be 0 (no cap) or more")
    if args.close_bias is not None and not -20.0 <= args.close_bias <= 20.0:
        raise DataError("--close-bias must be a number from -20 to 20")
    if args.input is not None or args.out is not None:
        if args.input is None or args.out is None or args.request is not None:
            raise DataError("batch form: --input FILE.jsonl --out PREDS.jsonl, without a request")
        return _generate_batch(args)
    if args.request is None:
        raise DataError('give a request: sashimi generate "set a timer for 10 minutes" -o timer.shortcut')
    from sashimi.model.generator import Generator, request_problem, validity_line

    problem = request_problem(args.request)  # before loading anything: a bad request answers at once
    if problem is not None:
        raise DataError(problem)
    gen = Generator.load(args.model, **_decoding_options(args)).generate(args.request, beam=args.beam)
    written = None
    if gen.ok and args.output is not None:
        from sashimi.io import atomic_write_bytes

        atomic_write_bytes(args.output, gen.shortcut)
        written = str(args.output)
    if args.json:
        print(json.dumps({**gen.to_json(), "path": written}, ensure_ascii=False))
    else:
        if gen.read_as:  # the models read a spelling-corrected request: say so
            print(f"read as: {gen.read_as}", file=sys.stderr)
        if not gen.accepted:
            print(gen.reason, file=sys.stderr)
        elif args.dsl:
            print(gen.dsl, end="" if gen.dsl.endswith("\n") else "\n")
        else:
            print(gen.dsl, end="" if gen.dsl.endswith("\n") else "\n")
            print(validity_line(gen.validity))
            if gen.source != "decoder":  # the skeleton is a retrieved training program's: say so
                print(f"structure from the {gen.source}; values from this request")
            if written:
                print(f"wrote {written} ({len(gen.shortcut)} bytes, {gen.ms:.0f} ms)")
            elif gen.ok:
                print(f"not written (give -o FILE.shortcut) ({gen.ms:.0f} ms)")
    if not gen.accepted:
        return EXIT_REFUSED if gen.rejected_by == "gate" else 2
    if not gen.ok:
        if not args.json:
            print(f"error: {gen.reason}", file=sys.stderr)
        return 1
    return 0


def _generate_batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sashimi.io import write_jsonl
    from sashimi.model.generator import Generator, prediction_record

    rows = _batch_rows(args.input)
    generator = Generator.load(args.model, **_decoding_options(args))
    out = []
    show = not args.quiet and sys.stderr.isatty()
    for rid, prompt in tqdm(rows, desc="generating", unit="request", disable=not show, file=sys.stderr):
        gen = generator.generate(prompt, beam=args.beam)  # one at a time, nothing cached: ms is a user's
        out.append(prediction_record(rid, prompt, gen))
    write_jsonl(args.out, out)
    if not args.quiet:
        import numpy as np

        ms = np.array([r["ms"] for r in out]) if out else np.zeros(1)
        accepted = sum(r["accepted"] for r in out)
        strict = sum(bool(r["validity"].get("compiled_strict")) for r in out)
        print(
            f"{len(out)} requests: {accepted} accepted, {strict} compiled strict; "
            f"ms p50 {np.percentile(ms, 50):.1f} p95 {np.percentile(ms, 95):.1f}; wrote {args.out}",
            file=sys.stderr,
        )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from sashimi.model.export import export_run

    info = export_run(
        args.run_dir,
        args.out,
        synthetic=args.synthetic,
        allow_corpus_rows=args.local,
        float_dtype=args.float_dtype,
        seed=args.seed,
        encoder_precision=args.encoder_precision,
    )
    lines = [
        f"packed {args.run_dir} -> {args.out}: {info['folder_bytes'] / 1e6:.2f} MB "
        f"(ternary {info['ternary_bytes'] / 1e6:.2f} MB, other {info['other_bytes'] / 1e6:.2f} MB {info['float_dtype']})",
        f"  value filler: {info['value_source']}; retrieval: {info['retrieval_source'] or 'off'}; "
        f"shippable: {info['shippable']}; encoder: {info['encoder_precision']}",
    ]
    _print(info, args.json, lines)


# ----------------------------------------------------------------------------- value filler (Tier 3)


def _fmt(value) -> str:  # used by `exp filler` (was shared with the gate experiment, now in eval/cli.py)
    return "-" if value is None else f"{value:.4f}"


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
