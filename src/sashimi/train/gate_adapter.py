"""Training the domain gate's fine-tuned encoder layers: LoRA adapters on the top MiniLM layers, trained
to tell OOD from in-domain (`sashimi exp gate --adapter`, benchmarks/gate_study.py; the product runs them
merged, `sashimi.model.gate_adapter`).

Why: the frozen MiniLM embedding ranks OOD prompts of unseen templates well (AUROC ~0.97) but not
sharply enough for the plan's 99 % precision bar, and EXP-1.1 says the encoder needs fine-tuning. Full
fine-tuning would mean shipping a second 90 MB encoder; low-rank adapters (LoRA: W x + (alpha/r) B A x,
B initialised to zero so training starts from the frozen encoder) on every linear map of the top
`layers` transformer layers are ~1 MB and leave the shared encoder untouched for the rest of the system.

Pipeline for one prompt: frozen MiniLM up to layer 6 - `layers` (cached on disk by `Encoder.hidden_states`)
-> the top layers with adapters -> mean pooling over tokens -> L2 normalisation -> a linear OOD head on
`temperature` x the unit vector. Trained with class-balanced binary cross-entropy (AdamW; only adapters
and head learn; dropout as in MiniLM), in torch on the sentence-transformers copy of the layers.

Weights are exported as plain arrays (`adapter_arrays`) for safetensors; nothing here unpickles.
"""

from __future__ import annotations

import copy
import math
import sys
from dataclasses import asdict, dataclass, fields

import numpy as np

from sashimi.errors import DataError
from sashimi.model.encoder import N_LAYERS
from sashimi.model.gate_adapter import ADAPTED  # the linear maps of a BERT layer that get an adapter


@dataclass(frozen=True)
class LoRAConfig:
    layers: int = 3  # top MiniLM layers that get adapters (1..6)
    rank: int = 8  # 0: no adapters, fine-tune every weight of the top layers instead (for comparison)
    alpha: float = 16.0
    epochs: int = 5
    lr: float = 1e-3
    batch_size: int = 32
    weight_decay: float = 0.01
    temperature: float = 10.0  # the head reads temperature x the unit-norm embedding

    def __post_init__(self) -> None:
        if not 1 <= self.layers <= N_LAYERS:
            raise DataError(f"LoRA gate: layers must be in 1..{N_LAYERS}, got {self.layers}")
        if self.rank < 0 or self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise DataError("LoRA gate: rank, epochs, batch_size and lr must be positive")

    @property
    def first_layer(self) -> int:
        """Index of the hidden states the adapted layers start from (0 = word embeddings)."""
        return N_LAYERS - self.layers

    @classmethod
    def from_dict(cls, obj) -> LoRAConfig:
        if not isinstance(obj, dict):
            raise DataError("LoRA gate config must be an object")
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(obj) - set(known))
        if unknown:
            raise DataError(f"LoRA gate config has unknown keys {unknown}")
        try:
            return cls(**{k: (int(v) if known[k] == "int" else float(v)) for k, v in obj.items()})
        except (TypeError, ValueError) as err:
            raise DataError(f"malformed LoRA gate config ({err})") from None

    def to_dict(self) -> dict:
        return asdict(self)


def _torch():
    import torch

    return torch


class LoRALinear(_torch().nn.Module):
    """`base(x) + (alpha / rank) * x A^T B^T`; the base layer is frozen, B starts at zero."""

    def __init__(self, base, rank: int, alpha: float) -> None:
        torch = _torch()
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.a = torch.nn.Parameter(torch.empty(rank, base.in_features))
        self.b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
        torch.nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))  # as nn.Linear initialises its weight
        self.scaling = alpha / rank

    def forward(self, x):
        return self.base(x) + (x @ self.a.T @ self.b.T) * self.scaling


class AdaptedTop(_torch().nn.Module):
    """The top MiniLM layers with adapters, mean pooling, normalisation and the OOD head."""

    def __init__(self, bert_layers, config: LoRAConfig) -> None:
        torch = _torch()
        super().__init__()
        self.config = config
        self.layers = copy.deepcopy(bert_layers)
        if config.rank == 0:  # full fine-tuning of the top layers: every weight learns
            self.head = torch.nn.Linear(bert_layers[0].output.dense.out_features, 1)
            return
        for p in self.layers.parameters():
            p.requires_grad_(False)
        for layer in self.layers:
            for name in ADAPTED:
                parent_name, _, attr = name.rpartition(".")
                parent = layer.get_submodule(parent_name)
                setattr(parent, attr, LoRALinear(getattr(parent, attr), config.rank, config.alpha))
        self.head = torch.nn.Linear(bert_layers[0].output.dense.out_features, 1)

    def embed(self, hidden, mask):
        """hidden (b, t, d) float, mask (b, t) in {0, 1} -> unit-norm pooled embeddings (b, d)."""
        torch = _torch()
        additive = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        h = hidden
        for layer in self.layers:
            out = layer(h, attention_mask=additive)
            h = out[0] if isinstance(out, tuple) else out
        m = mask[..., None].to(h.dtype)
        return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1.0), dim=-1)

    def logits(self, hidden, mask):
        """Every head output (b, n_out): the head reads temperature x the unit embedding."""
        return self.head(self.embed(hidden, mask) * self.config.temperature)

    def forward(self, hidden, mask):
        """OOD logits (b,)."""
        return self.logits(hidden, mask)[:, 0]

    def adapter_arrays(self) -> dict[str, np.ndarray]:
        """What training changed: adapters and head, as float32 arrays (names like `2.intermediate.dense.a`)."""
        return {
            name: p.detach().cpu().numpy().astype(np.float32)
            for name, p in self.named_parameters()
            if p.requires_grad
        }

    def load_adapter_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        torch = _torch()
        params = {name: p for name, p in self.named_parameters() if p.requires_grad}
        missing, extra = sorted(set(params) - set(arrays)), sorted(set(arrays) - set(params))
        if missing or extra:
            raise DataError(f"LoRA gate weights do not fit (missing {missing[:3]}, unexpected {extra[:3]})")
        with torch.no_grad():
            for name, p in params.items():
                value = torch.as_tensor(np.asarray(arrays[name], dtype=np.float32))
                if value.shape != p.shape:
                    raise DataError(
                        f"LoRA gate weight {name} has shape {tuple(value.shape)}, expected {tuple(p.shape)}"
                    )
                p.copy_(value)


