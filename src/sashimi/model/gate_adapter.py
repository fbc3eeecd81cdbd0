"""The domain gate's fine-tuned encoder layers, for inference (issue 16; trained by `sashimi.train.gate_adapter`).

Why: the frozen MiniLM embedding ranks requests written by others well but learns our templates' wording;
low-rank adapters (LoRA) on MiniLM's top layers, trained to tell OOD from in-domain, let through about
half as many blind out-of-domain requests (RESULTS §9). They cost ~1.5 MB (rank 32, three layers), not a
second 90 MB encoder: the shared frozen layers below are the generator's own MiniLM pass.

One request: MiniLM's states after layer `first_layer` (tapped from the encoder's one pass,
`MiniLM.encode_with_tap`) -> the top `layers` layers with each adapted map's update merged into its
weight (W + (alpha / rank) B A, once at load) -> mean pooling -> L2 normalisation -> x temperature -> a
linear OOD logit. The layers run as an onnxruntime graph (`minilm_onnx.build_graph(first_layer=...)`).
The gate fuses the adapter's in-domain logit (the OOD logit negated) with its linear head's logit, each
z-scored with out-of-fold statistics of its training part (`mean`, `std`), so neither dominates by scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

from sashimi.errors import DataError
from sashimi.model.encoder import N_LAYERS

# The linear maps of a BERT layer that get an adapter (all of them), in HF / MiniLM weight names.
ADAPTED = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
# What a layer has besides its adapted maps: taken unchanged from the base encoder.
_UNCHANGED = ("attention.output.LayerNorm", "output.LayerNorm")


@dataclass(frozen=True)
class GateAdapter:
    layers: int  # top MiniLM layers with adapters (1..6); they read the states after layer 6 - layers
    rank: int  # LoRA rank of every adapted map
    alpha: float  # LoRA scale numerator: a map's update is (alpha / rank) B A
    temperature: float  # the OOD head reads temperature x the unit-norm pooled state
    # "layers.{k}.{map}.a" (rank, in) and ".b" (out, rank) for k < layers and each map of ADAPTED;
    # "head.weight" (1, 384), "head.bias" (1,): the OOD logit
    arrays: dict[str, np.ndarray] = field(repr=False)
    mean: float = 0.0  # out-of-fold mean of the adapter's in-domain logit on its training part
    std: float = 1.0  # ... and its standard deviation: the fused gate adds (logit - mean) / std
    head_mean: float = 0.0  # the same two statistics of the gate's linear head's logit,
    head_std: float = 1.0  # which the fused gate z-scores likewise

    def __post_init__(self) -> None:
        if not 1 <= self.layers <= N_LAYERS or self.rank < 1:
            raise DataError(f"gate adapter: layers must be in 1..{N_LAYERS} and rank >= 1")
        for mean, std in ((self.mean, self.std), (self.head_mean, self.head_std)):
            if not (np.isfinite(std) and std > 0 and np.isfinite(mean)):
                raise DataError("gate adapter: means must be finite and standard deviations finite and > 0")
        want = {f"layers.{k}.{m}.{ab}" for k in range(self.layers) for m in ADAPTED for ab in "ab"}
        want |= {"head.weight", "head.bias"}
        missing, extra = sorted(want - set(self.arrays)), sorted(set(self.arrays) - want)
        if missing or extra:
            raise DataError(f"gate adapter arrays do not fit (missing {missing[:3]}, unexpected {extra[:3]})")
        for k in range(self.layers):
            for m in ADAPTED:
                a, b = self.arrays[f"layers.{k}.{m}.a"], self.arrays[f"layers.{k}.{m}.b"]
                if a.ndim != 2 or b.ndim != 2 or a.shape[0] != self.rank or b.shape[1] != self.rank:
                    raise DataError(f"gate adapter map layers.{k}.{m} has shapes {a.shape} / {b.shape}")
        if self.arrays["head.weight"].shape != (1, self.dim) or self.arrays["head.bias"].shape != (1,):
            raise DataError("gate adapter head must be (1, dim) weights and one bias")

    @property
    def first_layer(self) -> int:
        """Which of MiniLM's hidden states the adapted layers read (0 = word embeddings)."""
        return N_LAYERS - self.layers

    @property
    def dim(self) -> int:
        return int(self.arrays["layers.0.attention.self.query.a"].shape[1])

    def merged_weights(self, base: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The adapted layers' weights in MiniLM names (`encoder.layer.{i}....`), each adapted map's
        update merged into its weight; `base` = MiniLM's weights (names without "bert.")."""
        scale = np.float32(self.alpha / self.rank)
        out = {}
        for k in range(self.layers):
            p = f"encoder.layer.{self.first_layer + k}"
            for m in ADAPTED:
                a = self.arrays[f"layers.{k}.{m}.a"].astype(np.float32)
                b = self.arrays[f"layers.{k}.{m}.b"].astype(np.float32)
                weight = base[f"{p}.{m}.weight"]
                if weight.shape != (b.shape[0], a.shape[1]):
                    raise DataError(f"gate adapter map {p}.{m} does not fit the encoder ({weight.shape})")
                out[f"{p}.{m}.weight"] = (weight + scale * (b @ a)).astype(np.float32)
                out[f"{p}.{m}.bias"] = base[f"{p}.{m}.bias"]
            for m in _UNCHANGED:
                for part in ("weight", "bias"):
                    out[f"{p}.{m}.{part}"] = base[f"{p}.{m}.{part}"]
        return out

    @cached_property
    def _session(self):
        """The adapted layers as an onnxruntime graph on the base MiniLM's weights (read once)."""
        import json

        from safetensors import safe_open

        from sashimi.model.encoder import model_dir
        from sashimi.model.minilm_onnx import build_graph
        from sashimi.model.onnx_graph import session

        root = model_dir()
        cfg = json.loads((root / "config.json").read_text())
        base = {}
        with safe_open(str(root / "model.safetensors"), framework="numpy") as f:
            for key in f.keys():
                name = key.removeprefix("bert.")
                layer = name.split(".")[2] if name.startswith("encoder.layer.") else None
                if layer is not None and int(layer) >= self.first_layer:
                    base[name] = f.get_tensor(key).astype(np.float32)
        weights = self.merged_weights(base)
        graph, external = build_graph(
            weights,
            int(cfg["num_hidden_layers"]),
            int(cfg["num_attention_heads"]),
            float(cfg.get("layer_norm_eps", 1e-12)),
            first_layer=self.first_layer,
        )
        import torch

        sess = session(graph, external, torch.get_num_threads())
        return sess, external  # onnxruntime reads `external` in place: keep it alive with the session

    def prepare(self) -> None:
        """Build the layers' graph now (~0.1 s) rather than at the first request."""
        self._session  # noqa: B018 (a cached property: computed once)

    def ood_logits(self, taps: list[np.ndarray]) -> np.ndarray:
        """(n,) OOD logits for the states after layer `first_layer` of n requests, each [T_i, 384]."""
        sess, _ = self._session
        w = self.arrays["head.weight"][0].astype(np.float64)
        b = float(self.arrays["head.bias"][0])
        out = np.zeros(len(taps))
        for i, h in enumerate(taps):
            h = np.ascontiguousarray(h, dtype=np.float32)
            if h.ndim != 2 or h.shape[1] != self.dim or len(h) == 0:
                raise DataError(f"gate adapter expects states of shape (T, {self.dim}), got {h.shape}")
            states = sess.run(None, {"hidden": h, "bias": np.zeros((len(h), len(h)), np.float32)})[0]
            pooled = states.mean(0, dtype=np.float64)
            unit = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
            out[i] = float(self.temperature * unit @ w + b)
        return out

    def fused(self, head_logits: np.ndarray, taps: list[np.ndarray]) -> np.ndarray:
        """(n,) the fused in-domain logit of requests with these head logits and these states."""
        return self.fuse(head_logits, self.ood_logits(taps))

    def fuse(self, head_logits: np.ndarray, ood_logits: np.ndarray) -> np.ndarray:
        """(n,) the linear head's logit and the adapter's in-domain logit (its OOD logit negated), each
        z-scored with its out-of-fold statistics, summed."""
        head = (np.asarray(head_logits, dtype=np.float64) - self.head_mean) / self.head_std
        return head + (-np.asarray(ood_logits, dtype=np.float64) - self.mean) / self.std

    def to_json(self) -> dict:
        """Every field but the arrays (they go to safetensors)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "arrays"}

    @classmethod
    def from_json(cls, obj, arrays: dict[str, np.ndarray]) -> GateAdapter:
        """From `to_json` output and the arrays (names without the "adapter." prefix)."""
        try:
            values = {
                f.name: int(obj[f.name]) if f.type == "int" else float(obj[f.name])
                for f in fields(cls)
                if f.name != "arrays"
            }
            return cls(arrays=arrays, **values)
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"malformed 'adapter' in gate.json ({type(err).__name__}: {err})") from None
