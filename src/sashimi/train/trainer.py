"""The training loop of the structural decoder: plain, deterministic, resumable.

    prepare(config, data files)  rows -> dev carve -> vocab + token table -> MiniLM inputs (cached)
                                 -> examples with hard negatives -> retrieval index + neighbours
    train(...)                   AdamW, linear warm-up + cosine, gradient clipping, NaN/inf checks
                                 every step, a gradient-health line every `log_every` steps, dev
                                 evaluation + model selection, optional early exit, checkpoints,
                                 then the run folder `sashimi.model.checkpoint.load_run` reads.

Determinism: every random draw of step s (batch order, dropout, negative choice, variational noise)
comes from generators seeded by (seed, s) or (seed, epoch), never from state carried across steps, and
the checkpoint holds model, optimiser and loss-weighting state; so a run killed after any checkpoint
and resumed with `--resume` ends with the same weights and metrics as one never interrupted.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from tqdm import tqdm

from sashimi.data.negatives.common import SOURCES as BANK_SOURCES
from sashimi.data.splits import file_sha256, split_corpus
from sashimi.data.synth import generate_corpus
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import CorpusRow, load_corpus
from sashimi.errors import DataError, Location, SashimiError
from sashimi.io import atomic_write_text, git_commit, read_json, write_json
from sashimi.ir.typed import to_typed
from sashimi.ir.vocab import Vocab, build_vocab
from sashimi.model.checkpoint import (
    FILLER_DIR,
    META_FILE,
    ValueFiller,
    save_model_files,
    save_state_dict,
)
from sashimi.model.chooser import ChooserConfig
from sashimi.model.decoder import DecoderConfig, SashimiDecoder
from sashimi.model.encoder import N_LAYERS, Encoder
from sashimi.model.prompt_encoder import wordpiece_ids
from sashimi.model.retrieval import RetrievalIndex, build_index
from sashimi.model.ternary import ternary_shares
from sashimi.model.text_target import DSL_TEXT, TextTokenizer
from sashimi.model.token_table import PAD_ID, UNK_ID, TokenTable, build_token_table
from sashimi.train import beams as beam_mining
from sashimi.train.data import (
    Batch,
    Dataset,
    build_examples,
    collate,
    pad_ids,
    parse_rows,
    program_text,
    shift_inputs,
)
from sashimi.train.losses import (
    LossWeighting,
    bag_loss,
    ce_loss,
    distill_loss,
    margin_loss,
    repair_loss,
    span_mean,
    token_logprobs,
)

CKPT_DIR = "ckpt"
METRICS_FILE = "metrics.jsonl"


class TrainingError(SashimiError):
    """Training cannot continue (non-finite loss or gradient, a run folder that does not match)."""


@dataclass
class Prepared:
    train: Dataset
    dev: Dataset
    evals: dict[str, Dataset]
    table: TokenTable
    vocab: Vocab
    catalog: Catalog
    retrieval: RetrievalIndex | None
    info: dict = field(default_factory=dict)
    text: TextTokenizer | None = None  # the dsl_text target's BPE (None: typed IR target)


# ----------------------------------------------------------------------------------------------- data


def _load_rows(config: dict, data_paths: Sequence[str]) -> tuple[list[CorpusRow], list[CorpusRow], dict]:
    dc = config["data"]
    info: dict = {"data_files": [{"path": str(p), "sha256": file_sha256(p)} for p in data_paths]}
    if dc["source"] == "synth" and not data_paths:
        splits = generate_corpus(int(dc["synth_n"]), int(dc["synth_seed"]))
        info["synth"] = {"n": dc["synth_n"], "seed": dc["synth_seed"]}
        return [e.row for e in splits["train"]], [e.row for e in splits["dev"]], info
    if dc["source"] not in ("corpus", "synth"):
        raise DataError(f"data.source must be 'corpus' or 'synth', got {dc['source']!r}")
    if not data_paths:
        raise DataError("this config trains on a corpus: pass --data FILE.jsonl")
    per_file = [load_corpus(p) for p in data_paths]
    rows = [r for file_rows in per_file for r in file_rows]
    if dc.get("dev_file"):  # a given dev split: every row of --data trains
        info["dev_file"] = {"path": str(dc["dev_file"]), "sha256": file_sha256(dc["dev_file"])}
        return rows, load_corpus(dc["dev_file"]), info
    split = split_corpus(rows, float(dc["dev_fraction"]), int(dc["split_seed"]))
    trained = {id(r) for r in split.train}
    for path, file_rows in zip(data_paths, per_file, strict=True):
        # The carve takes whole family groups up to its share of all rows: a file of many small groups
        # beside a large file of one family (our synthetic corpus) can end up in dev entirely.
        if file_rows and not any(id(r) in trained for r in file_rows):
            raise DataError(
                f"the dev carve ({dc['dev_fraction']} of all rows, whole family groups) took every row of "
                "this file, so none of it would train: give a dev split instead (--set data.dev_file=FILE)",
                Location(str(path)),
            )
    info["dev_carve"] = {
        "fraction": dc["dev_fraction"],
        "seed": dc["split_seed"],
        "groups": len(split.dev_groups),
    }
    return list(split.train), list(split.dev), info


def _dataset(examples, encoder: Encoder, prompts_cache: dict) -> Dataset:
    prompts = [e.prompt for e in examples]
    todo = [p for p in dict.fromkeys(prompts) if p not in prompts_cache]
    if todo:
        pooled = encoder.embed(todo)
        states = encoder.token_states(todo)
        for p, v, s in zip(todo, pooled, states, strict=True):
            prompts_cache[p] = (v, s)
    pooled = np.stack([prompts_cache[p][0] for p in prompts]) if prompts else np.zeros((0, 384), np.float32)
    return Dataset(examples, pooled, [prompts_cache[p][1] for p in prompts])


def prepare(
    config: dict,
    data_paths: Sequence[str] = (),
    eval_paths: Sequence[str] = (),
    *,
    encoder: Encoder | None = None,
    log=print,
) -> Prepared:
    dc, mc = config["data"], config["model"]
    train_rows, dev_rows, info = _load_rows(config, data_paths)
    if dc["max_train_rows"]:
        train_rows = train_rows[: int(dc["max_train_rows"])]
    catalog = Catalog.load(dc["catalog_dir"])
    train_parsed, train_failed = parse_rows(train_rows)
    dev_parsed, dev_failed = parse_rows(dev_rows)
    if not train_parsed or not dev_parsed:
        raise DataError(f"need parseable training and dev rows (got {len(train_parsed)} / {len(dev_parsed)})")
    vocab = build_vocab([ir for _, ir in train_parsed], catalog, catalog_actions=catalog.actions)
    table = build_token_table(vocab)
    max_len = int(mc["max_len"])
    text = None
    if mc["output_target"] == DSL_TEXT:
        # the BPE is learnt on the training programs' text only (never dev / eval rows)
        text = TextTokenizer.train(
            [program_text(to_typed(ir, catalog)) for _, ir in train_parsed], int(mc["text_vocab_size"])
        )
        table = text.table()
        max_len = int(mc["text_max_len"])
    k_neg, neg_seed = int(dc["negatives_per_program"]), int(dc["negative_seed"])
    bank_sources = negative_sources(config)[0]
    log(
        f"data: {len(train_parsed)} train / {len(dev_parsed)} dev programs "
        f"({len(train_failed) + len(dev_failed)} unparseable skipped); catalog {dc['catalog_dir'] or 'core'} "
        f"({len(catalog)} actions); {len(table)} output tokens"
        + (f" (dsl_text: byte-level BPE, max_len {max_len})" if text is not None else "")
    )
    train_ex, train_stats = build_examples(
        train_parsed,
        catalog,
        table,
        max_len=max_len,
        negatives_per_program=k_neg,
        negative_seed=neg_seed,
        tokenizer=text,
        negative_sources=bank_sources,
    )
    # dev negatives (another seed) give the separability figure; they never train anything
    dev_ex, dev_stats = build_examples(
        dev_parsed,
        catalog,
        table,
        max_len=max_len,
        negatives_per_program=max(k_neg, 2),
        negative_seed=neg_seed + 1,
        tokenizer=text,
    )
    evals_ex = {}
    for path in eval_paths:
        parsed, failed = parse_rows(load_corpus(path))
        ex, st = build_examples(
            parsed,
            catalog,
            table,
            max_len=max_len,
            negatives_per_program=max(k_neg, 2),
            negative_seed=neg_seed + 1,
            tokenizer=text,
        )
        evals_ex[str(path)] = (ex, {**st, "unparseable": len(failed)})
    encoder = encoder or Encoder()
    cache: dict = {}
    t0 = time.time()
    train = _dataset(train_ex, encoder, cache)
    dev = _dataset(dev_ex, encoder, cache)
    evals = {}
    for name, (ex, st) in evals_ex.items():
        evals[name] = _dataset(ex, encoder, cache)
        evals[name].stats = st
    train.stats = {**train_stats, "unparseable": len(train_failed)}
    dev.stats = {**dev_stats, "unparseable": len(dev_failed)}
    if text is not None:
        n_tr = max(1, len(train_ex))
        log(
            f"dsl_text: {train_stats['text_tokens'] / n_tr:.0f} BPE tokens per training program (max "
            f"{train_stats['max_text_tokens']}); {train_stats['truncated']} of {len(train_ex)} truncated at {max_len}"
        )
    log(
        f"encoder: {len(cache)} prompts in {time.time() - t0:.1f}s; negatives: {train_stats['negatives']} train, "
        f"{dev_stats['negatives']} dev"
    )
    retrieval = None
    k = int(mc["retrieval_k"])
    if k > 0:
        retrieval = build_index(
            train.pooled,
            [e.ids for e in train.examples],
            [e.group for e in train.examples],
            int(mc["retrieval_len"]),
        )
        train.neighbours = retrieval.neighbours(
            train.pooled, k, exclude_groups=[e.group for e in train.examples]
        )
        dev.neighbours = retrieval.neighbours(dev.pooled, k)
        for ds in evals.values():
            ds.neighbours = retrieval.neighbours(ds.pooled, k)
    if mc["encoder"] != "frozen":
        add_encoder_inputs([train, dev, *evals.values()], mc, encoder, log)
    info["catalog_dir"] = dc["catalog_dir"]
    return Prepared(train, dev, evals, table, vocab, catalog, retrieval, info, text)


def negative_sources(config: dict) -> tuple[tuple[str, ...], bool]:
    """(the bank sources that train, whether beams are mined) from `data.negative_sources`."""
    raw = config["data"]["negative_sources"]
    if isinstance(raw, str):
        raw = [raw]
    allowed = (*BANK_SOURCES, "beams")
    if (
        not isinstance(raw, list | tuple)
        or not raw
        or len(set(raw)) != len(raw)
        or any(s not in allowed for s in raw)
    ):
        raise DataError(
            f"data.negative_sources must be a non-empty list of distinct {list(allowed)}, got {raw!r}"
        )
    # bank order stays the bank's own (linter, synthetic), whatever order the list gives
    return tuple(s for s in BANK_SOURCES if s in raw), "beams" in raw


def add_encoder_inputs(datasets: Sequence[Dataset], mc: dict, encoder: Encoder, log) -> None:
    """What a trainable prompt encoder reads, per prompt: MiniLM's hidden states below the fine-tuned
    layers (from the on-disk cache, so only the top layers run per step) or word-piece ids (scratch)."""
    t0 = time.time()
    prompts = list(dict.fromkeys(e.prompt for ds in datasets for e in ds.examples))
    if mc["encoder"] == "finetune":
        layer = N_LAYERS - int(mc["encoder_finetune_layers"])
        values = encoder.hidden_states(prompts, layer)
        what = f"MiniLM layer-{layer} states"
    else:
        values = wordpiece_ids(prompts)
        what = "word-piece ids"
    by_prompt = dict(zip(prompts, values, strict=True))
    for ds in datasets:
        ds.enc_inputs = [by_prompt[e.prompt] for e in ds.examples]
    log(f"encoder {mc['encoder']}: {what} of {len(prompts)} prompts in {time.time() - t0:.1f}s")


def encoder_lr_scale(config: dict) -> float:
    """Trainable prompt encoder's lr relative to train.lr (train.encoder_lr; see config.py)."""
    tc, kind = config["train"], config["model"]["encoder"]
    if tc["encoder_lr"] is None:
        return 0.1 if kind == "finetune" else 1.0
    return float(tc["encoder_lr"]) / float(tc["lr"])


