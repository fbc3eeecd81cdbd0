"""Load test of `sashimi serve` on the loopback interface (issue 15).

    python benchmarks/serve_load.py --out runs/serve_load            # starts its own server
    python benchmarks/serve_load.py --url http://127.0.0.1:8000 --pid PID   # an already running one

16 concurrent clients (closed loop: each sends its next request when the last one is answered) send
2,000 requests in all, a seeded mix of

- valid: in-domain requests (prompts of our synthetic corpus generator, `sashimi.data.ood`),
- ood: out-of-domain requests (our OOD templates) — the model must refuse them, with a 200,
- oversized: a prompt over 2,000 characters (413) or a body over 64 KB (413),
- malformed: broken JSON, a non-object, wrong field types, bytes that are not UTF-8 (400).

It reports throughput, p50/p95/p99 latency (all and by kind), status codes by kind, every answer that
was not what its kind should get, and the server's resident memory (with its worker processes) sampled every 0.25 s (flat after
warm-up = growth after the first 10% of requests under `--rss-tolerance-mb`). The server it starts runs
with the rate limit lifted (`--rate-limit` very high): all clients share 127.0.0.1, so the per-client
limit would otherwise answer most requests 429 (the limiter has its own tests).

The load generator runs on the machine it measures, so its own CPU is taken from the server: `--client
raw` (the default) speaks HTTP/1.1 over asyncio streams (~1.8 s of CPU per 2,000 requests, start-up
included), `--client httpx` uses httpx as before (~4.4 s).

The report's `machine_cpu` gives the shares of the whole machine's CPU time during the run (psutil):
`steal` is time the host's hypervisor gave to other machines, `nice` time taken by niced processes
(background jobs); a run with either well above 0 measured a slower or busier machine.

Only loopback addresses are accepted, and the run is bounded in count (`--requests`) and time
(`--max-seconds`). Exit status 0 iff: no 5xx, no transport error, every oversized/malformed request
answered 4xx with JSON `{error, detail}`, every valid/ood request answered 200, memory flat, and
p95 over all requests <= `--p95-ms`.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np
import psutil

KINDS = ("valid", "ood", "oversized", "malformed")
EXPECTED = {"valid": {200}, "ood": {200}, "oversized": {413}, "malformed": {400}}
DEFAULT_MIX = "valid=0.5,ood=0.2,oversized=0.15,malformed=0.15"


def parse_mix(text: str) -> dict[str, float]:
    """`--mix` ("valid=0.5,ood=0.2,...") as {kind: share}."""
    return {k: float(v) for k, v in (part.split("=") for part in text.split(","))}


@dataclass
class Planned:
    kind: str
    body: bytes


@dataclass
class Outcome:
    kind: str
    status: int  # 0 = transport error
    ms: float
    ok: bool  # the answer its kind should get
    accepted: bool | None = None
    note: str = ""


def plan_requests(n: int, seed: int, mix: dict[str, float]) -> list[Planned]:
    """A seeded, shuffled list of `n` requests in the given proportions."""
    from sashimi.data.ood import ood_base_prompts, synthetic_prompts

    rng = random.Random(seed)
    valid = [p.text for p in synthetic_prompts(200, seed)]
    ood = [p.text for p in ood_base_prompts(20, seed)]
    malformed = [
        b'{"prompt": "set a timer for 5 minutes"',  # truncated
        b"prompt=set a timer",  # form encoding, not JSON
        b'["set a timer"]',  # not an object
        b'{"prompt": 42}',  # wrong type
        b'{"prompt": "timer", "beam": "wide"}',  # wrong type
        b'{"prompt": "\xff\xfe timer"}',  # not UTF-8
        b"",  # empty
        b'{"prompt": ""}',  # empty prompt
    ]
    counts = {k: int(round(mix[k] * n)) for k in KINDS}
    counts["valid"] += n - sum(counts.values())
    out: list[Planned] = []
    for kind, count in counts.items():
        for i in range(count):
            if kind == "valid":
                body = json.dumps({"prompt": rng.choice(valid)}).encode()
            elif kind == "ood":
                body = json.dumps({"prompt": rng.choice(ood)}).encode()
            elif kind == "oversized":
                if i % 2 == 0:  # a long prompt inside a small body
                    body = json.dumps({"prompt": "log water " * rng.randint(201, 400)}).encode()
                else:  # a body over 64 KB
                    body = json.dumps({"prompt": "timer", "pad": "x" * rng.randint(66_000, 200_000)}).encode()
            else:
                body = malformed[i % len(malformed)]
            out.append(Planned(kind, body))
    rng.shuffle(out)
    return out


def check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    try:
        addrs = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        sys.exit(f"error: cannot resolve {host!r}")
    if not addrs or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs):
        sys.exit(f"error: {url} is not a loopback address; this load test only targets this machine")


@dataclass
class Answer:
    """What `judge` reads of an HTTP answer (an `httpx.Response` has the same two members)."""

    status_code: int
    content: bytes

    def json(self):
        return json.loads(self.content)


class TransportError(Exception):
    pass


class RawClient:
    """One keep-alive HTTP/1.1 connection written and read with asyncio streams: a client that costs
    the shared CPU ~0.3 ms per request where httpx costs ~2 ms (RESULTS §8), so the load generator
    takes less of the two cores the server is measured on. It speaks only what this test needs: POST
    with a Content-Length body, answers with Content-Length, chunked or connection-delimited bodies,
    `Connection: close`."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> Answer:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("ascii")
        for attempt in (0, 1):
            reused = self.writer is not None
            try:
                return await asyncio.wait_for(self._exchange(head + body), self.timeout)
            except TimeoutError:
                await self.close()
                raise TransportError("timeout") from None
            except (ConnectionError, asyncio.IncompleteReadError) as err:
                await self.close()
                # a kept-alive connection the server had closed before this request (nothing read):
                # once more on a new one, as httpx does; any other failure is a transport error
                stale = reused and not (isinstance(err, asyncio.IncompleteReadError) and err.partial)
                if attempt == 1 or not stale:
                    raise TransportError(type(err).__name__) from None
        raise AssertionError("unreachable")

    async def _exchange(self, request: bytes) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(request)
        await self.writer.drain()
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            content = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                content += chunk[:-2]
        elif "content-length" in headers:
            content = await self.reader.readexactly(int(headers["content-length"]))
        else:  # the body runs to the end of the connection
            content = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, content)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def run_load(
    url: str, plan: list[Planned], clients: int, max_seconds: float, on_done=None, client_kind: str = "raw"
) -> list[Outcome]:
    """Send `plan` with `clients` concurrent closed-loop clients; stop at `max_seconds`. `client_kind`:
    "raw" (`RawClient`, the default) or "httpx" (an `httpx.AsyncClient` per client, as before)."""
    check_loopback(url)
    queue: asyncio.Queue[Planned] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + max_seconds
    parts = urlparse(url)

    async def client() -> None:
        if client_kind == "raw":
            raw = RawClient(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60.0)
            send, close = (lambda body: raw.post("/api/generate", body)), raw.close
        else:
            limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
            http = httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits)
            headers = {"Content-Type": "application/json"}
            send, close = (lambda body: http.post("/api/generate", content=body, headers=headers)), http.aclose
        try:
            while time.monotonic() < deadline:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                try:
                    r = await send(item.body)
                except (httpx.HTTPError, TransportError) as err:
                    ms = (time.perf_counter() - t0) * 1000.0
                    outcomes.append(Outcome(item.kind, 0, ms, False, note=str(err) or type(err).__name__))
                    continue
                ms = (time.perf_counter() - t0) * 1000.0
                outcomes.append(judge(item.kind, r, ms))
                if on_done is not None:
                    on_done(len(outcomes))
        finally:
            await close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return outcomes


