"""Part 1 of `sashimi interpret`: the ternary weight patterns behind the most frequent actions.

The output head (`lm_head`, d_model -> vocabulary) holds one row per output token; the row of an action
token `A:<name>` is what the last hidden state is compared with to emit that action. In the `full`
regime the head is ternary, and the codes read here are those of the packed inference layer
(`PackedBitLinear` built from the training layer: exactly what a packed model stores and computes with).
For a run whose head is continuous the codes are what quantisation *would* give, and the result says so
(`head_is_ternary: false`). The bag head (bottleneck z -> vocabulary) is read the same way: its action
rows show which bottleneck units each action's "is it in the program" decision reads.

Per action: the share of -1 / 0 / +1 in its row. Per pair of actions: the sign agreement, i.e. of the
hidden units both rows use (non-zero in both), the share where the two codes are equal (0.5 = as often
as not, 1 = identical signs), and how many such units they share. Per hidden unit: how many of the top
actions use it, with which sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sashimi.ir.typed import ACTION_PREFIX
from sashimi.ir.vocab import Vocab
from sashimi.model.ternary import BitLinear, PackedBitLinear, absmean_scale, ternary_codes
from sashimi.model.token_table import TokenTable


@dataclass(frozen=True)
class TopAction:
    action: str  # canonical action name (the token is ACTION_PREFIX + action)
    token_id: int  # id in the run's output vocabulary
    training_count: int  # occurrences in the run's training programs (vocab.tier2[...].training_count)


def top_actions(vocab: Vocab, table: TokenTable, n: int = 20) -> list[TopAction]:
    """The `n` most frequent actions of the training programs that have an output token (ties: by name)."""
    ranked = sorted(
        (a for a in vocab.tier2.values() if a.training_count > 0 and ACTION_PREFIX + a.action in table),
        key=lambda a: (-a.training_count, a.action),
    )
    return [TopAction(a.action, table.id(ACTION_PREFIX + a.action), a.training_count) for a in ranked[:n]]


def layer_codes(layer: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """(codes (out, in) in {-1, 0, +1}, gamma, is_ternary) of a BitLinear, read from its packed form.

    A ternary-mode layer is packed (2 bits per weight) and unpacked again, so the codes are what ships.
    """
    if isinstance(layer, PackedBitLinear):
        return layer.codes(), layer.gamma, True
    if not isinstance(layer, BitLinear):
        raise TypeError(f"expected a BitLinear, got {type(layer).__name__}")
    if layer.ternary:
        packed = PackedBitLinear(layer)
        return packed.codes(), packed.gamma, True
    gamma = absmean_scale(layer.weight, layer.scale, layer.eps)
    return ternary_codes(layer.weight, gamma, layer.eps), gamma, False


def _shares(codes: np.ndarray) -> dict[str, float]:
    n = codes.size
    return {
        "neg": float((codes == -1).sum()) / n,
        "zero": float((codes == 0).sum()) / n,
        "pos": float((codes == 1).sum()) / n,
    }


def sign_agreement(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows a, b: share of co-used units (both non-zero) with equal codes (NaN if none), and their count."""
    nz = (codes != 0).astype(np.int64)
    both = nz @ nz.T  # units both rows use
    pos = (codes == 1).astype(np.int64)
    neg = (codes == -1).astype(np.int64)
    same = pos @ pos.T + neg @ neg.T
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = np.where(both > 0, same / np.maximum(both, 1), np.nan)
    return agree, both


def head_patterns(layer: torch.nn.Module, actions: list[TopAction], top_units: int = 10) -> dict:
    """Shares, pairwise sign agreement and shared units of the rows of `actions` in one head."""
    codes_t, gamma, is_ternary = layer_codes(layer)
    codes_all = codes_t.detach().cpu().numpy().astype(np.int8)
    codes = (
        codes_all[[a.token_id for a in actions]] if actions else np.zeros((0, codes_all.shape[1]), np.int8)
    )
    agree, both = sign_agreement(codes)
    n_units = codes.shape[1]
    used = (codes != 0).sum(axis=0)
    units = sorted(range(n_units), key=lambda u: (-int(used[u]), u))[:top_units]
    off = ~np.eye(len(actions), dtype=bool)
    finite = agree[off & np.isfinite(agree)] if len(actions) > 1 else np.zeros(0)
    return {
        "head_is_ternary": is_ternary,
        "gamma": float(gamma.float().mean()),
        "shape": list(codes_all.shape),
        "head_shares": _shares(codes_all),  # the whole head, for comparison
        "actions": [
            {
                "action": a.action,
                "token_id": a.token_id,
                "training_count": a.training_count,
                **_shares(codes[i]),
                "nonzero_units": int((codes[i] != 0).sum()),
            }
            for i, a in enumerate(actions)
        ],
        "sign_agreement": [[None if np.isnan(x) else round(float(x), 6) for x in row] for row in agree],
        "shared_units": both.astype(int).tolist(),
        "mean_offdiag_agreement": round(float(finite.mean()), 6) if finite.size else None,
        "top_shared_units": [
            {
                "unit": int(u),
                "n_actions": int(used[u]),
                "n_pos": int((codes[:, u] == 1).sum()),
                "n_neg": int((codes[:, u] == -1).sum()),
                "actions_pos": [actions[i].action for i in np.flatnonzero(codes[:, u] == 1)],
                "actions_neg": [actions[i].action for i in np.flatnonzero(codes[:, u] == -1)],
            }
            for u in units
        ],
    }


def weight_patterns(decoder, actions: list[TopAction]) -> dict:
    """`head_patterns` of the output head (lm_head) and the bag head (z -> tokens)."""
    return {
        "lm_head": head_patterns(decoder.lm_head, actions),
        "bag_head": head_patterns(decoder.bag_head, actions),
    }
