"""Training data for the decoder: corpus rows -> token ids, encoder inputs, hard negatives, neighbours.

`build_dataset` turns parsed (prompt, program) rows into `Example`s: the target ids are exactly the
typed IR's token texts (`to_typed(ir, catalog).tokens`) mapped through the `TokenTable`, truncated to
`max_len` (counted). Each training row also gets hard negatives from the bank generator
(`sashimi.data.negatives.negatives_for_program`, seeded) — kept only when every negative token is in
the table and their diverging positions fit in `max_len` — with the diverging positions of both
sequences precomputed (difflib opcodes over the token texts) and a severity weight from its error tags.

DSL-text target (plan 4.1.5; `tokenizer` given): the target ids are the byte-level BPE tokens of the
canonical text `lower_to_text(typed)` (values included) followed by `<EOS>`; every position counts as
Tier 1 (the text has no tiers: the dev "tier1" figures are then over all text tokens). A hard negative
is rendered to text the same way (its typed IR lowered and printed; the raw corrupted text when it does
not lower) and tokenised, and its diverging positions are computed on the two token-id sequences.

Batches (`collate`) are plain tensors; every random choice in a batch comes from a `torch.Generator`
the trainer seeds per step, so a resumed run draws exactly what an uninterrupted one draws.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from sashimi.data.negatives.bank import negatives_for_program
from sashimi.data.negatives.common import SOURCES as BANK_SOURCES
from sashimi.data.negatives.common import _Tables
from sashimi.data.splits import group_rows
from sashimi.dsl.ast import ShortcutIR
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import CorpusRow
from sashimi.errors import SashimiError
from sashimi.ir.lowering import lower_to_text
from sashimi.ir.typed import TypedProgram, to_typed
from sashimi.model.decoder import pad_token_states
from sashimi.model.prompt_encoder import pad_encoder_inputs
from sashimi.model.retrieval import RetrievalIndex
from sashimi.model.text_target import TextTokenizer
from sashimi.model.token_table import BOS_ID, EOS_ID, PAD_ID, UNK_ID, TokenTable

# How much a negative's error matters (L_repair weight = the largest severity among its tags). Wrong
# structure or action identity changes what the shortcut does; a dropped parameter or a wrong enum
# value changes how. A negative that is still strict-valid gets +0.5: only fidelity can catch it.
SEVERITY: dict[str, float] = {
    "structure": 1.0,
    "action": 1.0,
    "action_swap": 1.0,
    "macro_expansion": 1.0,
    "condition": 0.75,
    "handle": 0.75,
    "interpolation": 0.5,
    "enum": 0.5,
    "param_drop": 0.5,
    "alias_warning": 0.5,
    "trailing_newline": 0.25,
}
STILL_VALID_BONUS = 0.5
DEFAULT_SEVERITY = 0.5


@dataclass
class Negative:
    ids: list[int]  # the negative's token ids (targets), truncated to max_len
    pos_div: list[int]  # positions of the positive where the two differ
    neg_div: list[int]  # positions of the negative where the two differ
    weight: float  # severity of its error tags
    tags: tuple[str, ...]


@dataclass
class Example:
    shortcut_id: str
    prompt: str
    ids: list[int]  # target ids (typed IR tokens), truncated to max_len
    tiers: list[int]  # tier of each target position (1, 2, 3)
    group: int  # family group (retrieval never crosses it in training)
    typed: TypedProgram
    truncated: bool = False
    negatives: list[Negative] = field(default_factory=list)


@dataclass
class Dataset:
    examples: list[Example]
    pooled: np.ndarray  # (N, 384)
    token_states: list[np.ndarray]  # N x (T_i, 384)
    neighbours: np.ndarray | None = None  # (N, k) rows of the retrieval index, -1 = none
    stats: dict = field(default_factory=dict)
    # what a trainable prompt encoder reads, per example (None with the frozen encoder): MiniLM hidden
    # states after its frozen layers (T_i, 384) float, or word-piece ids (T_i,) int (prompt_encoder.py)
    enc_inputs: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.examples)


def parse_rows(rows: Iterable[CorpusRow]) -> tuple[list[tuple[CorpusRow, ShortcutIR]], list[str]]:
    """Rows whose program parses, plus the ids of those that do not (reported, never silently lost)."""
    parsed, failed = [], []
    for row in rows:
        try:
            parsed.append((row, row.parse()))  # honours the row's dialect (issue 11.3)
        except SashimiError:
            failed.append(row.shortcut_id)
    return parsed, failed


def diverging_positions(pos: Sequence[str], neg: Sequence[str]) -> tuple[list[int], list[int]]:
    """Positions of each sequence inside the non-equal difflib blocks.

    A pure deletion (or insertion) leaves one side empty; that side then gets the position where the
    other side's extra tokens would have been (the first token that differs from what the other
    expects), so both sides always have at least one position.
    """
    matcher = difflib.SequenceMatcher(a=list(pos), b=list(neg), autojunk=False)
    p_div: list[int] = []
    n_div: list[int] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        p_div += list(range(i1, i2)) if i2 > i1 else [min(i1, len(pos) - 1)]
        n_div += list(range(j1, j2)) if j2 > j1 else [min(j1, len(neg) - 1)]
    return sorted(set(p_div)), sorted(set(n_div))


def severity(tags: Sequence[str], table: dict[str, float] | None = None) -> float:
    table = SEVERITY if table is None else table
    base = max((table.get(t, DEFAULT_SEVERITY) for t in tags if t != "still_valid"), default=DEFAULT_SEVERITY)
    return base + (STILL_VALID_BONUS if "still_valid" in tags else 0.0)


def program_text(typed: TypedProgram) -> str:
    """The text a dsl_text decoder learns to write: the canonical printing of the typed IR."""
    return lower_to_text(typed)


def _negative_text(negative: dict, fallback: str) -> str:
    try:
        return lower_to_text(TypedProgram.from_json(negative))
    except (SashimiError, ValueError):
        return fallback  # a reading that does not lower: the corrupted text itself


def build_examples(
    parsed: Sequence[tuple[CorpusRow, ShortcutIR]],
    catalog: Catalog,
    table: TokenTable,
    *,
    max_len: int,
    negatives_per_program: int = 0,
    negative_seed: int = 0,
    negative_sources: Sequence[str] = BANK_SOURCES,
    tokenizer: TextTokenizer | None = None,
) -> tuple[list[Example], dict]:
    """Examples with target ids (and hard negatives when `negatives_per_program` > 0 and
    `negative_sources`, a subset of the bank's sources, is not empty).

    `tokenizer` given: the dsl_text target (module docstring) instead of the typed IR tokens."""
    if tokenizer is not None:
        return _build_text_examples(
            parsed,
            catalog,
            tokenizer,
            max_len=max_len,
            negatives_per_program=negatives_per_program,
            negative_seed=negative_seed,
            negative_sources=negative_sources,
        )
    groups = group_rows([row for row, _ in parsed])
    group_of = {i: g for g, grp in enumerate(groups) for i in grp.rows}
    tables = _Tables.build(catalog) if negatives_per_program > 0 and negative_sources else None
    stats = {
        "rows": len(parsed),
        "truncated": 0,
        "unk_tokens": 0,
        "negatives": 0,
        "negatives_dropped_unknown_token": 0,
        "negatives_dropped_past_max_len": 0,
    }
    examples: list[Example] = []
    for i, (row, ir) in enumerate(parsed):
        typed = to_typed(ir, catalog)
        texts = [t.text for t in typed.tokens]
        ids = table.encode(texts)
        stats["unk_tokens"] += sum(1 for x in ids if x == UNK_ID)
        ex = Example(
            shortcut_id=row.shortcut_id,
            prompt=row.prompt,
            ids=ids[:max_len],
            tiers=[t.tier for t in typed.tokens][:max_len],
            group=group_of[i],
            typed=typed,
            truncated=len(ids) > max_len,
        )
        stats["truncated"] += ex.truncated
        if tables is not None:
            for triple in negatives_for_program(
                row,
                catalog,
                seed=negative_seed,
                per_program=negatives_per_program,
                tables=tables,
                sources=negative_sources,
            ):
                neg_texts = triple.negative["tokens"]
                if any(t not in table for t in neg_texts):
                    stats["negatives_dropped_unknown_token"] += 1
                    continue
                _add_negative(ex, triple, texts, neg_texts, table.encode(neg_texts), max_len, stats)
        examples.append(ex)
    return examples, stats


def _add_negative(
    ex: Example, triple, pos: Sequence, neg: Sequence, neg_ids: list[int], max_len: int, stats: dict
) -> None:
    """Attach `neg_ids` as a hard negative of `ex` (with its error tags' severity) unless the sequences
    `pos` / `neg` (token texts or ids, whichever the target compares) differ somewhere past `max_len`."""
    p_div, n_div = diverging_positions(pos, neg)
    if max(p_div) >= max_len or max(n_div) >= max_len:
        stats["negatives_dropped_past_max_len"] += 1
        return
    ex.negatives.append(
        Negative(
            ids=neg_ids[:max_len],
            pos_div=p_div,
            neg_div=n_div,
            weight=severity(triple.error_tags),
            tags=tuple(triple.error_tags),
        )
    )
    stats["negatives"] += 1


def _build_text_examples(
    parsed: Sequence[tuple[CorpusRow, ShortcutIR]],
    catalog: Catalog,
    tokenizer: TextTokenizer,
    *,
    max_len: int,
    negatives_per_program: int,
    negative_seed: int,
    negative_sources: Sequence[str] = BANK_SOURCES,
) -> tuple[list[Example], dict]:
    groups = group_rows([row for row, _ in parsed])
    group_of = {i: g for g, grp in enumerate(groups) for i in grp.rows}
    tables = _Tables.build(catalog) if negatives_per_program > 0 and negative_sources else None
    stats = {
        "rows": len(parsed),
        "target": "dsl_text",
        "truncated": 0,
        "unk_tokens": 0,
        "text_tokens": 0,  # BPE tokens incl. <EOS>, before truncation
        "max_text_tokens": 0,
        "negatives": 0,
        "negatives_dropped_same_text": 0,
        "negatives_dropped_past_max_len": 0,
        "negatives_raw_text": 0,  # negatives whose typed reading does not lower: their corrupted text
    }
    examples: list[Example] = []
    for i, (row, ir) in enumerate(parsed):
        typed = to_typed(ir, catalog)
        text = program_text(typed)
        ids = [*tokenizer.encode(text), EOS_ID]
        stats["text_tokens"] += len(ids)
        stats["max_text_tokens"] = max(stats["max_text_tokens"], len(ids))
        ex = Example(
            shortcut_id=row.shortcut_id,
            prompt=row.prompt,
            ids=ids[:max_len],
            tiers=[1] * min(len(ids), max_len),
            group=group_of[i],
            typed=typed,
            truncated=len(ids) > max_len,
        )
        stats["truncated"] += ex.truncated
        if tables is not None:
            for triple in negatives_for_program(
                row,
                catalog,
                seed=negative_seed,
                per_program=negatives_per_program,
                tables=tables,
                sources=negative_sources,
            ):
                neg_text = _negative_text(triple.negative, triple.negative_text)
                if neg_text == text:  # differs only where text cannot show it: no text negative
                    stats["negatives_dropped_same_text"] += 1
                    continue
                stats["negatives_raw_text"] += neg_text == triple.negative_text and not triple.lowerable
                neg_ids = [*tokenizer.encode(neg_text), EOS_ID]
                _add_negative(ex, triple, ids, neg_ids, neg_ids, max_len, stats)
        examples.append(ex)
    return examples, stats


# ----------------------------------------------------------------------------------------------- batches


@dataclass
class Batch:
    pooled: torch.Tensor  # (B, 384)
    token_states: torch.Tensor  # (B, T, 384)
    token_mask: torch.Tensor  # (B, T) bool
    retrieved: torch.Tensor | None  # (B, k, R) or None
    inputs: torch.Tensor  # (B, L) <BOS> + targets[:-1]
    targets: torch.Tensor  # (B, L), PAD where none
    tiers: torch.Tensor  # (B, L) 0 where PAD
    bag: torch.Tensor  # (B, V) multi-hot of the target's tokens
    # hard negatives, one per row that has any (rows index into the batch)
    neg_rows: torch.Tensor  # (P,) long
    neg_inputs: torch.Tensor  # (P, L')
    neg_targets: torch.Tensor  # (P, L')
    pos_div: torch.Tensor  # (P, L) bool: diverging positions of the positive
    neg_div: torch.Tensor  # (P, L') bool
    neg_weight: torch.Tensor  # (P,) severity
    enc_inputs: tuple[torch.Tensor, torch.Tensor] | None = None  # trainable encoder's (inputs, mask)


def pad_ids(seqs: Sequence[Sequence[int]], value: int = PAD_ID) -> torch.Tensor:
    n = max((len(s) for s in seqs), default=1)
    out = torch.full((len(seqs), max(n, 1)), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out


def shift_inputs(targets: Sequence[Sequence[int]]) -> torch.Tensor:
    return pad_ids([[BOS_ID, *t[:-1]] for t in targets])


def collate(
    data: Dataset,
    rows: Sequence[int],
    *,
    vocab_size: int,
    max_enc_tokens: int,
    retrieval: RetrievalIndex | None,
    retrieval_len: int,
    use_negatives: bool,
    generator: torch.Generator | None = None,
) -> Batch:
    exs = [data.examples[i] for i in rows]
    pooled = torch.from_numpy(np.ascontiguousarray(data.pooled[list(rows)], dtype=np.float32))
    states, mask = pad_token_states([data.token_states[i] for i in rows], max_enc_tokens)
    retrieved = None
    if retrieval is not None and data.neighbours is not None:
        retrieved = retrieval.retrieved_ids(data.neighbours[list(rows)], retrieval_len)
    targets = pad_ids([e.ids for e in exs])
    bag = torch.zeros(len(exs), vocab_size)
    for i, e in enumerate(exs):
        bag[i, torch.as_tensor(sorted(set(e.ids)), dtype=torch.long)] = 1.0
    bag[:, PAD_ID] = 0.0
    neg_rows: list[int] = []
    picks: list[Negative] = []
    if use_negatives:
        for i, e in enumerate(exs):
            if e.negatives:
                j = (
                    int(torch.randint(len(e.negatives), (1,), generator=generator))
                    if len(e.negatives) > 1
                    else 0
                )
                neg_rows.append(i)
                picks.append(e.negatives[j])
    length = targets.shape[1]
    neg_targets = pad_ids([n.ids for n in picks]) if picks else torch.zeros(0, 1, dtype=torch.long)
    pos_div = torch.zeros(len(picks), length, dtype=torch.bool)
    neg_div = torch.zeros(len(picks), neg_targets.shape[1], dtype=torch.bool)
    for p, n in enumerate(picks):
        pos_div[p, n.pos_div] = True
        neg_div[p, n.neg_div] = True
    return Batch(
        pooled=pooled,
        token_states=states,
        token_mask=mask,
        retrieved=retrieved,
        inputs=shift_inputs([e.ids for e in exs]),
        targets=targets,
        tiers=pad_ids([e.tiers for e in exs], 0),
        bag=bag,
        neg_rows=torch.as_tensor(neg_rows, dtype=torch.long),
        neg_inputs=shift_inputs([n.ids for n in picks]) if picks else torch.zeros(0, 1, dtype=torch.long),
        neg_targets=neg_targets,
        pos_div=pos_div,
        neg_div=neg_div,
        neg_weight=torch.as_tensor([n.weight for n in picks], dtype=torch.float32),
        enc_inputs=None
        if data.enc_inputs is None
        else pad_encoder_inputs([data.enc_inputs[i] for i in rows]),
    )
