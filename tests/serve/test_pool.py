"""`sashimi serve --workers N`: generations in N worker processes (`sashimi.serve.pool`)."""

from __future__ import annotations

import os
import signal
import time

import httpx
import psutil
import pytest

from sashimi.errors import DataError
from sashimi.serve.pool import GeneratorPool
from tests.serve.helpers import ServeProcess

PROMPTS = [
    "set a timer for 10 minutes",
    "log 500 ml of water in Health",
    "show a menu to call mom or text dad",
    "for each file in my Downloads folder, show its name",
    "write a poem about the sea",  # refused by the gate
    "get the contents of https://example.com and show them",
]


@pytest.fixture(scope="module")
def pool(shipped_generator):
    p = GeneratorPool(None, 2)
    yield p
    p.close()


def _same(a, b) -> None:
    assert (a.accepted, a.reason, a.dsl, a.validity, a.shortcut, a.tokens, a.source) == (
        b.accepted,
        b.reason,
        b.dsl,
        b.validity,
        b.shortcut,
        b.tokens,
        b.source,
    )


def test_pool_gives_what_the_in_process_generator_gives(pool, shipped_generator):
    assert pool.catalog.actions == shipped_generator.catalog.actions
    for prompt in PROMPTS:
        _same(pool.generate(prompt), shipped_generator.generate(prompt))


def test_a_batch_in_a_worker_gives_what_each_request_gets_alone(pool, shipped_generator):
    together = pool.generate_each(PROMPTS + [""])
    for prompt, gen in zip(PROMPTS, together[:-1], strict=True):
        _same(gen, shipped_generator.generate(prompt))
    assert not together[-1].accepted and "empty" in together[-1].reason


def test_pool_survives_a_killed_worker(pool, shipped_generator):
    pids = {pool._pool.submit(os.getpid).result() for _ in range(8)}
    assert pids and os.getpid() not in pids
    os.kill(next(iter(pids)), signal.SIGKILL)
    time.sleep(0.5)
    # the next requests start a fresh pool and are answered, with the same programs
    for prompt in PROMPTS[:2]:
        _same(pool.generate(prompt), shipped_generator.generate(prompt))


def test_a_model_that_does_not_load_fails_the_start_with_its_own_error(tmp_path):
    with pytest.raises(DataError) as err:
        GeneratorPool(str(tmp_path / "nope"), 2)
    assert "model folder not found" in str(err.value) and "nope" in str(err.value)


def test_serve_with_two_workers_starts_answers_and_leaves_no_process(shipped_generator):
    with ServeProcess("--workers", "2") as server:
        print(f"sashimi serve --workers 2 answered after {server.seconds:.2f} s")
        assert server.health["generator"] == "GeneratorPool"
        workers = psutil.Process(server.proc.pid).children(recursive=True)
        assert len([w for w in workers if "multiprocessing" in " ".join(w.cmdline())]) >= 2
        body = httpx.post(f"{server.url}/api/generate", json={"prompt": PROMPTS[0]}, timeout=60).json()
        assert body["accepted"] and body["validity"]["strict"] and body["download_url"]
        file = httpx.get(f"{server.url}{body['download_url']}", timeout=10)
        assert file.status_code == 200 and file.content.startswith(b"bplist00")
    deadline = time.monotonic() + 10  # the worker processes go with the server
    while any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers):
        assert time.monotonic() < deadline, "worker processes outlived the server"
        time.sleep(0.1)


def test_every_module_the_fork_server_preloads_imports():
    """multiprocessing ignores a preload module that fails to import: each worker would then import it
    itself, and start-up would quietly be slow again (RESULTS §8)."""
    import importlib

    from sashimi.serve.pool import PRELOAD

    for name in PRELOAD:
        importlib.import_module(name)
    assert "sashimi.model.generator" in PRELOAD and "sashimi.model.export" in PRELOAD  # torch comes with them


def test_workers_are_forked_by_a_fork_server_that_has_imported_torch(pool):
    """Workers come from the fork server (not a fresh interpreter each): their parent is neither this
    process nor init, and it has torch in memory."""
    parents = {pool._pool.submit(os.getppid).result() for _ in range(4)}
    assert os.getpid() not in parents and 1 not in parents
    fork_server = psutil.Process(next(iter(parents)))
    assert "forkserver" in " ".join(fork_server.cmdline())
    assert any("libtorch" in m.path for m in fork_server.memory_maps())


def test_workers_end_when_the_server_is_killed(shipped_generator):
    """SIGKILL leaves no chance to shut the pool down: the workers notice on their own."""
    with ServeProcess("--workers", "2") as server:
        workers = psutil.Process(server.proc.pid).children(recursive=True)
        assert len(workers) >= 3  # the fork server and two workers (and multiprocessing's resource tracker)
        server.proc.kill()
        server.proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers):
            assert time.monotonic() < deadline, "worker processes outlived the killed server"
            time.sleep(0.2)


def test_startup_benchmark_reports_each_start_and_leaves_no_process(shipped_generator, tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "serve_startup.py"
    spec = importlib.util.spec_from_file_location("serve_startup", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "startup.json"
    before = set(psutil.pids())
    # a generous limit: this checks the script, not this machine's speed
    assert bench.main(["--runs", "1", "--pause-s", "0", "--limit-s", "120", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert len(report["runs"]) == 1 and 0 < report["runs"][0] <= 120 and report["all_within_limit"]
    left = []  # the server, its fork server or workers still running (orphans included)
    for p in psutil.process_iter():
        try:
            if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE:
                line = " ".join(p.cmdline())
                if "sashimi.cli" in line or "multiprocessing" in line:
                    left.append(line)
        except psutil.Error:
            pass
    assert not left, left
    # a limit no start can meet: exit status 1, the report says so
    assert bench.main(["--runs", "1", "--pause-s", "0", "--limit-s", "0.001", "--out", str(out)]) == 1
    assert json.loads(out.read_text())["all_within_limit"] is False


def test_without_a_fork_server_workers_are_spawned(monkeypatch):
    """Windows has no fork server: the pool falls back to `spawn` (each worker imports for itself)."""
    import multiprocessing

    from sashimi.serve import pool as pool_module

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert pool_module.start_fork_server().get_start_method() == "spawn"