def judge(kind: str, r: httpx.Response | Answer, ms: float) -> Outcome:
    try:
        body = r.json()
    except ValueError:
        return Outcome(kind, r.status_code, ms, False, note="answer is not JSON")
    if r.status_code >= 400:
        good_shape = isinstance(body, dict) and set(body) == {"error", "detail"} and bool(body["detail"])
        ok = r.status_code in EXPECTED[kind] and good_shape
        return Outcome(kind, r.status_code, ms, ok, note="" if good_shape else "error without {error, detail}")
    ok = r.status_code in EXPECTED[kind] and isinstance(body, dict) and "accepted" in body
    return Outcome(kind, r.status_code, ms, ok, accepted=bool(body.get("accepted")) if ok else None)


def _rss(proc: psutil.Process) -> int:
    try:
        return proc.memory_info().rss
    except psutil.Error:  # a worker that just exited
        return 0


SPEED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")  # what the 8-bit MiniLM's kernels can use


def machine_facts() -> dict:
    """The CPU a figure was measured on: its model name and the vector-instruction flags that set the
    8-bit encoder's speed (the same code ran ~2x faster on an AVX-512 VNNI machine than on an AVX2 one)."""
    facts: dict = {"cpus": os.cpu_count(), "cpu_model": None, "flags": []}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux
        return facts
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and facts["cpu_model"] is None:
            facts["cpu_model"] = value.strip()
        elif key.strip() == "flags":
            have = set(value.split())
            facts["flags"] = [f for f in SPEED_FLAGS if f in have]
            break
    return facts


