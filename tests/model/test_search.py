"""Constrained greedy / beam search on a small grammar and a decoder whose logits depend on the history.

The fake decoder keeps the full token history in its cache, and its logits are a fixed function of that
history, so a beam whose cache is reordered wrongly would score differently from the same tokens fed
from scratch: every test checks the returned score against a from-scratch rescoring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from sashimi.model.search import CLOSERS, SearchError, beam_search, closing_bias, greedy, index_batch, search

TOKENS = ("<PAD>", "<BOS>", "<EOS>", "<UNK>", "SHORTCUT", "<str>", "A", "B", "C", "END")
ID = {t: i for i, t in enumerate(TOKENS)}


@dataclass(frozen=True)
class St:
    seq: tuple[int, ...]


class TinyConstraint:
    """SHORTCUT <str> (A | B | C)* END, at most `max_len` tokens: A never twice in a row."""

    def __init__(self, max_len: int = 8):
        self.max_len = max_len

    def initial(self) -> St:
        return St(())

    def allowed(self, s: St) -> np.ndarray:
        ok = np.zeros(len(TOKENS), bool)
        n = len(s.seq)
        if n == 0:
            ok[ID["SHORTCUT"]] = True
        elif n == 1:
            ok[ID["<str>"]] = True
        elif n >= self.max_len - 1:
            ok[ID["END"]] = True
        else:
            ok[[ID["B"], ID["C"], ID["END"]]] = True
            ok[ID["A"]] = s.seq[-1] != ID["A"]
        return ok

    def advance(self, s: St, tok: int) -> St:
        if not self.allowed(s)[tok]:
            raise ValueError(f"{TOKENS[tok]} not allowed after {[TOKENS[t] for t in s.seq]}")
        return St(s.seq + (tok,))

    def is_final(self, s: St) -> bool:
        return bool(s.seq) and s.seq[-1] == ID["END"]


@dataclass
class Cache:
    history: torch.Tensor  # (B, t) tokens consumed so far


class HistoryDecoder:
    """Logits = table[last token] + bonus depending on the history length and count of A's."""

    def __init__(self, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.table = torch.randn(len(TOKENS), len(TOKENS), generator=g) * 2.0
        self.table[:, ID["<UNK>"]] = 50.0  # the model loves a forbidden token: only the mask stops it
        self.calls = 0

    def _logits(self, history: torch.Tensor) -> torch.Tensor:
        last = history[:, -1]
        n_a = (history == ID["A"]).sum(1).float()
        out = self.table[last].clone()
        out[:, ID["END"]] += (
            0.7 * history.shape[1] - 1.5 * n_a
        )  # history-dependent: wrong cache -> wrong score
        return out

    def init_cache(self, memory) -> Cache:
        return Cache(torch.zeros(memory.shape[0], 0, dtype=torch.long))

    def step(self, memory, token_ids: torch.Tensor, cache: Cache):
        assert memory.shape[0] == token_ids.shape[0] == cache.history.shape[0]
        self.calls += 1
        history = torch.cat([cache.history, token_ids[:, None]], dim=1)
        return self._logits(history), Cache(history)

    def rescore(self, ids: tuple[int, ...], constraint: TinyConstraint) -> float:
        """Sum of masked log-probs of `ids`, recomputed from scratch (no cache)."""
        state, total = constraint.initial(), 0.0
        history = [ID["<BOS>"]]
        for tok in ids:
            logits = self._logits(torch.tensor([history]))[0]
            mask = torch.from_numpy(constraint.allowed(state))
            logp = torch.log_softmax(logits.masked_fill(~mask, float("-inf")), -1)
            total += float(logp[tok])
            state = constraint.advance(state, tok)
            history.append(tok)
        return total


MEMORY = torch.zeros(1, 3)


@pytest.mark.parametrize("seed", range(6))
def test_greedy_follows_the_mask_and_scores_consistently(seed):
    dec, con = HistoryDecoder(seed), TinyConstraint()
    res = greedy(dec, MEMORY, con)
    assert res.token_ids[:2] == (ID["SHORTCUT"], ID["<str>"]) and res.token_ids[-1] == ID["END"]
    assert ID["<UNK>"] not in res.token_ids
    assert len(res.token_ids) <= con.max_len
    assert res.score == pytest.approx(dec.rescore(res.token_ids, con), abs=1e-5)
    state = con.initial()
    for tok in res.token_ids:  # the whole sequence is a walk the constraint accepts
        state = con.advance(state, tok)
    assert con.is_final(state)


def _all_programs(con: TinyConstraint):
    """Every token sequence the constraint accepts (the grammar is small enough to enumerate)."""
    out, todo = [], [con.initial()]
    while todo:
        s = todo.pop()
        for tok in np.flatnonzero(con.allowed(s)):
            nxt = con.advance(s, int(tok))
            (out if con.is_final(nxt) else todo).append(nxt)
    return [s.seq for s in out]


@pytest.mark.parametrize("seed", range(6))
def test_beam_is_consistent_and_a_wide_beam_finds_the_best_normalised_program(seed):
    dec, con = HistoryDecoder(seed), TinyConstraint(max_len=7)
    b = beam_search(dec, MEMORY, con, beam=4)
    assert b.score == pytest.approx(dec.rescore(b.token_ids, con), abs=1e-5)  # cache reordered right
    assert ID["<UNK>"] not in b.token_ids
    programs = _all_programs(con)
    best = max(programs, key=lambda ids: dec.rescore(ids, con) / len(ids))
    wide = beam_search(dec, MEMORY, con, beam=len(programs))  # wide enough never to prune
    assert wide.token_ids == best
    assert wide.norm_score >= b.norm_score - 1e-9


def test_beam_1_is_greedy_and_search_dispatches():
    for seed in range(4):
        dec, con = HistoryDecoder(seed), TinyConstraint()
        assert beam_search(dec, MEMORY, con, beam=1).token_ids == greedy(dec, MEMORY, con).token_ids
        assert search(dec, MEMORY, con, beam=3).token_ids == beam_search(dec, MEMORY, con, beam=3).token_ids


def test_beam_beats_greedy_somewhere():
    """Over many random decoders, beam search must sometimes find a better normalised score."""
    gains = 0
    for seed in range(40):
        dec, con = HistoryDecoder(seed), TinyConstraint(max_len=7)
        gains += beam_search(dec, MEMORY, con, beam=5).norm_score > greedy(dec, MEMORY, con).norm_score + 1e-6
    assert gains > 0


def test_a_mask_that_allows_nothing_is_an_error_not_a_fallback():
    class Stuck(TinyConstraint):
        def allowed(self, s):
            return np.zeros(len(TOKENS), bool) if len(s.seq) == 2 else super().allowed(s)

    with pytest.raises(SearchError):
        greedy(HistoryDecoder(0), MEMORY, Stuck())
    with pytest.raises(SearchError):
        beam_search(HistoryDecoder(0), MEMORY, Stuck(), beam=3)


def test_index_batch_reorders_nested_structures():
    @dataclass
    class M:
        a: torch.Tensor
        b: list
        n: int

    m = M(torch.arange(3)[:, None], [torch.arange(3) * 10, (torch.arange(3) * 100,)], 7)
    out = index_batch(m, torch.tensor([2, 0]))
    assert out.a[:, 0].tolist() == [2, 0] and out.b[0].tolist() == [20, 0]
    assert out.b[1][0].tolist() == [200, 0] and out.n == 7


def test_closing_bias_marks_the_closers_only():
    tokens = ["<PAD>", "END", "ACTION", "ENDIF", "ENDMENU", "IF", "ENDREPEAT", "ENDFOREACH", "A:ENDX"]
    assert closing_bias(tokens, 0.0) is None
    bias = closing_bias(tokens, 1.5)
    assert bias.dtype == np.float32 and bias.shape == (len(tokens),)
    assert {t for t, b in zip(tokens, bias, strict=True) if b} == set(CLOSERS)
    assert set(bias[bias != 0]) == {1.5}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("beam", [1, 3])
def test_a_bias_on_end_shortens_or_lengthens_the_program(seed, beam):
    dec, con = HistoryDecoder(seed), TinyConstraint(max_len=8)
    end = np.zeros(len(TOKENS), np.float32)
    end[ID["END"]] = 1.0
    short = search(dec, MEMORY, con, beam=beam, bias=end * 100)
    long = search(dec, MEMORY, con, beam=beam, bias=end * -100)
    assert len(short.token_ids) == 3  # SHORTCUT <str> END: END as soon as the mask allows it
    assert len(long.token_ids) == con.max_len  # END only when nothing else is allowed
    plain = search(dec, MEMORY, con, beam=beam)
    assert search(dec, MEMORY, con, beam=beam, bias=end * 0) == plain


def test_generate_help_states_the_decoding_defaults():
    """The CLI's help text spells the defaults out (it avoids importing the decoding modules)."""
    import argparse

    from sashimi.model.cli import register_generate
    from sashimi.model.constraints import DEFAULT_CLOSE_BIAS, DEFAULT_MAX_ACTION_COUNT

    root = argparse.ArgumentParser().add_subparsers()
    register_generate({"root": root})
    text = " ".join(root.choices["generate"].format_help().split())  # wrapping depends on the terminal
    assert f"default {DEFAULT_MAX_ACTION_COUNT}," in text and f"default {DEFAULT_CLOSE_BIAS:g}," in text


class RowDecoder(HistoryDecoder):
    """HistoryDecoder plus a bonus per batch row read from the memory (B, 3): row r adds memory[r, 0] to
    END and memory[r, 1] to C, so the rows of one batch finish at different steps."""

    def _row_logits(self, history: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        out = self._logits(history)
        out[:, ID["END"]] += memory[:, 0]
        out[:, ID["C"]] += memory[:, 1]
        return out

    def step(self, memory, token_ids: torch.Tensor, cache: Cache):
        assert memory.shape[0] == token_ids.shape[0] == cache.history.shape[0]
        self.calls += 1
        history = torch.cat([cache.history, token_ids[:, None]], dim=1)
        return self._row_logits(history, memory), Cache(history)


class DeadEndAfterC(TinyConstraint):
    """TinyConstraint, except that nothing at all is allowed after C (a defective mask)."""

    def allowed(self, s: St) -> np.ndarray:
        if s.seq and s.seq[-1] == ID["C"]:
            return np.zeros(len(TOKENS), bool)
        return super().allowed(s)


@pytest.mark.parametrize("seed", range(4))
def test_greedy_batch_gives_each_row_what_greedy_gives_it(seed):
    from sashimi.model.search import greedy_batch

    g = torch.Generator().manual_seed(100 + seed)
    memory = torch.randn(7, 3, generator=g) * 3.0
    memory[:, 0] = torch.linspace(-12.0, 2.0, 7)  # from "END late" to "END at once"
    dec, con = RowDecoder(seed), TinyConstraint(max_len=12)
    bias = closing_bias(TOKENS, 0.5) if seed % 2 else None
    batch = greedy_batch(dec, memory, con, bias=bias)
    singles = [greedy(dec, memory[i : i + 1], con, bias=bias) for i in range(len(memory))]
    assert batch == singles
    assert len({r.steps for r in batch}) > 1  # the rows really finished at different steps
    for r in batch:
        assert con.is_final(_replay(con, r.token_ids))


def _replay(con, ids):
    state = con.initial()
    for tok in ids:
        state = con.advance(state, tok)
    return state


def test_greedy_batch_keeps_a_row_error_to_that_row():
    from sashimi.model.search import greedy_batch

    memory = torch.tensor([[0.0, -30.0, 0.0], [0.0, 30.0, 0.0], [5.0, -30.0, 0.0]])  # row 1 loves C
    dec, con = RowDecoder(0), DeadEndAfterC(max_len=10)
    out = greedy_batch(dec, memory, con)
    assert isinstance(out[1], SearchError) and "allows no token" in str(out[1])
    for i in (0, 2):
        assert out[i] == greedy(dec, memory[i : i + 1], con)
