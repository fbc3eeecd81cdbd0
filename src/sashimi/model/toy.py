"""EXP-2.1: the toy structured-prediction problem that validates BitLinear + STE before real training.

The task (plan §2.1: 500 prompts -> 5-token structural sequences over a 50-token vocabulary) is built
so that the words of a prompt determine the tokens, not their positions:

    prompt:   "when i get home please dim the lounge and then put on some jazz"
    target:   [TRIG_home, ACT_lights_off, ARG_lights_off:living, ACT_play, ARG_play:jazz]

- Each of 5 triggers, 6 actions and 3 arguments per action (18 argument tokens) has several
  synonymous phrasings; 2 actions share room words and 2 share contact words, so the same word maps to a
  different argument token depending on the action it belongs to (the decoder has to bind them).
- Templates put the trigger first or last, and either say "A and then B" or "B after A", so the order of
  the output does not follow the order of the words.
- Held-out prompts are new (trigger, action, argument, action, argument) combinations, never seen in
  training.

Target vocabulary: 5 + 6 + 18 = 29 content tokens + BOS, padded with 20 never-used distractor tokens to
exactly 50 output classes, as the plan specifies. The model is a 1-layer, 64-dim transformer decoder
(causal self-attention + cross-attention to a 1-layer prompt encoder); "continuous" and "ternary" runs
differ only in the regime of the decoder's linear layers (BitLinear via `ternarize`), with the same seed,
data, steps and optimiser.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sashimi.io import progress as progress_bar
from sashimi.model.ternary import pack_model, packed_size_bytes, ternarize, ternary_shares

TRIGGERS: dict[str, tuple[str, ...]] = {
    "morning": ("every morning", "when i wake up", "at sunrise"),
    "home": ("when i get home", "when i arrive home", "once i am back home"),
    "work": ("when i reach the office", "when i arrive at work", "once i get to work"),
    "night": ("at bedtime", "every night", "when i go to bed"),
    "car": ("when i get in the car", "when my car connects", "once i start driving"),
}
ROOMS = {
    "kitchen": ("kitchen", "cooking area"),
    "bedroom": ("bedroom", "sleeping room"),
    "living": ("living room", "lounge"),
}
CONTACTS = {"mom": ("mom", "my mother"), "boss": ("my boss", "my manager"), "ana": ("ana", "my friend ana")}
ACTIONS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "lights_on": (("turn on the lights in the", "brighten the", "switch on the lamps in the"), ROOMS),
    "lights_off": (("turn off the lights in the", "dim the", "switch off the lamps in the"), ROOMS),
    "message": (("send a text to", "message", "write to"), CONTACTS),
    "call": (("call", "phone", "ring"), CONTACTS),
    "play": (
        ("put on some", "play some", "start"),
        {
            "jazz": ("jazz", "smooth jazz"),
            "news": ("the news", "news radio"),
            "rain": ("rain sounds", "rainfall"),
        },
    ),
    "timer": (
        ("set a timer for", "start a countdown of", "time"),
        {
            "short": ("five minutes", "a few minutes"),
            "medium": ("half an hour", "thirty minutes"),
            "long": ("two hours", "a couple of hours"),
        },
    ),
}
TEMPLATES = (
    "{t} {p}{a1} and then {a2}",
    "{t} {p}{a2} after you {a1}",
    "{p}{a1} and then {a2} {t}",
    "{p}{a2} after you {a1} {t}",
    "{t} , first {a1} , then {a2}",
)
POLITE = ("", "please ", "could you ", "i want you to ")
VOCAB_SIZE = 50
SEQ_LEN = 5


@dataclass(frozen=True)
class ToyConfig:
    seed: int = 0
    n_prompts: int = 500
    test_fraction: float = 0.2
    d_model: int = 64
    n_heads: int = 4
    steps: int = 500
    batch_size: int = 64
    lr: float = 3e-3
    warmup_steps: int = 50
    weight_decay: float = 0.01


def output_vocab() -> list[str]:
    toks = ["<bos>"] + [f"TRIG_{t}" for t in TRIGGERS] + [f"ACT_{a}" for a in ACTIONS]
    toks += [f"ARG_{a}:{v}" for a, (_, args) in ACTIONS.items() for v in args]
    toks += [f"<unused_{i}>" for i in range(VOCAB_SIZE - len(toks))]
    assert len(toks) == VOCAB_SIZE
    return toks


@dataclass(frozen=True)
class ToyExample:
    prompt: str
    target: tuple[int, ...]  # SEQ_LEN token ids
    combo: tuple[str, ...]


def make_dataset(n: int, seed: int) -> list[ToyExample]:
    """`n` prompts with pairwise distinct (trigger, action, arg, action, arg) combinations."""
    rng = random.Random(seed)
    index = {tok: i for i, tok in enumerate(output_vocab())}
    combos: set[tuple[str, ...]] = set()
    out: list[ToyExample] = []
    while len(out) < n:
        trig = rng.choice(list(TRIGGERS))
        a1, a2 = rng.sample(list(ACTIONS), 2)
        v1, v2 = rng.choice(list(ACTIONS[a1][1])), rng.choice(list(ACTIONS[a2][1]))
        combo = (trig, a1, v1, a2, v2)
        if combo in combos:
            continue
        combos.add(combo)

        def phrase(action: str, value: str) -> str:
            verbs, args = ACTIONS[action]
            return f"{rng.choice(verbs)} {rng.choice(args[value])}"

        prompt = rng.choice(TEMPLATES).format(
            t=rng.choice(TRIGGERS[trig]), p=rng.choice(POLITE), a1=phrase(a1, v1), a2=phrase(a2, v2)
        )
        target = (
            index[f"TRIG_{trig}"],
            index[f"ACT_{a1}"],
            index[f"ARG_{a1}:{v1}"],
            index[f"ACT_{a2}"],
            index[f"ARG_{a2}:{v2}"],
        )
        out.append(ToyExample(" ".join(prompt.split()), target, combo))
    return out


class _Attention(nn.Module):
    """Multi-head attention with plain nn.Linear projections (so `ternarize` can find them by name)."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mem, *, causal: bool = False, mem_pad: torch.Tensor | None = None):
        b, n, d = x.shape
        split = lambda t: t.view(b, -1, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        mask = None
        if mem_pad is not None:
            mask = ~mem_pad[:, None, None, :]
        y = F.scaled_dot_product_attention(
            split(self.q(x)), split(self.k(mem)), split(self.v(mem)), attn_mask=mask, is_causal=causal
        )
        return self.o(y.transpose(1, 2).reshape(b, n, d))


class ToyModel(nn.Module):
    """Prompt encoder (stays continuous, like the frozen MiniLM) + 1-layer 64-dim transformer decoder.

    The encoder is a bidirectional GRU: in a first design, a 1-layer transformer encoder with learned
    absolute positions memorised the 400 training prompts (100% train, 27% held-out sequence accuracy,
    continuous weights) instead of learning which action comes first; the recurrence gives each word
    its local context ("after you ...", "then ...", the verb before a room), which the task needs.
    """

    def __init__(self, n_words: int, cfg: ToyConfig):
        super().__init__()
        d = cfg.d_model
        self.word_emb = nn.Embedding(n_words, d, padding_idx=0)
        self.encoder = nn.GRU(d, d // 2, batch_first=True, bidirectional=True)
        self.tok_emb = nn.Embedding(VOCAB_SIZE, d)
        self.dec_pos = nn.Embedding(SEQ_LEN, d)
        self.decoder = nn.ModuleDict(
            {
                "self_attn": _Attention(d, cfg.n_heads),
                "cross_attn": _Attention(d, cfg.n_heads),
                "ff_in": nn.Linear(d, 4 * d),
                "ff_out": nn.Linear(4 * d, d),
                "head": nn.Linear(d, VOCAB_SIZE),
            }
        )
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(4))

    def encode(self, words: torch.Tensor) -> torch.Tensor:
        lengths = (words != 0).sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.word_emb(words), lengths, batch_first=True, enforce_sorted=False
        )
        states, _ = self.encoder(packed)
        return nn.utils.rnn.pad_packed_sequence(states, batch_first=True, total_length=words.shape[1])[0]

    def decode(self, mem: torch.Tensor, words: torch.Tensor, prefix: torch.Tensor) -> torch.Tensor:
        dec, n1, n2, n3, n4 = self.decoder, *self.norms
        h = self.tok_emb(prefix) + self.dec_pos(torch.arange(prefix.shape[1], device=prefix.device))
        h = h + dec["self_attn"](n1(h), n1(h), causal=True)
        h = h + dec["cross_attn"](n2(h), mem, mem_pad=words == 0)
        h = h + dec["ff_out"](F.gelu(dec["ff_in"](n3(h))))
        return dec["head"](n4(h))

    @torch.no_grad()
    def greedy(self, words: torch.Tensor) -> torch.Tensor:
        mem = self.encode(words)
        seq = torch.zeros(words.shape[0], 1, dtype=torch.long, device=words.device)  # <bos> = 0
        for _ in range(SEQ_LEN):
            nxt = self.decode(mem, words, seq)[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], dim=1)
        return seq[:, 1:]


