"""Fixtures of the serve tests: an explicit test double of the generator for the HTTP layer's unit
tests, and the real shipped generator (skipping with the reason when it cannot be loaded)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sashimi.dsl.catalog import Catalog
from sashimi.dsl.pipeline import run_pipeline
from sashimi.model.generator import Generation

ROOT = Path(__file__).resolve().parents[2]
WATER = (ROOT / "examples" / "log-water.dsl").read_text(encoding="utf-8")


class FakeGenerator:
    """A test double of `Generator` for the HTTP layer only: accepts prompts mentioning water with a
    fixed, hand-written program (compiled by the real toolchain), refuses everything else. It also
    records the largest number of concurrent `generate` calls, to test the server's serialisation."""

    def __init__(self, delay_s: float = 0.0):
        self.delay_s = delay_s
        self.calls: list[tuple[str, int]] = []
        self._active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        result = run_pipeline(WATER, Catalog.load(None), do_lint=False)
        assert result.compiled_strict
        self._bytes = result.shortcut_bytes

    def generate(self, prompt: str, *, beam: int = 1) -> Generation:
        with self._lock:
            self._active += 1
            self.max_active = max(self.max_active, self._active)
            self.calls.append((prompt, beam))
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            if "explode" in prompt:
                raise RuntimeError("secret internal detail /home/x/model.py line 12")
            read_as = prompt.replace("watre", "water") if "watre" in prompt else ""  # a spelling correction
            if "water" in (read_as or prompt).lower():
                return Generation(
                    True, "", WATER, {"strict": True}, self._bytes, 1.0, {}, name="Log Water", read_as=read_as
                )
            return Generation(False, "this request is not something a Shortcut can do", "", {}, None, 1.0, {})
        finally:
            with self._lock:
                self._active -= 1


@pytest.fixture
def fake_generator() -> FakeGenerator:
    return FakeGenerator()


class LiveServer:
    """A real uvicorn server in a background thread on 127.0.0.1 and a free port."""

    def __init__(self, app):
        import socket

        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
