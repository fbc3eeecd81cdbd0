"""The package's layers are one-way (architecture.md §7), checked by the import-linter contract in
pyproject.toml: an upward import fails this test, whether at module level or inside a function."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import sashimi

ROOT = Path(__file__).resolve().parents[1]


def _lint(src: Path, config: Path) -> subprocess.CompletedProcess:
    """Run the import-linter contracts of `config` over the `sashimi` package found in `src`."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True))"
    )
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=src)


def test_the_tested_package_is_this_checkout():
    assert Path(sashimi.__file__).resolve().is_relative_to(ROOT / "src")


def test_layer_contract_is_kept():
    result = _lint(ROOT / "src", ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_inside_a_function_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "src" / "sashimi", tmp_path / "sashimi", ignore=shutil.ignore_patterns("assets"))
    with open(tmp_path / "sashimi" / "dsl" / "printer.py", "a") as fh:
        fh.write("\n\ndef _upward():\n    from sashimi.eval import metrics  # noqa: F401\n")
    result = _lint(tmp_path, ROOT / "pyproject.toml")
    assert result.returncode != 0
    assert "sashimi.dsl.printer -> sashimi.eval.metrics" in result.stdout
