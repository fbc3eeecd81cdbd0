"""Does correcting the request's spelling keep typos from flipping the gate? (issue 16; RESULTS §9)

Scores one gate twice — the request as the gate reads it today, and with `Gate.spelling` on (misspelt
words corrected before the encoder, `sashimi.model.spelling`) — on data that is not the blind set:

- the held-out templates of a labelled OOD set (the same 80/20 template split as `sashimi exp gate`,
  seed 0 by default: the shipped gate never saw them): false-accept / false-reject rates and the
  metamorphic flips of every rewrite kind (`sashimi.eval.metamorphic`), plus a second typo model the
  metamorphic test does not use (one letter of a 5+-letter word deleted, replaced or inserted), so that
  a gain is not one that only undoes swapped letters;
- real requests (`--real-dev`, ShortcutForge chat JSONL): how many are refused, how many are read
  differently.

For each: how many clean texts the correction changes (each change on a clean text is a word it did not
know, right or wrong). Nothing is fitted here.

    python benchmarks/gate_spelling.py --ood runs/bench/ood17.jsonl --real-dev runs/bench/split/dev.jsonl \
        [--gate DIR] [--seed 0] [--out runs/bench/gate_spelling.json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from sashimi.errors import SashimiError
from sashimi.io import write_json

_LONG_WORD = re.compile(r"\b[A-Za-z]{5,}\b")


def other_typo(text: str, rng: random.Random) -> str:
    """One letter of one 5+-letter word deleted, replaced or inserted (not the first or last letter)."""
    words = list(_LONG_WORD.finditer(text))
    if not words:
        return text
    m = words[rng.randrange(len(words))]
    w, i = m.group(), rng.randrange(1, len(m.group()) - 1)
    op = rng.choice(("delete", "replace", "insert"))
    letter = rng.choice([c for c in string.ascii_lowercase if c != w[i].lower()])
    new = {"delete": w[:i] + w[i + 1 :], "replace": w[:i] + letter + w[i + 1 :], "insert": w[:i] + letter + w[i:]}[op]
    return text[: m.start()] + new + text[m.end() :]


def heldout_rows(path: Path, seed: int, test_size: float = 0.2) -> list[dict]:
    """The held-out template part of `sashimi exp gate`'s split of `path` (same splitter, same seed)."""
    from sashimi.eval.gate_exp import load_labelled, template_split

    rows = load_labelled(path, need_template=True)
    _, test_idx = template_split(np.array([r["template_id"] for r in rows]), seed, test_size)
    return [rows[i] for i in test_idx]


def score(gate, rows: list[dict], seed: int) -> dict:
    from sashimi.eval.metamorphic import flip_rates

    texts = [r["prompt"] for r in rows]
    is_ood = np.array([r["label"] == "ood" for r in rows])
    accept = np.array([d.accept for d in gate.decide(texts)])
    rng = random.Random(f"other-typo:{seed}")
    other = [other_typo(t, rng) for t in texts]
    accept_other = np.array([d.accept for d in gate.decide(other)])
    flips = flip_rates(gate, rows, seed=seed, n_examples=0)
    per_kind = {k: v["flip_rate"] for k, v in flips["per_kind"].items()}
    per_kind["other_typo"] = round(float((accept_other != accept).mean()), 4)
    return {
        "n": len(rows),
        "false_accept_rate": round(float(accept[is_ood].mean()), 4) if is_ood.any() else None,
        "false_reject_rate": round(float((~accept[~is_ood]).mean()), 4) if (~is_ood).any() else None,
        "flip_rate": per_kind,
        "flips": {k: v["flips"] for k, v in flips["per_kind"].items()}
        | {"other_typo": int((accept_other != accept).sum())},
        "clean_texts_changed": sum(1 for t in texts if gate.read_request(t)[1]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ood", type=Path, required=True, help="labelled OOD set the gate was fitted on (ood17)")
    ap.add_argument("--real-dev", type=Path, default=None)
    ap.add_argument("--gate", type=Path, default=None, help="gate folder (default: the shipped one)")
    ap.add_argument("--seed", type=int, default=0, help="split seed (as exp gate's) and typo seed")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        from sashimi.dsl.corpus import load_corpus
        from sashimi.model.gate import load_gate

        started = time.time()
        gate = load_gate(args.gate)
        rows = heldout_rows(args.ood, args.seed)
        dev = [r.prompt for r in load_corpus(args.real_dev)] if args.real_dev else []
        result = {"ood": str(args.ood), "seed": args.seed, "gate": str(args.gate or "shipped")}
        for name, g in (("as_written", replace(gate, spelling=False)), ("spelling", replace(gate, spelling=True))):
            part = {"heldout": score(g, rows, args.seed)}
            if dev:
                accept = np.array([d.accept for d in g.decide(dev)])
                part["real_dev"] = {
                    "n": len(dev),
                    "false_reject_rate": round(float((~accept).mean()), 4),
                    "texts_changed": sum(1 for t in dev if g.read_request(t)[1]),
                }
            result[name] = part
            print(name, json.dumps(part), file=sys.stderr)
        # what the correction changed in clean held-out texts, from our own templates only (the real
        # corpus's words stay out of reports: the data rule)
        result["corrections_own_heldout"] = sorted(
            {
                f"{c.word} -> {c.corrected}"
                for r in rows
                if not r["template_id"].startswith("real/")
                for c in replace(gate, spelling=True).read_request(r["prompt"])[1]
            }
        )
        result["wall_s"] = round(time.time() - started, 1)
    except SashimiError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.out:
        write_json(args.out, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