def base_layers(encoder, config: LoRAConfig):
    """The frozen top `config.layers` transformer layers of the encoder's MiniLM."""
    return encoder.model[0].auto_model.encoder.layer[config.first_layer :]


def _batch(states: list[np.ndarray], rows):
    """Pad the given rows' states to the longest of them: (hidden, mask) tensors."""
    torch = _torch()
    longest = max(len(states[i]) for i in rows)
    dim = states[rows[0]].shape[1]
    hidden = np.zeros((len(rows), longest, dim), np.float32)
    mask = np.zeros((len(rows), longest), np.float32)
    for k, i in enumerate(rows):
        n = len(states[i])
        hidden[k, :n], mask[k, :n] = states[i], 1.0
    return torch.from_numpy(hidden), torch.from_numpy(mask)


def fit(model: AdaptedTop, states: list[np.ndarray], targets, loss, config: LoRAConfig, *, seed: int = 0,
        progress: bool = False, desc: str = "LoRA"):
    """The training loop shared by every head on the adapted layers: `config.epochs` seeded passes in
    batches, AdamW on what requires grad, a one-cycle lr; `loss(logits (b, n_out), targets[rows])`."""
    torch = _torch()
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(states) / config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=steps, pct_start=0.1)
    bar = tqdm(total=steps, desc=desc, unit="step", disable=not progress, file=sys.stderr)
    for _ in range(config.epochs):
        order = rng.permutation(len(states))
        for start in range(0, len(order), config.batch_size):
            rows = order[start : start + config.batch_size]
            hidden, mask = _batch(states, rows)
            batch_loss = loss(model.logits(hidden, mask), targets[rows])
            opt.zero_grad()
            batch_loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
    bar.close()
    model.eval()
    return model


def train(
    encoder,
    states: list[np.ndarray],
    is_ood: np.ndarray,
    config: LoRAConfig = LoRAConfig(),
    *,
    seed: int = 0,
    progress: bool = False,
) -> AdaptedTop:
    """Fit adapters and head on hidden states entering the top layers (`Encoder.hidden_states(texts,
    config.first_layer)`), labels `is_ood`. Deterministic for a seed (single-threaded order of batches)."""
    torch = _torch()

    is_ood = np.asarray(is_ood, dtype=bool)
    if len(states) != len(is_ood) or is_ood.all() or not is_ood.any():
        raise DataError("the LoRA gate needs states and labels of both classes, of equal length")
    torch.manual_seed(seed)
    model = AdaptedTop(base_layers(encoder, config), config)
    y = torch.as_tensor(is_ood.astype(np.float32))
    pos_weight = torch.tensor(float((~is_ood).sum() / is_ood.sum()))  # class-balanced

    def loss(logits, target):
        return torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], target, pos_weight=pos_weight)

    return fit(model, states, y, loss, config, seed=seed, progress=progress, desc="LoRA gate")


def head_logits(model: AdaptedTop, states: list[np.ndarray], batch_size: int = 128) -> np.ndarray:
    """Every head output (N, n_out) for hidden states entering the adapted layers (longest-first
    batches, no grad)."""
    torch = _torch()
    out = np.zeros((len(states), model.head.out_features))
    order = sorted(range(len(states)), key=lambda i: -len(states[i]))
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = model.logits(*_batch(states, rows)).double().numpy()
    return out


def ood_logits(model: AdaptedTop, states: list[np.ndarray], batch_size: int = 128) -> np.ndarray:
    """OOD logits for hidden states entering the adapted layers."""
    return head_logits(model, states, batch_size)[:, 0]


def load(encoder, config: LoRAConfig, arrays: dict[str, np.ndarray]) -> AdaptedTop:
    model = AdaptedTop(base_layers(encoder, config), config)
    model.load_adapter_arrays(arrays)
    model.eval()
    return model
