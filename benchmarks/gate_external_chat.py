"""Out-of-domain requests written by other people: chatterbot-corpus's English chat as gate data (issue 16).

Issue 16 asks for a gate that learns *what a Shortcut can do* rather than how our templates phrase things,
and every OOD prompt we fit on so far comes from our own templates. chatterbot-corpus (PyPI, BSD licence)
is a small dialogue corpus written by its contributors — greetings, small talk, trivia, coding, tech support,
questions about the bot. Its user turns are chat and questions wanting an answer now: out of domain for a
Shortcut generator, and written by someone who never read our templates.

This script appends them to a labelled OOD set (`sashimi data ood` format): the first turn of every English
conversation (the user's side; later turns alternate with the bot's replies), de-duplicated by lower-cased
text and against the prompts already in the set, label `ood`, category `cb_<file>`, template id `cb/<file>`
— so a template-grouped split or cross-validation holds out whole topics. Nothing is copied into the
repository: the rows are read from the installed package each time.

    pip install -e '.[external-chat]'      # chatterbot-corpus==1.3.3
    python benchmarks/gate_external_chat.py --ood runs/bench/ood17.jsonl --out runs/bench/ood17cb.jsonl
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from importlib import resources
from pathlib import Path

import yaml

from sashimi.io import read_jsonl, write_jsonl


def chatterbot_turns() -> list[tuple[str, str]]:
    """(file stem, first user turn) for every English conversation of the installed chatterbot-corpus."""
    try:
        root = resources.files("chatterbot_corpus") / "data" / "english"
    except ModuleNotFoundError:
        sys.exit("error: chatterbot-corpus is not installed (pip install chatterbot-corpus==1.3.3)")
    turns = []
    for f in sorted(root.iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".yml"):
            continue
        data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for conv in data.get("conversations") or []:
            if conv and isinstance(conv[0], str) and conv[0].strip():
                turns.append((f.name[: -len(".yml")], " ".join(conv[0].split())))
    return turns


def external_rows(known: set[str]) -> list[dict]:
    """The corpus's first turns as OOD rows, de-duplicated (lower-cased) and against `known` prompts."""
    seen, rows = set(known), []
    for stem, text in chatterbot_turns():
        key = text.lower()
        if key in seen:
            continue
        seen.add(key)
        rows.append({"prompt": text, "label": "ood", "category": f"cb_{stem}", "template_id": f"cb/{stem}"})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--ood", type=Path, required=True, help="labelled OOD set to extend (sashimi data ood output)"
    )
    ap.add_argument("--out", type=Path, required=True, help="where to write the extended set (JSONL)")
    args = ap.parse_args(argv)
    base = read_jsonl(args.ood)
    extra = external_rows({r["prompt"].lower() for r in base})
    write_jsonl(args.out, base + extra)
    counts = Counter(r["category"] for r in extra)
    print(f"{len(base)} rows + {len(extra)} chatterbot-corpus turns -> {args.out}")
    for cat, n in sorted(counts.items()):
        print(f"  {cat:22s} {n:5d}")


if __name__ == "__main__":
    main()
