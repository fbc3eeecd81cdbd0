"""Sequence lengths of the DSL-text target vs the typed IR (plan 4.1.5: how long is a program as text?).

    python benchmarks/text_lengths.py --data /work/runs/split/train.jsonl [/work/runs/synth/train.jsonl] \
        --catalog-dir ../shared/data/shortcutforge [--vocab 512 1024 2048 4096] [--max-len 512 1024]

For each program: typed IR tokens (what the typed decoder emits, Tier 3 as slot markers), characters of
its canonical text (`lower_to_text`), and byte-level BPE tokens + <EOS> for BPEs of each vocabulary
size trained on these same texts (as `sashimi train` does on its training rows); then, per max_len,
how many programs would be truncated. Prints JSON; nothing row by row.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def _stats(a: np.ndarray, caps: list[int]) -> dict:
    out = {
        "mean": round(float(a.mean()), 1),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "p99": float(np.percentile(a, 99)),
        "max": int(a.max()),
    }
    out.update({f"over_{c}": int((a > c).sum()) for c in caps})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, nargs="+", required=True)
    ap.add_argument("--catalog-dir", type=Path, default=None)
    ap.add_argument("--vocab", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    ap.add_argument("--max-len", type=int, nargs="+", default=[256, 512, 1024])
    args = ap.parse_args()
    from sashimi.dsl.catalog import Catalog
    from sashimi.dsl.corpus import load_corpus
    from sashimi.ir.typed import to_typed
    from sashimi.model.text_target import TextTokenizer
    from sashimi.train.data import parse_rows, program_text

    catalog = Catalog.load(args.catalog_dir)
    parsed, failed = parse_rows([r for p in args.data for r in load_corpus(p)])
    typed = [to_typed(ir, catalog) for _, ir in parsed]
    texts = [program_text(t) for t in typed]
    result = {
        "programs": len(texts),
        "unparseable": len(failed),
        "typed_ir_tokens": _stats(np.array([len(t.tokens) for t in typed]), args.max_len),
        "characters": _stats(np.array([len(t) for t in texts]), args.max_len),
        "bpe": {},
    }
    for v in args.vocab:
        tok = TextTokenizer.train(texts, v)
        lengths = np.array([len(tok.encode(t)) + 1 for t in texts])
        result["bpe"][str(v)] = _stats(lengths, args.max_len)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
