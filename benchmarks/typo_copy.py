"""A copy of a corpus file with one typo in every request (RESULTS §9: does a typo change the program?).

The metamorphic test's typo (`sashimi.data.ood.one_typo`: two adjacent letters of one 5+-letter word
swapped, seeded), applied to the user message of ShortcutForge chat rows or to `prompt` of `{id, prompt}`
rows; everything else is copied as is. Write the copy outside the repository when the input is the
external corpus (the data rule).

    python benchmarks/typo_copy.py --data runs/bench/split/dev.jsonl --out runs/bench/typo_dev/dev.jsonl [--seed 0]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from sashimi.data.ood import one_typo
from sashimi.io import read_jsonl, write_jsonl


def with_typo(row: dict, rng: random.Random) -> dict:
    row = dict(row)
    if "messages" in row:
        row["messages"] = [
            {**m, "content": one_typo(m["content"], rng)} if m.get("role") == "user" else m for m in row["messages"]
        ]
    else:
        row["prompt"] = one_typo(row["prompt"], rng)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = random.Random(f"typo-copy:{args.seed}")
    rows = [with_typo(r, rng) for r in read_jsonl(args.data)]
    write_jsonl(args.out, rows)
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
