"""Hard negatives mined from the model's own beams (the `beams` negative source, plan 4.2).

The linter and synthetic banks corrupt gold programs the way *we* think a model errs; this source asks
the model itself. At a configured step (`data.beam_negatives_at`) the trainer decodes a seeded subset
of the training prompts with the current weights and **no grammar mask**: beam search over the raw
logits (only <PAD> and <BOS>, which are not output tokens, are excluded), `beam_width` beams per prompt,
each finished at END or <EOS> or cut at `max_len`. Every beam that is *invalid* becomes a hard negative
of its prompt's program for the rest of training (at most `beam_max_per_program` per program, best
beams first), so `L_margin` / `L_repair` push down exactly the invalid programs the model ranks high.

Invalid means either
* the decoding constraint (`sashimi.model.constraints.ProgramConstraint`, the mask generation uses)
  rejects it: the tag says where, from the first token the mask refuses — its own class when the mask
  allowed other tokens of that class there (a wrong action, enum value, condition, a variable or handle
  out of scope), otherwise the class the grammar required there (`beam:action` after ACTION,
  `beam:param_key`, `beam:enum`, `beam:condition`, `beam:handle`, `beam:value`, `beam:structure` a
  statement keyword or END expected), `beam:unknown_token` for <UNK>, or `beam:unfinished` (no END
  within `max_len`); or
* the mask accepts it but it does not lower, or the lowered program is not strict-valid
  (`beam:lowering`, `beam:validation`: a defect of the mask, expected to stay at zero).
A beam equal to its own gold program is never a negative (counted as `same_as_positive`).

Deterministic: the prompt subset comes from a generator seeded by `train.seed`, the search has no
sampling, and the model runs in eval mode; the global RNG is not touched. The mined negatives are
stored in the run folder (`beam_negatives.json`, token texts + tags + scores + counts), and a resumed
run reads them back instead of mining again. The only bound that depends on the machine is
`beam_max_seconds`, counted in this process's CPU seconds (not wall time, so a loaded shared machine does
not cut mining short): prompts are decoded in a fixed order in batches, and a mining that reaches the cap
stops after the current batch and says so (`time_capped`, `prompts_decoded`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from sashimi.data.negatives.bank import strict_valid
from sashimi.dsl.ast import CONDITIONS
from sashimi.dsl.catalog import Catalog
from sashimi.errors import DataError, Location, SashimiError
from sashimi.io import read_json, write_json
from sashimi.ir.lowering import lower
from sashimi.ir.typed import ACTION_PREFIX, ENUM_PREFIX, KEY_PREFIX, SLOT_TOKENS, STATEMENT_KEYWORDS
from sashimi.ir.vocab import Vocab
from sashimi.model.constraints import ProgramConstraint, placeholder_slots
from sashimi.model.decoder import SashimiDecoder
from sashimi.model.retrieval import RetrievalIndex
from sashimi.model.token_table import BOS_ID, EOS_ID, PAD_ID, UNK_ID, TokenTable
from sashimi.train.data import Dataset, Negative, collate, diverging_positions, severity

BEAMS_FILE = "beam_negatives.json"
FORMAT_VERSION = 1

# L_repair weight of a mined negative (same scale as sashimi.train.data.SEVERITY): a wrong action,
# broken structure or a program that never ends changes what the shortcut is; scope and conditions
# what it does; a key, enum or value kind how.
BEAM_SEVERITY: dict[str, float] = {
    "beam:action": 1.0,
    "beam:structure": 1.0,
    "beam:unfinished": 1.0,
    "beam:lowering": 1.0,
    "beam:condition": 0.75,
    "beam:handle": 0.75,
    "beam:validation": 0.75,
    "beam:param_key": 0.5,
    "beam:enum": 0.5,
    "beam:value": 0.5,
    "beam:unknown_token": 0.5,
}


@dataclass(frozen=True)
class BeamSettings:
    width: int = 4  # beams per prompt
    prompts: int | None = 200  # training prompts decoded (a seeded subset); None = all
    max_per_program: int = 2  # invalid beams kept per program, best first
    max_seconds: float | None = 600.0  # safety cap in CPU seconds (recorded when reached)
    batch: int = 16  # prompts decoded together
    max_len: int | None = None  # None = the model's max_len

    @classmethod
    def from_config(cls, dc: dict) -> BeamSettings:
        s = cls(
            width=int(dc["beam_width"]),
            prompts=None if dc["beam_prompts"] is None else int(dc["beam_prompts"]),
            max_per_program=int(dc["beam_max_per_program"]),
            max_seconds=None if dc["beam_max_seconds"] is None else float(dc["beam_max_seconds"]),
            batch=int(dc["beam_batch"]),
        )
        if s.width < 1 or s.max_per_program < 1 or s.batch < 1 or (s.prompts is not None and s.prompts < 1):
            raise DataError("data.beam_width, beam_prompts, beam_max_per_program and beam_batch must be >= 1")
        return s


def mining_step(at: float | int | None, steps: int) -> int | None:
    """`data.beam_negatives_at` as a step index: a float in [0, 1] is a fraction of `steps`, an int a step.

    Mining runs at the start of that step (after that many optimiser updates); 0 = before training."""
    if at is None:
        return None
    if isinstance(at, bool) or not isinstance(at, int | float):
        raise DataError(f"data.beam_negatives_at must be a number, got {at!r}")
    if isinstance(at, float):
        if not 0.0 <= at <= 1.0:
            raise DataError(f"data.beam_negatives_at: a fraction must be in [0, 1], got {at}")
        return min(steps, round(at * steps))
    if not 0 <= at <= steps:
        raise DataError(f"data.beam_negatives_at: step {at} is outside 0..{steps}")
    return at


# ----------------------------------------------------------------------------------------------- search


@torch.inference_mode()
def unmasked_beams(
    model: SashimiDecoder, memory, *, width: int, max_len: int, end_ids: Sequence[int]
) -> list[list[tuple[list[int], float]]]:
    """Beam search over the raw logits for a batch of prompts: per prompt, `width` (ids, sum log-prob)
    best first. A beam ends when it emits one of `end_ids` (kept as its last token); a finished beam
    keeps its score and competes with the live ones (no length normalisation: the model's own ranking).
    """
    b, v = memory.states.shape[0], model.cfg.vocab_size
    k = width
    rows = torch.arange(b).repeat_interleave(k)  # (B*K,) prompt of each beam
    mem = memory.index_select(rows)
    cache = model.init_cache(mem)
    scores = torch.full((b, k), float("-inf"))
    scores[:, 0] = 0.0  # one live hypothesis per prompt at the start: the K first tokens are distinct
    seqs = torch.zeros(b * k, 0, dtype=torch.long)
    finished = torch.zeros(b * k, dtype=torch.bool)
    tokens = torch.full((b * k,), BOS_ID, dtype=torch.long)
    ends = torch.as_tensor(list(end_ids), dtype=torch.long)
    for _ in range(max_len):
        logits, cache = model.step(mem, tokens, cache)  # (B*K, V)
        logp = torch.log_softmax(logits.float(), dim=-1)
        logp[:, PAD_ID] = float("-inf")  # not output tokens: <PAD> pads, <BOS> starts
        logp[:, BOS_ID] = float("-inf")
        # a finished beam has one continuation, <PAD> at no cost: it survives with its score
        logp[finished] = float("-inf")
        logp[finished, PAD_ID] = 0.0
        cand = (scores.reshape(-1, 1) + logp).reshape(b, k * v)
        top_scores, top_idx = torch.topk(cand, k, dim=1)  # (B, K), sorted best first
        parent = (top_idx // v) + torch.arange(b).unsqueeze(1) * k  # (B, K) rows of the previous beams
        token = top_idx % v
        parent, token = parent.reshape(-1), token.reshape(-1)
        seqs = torch.cat([seqs.index_select(0, parent), token.unsqueeze(1)], dim=1)
        finished = finished.index_select(0, parent) | torch.isin(token, ends)
        cache = cache.index_select(parent)
        scores = top_scores
        tokens = token
        if bool(finished.all()):
            break
    out: list[list[tuple[list[int], float]]] = []
    for p in range(b):
        beams = []
        for j in range(k):
            ids = [int(t) for t in seqs[p * k + j] if int(t) != PAD_ID]
            beams.append((ids, float(scores[p, j])))
        out.append(beams)
    return out


# ----------------------------------------------------------------------------------------------- classify


def _token_tag(text: str) -> str:
    if text.startswith(ACTION_PREFIX):
        return "beam:action"
    if text.startswith(KEY_PREFIX):
        return "beam:param_key"
    if text.startswith(ENUM_PREFIX):
        return "beam:enum"
    if text in CONDITIONS:
        return "beam:condition"
    if text.startswith(("$", "@")):
        return "beam:handle"
    if text in SLOT_TOKENS or text in ("<interp>", "</interp>", "<qty>", "<name>", "true", "false"):
        return "beam:value"
    if text == "<UNK>":
        return "beam:unknown_token"
    if text in STATEMENT_KEYWORDS or text == "<EOS>":
        return "beam:structure"
    return "beam:value"


_EXPECTED_ORDER = (
    "beam:action",
    "beam:enum",
    "beam:condition",
    "beam:param_key",
    "beam:handle",
    "beam:value",
    "beam:structure",
)


def _failure_tag(allowed, token: int, tags: Sequence[str]) -> str:
    """Where a rejected token fails: its own class when the mask allowed others of that class (a wrong
    action, enum value, handle out of scope ...), else the class the grammar required there."""
    own = tags[token] if 0 <= token < len(tags) else "beam:unknown_token"
    expected = {tags[i] for i in allowed.nonzero()[0]}
    if own in expected or own == "beam:unknown_token":
        return own
    return next((t for t in _EXPECTED_ORDER if t in expected), own)


def token_tags(table: TokenTable) -> list[str]:
    """The class of every token id (for `classify`)."""
    return [_token_tag(t) for t in table.tokens]


def classify(
    ids: Sequence[int], constraint: ProgramConstraint, catalog: Catalog, tags: Sequence[str] | None = None
) -> tuple[str | None, int | None]:
    """(tag, position of the first rejected token) of an invalid sequence; (None, None) if it is valid."""
    tags = tags if tags is not None else token_tags(constraint.table)
    st = constraint.initial()
    for i, t in enumerate(ids):
        allowed = constraint.allowed(st)
        if not (0 <= t < constraint.size) or not allowed[t]:
            return _failure_tag(allowed, t, tags), i
        st = constraint.advance(st, t)
    if not constraint.is_final(st):
        return "beam:unfinished", len(ids)
    try:
        slots, names = placeholder_slots(constraint, ids)
        ir = lower(constraint.to_typed(ids, slots, names))
    except (SashimiError, ValueError):
        return "beam:lowering", None
    if not strict_valid(ir, catalog):
        return "beam:validation", None
    return None, None


# ----------------------------------------------------------------------------------------------- mining


@dataclass
class Mined:
    row: int  # index into the training examples
    shortcut_id: str
    tokens: list[str]  # the beam's token texts (its end token included)
    rank: int  # 0 = the model's best beam
    score: float  # sum log-probability under the unmasked model
    tag: str
    fail_at: int | None  # first token the mask rejects (None: rejected after lowering)

    def to_json(self) -> dict:
        return dict(self.__dict__)


def mine(
    model: SashimiDecoder,
    data: Dataset,
    *,
    vocab: Vocab,
    table: TokenTable,
    catalog: Catalog,
    retrieval: RetrievalIndex | None,
    settings: BeamSettings,
    seed: int,
    max_enc_tokens: int,
    retrieval_len: int,
) -> tuple[list[Mined], dict]:
    """Decode a seeded subset of `data`'s prompts without the mask; the invalid beams and counts."""
    t0, cpu0 = time.time(), time.process_time()
    was_training = model.training
    model.eval()
    n = len(data)
    gen = torch.Generator().manual_seed(seed * 1_000_003 + 4099)
    chosen = sorted(torch.randperm(n, generator=gen)[: settings.prompts or n].tolist())
    max_len = int(settings.max_len or model.cfg.max_len)
    constraint = ProgramConstraint(vocab, table, max_len=max_len, catalog=catalog)
    end_ids = [i for i in (table.id("END"), EOS_ID) if i != UNK_ID]
    tags = token_tags(table)
    counts: Counter = Counter()
    invalid_tags: Counter = Counter()
    kept_tags: Counter = Counter()
    rank_invalid: Counter = Counter()
    mined: list[Mined] = []
    decoded = 0
    capped = False
    for start in range(0, len(chosen), settings.batch):
        if settings.max_seconds is not None and time.process_time() - cpu0 > settings.max_seconds:
            capped = True
            break
        rows = chosen[start : start + settings.batch]
        batch = collate(
            data,
            rows,
            vocab_size=model.cfg.vocab_size,
            max_enc_tokens=max_enc_tokens,
            retrieval=retrieval,
            retrieval_len=retrieval_len,
            use_negatives=False,
        )
        # the same prompt features training reads (a fine-tuned or scratch encoder when the run has one)
        pooled, states, mask = model.read_prompt(
            batch.pooled, batch.token_states, batch.token_mask, batch.enc_inputs
        )
        memory = model.encode(pooled, states, mask, batch.retrieved)
        results = unmasked_beams(model, memory, width=settings.width, max_len=max_len, end_ids=end_ids)
        decoded += len(rows)
        for r, beams in zip(rows, results, strict=True):
            gold = data.examples[r].ids
            kept = 0
            for rank, (ids, score) in enumerate(beams):
                counts["beams"] += 1
                if ids == gold:
                    counts["same_as_positive"] += 1
                    continue
                tag, fail_at = classify(ids, constraint, catalog, tags)
                if tag is None:
                    counts["valid"] += 1
                    continue
                counts["invalid"] += 1
                invalid_tags[tag] += 1
                rank_invalid[rank] += 1
                if kept >= settings.max_per_program:
                    counts["dropped_per_program_cap"] += 1
                    continue
                kept += 1
                kept_tags[tag] += 1
                mined.append(
                    Mined(
                        r,
                        data.examples[r].shortcut_id,
                        [table.tokens[t] for t in ids],
                        rank,
                        score,
                        tag,
                        fail_at,
                    )
                )
    model.train(was_training)
    seconds, cpu = time.time() - t0, time.process_time() - cpu0
    stats = {
        "prompts_chosen": len(chosen),
        "prompts_decoded": decoded,
        "time_capped": capped,
        "beam_width": settings.width,
        "max_len": max_len,
        "beams": counts["beams"],
        "valid": counts["valid"],
        "same_as_positive": counts["same_as_positive"],
        "invalid": counts["invalid"],
        "invalid_per_100_prompts": round(100.0 * counts["invalid"] / max(1, decoded), 2),
        "top_beam_invalid_share": round(rank_invalid[0] / max(1, decoded), 4),
        "invalid_by_rank": {str(k): rank_invalid[k] for k in sorted(rank_invalid)},
        "invalid_by_tag": dict(sorted(invalid_tags.items())),
        "kept": len(mined),
        "kept_by_tag": dict(sorted(kept_tags.items())),
        "dropped_per_program_cap": counts["dropped_per_program_cap"],
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
    }
    return mined, stats


def to_negatives(
    mined: Sequence[Mined], data: Dataset, table: TokenTable, max_len: int
) -> tuple[dict[int, list[Negative]], dict]:
    """Mined beams as `Negative`s per training row (diverging positions as for the bank's negatives)."""
    out: dict[int, list[Negative]] = {}
    dropped = Counter()
    for m in mined:
        ex = data.examples[m.row]
        if ex.shortcut_id != m.shortcut_id:
            raise DataError(
                f"stored beam negative of row {m.row} is for {m.shortcut_id}, not {ex.shortcut_id}"
            )
        pos_texts = [table.tokens[i] for i in ex.ids]
        p_div, n_div = diverging_positions(pos_texts, m.tokens)
        if not p_div or not n_div or max(p_div) >= max_len or max(n_div) >= max_len:
            dropped["past_max_len"] += 1
            continue
        tags = (m.tag,)
        out.setdefault(m.row, []).append(
            Negative(
                ids=table.encode(m.tokens)[:max_len],
                pos_div=p_div,
                neg_div=n_div,
                weight=severity(tags, BEAM_SEVERITY),
                tags=tags,
            )
        )
    return out, dict(dropped)


def attach(data: Dataset, negatives: dict[int, list[Negative]]) -> int:
    """Add mined negatives to their rows (after the bank's); returns how many were added."""
    for row, negs in negatives.items():
        data.examples[row].negatives.extend(negs)
    return sum(len(v) for v in negatives.values())


def save(run: Path, step: int, settings: BeamSettings, mined: Sequence[Mined], stats: dict) -> None:
    write_json(
        run / BEAMS_FILE,
        {
            "format_version": FORMAT_VERSION,
            "step": step,
            "settings": settings.__dict__,
            "stats": stats,
            "negatives": [m.to_json() for m in mined],
        },
    )


def load(run: Path, step: int) -> tuple[list[Mined], dict] | None:
    """The stored mining of this run at `step`, or None when there is none (or it is for another step)."""
    path = run / BEAMS_FILE
    if not path.is_file():
        return None
    obj = read_json(path)
    if not isinstance(obj, dict) or obj.get("format_version") != FORMAT_VERSION:
        raise DataError("unreadable beam negatives file", Location(str(path)))
    if obj.get("step") != step:
        return None
    return [Mined(**m) for m in obj["negatives"]], obj["stats"]
