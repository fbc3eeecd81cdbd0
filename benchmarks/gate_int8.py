"""Does the generator's 8-bit MiniLM change the domain gate's decisions? (issue 16; RESULTS §9)

The gate is fitted and measured on float32 MiniLM features (`sashimi exp gate`, `sashimi gate`: the
sentence-transformers `Encoder`), while the shipped generator runs its MiniLM at the precision its model
declares (8-bit, RESULTS §8) and, for a gate with adapters, taps their input states from that pass.
This scores the same requests both ways with the same gate and counts the decisions that differ, per
labelled file, with each way's false-accept and false-reject rates.

    python benchmarks/gate_int8.py --data runs/bench/ood17.jsonl runs/bench/split/dev.jsonl [--gate DIR] [--out F]

Files: labelled `{prompt, label}` rows, or corpus rows (ShortcutForge chat / `{prompt}`: all in-domain).
Nothing is fitted or chosen here; do not pass the blind set (it is scored once per gate change, by
`sashimi exp gate --evaluate`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from sashimi.errors import SashimiError
from sashimi.io import read_jsonl, write_json


def labelled(path: Path) -> tuple[list[str], np.ndarray]:
    """(prompts, is_ood) of a labelled file, or of a corpus file (every row in-domain)."""
    rows = read_jsonl(path)
    if rows and "prompt" in rows[0]:  # {prompt, label} or {id, prompt} (no label: in-domain)
        return [r["prompt"] for r in rows], np.array([r.get("label") == "ood" for r in rows])
    from sashimi.dsl.corpus import load_corpus

    prompts = [r.prompt for r in load_corpus(path)]
    return prompts, np.zeros(len(prompts), bool)


def rates(accept: np.ndarray, is_ood: np.ndarray) -> dict:
    out = {}
    if is_ood.any():
        out["false_accept_rate"] = round(float(accept[is_ood].mean()), 4)
    if (~is_ood).any():
        out["false_reject_rate"] = round(float((~accept[~is_ood]).mean()), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", type=Path, required=True)
    ap.add_argument("--gate", type=Path, default=None, help="gate folder (default: the shipped one)")
    ap.add_argument("--precision", default="int8", choices=("int8", "float32"))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        from sashimi.model.encoder import Encoder
        from sashimi.model.fast_lexical import fast_gate
        from sashimi.model.gate import load_gate, meaningless_reason
        from sashimi.model.minilm import MiniLM

        gate = fast_gate(load_gate(args.gate, encoder=Encoder(progress=False)))
        minilm = MiniLM(precision=args.precision, tap=gate.tap_layer)
        report = {"gate": str(args.gate or "shipped"), "precision": args.precision, "files": {}}
        for path in args.data:
            prompts, is_ood = labelled(path)
            reference = np.array([d.accept for d in gate.decide(prompts)])  # float32, as measured
            generator_way = np.zeros(len(prompts), bool)  # as the generator decides (Generator._front)
            for i, prompt in enumerate(prompts):
                if meaningless_reason(prompt, gate.known_words) is None:
                    text = gate.request_text(prompt)
                    pooled, _, taps = (
                        minilm.encode_with_tap([text]) if gate.tap_layer is not None else (*minilm.encode([text]), None)
                    )
                    generator_way[i] = gate.scores(pooled, [text], taps)[0] >= gate.threshold
            changed = int((reference != generator_way).sum())
            report["files"][str(path)] = {
                "n": len(prompts),
                "decisions_changed": changed,
                "float32": rates(reference, is_ood),
                args.precision: rates(generator_way, is_ood),
            }
            print(f"{path}: {changed} of {len(prompts)} decisions differ", file=sys.stderr)
    except SashimiError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    if args.out is not None:
        write_json(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
