"""Decoding settings of `sashimi generate`: fidelity and time over a grid.

    python benchmarks/decoding_sweep.py --out runs/decoding [--model DIR] [--caps 0 10 6 4] \
        [--close-biases 0 1] [--beams 1 2 4] [--set dev=/work/runs/split/dev.jsonl --set test=/work/runs/synth/test.jsonl ...] \
        [--select-on dev]

For each repetition cap (`--max-action-count`, constraints.RepetitionCap; 0 = no cap), closing bias
(`--close-bias`, search.closing_bias; 0 = none), beam width (`--beam`; 1 = greedy, the default) and
evaluation set: `sashimi generate --input SET`
(batch 1, one request at a time, the row's `ms` is its own end-to-end time) then `sashimi evaluate`.
With `--select-on NAME` the grid runs on set NAME only and the other sets get the one setting it
selects (best skeleton exact, then action F1, then the milder bias and cap, then the narrower beam;
written to selected.json):
a decoding setting chosen on a dev split, then scored once on the test splits.
Resumable: a (cap, bias, beam, set) whose summary exists is not redone. Prints and writes `table.md` and
`table.json`: action F1 [95 % CI], skeleton exact, compile strict, decoded tokens (mean / p95) and
request time (p50 / p95 / mean ms). Times are only comparable between runs on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

DEFAULT_SETS = (
    "dev=/work/runs/split/dev.jsonl",
    "test=/work/runs/synth/test.jsonl",
    "comp=/work/runs/synth/test_compositional.jsonl",
)


def run(cmd: list[str], stdout=None) -> None:
    proc = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.strip()[-500:]}")


def one(out: Path, model: str | None, cap: int, bias: float, name: str, data: Path, beam: int = 1) -> dict:
    # no "." in the name (a bias of 0.5 is "0p5"): Path.with_suffix would cut at it; greedy keeps the
    # names it had before beams were an axis, so earlier sweeps resume
    stem = f"{name}_count{cap}_close{bias:g}{f'_beam{beam}' if beam != 1 else ''}".replace(".", "p").replace("-", "m")
    summary, preds = out / f"{stem}.summary.json", out / f"{stem}.jsonl"
    if not summary.is_file():
        cmd = [sys.executable, "-m", "sashimi.cli", "generate", "--input", str(data), "--out", str(preds)]
        cmd += ["--max-action-count", str(cap), "--close-bias", str(bias), "--beam", str(beam), "--quiet"]
        cmd += ["--model", model] if model else []
        run(cmd)
        tmp = out / f"{stem}.summary.tmp"
        with tmp.open("w") as f:
            run([sys.executable, "-m", "sashimi.cli", "evaluate", "--predictions", str(preds), "--data", str(data),
                 "--out", str(out / f"{stem}.eval"), "--json", "--quiet"], stdout=f)
        os.replace(tmp, summary)
    system = json.loads(summary.read_text())["systems"]["system"]
    m, ci = system["metrics"], system["ci"]
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    ms = np.array([r["ms"] for r in rows])
    tokens = np.array([r.get("tokens", 0) or 0 for r in rows if r.get("accepted")])
    return {
        "set": name,
        "cap": cap,
        "close_bias": bias,
        "beam": beam,
        "n": len(rows),
        "action_f1": m["action_f1"],
        "action_f1_ci": ci["action_f1"],
        "skeleton_exact": m["skeleton_exact"],
        "compile_strict": m["compile_strict_rate"],
        "tokens_mean": round(float(tokens.mean()), 1) if len(tokens) else None,
        "tokens_p95": round(float(np.percentile(tokens, 95)), 1) if len(tokens) else None,
        "ms_p50": round(float(np.percentile(ms, 50)), 1),
        "ms_p95": round(float(np.percentile(ms, 95)), 1),
        "ms_mean": round(float(ms.mean()), 1),
    }


def select(rows: list[dict]) -> dict:
    """The best setting among one set's rows: skeleton exact, then action F1, then the milder setting."""
    return max(rows, key=lambda r: (r["skeleton_exact"], r["action_f1"], -abs(r["close_bias"]), -(r["cap"] or 10**9),
                                    -r.get("beam", 1)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--caps", type=int, nargs="+", default=[0, 10, 6, 4])
    ap.add_argument("--close-biases", type=float, nargs="+", default=[0.0])
    ap.add_argument("--beams", type=int, nargs="+", default=[1], help="beam widths (1 = greedy)")
    ap.add_argument("--set", action="append", default=None, metavar="NAME=FILE", help="evaluation set")
    ap.add_argument("--select-on", metavar="NAME", help="select the setting on this set, then run the others")
    args = ap.parse_args(argv)
    sets = [s.split("=", 1) for s in (args.set or DEFAULT_SETS)]
    if args.select_on is not None and args.select_on not in {name for name, _ in sets}:
        raise SystemExit(f"error: --select-on {args.select_on}: no --set of that name")
    args.out.mkdir(parents=True, exist_ok=True)
    if min(args.beams) < 1:
        raise SystemExit("error: --beams: a beam width is at least 1")
    grid = [(cap, bias, beam) for cap in args.caps for bias in args.close_biases for beam in args.beams]
    selected = None
    if args.select_on is not None:
        path = dict(sets)[args.select_on]
        table = [one(args.out, args.model, cap, bias, args.select_on, Path(path), beam) for cap, bias, beam in grid]
        selected = select(table)
        grid = [(selected["cap"], selected["close_bias"], selected["beam"])]
        sets = [(name, path) for name, path in sets if name != args.select_on]
    else:
        table = []
    table += [one(args.out, args.model, cap, bias, name, Path(path), beam)
              for name, path in sets for cap, bias, beam in grid]
    lines = [
        "| set | cap | close bias | beam | action F1 [95 % CI] | skeleton exact | compile strict | tokens mean / p95 "
        "| ms p50 / p95 / mean |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lo, hi = r["action_f1_ci"]
        lines.append(
            f"| {r['set']} ({r['n']}) | {r['cap'] or 'none'} | {r['close_bias']:g} | {r['beam']} | "
            f"{r['action_f1']:.3f} [{lo:.3f}, {hi:.3f}] | "
            f"{r['skeleton_exact']:.3f} | {r['compile_strict']:.3f} | {r['tokens_mean']} / {r['tokens_p95']} | "
            f"{r['ms_p50']} / {r['ms_p95']} / {r['ms_mean']} |"
        )
    if selected is not None:
        lines.append(f"\nselected on {args.select_on}: cap {selected['cap'] or 'none'}, close bias {selected['close_bias']:g}, "
                     f"beam {selected['beam']}")
        (args.out / "selected.json").write_text(json.dumps({"on": args.select_on, **selected}, indent=1))
    (args.out / "table.json").write_text(json.dumps(table, indent=1))
    (args.out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
