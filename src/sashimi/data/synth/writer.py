"""Writing a generated corpus: one JSONL per split, a metadata JSONL and a manifest with counts.

All files are written atomically (sashimi.io) and contain nothing time- or machine-dependent, so the
same seed gives byte-identical files.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from sashimi.data.synth.generator import GENERATOR_VERSION, SynthExample
from sashimi.data.synth.splits import COMPOSITIONAL_FRACTION, HOLDOUT_RATE
from sashimi.dsl.corpus import save_corpus
from sashimi.errors import DataError, Location
from sashimi.io import write_json, write_jsonl

SPLITS = ("train", "dev", "test", "test_compositional")


def _sorted(counter: Counter) -> dict[str, int]:
    return dict(sorted(counter.items()))


def summarise(splits: dict[str, list[SynthExample]]) -> dict:
    """Counts per split / domain / template / shape / style / control-flow kind."""
    out: dict = {"splits": {}, "total": sum(len(v) for v in splits.values())}
    all_examples = [e for name in SPLITS for e in splits[name]]
    for name in SPLITS:
        ex = splits[name]
        out["splits"][name] = {
            "count": len(ex),
            "control_flow_share": round(sum(bool(e.control_flow) for e in ex) / max(len(ex), 1), 4),
            "variables_share": round(sum(e.uses_variables for e in ex) / max(len(ex), 1), 4),
            "domains": _sorted(Counter(d for e in ex for d in e.domains)),
            "shapes": _sorted(Counter(e.shape for e in ex)),
            "intent_count": _sorted(Counter(str(len(e.intents)) for e in ex)),
        }
    out["control_flow_share"] = round(
        sum(bool(e.control_flow) for e in all_examples) / max(len(all_examples), 1), 4
    )
    out["control_flow_kinds"] = _sorted(Counter(k for e in all_examples for k in e.control_flow))
    out["styles"] = _sorted(Counter(e.style for e in all_examples))
    out["templates"] = {
        name: _sorted(Counter(i for e in splits[name] for i in set(e.intents))) for name in SPLITS
    }
    out["distinct_templates_used"] = len({i for e in all_examples for i in e.intents})
    return out


def write_corpus(
    splits: dict[str, list[SynthExample]], out_dir: str | os.PathLike, *, seed: int, n: int
) -> dict:
    """Write `<split>.jsonl`, `metadata.jsonl` and `manifest.json` into `out_dir`; return the manifest."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # e.g. the path is an existing file
        raise DataError(f"cannot create output directory: {err.strerror}", Location(str(out))) from None
    for name in SPLITS:
        save_corpus(out / f"{name}.jsonl", [e.row for e in splits[name]])
    write_jsonl(out / "metadata.jsonl", (e.metadata(name) for name in SPLITS for e in splits[name]))
    manifest = {
        "generator": "sashimi.data.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "n": n,
        "compositional_fraction": COMPOSITIONAL_FRACTION,
        "holdout_pair_rate": HOLDOUT_RATE,
        "files": [f"{name}.jsonl" for name in SPLITS] + ["metadata.jsonl"],
        **summarise(splits),
    }
    write_json(out / "manifest.json", manifest)
    return manifest
