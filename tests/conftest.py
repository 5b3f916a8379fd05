"""Shared fixtures live in one module per area, so each area's fixtures have one owner."""

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test (and every process it starts) remembers in its own state folder, never the
    machine's: a "stop listening" or a call count must not leak between tests."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(folder))
    yield folder

pytest_plugins = [
    "fixtures_webex",
    "fixtures_speech",
    "fixtures_audio",
    "fixtures_auth",
    "fixtures_loop",
]
