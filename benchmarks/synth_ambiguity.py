"""Are the synthetic corpus's program structures determined by what its generator chose? (RESULTS §7.9)

    python benchmarks/synth_ambiguity.py --synth runs/synth [--splits train test test_compositional]

Groups each split's rows by the generator's record in metadata.jsonl (intents, shape, control flow,
variables used) and counts, per group, the distinct skeletons of the target programs: a skeleton is the
program's statement sequence, one item per line (ACTION + its action name, or the line's keyword:
IF / ELSE / ENDIF / MENU / CASE / REPEAT / FOREACH / SET / ...; SHORTCUT skipped). If every group holds a
single skeleton, a model that reads those choices from the request could reach skeleton exact 1.0: the
issue's 0.95 bar is not ruled out by ambiguity in the data.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path


def skeleton(dsl: str) -> tuple[str, ...]:
    out = []
    for line in dsl.splitlines():
        words = line.split()
        if not words or words[0] == "SHORTCUT":
            continue
        out.append(f"A:{words[1]}" if words[0] == "ACTION" and len(words) > 1 else words[0])
    return tuple(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synth", type=Path, required=True, help="a `sashimi data synth` output folder")
    ap.add_argument("--splits", nargs="+", default=["train", "test", "test_compositional"])
    args = ap.parse_args(argv)
    meta = {}
    for line in (args.synth / "metadata.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        meta[row["shortcut_id"]] = row
    report = {}
    for split in args.splits:
        groups: dict[tuple, list] = defaultdict(list)
        for line in (args.synth / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            m = meta[row["shortcut_id"]]
            key = (tuple(m["intents"]), m["shape"], tuple(m["control_flow"]), m["uses_variables"])
            groups[key].append(skeleton(row["messages"][-1]["content"]))
        shared = [v for v in groups.values() if len(v) > 1]
        rows_shared = sum(len(v) for v in shared)
        modal = sum(Counter(v).most_common(1)[0][1] for v in shared)
        report[split] = {
            "rows": sum(len(v) for v in groups.values()),
            "groups": len(groups),
            "rows_in_groups_of_2_or_more": rows_shared,
            "groups_with_more_than_one_skeleton": sum(len(set(v)) > 1 for v in shared),
            "modal_skeleton_share_in_those_rows": round(modal / rows_shared, 4) if rows_shared else None,
        }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
