"""Packed export vs its training run: are the generated programs byte-identical? (issue 13)

    python benchmarks/packed_identity.py --run runs/default --packed src/sashimi/model/assets/default \
        --data /work/runs/split/dev.jsonl /work/runs/synth/test.jsonl [--beam 1] [--out FILE.json]

Both models go through the same `Generator` (same MiniLM, gate, catalog); the only difference is the
decoder weights (training float32 with BitLinear vs 2-bit codes + scales and float16 elsewhere) and, when
the export refitted it, the value filler. So the comparison is made twice:

- `structure`: the decoded Tier 1+2 token sequences (the packed decoder vs the training decoder, both
  with the packed folder's filler) — what packing changes;
- `program`: the full DSL text and .shortcut bytes of the packed folder vs the run folder as trained —
  which also differ where the shipped filler (synthetic values only) chooses other literals than the
  run's filler (fitted on the training rows).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _prompts(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        if "messages" in obj:
            out.append((obj["shortcut_id"], obj["messages"][1]["content"]))
        else:
            out.append((obj["id"], obj["prompt"]))
    return out


def main(argv: list[str] | None = None) -> int:
    from sashimi.model.export import _load_without_filler
    from sashimi.model.generator import Generator

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--packed", type=Path, required=True)
    ap.add_argument("--data", type=Path, nargs="+", required=True)
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    packed = Generator.load(args.packed)
    try:
        trained = Generator.load(args.run)
    except Exception as err:  # noqa: BLE001 - e.g. a run filler the current filler code cannot read
        print(f"warning: the run as trained does not load ({err}); comparing structure only", file=sys.stderr)
        trained = None
    # the training decoder with the packed folder's filler: isolates what packing does to the structure
    run_model = _load_without_filler(args.run)
    run_model.filler = packed.model.filler
    hybrid = Generator(
        run_model, gate=packed.gate, encoder=packed.encoder, catalog=packed.catalog, model_dir=args.run
    )
    report: dict = {"run": str(args.run), "packed": str(args.packed), "beam": args.beam, "files": {}}
    for path in args.data:
        rows = _prompts(path)
        same_structure = same_program = accepted = 0
        differ: list[str] = []
        for rid, prompt in rows:
            a = packed.generate(prompt, beam=args.beam)
            b = hybrid.generate(prompt, beam=args.beam)
            c = trained.generate(prompt, beam=args.beam) if trained is not None else None
            accepted += a.accepted
            if (a.accepted, a.dsl, a.shortcut) == (b.accepted, b.dsl, b.shortcut):
                same_structure += 1
            else:
                differ.append(rid)
            if c is not None:
                same_program += (a.accepted, a.dsl, a.shortcut) == (c.accepted, c.dsl, c.shortcut)
        report["files"][str(path)] = {
            "prompts": len(rows),
            "accepted": accepted,
            "identical_with_same_filler": same_structure,
            "identical_to_run_as_trained": same_program if trained is not None else None,
            "differing_ids": differ[:20],
        }
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
