"""Fixtures for the sign-in tests: an emulator that polls fast, settings that point at it with a
token store in a temporary directory, and a helper for the emulator's control API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.auth import device_flow
from assistant.auth.oauth import OAuthHttp
from assistant.auth.store import FileStore, TokenRecord
from assistant.config import AuthSettings, Settings, WebexSettings
from assistant.webex.emulator import Emulator
from assistant.webex.scenario import Scenario

CLIENT_ID = "test-integration-id"
CLIENT_SECRET = "test-integration-secret-9f3c"
AUTH_SCENARIO = {
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "device_poll_interval_seconds": 1,  # Webex says 5; the emulator replies in whole seconds
}


@pytest.fixture
def auth_emulator() -> Iterator[Emulator]:
    """An emulator that checks the integration's client id and secret and lets the device grant
    be polled every second."""
    with Emulator(Scenario.from_dict({"auth": AUTH_SCENARIO})) as emu:
        yield emu


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "tokens.json"


@pytest.fixture
def auth_settings(auth_emulator: Emulator, token_file: Path) -> Settings:
    """Settings for signing in to the emulator: no WEBEX_ACCESS_TOKEN, a temporary store."""
    return Settings(
        webex=WebexSettings(
            url=auth_emulator.url, connect_timeout_seconds=2.0, read_timeout_seconds=2.0
        ),
        auth=AuthSettings(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            token_store=str(token_file),
        ),
    )


def control(emulator: Emulator, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST to the emulator's control API over loopback; the JSON reply (None when empty)."""
    response = httpx.post(f"{emulator.url}/_emulator/{path}", json=body or {}, timeout=5.0)
    response.raise_for_status()
    return response.json() if response.content else None


def known_secrets(emulator: Emulator) -> set[str]:
    """Every access token, live refresh token and device code the emulator knows, and the
    client secret (rotated and revoked refresh tokens are gone: collect them as you go)."""
    auth = emulator.state.auth
    with auth.lock:
        return set(auth.access) | set(auth.refresh) | set(auth.devices) | {CLIENT_SECRET}


def sign_in(emulator: Emulator, settings: Settings) -> TokenRecord:
    """A real device-grant sign-in against the emulator, approved through its control API."""
    with OAuthHttp(settings.webex) as http:
        code = device_flow.authorize(http, settings.auth)
        control(emulator, "device/approve", {"user_code": code.user_code})
        # approved before the first poll: nothing to wait for (test_auth_device_flow waits)
        return device_flow.poll(http, settings.auth, code, sleep=lambda seconds: None)


@pytest.fixture
def signed_in(auth_emulator: Emulator, auth_settings: Settings, token_file: Path) -> TokenRecord:
    """Signed in to the emulator, the sign-in stored in ``token_file``."""
    record = sign_in(auth_emulator, auth_settings)
    FileStore(token_file).save(record)
    return record
