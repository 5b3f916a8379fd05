"""Fixtures for the sign-in tests: an emulator that polls fast, settings that point at it with a
token store in a temporary directory, and a helper for the emulator's control API."""

from __future__ import annotations

import time
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
from assistant.webex.emulator_auth import AuthConfig
from assistant.webex.scenario import Scenario

CLIENT = AuthConfig()  # the emulator's default integration: client id and secret


@pytest.fixture
def auth_emulator() -> Iterator[Emulator]:
    """An emulator whose device grant may be polled every 0.2 s (Webex says 2-5 s)."""
    scenario = Scenario.from_dict({"auth": {"interval_seconds": 0.2}})
    with Emulator(scenario) as emu:
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
            client_id=CLIENT.client_id,
            client_secret=CLIENT.client_secret,
            token_store=str(token_file),
        ),
    )


def control(emulator: Emulator, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST to the emulator's control API over loopback; the JSON reply."""
    response = httpx.post(f"{emulator.url}/_emulator/{path}", json=body or {}, timeout=5.0)
    response.raise_for_status()
    return response.json()


def issued_secrets(emulator: Emulator) -> set[str]:
    """Every token and device code the emulator ever handed out, and the client secret."""
    auth = emulator.state.auth
    with auth.lock:
        return set(auth.issued) | {CLIENT.client_secret}


def sign_in(emulator: Emulator, settings: Settings) -> TokenRecord:
    """A real device-grant sign-in against the emulator, approved through its control API."""
    with OAuthHttp(settings.webex) as http:
        code = device_flow.authorize(http, settings.auth)
        control(emulator, "device/approve", {"user_code": code.user_code})
        return device_flow.poll(http, settings.auth, code, sleep=lambda s: time.sleep(0.25))


@pytest.fixture
def signed_in(auth_emulator: Emulator, auth_settings: Settings, token_file: Path) -> TokenRecord:
    """Signed in to the emulator, the sign-in stored in ``token_file``."""
    record = sign_in(auth_emulator, auth_settings)
    FileStore(token_file).save(record)
    return record
