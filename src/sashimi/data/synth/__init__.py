"""Synthetic (prompt, program) corpus: the project's embedded default training data.

Public API:
    generate_corpus(n=5000, seed=0) -> {"train"|"dev"|"test"|"test_compositional": [SynthExample]}
    SynthExample(row: CorpusRow, domains, intents, style, control_flow, shape, uses_variables)
    write_corpus(splits, out_dir, seed=…) -> manifest dict (train/dev/test/test_compositional.jsonl,
        metadata.jsonl, manifest.json)
See docs/DATA.md for what the corpus holds and how it is made.
"""

from __future__ import annotations

from sashimi.data.synth.generator import SynthExample, generate_corpus
from sashimi.data.synth.writer import write_corpus

__all__ = ["SynthExample", "generate_corpus", "write_corpus"]
