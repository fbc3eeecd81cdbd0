"""Training configuration: plain YAML over these defaults, plus `--set key.sub=value` overrides.

The resolved config (defaults + file + overrides) is what the run folder records and what `--resume`
checks against, so a resumed run cannot silently train a different recipe.
"""

from __future__ import annotations

import copy
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from sashimi.errors import DataError, Location
from sashimi.model.chooser import ChooserConfig
from sashimi.model.decoder import DecoderConfig

DEFAULTS: dict[str, Any] = {
    "data": {
        "source": "corpus",  # corpus: rows from --data; synth: our generator (or --data when given)
        "dev_fraction": 0.1,  # dev carved from the training rows (grouped by family) for model selection
        "dev_file": None,  # or: a corpus file that is the dev split (no carve; e.g. a synthetic dev split)
        "split_seed": 0,
        "synth_n": 5000,  # synth without --data: generate_corpus(synth_n, synth_seed) train/dev
        "synth_seed": 0,
        "catalog_dir": None,  # reference catalog folder; None = the core catalog
        "negatives_per_program": 2,  # hard negatives per training program (0 = no L_margin / L_repair)
        "negative_seed": 0,
        # where the training negatives come from (plan 4.2 ablation): the bank's `linter` and `synthetic`
        # sources (sashimi.data.negatives; slots alternate over the listed ones) and `beams`, the model's
        # own high-scoring invalid beams mined during training (sashimi.train.beams). Dev and eval
        # negatives (separability) always use the full bank, so the figure is comparable across sources.
        "negative_sources": ["linter", "synthetic"],
        "beam_negatives_at": 0.5,  # with `beams`: mine at this fraction of train.steps (int = a step)
        "beam_width": 4,  # beams per prompt (unmasked beam search over the raw logits)
        "beam_prompts": 200,  # training prompts decoded (a seeded subset); null = all
        "beam_max_per_program": 2,  # invalid beams kept per program, best first
        "beam_max_seconds": 600,  # safety cap on mining, CPU seconds (recorded when reached); null = none
        "beam_batch": 16,  # prompts decoded together
        "max_train_rows": None,  # use only the first N training rows (tests, quick looks)
    },
    "model": {f.name: f.default for f in fields(DecoderConfig) if f.name != "vocab_size"},
    "train": {
        "seed": 0,
        "steps": 2000,
        "batch_size": 32,
        "lr": 1e-3,
        # peak lr of a trainable prompt encoder (model.encoder finetune | scratch), same schedule shape;
        # null: 0.1 x lr for fine-tuned pretrained MiniLM layers, lr for an encoder trained from scratch
        "encoder_lr": None,
        "min_lr_ratio": 0.1,  # cosine decays to lr * min_lr_ratio
        "warmup_steps": 100,
        "weight_decay": 0.01,
        "betas": [0.9, 0.99],
        "grad_clip": 1.0,
        "ternary_warmup_steps": 0,  # staged ternarisation: continuous for this many steps first
        "distill_from": None,  # a finished run folder (same data and token table): its decoder is the teacher
        "eval_every": 250,
        "ckpt_every": 250,
        "log_every": 100,  # gradient-health line
        "eval_batch_size": 64,
        "select": "best",  # best (dev Tier 1+2 sequence accuracy, then dev CE) | last
        "early_exit": None,  # e.g. {step: 200, min_tier1_acc: 0.7}: stop a run that learns too slowly
        # dsl_text only: a batch holding more target positions (positives + negatives) than this runs in
        # row chunks with gradient accumulation (same loss): a batch of 32 programs of 1,024 text tokens
        # took 14 GB in one pass (attention dropout materialises every L x L map) and was OOM-killed
        "text_batch_tokens": 8192,
        "threads": 1,  # torch intra-op threads: 1 is fastest on a shared 2-core CPU, and results depend on it
        "interrupt_at": None,  # stop after this step as if killed (tests of --resume)
    },
    "loss": {
        "weighting": "fixed",  # fixed | adaptive (Kendall uncertainty weighting)
        "weights": [1.0, 0.1, 0.1],  # ce, margin, repair (fixed mode)
        "logvar_clamp": [-4.0, 4.0],  # adaptive mode
        "margin": 1.0,  # nats, on length-normalised log-likelihood
        "bag_weight": 0.1,  # intent head (bag of output tokens) BCE
        "distill_weight": 1.0,  # with train.distill_from: weight of KL(teacher || student) per target token
        "distill_temperature": 1.0,  # ... both distributions softened by this temperature (loss x T^2)
    },
    "filler": {
        "fit": True,  # fit the Tier 3 value filler at the end (sashimi.model.filler)
        "value_source": "synthetic",  # synthetic | real | mixed: where its value vocabulary comes from
    },
    # the neighbour chooser (sashimi.model.chooser): picks among the k retrieved training programs and
    # the decoder's own by expected action-F1 under a per-action model of the request
    "chooser": {"fit": False, **{f.name: f.default for f in fields(ChooserConfig)}},
}


def _merge(base: dict, update: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if key not in base:
            raise DataError(f"unknown config key {where}{key}")
        if isinstance(base[key], dict) and base[key] and isinstance(value, dict):
            out[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def _set(config: dict, assignment: str) -> dict:
    if "=" not in assignment:
        raise DataError(f"--set expects key=value, got {assignment!r}")
    key, raw = assignment.split("=", 1)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise DataError(f"--set {key}: cannot read value {raw!r}") from None
    update: dict = {}
    node = update
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return _merge(config, update, "")


def resolve(config: dict) -> dict:
    """A recorded config (e.g. a run folder's, written by an older version) over today's defaults."""
    return _merge(copy.deepcopy(DEFAULTS), config, "")


def load_config(path: str | os.PathLike | None, overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """Defaults <- YAML file <- `--set` overrides; unknown keys are errors (typos must not pass)."""
    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        p = Path(path)
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise DataError("config file not found", Location(str(p))) from None
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            loc = Location(str(p), mark.line + 1, mark.column + 1) if mark else Location(str(p))
            raise DataError(f"invalid YAML: {getattr(err, 'problem', err)}", loc) from None
        if not isinstance(raw, dict):
            raise DataError("config must be a YAML mapping", Location(str(p)))
        config = _merge(config, raw, "")
    for assignment in overrides:
        config = _set(config, assignment)
    return config
