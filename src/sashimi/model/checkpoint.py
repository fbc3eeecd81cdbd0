"""The run folder a training writes and `load_run` reads back (no pickle anywhere).

RUN_DIR/
  config.json            {"decoder": DecoderConfig, "train": the resolved training config}
  model.safetensors      decoder weights (the selected checkpoint: best on dev, or last), incl. the
                         trainable prompt encoder's (`prompt_encoder.*`) when config `encoder` is not frozen
  token_table.json       the output vocabulary (TokenTable)
  vocab/                 Tier 1 / Tier 2 vocabularies (sashimi.ir.vocab.save_vocab)
  filler/                the fitted ValueFiller (when one was fitted)
  tokenizer.json         the byte-level BPE of a dsl_text run (model.output_target: dsl_text) only
  retrieval.safetensors  retrieval index (only with retrieval_k > 0; built from training rows: never ship it)
  meta.json              git commit, wall time, parameter counts, ternary shares, final metrics, catalog
  metrics.jsonl          one line per logged step / evaluation
  ckpt/                  resumable training state (state.safetensors + state.json)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from sashimi.errors import DataError, Location
from sashimi.io import read_json, write_json
from sashimi.ir.vocab import Vocab, load_vocab, save_vocab
from sashimi.model.chooser import Chooser, load_chooser
from sashimi.model.decoder import DecoderConfig, Memory, SashimiDecoder, pad_token_states
from sashimi.model.filler import ValueFiller
from sashimi.model.prompt_encoder import pad_encoder_inputs
from sashimi.model.retrieval import RETRIEVAL_FILE, RetrievalIndex
from sashimi.model.text_target import DSL_TEXT, TextTokenizer
from sashimi.model.token_table import TokenTable

CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
TABLE_FILE = "token_table.json"
VOCAB_DIR = "vocab"
FILLER_DIR = "filler"
META_FILE = "meta.json"


@dataclass
class LoadedModel:
    decoder: SashimiDecoder  # eval mode
    table: TokenTable
    vocab: Vocab
    filler: ValueFiller | None  # None when the run has none (train.fit_filler: false)
    retrieval: RetrievalIndex | None
    meta: dict
    config: dict = field(default_factory=dict)  # {"decoder": ..., "train": ...}
    text: TextTokenizer | None = None  # the BPE of a dsl_text run (None for the typed IR target)
    chooser: Chooser | None = None  # the neighbour chooser (chooser/), when the run has one
    encoder_precision: str = "float32"  # the MiniLM graph to run it with (packed.json; a run: float32)

    @torch.no_grad()
    def memory(
        self,
        pooled: np.ndarray,
        token_states: Sequence[np.ndarray],
        enc_inputs: Sequence[np.ndarray] | None = None,
    ) -> Memory:
        """The decoder memory for prompts already encoded by MiniLM (`Encoder.embed` / `token_states`).

        A model with a trainable prompt encoder (config `encoder` finetune | scratch) also needs what that
        encoder reads (`prompt_encoder.prompt_inputs`); the frozen `pooled` still picks the retrieval
        neighbours (the index was built on it)."""
        cfg = self.decoder.cfg
        pooled_t = torch.from_numpy(np.asarray(pooled, dtype=np.float32))
        states, mask = pad_token_states(token_states, cfg.max_enc_tokens)
        padded = pad_encoder_inputs(enc_inputs) if enc_inputs is not None else None
        pooled_t, states, mask = self.decoder.read_prompt(pooled_t, states, mask, padded)
        retrieved = None
        if cfg.retrieval_k > 0:
            if self.retrieval is None:
                raise DataError("this model needs a retrieval index (retrieval.safetensors) and has none")
            rows = self.retrieval.neighbours(np.asarray(pooled, dtype=np.float32), cfg.retrieval_k)
            retrieved = self.retrieval.retrieved_ids(rows, cfg.retrieval_len)
        return self.decoder.encode(pooled_t, states, mask, retrieved)


def save_state_dict(path: str | os.PathLike, state: dict[str, torch.Tensor]) -> Path:
    """Atomic safetensors write (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(tmp))
    os.chmod(tmp, 0o644)  # safetensors creates 0600; a run folder is shared like any other artifact
    os.replace(tmp, path)
    return path


def save_model_files(
    run_dir: str | os.PathLike,
    model: SashimiDecoder,
    table: TokenTable,
    vocab: Vocab,
    train_config: dict,
    state: dict[str, torch.Tensor] | None = None,
) -> None:
    """config.json, model.safetensors, token_table.json and vocab/ (the parts every run has)."""
    run = Path(run_dir)
    write_json(run / CONFIG_FILE, {"decoder": model.cfg.to_json(), "train": train_config})
    save_state_dict(run / MODEL_FILE, state if state is not None else model.state_dict())
    write_json(run / TABLE_FILE, table.to_json())
    save_vocab(vocab, run / VOCAB_DIR)


def load_run(run_dir: str | os.PathLike) -> LoadedModel:
    """Everything a finished (or checkpointed) run needs for inference; the decoder in eval mode."""
    run = Path(run_dir)
    if not run.is_dir():
        raise DataError("run folder not found", Location(str(run)))
    config = read_json(run / CONFIG_FILE)
    if not isinstance(config, dict) or not isinstance(config.get("decoder"), dict):
        raise DataError("config.json needs a 'decoder' object", Location(str(run / CONFIG_FILE)))
    cfg = DecoderConfig.from_json(config["decoder"])
    model = SashimiDecoder(cfg)
    model_path = run / MODEL_FILE
    try:
        state = load_file(str(model_path))
    except FileNotFoundError:
        raise DataError("model weights not found", Location(str(model_path))) from None
    except (OSError, ValueError) as err:
        raise DataError(f"unreadable model weights: {err}", Location(str(model_path))) from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise DataError(
            f"weights do not fit the config (missing {missing[:3]}, unexpected {unexpected[:3]})",
            Location(str(model_path)),
        )
    model.eval()
    table = TokenTable.from_json(read_json(run / TABLE_FILE), location=Location(str(run / TABLE_FILE)))
    if len(table) != cfg.vocab_size:
        raise DataError(
            f"token table has {len(table)} tokens, the model {cfg.vocab_size}", Location(str(run))
        )
    vocab = load_vocab(run / VOCAB_DIR)
    filler = None
    if (run / FILLER_DIR).is_dir():
        filler = ValueFiller.load(run / FILLER_DIR)
    retrieval = RetrievalIndex.load(run) if (run / RETRIEVAL_FILE).is_file() else None
    meta_path = run / META_FILE
    meta = read_json(meta_path) if meta_path.is_file() else {}
    text = None
    if cfg.output_target == DSL_TEXT:
        text = TextTokenizer.load(run)
        if len(text) != cfg.vocab_size:
            raise DataError(
                f"text tokenizer has {len(text)} tokens, the model {cfg.vocab_size}", Location(str(run))
            )
    chooser = load_chooser(run, table.tokens) if text is None else None
    return LoadedModel(model, table, vocab, filler, retrieval, meta, config, text, chooser)
