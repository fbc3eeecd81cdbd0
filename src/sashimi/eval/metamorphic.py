"""Metamorphic test of the domain gate (issue 16 item 3): meaning-preserving rewrites must not flip it.

For every prompt of a labelled file, eight rewrites that do not change what is asked:

- `please`: ", please" before the final punctuation;
- `for_me`: " for me" before the final punctuation;
- `right_now`: " right now" before the final punctuation;
- `hey_siri`: "Hey Siri, " in front (first word de-capitalised);
- `can_you`: "Can you <request>?" for a verb-initial request, else "Can you help with this? <request>";
- `lower`: all lower case;
- `typo`: two adjacent letters swapped in one word of 5+ letters (seeded; unchanged if none);
- `punct`: the final punctuation removed, or "." added when there is none.

A flip is a rewrite whose accept/refuse decision differs from the original's, with the full decision of
`sashimi gate` (meaningless-input rule included). The result gives, per kind, the share of prompts whose
decision flips (overall and per label) and a few examples. Bar (issue 16): <= 1 % for every kind.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from sashimi.data.ood import decap, one_typo, prompt_mode, split_final_punct

FLIP_BAR = 0.01


def _before_punct(suffix: str) -> Callable[[str, random.Random], str]:
    def rewrite(text: str, _rng: random.Random) -> str:
        body, punct = split_final_punct(text)
        return f"{body}{suffix}{punct}"

    return rewrite


def _hey_siri(text: str, _rng: random.Random) -> str:
    return f"Hey Siri, {decap(text.strip())}"


def _can_you(text: str, _rng: random.Random) -> str:
    text = text.strip()
    if prompt_mode(text) == "imperative":
        body, _ = split_final_punct(text)
        return f"Can you {decap(body)}?"
    return f"Can you help with this? {text}"


def _punct(text: str, _rng: random.Random) -> str:
    text = text.rstrip()
    body, _ = split_final_punct(text)
    return body if body != text else f"{text}."


REWRITES: dict[str, Callable[[str, random.Random], str]] = {
    "please": _before_punct(", please"),
    "for_me": _before_punct(" for me"),
    "right_now": _before_punct(" right now"),
    "hey_siri": _hey_siri,
    "can_you": _can_you,
    "lower": lambda text, _rng: text.lower(),
    "typo": lambda text, rng: one_typo(text, rng),
    "punct": _punct,
}


def rewrite_all(texts: Sequence[str], seed: int = 0) -> dict[str, list[str]]:
    """{kind: [rewrite of each text]}; the typo positions come from `seed`."""
    out = {}
    for kind, fn in REWRITES.items():
        rng = random.Random(f"metamorphic:{seed}:{kind}")
        out[kind] = [fn(t, rng) for t in texts]
    return out


def flip_rates(gate, rows: Sequence[dict], *, seed: int = 0, n_examples: int = 3) -> dict:
    """Decide each prompt of `rows` ({prompt, label}) and its eight rewrites with `gate`; flip shares."""
    texts = [r["prompt"] for r in rows]
    labels = [r["label"] for r in rows]
    rewrites = rewrite_all(texts, seed)
    everything = texts + [t for kind in REWRITES for t in rewrites[kind]]
    decisions = gate.decide(everything)  # one call: the encoder batches (and caches) all of them
    base = [d.accept for d in decisions[: len(texts)]]
    per_kind = {}
    for k, kind in enumerate(REWRITES):
        chunk = decisions[(k + 1) * len(texts) : (k + 2) * len(texts)]
        flips = [i for i, d in enumerate(chunk) if d.accept != base[i]]
        changed = sum(1 for a, b in zip(texts, rewrites[kind], strict=True) if a != b)
        by_label = {}
        for label in sorted(set(labels)):
            idx = [i for i, lab in enumerate(labels) if lab == label]
            by_label[label] = round(sum(1 for i in flips if labels[i] == label) / len(idx), 4)
        per_kind[kind] = {
            "flip_rate": round(len(flips) / len(texts), 4),
            "flips": len(flips),
            "rewritten": changed,
            "flip_rate_by_label": by_label,
            "meets_bar": len(flips) / len(texts) <= FLIP_BAR,
            "examples": [
                {
                    "prompt": texts[i],
                    "rewrite": rewrites[kind][i],
                    "label": labels[i],
                    "accept_before": base[i],
                }
                for i in flips[:n_examples]
            ],
        }
    worst = max(per_kind, key=lambda k: per_kind[k]["flip_rate"])
    return {
        "n": len(texts),
        "kinds": list(REWRITES),
        "bar": FLIP_BAR,
        "per_kind": per_kind,
        "worst_kind": worst,
        "max_flip_rate": per_kind[worst]["flip_rate"],
        "all_kinds_meet_bar": all(v["meets_bar"] for v in per_kind.values()),
    }
