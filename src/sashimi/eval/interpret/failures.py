"""Part 4 of `sashimi interpret`: each failed dev row attributed to the first stage that fails.

A row of a `sashimi evaluate` rows.jsonl that is not `exact` is attributed, with the prediction that
was scored, to the first of these stages that goes wrong (the pipeline's order):

    gate       the request was refused (the domain gate, or the request checks before it)
    no_program nothing to localise: no prediction, a malformed one, an empty or unparseable program
    skeleton   Tier 1 differs: actions, control flow, variables, handles or conditions
    tier2      Tier 1 right, Tier 2 differs: parameter keys, enum or boolean values
    tier3      Tier 1 and 2 right, Tier 3 differs: literal values, the shortcut's or variables' names

The tier comparison is the harness's own (`fidelity_category` on the typed-IR views of the prediction
and the gold program), so a row the harness called `wrong_parameters` is a Tier 2 row here. A program
that parses but fails validation or compilation is still localised by its tiers (`invalid` counts
those). Examples are listed by id only: the real corpus must not be quoted.
"""

from __future__ import annotations

from collections import Counter

from sashimi.errors import DataError, Location
from sashimi.eval.fidelity import fidelity_category

STAGES = ("gate", "no_program", "skeleton", "tier2", "tier3")
_CATEGORY_STAGE = {
    "wrong_skeleton": "skeleton",
    "wrong_structure": "skeleton",
    "wrong_parameters": "tier2",
    "wrong_values": "tier3",
}


def localise_row(row: dict, prediction, gold, scorer) -> tuple[str | None, bool]:
    """(stage or None for an exact row, whether the program was invalid) of one scored row."""
    if row.get("category") == "exact":
        return None, False
    if prediction is None or prediction.problem is not None:
        return "no_program", False
    if not prediction.accepted or row.get("category") == "refused":
        return "gate", False
    validity, view = scorer.program(prediction.dsl)
    if view is None:
        return "no_program", validity.category is not None
    category = fidelity_category(view, gold.view)
    if category == "exact":  # same program text, but it failed validity (e.g. an unknown action)
        return "skeleton", True
    return _CATEGORY_STAGE[category], validity.category is not None


def localise(rows: list[dict], predictions: dict, gold: dict, scorer, *, examples: int = 3) -> dict:
    """Counts, shares (of the failed rows) and `examples` ids per stage; rows / gold keyed by id."""
    counts: Counter[str] = Counter()
    invalid: Counter[str] = Counter()
    ids: dict[str, list[str]] = {s: [] for s in STAGES}
    n_exact = 0
    for i, row in enumerate(rows, start=1):
        rid = row.get("id")
        if rid not in gold:
            raise DataError(f"row id {rid!r} is not in the dev file", Location("<rows>", i))
        stage, bad = localise_row(row, predictions.get(rid), gold[rid], scorer)
        if stage is None:
            n_exact += 1
            continue
        counts[stage] += 1
        invalid[stage] += bad
        ids[stage].append(rid)
    failed = sum(counts.values())
    return {
        "rows": len(rows),
        "exact": n_exact,
        "failed": failed,
        "stages": {
            s: {
                "count": counts[s],
                "share": counts[s] / failed if failed else None,
                "invalid_programs": invalid[s],
                "examples": sorted(ids[s])[:examples],
            }
            for s in STAGES
        },
    }
