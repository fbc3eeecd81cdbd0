"""The composite loss of the structural decoder (architecture.md §4).

- `L_ce`     teacher-forced cross-entropy over every target position (Tier 1, Tier 2, and the Tier 3
             slot-kind tokens the decoder emits), mean per token.
- `L_margin` hinge on length-normalised log-likelihood over the diverging positions of a positive and
             its hard negative: max(0, m - (l(y+) - l(y-))), l = mean log p over those positions.
- `L_repair` cross-entropy on the positive's tokens at the positions the negative gets wrong, each
             pair weighted by the severity of its error tags (normalised by the weights).
- weighting  fixed weights (e.g. {1, 0.1, 0.1}) or Kendall uncertainty weighting: sum exp(-s_i) L_i + s_i
             with learned log-variances s_i clamped to a range (so a term that reaches zero cannot drive
             its s_i to -inf).
Outside the weighting: the bag-of-tokens intent head (BCE) and β·KL of the variational bridge.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from sashimi.model.token_table import PAD_ID

TERMS = ("ce", "margin", "repair")


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target) at each position: logits (B, L, V), targets (B, L) -> (B, L)."""
    return torch.gather(F.log_softmax(logits.float(), dim=-1), 2, targets.unsqueeze(-1)).squeeze(-1)


def ce_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=PAD_ID)


def distill_loss(
    logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """Knowledge distillation: KL(teacher || student) over the vocabulary, both softened by `temperature`,
    times T^2 (so its gradient scale does not shrink with T), averaged over the target positions that are
    not padding: logits, teacher_logits (B, L, V), targets (B, L) -> scalar. A ternary student learns the
    continuous teacher's whole distribution, not only the gold token (Hinton et al. 2015)."""
    t = float(temperature)
    keep = (targets != PAD_ID).flatten()  # (B*L,)
    student = F.log_softmax(logits.flatten(0, 1)[keep].float() / t, dim=-1)  # (N, V)
    teacher = F.log_softmax(teacher_logits.flatten(0, 1)[keep].float() / t, dim=-1)  # (N, V)
    return F.kl_div(student, teacher, log_target=True, reduction="batchmean") * (t * t)


def span_mean(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of logp over the masked positions of each row: (P, L), (P, L) bool -> (P,)."""
    m = mask.float()
    return (logp * m).sum(1) / m.sum(1).clamp(min=1.0)


def margin_loss(pos_ll: torch.Tensor, neg_ll: torch.Tensor, margin: float) -> torch.Tensor:
    return F.relu(margin - (pos_ll - neg_ll)).mean()


def repair_loss(pos_logp: torch.Tensor, pos_div: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Severity-weighted CE of the positive at the positions its negative gets wrong."""
    per_pair = -span_mean(pos_logp, pos_div)  # (P,)
    return (weight * per_pair).sum() / weight.sum().clamp(min=1e-8)


def bag_loss(bag_logits: torch.Tensor, bag: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(bag_logits.float(), bag)


class LossWeighting(nn.Module):
    """Combines L_ce, L_margin, L_repair: fixed weights or Kendall uncertainty weighting."""

    def __init__(self, mode: str, weights: Sequence[float], clamp: Sequence[float] = (-4.0, 4.0)):
        super().__init__()
        if mode not in ("fixed", "adaptive"):
            raise ValueError(f"loss weighting must be 'fixed' or 'adaptive', got {mode!r}")
        self.mode = mode
        self.register_buffer("fixed", torch.tensor([float(w) for w in weights]))
        self.clamp = (float(clamp[0]), float(clamp[1]))
        # adaptive: one log-variance per term (unused parameters in fixed mode are left out of it)
        self.log_vars = nn.Parameter(torch.zeros(len(TERMS))) if mode == "adaptive" else None

    def forward(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        total = terms["ce"].new_zeros(())
        for i, name in enumerate(TERMS):
            value = terms.get(name)
            if value is None:
                continue
            if self.mode == "fixed":
                total = total + self.fixed[i] * value
            else:
                s = self.log_vars[i].clamp(*self.clamp)
                total = total + torch.exp(-s) * value + s
        return total

    def offset(self, names: Sequence[str]) -> torch.Tensor:
        """The `+ s_i` part `forward` adds for these terms (0 in fixed mode): gradient accumulation over
        row chunks subtracts it for a term already counted in an earlier chunk."""
        total = self.fixed.new_zeros(())
        if self.mode == "adaptive":
            for i, name in enumerate(TERMS):
                if name in names:
                    total = total + self.log_vars[i].clamp(*self.clamp)
        return total

    def effective_weights(self) -> dict[str, float]:
        if self.mode == "fixed":
            return {n: float(w) for n, w in zip(TERMS, self.fixed, strict=True)}
        return {
            n: float(torch.exp(-s.detach().clamp(*self.clamp)))
            for n, s in zip(TERMS, self.log_vars, strict=True)
        }
