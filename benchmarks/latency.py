"""Latency of `sashimi generate` (issue 13): warm in-process batch 1, cold CLI, peak memory.

    python benchmarks/latency.py [--model DIR] [--data /work/runs/split/dev.jsonl] [--n 200] \
        [--cold-runs 5] [--out runs/latency.json]

Warm: one `Generator` loaded once, then each prompt generated one at a time (batch 1, greedy unless
--beam), after 5 untimed warm-up requests. The generator never caches embeddings (MiniLM runs on every
request), so no cache hit is in the figure. Reported: p50 / p95 / p99 of the end-to-end time of accepted
requests (gate + encode + decode + fill + lower + compile) and of all requests, each stage's share of
the total, decoded tokens, and ms per decoded token.

Cold: `sashimi generate "<prompt>" -o FILE` as a fresh process, from process start to the file written
(wall time of the process; the file is checked to exist), `--cold-runs` times, median and max.

Peak memory: the warm process's peak RSS (ru_maxrss) and each cold process's peak RSS.

On a shared machine wall times include waiting for a core; the report adds the CPU time per request
(warm: process_time around each request; cold: the child's user + system time), which is what an
idle core would take, and the load average at start and end.

The real dev split has 167 prompts; with --n larger than the file, the rest is taken from --extra
(default: the synthetic test split), and the report says how many came from each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _prompts(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        out.append(obj["messages"][1]["content"] if "messages" in obj else obj["prompt"])
    return out


def _pct(values) -> dict:
    a = np.asarray(values, dtype=np.float64)
    if not len(a):
        return {"n": 0}
    return {
        "n": int(len(a)),
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
        "mean": round(float(a.mean()), 2),
        "max": round(float(a.max()), 2),
    }


def warm(model: str | None, prompts: list[str], beam: int) -> dict:
    from sashimi.model.generator import STAGES, Generator

    t0 = time.perf_counter()
    gen = Generator.load(model)
    load_s = time.perf_counter() - t0
    for p in prompts[:5]:  # warm-up: first-call allocations, lazily built tables
        gen.generate(p, beam=beam)
    rows, cpu_ms = [], []
    for p in prompts:
        c0 = time.process_time()
        rows.append(gen.generate(p, beam=beam))
        cpu_ms.append((time.process_time() - c0) * 1000.0)
    acc = [g for g in rows if g.accepted]
    decoded = [g for g in acc if g.tokens]  # a chooser that picked a neighbour decodes nothing
    stage_tot = {s: sum(g.stages.get(s, 0.0) for g in rows) for s in STAGES}
    total = sum(stage_tot.values()) or 1.0
    return {
        "load_seconds": round(load_s, 3),
        "requests": len(rows),
        "accepted": len(acc),
        "compiled_strict": sum(bool(g.validity.get("compiled_strict")) for g in acc),
        "ms_accepted": _pct([g.ms for g in acc]),
        "ms_all": _pct([g.ms for g in rows]),
        # CPU time of the process per request: what the wall time would be on an otherwise idle core
        # (the shared machine's load inflates wall time; one intra-op thread, so CPU <= wall)
        "cpu_ms_all": _pct(cpu_ms),
        "stage_share": {s: round(v / total, 4) for s, v in stage_tot.items()},
        "stage_ms": {s: _pct([g.stages[s] for g in acc if s in g.stages]) for s in STAGES},
        "decoded_tokens": _pct([g.tokens for g in decoded]),
        "ms_per_decoded_token": _pct([g.stages["decode"] / g.tokens for g in decoded]),
        "sources": {"decoder": sum(g.source == "decoder" for g in acc), "neighbour": sum(g.source != "decoder" for g in acc)},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def cold(model: str | None, prompt: str, runs: int) -> dict:
    times, rss, cpu = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            out = Path(tmp) / f"cold{i}.shortcut"
            cmd = [sys.executable, "-m", "sashimi.cli", "generate", prompt, "-o", str(out)]
            if model:
                cmd[4:4] = ["--model", model]
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            before = ru0.ru_maxrss
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime))
            if proc.returncode != 0 or not out.is_file():
                raise SystemExit(f"cold run failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
            times.append(wall)
            rss.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
    return {
        "runs": runs,
        "seconds": [round(t, 3) for t in times],
        "median_seconds": round(float(np.median(times)), 3),
        "max_seconds": round(float(max(times)), 3),
        "cpu_seconds": [round(c, 3) for c in cpu],  # user + system CPU of the process (contention-free)
        "median_cpu_seconds": round(float(np.median(cpu)), 3),
        "peak_rss_mb": round(max(rss), 1),
        "command": f'sashimi generate{" --model " + model if model else ""} "{prompt}" -o FILE',
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--data", type=Path, default=Path("/work/runs/split/dev.jsonl"))
    ap.add_argument("--extra", type=Path, default=Path("/work/runs/synth/test.jsonl"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--cold-prompt", default="set a timer for 10 minutes")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    prompts = _prompts(args.data)[: args.n]
    n_main = len(prompts)
    if len(prompts) < args.n and args.extra and args.extra.is_file():
        prompts += _prompts(args.extra)[: args.n - len(prompts)]
    report = {
        "machine": {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg()},
        "prompts": {
            "data": str(args.data),
            "from_data": n_main,
            "extra": str(args.extra),
            "from_extra": len(prompts) - n_main,
        },
        "beam": args.beam,
        "threads": os.environ.get("SASHIMI_THREADS", "1"),
    }
    report["warm"] = warm(args.model, prompts, args.beam)
    if args.cold_runs > 0:
        report["cold"] = cold(args.model, args.cold_prompt, args.cold_runs)
    report["machine"]["loadavg_end"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
