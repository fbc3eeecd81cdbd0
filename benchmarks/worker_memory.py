"""What one generation worker's memory and CPU do over the load test's requests, in one process.

    python benchmarks/worker_memory.py [--model DIR] [--plan 2000] [--warmup 72] [--batch 8] [--out R.json]

Why: the load test (`serve_load.py`) checks that the server's resident memory is flat after its first
10 % of requests, over the server and its workers together, and the machine's other jobs move its
timings. This runs the requests that reach a model in the load test — the valid and out-of-domain
prompts of its plan of `--plan` requests (1,400 of 2,000), same seed and mix, in order — through `Generator.generate_batch` in batches of `--batch`, in this process alone,
and reports the resident memory after `--warmup` requests and every 500 after, the growth after the
warm-up, and the CPU time per request after it. Start-up, the web process and the other worker are
left out, so two versions of the code can be compared run by run in a minute each.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_load import DEFAULT_MIX, parse_mix, plan_requests  # noqa: E402  (the load test's own plan)


def model_prompts(plan: int, seed: int) -> list[str]:
    """The prompts of the load test's plan of `plan` requests that reach a model (valid, out-of-domain)."""
    return [json.loads(p.body)["prompt"] for p in plan_requests(plan, seed, parse_mix(DEFAULT_MIX)) if p.kind in ("valid", "ood")]


def measure(generator, prompts: list[str], warmup: int, batch: int) -> dict:
    def rss_mb() -> float:
        return psutil.Process().memory_info().rss / 2**20

    samples: list[tuple[int, float]] = []
    cpu0 = base = None
    done = 0
    for start in range(0, len(prompts), batch):
        if cpu0 is None and done >= warmup:
            base, cpu0 = rss_mb(), time.process_time()
            samples.append((done, round(base, 1)))
        generator.generate_batch(prompts[start : start + batch])
        done = min(start + batch, len(prompts))
        if base is not None and (done // 500 != (done - batch) // 500 or done == len(prompts)):
            samples.append((done, round(rss_mb(), 1)))
    measured = done - samples[0][0]
    return {
        "requests": len(prompts),
        "warmup": samples[0][0],
        "batch": batch,
        "rss_mb_after_warmup": samples[0][1],
        "rss_mb_end": samples[-1][1],
        "growth_mb_after_warmup": round(samples[-1][1] - samples[0][1], 1),
        "cpu_ms_per_request": round((time.process_time() - cpu0) * 1000 / measured, 2),
        "rss_mb_by_request": samples,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    ap.add_argument("--plan", type=int, default=2000, help="the load test's --requests (default 2000)")
    ap.add_argument("--warmup", type=int, default=72, help="requests before the memory baseline (default 72)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0, help="the load test's request plan seed")
    ap.add_argument("--out", help="write the report here too (JSON)")
    args = ap.parse_args(argv)
    prompts = model_prompts(args.plan, args.seed) if args.plan >= 1 else []
    if args.batch < 1 or not 0 <= args.warmup < len(prompts):
        ap.error(f"need --batch >= 1 and 0 <= --warmup < the plan's {len(prompts)} model requests")
    from sashimi.model.generator import Generator

    generator = Generator.load(args.model)
    report = measure(generator, prompts, args.warmup, args.batch)
    report["model"] = args.model or "shipped"
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
