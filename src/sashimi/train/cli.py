"""`sashimi train`: train the structural decoder from a YAML config into a run folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sashimi.errors import DataError, Location


def register(groups: dict) -> None:
    p = groups["root"].add_parser(
        "train",
        help="train the structural decoder (bridge + ternary transformer) into a run folder",
        description=(
            "Train from a YAML config (defaults in sashimi.train.config) into --out: config.json, "
            "model.safetensors, token_table.json, vocab/, filler/, meta.json, metrics.jsonl and a resumable "
            "checkpoint in ckpt/. Same config and seed, same result; --resume continues a killed run exactly."
        ),
    )
    p.add_argument("--config", required=True, help="YAML config (e.g. configs/real.yaml)")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--data", nargs="+", default=[], metavar="FILE.jsonl", help="training corpus file(s)")
    p.add_argument(
        "--eval",
        nargs="+",
        default=[],
        metavar="FILE.jsonl",
        help="held-out file(s) scored teacher-forced at the end (never used for selection)",
    )
    p.add_argument(
        "--catalog-dir", default=None, help="reference catalog folder (overrides data.catalog_dir)"
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    p.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    p.set_defaults(func=_train)

    p = groups["root"].add_parser(
        "fit-chooser",
        help="fit a run's neighbour chooser (and a whole-program retrieval index) without retraining",
        description=(
            "Reads the run's training rows again (the files recorded in meta.json, or --data, with the run's "
            "own dev carve), writes retrieval.safetensors with whole programs and fits chooser/: a per-action "
            "model of the request that picks, among the k retrieved programs and the decoder's own, the one "
            "with the highest expected action-F1 (sashimi.model.chooser). The index holds the training "
            "programs row by row: a run fitted on the real corpus must not be shipped."
        ),
    )
    p.add_argument("run", help="run folder of `sashimi train`, or a packed model (with --data and --out)")
    p.add_argument("--data", nargs="+", default=[], metavar="FILE.jsonl", help="training corpus file(s)")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="chooser setting, e.g. k=20, mix=0.5"
    )
    p.add_argument(
        "--hold-out-dev-carve",
        action="store_true",
        help="leave the run's dev carve out of the index and the action model (studies that score on it); "
        "default: every row of the files, as sashimi train does",
    )
    p.add_argument(
        "--out",
        default=None,
        help="packed models: write a copy with the index and the chooser here (the model folder is untouched)",
    )
    p.add_argument(
        "--catalog-dir",
        default=None,
        help="packed models: read the rows with this reference catalog and extend the copy's vocabulary with "
        "their actions, so that programs outside the model's own catalog can be chosen (the decoder never "
        "emits them)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    p.set_defaults(func=_fit_chooser)


def _fit_chooser(args: argparse.Namespace) -> int:
    import yaml

    from sashimi.train.chooser import refit_chooser

    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DataError(f"--set needs KEY=VALUE, got {item!r}")
        overrides[key.strip()] = yaml.safe_load(value)
    info = refit_chooser(
        args.run,
        args.data,
        overrides,
        hold_out_dev_carve=args.hold_out_dev_carve,
        out=args.out,
        catalog_dir=args.catalog_dir,
        log=print,
        quiet=args.quiet,
    )
    where = Path(args.out) if args.out else Path(args.run)
    print(
        f"wrote {where / 'chooser'}: {info['actions']} actions, {info['indexed_programs']} programs "
        f"indexed, {info['seconds']:.1f}s"
    )
    return 0


def _train(args: argparse.Namespace) -> int:
    from sashimi.train.config import load_config
    from sashimi.train.trainer import train

    overrides = list(args.set)
    if args.catalog_dir is not None:
        overrides.append(f"data.catalog_dir={args.catalog_dir}")
    config = load_config(args.config, overrides)
    if config["data"]["catalog_dir"]:  # the run folder must not depend on the directory it was trained from
        config["data"]["catalog_dir"] = str(Path(config["data"]["catalog_dir"]).resolve())
    for path in [*args.data, *args.eval]:
        if not Path(path).is_file():
            raise DataError("file not found", Location(path))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise DataError("--out exists and is not a folder", Location(str(out)))
    meta = train(config, out, args.data, eval_paths=args.eval, resume=args.resume, quiet=args.quiet)
    if "interrupted_at" in meta:
        print(f"stopped at step {meta['interrupted_at']} (train.interrupt_at); continue with --resume")
        return 0
    if args.json:
        print(json.dumps(meta["metrics"], indent=2))
    else:
        dev = meta["metrics"]["dev"]
        print(
            f"wrote {out}: dev tier1 seq {dev['tier1_seq_acc']:.3f}, tier1+2 seq {dev['tier12_seq_acc']:.3f}, "
            f"ce {dev['ce']:.4f}, {meta['params']['total'] / 1e6:.2f}M params, {meta['wall_seconds']:.0f}s"
        )
    return 0
