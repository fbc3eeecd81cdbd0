"""Helpers of the serve tests that start `sashimi serve` as a real process."""

from __future__ import annotations

import time


class ServeProcess:
    """`sashimi serve --port P --quiet EXTRA...` as a child process, until its health endpoint answers
    (`seconds`: from the start to the first answer, `health`: that answer); terminated on exit."""

    def __init__(self, *extra: str, timeout_s: float = 90.0):
        import socket
        import sys

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._argv = [sys.executable, "-m", "sashimi.cli", "serve", "--port", str(self.port), "--quiet", *extra]
        self._timeout_s = timeout_s

    def __enter__(self) -> ServeProcess:
        import subprocess

        import httpx

        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self._argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            while True:
                assert self.proc.poll() is None, self.proc.stderr.read()
                assert time.perf_counter() - t0 < self._timeout_s, f"no answer within {self._timeout_s} s"
                try:
                    self.health = httpx.get(f"{self.url}/api/health", timeout=1).json()
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
        except BaseException:
            self.__exit__()
            raise
        self.seconds = time.perf_counter() - t0
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
