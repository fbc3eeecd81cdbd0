"""Fixtures for model tests: one MiniLM encoder per session with a private cache directory."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def encoder(tmp_path_factory):
    from sashimi.model.encoder import Encoder

    return Encoder(tmp_path_factory.mktemp("emb-cache"), progress=False)
