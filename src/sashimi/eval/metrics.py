"""Metrics every gate evaluation shares: threshold search, precision/recall/F1, FAR/FRR, AUROC.

Conventions (architecture.md §6): a gate gives each prompt an in-domain score and refuses it when the
score is below the threshold. The positive class is OOD, what the gate must catch: precision = refused
prompts that really are OOD, recall = OOD prompts refused, false-accept rate (FAR) = OOD accepted,
false-reject rate (FRR) = in-domain refused.

Threshold search runs on scikit-learn's `precision_recall_curve` over the OOD score (minus the in-domain
score), so a cut only ever falls between distinct scores; the threshold returned is the midpoint between
the last refused score and the next higher one, so it refuses exactly the chosen set on these scores.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve, precision_recall_fscore_support, roc_auc_score

from sashimi.errors import DataError

# Phase 1's stop/go for the domain gate (plan §1.2): OOD precision and recall on unseen templates.
PRECISION_BAR, RECALL_BAR = 0.99, 0.95
THRESHOLD_RULES = ("f1", "precision", "fixed")


def ood_metrics(scores: np.ndarray, is_ood: np.ndarray, threshold: float) -> dict:
    """Metrics with OOD as the positive class; a prompt is refused when its in-domain score < threshold."""
    is_ood = np.asarray(is_ood, dtype=bool)
    refused = np.asarray(scores) < threshold
    p, r, f, _ = precision_recall_fscore_support(is_ood, refused, average="binary", zero_division=0)
    n_ood, n_in = int(is_ood.sum()), int((~is_ood).sum())
    auroc = float(roc_auc_score(is_ood, -np.asarray(scores))) if n_ood and n_in else None
    return {
        "n": int(len(is_ood)),
        "n_ood": n_ood,
        "n_in_domain": n_in,
        "precision": round(float(p), 4),
        "recall": round(float(r), 4),
        "f1": round(float(f), 4),
        "false_accept_rate": round(float((~refused & is_ood).sum() / n_ood), 4) if n_ood else None,
        "false_reject_rate": round(float((refused & ~is_ood).sum() / n_in), 4) if n_in else None,
        "auroc": round(auroc, 4) if auroc is not None else None,
        "confusion": {
            "ood_refused": int((refused & is_ood).sum()),
            "ood_accepted": int((~refused & is_ood).sum()),
            "in_domain_refused": int((refused & ~is_ood).sum()),
            "in_domain_accepted": int((~refused & ~is_ood).sum()),
        },
        "threshold": threshold,
    }


def meets_bar(m: dict) -> bool:
    """Whether metrics from `ood_metrics` meet Phase 1's bar (precision >= 0.99 and recall >= 0.95)."""
    return m["precision"] >= PRECISION_BAR and m["recall"] >= RECALL_BAR


def _refusal_curve(scores: np.ndarray, is_ood: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, cut) for every refusal set "score <= cut", cut over the distinct scores,
    ascending (so the refusal sets grow)."""
    scores = np.asarray(scores, dtype=np.float64)
    is_ood = np.asarray(is_ood, dtype=bool)
    if not len(scores):
        raise DataError("threshold search needs at least one score")
    if not is_ood.any():  # no OOD prompt: every refusal is wrong (sklearn would warn and set recall 1)
        cuts = np.unique(scores)
        return np.zeros(len(cuts)), np.zeros(len(cuts)), cuts
    precision, recall, thresholds = precision_recall_curve(is_ood, -scores, drop_intermediate=False)
    # sklearn: thresholds ascend on -score (refusal sets shrink), with one trailing (1, 0) point
    # that has no threshold; reverse so that the cuts ascend on the score.
    return precision[:-1][::-1], recall[:-1][::-1], -thresholds[::-1]


def _threshold_above(scores: np.ndarray, cut: float) -> float:
    """A threshold that refuses exactly the scores <= cut: midway to the next higher score."""
    higher = np.asarray(scores, dtype=np.float64)
    higher = higher[higher > cut]
    t = (cut + higher.min()) / 2 if len(higher) else min(1.0, cut + 1e-6)
    return float(np.clip(t, 0.0, 1.0))


def precision_threshold(scores: np.ndarray, is_ood: np.ndarray, target: float = PRECISION_BAR) -> float:
    """The threshold that refuses the most prompts while refusals stay `target` OOD (precision).

    Phase 1's stop/go is OOD precision >= 0.99 (a refused request must really be out of domain), so
    precision is the constraint and recall what is maximised under it: the largest refusal set, lowest
    scores first, whose precision meets the target. 0.5 if no set does (even the lowest score is
    in-domain).
    """
    precision, _, cuts = _refusal_curve(scores, is_ood)
    good = np.flatnonzero(precision >= target)
    return _threshold_above(scores, cuts[good[-1]]) if len(good) else 0.5


def f1_threshold(scores: np.ndarray, is_ood: np.ndarray) -> float:
    """The threshold with the best F1 (OOD positive) on these scores; on ties, the smallest refusal set."""
    _, recall, cuts = _refusal_curve(scores, is_ood)
    n_ood = max(int(np.sum(is_ood)), 1)
    refused = np.searchsorted(np.sort(np.asarray(scores, dtype=np.float64)), cuts, side="right")
    f1 = 2 * np.rint(recall * n_ood) / (refused + n_ood)  # 2 TP / (refused + actual OOD), from counts
    return _threshold_above(scores, cuts[int(np.argmax(f1))])


def recall_at_precision(scores: np.ndarray, is_ood: np.ndarray, target: float = PRECISION_BAR) -> float:
    """The largest recall any threshold reaches with precision >= `target` (0.0 if none): the recall the
    bar would allow if the threshold were chosen perfectly."""
    precision, recall, _ = _refusal_curve(scores, is_ood)
    good = precision >= target
    return float(recall[good].max()) if good.any() else 0.0


def choose_threshold(rule: str, scores: np.ndarray, is_ood: np.ndarray) -> float:
    """A threshold by rule: "precision" (`precision_threshold`), "f1" (`f1_threshold`) or "fixed" (0.5)."""
    if rule == "f1":
        return f1_threshold(scores, is_ood)
    if rule == "precision":
        return precision_threshold(scores, is_ood)
    if rule == "fixed":
        return 0.5
    raise DataError(f"unknown threshold rule {rule!r} (expected one of {', '.join(THRESHOLD_RULES)})")
