"""Issue 11 check: the real corpus compiles to the same plists before and after the condition fix.

Run once with an old checkout's `src` and once with this one, then compare up to UUID renaming:

    git archive <old-commit> src | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old/src python benchmarks/dialect_plists.py $S /tmp/before.plist
    PYTHONPATH=src python benchmarks/dialect_plists.py $S /tmp/after.plist --compare /tmp/before.plist

(`S=../shared/data/shortcutforge`.) Rows are read with `row.parse()` (the shortcutforge dialect) where
the code has it, else with the old dialect-less `parse`; `WFWorkflowName` (new in issue 11) is dropped.
"""

from __future__ import annotations

import argparse
import plistlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.dsl.plist_compare


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("catalog_dir")
    ap.add_argument("out")
    ap.add_argument("--compare", help="plists written by a previous run")
    args = ap.parse_args()
    from sashimi.dsl.catalog import Catalog
    from sashimi.dsl.compiler import compile_program
    from sashimi.dsl.corpus import load_corpus
    from sashimi.dsl.parser import parse

    catalog = Catalog.load(args.catalog_dir)
    out = {}
    for row in load_corpus(Path(args.catalog_dir) / "train.jsonl"):
        ir = row.parse() if hasattr(row, "parse") else parse(row.program)
        plist = compile_program(ir, catalog, seed=0).plist
        plist.pop("WFWorkflowName", None)
        out[row.shortcut_id] = plist
    Path(args.out).write_bytes(plistlib.dumps(out, fmt=plistlib.FMT_BINARY))
    print(f"{len(out)} programs compiled -> {args.out}")
    if args.compare:
        from tests.dsl.plist_compare import first_difference

        before = plistlib.loads(Path(args.compare).read_bytes())
        diffs = {k: first_difference(before[k], out.get(k)) for k in before}
        diffs = {k: d for k, d in diffs.items() if d}
        print(f"{len(before)} compared; {len(diffs)} differ up to UUID renaming")
        for k, d in list(diffs.items())[:10]:
            print(f"  {k}: {d}")
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
