"""CLI of the evaluation area: the experiments that measure model components, and the harness.

`sashimi exp encoder` (EXP-1.1) and `sashimi exp gate` (EXP-1.2: compare, cross-validate, or score the
shipped gate). An experiment never changes what users run: `exp gate` writes a gate only to an explicit
`--save DIR`.

The evaluation harness (issue 10), top level: `sashimi evaluate` (score a predictions file: validity +
fidelity, bootstrap CIs, baselines, ceilings), `sashimi baseline` (write a baseline's predictions),
`sashimi gates` (the plan's promotion gates).

Hyper-parameter optimisation (plan 5.1): `sashimi hpo` (an Optuna study over training recipes, scored on
the dev split; `hpo.py`).

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
    _register_harness(groups)
    _register_hpo(groups)
    _register_interpret(groups)


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
        choices=("embedding", "embedding+lexical", "embedding+lexical+neighbours"),
        default=("embedding", "embedding+lexical"),
        help="feature sets to compare (default: the first two); '+neighbours' adds the margin between the "
        "nearest own in-domain and the nearest own OOD training prompt to the head's logit",
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
    p.add_argument(
        "--adapter",
        metavar="KEY=VALUE,...",
        default=None,
        help="with --ood: also fuse the linear embedding+lexical head with LoRA adapters on MiniLM's top "
        "layers (e.g. layers=3,rank=32,lr=1e-3; keys of sashimi.train.gate_adapter.LoRAConfig) and adopt "
        "that (with --cv: cross-validate it too); trained adapters are kept in --out DIR/adapters, so a rerun "
        "trains none again",
    )
    p.add_argument(
        "--spelling",
        action="store_true",
        help="with --save: the saved gate corrects misspelt words before the encoder reads a request, "
        "and the held-out and real dev figures are of requests read that way (with --cv: each fold's test "
        "prompts); decision time only: the gates are fitted on the texts as written",
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


def _key_values(text: str) -> dict[str, str]:
    """"a=1,b=2" -> {"a": "1", "b": "2"}; ValueError on an item without "=" or with an empty key."""
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if not pairs or any(len(p) != 2 or not p[0].strip() for p in pairs):
        raise ValueError(text)
    return {k.strip(): v.strip() for k, v in pairs}


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
    if args.adapter is not None and args.ood is None:
        print("error: --adapter trains with --ood FILE", file=sys.stderr)
        return 2
    if args.spelling and args.save is None and args.cv is None:
        print("error: --spelling reads requests as a saved gate would: give --save DIR or --cv K", file=sys.stderr)
        return 2
    try:
        adapter = _key_values(args.adapter) if args.adapter is not None else None
    except ValueError:
        print(f"error: --adapter takes KEY=VALUE,... (got {args.adapter!r})", file=sys.stderr)
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
        "adapter": adapter,
    }
    if args.cv is not None:
        result = cross_validate_command(args.ood, folds=args.cv, spelling=args.spelling, **common)
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
        result = experiment_command(args.ood, save_dir=args.save, spelling=args.spelling, **common)
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


# ----------------------------------------------------------------------------- evaluation harness

# = sashimi.eval.baselines.BASELINES + (REFERENCE,); tests/eval/test_ceilings.py checks they agree
BASELINE_CHOICES = ("empty", "most-frequent", "knn-minilm", "knn-tfidf", "reference")


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
        "--baselines",
        action="store_true",
        help="also score the baselines empty, most-frequent, knn-minilm, knn-tfidf (needs --train)",
    )
    p.add_argument("--ceilings", action="store_true", help="also score retrieval ceilings (needs --train)")
    p.add_argument("--train", type=Path, help="training JSONL for --baselines / --ceilings")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument(
        "--max-chars",
        type=int,
        default=100_000,
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
        choices=BASELINE_CHOICES,
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


def _load_catalog(args: argparse.Namespace):
    from sashimi.dsl.catalog import Catalog

    return Catalog.load(args.catalog_dir)


def _baseline(args: argparse.Namespace) -> int:
    from sashimi.errors import DataError
    from sashimi.eval.baselines import run_baseline, verbatim_overlap
    from sashimi.eval.predictions import read_gold, write_predictions

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
    import time

    from sashimi.errors import DataError
    from sashimi.eval.baselines import BASELINES, run_baseline, verbatim_overlap
    from sashimi.eval.ceilings import ceiling_predictions
    from sashimi.eval.harness import Scorer, evaluate, prepare_gold
    from sashimi.eval.predictions import match_predictions, read_gold, read_predictions
    from sashimi.eval.report import build_summary, render_markdown, write_outputs, write_plot
    from sashimi.io import git_commit

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
    from sashimi.eval.gates import check_gates
    from sashimi.eval.gates import render as render_gates

    summary = _json_object(args.report)
    gate_report = _json_object(args.gate) if args.gate else None
    model_report = _json_object(args.model) if args.model else None
    result = check_gates(summary, gate_report=gate_report, model_report=model_report, system=args.system)
    print(json.dumps(result, indent=2) if args.json else render_gates(result))
    return 0 if result["passed"] else 1


def _json_object(path: Path) -> dict:
    from sashimi.errors import DataError, Location
    from sashimi.io import read_json

    obj = read_json(path)
    if not isinstance(obj, dict):
        raise DataError("expected a JSON object", Location(str(path)))
    return obj


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


# ----------------------------------------------------------------------------- hyper-parameter optimisation


def _register_hpo(groups: dict) -> None:
    p = groups["root"].add_parser(
        "hpo",
        help="hyper-parameter search (Optuna, TPE + median pruning) over lr, steps, batch size and "
        "ternarisation schedule, scored on the dev split; resumable",
        description="Run (or resume) an Optuna study: each trial trains OUT/trials/<number>/ (a sashimi "
        "train run folder) with sampled hyper-parameters and is scored on --dev only. The study is stored "
        "in SQLite; rerunning the command keeps finished trials and retries a trial a kill left running "
        "(from its checkpoint). Writes OUT/hpo.json (best parameters, every trial) and OUT/hpo.png.",
        epilog="Default search space (configs/hpo/space.yaml; --space FILE for another): "
        "train.lr float 3e-4..1e-2 log-uniform; train.steps int 200..1000 step 200; train.batch_size "
        "{16, 32, 64}; train.ternary_warmup_fraction float 0..0.5 (train.ternary_warmup_steps = fraction "
        "x steps; not sampled for a continuous model).",
    )
    p.add_argument(
        "--config", type=Path, required=True, help="base sashimi train config (e.g. configs/real.yaml)"
    )
    p.add_argument(
        "--data", type=Path, nargs="+", required=True, metavar="FILE.jsonl", help="training file(s)"
    )
    p.add_argument("--dev", type=Path, required=True, help="dev split JSONL the objective is measured on")
    p.add_argument(
        "--trials",
        type=int,
        required=True,
        help="finished trials the study should have (complete, pruned or failed); a rerun with a larger "
        "number adds trials",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (trials/, hpo.json, hpo.png)")
    p.add_argument("--study", default="sashimi", help="study name in the storage (default: sashimi)")
    p.add_argument("--storage", default=None, help="SQLite file or sqlite:/// URL (default: OUT/study.db)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="base config override")
    p.add_argument(
        "--timeout", type=float, default=None, metavar="S", help="start no new trial after S seconds"
    )
    p.add_argument(
        "--objective",
        choices=("action_f1", "tier12_seq_acc"),
        default="action_f1",
        help="action_f1 (default): generate every dev prompt and score with the evaluation harness; "
        "tier12_seq_acc: the trainer's teacher-forced Tier 1+2 sequence accuracy on --dev (fast, no decoding)",
    )
    p.add_argument("--space", type=Path, default=None, help="search space YAML (default: the built-in one)")
    p.add_argument("--seed", type=int, default=0, help="TPE sampler seed (default 0)")
    p.add_argument(
        "--startup-trials", type=int, default=5, help="random trials before TPE models (default 5)"
    )
    p.add_argument("--no-prune", action="store_true", help="no median pruning")
    p.add_argument(
        "--prune-on",
        choices=("tier12_seq_acc", "tier1_seq_acc", "token_acc", "tier1_token_acc"),
        default="tier12_seq_acc",
        help="the trainer's dev-carve figure reported every train.eval_every steps (default tier12_seq_acc)",
    )
    p.add_argument(
        "--prune-startup", type=int, default=2, help="trials finished before any pruning (default 2)"
    )
    p.add_argument("--beam", type=int, default=1, help="beam width of the action_f1 generation (default 1)")
    p.add_argument("--json", action="store_true", help="print hpo.json")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=_hpo)


def _hpo(args: argparse.Namespace) -> int:
    from sashimi.errors import DataError

    try:
        from sashimi.eval.hpo import HpoSettings, run_hpo
    except ImportError as err:
        if "optuna" not in str(err):
            raise
        raise DataError("sashimi hpo needs Optuna: pip install -e '.[hpo]'") from None
    settings = HpoSettings(
        config=args.config,
        data=list(args.data),
        dev=args.dev,
        trials=args.trials,
        out=args.out,
        study=args.study,
        storage=args.storage,
        sets=list(args.set),
        timeout=args.timeout,
        objective=args.objective,
        space=args.space,
        seed=args.seed,
        startup_trials=args.startup_trials,
        prune=not args.no_prune,
        prune_on=args.prune_on,
        prune_startup=args.prune_startup,
        beam=args.beam,
        quiet=args.quiet,
    )
    result = run_hpo(settings)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    best = result["best"]
    counts = ", ".join(f"{v} {k.lower()}" for k, v in result["counts"].items())
    if best is None:
        print(f"study {result['study']}: {counts}; no complete trial yet; wrote {args.out}/hpo.json")
    else:
        params = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in best["params"].items()
        )
        print(
            f"study {result['study']}: {counts}; best trial {best['number']}: dev {result['objective']['name']} "
            f"{best['value']:.4f} ({params}; selected step {best['selected_step']}); "
            f"wrote {args.out}/hpo.json, {args.out}/hpo.png"
        )
    return 0


# ----------------------------------------------------------------------------- interpretability (plan 5.2)


def _register_interpret(groups: dict) -> None:
    p = groups["root"].add_parser(
        "interpret",
        help="interpret a trained run: ternary patterns of the top actions, attribution, z maps, failures",
        description="For a `sashimi train` run folder and a dev JSONL: the ternary output-head rows of the "
        "top training actions, gradient x input attribution of their logits to the encoder inputs, PCA/UMAP "
        "maps of the bottleneck z, and (with --predictions and --rows) each failed dev row localised to "
        "gate / skeleton / Tier 2 / Tier 3. Writes interpret.json, report.md, run.json and PNGs into --out.",
    )
    p.add_argument("run_dir", type=Path, help="a `sashimi train` run folder")
    p.add_argument("--data", type=Path, required=True, help="dev JSONL (the gold rows)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--predictions", type=Path, help="the run's predictions on --data (sashimi generate)")
    p.add_argument("--rows", type=Path, help="rows.jsonl of `sashimi evaluate` for those predictions")
    p.add_argument(
        "--metadata", type=Path, help="synthetic corpus metadata.jsonl: colour the maps by its domains"
    )
    p.add_argument("--top", type=int, default=20, help="how many of the most frequent actions (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the projections (default 0)")
    p.add_argument("--no-umap", action="store_true", help="PCA only (UMAP also needs umap-learn)")
    p.add_argument("--json", action="store_true", help="print interpret.json to stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_interpret)


def _interpret(args: argparse.Namespace) -> int:
    from sashimi.errors import DataError
    from sashimi.eval.interpret import run_interpret

    if args.top < 1:
        raise DataError("--top must be at least 1")
    command = f"sashimi interpret {args.run_dir} --data {args.data} --out {args.out}"
    for flag in ("predictions", "rows", "metadata"):
        if getattr(args, flag) is not None:
            command += f" --{flag} {getattr(args, flag)}"
    command += (f" --top {args.top}" if args.top != 20 else "") + (" --no-umap" if args.no_umap else "")
    result = run_interpret(
        args.run_dir,
        args.data,
        args.out,
        predictions=args.predictions,
        rows=args.rows,
        metadata=args.metadata,
        top=args.top,
        seed=args.seed,
        use_umap=not args.no_umap,
        progress=False if args.quiet else None,
        command=command,
    )
    if args.json:
        print((args.out / "interpret.json").read_text(encoding="utf-8"), end="")
        return 0
    fl = result.get("failures")
    ov = result["attribution"]["overall_shares"]
    print(f"wrote {args.out}/interpret.json, report.md and PNGs")
    print(f"  attribution shares: pooled {ov['pooled']}, tokens {ov['tokens']}, retrieved {ov['retrieved']}")
    if fl is not None:
        print(
            "  failures: "
            + ", ".join(f"{s} {v['count']}" for s, v in fl["stages"].items())
            + f" (of {fl['failed']} failed, {fl['rows']} rows)"
        )
    return 0
