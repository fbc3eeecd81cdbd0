"""Part 2 of `sashimi interpret`: which encoder features each action's decision reads.

Gradient x input, teacher-forced: for each dev row and each top action its gold program emits, the
logit of that action token at every position where the gold program emits it (summed) is
differentiated with respect to the decoder's three memory inputs:

    pooled      the pooled MiniLM vector (384), read through the bridge (intent MLP -> z -> memory)
    tokens      the MiniLM token states (T x 384), one attribution per word piece (first max_enc_tokens)
    retrieved   the token embeddings of the retrieved training programs (k x R x d_model), when the run
                uses retrieval

The pooled vector and the token states enter the decoder through the RMSNorm of their first BitLinear
(`bridge.intent`, `tok_proj`), so everything downstream is invariant to their scale and gradient x *raw*
input is zero by Euler's theorem (measured: ~1e-8 of float noise). The input of the attribution is
therefore the normalised vector that layer reads (its norm's output: the same direction, a fixed
scale); the retrieved programs' embeddings have no such norm of their own and are taken as they are.

Attribution of an input = sum over its feature dimension of gradient * input (a first-order estimate of
how much that input pushes the logit). The share of an action's attribution going to each source is
the absolute mass: |pooled| vs sum over word pieces of |token| vs sum over retrieved positions of
|retrieved|, summed over all (row, action) occurrences. Top prompt words: the word pieces ([CLS]/[SEP]
excluded) with the largest summed signed attribution over those occurrences.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from sashimi.model.decoder import pad_token_states
from sashimi.model.token_table import BOS_ID

SPECIAL_PIECES = frozenset({"[CLS]", "[SEP]", "[PAD]"})
SOURCES = ("pooled", "tokens", "retrieved")


@dataclass
class Occurrence:
    """One (dev row, action) attribution."""

    row: int
    action: str
    positions: int  # target positions where the gold program emits the action
    pooled: float  # signed gradient x input of the pooled vector
    tokens: np.ndarray  # (T,) signed attribution per word piece position
    retrieved_abs: float  # sum of |attribution| over retrieved-program positions (0 without retrieval)


@dataclass
class ActionAttribution:
    action: str
    occurrences: int = 0
    rows: int = 0
    mass: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0.0))
    words: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    word_counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def word_pieces(prompts: list[str]) -> list[list[str]]:
    """MiniLM's word pieces of each prompt, [CLS] and [SEP] included (the positions of its token states)."""
    from tokenizers import Tokenizer

    from sashimi.model.encoder import model_dir
    from sashimi.model.minilm import MAX_SEQ_LENGTH

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_SEQ_LENGTH)
    return [tok.encode(p).tokens for p in prompts]


class _Capture:
    """Forward hooks that keep the first output of some modules during one `encode` call.

    `encode` runs the bridge's input norm on the pooled vector, `tok_proj`'s input norm on the token
    states and `tok_emb` on the retrieved programs' ids once each; the hooks are removed right after, so
    the decoder's own use of `tok_emb` in `forward` is not captured.
    """

    def __init__(self, modules: dict[str, torch.nn.Module]) -> None:
        self.out: dict[str, torch.Tensor] = {}
        self.handles = [m.register_forward_hook(self._hook(name)) for name, m in modules.items()]

    def _hook(self, name: str):
        def hook(_module, _inputs, output):
            self.out.setdefault(name, output)

        return hook

    def __enter__(self) -> _Capture:
        return self

    def __exit__(self, *exc) -> None:
        for h in self.handles:
            h.remove()