def prompt_memory(model: SashimiDecoder, batch: Batch):
    """The decoder memory of a batch: frozen MiniLM features, or the trainable encoder's."""
    pooled, states, mask = model.read_prompt(
        batch.pooled, batch.token_states, batch.token_mask, batch.enc_inputs
    )
    return model.encode(pooled, states, mask, batch.retrieved)


# ----------------------------------------------------------------------------------------------- steps


def _forward_losses(
    model: SashimiDecoder,
    weighting: LossWeighting,
    batch: Batch,
    config: dict,
    teacher: SashimiDecoder | None = None,
):
    lc = config["loss"]
    memory = prompt_memory(model, batch)
    logits = model(memory, batch.inputs)  # (B, L, V)
    terms = {"ce": ce_loss(logits, batch.targets)}
    distill = None
    if teacher is not None:  # train.distill_from: the teacher reads the same batch, teacher-forced
        with torch.no_grad():
            teacher_logits = teacher(prompt_memory(teacher, batch), batch.inputs)  # (B, L, V)
        distill = distill_loss(logits, teacher_logits, batch.targets, float(lc["distill_temperature"]))
    if len(batch.neg_rows):
        neg_logits = model(memory.index_select(batch.neg_rows), batch.neg_inputs)  # (P, L', V)
        pos_logp = token_logprobs(
            logits.index_select(0, batch.neg_rows), batch.targets.index_select(0, batch.neg_rows)
        )
        neg_logp = token_logprobs(neg_logits, batch.neg_targets)
        pos_ll, neg_ll = span_mean(pos_logp, batch.pos_div), span_mean(neg_logp, batch.neg_div)
        terms["margin"] = margin_loss(pos_ll, neg_ll, float(lc["margin"]))
        terms["repair"] = repair_loss(pos_logp, batch.pos_div, batch.neg_weight)
    total = weighting(terms)
    extra = {"bag": bag_loss(memory.bag_logits, batch.bag)}
    total = total + float(lc["bag_weight"]) * extra["bag"]
    if memory.kl is not None:
        extra["kl"] = memory.kl.mean()
        total = total + float(model.cfg.beta) * extra["kl"]
    if distill is not None:
        extra["distill"] = distill
        total = total + float(lc["distill_weight"]) * distill
    return total, {**terms, **extra}