def _tensorize(examples: list[ToyExample], word_index: dict[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(e.prompt.split()) for e in examples)
    words = torch.zeros(len(examples), width, dtype=torch.long)
    for i, e in enumerate(examples):
        ids = [word_index.get(w, 1) for w in e.prompt.split()]  # 1 = <unk>
        words[i, : len(ids)] = torch.tensor(ids)
    return words, torch.tensor([e.target for e in examples])


def train_toy(cfg: ToyConfig, regime: str, *, progress: bool | None = None) -> dict:
    """Train one model ("continuous" or "ternary") and return held-out metrics. `progress`: a bar over
    the training steps on stderr (None: only on a terminal)."""
    if regime not in ("continuous", "ternary"):
        raise ValueError(f"unknown regime {regime!r}")
    # One thread: the model is tiny, so intra-op parallelism only adds synchronisation cost (and on a
    # busy 2-core machine, oversubscription made a run several times slower).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_toy(cfg, regime, progress)
    finally:
        torch.set_num_threads(threads)


def _train_toy(cfg: ToyConfig, regime: str, progress: bool | None) -> dict:
    started = time.perf_counter()
    data = make_dataset(cfg.n_prompts, cfg.seed)
    n_test = int(round(cfg.n_prompts * cfg.test_fraction))
    train, test = data[n_test:], data[:n_test]
    vocab = sorted({w for e in train for w in e.prompt.split()})
    word_index = {w: i + 2 for i, w in enumerate(vocab)}  # 0 pad, 1 unk
    x_tr, y_tr = _tensorize(train, word_index)
    x_te, y_te = _tensorize(test, word_index)

    torch.manual_seed(cfg.seed)
    model = ToyModel(len(word_index) + 2, cfg)
    if regime == "ternary":
        ternarize(model, ["decoder.*"], norm="none", scale="tensor")  # the decoder already pre-norms
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            min(1.0, (s + 1) / cfg.warmup_steps)
            * 0.5
            * (1 + math.cos(math.pi * min(s, cfg.steps) / cfg.steps))
        ),
    )
    gen = torch.Generator().manual_seed(cfg.seed)
    bos = torch.zeros(len(train), 1, dtype=torch.long)
    prefix_all = torch.cat([bos, y_tr[:, :-1]], dim=1)
    model.train()
    for _ in progress_bar(range(cfg.steps), desc=f"toy {regime}", unit="step", enabled=progress):
        idx = torch.randint(0, len(train), (cfg.batch_size,), generator=gen)
        words = x_tr[idx]
        logits = model.decode(model.encode(words), words, prefix_all[idx])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), y_tr[idx].reshape(-1))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite toy loss in the {regime} run")
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    pred = model.greedy(x_te)
    result = {
        "sequence_accuracy": round(float((pred == y_te).all(dim=1).float().mean()), 4),
        "token_accuracy": round(float((pred == y_te).float().mean()), 4),
        "token_accuracy_by_position": [round(float(a), 4) for a in (pred == y_te).float().mean(dim=0)],
        "train_sequence_accuracy": round(float((model.greedy(x_tr) == y_tr).all(dim=1).float().mean()), 4),
        "final_loss": round(loss.item(), 5),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if regime == "ternary":
        packed = pack_model(model)
        with torch.no_grad():
            same = torch.equal(packed.greedy(x_te), pred) and torch.equal(
                packed.decode(packed.encode(x_te), x_te, torch.cat([bos[:n_test], y_te[:, :-1]], 1)),
                model.decode(model.encode(x_te), x_te, torch.cat([bos[:n_test], y_te[:, :-1]], 1)),
            )
        result["packed_same_outputs"] = bool(same)
        result["packed_sizes"] = packed_size_bytes(packed)
        result["ternary_shares"] = {
            k: {m: round(v, 4) for m, v in s.items()} for k, s in ternary_shares(model).items()
        }
    return result


def run_toy(cfg: ToyConfig, *, progress: bool | None = None) -> dict:
    """Both regimes with the same seed, data and budget; one flat dict of metrics."""
    started = time.perf_counter()
    cont = train_toy(cfg, "continuous", progress=progress)
    tern = train_toy(cfg, "ternary", progress=progress)
    return {
        "experiment": "EXP-2.1",
        "ternary_accuracy": tern["sequence_accuracy"],
        "continuous_accuracy": cont["sequence_accuracy"],
        "ternary_token_accuracy": tern["token_accuracy"],
        "continuous_token_accuracy": cont["token_accuracy"],
        "ternary_train_accuracy": tern["train_sequence_accuracy"],
        "continuous_train_accuracy": cont["train_sequence_accuracy"],
        "n_train": cfg.n_prompts - int(round(cfg.n_prompts * cfg.test_fraction)),
        "n_test": int(round(cfg.n_prompts * cfg.test_fraction)),
        "vocab_size": VOCAB_SIZE,
        "seq_len": SEQ_LEN,
        "passed": tern["sequence_accuracy"] >= 0.95,
        "seconds": round(time.perf_counter() - started, 2),
        "continuous": cont,
        "ternary": tern,
        "config": asdict(cfg),
    }
