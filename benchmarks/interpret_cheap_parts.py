"""Parts 1 and 4 of `sashimi interpret` alone: ternary weight patterns and failure localisation.

The same functions `sashimi interpret` calls (`weights.weight_patterns`, `failures.localise`), without
the attribution and the maps, which need a forward and backward pass per dev row. For a machine whose
CPU is taken (this is how RESULTS §10's real-run figures were measured while the ablation matrix ran):

    python benchmarks/interpret_cheap_parts.py RUN_DIR DEV.jsonl PREDS.jsonl ROWS.jsonl OUT.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from sashimi.eval.harness import Scorer, prepare_gold
from sashimi.eval.interpret.failures import localise
from sashimi.eval.interpret.weights import top_actions, weight_patterns
from sashimi.eval.predictions import read_gold, read_predictions
from sashimi.io import read_jsonl, write_json
from sashimi.model.catalogs import model_catalog
from sashimi.model.checkpoint import load_run


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    started = time.process_time()
    torch.set_num_threads(1)
    run, dev, preds, rows, out = argv
    model = load_run(run)
    catalog = model_catalog(model, Path(run))
    weights = weight_patterns(model.decoder, top_actions(model.vocab, model.table, 20))
    gold = {g.row.id: g for g in prepare_gold(read_gold(dev), catalog)}
    predictions = {p.id: p for p in read_predictions(preds)}
    failures = localise(read_jsonl(rows), predictions, gold, Scorer(catalog))
    write_json(out, {"weights": weights, "failures": failures})
    print(f"wrote {out} ({time.process_time() - started:.1f} CPU s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
