"""All-MiniLM-L6-v2 for inference in plain torch: the same weights and numbers as sentence-transformers,
without importing it.

Why: `import sentence_transformers` costs about 6 s on the 2-core reference machine (it pulls in
transformers, scikit-learn, PIL, ...), which alone breaks the 4 s budget of a cold `sashimi generate`.
The model itself is a 6-layer BERT (hidden 384, 12 heads, GELU, post-norm); with the Rust `tokenizers`
package for word pieces it is ~60 lines here. `encode` runs the same network as an ONNX graph in
onnxruntime by default (`sashimi.model.minilm_onnx`: less CPU per request); `forward` stays the
reference. The training side keeps `sashimi.model.encoder.Encoder` (cached, batched,
sentence-transformers); `tests/model/test_inference_parts.py` checks that all three give the same pooled
vectors and token states (to float rounding: padding in a batch changes the summation order).

Outputs match `Encoder`: `embed` = mean-pooled, L2-normalised (n, 384); `token_states` = the last
layer's states per word piece incl. [CLS]/[SEP] (no padding). Nothing is cached: one request is one
forward pass (~5-10 ms), and a benchmark must not count cache hits.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sashimi.errors import DataError, Location

MAX_SEQ_LENGTH = 256  # sentence-transformers' max_seq_length for this model (sentence_bert_config.json)


# word pieces in one `encode_together` pass at most: its attention matrix is this squared per head, so
# eight 256-piece requests run as several passes, never as one 2,048-piece one (~200 MB of scores)
TOGETHER_MAX_PIECES = 512
BACKENDS = ("onnxruntime", "torch")  # who runs `encode`'s forward pass; the first is the default
PRECISIONS = ("float32", "int8")  # the onnxruntime graph's weights and products (`minilm_onnx`)


class MiniLM:
    """Tokeniser + BERT forward + mean pooling. `encode(texts)` returns (pooled, token states).

    `backend` (default: $SASHIMI_ENCODER_BACKEND, else onnxruntime) runs `encode`'s forward pass:
    "onnxruntime" the same network as an ONNX graph (`sashimi.model.minilm_onnx`, ~1.8x less CPU per
    pass), "torch" `forward` below. Both give the same states to float rounding (tested).

    `precision` (default: $SASHIMI_ENCODER_PRECISION, else float32) of the onnxruntime graph: "int8" runs
    8-bit weights and integer products (~1.8x less CPU per pass; features move: pooled cosine ~0.993 to
    float32, RESULTS §8). A model declares the precision it was measured with (`Generator`)."""

    def __init__(
        self,
        directory: str | Path | None = None,
        backend: str | None = None,
        precision: str | None = None,
        tap: int | None = None,
    ) -> None:
        """`tap` = k: `encode_with_tap` also returns the states after layer k, from the same pass (what
        a domain gate with adapters reads, `sashimi.model.gate_adapter`)."""
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        from sashimi.model.encoder import model_dir, model_id

        root = Path(directory) if directory is not None else model_dir()
        self.model_id = model_id()
        try:
            cfg = json.loads((root / "config.json").read_text())
            self.tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
            weights = load_file(str(root / "model.safetensors"))
        except (OSError, ValueError, KeyError) as err:
            raise DataError(f"cannot load MiniLM: {err}".splitlines()[0], Location(str(root))) from None
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_SEQ_LENGTH)
        self.n_layers = int(cfg["num_hidden_layers"])
        self.n_heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.w = {k.removeprefix("bert."): v.float() for k, v in weights.items()}
        self.backend = backend or os.environ.get("SASHIMI_ENCODER_BACKEND") or BACKENDS[0]
        if self.backend not in BACKENDS:
            raise DataError(f"unknown encoder backend {self.backend!r}: use one of {', '.join(BACKENDS)}")
        self.precision = precision or os.environ.get("SASHIMI_ENCODER_PRECISION") or PRECISIONS[0]
        if self.precision not in PRECISIONS:
            raise DataError(f"unknown encoder precision {self.precision!r}: use one of {', '.join(PRECISIONS)}")
        if self.precision != "float32" and self.backend != "onnxruntime":
            raise DataError(f"encoder precision {self.precision} needs the onnxruntime backend, not {self.backend}")
        if tap is not None and not 0 <= tap < self.n_layers:
            raise DataError(f"MiniLM can tap the states after layers 0..{self.n_layers - 1}, not {tap}")
        self._session = None
        if self.backend == "onnxruntime":
            from sashimi.model.minilm_onnx import build_graph
            from sashimi.model.onnx_graph import session

            self._words = self.w["embeddings.word_embeddings.weight"].numpy()  # [V, D]: looked up here
            # The table is mapped from the weights file, its pages read only when a word piece first
            # occurs: a server's memory then grew by up to 47 MB over its first thousands of requests.
            # Reading one number per row (a row is 1.5 KB, a page 4 KB) brings every page in now, once
            # (~20 ms; pages of the file, shared by every worker process that maps it).
            self._words[:, 0].sum()
            weights = {k: v.numpy() for k, v in self.w.items() if not k.startswith("embeddings.word_")}
            int8 = self.precision == "int8"
            graph, self._graph_weights = build_graph(
                weights, self.n_layers, self.n_heads, self.eps, int8=int8, tap=tap
            )
            threads = torch.get_num_threads()  # the generator has set them
            self._session = session(graph, self._graph_weights, threads)
        self.tap = tap

    # -- the network ------------------------------------------------------------------------------

    def _ln(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, x.shape[-1:], self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps)

    def _lin(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    @torch.inference_mode()
    def forward(self, ids: torch.Tensor, mask: torch.Tensor, layers: int | None = None) -> torch.Tensor:
        """ids, mask: [B, T] -> hidden states [B, T, 384] after `layers` layers (None = all, the last)."""
        w, (b, t) = self.w, ids.shape
        x = w["embeddings.word_embeddings.weight"][ids]  # [B, T, D]
        x = (
            x
            + w["embeddings.position_embeddings.weight"][:t]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        d = x.shape[-1]
        hd = d // self.n_heads
        # additive attention mask over keys: 0 where present, a large negative where padded
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for i in range(self.n_layers if layers is None else layers):
            p = f"encoder.layer.{i}"

            def heads(y: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, H, T, hd]
                return y.view(b, t, self.n_heads, hd).transpose(1, 2)

            q = heads(self._lin(x, f"{p}.attention.self.query"))
            k = heads(self._lin(x, f"{p}.attention.self.key"))
            v = heads(self._lin(x, f"{p}.attention.self.value"))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + bias, dim=-1)  # [B, H, T, T]
            ctx = (att @ v).transpose(1, 2).reshape(b, t, d)
            x = self._ln(x + self._lin(ctx, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            h = F.gelu(self._lin(x, f"{p}.intermediate.dense"))
            x = self._ln(x + self._lin(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        return x

    # -- public API ---------------------------------------------------------------------------------

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Pooled L2-normalised embeddings (n, 384) and per-text token states [(n_tokens, 384)]."""
        pooled, states, _ = self._encode(texts, with_tap=False)
        return pooled, states

    def encode_with_tap(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """`encode`, plus each text's states after layer `tap` [(n_tokens, 384)] (MiniLM(tap=k))."""
        return self._encode(texts, with_tap=True)

    def _encode(self, texts: Sequence[str], with_tap: bool):
        if isinstance(texts, str):
            raise TypeError("pass a sequence of texts, not a single string")
        if with_tap and self.tap is None:
            raise DataError("this MiniLM taps no layer: create it with MiniLM(tap=k)")
        pooled, states, taps = [], [], []
        for text in texts:  # one at a time: no padding, so the numbers do not depend on the batch
            ids = self.tokenizer.encode(text).ids
            if self._session is not None:
                h, tap = self._run([ids])[0]  # [T, D] each
                states.append(h)
                taps.append(tap)
                pooled.append(_pool(h))
            else:
                ids_t = torch.tensor([ids], dtype=torch.long)
                h = self.forward(ids_t, torch.ones_like(ids_t))[0]  # [T, D]
                pooled.append(F.normalize(h.mean(0), dim=0).numpy().astype(np.float32))
                states.append(h.numpy().astype(np.float32))
                if with_tap:  # the reference backend: a second pass up to the tapped layer
                    taps.append(self.forward(ids_t, torch.ones_like(ids_t), self.tap)[0].numpy())
        pooled = np.stack(pooled) if pooled else np.zeros((0, 384), np.float32)
        return pooled, states, (taps if with_tap else None)

    def encode_together(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode` for several texts in one pass (a server's waiting requests): their word pieces run as
        one sequence in which each attends only to its own text, so the matrix products have more rows
        (~20 % less CPU per text for 8 texts, RESULTS §8). Each text's states agree with `encode`'s to
        float32 rounding (a kernel may sum a row in another order), not bit for bit. Consecutive texts
        share a pass up to `TOGETHER_MAX_PIECES` word pieces. The torch backend encodes one at a time, and
        so does the 8-bit graph: it quantises a pass's states with one scale, so in a shared pass a text's
        features (and then its program) would depend on the texts beside it; alone, its 8-bit pass is
        still cheaper than its share of a float32 pass (RESULTS §8)."""
        pooled, states, _ = self._encode_together(texts, with_tap=False)
        return pooled, states

    def encode_together_with_tap(self, texts: Sequence[str]):
        """`encode_together`, plus each text's states after layer `tap` (as `encode_with_tap`)."""
        return self._encode_together(texts, with_tap=True)

    def _encode_together(self, texts: Sequence[str], with_tap: bool):
        if isinstance(texts, str):
            raise TypeError("pass a sequence of texts, not a single string")
        if self._session is None or len(texts) < 2 or self.precision != "float32":
            return self._encode(texts, with_tap)
        if with_tap and self.tap is None:
            raise DataError("this MiniLM taps no layer: create it with MiniLM(tap=k)")
        out: list[tuple[np.ndarray, np.ndarray | None]] = []
        group: list[list[int]] = []
        pieces = 0  # in `group`
        for ids in (self.tokenizer.encode(text).ids for text in texts):
            if group and pieces + len(ids) > TOGETHER_MAX_PIECES:
                out += self._run(group)
                group, pieces = [], 0
            group.append(ids)
            pieces += len(ids)
        out += self._run(group)
        states = [h for h, _ in out]
        return np.stack([_pool(h) for h in states]), states, ([t for _, t in out] if with_tap else None)

    def _run(self, pieces: list[list[int]]) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """The onnxruntime pass over the texts' word pieces, concatenated; each text's (states [T_i, D],
        states after layer `tap` [T_i, D], or None without a tap)."""
        sizes = [len(ids) for ids in pieces]
        ids = [i for one in pieces for i in one]
        positions = np.concatenate([np.arange(n, dtype=np.int64) for n in sizes])
        if len(pieces) == 1:
            bias = np.zeros((len(ids), len(ids)), np.float32)
        else:  # block diagonal: 0 within a text, -inf across texts
            owner = np.repeat(np.arange(len(sizes)), sizes)
            bias = np.where(owner[:, None] == owner[None, :], np.float32(0.0), np.float32(-np.inf))
        outs = self._session.run(None, {"words": self._words[ids], "positions": positions, "bias": bias})
        cuts = np.cumsum(sizes)[:-1]
        states = np.split(outs[0], cuts)
        taps = np.split(outs[1], cuts) if self.tap is not None else [None] * len(states)
        return list(zip(states, taps, strict=True))

    def hidden_states(self, texts: Sequence[str], layer: int) -> list[np.ndarray]:
        """Per-text states after transformer layer `layer` (0 = embeddings .. 6 = last), each (n_tokens, 384):
        what a fine-tuned run's trainable top layers read (`Encoder.hidden_states` on the training side)."""
        if not 0 <= int(layer) <= self.n_layers:
            raise DataError(f"MiniLM has layers 0..{self.n_layers}, not {layer}")
        out = []
        for text in texts:
            ids = torch.tensor([self.tokenizer.encode(text).ids], dtype=torch.long)
            out.append(self.forward(ids, torch.ones_like(ids), int(layer))[0].numpy().astype(np.float32))
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)[0]

    def token_states(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self.encode(texts)[1]


def _pool(h: np.ndarray) -> np.ndarray:
    """Mean of the token states [T, D], L2-normalised (sentence-transformers' pooling for this model)."""
    mean = h.mean(0, dtype=np.float32)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
