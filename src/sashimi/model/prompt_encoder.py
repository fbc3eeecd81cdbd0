"""Trainable prompt encoders (plan 4.2 "encoder frozen vs fine-tuned top layers", 4.3 Track C "from scratch").

`model.encoder` picks what turns a prompt into the decoder's inputs (pooled vector + token states):

    frozen     MiniLM-L6 as shipped; training reads its cached outputs (no module here, today's path).
    finetune   the bottom 6 - L MiniLM layers stay frozen: training reads their output hidden states
               (cached on disk by `Encoder.hidden_states`, keyed like the pooled/token caches); the top L
               layers (`model.encoder_finetune_layers`) are a `MiniLMTop`, initialised from MiniLM's own
               weights and trained with the decoder at `train.encoder_lr`.
    scratch    `ScratchEncoder`: a small BERT-style encoder over MiniLM's word-piece ids (the tokenizer is
               reused, no pretrained weight), trained from random initialisation with the decoder.

Both trainable encoders end like sentence-transformers' MiniLM: token states (B, T, 384) and a pooled
vector = the mean of the token states over the real (unpadded) tokens, L2-normalised. So a `MiniLMTop`
fresh from MiniLM's weights reproduces the frozen features (tested), and with 0 layers it is exactly the
frozen pooling.

The module is a submodule of `SashimiDecoder` (`decoder.prompt_encoder`): its weights live in the run's
model.safetensors, the optimiser and checkpoints cover it, and `param_counts` counts it. The domain gate
and the retrieval index keep the frozen MiniLM pooled vector (both were fitted on it), so a generator
still runs the frozen MiniLM and, for these models, also this encoder on what it reads (`prompt_inputs`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sashimi.errors import DataError, Location
from sashimi.model.encoder import model_dir

ENCODER_KINDS = ("frozen", "finetune", "scratch")
MINILM_LAYERS = 6  # all-MiniLM-L6-v2
MINILM_DIM = 384
MINILM_HEADS = 12
MINILM_FF = 1536
MINILM_EPS = 1e-12
MAX_WORDPIECES = 256  # sentence-transformers' max_seq_length for this model (as sashimi.model.minilm)
WORDPIECE_PAD = 0  # BERT's [PAD] id


@lru_cache(maxsize=1)
def minilm_config() -> dict:
    path = model_dir() / "config.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read MiniLM config: {err}".splitlines()[0], Location(str(path))) from None


@lru_cache(maxsize=1)
def wordpiece_tokenizer():
    """MiniLM's word-piece tokenizer (Rust `tokenizers`), truncating like sentence-transformers."""
    from tokenizers import Tokenizer  # here, not at the top: only scratch models need it

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_WORDPIECES)
    return tok


def wordpiece_ids(texts: Sequence[str]) -> list[np.ndarray]:
    """Word-piece ids per text incl. [CLS]/[SEP] (int64), the scratch encoder's input."""
    tok = wordpiece_tokenizer()
    return [np.asarray(tok.encode(t).ids, dtype=np.int64) for t in texts]


# ----------------------------------------------------------------------------------------------- layers


class BertLayer(nn.Module):
    """One post-norm BERT layer (MiniLM's layout: attention, add & norm, GELU MLP, add & norm)."""

    def __init__(self, d: int, n_heads: int, d_ff: int, eps: float, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.attn_out = nn.Linear(d, d)
        self.attn_ln = nn.LayerNorm(d, eps=eps)
        self.ff_in = nn.Linear(d, d_ff)
        self.ff_out = nn.Linear(d_ff, d)
        self.out_ln = nn.LayerNorm(d, eps=eps)
        self.dropout = dropout

    # MiniLM's safetensors names of each parameter (load_minilm_layer)
    HF_NAMES = {
        "query": "attention.self.query",
        "key": "attention.self.key",
        "value": "attention.self.value",
        "attn_out": "attention.output.dense",
        "attn_ln": "attention.output.LayerNorm",
        "ff_in": "intermediate.dense",
        "ff_out": "output.dense",
        "out_ln": "output.LayerNorm",
    }

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """x (B, T, d); bias (B, 1, 1, T) additive attention mask over keys."""
        b, t, d = x.shape
        hd = d // self.n_heads

        def heads(y: torch.Tensor) -> torch.Tensor:  # (B, T, d) -> (B, H, T, hd)
            return y.view(b, t, self.n_heads, hd).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + bias, dim=-1)  # (B, H, T, T)
        p = self.dropout if self.training else 0.0
        ctx = (F.dropout(att, p, self.training) @ v).transpose(1, 2).reshape(b, t, d)
        x = self.attn_ln(x + F.dropout(self.attn_out(ctx), p, self.training))
        h = self.ff_out(F.gelu(self.ff_in(x)))  # exact (erf) GELU, as MiniLM's "gelu"
        return self.out_ln(x + F.dropout(h, p, self.training))


def _key_bias(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, T) bool -> (B, 1, 1, T): 0 where a real token, the dtype's minimum where padding (as HF BERT)."""
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """sentence-transformers' pooling: mean over real tokens, then L2 normalisation. (B, T, D) -> (B, D)."""
    m = mask.to(states.dtype).unsqueeze(-1)
    mean = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return F.normalize(mean, p=2, dim=1)


