"""The gate's blind test set (issue 16 item 2) is frozen: written by hand, once, before any tuning.

`tests/data/gate_blind.jsonl` holds free-text requests written without reading the OOD training
templates (`sashimi.data.ood_templates`): in-domain requests in ten registers (terse, polite,
rambling, typo-ridden, third-person, "Hey Siri", question-shaped, automation triggers, web/API,
media/files) and out-of-domain requests in nineteen categories (chat, advice, code and configuration
for other platforms, Home Assistant, creative writing, homework, calculations, translation,
summarising pasted text, general knowledge). Nothing may be fitted on it; it is scored once per gate
change. The hash pins it so that it cannot change silently: editing the file fails this test, and a
new version must be a new, documented file.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

BLIND = Path(__file__).with_name("gate_blind.jsonl")
BLIND_SHA256 = "e9a9c321f619b69fd0ff4f1a31db1664d8afb453a554b5be5083d16583578cf3"


def test_blind_set_is_frozen() -> None:
    assert hashlib.sha256(BLIND.read_bytes()).hexdigest() == BLIND_SHA256


def test_blind_set_shape() -> None:
    rows = [json.loads(line) for line in BLIND.read_text(encoding="utf-8").splitlines()]
    labels = Counter(r["label"] for r in rows)
    assert set(labels) == {"in_domain", "ood"}
    assert labels["in_domain"] >= 300 and labels["ood"] >= 300
    assert all(r["prompt"].strip() and r["category"] for r in rows)
    assert len({r["prompt"] for r in rows}) == len(rows)
    # a category belongs to one side only, so per-category accept rates read unambiguously
    sides: dict[str, set[str]] = {}
    for r in rows:
        sides.setdefault(r["category"], set()).add(r["label"])
    assert all(len(s) == 1 for s in sides.values())