def cpu_shares(before, after) -> dict[str, float]:
    """Shares of the machine's CPU time between two `psutil.cpu_times()` samples (user, nice, system,
    idle, iowait, steal: those this platform reports); guest time is already inside user on Linux."""
    fields = [f for f in before._fields if f not in ("guest", "guest_nice")]
    spent = {f: getattr(after, f) - getattr(before, f) for f in fields}
    total = sum(spent.values())
    if total <= 0:
        return {}
    return {f: round(spent[f] / total, 4) for f in ("user", "nice", "system", "idle", "iowait", "steal") if f in spent}


class RssSampler:
    """Samples the resident memory of a process and its children (the generation workers of
    `--workers N`) every `period` s in a background thread."""

    def __init__(self, pid: int | None, period: float = 0.25):
        self.proc = psutil.Process(pid) if pid else None
        self.period = period
        self.samples: list[tuple[float, int, float]] = []  # (t, requests done, rss MB)
        self.done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.is_set():
            try:
                rss = self.proc.memory_info().rss + sum(_rss(c) for c in self.proc.children(recursive=True))
            except psutil.Error:  # the server itself is gone
                return
            rss /= 2**20
            self.samples.append((round(time.monotonic() - t0, 2), self.done, round(rss, 1)))
            self._stop.wait(self.period)

    def __enter__(self) -> RssSampler:
        if self.proc is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.proc is not None:
            self._thread.join(timeout=5)


def percentiles(ms: list[float]) -> dict:
    if not ms:
        return {"n": 0}
    a = np.asarray(ms)
    return {
        "n": len(ms),
        "p50_ms": round(float(np.percentile(a, 50)), 1),
        "p95_ms": round(float(np.percentile(a, 95)), 1),
        "p99_ms": round(float(np.percentile(a, 99)), 1),
        "max_ms": round(float(a.max()), 1),
    }


def summarise(outcomes: list[Outcome], wall_s: float, samples, warmup: int, rss_tol_mb: float, p95_ms: float) -> dict:
    by_kind = {}
    for kind in KINDS:
        mine = [o for o in outcomes if o.kind == kind]
        codes: dict[str, int] = {}
        for o in mine:
            codes[str(o.status)] = codes.get(str(o.status), 0) + 1
        entry = {"count": len(mine), "status": dict(sorted(codes.items())), "unexpected": sum(not o.ok for o in mine)}
        entry.update(percentiles([o.ms for o in mine]))
        if kind in ("valid", "ood"):
            entry["accepted"] = sum(o.accepted is True for o in mine)
            entry["refused"] = sum(o.accepted is False for o in mine)
        by_kind[kind] = entry
    server_errors = sum(o.status >= 500 for o in outcomes)
    transport = sum(o.status == 0 for o in outcomes)
    report = {
        "requests": len(outcomes),
        "wall_s": round(wall_s, 2),
        "throughput_rps": round(len(outcomes) / wall_s, 1) if wall_s else None,
        "all": percentiles([o.ms for o in outcomes]),
        "by_kind": by_kind,
        "server_errors_5xx": server_errors,
        "transport_errors": transport,
        "unexpected": sum(not o.ok for o in outcomes),
        "unexpected_examples": sorted({f"{o.kind}: {o.status} {o.note}" for o in outcomes if not o.ok})[:10],
    }
    memory = {"samples": len(samples)}
    after = [rss for _t, done, rss in samples if done >= warmup]
    if after:
        memory.update(
            {
                "rss_start_mb": samples[0][2],
                "rss_after_warmup_mb": after[0],
                "rss_end_mb": after[-1],
                "rss_max_after_warmup_mb": max(after),
                "growth_after_warmup_mb": round(max(after) - after[0], 1),
                "tolerance_mb": rss_tol_mb,
            }
        )
        memory["flat"] = memory["growth_after_warmup_mb"] <= rss_tol_mb
    report["memory"] = memory
    checks = {
        "no_5xx": server_errors == 0,
        "no_transport_errors": transport == 0,
        "all_answers_as_expected": report["unexpected"] == 0,
        "memory_flat": memory.get("flat", None),
        f"p95_le_{p95_ms:g}ms": report["all"].get("p95_ms", float("inf")) <= p95_ms,
    }
    report["checks"] = checks
    report["holds"] = all(v is not False for v in checks.values())
    return report


