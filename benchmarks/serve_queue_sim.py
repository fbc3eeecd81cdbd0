"""A closed-loop simulation of `sashimi serve`'s batch queue under the load test (RESULTS §8).

    python benchmarks/serve_queue_sim.py [--waits 0 10 20 30 40] [--requests 12000] [--seed 0]

Why: the load test's p95 was about twice a batch's time. This models only the queue, to see whether
that comes from the order in which the two workers take requests rather than from their CPU: 16 clients,
each sending its next request when the last is answered; 30 % of requests are answered by the web process
in ~5 ms (oversized / malformed), the rest wait for one of two workers; a worker takes up to `max_batch`
waiting requests and runs them in 20 + 12 x size ms of CPU (fitted to the batch times `/api/health`
reported for the old shipped model: ~90 ms for 5, ~165 for 8), at 0.7 of a core while both workers run
(the web process and the load client take the rest of the two cores) and 0.95 while one does. With a
batch wait W, a free worker waits up to W ms for `max_batch` requests while the other worker is busy
(`sashimi serve --batch-wait-ms`). Time advances in 0.25 ms steps; the first 2,000 answers are warm-up.

Prints, per wait: model requests/s (all requests, as the load test counts them) and p50 / p95 / p99 over
all requests. It is a model, not a measurement: it says which way a change should move p95, the load
test says whether it does.
"""

from __future__ import annotations

import argparse
import random

import numpy as np

CLIENTS, WORKERS, MAX_BATCH = 16, 2, 8
CHEAP_SHARE, CHEAP_MS, TURNAROUND_MS = 0.3, 5.0, 1.0  # answered by the web process; client's next send


def batch_cpu_ms(size: int) -> float:
    return 20.0 + 12.0 * size


def simulate(wait_ms: float, requests: int = 12000, seed: int = 0, dt: float = 0.25) -> dict:
    rng = random.Random(seed)
    queue: list[float] = []  # arrival times of requests waiting for a worker
    cheap: list[float] = []  # times at which the web process answers a cheap request
    running: list[tuple[float, list[float]] | None] = [None] * WORKERS  # (CPU ms left, arrivals)
    free_since = [0.0] * WORKERS
    latencies: list[float] = []
    t = 0.0

    def send(now: float) -> None:
        if rng.random() < CHEAP_SHARE:
            cheap.append(now + CHEAP_MS)
        else:
            queue.append(now)

    for _ in range(CLIENTS):
        send(0.0)
    while len(latencies) < requests:
        for due in [c for c in cheap if c <= t]:
            cheap.remove(due)
            latencies.append(CHEAP_MS)
            send(t)
        rate = 0.7 if all(r is not None for r in running) else 0.95
        for i, r in enumerate(running):
            if r is None:
                continue
            left = r[0] - dt * rate
            if left > 0:
                running[i] = (left, r[1])
                continue
            for arrival in r[1]:
                latencies.append(t - arrival)
                send(t + TURNAROUND_MS)
            running[i], free_since[i] = None, t
        for i in range(WORKERS):
            if running[i] is not None or not queue:
                continue
            busy = any(r is not None for r in running)
            if busy and len(queue) < MAX_BATCH and t - free_since[i] < wait_ms:
                continue  # waits for a fuller batch (sashimi serve --batch-wait-ms)
            free = sum(r is None for r in running)
            size = min(MAX_BATCH, -(-len(queue) // free))
            batch, queue[:] = queue[:size], queue[size:]
            running[i] = (batch_cpu_ms(size), batch)
        t += dt
    warm = np.array(latencies[2000:])
    return {
        "wait_ms": wait_ms,
        "requests_per_s": round(len(latencies) / (t / 1000.0), 1),
        "p50_ms": round(float(np.percentile(warm, 50)), 1),
        "p95_ms": round(float(np.percentile(warm, 95)), 1),
        "p99_ms": round(float(np.percentile(warm, 99)), 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--waits", type=float, nargs="+", default=[0, 10, 20, 30, 40])
    ap.add_argument("--requests", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print("| batch wait (ms) | requests/s | p50 / p95 / p99 (ms) |\n|---|---|---|")
    for w in args.waits:
        r = simulate(w, args.requests, args.seed)
        print(f"| {w:g} | {r['requests_per_s']} | {r['p50_ms']} / {r['p95_ms']} / {r['p99_ms']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
