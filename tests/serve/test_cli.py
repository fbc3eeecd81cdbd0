"""`sashimi serve` on the command line."""

from __future__ import annotations

import pytest

from sashimi.cli import main
from sashimi.serve.cli import default_workers
from tests.serve.helpers import ServeProcess


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
        (["serve", "--workers", "0"], "--workers"),
        (["serve", "--max-batch", "0"], "--max-batch"),
        (["serve", "--batch-wait-ms", "-1"], "--batch-wait-ms"),
        (["serve", "--batch-wait-ms", "nan"], "--batch-wait-ms"),
        (["serve", "--batch-wait-ms", "5000"], "--batch-wait-ms"),
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
    with ServeProcess() as server:
        print(f"sashimi serve answered after {server.seconds:.2f} s")
        # by default one generation process per usable core (2 cores: two worker processes)
        assert server.health["generator"] == ("GeneratorPool" if default_workers() > 1 else "Generator")
