"""The load benchmark's own machinery (benchmarks/serve_load.py) on a small run against the HTTP layer
with the generator test double: request mix, judging of answers, loopback-only guard."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from sashimi.serve.app import ServeConfig, create_app

from .conftest import FakeGenerator, LiveServer

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "serve_load.py"
_spec = importlib.util.spec_from_file_location("serve_load", _PATH)
serve_load = importlib.util.module_from_spec(_spec)
sys.modules["serve_load"] = serve_load  # dataclasses look their module up there
_spec.loader.exec_module(serve_load)

MIX = {"valid": 0.5, "ood": 0.2, "oversized": 0.15, "malformed": 0.15}


def test_plan_is_seeded_and_mixed():
    a = serve_load.plan_requests(200, 0, MIX)
    assert a == serve_load.plan_requests(200, 0, MIX) and a != serve_load.plan_requests(200, 1, MIX)
    assert Counter(p.kind for p in a) == {"valid": 100, "ood": 40, "oversized": 30, "malformed": 30}
    for p in a:
        if p.kind in ("valid", "ood"):
            assert len(json.loads(p.body)["prompt"]) <= 2000
        elif p.kind == "oversized":
            assert len(p.body) > 64 * 1024 or len(json.loads(p.body)["prompt"]) > 2000


@pytest.mark.parametrize("client_kind", ["raw", "httpx"])
def test_small_run_judges_answers(client_kind):
    app = create_app(FakeGenerator(), config=ServeConfig(rate_per_minute=1e9, rate_burst=10**9))
    plan = serve_load.plan_requests(60, 0, MIX)
    with LiveServer(app) as server:
        outcomes = asyncio.run(
            serve_load.run_load(server.url, plan, clients=4, max_seconds=60, client_kind=client_kind)
        )
    report = serve_load.summarise(outcomes, 1.0, [], 0, 25.0, 10_000.0)
    assert report["requests"] == 60 and report["server_errors_5xx"] == 0
    assert report["unexpected"] == 0, report["unexpected_examples"]
    assert report["by_kind"]["oversized"]["status"] == {"413": 9}
    assert report["by_kind"]["malformed"]["status"] == {"400": 9}


def test_rate_limited_answers_count_as_unexpected():
    app = create_app(FakeGenerator(), config=ServeConfig(rate_burst=5))
    with LiveServer(app) as server:
        outcomes = asyncio.run(serve_load.run_load(server.url, serve_load.plan_requests(20, 0, MIX), 2, 60))
    report = serve_load.summarise(outcomes, 1.0, [], 0, 25.0, 10_000.0)
    assert report["unexpected"] == 15 and not report["checks"]["all_answers_as_expected"]


@pytest.mark.parametrize("url", ["http://10.1.2.3:8000", "http://192.168.0.1", "http://example.org"])
def test_refuses_targets_off_this_machine(url):
    with pytest.raises(SystemExit):
        serve_load.check_loopback(url)


def test_raw_client_reads_answers_and_reconnects_after_close():
    """The raw client: a kept-alive connection reused, an answer with `Connection: close` (the server
    hangs up) followed by a request on a fresh connection, and a refused connection as a transport error."""

    async def scenario(url: str) -> list:
        host, port = url.removeprefix("http://").split(":")
        client = serve_load.RawClient(host, int(port), timeout=10.0)
        answers = [await client.post("/api/generate", b'{"prompt": "log 500 ml of water"}')]
        answers.append(await client.post("/api/generate", b"x" * (70 * 1024)))  # 413, server may close
        answers.append(await client.post("/api/generate", b'{"prompt": "log 500 ml of water"}'))
        await client.close()
        return answers

    app = create_app(FakeGenerator(), config=ServeConfig(rate_per_minute=1e9, rate_burst=10**9))
    with LiveServer(app) as server:
        answers = asyncio.run(scenario(server.url))
        port = int(server.url.rsplit(":", 1)[1])
    assert [a.status_code for a in answers] == [200, 413, 200]
    assert answers[0].json()["accepted"] is True and answers[1].json()["error"]
    with pytest.raises(serve_load.TransportError):  # nothing listens there any more
        asyncio.run(serve_load.RawClient("127.0.0.1", port, timeout=5.0).post("/api/generate", b"{}"))


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"a\": 1}",  # no length: the body ends with the connection
        b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{\"a\": 1}",
    ],
)
def test_raw_client_reads_each_body_framing(answer):
    """Chunked, connection-delimited and Content-Length bodies, from a canned server on loopback."""

    async def scenario() -> serve_load.Answer:
        async def handle(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            client = serve_load.RawClient("127.0.0.1", port, timeout=10.0)
            got = await client.post("/api/generate", b"{}")
            await client.close()
        return got

    got = asyncio.run(scenario())
    assert got.status_code == 200 and got.json() == {"a": 1}


def test_cpu_shares_of_the_machine():
    """`machine_cpu` in the report: each kind of CPU time as a share of all, from two psutil samples."""
    from collections import namedtuple

    import psutil

    T = namedtuple("T", "user nice system idle iowait irq softirq steal guest guest_nice")
    before = T(100, 10, 20, 500, 0, 0, 0, 5, 50, 0)
    after = T(160, 30, 30, 590, 0, 0, 0, 25, 90, 0)  # +60 user (guest +40 is inside it), +20 nice, ...
    assert serve_load.cpu_shares(before, after) == {
        "user": 0.3, "nice": 0.1, "system": 0.05, "idle": 0.45, "iowait": 0.0, "steal": 0.1
    }
    assert serve_load.cpu_shares(before, before) == {}
    real = serve_load.cpu_shares(psutil.cpu_times(), psutil.cpu_times())
    assert all(0.0 <= v <= 1.0 for v in real.values())


def test_machine_facts_name_the_cpu_and_only_known_flags():
    facts = serve_load.machine_facts()
    assert facts["cpus"] == os.cpu_count()
    assert set(facts["flags"]) <= set(serve_load.SPEED_FLAGS)
    if Path("/proc/cpuinfo").exists():  # Linux: the model name is read, as the reports need it
        assert facts["cpu_model"]


def test_the_started_server_keeps_its_own_defaults_unless_told():
    plain = serve_load.server_command(8123)
    assert "--workers" not in plain and "--max-batch" not in plain and "--batch-wait-ms" not in plain
    assert plain[plain.index("--host") + 1] == "127.0.0.1" and plain[plain.index("--port") + 1] == "8123"
    told = serve_load.server_command(8123, model="m", workers=2, max_batch=6, batch_wait_ms=60)
    assert told[told.index("--workers") + 1] == "2" and told[told.index("--model") + 1] == "m"
    assert told[told.index("--max-batch") + 1] == "6" and told[told.index("--batch-wait-ms") + 1] == "60"
