"""Start-up time of `sashimi serve` (issue 15: healthy in <= 5 s), over several starts (RESULTS §8).

    python benchmarks/serve_startup.py --runs 6 --workers 2 --out runs/serve_startup.json
    PYTHONPATH=<checkout of another commit>/src python benchmarks/serve_startup.py ...   # its code instead

Each run starts the server (`serve_load.start_server`: the same command and health poll as the load
test), records the seconds from the start to the first healthy `/api/health`, stops it, and waits until
every process it had started (generation workers, their fork server) has ended, so that a run does
not share the two cores with the end of the one before. Start-up on a 2-core machine varies by ~1 s
from one start to the next, which is why one start says little: the report gives each run and the
median, and exit status 1 when any run is over `--limit-s`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

import psutil

_spec = importlib.util.spec_from_file_location("serve_load", Path(__file__).with_name("serve_load.py"))
serve_load = importlib.util.module_from_spec(_spec)
sys.modules["serve_load"] = serve_load
_spec.loader.exec_module(serve_load)


def one_start(model: str | None, workers: int | None, timeout_s: float) -> float:
    """Seconds from the start of `sashimi serve` to its first healthy answer (all its processes gone after)."""
    proc, _url, seconds = serve_load.start_server(model, timeout_s, workers)
    family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    proc.terminate()
    proc.wait(timeout=60)
    _, alive = psutil.wait_procs(family, timeout=30)
    for p in alive:  # not expected (the workers end with the server); never left running
        p.kill()
    return seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--workers", type=int, default=None,
                    help="the server's --workers (default: its own, one per core: what `sashimi serve` runs)")
    ap.add_argument("--model", help="model directory (default: the shipped model)")
    ap.add_argument("--limit-s", type=float, default=5.0, help="the bar: every start within this")
    ap.add_argument("--timeout-s", type=float, default=120.0, help="give up on a start after this long")
    ap.add_argument("--pause-s", type=float, default=1.0, help="idle time between runs")
    ap.add_argument("--out", help="JSON report (default: printed only)")
    args = ap.parse_args(argv)
    if not 1 <= args.runs <= 100:
        ap.error("--runs must be 1..100")
    seconds = []
    for i in range(args.runs):
        seconds.append(round(one_start(args.model, args.workers, args.timeout_s), 3))
        print(f"run {i + 1}/{args.runs}: healthy after {seconds[-1]:.2f} s", file=sys.stderr)
        time.sleep(args.pause_s)
    report = {
        "runs": seconds,
        "median_s": round(statistics.median(seconds), 3),
        "max_s": max(seconds),
        "limit_s": args.limit_s,
        "all_within_limit": max(seconds) <= args.limit_s,
        "config": {**vars(args), "cpus": os.cpu_count(), "python_path": os.environ.get("PYTHONPATH", "")},
        "machine": serve_load.machine_facts(),
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, out)
    return 0 if report["all_within_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
