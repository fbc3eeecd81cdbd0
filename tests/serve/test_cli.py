"""`sashimi serve` on the command line."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from sashimi.cli import main


def test_serve_is_a_top_level_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--host", "--port", "--model", "--cors", "--rate-limit"):
        assert flag in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["serve", "--port", "70000"], "--port"),
        (["serve", "--cors", "*"], "--cors"),
        (["serve", "--rate-limit", "0"], "--rate-limit"),
    ],
)
def test_bad_arguments_are_one_line_errors(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_missing_model_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert "model folder not found" in err and len(err.splitlines()) == 1


def test_serve_starts_and_answers(shipped_generator):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sashimi.cli", "serve", "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while True:
            assert proc.poll() is None, proc.stderr.read()
            assert time.perf_counter() - t0 < 60, "no answer within 60 s"
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        assert r.json()["generator"] == "Generator"
        print(f"sashimi serve answered after {time.perf_counter() - t0:.2f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