def server_command(
    port: int, model: str | None = None, workers: int | None = None, max_batch: int | None = None,
    batch_wait_ms: float | None = None,
) -> list[str]:
    """`sashimi serve` on 127.0.0.1:PORT with the rate limit lifted; a setting left None is the server's own."""
    cmd = [sys.executable, "-m", "sashimi.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--quiet",
           "--rate-limit", "1000000000", "--burst", "1000000000"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if model:
        cmd += ["--model", model]
    if max_batch is not None:
        cmd += ["--max-batch", str(max_batch)]
    if batch_wait_ms is not None:
        cmd += ["--batch-wait-ms", f"{batch_wait_ms:g}"]
    return cmd


def start_server(
    model: str | None, startup_s: float, workers: int | None = None, max_batch: int | None = None,
    batch_wait_ms: float | None = None,
) -> tuple[subprocess.Popen, str, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = server_command(port, model, workers, max_batch, batch_wait_ms)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - t0 < startup_s:
        if proc.poll() is not None:
            sys.exit(f"error: the server exited ({proc.returncode}): {proc.stderr.read().strip()[-500:]}")
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return proc, url, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.kill()
    sys.exit(f"error: the server did not answer within {startup_s} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="an already running server (loopback only); default: start one")
    ap.add_argument("--pid", type=int, help="with --url: the server's process id, for memory samples")
    ap.add_argument("--model", help="model directory for the server this script starts (default: shipped)")
    ap.add_argument("--workers", type=int, default=None,
                    help="the started server's --workers (default: its own, one per core: what `sashimi serve` runs)")
    ap.add_argument("--max-batch", type=int, default=None, help="the started server's --max-batch (default: its own)")
    ap.add_argument("--batch-wait-ms", type=float, default=None,
                    help="the started server's --batch-wait-ms (default: its own)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mix", default=DEFAULT_MIX)
    ap.add_argument("--max-seconds", type=float, default=600.0, help="stop sending after this long")
    ap.add_argument("--warmup-fraction", type=float, default=0.1)
    ap.add_argument("--rss-tolerance-mb", type=float, default=25.0)
    ap.add_argument("--p95-ms", type=float, default=200.0)
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw",
                    help="the load generator's HTTP client (default raw: asyncio streams, the least CPU)")
    ap.add_argument("--out", help="folder for report.json (+ rss.tsv)")
    args = ap.parse_args(argv)

    mix = parse_mix(args.mix)
    if set(mix) != set(KINDS) or abs(sum(mix.values()) - 1) > 1e-6:
        ap.error(f"--mix needs {', '.join(KINDS)} summing to 1")
    if not 1 <= args.requests <= 100_000 or not 1 <= args.clients <= 256:
        ap.error("--requests must be 1..100000 and --clients 1..256")
    plan = plan_requests(args.requests, args.seed, mix)
    proc, startup = None, None
    if args.url:
        url, pid = args.url.rstrip("/"), args.pid
    else:
        proc, url, startup = start_server(
            args.model, startup_s=60, workers=args.workers, max_batch=args.max_batch, batch_wait_ms=args.batch_wait_ms
        )
        pid = proc.pid
    check_loopback(url)
    try:
        with RssSampler(pid) as sampler:
            def progress(done: int) -> None:
                sampler.done = done

            t0, cpu0 = time.perf_counter(), psutil.cpu_times()
            outcomes = asyncio.run(run_load(url, plan, args.clients, args.max_seconds, progress, args.client))
            wall, machine_cpu = time.perf_counter() - t0, cpu_shares(cpu0, psutil.cpu_times())
        health = httpx.get(url + "/api/health", timeout=10).json()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    report = summarise(
        outcomes, wall, sampler.samples, int(args.warmup_fraction * len(outcomes)), args.rss_tolerance_mb, args.p95_ms
    )
    report["config"] = {k: v for k, v in vars(args).items()} | {"cpus": os.cpu_count(), "server_startup_s": startup}
    report["machine"] = machine_facts()
    report["machine_cpu"] = machine_cpu
    report["server_health_after"] = health
    text = json.dumps(report, indent=2)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(text + "\n")
        (out / "rss.tsv").write_text("t_s\trequests_done\trss_mb\n" + "".join(f"{t}\t{d}\t{r}\n" for t, d, r in sampler.samples))
    print(text)
    return 0 if report["holds"] else 1


if __name__ == "__main__":
    sys.exit(main())
