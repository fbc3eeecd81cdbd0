"""How examples are assigned to splits, and which intent combinations are held out.

test_compositional must contain only intent combinations never seen in the other splits. The unit
is the intent *pair*: every unordered pair of template ids in an example (control templates such as
`cond.*` included) is hashed with the seed, and a fixed share of pairs is held out. An example with
any held-out pair belongs to test_compositional; all others are shuffled into train/dev/test.
Hashing (not sampling) makes the held-out set a pure function of the seed and the template ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

SPLIT_FRACTIONS = {"train": 0.8, "dev": 0.1, "test": 0.1}
COMPOSITIONAL_FRACTION = 0.1
HOLDOUT_RATE = 0.08  # share of intent pairs reserved for test_compositional


def intent_pairs(intents: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    uniq = sorted(set(intents))
    for i, a in enumerate(uniq):
        for b in uniq[i + 1 :]:
            yield a, b


def is_heldout(pair: tuple[str, str], seed: int) -> bool:
    """Deterministic hash split of intent pairs; held-out pairs only appear in test_compositional."""
    digest = hashlib.sha256(f"synth-holdout|{seed}|{pair[0]}|{pair[1]}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < HOLDOUT_RATE


def split_sizes(n: int) -> dict[str, int]:
    comp = round(n * COMPOSITIONAL_FRACTION)
    rest = n - comp
    dev = round(rest * SPLIT_FRACTIONS["dev"])
    test = round(rest * SPLIT_FRACTIONS["test"])
    return {"train": rest - dev - test, "dev": dev, "test": test, "test_compositional": comp}
