"""The decoder's output vocabulary: one id per typed-IR token text (Tier 1, Tier 2 and slot kinds).

Written to the shared interface (`TokenTable`, `build_token_table`) so training does not wait for the
constraint module; `sashimi.model.constraints` (the decoding mask) owns the same names. Ids 0..3 are the
specials `<PAD> <BOS> <EOS> <UNK>`; then the Tier 1 vocabulary in its own order, the sorted union of all
Tier 2 tokens, and the Tier 3 slot-kind tokens. Deterministic for a given `Vocab`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sashimi.errors import DataError, Location
from sashimi.ir.typed import SLOT_TOKENS, SPECIAL_TOKENS
from sashimi.ir.vocab import Vocab

TABLE_SPECIALS = ("<PAD>", "<BOS>", "<EOS>", "<UNK>")
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


@dataclass(frozen=True)
class TokenTable:
    tokens: tuple[str, ...]  # id -> text
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.tokens[: len(TABLE_SPECIALS)] != TABLE_SPECIALS:
            raise DataError(f"token table must start with {TABLE_SPECIALS}")
        index = {t: i for i, t in enumerate(self.tokens)}
        if len(index) != len(self.tokens):
            raise DataError("token table holds a duplicate token")
        self._index.update(index)

    def id(self, text: str) -> int:
        """The id of `text`, or `<UNK>`'s id for a token the table does not know."""
        return self._index.get(text, UNK_ID)

    def __contains__(self, text: object) -> bool:
        return text in self._index

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, texts: list[str] | tuple[str, ...]) -> list[int]:
        return [self.id(t) for t in texts]

    def to_json(self) -> dict:
        return {"format_version": 1, "tokens": list(self.tokens)}

    @classmethod
    def from_json(cls, obj: Any, *, location: Location | None = None) -> TokenTable:
        if not isinstance(obj, dict) or not isinstance(obj.get("tokens"), list):
            raise DataError("token table must be an object with a 'tokens' list", location)
        if not all(isinstance(t, str) for t in obj["tokens"]):
            raise DataError("token table entries must be strings", location)
        return cls(tuple(obj["tokens"]))


def build_token_table(vocab: Vocab) -> TokenTable:
    """Specials + vocab.tier1 + sorted union of all Tier 2 tokens + SLOT_TOKENS (duplicates dropped)."""
    out: list[str] = list(TABLE_SPECIALS)
    seen = set(out) | set(SPECIAL_TOKENS)  # the typed IR's other specials (<SEP_TIER>) are never emitted
    tier2: set[str] = set()
    for action in vocab.tier2.values():
        tier2.update(action.tokens())
    for tok in (*vocab.tier1, *sorted(tier2), *SLOT_TOKENS):
        if tok not in seen:
            seen.add(tok)
            out.append(tok)
    return TokenTable(tuple(out))
