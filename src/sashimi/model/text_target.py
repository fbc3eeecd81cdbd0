"""The DSL-text output target (plan 4.1.5): the same decoder, emitting the program as text tokens.

The typed-IR target decodes Tier 1/2 tokens under a grammar mask and lets the value filler write the
literals. This target is the comparison point: the decoder writes the whole canonical DSL text
(`lower_to_text(typed)`, values included) as byte-level BPE tokens, followed by `<EOS>`, with no
grammar mask; the text is then linted, parsed, validated and compiled afterwards, exactly as a text
model would be used.

    TextTokenizer   byte-level BPE (HF `tokenizers`) trained on the training programs' text only,
                    deterministic for the same texts; saved as `tokenizer.json` in the run folder (JSON)
    TextConstraint  the "constraint" `sashimi.model.search` asks for, allowing every text token: only
                    the four specials that are never text (`<PAD> <BOS> <UNK>`) are excluded and `<EOS>`
                    ends the program; a program that reaches `max_len` without `<EOS>` is cut there and
                    reported as truncated (no fallback)

Ids 0..3 of the tokenizer are `<PAD> <BOS> <EOS> <UNK>`, the same as the typed IR's `TokenTable`, so
the decoder, the batches and the search run unchanged; `table()` gives the id -> text list as a
`TokenTable` (what the run folder's `token_table.json` holds for this target).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sashimi.errors import DataError, Location
from sashimi.io import atomic_write_text
from sashimi.model.token_table import BOS_ID, EOS_ID, PAD_ID, TABLE_SPECIALS, UNK_ID, TokenTable

TYPED_IR = "typed_ir"
DSL_TEXT = "dsl_text"
OUTPUT_TARGETS = (TYPED_IR, DSL_TEXT)
TOKENIZER_FILE = "tokenizer.json"


class TextTokenizer:
    """Byte-level BPE over canonical DSL text; every string round-trips (`decode(encode(s)) == s`)."""

    def __init__(self, tokenizer) -> None:
        self.tok = tokenizer
        specials = tuple(tokenizer.id_to_token(i) for i in range(len(TABLE_SPECIALS)))
        if specials != TABLE_SPECIALS:
            raise DataError(f"text tokenizer must start with {TABLE_SPECIALS}, got {specials}")

    @classmethod
    def train(cls, texts: Sequence[str], vocab_size: int) -> TextTokenizer:
        """BPE merges learnt from `texts` (the training programs only). Deterministic: the trainer's
        merge order depends only on pair counts and, for ties, on the pair itself (tested)."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        if vocab_size < 260 + len(TABLE_SPECIALS):
            raise DataError(f"text_vocab_size must be at least 264 (256 bytes + specials), got {vocab_size}")
        tok = Tokenizer(models.BPE(unk_token="<UNK>"))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=int(vocab_size),
            special_tokens=list(TABLE_SPECIALS),  # ids 0..3, in this order
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte: no text is unknown
            show_progress=False,
        )
        tok.train_from_iterator(list(texts), trainer)
        return cls(tok)

    def __len__(self) -> int:
        return int(self.tok.get_vocab_size())

    def encode(self, text: str) -> list[int]:
        return list(self.tok.encode(text).ids)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of `ids`; specials are dropped. Bytes that do not form UTF-8 become U+FFFD (then the
        parser reports the program, nothing is repaired here)."""
        return self.tok.decode([int(i) for i in ids], skip_special_tokens=True)

    def table(self) -> TokenTable:
        return TokenTable(tuple(self.tok.id_to_token(i) for i in range(len(self))))

    def to_str(self) -> str:
        return self.tok.to_str()

    def save(self, run_dir: str | os.PathLike) -> Path:
        path = Path(run_dir) / TOKENIZER_FILE
        atomic_write_text(path, self.tok.to_str(pretty=False))
        return path

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> TextTokenizer:
        from tokenizers import Tokenizer

        path = Path(run_dir) / TOKENIZER_FILE
        try:
            return cls(Tokenizer.from_str(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise DataError("text tokenizer not found", Location(str(path))) from None
        except Exception as err:  # the tokenizers library raises plain Exceptions on a malformed file
            raise DataError(
                f"unreadable text tokenizer: {str(err).splitlines()[0]}", Location(str(path))
            ) from None


class TextConstraint:
    """No grammar: every text token and `<EOS>` allowed at every step. State = (tokens emitted, ended)."""

    def __init__(self, vocab_size: int, max_len: int) -> None:
        self.max_len = int(max_len)
        mask = np.ones(int(vocab_size), dtype=bool)
        mask[[PAD_ID, BOS_ID, UNK_ID]] = False  # not text: padding, the start marker, an unknown byte
        self._mask = mask

    def initial(self) -> tuple[int, bool]:
        return (0, False)

    def allowed(self, state: tuple[int, bool]) -> np.ndarray:
        return self._mask

    def advance(self, state: tuple[int, bool], token: int) -> tuple[int, bool]:
        return (state[0] + 1, token == EOS_ID)

    def is_final(self, state: tuple[int, bool]) -> bool:
        # <EOS>, or the decoder's last position: the program is cut there (reported as truncated)
        return state[1] or state[0] >= self.max_len


def split_eos(token_ids: Sequence[int]) -> tuple[list[int], bool]:
    """(text token ids, ended with <EOS>) of a decoded sequence."""
    ids = list(token_ids)
    if ids and ids[-1] == EOS_ID:
        return ids[:-1], True
    return ids, False


def check_target(name: str) -> str:
    if name not in OUTPUT_TARGETS:
        raise DataError(f"output_target must be one of {OUTPUT_TARGETS}, got {name!r}")
    return name


__all__ = [
    "DSL_TEXT",
    "OUTPUT_TARGETS",
    "TOKENIZER_FILE",
    "TYPED_IR",
    "TextConstraint",
    "TextTokenizer",
    "check_target",
    "split_eos",
]
