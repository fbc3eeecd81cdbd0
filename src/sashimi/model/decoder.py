"""The structural decoder: bridge + small transformer over Tier 1/2 tokens of the typed IR (architecture.md §3).

Read it top to bottom, nanoGPT style:

    prompt ─► MiniLM (frozen, outside this module): pooled (384) + token states (T, 384)
              (or, with model.encoder finetune | scratch, the trainable `prompt_encoder` submodule
               computes them from cached lower MiniLM layers / word pieces: sashimi.model.prompt_encoder)
    pooled ─► intent MLP ─► bottleneck z (d_bottleneck; variational option: z ~ N(mu, sigma), β·KL)
                 ├─► bag head: which output tokens the program uses (an auxiliary "intent head")
                 └─► n_intent memory vectors (d_model)
    memory = [ bridge vectors ; projected token states ; embedded retrieved programs (optional) ]
    target tokens ─► n_layers × Block(causal self-attention, cross-attention to memory, MLP) ─► logits

Every linear layer is a `BitLinear` (norm inside, `ternary` switch), so the three weight regimes are
the same network with different layers ternary:
    continuous  none;   partial  the decoder blocks;   full  bridge + decoder blocks + heads.
Embeddings, norms and biases stay continuous in every regime. A ternary layer's scale gamma is one
number per matrix (`ternary_scale: tensor`, BitNet's) or one per output row (`row`).

Teacher forcing: `forward(memory, input_ids)` takes `[<BOS>, t_1 .. t_{n-1}]` and predicts `t_1 .. t_n`
(the sequence ends with the typed IR's `END`, so there is no `<EOS>` target). Decoding: `init_cache`
then `step` one token at a time, with self-attention keys/values cached and the cross-attention
keys/values of the memory computed once; `step` gives the same logits as `forward` (tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sashimi.errors import DataError
from sashimi.model.prompt_encoder import ENCODER_KINDS, MINILM_LAYERS, build_prompt_encoder
from sashimi.model.ternary import BitLinear
from sashimi.model.text_target import check_target

WEIGHT_REGIMES = ("continuous", "partial", "full")
PAD_ID = 0  # the token table's `<PAD>`


@dataclass
class DecoderConfig:
    vocab_size: int = 0  # output vocabulary = len(TokenTable); ids 0..3 are <PAD> <BOS> <EOS> <UNK>
    d_model: int = 192  # width of the decoder and of every memory vector
    n_layers: int = 3  # decoder blocks
    n_heads: int = 4  # attention heads (d_model must be divisible by it)
    ff_mult: int = 4  # MLP hidden width = ff_mult * d_model
    dropout: float = 0.1  # on embeddings, attention weights and block outputs (training only)
    max_len: int = 256  # longest target sequence (learned positions); longer ones are truncated in training
    enc_dim: int = 384  # MiniLM width (pooled vector and token states)
    max_enc_tokens: int = 64  # encoder token states kept per prompt (incl. [CLS]/[SEP]), the rest dropped
    use_token_states: bool = True  # cross-attend to the projected token states (copy cues) besides the bridge
    d_intent: int = 256  # hidden width of the intent MLP on the pooled vector
    d_bottleneck: int = 128  # the swept bottleneck width (architecture.md §3)
    n_intent: int = 4  # memory vectors the bridge writes from z
    variational: bool = False  # z ~ N(mu, diag sigma^2) in training (mean at eval); KL to N(0, I) reported
    beta: float = 0.0  # weight of the KL term in the loss (only when variational)
    weight_regime: str = "continuous"  # continuous | partial | full (see module docstring)
    act_bits: int | None = None  # absmax activation quantisation in the ternary layers (None = off)
    ternary_scale: str = "tensor"  # a ternary layer's gamma = mean|W| over the whole matrix | per output row
    retrieval_k: int = 0  # neighbours' programs the decoder attends to (0 = retrieval off)
    retrieval_len: int = 96  # tokens kept per retrieved program
    # the prompt encoder (plan 4.2 / 4.3 Track C; sashimi.model.prompt_encoder): frozen MiniLM (cached
    # features), its top layers fine-tuned, or a small encoder trained from scratch over its word pieces
    encoder: str = "frozen"  # frozen | finetune | scratch
    encoder_finetune_layers: int = 2  # finetune: MiniLM's top L layers trained (1..6), the rest frozen
    encoder_scratch_layers: int = 2  # scratch: transformer layers
    encoder_scratch_d: int = 128  # scratch: width (projected to enc_dim at the output)
    encoder_scratch_heads: int = 4  # scratch: attention heads
    # What the decoder emits (plan 4.1.5): typed_ir = Tier 1/2 tokens under the grammar mask, values by
    # the filler; dsl_text = the whole canonical DSL text as byte-level BPE tokens + <EOS>, no mask
    # (sashimi.model.text_target). The two fields below only apply to dsl_text.
    output_target: str = "typed_ir"
    text_vocab_size: int = 2048  # BPE vocabulary (specials included) learnt on the training programs
    text_max_len: int = 1024  # max_len of a dsl_text decoder (text is ~6x longer than the typed IR)

    def __post_init__(self) -> None:
        check_target(self.output_target)
        if self.weight_regime not in WEIGHT_REGIMES:
            raise DataError(f"weight_regime must be one of {WEIGHT_REGIMES}, got {self.weight_regime!r}")
        if self.ternary_scale not in ("tensor", "row"):
            raise DataError(f"ternary_scale must be 'tensor' or 'row', got {self.ternary_scale!r}")
        if self.encoder not in ENCODER_KINDS:
            raise DataError(f"encoder must be one of {ENCODER_KINDS}, got {self.encoder!r}")
        if self.encoder == "finetune" and not 1 <= int(self.encoder_finetune_layers) <= MINILM_LAYERS:
            raise DataError(
                f"encoder_finetune_layers must be in 1..{MINILM_LAYERS}, got {self.encoder_finetune_layers}"
            )
        if self.encoder != "frozen" and self.enc_dim != 384:
            raise DataError(f"a trainable encoder outputs 384-d features; enc_dim is {self.enc_dim}")
        if self.d_model % self.n_heads:
            raise DataError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if self.vocab_size < 5:
            raise DataError(f"vocab_size must be set (got {self.vocab_size})")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict) -> DecoderConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise DataError(f"unknown decoder config keys: {', '.join(unknown)}")
        return cls(**obj)


# ----------------------------------------------------------------------------------------------- records


@dataclass
class Memory:
    """What the decoder cross-attends to, plus the bridge's by-products (for losses and reports)."""

    states: torch.Tensor  # (B, M, d_model)
    mask: torch.Tensor  # (B, M) bool, True = a real memory position
    z: torch.Tensor  # (B, d_bottleneck) bottleneck code (the sample in variational training)
    kl: torch.Tensor | None  # (B,) KL(q(z|x) || N(0, I)) in nats, None unless variational
    bag_logits: torch.Tensor  # (B, V) the intent head: which tokens the program contains

    def index_select(self, index: torch.Tensor) -> Memory:
        """Rows `index` of the batch (beam search: expand or reorder hypotheses)."""
        return Memory(
            self.states.index_select(0, index),
            self.mask.index_select(0, index),
            self.z.index_select(0, index),
            None if self.kl is None else self.kl.index_select(0, index),
            self.bag_logits.index_select(0, index),
        )


