"""Fixtures for the webex tests: the emulator on a loopback port, settings and a client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.config import WebexSettings
from assistant.webex.client import WebexClient
from assistant.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started emulator with the default scenario on 127.0.0.1 and an ephemeral port."""
    with Emulator() as emu:
        yield emu


@pytest.fixture
def webex_settings(emulator: Emulator) -> WebexSettings:
    """Settings pointing at the emulator, with its token and short timeouts."""
    return WebexSettings(
        url=emulator.url,
        access_token=emulator.token,
        connect_timeout_seconds=2.0,
        read_timeout_seconds=2.0,
        max_retry_after_seconds=3.0,
    )


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the client asked for (the ``client`` fixture's sleep records here, then sleeps)."""
    return []


@pytest.fixture
def client(webex_settings: WebexSettings, sleeps: list[float]) -> Iterator[WebexClient]:
    import time

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    with WebexClient(webex_settings, sleep=sleep) as c:
        yield c