def load_teacher(run_dir: str | os.PathLike, cfg: DecoderConfig, table: TokenTable) -> SashimiDecoder:
    """The decoder of a finished run (`train.distill_from`), frozen in eval mode, after checking that it
    reads the same inputs and predicts over the same token table as the student."""
    from sashimi.model.checkpoint import load_run

    teacher = load_run(run_dir)
    tc = teacher.decoder.cfg
    if list(teacher.table.tokens) != list(table.tokens):
        raise DataError(
            "train.distill_from: the teacher's token table differs (train it on the same data)",
            Location(str(run_dir)),
        )
    for key in ("max_enc_tokens", "use_token_states", "retrieval_k", "retrieval_len", "output_target"):
        if getattr(tc, key) != getattr(cfg, key):
            raise DataError(
                f"train.distill_from: the teacher's model.{key} is {getattr(tc, key)!r}, "
                f"this run's {getattr(cfg, key)!r}",
                Location(str(run_dir)),
            )
    if tc.encoder != "frozen":
        raise DataError("train.distill_from: the teacher must read the frozen encoder", Location(str(run_dir)))
    for p in teacher.decoder.parameters():
        p.requires_grad_(False)
    return teacher.decoder.eval()


def split_batch(batch: Batch, max_tokens: int) -> list[Batch]:
    """Row chunks of `batch` with at most `max_tokens` target positions each, positives and their
    negatives together (at least one row), every tensor cut to the chunk's own longest sequence.
    Causal decoding: trailing padding changes nothing."""
    length = batch.targets.shape[1] + (batch.neg_targets.shape[1] if len(batch.neg_rows) else 0)
    per = max(1, int(max_tokens) // max(1, length))
    out = []
    for start in range(0, batch.targets.shape[0], per):
        rows = torch.arange(start, min(start + per, batch.targets.shape[0]))
        keep = int((batch.targets.index_select(0, rows) != PAD_ID).sum(1).max())
        pick = torch.nonzero((batch.neg_rows >= start) & (batch.neg_rows < start + len(rows))).flatten()
        neg_t = batch.neg_targets.index_select(0, pick)
        keep_n = max(1, int((neg_t != PAD_ID).sum(1).max())) if len(pick) else 1
        out.append(
            Batch(
                pooled=batch.pooled.index_select(0, rows),
                token_states=batch.token_states.index_select(0, rows),
                token_mask=batch.token_mask.index_select(0, rows),
                retrieved=None if batch.retrieved is None else batch.retrieved.index_select(0, rows),
                inputs=batch.inputs.index_select(0, rows)[:, :keep],
                targets=batch.targets.index_select(0, rows)[:, :keep],
                tiers=batch.tiers.index_select(0, rows)[:, :keep],
                bag=batch.bag.index_select(0, rows),
                neg_rows=batch.neg_rows.index_select(0, pick) - start,
                neg_inputs=batch.neg_inputs.index_select(0, pick)[:, :keep_n],
                neg_targets=neg_t[:, :keep_n],
                pos_div=batch.pos_div.index_select(0, pick)[:, :keep],
                neg_div=batch.neg_div.index_select(0, pick)[:, :keep_n],
                neg_weight=batch.neg_weight.index_select(0, pick),
                enc_inputs=None
                if batch.enc_inputs is None
                else (batch.enc_inputs[0].index_select(0, rows), batch.enc_inputs[1].index_select(0, rows)),
            )
        )
    return out


def _accumulated_losses(
    model: SashimiDecoder, weighting: LossWeighting, batch: Batch, config: dict, max_tokens: int
) -> tuple[float, dict[str, float]]:
    """Forward + backward of `batch` in row chunks of <= `max_tokens` positions (gradient accumulation).

    Each chunk's terms are scaled by its share of what the whole-batch term averages over (tokens for
    L_ce, pairs for L_margin, severity weight for L_repair, rows for the bag and KL terms), so the summed
    loss and gradients are those of the whole batch (up to float summation order). Kendall weighting's
    `+ s_i` is counted once per term. Returns the whole-batch loss and terms as floats.
    """
    n_tok = float((batch.targets != PAD_ID).sum())
    n_rows, n_pairs, w_sum = batch.targets.shape[0], len(batch.neg_rows), float(batch.neg_weight.sum())
    total_f, terms_f = 0.0, {}
    counted: set[str] = set()
    for part in split_batch(batch, max_tokens):
        share = {
            "ce": float((part.targets != PAD_ID).sum()) / n_tok,
            "margin": len(part.neg_rows) / max(1, n_pairs),
            "repair": float(part.neg_weight.sum()) / w_sum if w_sum > 0 else 0.0,
            "bag": part.targets.shape[0] / n_rows,
            "kl": part.targets.shape[0] / n_rows,
        }
        _, terms = _forward_losses(model, weighting, part, config)
        scaled = {k: v * share[k] for k, v in terms.items()}
        main = {k: v for k, v in scaled.items() if k in ("ce", "margin", "repair")}
        total = weighting(main) - weighting.offset([k for k in main if k in counted])
        counted.update(main)
        total = total + float(config["loss"]["bag_weight"]) * scaled["bag"]
        if "kl" in scaled:
            total = total + float(model.cfg.beta) * scaled["kl"]
        value = float(total.detach())
        if not math.isfinite(value):
            return value, {k: float(v.detach()) for k, v in terms.items()}
        total.backward()
        total_f += value
        for k, v in scaled.items():
            terms_f[k] = terms_f.get(k, 0.0) + float(v.detach())
    return total_f, terms_f


def lr_at(step: int, tc: dict) -> float:
    base, warm, total = float(tc["lr"]), int(tc["warmup_steps"]), int(tc["steps"])
    if step < warm:
        return base * (step + 1) / warm
    progress = min(1.0, (step - warm) / max(1, total - warm))
    floor = base * float(tc["min_lr_ratio"])
    return floor + (base - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _batch_rows(step: int, lengths: Sequence[int], batch_size: int, seed: int) -> list[int]:
    """Rows of step `step`: per epoch, a seeded shuffle, rows grouped by target length into batches
    (so a batch pads little: most programs are short, a few very long), batches in seeded order."""
    n = len(lengths)
    size = min(batch_size, n)
    per_epoch = max(1, n // size)
    epoch, offset = divmod(step, per_epoch)
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    perm = torch.randperm(n, generator=gen).tolist()
    by_length = sorted(perm, key=lambda i: lengths[i])  # stable: equal lengths keep the shuffled order
    batches = [by_length[b * size : (b + 1) * size] for b in range(per_epoch)]
    order = torch.randperm(per_epoch, generator=gen).tolist()
    return batches[order[offset]]


def _grad_health(model: SashimiDecoder, weighting: LossWeighting) -> dict:
    groups: dict[str, list[torch.Tensor]] = {}
    zero = total = 0
    max_abs = 0.0
    for name, p in list(model.named_parameters()) + [
        ("loss." + n, p) for n, p in weighting.named_parameters()
    ]:
        if p.grad is None:
            groups.setdefault("no_grad", []).append(torch.zeros(()))
            continue
        key = name.split(".")[0]
        groups.setdefault(key, []).append(p.grad.detach().norm())
        zero += int((p.grad == 0).sum())
        total += p.grad.numel()
        max_abs = max(max_abs, float(p.grad.detach().abs().max()))
    norms = {k: float(torch.stack(v).norm()) for k, v in groups.items() if k != "no_grad"}
    return {
        "grad_norm_by_part": norms,
        "grad_zero_share": zero / max(1, total),
        "grad_max_abs": max_abs,
        "params_without_grad": len(groups.get("no_grad", [])),
    }


# ----------------------------------------------------------------------------------------------- evaluation


def _eval_batches(data: Dataset, bs: int, text_config: dict | None) -> list[list[int]]:
    """Rows in order, `bs` at a time; dsl_text: rows by length, at most `train.text_batch_tokens`
    target positions per batch (long texts would otherwise need GBs of logits at once)."""
    budget = int(text_config["train"]["text_batch_tokens"] or 0) if text_config else 0
    if not budget:
        return [list(range(s, min(len(data), s + bs))) for s in range(0, len(data), bs)]
    out: list[list[int]] = []
    for i in sorted(range(len(data)), key=lambda i: len(data.examples[i].ids)):
        n = len(data.examples[i].ids)  # the longest so far: rows come in length order
        if out and len(out[-1]) < bs and (len(out[-1]) + 1) * n <= budget:
            out[-1].append(i)
        else:
            out.append([i])
    return out


@torch.no_grad()
def evaluate(model: SashimiDecoder, data: Dataset, config: dict, retrieval: RetrievalIndex | None) -> dict:
    """Teacher-forced figures on a dataset: CE, token and sequence accuracies, hard-negative separability.

    Argmax over the whole output vocabulary (no decoding mask). A `<UNK>` target is always wrong.
    DSL-text target: every text token (and `<EOS>`) counts as Tier 1, so `tier1_token_acc` is the
    accuracy over all text tokens, values included, and `tier1_seq_acc` = `tier12_seq_acc` = `seq_acc`
    is the exact text (the model-selection key and the early-exit rule read these same keys).
    Separability: mean over (positive, negative) pairs of l(y+) - l(y-), l = mean log p over the
    diverging positions (nats per diverging token); also the share of pairs with l(y+) > l(y-).
    """
    was_training = model.training
    model.eval()
    mc = config["model"]
    bs = int(config["train"]["eval_batch_size"])
    n_tok = ce_sum = 0.0
    correct_tok = 0
    t1_tok = t1_correct = 0
    seq = {"tier1": 0, "tier12": 0, "all": 0}
    sep: list[float] = []
    kl_sum = 0.0
    for rows in _eval_batches(data, bs, config if model.cfg.output_target == DSL_TEXT else None):
        batch = collate(
            data,
            rows,
            vocab_size=model.cfg.vocab_size,
            max_enc_tokens=int(mc["max_enc_tokens"]),
            retrieval=retrieval,
            retrieval_len=int(mc["retrieval_len"]),
            use_negatives=False,
        )
        memory = prompt_memory(model, batch)
        if memory.kl is not None:
            kl_sum += float(memory.kl.sum())
        logits = model(memory, batch.inputs)
        valid = batch.targets != PAD_ID
        logp = token_logprobs(logits, batch.targets)
        ce_sum += float(-(logp * valid).sum())
        n_tok += float(valid.sum())
        right = (logits.argmax(-1) == batch.targets) & (batch.targets != UNK_ID)
        correct_tok += int((right & valid).sum())
        t1 = batch.tiers == 1
        t12 = (batch.tiers == 1) | (batch.tiers == 2)
        t1_tok += int(t1.sum())
        t1_correct += int((right & t1).sum())
        seq["tier1"] += int((right | ~t1).all(1).sum())
        seq["tier12"] += int((right | ~t12).all(1).sum())
        seq["all"] += int((right | ~valid).all(1).sum())
        # every stored negative of these rows, one negative index at a time
        max_neg = max((len(data.examples[i].negatives) for i in rows), default=0)
        for j in range(max_neg):
            have = [r for r in rows if len(data.examples[r].negatives) > j]
            idx = torch.as_tensor([rows.index(r) for r in have], dtype=torch.long)
            negs = [data.examples[r].negatives[j] for r in have]
            neg_targets = pad_ids([n.ids for n in negs])
            neg_logits = model(memory.index_select(idx), shift_inputs([n.ids for n in negs]))
            pos_div = torch.zeros(len(negs), batch.targets.shape[1], dtype=torch.bool)
            neg_div = torch.zeros(len(negs), neg_targets.shape[1], dtype=torch.bool)
            for p, n in enumerate(negs):
                pos_div[p, n.pos_div] = True
                neg_div[p, n.neg_div] = True
            pos_ll = span_mean(logp.index_select(0, idx), pos_div)
            neg_ll = span_mean(token_logprobs(neg_logits, neg_targets), neg_div)
            sep.extend((pos_ll - neg_ll).tolist())
    n = max(1, len(data))
    out = {
        "rows": len(data),
        "ce": ce_sum / max(1.0, n_tok),
        "token_acc": correct_tok / max(1.0, n_tok),
        "tier1_token_acc": t1_correct / max(1, t1_tok),
        "tier1_seq_acc": seq["tier1"] / n,
        "tier12_seq_acc": seq["tier12"] / n,
        "seq_acc": seq["all"] / n,
        "separability_nats": float(np.mean(sep)) if sep else None,
        "separability_pairs": len(sep),
        "separability_pos_wins": float(np.mean([s > 0 for s in sep])) if sep else None,
    }
    if model.cfg.variational:
        out["kl_rate_nats"] = kl_sum / n
    model.train(was_training)
    return out


# ----------------------------------------------------------------------------------------------- checkpoints


def _optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for pid, state in sd["state"].items():
        for key, value in state.items():
            tensors[f"opt.{pid}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return tensors, {"param_groups": sd["param_groups"]}


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: dict) -> None:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("opt."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = value
    opt.load_state_dict({"state": state, "param_groups": groups["param_groups"]})


def save_checkpoint(run: Path, step: int, model, weighting, opt, best: dict, extra: dict) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"loss.{k}": v for k, v in weighting.state_dict().items()})
    opt_tensors, opt_json = _optimizer_tensors(opt)
    tensors.update(opt_tensors)
    tensors["rng.torch"] = torch.get_rng_state()
    save_state_dict(run / CKPT_DIR / "state.safetensors", tensors)
    write_json(run / CKPT_DIR / "state.json", {"step": step, "best": best, "optimizer": opt_json, **extra})


def load_checkpoint(run: Path, model, weighting, opt) -> dict:
    tensors = load_file(str(run / CKPT_DIR / "state.safetensors"))
    state = read_json(run / CKPT_DIR / "state.json")
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    weighting.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("loss.")})
    _load_optimizer(opt, tensors, state["optimizer"])
    torch.set_rng_state(tensors["rng.torch"])
    return state