@dataclass
class Cache:
    """Per-layer keys/values for incremental decoding; `pos` = tokens consumed so far."""

    self_k: list[torch.Tensor]  # each (B, H, pos, dh)
    self_v: list[torch.Tensor]
    cross_k: list[torch.Tensor]  # each (B, H, M, dh), computed once from the memory
    cross_v: list[torch.Tensor]
    cross_mask: torch.Tensor  # (B, 1, 1, M) bool
    pos: int = 0

    def index_select(self, index: torch.Tensor) -> Cache:
        pick = lambda ts: [t.index_select(0, index) for t in ts]  # noqa: E731
        return Cache(
            pick(self.self_k),
            pick(self.self_v),
            pick(self.cross_k),
            pick(self.cross_v),
            self.cross_mask.index_select(0, index),
            self.pos,
        )


# ----------------------------------------------------------------------------------------------- layers


def _linear(
    cfg: DecoderConfig, n_in: int, n_out: int, group: str, bias: bool = True, normed_input: bool = False
) -> BitLinear:
    """A BitLinear, ternary iff the regime covers its group ("decoder" | "bridge" | "heads").

    Its own RMSNorm is left out where a LayerNorm directly precedes it (`normed_input`): the ternary
    layer's input scale is already fixed there, and a second norm only costs time.
    """
    ternary = (cfg.weight_regime == "partial" and group == "decoder") or cfg.weight_regime == "full"
    norm = "none" if normed_input else "rms"
    layer = BitLinear(n_in, n_out, bias=bias, norm=norm, scale=cfg.ternary_scale, act_bits=cfg.act_bits, ternary=ternary)
    layer.regime_ternary = ternary  # what the regime asks for (staged ternarisation toggles `.ternary`)
    return layer


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    b, n, d = x.shape  # (B, N, d) -> (B, H, N, dh)
    return x.view(b, n, n_heads, d // n_heads).transpose(1, 2)


def merge_heads(y: torch.Tensor) -> torch.Tensor:
    b, h, n, dh = y.shape  # (B, H, N, dh) -> (B, N, d)
    return y.transpose(1, 2).reshape(b, n, h * dh)


class SelfAttention(nn.Module):
    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = _linear(cfg, cfg.d_model, 3 * cfg.d_model, "decoder", normed_input=True)
        self.proj = _linear(cfg, cfg.d_model, cfg.d_model, "decoder")
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # each (B, L, d)
        q, k, v = (split_heads(t, self.n_heads) for t in (q, k, v))  # (B, H, L, dh)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
        return self.proj(merge_heads(y))

    def step(self, x: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor):
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # x (B, 1, d)
        q, k, v = (split_heads(t, self.n_heads) for t in (q, k, v))
        k = torch.cat([k_cache, k], dim=2)  # (B, H, pos + 1, dh)
        v = torch.cat([v_cache, v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v)  # the new token sees every earlier one
        return self.proj(merge_heads(y)), k, v


class CrossAttention(nn.Module):
    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.q = _linear(cfg, cfg.d_model, cfg.d_model, "decoder", normed_input=True)
        self.kv = _linear(cfg, cfg.d_model, 2 * cfg.d_model, "decoder", normed_input=True)
        self.proj = _linear(cfg, cfg.d_model, cfg.d_model, "decoder")
        self.dropout = cfg.dropout

    def memory_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv(memory).chunk(2, dim=-1)  # each (B, M, d)
        return split_heads(k, self.n_heads), split_heads(v, self.n_heads)  # (B, H, M, dh)

    def attend(self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        q = split_heads(self.q(x), self.n_heads)  # (B, H, L, dh)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)  # mask (B, 1, 1, M)
        return self.proj(merge_heads(y))


class MLP(nn.Module):
    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.fc = _linear(cfg, cfg.d_model, cfg.ff_mult * cfg.d_model, "decoder", normed_input=True)
        self.proj = _linear(cfg, cfg.ff_mult * cfg.d_model, cfg.d_model, "decoder")
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    """Pre-norm transformer block: causal self-attention, cross-attention to the memory, MLP."""

    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.self_attn = SelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.cross_attn = CrossAttention(cfg)
        self.ln3 = nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mem_k, mem_v, mem_mask) -> torch.Tensor:
        x = x + self.drop(self.self_attn(self.ln1(x)))  # (B, L, d)
        x = x + self.drop(self.cross_attn.attend(self.ln2(x), mem_k, mem_v, mem_mask))
        return x + self.mlp(self.ln3(x))

    def step(self, x, k_cache, v_cache, mem_k, mem_v, mem_mask):
        h, k, v = self.self_attn.step(self.ln1(x), k_cache, v_cache)  # x (B, 1, d)
        x = x + h
        x = x + self.cross_attn.attend(self.ln2(x), mem_k, mem_v, mem_mask)
        return x + self.mlp(self.ln3(x)), k, v


class Bridge(nn.Module):
    """Pooled prompt vector -> intent features -> bottleneck z -> n_intent memory vectors."""

    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.cfg = cfg
        self.intent = _linear(cfg, cfg.enc_dim, cfg.d_intent, "bridge")
        z_out = 2 * cfg.d_bottleneck if cfg.variational else cfg.d_bottleneck
        self.to_z = _linear(cfg, cfg.d_intent, z_out, "bridge")
        self.up = _linear(cfg, cfg.d_bottleneck, cfg.n_intent * cfg.d_model, "bridge")

    def forward(self, pooled: torch.Tensor):
        h = F.gelu(self.intent(pooled))  # (B, d_intent)
        kl = None
        if self.cfg.variational:
            mu, logvar = self.to_z(h).chunk(2, dim=-1)  # each (B, d_bottleneck)
            logvar = logvar.clamp(-8.0, 8.0)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)  # (B,) nats
        else:
            z = self.to_z(h)  # (B, d_bottleneck)
        slots = self.up(z).view(z.shape[0], self.cfg.n_intent, self.cfg.d_model)  # (B, n_intent, d)
        return z, kl, slots


# ----------------------------------------------------------------------------------------------- model


class SashimiDecoder(nn.Module):
    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        # bridge side
        self.bridge = Bridge(cfg)
        self.bag_head = _linear(cfg, cfg.d_bottleneck, cfg.vocab_size, "heads")
        self.tok_proj = _linear(cfg, cfg.enc_dim, d, "bridge") if cfg.use_token_states else None
        self.enc_pos = nn.Embedding(cfg.max_enc_tokens, d) if cfg.use_token_states else None
        self.segment = nn.Embedding(3, d)  # memory source: 0 bridge, 1 prompt tokens, 2 retrieved programs
        if cfg.retrieval_k > 0:
            self.ret_pos = nn.Embedding(cfg.retrieval_len, d)
            self.ret_rank = nn.Embedding(cfg.retrieval_k, d)
        self.mem_ln = nn.LayerNorm(d)
        # decoder side
        self.tok_emb = nn.Embedding(cfg.vocab_size, d)
        self.pos_emb = nn.Embedding(cfg.max_len, d)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = _linear(cfg, d, cfg.vocab_size, "heads", bias=False, normed_input=True)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2's scaled init of the residual projections
            if name.endswith("proj.weight") and name.startswith("blocks."):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layers))
        # built last, so the decoder's own initial weights do not depend on the encoder choice; None
        # (frozen MiniLM outside the model) adds no parameter: the frozen model is exactly today's
        self.prompt_encoder = build_prompt_encoder(cfg)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    # -- bookkeeping --

    def ternary_layers(self) -> list[tuple[str, BitLinear]]:
        """The layers the weight regime makes ternary (staged ternarisation switches these)."""
        return [(n, m) for n, m in self.named_modules() if isinstance(m, BitLinear) and m.regime_ternary]

    def set_ternary_active(self, active: bool) -> None:
        for _, layer in self.ternary_layers():
            layer.ternary = active

    def param_counts(self) -> dict[str, int]:
        """total / trainable include a trainable prompt encoder (`encoder`: its share; 0 when frozen,
        whose 22.7M MiniLM parameters are outside the model and never trained)."""
        total = sum(p.numel() for p in self.parameters())
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        ternary = sum(m.weight.numel() for _, m in self.ternary_layers())
        encoder = sum(p.numel() for p in self.prompt_encoder.parameters()) if self.prompt_encoder else 0
        return {"total": total, "trainable": trainable, "ternary": ternary, "encoder": encoder}

    def read_prompt(
        self, pooled: torch.Tensor, token_states: torch.Tensor, token_mask: torch.Tensor, enc_inputs=None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The prompt features `encode` reads: the frozen MiniLM ones as given, or, with a trainable
        prompt encoder, its output on `enc_inputs` = (padded inputs, mask) (`prompt_encoder.pad_encoder_inputs`)."""
        if self.prompt_encoder is None:
            return pooled, token_states, token_mask
        if enc_inputs is None:
            raise ValueError(f"this model has a {self.cfg.encoder} prompt encoder: pass its inputs")
        return self.prompt_encoder(*enc_inputs)

    # -- memory --

    def encode(
        self,
        pooled: torch.Tensor,
        token_states: torch.Tensor | None = None,
        token_mask: torch.Tensor | None = None,
        retrieved_ids: torch.Tensor | None = None,
    ) -> Memory:
        """pooled (B, 384); token_states (B, T, 384) + token_mask (B, T) bool; retrieved_ids (B, k, R)."""
        cfg = self.cfg
        b = pooled.shape[0]
        z, kl, slots = self.bridge(pooled)  # slots (B, n_intent, d)
        parts = [slots + self.segment.weight[0]]
        masks = [torch.ones(b, cfg.n_intent, dtype=torch.bool, device=pooled.device)]
        if cfg.use_token_states:
            if token_states is None or token_mask is None:
                raise ValueError("this model cross-attends to token states: pass token_states and token_mask")
            t = min(token_states.shape[1], cfg.max_enc_tokens)
            pos = self.enc_pos.weight[:t]  # (T, d)
            parts.append(self.tok_proj(token_states[:, :t]) + pos + self.segment.weight[1])  # (B, T, d)
            masks.append(token_mask[:, :t].bool())
        if cfg.retrieval_k > 0:
            if retrieved_ids is None:
                raise ValueError("this model uses retrieval: pass retrieved_ids (B, k, R)")
            k, r = (
                min(retrieved_ids.shape[1], cfg.retrieval_k),
                min(retrieved_ids.shape[2], cfg.retrieval_len),
            )
            ids = retrieved_ids[:, :k, :r]  # (B, k, R)
            emb = self.tok_emb(ids) + self.ret_pos.weight[:r] + self.ret_rank.weight[:k, None, :]
            parts.append(emb.reshape(b, k * r, -1) + self.segment.weight[2])  # (B, k*R, d)
            masks.append((ids != PAD_ID).reshape(b, k * r))
        states = self.drop(self.mem_ln(torch.cat(parts, dim=1)))  # (B, M, d)
        return Memory(states, torch.cat(masks, dim=1), z, kl, self.bag_head(z))

    # -- teacher forcing --

    def forward(self, memory: Memory, input_ids: torch.Tensor) -> torch.Tensor:
        """input_ids (B, L) starting with <BOS> -> logits (B, L, V) for the next token at each position."""
        b, n = input_ids.shape
        if n > self.cfg.max_len:
            raise ValueError(f"sequence of {n} tokens exceeds max_len {self.cfg.max_len}")
        pos = torch.arange(n, device=input_ids.device)
        x = self.drop(self.tok_emb(input_ids) + self.pos_emb(pos))  # (B, L, d)
        mem_mask = memory.mask[:, None, None, :]  # (B, 1, 1, M)
        for block in self.blocks:
            mem_k, mem_v = block.cross_attn.memory_kv(memory.states)
            x = block(x, mem_k, mem_v, mem_mask)
        return self.lm_head(self.ln_f(x))  # (B, L, V)

    # -- incremental decoding --

    def init_cache(self, memory: Memory) -> Cache:
        b = memory.states.shape[0]
        h = self.cfg.n_heads
        dh = self.cfg.d_model // h
        empty = memory.states.new_zeros(b, h, 0, dh)
        cross = [block.cross_attn.memory_kv(memory.states) for block in self.blocks]
        return Cache(
            self_k=[empty] * len(self.blocks),
            self_v=[empty] * len(self.blocks),
            cross_k=[k for k, _ in cross],
            cross_v=[v for _, v in cross],
            cross_mask=memory.mask[:, None, None, :],
        )

    def step(self, memory: Memory, token_ids: torch.Tensor, cache: Cache) -> tuple[torch.Tensor, Cache]:
        """token_ids (B,) -> logits (B, V) of the next token; returns the extended cache (input unchanged)."""
        if cache.pos >= self.cfg.max_len:
            raise ValueError(f"decoding past max_len {self.cfg.max_len}")
        pos = torch.full((1,), cache.pos, device=token_ids.device, dtype=torch.long)
        x = self.drop(self.tok_emb(token_ids[:, None]) + self.pos_emb(pos))  # (B, 1, d)
        new_k, new_v = [], []
        for i, block in enumerate(self.blocks):
            x, k, v = block.step(
                x, cache.self_k[i], cache.self_v[i], cache.cross_k[i], cache.cross_v[i], cache.cross_mask
            )
            new_k.append(k)
            new_v.append(v)
        logits = self.lm_head(self.ln_f(x))[:, 0]  # (B, V)
        return logits, Cache(new_k, new_v, cache.cross_k, cache.cross_v, cache.cross_mask, cache.pos + 1)


# ----------------------------------------------------------------------------------------------- inputs


def pad_token_states(states: Sequence[np.ndarray], max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ragged MiniLM token states -> (B, T, 384) float tensor + (B, T) bool mask, T <= max_tokens."""
    t = max(1, min(max_tokens, max((len(s) for s in states), default=1)))
    dim = states[0].shape[1] if len(states) and states[0].ndim == 2 else 384
    out = np.zeros((len(states), t, dim), dtype=np.float32)
    mask = np.zeros((len(states), t), dtype=bool)
    for i, s in enumerate(states):
        n = min(len(s), t)
        out[i, :n] = s[:n]
        mask[i, :n] = True
    return torch.from_numpy(out), torch.from_numpy(mask)
