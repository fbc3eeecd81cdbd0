"""Does a batch give each request the program it gets alone? (`Generator.generate_batch`, RESULTS §8)

    python benchmarks/batch_identity.py --data runs/bench/split/dev.jsonl runs/bench/synth/test.jsonl \
        runs/bench/synth/test_compositional.jsonl tests/data/gate_blind.jsonl [--batch 8] [--model DIR] \
        [--out runs/batch_identity.json]

Every prompt is generated alone (`generate`), then the same prompts in consecutive batches of `--batch`
(`generate_batch`, as `sashimi serve` runs the requests that wait). Compared per prompt: accepted, reason,
DSL text and `.shortcut` bytes. Also reported: the CPU time per request of either way (process time, one
thread), which is what batching saves.

Across code versions: `--programs-out FILE` writes what each prompt got (alone), and a later run with
`--same-as FILE` (another commit, another backend) also compares its alone and batched answers with
those, e.g. `SASHIMI_DECODER_BACKEND=numpy ... --programs-out ref.json` then `... --same-as ref.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path


def _prompts(paths: list[Path]) -> list[str]:
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                out.append(obj["messages"][1]["content"] if "messages" in obj else obj["prompt"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, nargs="+", required=True, help="chat-format or {id, prompt} JSONL files")
    ap.add_argument("--batch", type=int, default=8, help="requests per batch (default 8, the server's default)")
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--out", type=Path, default=None, help="also write the report here (JSON)")
    ap.add_argument("--programs-out", type=Path, default=None, help="write each prompt's answer here (JSON)")
    ap.add_argument("--same-as", type=Path, default=None, help="also compare with the answers of such a file")
    args = ap.parse_args(argv)
    if args.batch < 2:
        ap.error("--batch must be >= 2")
    from sashimi.model.generator import Generator

    prompts = _prompts(args.data)
    gen = Generator.load(args.model)
    gen.generate_batch(prompts[: args.batch])  # warm-up (caches), untimed
    t0 = time.process_time()
    alone = [gen.generate(p) for p in prompts]
    cpu_alone = time.process_time() - t0
    t0 = time.process_time()
    together = []
    for i in range(0, len(prompts), args.batch):
        together += gen.generate_batch(prompts[i : i + args.batch])
    cpu_batch = time.process_time() - t0
    key = lambda g: (g.accepted, g.reason, g.dsl, hashlib.sha256(g.shortcut or b"").hexdigest())  # noqa: E731
    differ = [i for i, (a, b) in enumerate(zip(alone, together, strict=True)) if key(a) != key(b)]
    reference = None
    if args.same_as is not None:
        reference = json.loads(args.same_as.read_text(encoding="utf-8"))
        if [r["prompt"] for r in reference] != prompts:
            ap.error(f"{args.same_as} answers other prompts")
        ref_keys = [tuple(r["answer"]) for r in reference]
    report = {
        "files": [str(p) for p in args.data],
        "prompts": len(prompts),
        "batch": args.batch,
        "accepted": sum(g.accepted for g in alone),
        "programs_differ": len(differ),
        "differ_examples": [prompts[i][:120] for i in differ[:5]],
        "cpu_ms_per_request_alone": round(cpu_alone * 1000 / max(1, len(prompts)), 2),
        "cpu_ms_per_request_batched": round(cpu_batch * 1000 / max(1, len(prompts)), 2),
    }
    if reference is not None:
        for name, got in (("alone", alone), ("batched", together)):
            report[f"differ_from_reference_{name}"] = sum(key(g) != r for g, r in zip(got, ref_keys, strict=True))
    if args.programs_out is not None:
        args.programs_out.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"prompt": p, "answer": list(key(g))} for p, g in zip(prompts, alone, strict=True)]
        args.programs_out.write_text(json.dumps(rows) + "\n", encoding="utf-8")
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    changed = any(report.get(f"differ_from_reference_{n}", 0) for n in ("alone", "batched"))
    return 0 if not differ and not changed else 1


if __name__ == "__main__":
    sys.exit(main())
