"""Greedy and beam search over `SashimiDecoder.step`, masked by a `ProgramConstraint` at every step.

Validity comes from the mask alone: at each step the logits of every token the constraint forbids are
set to -inf before the softmax, so the search can only ever emit a token sequence the state machine
accepts, and it stops when the constraint calls the state final ("END" emitted). There is no fallback
program and no filtering of finished candidates: if the mask ever leaves nothing allowed, or the
search runs past the constraint's `max_len` without finishing, that is a bug and raises `SearchError`.

Scores are log-probabilities under the *masked* distribution (renormalised over the allowed tokens).
Beam search ranks finished hypotheses by length-normalised score (mean log-probability per token), so
longer programs are not penalised for their length; greedy is beam search with K = 1 without the
bookkeeping.

The decoder protocol (iface.md): `step(memory, token_ids [B], cache) -> (logits [B, V], cache)` with
the KV cache inside `cache`, `init_cache(memory)`; the first input token is <BOS>. For beams, memory
and cache are re-indexed along their batch dimension (dim 0 of every tensor inside them, found
recursively through dataclasses, tuples, lists and dicts), unless they provide their own
`index_select(idx)` (the decoder's `Memory` and `Cache` do).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

BOS_ID = 1  # TokenTable: ids 0, 1, 2, 3 = <PAD>, <BOS>, <EOS>, <UNK>
CLOSERS = ("END", "ENDIF", "ENDMENU", "ENDREPEAT", "ENDFOREACH")  # the tokens that end a block or the program


def closing_bias(tokens, value: float) -> np.ndarray | None:
    """A logit bias (V,) of `value` on the closers among `tokens` (the token table's texts), None for 0.

    Greedy decoding of a small model tends to go on and on (RESULTS §7.8): a bias of b on the closers
    multiplies their odds by e^b at every step, a length penalty in the usual sense."""
    if not value:
        return None
    bias = np.zeros(len(tokens), dtype=np.float32)
    bias[[i for i, t in enumerate(tokens) if t in CLOSERS]] = value
    return bias


class SearchError(RuntimeError):
    """The constrained search could not finish (a defect of the mask or the model, never bad input)."""


@dataclass(frozen=True)
class SearchResult:
    token_ids: tuple[int, ...]  # emitted tokens, without <BOS>; the last one made the constraint final
    score: float  # sum of masked log-probabilities
    steps: int  # decoder steps run (all beams of a step count once)

    @property
    def norm_score(self) -> float:
        return self.score / max(1, len(self.token_ids))


def index_batch(obj: Any, idx: torch.Tensor) -> Any:
    """`obj` with every tensor inside re-indexed along dim 0 by `idx` (beam reordering / expansion)."""
    if isinstance(obj, torch.Tensor):
        return obj.index_select(0, idx) if obj.dim() > 0 else obj
    own = getattr(obj, "index_select", None)  # the decoder's Memory / Cache know their own layout
    if callable(own):
        return own(idx)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(index_batch(v, idx) for v in obj))
    if isinstance(obj, list | tuple):
        return type(obj)(index_batch(v, idx) for v in obj)
    if isinstance(obj, dict):
        return {k: index_batch(v, idx) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: index_batch(getattr(obj, f.name), idx) for f in dataclasses.fields(obj) if f.init}
        return dataclasses.replace(obj, **changes)
    return obj  # ints, None, strings: shared by all beams


def _masked_log_probs(logits: torch.Tensor, allowed: np.ndarray) -> torch.Tensor:
    """log_softmax over the allowed tokens only ([V] -> [V], -inf where forbidden)."""
    mask = torch.from_numpy(np.array(allowed, dtype=bool))  # a copy: the constraint caches its masks
    if not bool(mask.any()):
        raise SearchError("the decoding constraint allows no token in a non-final state")
    return torch.log_softmax(logits.float().masked_fill(~mask, float("-inf")), dim=-1)


def _limit(constraint) -> int:
    # the constraint forces an end within its max_len; one extra step only to detect a defect
    return int(getattr(constraint, "max_len", 512)) + 1


def _best_allowed_rows(logits: np.ndarray, allowed: np.ndarray) -> list[tuple[int, float] | SearchError]:
    """Per row of `logits` (B, V): (argmax over the tokens its row of `allowed` permits, its masked
    log-probability), or the `SearchError` of a row whose mask permits nothing. In numpy: at batch 1 the
    same choice as `_masked_log_probs` + argmax (the first of equal maxima) in a fifth of the time, and
    one pass of array operations for all B rows instead of ~5 calls per row (each row's sum still runs
    over that row alone: the same numbers, bit for bit, as row by row)."""
    masked = np.where(allowed, logits, np.float32(-np.inf))
    best = masked.argmax(axis=1)
    top = masked[np.arange(len(best)), best]
    with np.errstate(invalid="ignore"):  # a row whose mask allows nothing: -inf - -inf, reported below
        shifted = np.exp(masked - top[:, None])
    out: list[tuple[int, float] | SearchError] = []
    for j, (b, t) in enumerate(zip(best.tolist(), top.tolist(), strict=True)):
        if not np.isfinite(t):
            out.append(SearchError("the decoding constraint allows no token in a non-final state"))
        else:
            out.append((b, -float(np.log(shifted[j].sum(dtype=np.float64)))))
    return out


def greedy(decoder, memory, constraint, *, bos_id: int = BOS_ID, bias: np.ndarray | None = None) -> SearchResult:
    """`bias` (V,): added to the logits at every step before the mask (`closing_bias`); the score is
    then the log-probability under the biased distribution. `greedy_batch` over one row."""
    result = greedy_batch(decoder, memory, constraint, bos_id=bos_id, bias=bias)[0]
    if isinstance(result, SearchError):
        raise result
    return result


@torch.inference_mode()
def greedy_batch(
    decoder, memory, constraint, *, bos_id: int = BOS_ID, bias: np.ndarray | None = None
) -> list[SearchResult | SearchError]:
    """`greedy` for every row of a batched `memory` at once: one decoder step per position for all the
    rows still decoding (a step at batch 1 is mostly per-call overhead, so B rows cost little more than
    one; RESULTS §8). A row that finishes leaves the batch (its cache rows are dropped). Each row's
    tokens are chosen exactly as `greedy` chooses them from that row's logits; the logits agree with a
    batch-1 step to float32 rounding only (a matrix product over B rows sums in another order), so a
    row's program can differ from `greedy`'s only where two tokens tie to that precision.

    Returns one entry per row: its `SearchResult`, or the `SearchError` that row raised (the other rows
    go on)."""
    n = int((memory.states if hasattr(memory, "states") else memory).shape[0])  # `Memory` or a tensor
    results: list[SearchResult | SearchError | None] = [None] * n
    states = [constraint.initial() for _ in range(n)]
    ids: list[list[int]] = [[] for _ in range(n)]
    scores = [0.0] * n
    live = list(range(n))  # rows of the batch still decoding, in cache order
    cache = decoder.init_cache(memory)
    tokens = [bos_id] * n
    for step in range(_limit(constraint)):
        logits, cache = decoder.step(memory, torch.tensor(tokens, dtype=torch.long), cache)
        rows = logits.float().numpy()  # [len(live), V]
        if bias is not None:
            rows = rows + bias
        chosen = _best_allowed_rows(rows, np.stack([constraint.allowed(states[r]) for r in live]))
        keep: list[int] = []  # positions in `live` that go on
        tokens = []
        for j, (r, choice) in enumerate(zip(live, chosen, strict=True)):
            if isinstance(choice, SearchError):
                results[r] = choice
                continue
            best, logp = choice
            scores[r] += logp
            states[r] = constraint.advance(states[r], best)
            ids[r].append(best)
            if constraint.is_final(states[r]):
                results[r] = SearchResult(tuple(ids[r]), scores[r], step + 1)
            else:
                keep.append(j)
                tokens.append(best)
        if not keep:
            break
        if len(keep) < len(live):
            idx = torch.tensor(keep, dtype=torch.long)
            cache, memory = index_batch(cache, idx), index_batch(memory, idx)
            live = [live[j] for j in keep]
    for r in range(n):
        if results[r] is None:
            results[r] = SearchError(f"no program finished within {len(ids[r])} tokens (constraint max_len)")
    return results  # type: ignore[return-value]


@dataclass
class _Hyp:
    state: Any
    ids: tuple[int, ...]
    score: float


@torch.inference_mode()
def beam_search(
    decoder, memory, constraint, *, beam: int = 4, bos_id: int = BOS_ID, bias: np.ndarray | None = None
) -> SearchResult:
    """Keep the `beam` best live hypotheses and the `beam` best finished ones (by mean log-prob);
    `bias` as in `greedy`."""
    bias_t = None if bias is None else torch.from_numpy(np.asarray(bias, dtype=np.float32))
    if beam < 1:
        raise ValueError("beam must be >= 1")
    live = [_Hyp(constraint.initial(), (), 0.0)]
    finished: list[_Hyp] = []
    cache = decoder.init_cache(memory)
    mem, n_mem = memory, 1  # rows of the memory: one per live beam
    tokens = torch.tensor([bos_id], dtype=torch.long)
    steps, limit = 0, _limit(constraint)
    while steps < limit:
        steps += 1
        logits, cache = decoder.step(mem, tokens, cache)  # [n_live, V]
        if bias_t is not None:
            logits = logits + bias_t
        candidates: list[tuple[float, int, int]] = []  # (score, live index, token)
        for i, hyp in enumerate(live):
            logp = _masked_log_probs(logits[i], constraint.allowed(hyp.state))
            k = min(beam, int(torch.isfinite(logp).sum()))
            top = torch.topk(logp, k)
            candidates.extend(
                (hyp.score + float(v), i, int(t)) for v, t in zip(top.values, top.indices, strict=True)
            )
        # ties broken by (live index, token id) so results never depend on sort stability
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        next_live: list[_Hyp] = []
        parents: list[int] = []
        for score, i, tok in candidates:  # every candidate has the same length: raw order = normalised
            state = constraint.advance(live[i].state, tok)
            hyp = _Hyp(state, live[i].ids + (tok,), score)
            if constraint.is_final(state):
                finished.append(hyp)
            elif len(next_live) < beam:
                next_live.append(hyp)
                parents.append(i)
        finished = sorted(finished, key=_rank)[:beam]
        if not next_live:
            break
        # done when the `beam` best finished all beat every live hypothesis's current mean log-prob
        # (the usual heuristic: a live beam could still improve its mean, but rarely does)
        if len(finished) >= beam and _norm(finished[-1]) >= max(_norm(h) for h in next_live):
            break
        idx = torch.tensor(parents, dtype=torch.long)
        if len(parents) != n_mem:  # every row of the memory is the same prompt: only the count changes
            mem, n_mem = index_batch(memory, torch.zeros(len(parents), dtype=torch.long)), len(parents)
        cache = index_batch(cache, idx)
        live = next_live
        tokens = torch.tensor([h.ids[-1] for h in live], dtype=torch.long)
    if not finished:
        raise SearchError(f"no program finished within {steps} steps (constraint max_len)")
    best = min(finished, key=_rank)
    return SearchResult(best.ids, best.score, steps)


def _norm(h: _Hyp) -> float:
    return h.score / max(1, len(h.ids))


def _rank(h: _Hyp) -> tuple:
    """Best first: higher mean log-prob, then shorter, then smaller ids (deterministic)."""
    return (-_norm(h), len(h.ids), h.ids)


def search(
    decoder, memory, constraint, *, beam: int = 1, bos_id: int = BOS_ID, bias: np.ndarray | None = None
) -> SearchResult:
    """Greedy for beam == 1, beam search otherwise."""
    if beam == 1:
        return greedy(decoder, memory, constraint, bos_id=bos_id, bias=bias)
    return beam_search(decoder, memory, constraint, beam=beam, bos_id=bos_id, bias=bias)
