"""The `sashimi` command registry: every area's cli.py is listed, imports, and shows up in --help."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

import sashimi
from sashimi import cli

PACKAGE = Path(sashimi.__file__).parent


def test_every_cli_module_in_the_package_is_registered():
    found = {
        ".".join(("sashimi", *path.relative_to(PACKAGE).with_suffix("").parts))
        for pattern in ("cli.py", "cli_*.py")
        for path in PACKAGE.rglob(pattern)
        if path.parent != PACKAGE  # sashimi/cli.py is the entry point itself
    }
    assert found == set(cli.COMMAND_MODULES), "list each area's cli.py in sashimi.cli.COMMAND_MODULES"


@pytest.mark.parametrize("module", cli.COMMAND_MODULES)
def test_each_listed_module_imports_and_registers(module):
    assert callable(importlib.import_module(module).register)


def test_a_broken_command_module_is_an_error(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "sashimi.nowhere.cli"))
    with pytest.raises(ModuleNotFoundError):
        cli.build_parser()


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.add((*prefix, name))
                out |= _commands(sub, (*prefix, name))
    return out


def test_help_lists_every_command(capsys):
    commands = _commands(cli.build_parser())
    expected = {
        ("dsl", "check"), ("dsl", "compile"), ("dsl", "decompile"), ("dsl", "corpus-check"),
        ("data", "split"), ("data", "typed-ir"), ("data", "vocab"), ("data", "synth"),
        ("data", "synth-baseline"), ("data", "negatives"), ("data", "ood"),
        ("exp", "coverage"), ("exp", "encoder"), ("exp", "gate"), ("exp", "toy"), ("gate",),
    }  # fmt: skip
    assert expected <= commands
    for group in ("dsl", "data", "exp"):
        with pytest.raises(SystemExit):
            cli.main([group, "--help"])
        text = capsys.readouterr().out
        assert all(c[1] in text for c in commands if len(c) == 2 and c[0] == group)
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert all(c[0] in text for c in commands)
