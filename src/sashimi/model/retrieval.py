"""Retrieval index for the decoder's retrieval augmentation (architecture.md §3).

The index holds, for each training program, the MiniLM pooled vector of its prompt and its typed-IR
token ids (Tier 1 + Tier 2 tokens and the Tier 3 slot-kind markers, never a literal value), padded to
`max_len`. A query retrieves its k nearest programs by cosine similarity; during training a row never
retrieves itself nor any row of its own family group (the groups of `sashimi.data.splits`), so the
decoder sees the same situation as on a held-out prompt.

It is a separate file in the run folder (`retrieval.safetensors`): built from the real corpus it holds
its programs row by row, so it must never ship (architecture.md §5); whoever ships a model leaves it out
or builds one from synthetic data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from sashimi.errors import DataError, Location

RETRIEVAL_FILE = "retrieval.safetensors"


@dataclass
class RetrievalIndex:
    embeddings: np.ndarray  # (N, 384) float32, L2-normalised
    tokens: np.ndarray  # (N, R) int32 token ids, 0 = <PAD>
    groups: np.ndarray  # (N,) int64 family-group id of each row (rows of a group never retrieve each other)

    def __len__(self) -> int:
        return len(self.embeddings)

    def neighbours(
        self, queries: np.ndarray, k: int, *, exclude_groups: Sequence[int] | None = None
    ) -> np.ndarray:
        """(B, k) row indices of the nearest programs by cosine (ties: lower index first).

        `exclude_groups[i]` (or -1) removes every row of that group from query i's candidates.
        Fewer than k candidates leave -1 entries.
        """
        sims = queries.astype(np.float32) @ self.embeddings.T  # (B, N)
        if exclude_groups is not None:
            excl = np.asarray(exclude_groups)[:, None]
            sims = np.where((self.groups[None, :] == excl) & (excl >= 0), -np.inf, sims)
        k_eff = min(k, sims.shape[1])
        # stable argsort on the negated similarity: deterministic order for equal scores
        order = np.argsort(-sims, axis=1, kind="stable")[:, :k_eff]
        picked = np.take_along_axis(sims, order, axis=1)
        order = np.where(np.isfinite(picked), order, -1)
        if k_eff < k:
            order = np.pad(order, ((0, 0), (0, k - k_eff)), constant_values=-1)
        return order

    def retrieved_ids(self, rows: np.ndarray, length: int | None = None) -> torch.Tensor:
        """(B, k) row indices (-1 = none) -> (B, k, R) long tensor of their token ids (PAD where none)."""
        r = self.tokens.shape[1] if length is None else min(length, self.tokens.shape[1])
        out = np.zeros((*rows.shape, r), dtype=np.int64)
        valid = rows >= 0
        out[valid] = self.tokens[rows[valid], :r]
        return torch.from_numpy(out)

    def save(self, run_dir: str | os.PathLike) -> Path:
        path = Path(run_dir) / RETRIEVAL_FILE
        tmp = path.with_name(f".{path.name}.tmp")
        save_file(
            {
                "embeddings": np.ascontiguousarray(self.embeddings, dtype=np.float32),
                "tokens": np.ascontiguousarray(self.tokens, dtype=np.int32),
                "groups": np.ascontiguousarray(self.groups, dtype=np.int64),
            },
            str(tmp),
        )
        os.chmod(tmp, 0o644)  # safetensors creates 0600
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> RetrievalIndex:
        path = Path(run_dir) / RETRIEVAL_FILE
        try:
            arrays = load_file(str(path))
            return cls(arrays["embeddings"], arrays["tokens"], arrays["groups"])
        except FileNotFoundError:
            raise DataError("retrieval index not found", Location(str(path))) from None
        except (KeyError, OSError, ValueError) as err:
            raise DataError(f"unreadable retrieval index: {err}", Location(str(path))) from None


def build_index(
    embeddings: np.ndarray, token_ids: Sequence[Sequence[int]], groups: Sequence[int], max_len: int
) -> RetrievalIndex:
    tokens = np.zeros((len(token_ids), max_len), dtype=np.int32)
    for i, ids in enumerate(token_ids):
        ids = list(ids)[:max_len]
        tokens[i, : len(ids)] = ids
    return RetrievalIndex(
        np.asarray(embeddings, dtype=np.float32), tokens, np.asarray(groups, dtype=np.int64)
    )