class MiniLMTop(nn.Module):
    """The top `n_layers` MiniLM layers: hidden states after layer 6 - n_layers -> (pooled, states, mask)."""

    kind = "finetune"

    def __init__(self, n_layers: int, dropout: float = 0.1) -> None:
        super().__init__()
        if not 0 <= n_layers <= MINILM_LAYERS:
            raise DataError(f"encoder_finetune_layers must be in 0..{MINILM_LAYERS}, got {n_layers}")
        self.n_layers = n_layers
        self.layers = nn.ModuleList(
            BertLayer(MINILM_DIM, MINILM_HEADS, MINILM_FF, MINILM_EPS, dropout) for _ in range(n_layers)
        )

    @property
    def input_layer(self) -> int:
        """Which frozen MiniLM layer's output this reads (0 = embeddings, 6 = the last layer)."""
        return MINILM_LAYERS - self.n_layers

    def load_pretrained(self) -> MiniLMTop:
        """Copy MiniLM's own weights of layers 6 - n .. 5 into this module (the fine-tune's start)."""
        from safetensors.torch import load_file

        raw = load_file(str(model_dir() / "model.safetensors"))
        weights = {k.removeprefix("bert."): v.float() for k, v in raw.items()}
        with torch.no_grad():
            for i, layer in enumerate(self.layers):
                prefix = f"encoder.layer.{self.input_layer + i}"
                for mine, theirs in BertLayer.HF_NAMES.items():
                    module = getattr(layer, mine)
                    module.weight.copy_(weights[f"{prefix}.{theirs}.weight"])
                    module.bias.copy_(weights[f"{prefix}.{theirs}.bias"])
        return self

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor):
        """hidden (B, T, 384) float, mask (B, T) bool -> pooled (B, 384), states (B, T, 384), mask."""
        bias = _key_bias(mask, hidden.dtype)
        x = hidden
        for layer in self.layers:
            x = layer(x, bias)
        return mean_pool(x, mask), x, mask


class ScratchEncoder(nn.Module):
    """Track C: a small BERT over MiniLM's word pieces, random init, output projected to 384."""

    kind = "scratch"

    def __init__(
        self, vocab_size: int, d: int, n_layers: int, n_heads: int, dropout: float, out_dim: int = MINILM_DIM
    ) -> None:
        super().__init__()
        if d % n_heads:
            raise DataError(f"encoder_scratch_d {d} is not divisible by encoder_scratch_heads {n_heads}")
        self.tok_emb = nn.Embedding(vocab_size, d)
        self.pos_emb = nn.Embedding(MAX_WORDPIECES, d)
        self.emb_ln = nn.LayerNorm(d, eps=MINILM_EPS)
        self.layers = nn.ModuleList(
            BertLayer(d, n_heads, 4 * d, MINILM_EPS, dropout) for _ in range(n_layers)
        )
        self.out = nn.Linear(d, out_dim)
        self.dropout = dropout
        for module in self.modules():  # BERT's initialisation
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor):
        """ids (B, T) long word pieces, mask (B, T) bool -> pooled (B, 384), states (B, T, 384), mask."""
        t = ids.shape[1]
        x = self.emb_ln(self.tok_emb(ids) + self.pos_emb.weight[:t])
        x = F.dropout(x, self.dropout, self.training)
        bias = _key_bias(mask, x.dtype)
        for layer in self.layers:
            x = layer(x, bias)
        states = self.out(x)
        return mean_pool(states, mask), states, mask


def build_prompt_encoder(cfg) -> nn.Module | None:
    """The trainable encoder a DecoderConfig asks for (None = frozen MiniLM, read from the cache)."""
    if cfg.encoder == "frozen":
        return None
    if cfg.encoder == "finetune":
        return MiniLMTop(cfg.encoder_finetune_layers, cfg.dropout)
    return ScratchEncoder(
        int(minilm_config()["vocab_size"]),
        cfg.encoder_scratch_d,
        cfg.encoder_scratch_layers,
        cfg.encoder_scratch_heads,
        cfg.dropout,
    )


# ----------------------------------------------------------------------------------------------- inputs


def pad_encoder_inputs(inputs: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Ragged per-prompt inputs -> a padded batch + (B, T) bool mask, no truncation (the pooled vector
    averages every token, as the frozen one does). Float (T, 384) hidden states or int (T,) word pieces."""
    t = max(1, max((len(x) for x in inputs), default=1))
    first = inputs[0] if len(inputs) else np.zeros((0,), np.int64)
    mask = torch.zeros(len(inputs), t, dtype=torch.bool)
    if first.ndim == 2:
        out = torch.zeros(len(inputs), t, first.shape[1], dtype=torch.float32)
    else:
        out = torch.full((len(inputs), t), WORDPIECE_PAD, dtype=torch.long)
    for i, x in enumerate(inputs):
        out[i, : len(x)] = torch.from_numpy(np.asarray(x))
        mask[i, : len(x)] = True
    return out, mask


def prompt_inputs(prompt_encoder: nn.Module, texts: Sequence[str], encoder) -> list[np.ndarray]:
    """What `prompt_encoder` reads for `texts`: frozen MiniLM hidden states after its input layer
    (finetune; `encoder` is a training `Encoder`, cached, or an inference `MiniLM`) or word-piece ids
    (scratch)."""
    if prompt_encoder.kind == "finetune":
        return encoder.hidden_states(list(texts), prompt_encoder.input_layer)
    return wordpiece_ids(texts)
