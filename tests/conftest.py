"""Shared fixtures. Tests that need the external corpus skip with a reason when `../shared` is absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHORTCUTFORGE = ROOT.parent / "shared" / "data" / "shortcutforge"


@pytest.fixture(scope="session")
def shortcutforge_dir() -> Path:
    """Directory of the external ShortcutForge data (train.jsonl + catalog), or skip."""
    if not (SHORTCUTFORGE / "train.jsonl").is_file():
        pytest.skip(f"external corpus not found at {SHORTCUTFORGE} (../shared absent)")
    return SHORTCUTFORGE


@pytest.fixture(scope="session")
def corpus_rows(shortcutforge_dir: Path) -> list[dict]:
    """The real train rows, read by path (never copied into the project)."""
    with open(shortcutforge_dir / "train.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="session")
def corpus_targets(corpus_rows: list[dict]) -> list[tuple[str, str]]:
    """(shortcut_id, DSL target) for every real train row."""
    return [(r["shortcut_id"], r["messages"][2]["content"]) for r in corpus_rows]


@pytest.fixture(scope="session")
def encoder(tmp_path_factory):
    """One MiniLM encoder per session with a private cache directory (model and benchmark tests)."""
    from sashimi.model.encoder import Encoder

    return Encoder(tmp_path_factory.mktemp("emb-cache"), progress=False)


# Property tests search at random on a developer's machine (to find new bugs) and replay a fixed
# sequence in CI (so a run is reproducible); every bug they found is pinned as an explicit @example.
import os as _os  # noqa: E402

from hypothesis import settings as _hsettings  # noqa: E402

_hsettings.register_profile("ci", derandomize=True, print_blob=True)
if _os.environ.get("CI"):
    _hsettings.load_profile("ci")


@pytest.fixture(scope="session")
def shipped_generator():
    """The real shipped generator (one load for the session). Skips only while no shipped model is in
    the tree; a shipped model that exists but does not load is a failure, not a skip."""
    from sashimi.model.generator import DEFAULT_MODEL_DIR, Generator

    if not (DEFAULT_MODEL_DIR / "meta.json").is_file():
        pytest.skip(f"no shipped model in this tree ({DEFAULT_MODEL_DIR} is missing; issue 13 has not landed)")
    return Generator.load()
