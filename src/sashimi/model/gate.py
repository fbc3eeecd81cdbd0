"""The domain gate: is a request something a Shortcut can do? (architecture.md §1, §3; plan EXP-1.2)

Three heads on the 384-d MiniLM embedding, fitted with scikit-learn and exported to plain arrays so that
the shipped gate is numpy arithmetic over a safetensors file (no pickle, no scikit-learn at inference):

- `linear`: logistic regression (the linear probe), score = sigmoid(x.w + b);
- `mlp`: two linear layers with a ReLU between them, score = sigmoid(relu(x W1 + b1) W2 + b2);
- `svm`: RBF support-vector machine, score = sigmoid(sum_i a_i exp(-g |x - s_i|^2) + b).

A score is "in-domain-ness" in [0, 1]; the gate accepts when score >= threshold. For the metrics, the
positive class is OOD (what the gate must catch): precision = refused prompts that really are OOD,
recall = OOD prompts refused, false-accept rate = OOD accepted, false-reject rate = in-domain refused.

The adopted gate lives in `sashimi/model/assets/gate/` (`gate.safetensors` + `gate.json` with the kind,
threshold, encoder id, and the decision and metrics that chose it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sashimi.errors import DataError, Location

KINDS = ("linear", "mlp", "svm")  # simplest first: the adoption rule takes the first that meets the bar
ASSET_DIR = Path(__file__).parent / "assets" / "gate"
_ARRAYS = {"linear": ("w", "b"), "mlp": ("w1", "b1", "w2", "b2"), "svm": ("sv", "alpha", "b", "gamma")}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


@dataclass(frozen=True)
class GateDecision:
    accept: bool
    score: float  # in-domain score in [0, 1]


@dataclass(frozen=True)
class Gate:
    kind: str
    arrays: dict[str, np.ndarray] = field(repr=False)
    threshold: float = 0.5
    meta: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in _ARRAYS:
            raise DataError(f"unknown gate kind {self.kind!r} (expected one of {', '.join(KINDS)})")
        missing = [a for a in _ARRAYS[self.kind] if a not in self.arrays]
        if missing:
            raise DataError(f"{self.kind} gate lacks arrays {missing}")
        if not 0.0 <= self.threshold <= 1.0:
            raise DataError(f"gate threshold {self.threshold} outside [0, 1]")

    @property
    def dim(self) -> int:
        first = {"linear": "w", "mlp": "w1", "svm": "sv"}[self.kind]
        return int(self.arrays[first].shape[0] if self.kind != "svm" else self.arrays[first].shape[1])

    def scores(self, emb: np.ndarray) -> np.ndarray:
        """In-domain scores in [0, 1] for embeddings of shape (n, 384)."""
        x = np.asarray(emb, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise DataError(f"gate expects embeddings of shape (n, {self.dim}), got {x.shape}")
        a = {k: v.astype(np.float64) for k, v in self.arrays.items()}
        if self.kind == "linear":
            z = x @ a["w"] + a["b"][0]
        elif self.kind == "mlp":
            z = (np.maximum(x @ a["w1"] + a["b1"], 0.0) @ a["w2"] + a["b2"])[:, 0]
        else:
            sq = (x * x).sum(1)[:, None] + (a["sv"] * a["sv"]).sum(1)[None, :] - 2.0 * x @ a["sv"].T
            z = np.exp(-a["gamma"][0] * np.maximum(sq, 0.0)) @ a["alpha"] + a["b"][0]
        return _sigmoid(z)

    def decide(self, texts: list[str], encoder=None) -> list[GateDecision]:
        """Accept/refuse for raw texts (embedded with the cached MiniLM encoder)."""
        from sashimi.model.encoder import Encoder

        encoder = encoder or Encoder()
        scores = self.scores(encoder.embed(list(texts)))
        return [GateDecision(bool(s >= self.threshold), float(s)) for s in scores]


# -------------------------------------------------------------------------------------- fitting


def fit_gate(
    kind: str, x: np.ndarray, in_domain: np.ndarray, *, seed: int = 0, threshold: float = 0.5
) -> Gate:
    """Fit one head on embeddings `x` with labels `in_domain` (1 = in-domain, 0 = OOD)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    y = np.asarray(in_domain).astype(int)
    if set(np.unique(y)) != {0, 1}:
        raise DataError("gate training data needs both in-domain and OOD prompts")
    x = np.asarray(x, dtype=np.float64)
    if kind == "linear":
        clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000, random_state=seed).fit(x, y)
        arrays = {"w": clf.coef_[0], "b": clf.intercept_}
    elif kind == "mlp":
        clf = MLPClassifier(
            hidden_layer_sizes=(128,), alpha=1e-3, max_iter=300, early_stopping=False, random_state=seed
        ).fit(x, y)
        arrays = {
            "w1": clf.coefs_[0],
            "b1": clf.intercepts_[0],
            "w2": clf.coefs_[1],
            "b2": clf.intercepts_[1],
        }
    elif kind == "svm":
        gamma = 1.0 / (x.shape[1] * x.var())  # sklearn's "scale", computed here so it can be exported
        clf = SVC(kernel="rbf", C=10.0, gamma=gamma, class_weight="balanced", random_state=seed).fit(x, y)
        arrays = {
            "sv": clf.support_vectors_,
            "alpha": clf.dual_coef_[0],
            "b": clf.intercept_,
            "gamma": np.array([gamma]),
        }
    else:
        raise DataError(f"unknown gate kind {kind!r} (expected one of {', '.join(KINDS)})")
    return Gate(kind, {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}, threshold)


# -------------------------------------------------------------------------------------- storage


def save_gate(gate: Gate, directory: str | os.PathLike, info: dict | None = None) -> Path:
    """Write `gate.safetensors` and `gate.json` (kind, threshold, encoder, `info`) atomically."""
    from safetensors.numpy import save

    from sashimi.io import atomic_write_bytes, write_json
    from sashimi.model.encoder import model_id

    directory = Path(directory)
    atomic_write_bytes(
        directory / "gate.safetensors", save({k: np.ascontiguousarray(v) for k, v in gate.arrays.items()})
    )
    meta = {"kind": gate.kind, "threshold": gate.threshold, "encoder": model_id(), **(info or {})}
    write_json(directory / "gate.json", meta)
    return directory


def load_gate(directory: str | os.PathLike | None = None) -> Gate:
    """Load a saved gate (default: the one shipped in the package). Bad files raise one-line DataErrors."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    from sashimi.io import read_json

    directory = Path(directory) if directory is not None else ASSET_DIR
    meta_path, weights_path = directory / "gate.json", directory / "gate.safetensors"
    if not meta_path.is_file() or not weights_path.is_file():
        raise DataError("no gate here (expected gate.json and gate.safetensors)", Location(str(directory)))
    meta = read_json(meta_path)
    if not isinstance(meta, dict) or not isinstance(meta.get("kind"), str):
        raise DataError("gate.json needs an object with a 'kind'", Location(str(meta_path)))
    try:
        arrays = load(weights_path.read_bytes())
    except (SafetensorError, OSError, ValueError) as err:
        raise DataError(
            f"unreadable gate weights: {err}".splitlines()[0], Location(str(weights_path))
        ) from None
    try:
        threshold = float(meta.get("threshold", 0.5))
    except (TypeError, ValueError):
        raise DataError("threshold must be a number", Location(str(meta_path))) from None
    try:
        gate = Gate(meta["kind"], arrays, threshold, meta)
    except DataError as err:
        raise err.with_file(str(meta_path)) from None
    return gate