def _append_metrics(run: Path, record: dict) -> None:
    with open(run / METRICS_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _truncate_metrics(run: Path, step: int) -> None:
    """On resume, drop log lines written after the checkpoint (they will be written again)."""
    path = run / METRICS_FILE
    if not path.is_file():
        return
    keep = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line and json.loads(line)["step"] <= step
    ]
    atomic_write_text(path, "".join(line + "\n" for line in keep))


# ----------------------------------------------------------------------------------------------- train


def _fingerprint(config: dict, prep_info: dict) -> dict:
    """What must match for --resume: the recipe (minus the test-only interruption) and the data."""
    recipe = {**config, "train": {k: v for k, v in config["train"].items() if k != "interrupt_at"}}
    return {"config": recipe, "data_files": prep_info.get("data_files"), "synth": prep_info.get("synth")}


def train(
    config: dict,
    out_dir: str | os.PathLike,
    data_paths: Sequence[str] = (),
    *,
    eval_paths: Sequence[str] = (),
    resume: bool = False,
    quiet: bool = False,
    encoder: Encoder | None = None,
    on_eval: Callable[[int, dict], None] | None = None,
) -> dict:
    """Train, write the run folder, return the final metrics (also in meta.json).

    `on_eval(step, dev_metrics)`, if given, is called after each periodic dev evaluation, once that
    step's metrics line (and checkpoint, when one is due) is written. It may raise to stop training
    (the HPO's pruner does): the exception leaves `train`, and the run folder holds everything up to
    that step. Without it (the default) training is unchanged.
    """
    started = time.time()
    commit = git_commit(Path(__file__).parent)  # the code this run starts with (HEAD may move while it runs)
    run = Path(out_dir)
    tc, lc = config["train"], config["loss"]
    log = (lambda *a, **k: None) if quiet else (lambda msg: tqdm.write(str(msg), file=sys.stderr))
    ckpt_state = run / CKPT_DIR / "state.json"
    if ckpt_state.is_file() and not resume:
        raise TrainingError(
            f"{run} already holds a training checkpoint: pass --resume, or choose another --out"
        )
    if resume and not ckpt_state.is_file():
        raise TrainingError("--resume: no checkpoint in this folder", Location(str(run)))
    if tc["threads"]:
        torch.set_num_threads(int(tc["threads"]))
    seed = int(tc["seed"])
    torch.manual_seed(seed)

    prep = prepare(config, data_paths, eval_paths, encoder=encoder, log=log)
    fingerprint = _fingerprint(config, prep.info)
    model_cfg = dict(config["model"])
    if prep.text is not None:  # the text decoder's positions cover text_max_len tokens
        model_cfg["max_len"] = int(model_cfg["text_max_len"])
    cfg = DecoderConfig(vocab_size=len(prep.table), **model_cfg)
    torch.manual_seed(seed)  # model init depends on the seed only, not on what preparing consumed
    model = SashimiDecoder(cfg)
    if cfg.encoder == "finetune":  # the trainable top layers start from MiniLM's own weights
        model.prompt_encoder.load_pretrained()
    weighting = LossWeighting(lc["weighting"], lc["weights"], lc["logvar_clamp"])
    teacher = None
    if tc["distill_from"]:
        if prep.text is not None:
            raise DataError("train.distill_from is for typed_ir models (a dsl_text batch runs in chunks)")
        teacher = load_teacher(tc["distill_from"], cfg, prep.table)
        log(
            f"distilling from {tc['distill_from']} "
            f"(weight {lc['distill_weight']}, temperature {lc['distill_temperature']})"
        )
    counts = model.param_counts()
    log(
        f"model: {counts['total'] / 1e6:.2f}M parameters ({counts['ternary'] / 1e6:.2f}M ternary, regime {cfg.weight_regime})"
    )

    named = [(n, p) for n, p in model.named_parameters() if not n.startswith("prompt_encoder.")]
    decay = [p for n, p in named if p.dim() >= 2 and "emb" not in n]
    no_decay = [p for n, p in named if not (p.dim() >= 2 and "emb" not in n)]
    param_groups = [
        {"params": decay, "weight_decay": float(tc["weight_decay"])},
        {"params": no_decay + list(weighting.parameters()), "weight_decay": 0.0},
    ]
    if model.prompt_encoder is not None:  # its own lr (lr_scale x the schedule), same decay rule
        enc = list(model.prompt_encoder.named_parameters())
        scale = encoder_lr_scale(config)
        param_groups += [
            {
                "params": [p for n, p in enc if p.dim() >= 2 and "emb" not in n],
                "weight_decay": float(tc["weight_decay"]),
                "lr_scale": scale,
            },
            {
                "params": [p for n, p in enc if not (p.dim() >= 2 and "emb" not in n)],
                "weight_decay": 0.0,
                "lr_scale": scale,
            },
        ]
        log(
            f"prompt encoder: {cfg.encoder}, {counts['encoder'] / 1e6:.2f}M trainable parameters, "
            f"peak lr {scale * float(tc['lr']):.2e}"
        )
    opt = torch.optim.AdamW(param_groups, lr=float(tc["lr"]), betas=tuple(tc["betas"]))

    run.mkdir(parents=True, exist_ok=True)
    start_step, best = 0, {"score": None, "step": None}
    wall_before = 0.0
    if resume:
        state = read_json(ckpt_state)
        if state.get("fingerprint") != json.loads(json.dumps(fingerprint)):
            raise TrainingError(
                "--resume: this run was trained with another config or data; start a new --out",
                Location(str(run)),
            )
        state = load_checkpoint(run, model, weighting, opt)
        start_step, best = int(state["step"]), state["best"]
        wall_before = float(state.get("wall_seconds", 0.0))
        _truncate_metrics(run, start_step)
        log(f"resumed at step {start_step}")
    else:
        (run / METRICS_FILE).unlink(missing_ok=True)
    write_json(run / "config.resolved.json", config)

    steps, bs = int(tc["steps"]), int(tc["batch_size"])
    lengths = [len(e.ids) for e in prep.train.examples]
    mine_at, beam_info = None, None
    if negative_sources(config)[1]:
        if cfg.output_target != "typed_ir":  # invalid beams are defined by the typed-IR decoding mask
            raise DataError("data.negative_sources 'beams' needs model.output_target typed_ir")
        mine_at = beam_mining.mining_step(config["data"]["beam_negatives_at"], steps)
        beam_settings = beam_mining.BeamSettings.from_config(config["data"])
    if not resume:
        (run / beam_mining.BEAMS_FILE).unlink(missing_ok=True)

    def mine_or_load(at: int) -> dict:
        """Mined beam negatives of step `at` attached to the training rows: read back when this run
        already mined them (resume), mined and stored otherwise."""
        stored = beam_mining.load(run, at)
        if stored is None:
            if at < start_step:
                raise TrainingError(
                    f"--resume: the beam negatives mined at step {at} are missing ({beam_mining.BEAMS_FILE})",
                    Location(str(run)),
                )
            mined, stats = beam_mining.mine(
                model,
                prep.train,
                vocab=prep.vocab,
                table=prep.table,
                catalog=prep.catalog,
                retrieval=prep.retrieval,
                settings=beam_settings,
                seed=seed,
                max_enc_tokens=cfg.max_enc_tokens,
                retrieval_len=cfg.retrieval_len,
            )
            beam_mining.save(run, at, beam_settings, mined, stats)
            source = "mined"
        else:
            (mined, stats), source = stored, "stored"
        negs, dropped = beam_mining.to_negatives(mined, prep.train, prep.table, cfg.max_len)
        added = beam_mining.attach(prep.train, negs)
        log(
            f"beam negatives ({source}) at step {at}: {stats['invalid']} invalid of {stats['beams']} beams "
            f"on {stats['prompts_decoded']} prompts ({stats['invalid_per_100_prompts']} per 100 prompts), "
            f"{added} added as hard negatives, {stats['seconds']}s wall / {stats.get('cpu_seconds')}s CPU; "
            f"tags {stats['invalid_by_tag']}"
        )
        return {"step": at, **stats, "added": added, "dropped": dropped}

    if mine_at is not None and start_step > mine_at:
        beam_info = mine_or_load(mine_at)
    interrupt_at = tc["interrupt_at"]
    text_tokens = int(tc["text_batch_tokens"] or 0) if prep.text is not None else 0
    show_bar = not quiet and sys.stderr.isatty()
    bar = tqdm(
        total=steps, initial=start_step, desc="train", unit="step", disable=not show_bar, file=sys.stderr
    )
    model.train()
    exited_early = None
    step = start_step
    t_last = time.time()
    for step in range(start_step, steps):
        model.set_ternary_active(step >= int(tc["ternary_warmup_steps"]))
        mined_now = None
        if step == mine_at:  # the weights of this step (ternary or not), before its seeding
            beam_info = mined_now = mine_or_load(step)
        torch.manual_seed(seed * 1_000_003 + 7919 * (step + 1))  # dropout / variational noise of this step
        gen = torch.Generator().manual_seed(seed * 1_000_033 + step)  # negative choice of this step
        lr = lr_at(step, tc)
        for group in opt.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        rows = _batch_rows(step, lengths, bs, seed)
        batch = collate(
            prep.train,
            rows,
            vocab_size=cfg.vocab_size,
            max_enc_tokens=cfg.max_enc_tokens,
            retrieval=prep.retrieval,
            retrieval_len=cfg.retrieval_len,
            use_negatives=True,
            generator=gen,
        )
        chunked = bool(text_tokens) and batch.targets.numel() + batch.neg_targets.numel() > text_tokens
        if chunked:
            # dsl_text: a batch of long programs runs in row chunks (same rows, same loss; bounded memory)
            opt.zero_grad(set_to_none=True)
            total_f, terms_f = _accumulated_losses(model, weighting, batch, config, text_tokens)
        else:
            total, terms = _forward_losses(model, weighting, batch, config, teacher)
            terms_f = {k: float(v.detach()) for k, v in terms.items()}
            total_f = float(total.detach())
        if not math.isfinite(total_f):
            raise TrainingError(
                f"step {step + 1}: non-finite loss ({', '.join(f'{k}={v:.4g}' for k, v in terms_f.items())})"
            )
        if not chunked:
            opt.zero_grad(set_to_none=True)
            total.backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        grad_norm = torch.nn.utils.clip_grad_norm_(
            list(model.parameters()) + list(weighting.parameters()), float(tc["grad_clip"])
        )
        if not torch.isfinite(grad_norm) or not all(torch.isfinite(g).all() for g in grads):
            raise TrainingError(f"step {step + 1}: non-finite gradient")
        done = step + 1
        record = {"step": done, "lr": lr, "loss": total_f, "grad_norm": float(grad_norm)}
        record.update(terms_f)
        if mined_now is not None:
            record["beam_negatives"] = mined_now
        if done % int(tc["log_every"]) == 0:
            health = _grad_health(model, weighting)
            now = time.time()
            record.update(
                health,
                loss_weights=weighting.effective_weights(),
                steps_per_s=int(tc["log_every"]) / max(1e-9, now - t_last),
            )
            t_last = now
            parts = " ".join(f"{k}={v:.3g}" for k, v in health["grad_norm_by_part"].items())
            log(
                f"step {done}: loss {total_f:.4f} ("
                + " ".join(f"{k} {v:.3f}" for k, v in terms_f.items())
                + f") | grad norm {float(grad_norm):.3g} [{parts}] zero {health['grad_zero_share']:.1%} "
                f"max {health['grad_max_abs']:.3g} | lr {lr:.2e}"
            )
        opt.step()
        bar.update(1)
        bar.set_postfix(loss=f"{total_f:.3f}", ce=f"{terms_f['ce']:.3f}")
        if done % int(tc["eval_every"]) == 0 or done == steps:
            metrics = evaluate(model, prep.dev, config, prep.retrieval)
            record["dev"] = metrics
            record["loss_weights"] = weighting.effective_weights()  # adaptive: the learned weights
            score = [metrics["tier12_seq_acc"], -metrics["ce"]]
            if best["score"] is None or score > best["score"]:
                best = {"score": score, "step": done}
                save_state_dict(run / CKPT_DIR / "best.safetensors", model.state_dict())
            log(
                f"dev @ {done}: ce {metrics['ce']:.4f} tier1 seq {metrics['tier1_seq_acc']:.3f} "
                f"tier1+2 seq {metrics['tier12_seq_acc']:.3f} token {metrics['token_acc']:.3f} "
                f"sep {metrics['separability_nats'] if metrics['separability_nats'] is not None else float('nan'):.3f}"
            )
            ee = tc["early_exit"]
            if (
                ee
                and done >= int(ee["step"])
                and exited_early is None
                and done - int(tc["eval_every"]) < int(ee["step"])
            ):
                if metrics["tier1_token_acc"] < float(ee["min_tier1_acc"]):
                    exited_early = {
                        "step": done,
                        "tier1_token_acc": metrics["tier1_token_acc"],
                        "threshold": ee["min_tier1_acc"],
                    }
        _append_metrics(run, record)
        if done % int(tc["ckpt_every"]) == 0 or done == steps or exited_early:
            save_checkpoint(
                run,
                done,
                model,
                weighting,
                opt,
                best,
                {"fingerprint": fingerprint, "wall_seconds": wall_before + time.time() - started},
            )
        if on_eval is not None and "dev" in record:
            on_eval(done, record["dev"])
        if exited_early:
            log(
                f"early exit at step {done}: Tier 1 token accuracy {exited_early['tier1_token_acc']:.3f} < {exited_early['threshold']}"
            )
            break
        if interrupt_at is not None and done >= int(interrupt_at):
            bar.close()
            return {"interrupted_at": done}
    bar.close()

    # ---- the run folder load_run reads
    if tc["select"] == "best" and (run / CKPT_DIR / "best.safetensors").is_file():
        model.load_state_dict(load_file(str(run / CKPT_DIR / "best.safetensors")))
    model.set_ternary_active(True)
    model.eval()
    final = {"dev": evaluate(model, prep.dev, config, prep.retrieval)}
    for name, ds in prep.evals.items():
        final[name] = evaluate(model, ds, config, prep.retrieval)
    save_model_files(run, model, prep.table, prep.vocab, config)
    if prep.text is not None:
        prep.text.save(run)
    if prep.retrieval is not None:
        prep.retrieval.save(run)
    filler_info = _fit_filler(run, prep, config, log)
    chooser_info = _fit_chooser(run, prep, config, log, quiet)
    wall = wall_before + time.time() - started
    meta = {
        "git_commit": commit,
        "wall_seconds": round(wall, 3),
        "steps_done": step + 1 if steps else 0,
        "selected_step": best["step"] if tc["select"] == "best" else step + 1,
        "early_exit": exited_early,
        "loss_weighting": {"mode": weighting.mode, "final_weights": weighting.effective_weights()},
        "negative_sources": list(config["data"]["negative_sources"]),
        "beam_negatives": beam_info,
        "params": counts,
        "encoder": {
            "kind": cfg.encoder,
            "trainable_params": counts["encoder"],
            "finetune_layers": cfg.encoder_finetune_layers if cfg.encoder == "finetune" else None,
            "lr": encoder_lr_scale(config) * float(tc["lr"]) if cfg.encoder != "frozen" else None,
            "gate_and_retrieval": "frozen MiniLM pooled vector",
        },
        "params_filler": filler_info.get("params"),
        "ternary_shares": {
            n: s for n, s in ternary_shares(model).items() if n in dict(model.ternary_layers())
        },
        "data": {
            **prep.info,
            "train": prep.train.stats,
            "dev": prep.dev.stats,
            **{name: ds.stats for name, ds in prep.evals.items()},
        },
        "vocab": prep.vocab.meta,
        "token_table_size": len(prep.table),
        "output_target": cfg.output_target,
        "retrieval_index": "retrieval.safetensors: built from the training rows; never ship it"
        if prep.retrieval
        else None,
        "filler": filler_info,
        "chooser": chooser_info,
        "metrics": final,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    write_json(run / META_FILE, meta)
    log(
        f"done in {wall:.0f}s: dev tier1 seq {final['dev']['tier1_seq_acc']:.3f}, tier1+2 seq {final['dev']['tier12_seq_acc']:.3f}"
    )
    return meta


def _fit_filler(run: Path, prep: Prepared, config: dict, log) -> dict:
    """The Tier 3 value filler, fitted on the training rows with the run's catalog (seconds)."""
    if not config["filler"]["fit"]:
        return {"fitted": False, "reason": "filler.fit is false"}
    if prep.text is not None:
        return {"fitted": False, "reason": "dsl_text target: the decoder writes the values itself"}
    t0 = time.time()
    filler = ValueFiller.fit(
        [(e.prompt, e.typed) for e in prep.train.examples],
        seed=int(config["train"]["seed"]),
        value_source=str(config["filler"]["value_source"]),
        catalog=prep.catalog,
    )
    filler.save(run / FILLER_DIR)
    log(f"value filler fitted in {time.time() - t0:.1f}s")
    return {
        "fitted": True,
        "value_source": config["filler"]["value_source"],
        "params": int(len(filler.weights) + 1),  # the scorer's weights + intercept (vocabularies are tables)
        "seconds": round(time.time() - t0, 2),
    }


def _fit_chooser(run: Path, prep: Prepared, config: dict, log, quiet: bool) -> dict:
    """The neighbour chooser and its full-length index (`sashimi.train.chooser`), when configured."""
    settings = dict(config["chooser"])
    if not settings.pop("fit"):
        return {"fitted": False, "reason": "chooser.fit is false"}
    if prep.text is not None:
        return {"fitted": False, "reason": "dsl_text target: no typed programs to choose among"}
    from sashimi.train.chooser import all_training_rows, fit_run_chooser

    return fit_run_chooser(
        run,
        all_training_rows(prep),
        prep.table,
        int(config["model"]["max_len"]),
        ChooserConfig.from_json(settings),
        log=log,
        quiet=quiet,
    )


def check_run_dir(out: str | os.PathLike) -> None:
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise DataError("--out exists and is not a folder", Location(str(p)))