def attribute_row(
    decoder,
    pooled: np.ndarray,
    states: np.ndarray,
    target_ids: list[int],
    action_ids: dict[int, str],
    retrieved: torch.Tensor | None,
) -> list[tuple[str, int, float, np.ndarray, float]]:
    """(action, positions, pooled attr, token attrs (T,), |retrieved| mass) for each top action in the row."""
    cfg = decoder.cfg
    present: dict[int, list[int]] = {}
    for t, tid in enumerate(target_ids):
        if tid in action_ids:
            present.setdefault(tid, []).append(t)
    if not present:
        return []
    pooled_t = torch.from_numpy(np.asarray(pooled, dtype=np.float32)[None])
    states_t, mask = pad_token_states([states], cfg.max_enc_tokens)
    watch = {"pooled": decoder.bridge.intent.norm}
    if decoder.tok_proj is not None:
        watch["tokens"] = decoder.tok_proj.norm
    if retrieved is not None:
        watch["retrieved"] = decoder.tok_emb
    # inputs need grad for the graph to reach the captured norm outputs (an Identity norm returns them)
    pooled_t.requires_grad_(True)
    states_t.requires_grad_(True)
    with _Capture(watch) as cap:
        memory = decoder.encode(pooled_t, states_t, mask, retrieved)
    names = list(watch)
    inputs = [cap.out[n] for n in names]
    ids = torch.tensor([[BOS_ID, *target_ids[:-1]]], dtype=torch.long)
    logits = decoder(memory, ids)[0]  # (L, V)
    out = []
    for tid in sorted(present):
        pos = present[tid]
        value = logits[pos, tid].sum()
        grads = dict(zip(names, torch.autograd.grad(value, inputs, retain_graph=True), strict=True))
        attr = {n: (grads[n] * cap.out[n].detach()).sum(-1)[0] for n in names}  # per position
        pooled_attr = float(attr["pooled"].sum())
        tok_attr = attr["tokens"].numpy().astype(np.float64) if "tokens" in attr else np.zeros(0, np.float64)
        ret_abs = float(attr["retrieved"].abs().sum()) if "retrieved" in attr else 0.0
        out.append((action_ids[tid], len(pos), pooled_attr, tok_attr, ret_abs))
    return out


def attribute(
    decoder,
    retrieval,
    examples,
    pooled: np.ndarray,
    token_states: list[np.ndarray],
    pieces: list[list[str]],
    action_ids: dict[int, str],
    *,
    progress: bool = False,
    top_words: int = 8,
) -> dict:
    """Aggregate `attribute_row` over the dev rows: per-action source shares and top prompt words."""
    cfg = decoder.cfg
    per_action = {name: ActionAttribution(name) for name in action_ids.values()}
    mismatches = 0
    occurrences: list[Occurrence] = []
    decoder.eval()
    for i, ex in enumerate(tqdm(examples, desc="attribution", unit="row", disable=not progress, leave=False)):
        retrieved = None
        if cfg.retrieval_k > 0:
            rows = retrieval.neighbours(pooled[i : i + 1].astype(np.float32), cfg.retrieval_k)
            retrieved = retrieval.retrieved_ids(rows, cfg.retrieval_len)
        results = attribute_row(decoder, pooled[i], token_states[i], ex.ids, action_ids, retrieved)
        row_pieces = pieces[i]
        aligned = len(row_pieces) == len(token_states[i])
        mismatches += not aligned
        for action, n_pos, p_attr, t_attr, r_abs in results:
            acc = per_action[action]
            acc.occurrences += n_pos
            acc.rows += 1
            acc.mass["pooled"] += abs(p_attr)
            acc.mass["tokens"] += float(np.abs(t_attr).sum())
            acc.mass["retrieved"] += r_abs
            if aligned:
                for piece, a in zip(row_pieces, t_attr, strict=False):  # t_attr: first max_enc_tokens
                    if piece not in SPECIAL_PIECES:
                        acc.words[piece] += float(a)
                        acc.word_counts[piece] += 1
            occurrences.append(Occurrence(i, action, n_pos, p_attr, t_attr, r_abs))
    actions = []
    for name in action_ids.values():
        acc = per_action[name]
        total = sum(acc.mass.values())
        ranked = sorted(acc.words.items(), key=lambda kv: (-kv[1], kv[0]))[:top_words]
        actions.append(
            {
                "action": name,
                "rows": acc.rows,
                "positions": acc.occurrences,
                "shares": {s: (acc.mass[s] / total if total > 0 else None) for s in SOURCES},
                "abs_mass": {s: acc.mass[s] for s in SOURCES},
                "top_words": [{"piece": p, "attribution": a, "count": acc.word_counts[p]} for p, a in ranked],
            }
        )
    totals = {s: sum(per_action[n].mass[s] for n in per_action) for s in SOURCES}
    grand = sum(totals.values())
    return {
        "method": "gradient x input, teacher-forced, logit of the gold action token at its positions",
        "rows": len(examples),
        "occurrences": len(occurrences),
        "word_piece_mismatches": mismatches,
        "uses_retrieval": cfg.retrieval_k > 0,
        "overall_shares": {s: (totals[s] / grand if grand > 0 else None) for s in SOURCES},
        "actions": actions,
        "_occurrences": occurrences,  # for tests; dropped before writing JSON
    }
