"""Oracle Tier 3 vs predicted: how well the filler restores the literals of GOLD Tier 1+2 sequences.

Given a gold program, the filler sees only the request and the gold token texts (slot tokens included,
literals hidden) and fills every slot and variable name. Reported:
  slot_accuracy          share of slots whose literal equals the gold one (by kind/role/role|kind too)
  var_name_accuracy      share of `$VAR_k` names equal to gold's
  canonical_exact        share of programs whose lowered, printed text equals gold's canonical print
  canonical_exact_values the same with gold variable names (isolates the slot literals)
  validity               parse / validate strict / compile strict of the filled programs, next to the
                         same rates of the gold programs (a gold program the catalog rejects cannot be
                         made valid by its literals)
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from sashimi.dsl.corpus import load_corpus
from sashimi.dsl.parser import parse
from sashimi.dsl.pipeline import run_pipeline
from sashimi.errors import SashimiError
from sashimi.io import progress as progress_bar
from sashimi.ir.lowering import lower_to_text
from sashimi.ir.typed import TypedProgram, to_typed
from sashimi.model.filler.core import ValueFiller
from sashimi.model.filler.values import value_key


def load_examples(path: str | os.PathLike, catalog) -> tuple[list[tuple[str, TypedProgram]], list[dict]]:
    """(prompt, typed program) pairs of a corpus JSONL; rows whose program does not parse are skipped
    and returned as failures (the corpus check reports them; the filler cannot learn from them)."""
    pairs: list[tuple[str, TypedProgram]] = []
    failures: list[dict] = []
    for row in load_corpus(path):
        try:
            pairs.append(
                (row.prompt, to_typed(parse(row.program, file=f"{path}#{row.shortcut_id}"), catalog))
            )
        except SashimiError as err:
            failures.append({"shortcut_id": row.shortcut_id, "reason": str(err)})
    return pairs, failures


def _validity(text: str, catalog) -> dict[str, bool]:
    result = run_pipeline(text, catalog, do_lint=False)
    return {"parse": result.parsed, "strict": result.strict_valid, "compile_strict": result.compiled_strict}


def measure(
    filler: ValueFiller,
    examples: list[tuple[str, TypedProgram]],
    catalog,
    *,
    progress: bool | None = None,
) -> dict[str, Any]:
    started = time.time()
    slot_hits: Counter = Counter()
    slot_counts: Counter = Counter()
    var_hits = var_total = exact = exact_values = 0
    gold_valid: Counter = Counter()
    pred_valid: Counter = Counter()
    pred_valid_given_gold = 0
    problems: list[dict] = []
    for prompt, gold in progress_bar(examples, desc="filler", enabled=progress):
        tokens = [t.text for t in gold.tokens]
        slots, names = filler.fill(prompt, tokens)
        for pred_slot, gold_slot in zip(slots, gold.slots, strict=True):
            hit = value_key(pred_slot.kind, pred_slot.value) == value_key(gold_slot.kind, gold_slot.value)
            for group in ("all", f"kind:{gold_slot.kind}", f"role:{gold_slot.role}",
                          f"role_kind:{gold_slot.role}|{gold_slot.kind}"):  # fmt: skip
                slot_counts[group] += 1
                slot_hits[group] += hit
        var_total += len(gold.var_names)
        var_hits += sum(a == b for a, b in zip(names, gold.var_names, strict=False))
        gold_text = lower_to_text(gold)
        try:
            text = lower_to_text(replace(gold, slots=slots, var_names=names))
            values_text = lower_to_text(replace(gold, slots=slots))
        except SashimiError as err:  # a filler bug: counted as invalid, never hidden
            problems.append({"prompt": prompt[:80], "stage": "print", "error": str(err)})
            continue
        exact += text == gold_text
        exact_values += values_text == gold_text
        g = _validity(gold_text, catalog)
        p = _validity(text, catalog)
        for k in g:
            gold_valid[k] += g[k]
            pred_valid[k] += p[k]
        if g["compile_strict"]:
            pred_valid_given_gold += p["compile_strict"]
            if not p["compile_strict"] and len(problems) < 20:
                problems.append({"prompt": prompt[:80], "stage": "validity", "program": text[:400]})
    n = len(examples)
    n_gold_ok = gold_valid["compile_strict"]
    return {
        "n_programs": n,
        "n_slots": slot_counts["all"],
        "slot_accuracy": _share(slot_hits["all"], slot_counts["all"]),
        "slot_accuracy_by": {
            g: {"accuracy": _share(slot_hits[g], c), "n": c}
            for g, c in sorted(slot_counts.items())
            if g != "all"
        },
        "var_name_accuracy": _share(var_hits, var_total),
        "n_vars": var_total,
        "canonical_exact": _share(exact, n),
        "canonical_exact_values": _share(exact_values, n),
        "validity": {
            "filled": {k: _share(v, n) for k, v in pred_valid.items()},
            "gold": {k: _share(v, n) for k, v in gold_valid.items()},
            "filled_compile_strict_where_gold_does": _share(pred_valid_given_gold, n_gold_ok),
        },
        "problems": problems,
        "seconds": round(time.time() - started, 2),
    }


def _share(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def run_filler_experiment(
    train: str | os.PathLike,
    data: list[str | os.PathLike],
    *,
    catalog_dir: str | os.PathLike | None = None,
    seed: int = 0,
    value_source: str = "synthetic",
    save_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Fit on `train`, measure on each file of `data` (gold Tier 1+2 given)."""
    from sashimi.dsl.catalog import Catalog

    catalog = Catalog.load(catalog_dir)
    pairs, train_failures = load_examples(train, catalog)
    filler = ValueFiller.fit(pairs, seed=seed, value_source=value_source, catalog=catalog)
    if save_dir is not None:
        filler.save(save_dir)
    results = {}
    for path in data:
        examples, failures = load_examples(path, catalog)
        results[str(path)] = measure(filler, examples, catalog, progress=progress)
        results[str(path)]["skipped_unparseable"] = len(failures)
    return {
        "train": str(train),
        "catalog": str(catalog_dir) if catalog_dir else "core",
        "seed": seed,
        "value_source": value_source,
        "fit": filler.meta,
        "train_skipped_unparseable": len(train_failures),
        "results": results,
    }


__all__ = ["load_examples", "measure", "run_filler_experiment"]
