"""The emulator's sign-in: device grant, refresh grant, expiry, rotation and revocation."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistant.emulator import Emulator, Scenario
from assistant.emulator.auth import DEVICE_GRANT

SCOPES = "spark:calls_read spark:calls_write spark:telephony_config_read spark:telephony_config_write"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(emulator: Emulator) -> Clock:
    clock = Clock()
    emulator.state.clock = clock
    return clock


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, timeout=5) as client:
        yield client


def authorize(http: httpx.Client, client_id: str = "my-app") -> dict[str, Any]:
    response = http.post("/v1/device/authorize", data={"client_id": client_id, "scope": SCOPES})
    assert response.status_code == 200, response.text
    return dict(response.json())


def poll(http: httpx.Client, device_code: str, **extra: str) -> httpx.Response:
    form = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "my-app", **extra}
    return http.post("/v1/device/token", data=form)


def sign_in(http: httpx.Client) -> dict[str, Any]:
    code = authorize(http)
    assert http.post("/_emulator/device/approve", json={}).status_code == 200
    response = poll(http, code["device_code"])
    assert response.status_code == 200, response.text
    return dict(response.json())


def refresh(http: httpx.Client, token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token, "client_id": "my-app",
            "client_secret": "s3cret"}
    return http.post("/v1/access_token", data=form)


def me(http: httpx.Client, token: str) -> httpx.Response:
    return http.get("/v1/people/me", headers={"Authorization": f"Bearer {token}"})


def test_full_device_grant(emulator: Emulator, http: httpx.Client, clock: Clock) -> None:
    code = authorize(http)
    assert code["verification_uri"] == f"{emulator.url}/_emulator/device"
    assert code["verification_uri_complete"].endswith(f"?user_code={code['user_code']}")
    assert (code["expires_in"], code["interval"]) == (300, 5)
    pending = poll(http, code["device_code"])
    assert pending.status_code == 428 and pending.json()["error"] == "authorization_pending"
    assert pending.json()["errors"][0]["description"] and pending.json()["trackingId"]
    clock.now += 1  # faster than the interval
    slow = poll(http, code["device_code"])
    assert slow.status_code == 400 and slow.json()["interval"] == 10
    assert slow.json()["error"] == "slow_down"
    approved = http.post("/_emulator/device/approve", json={"user_code": code["user_code"]})
    assert approved.json() == {"approved": 1}
    clock.now += 10
    tokens = poll(http, code["device_code"]).json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 14 * 24 * 3600
    assert tokens["refresh_token_expires_in"] == 90 * 24 * 3600 and tokens["scope"] == SCOPES
    assert me(http, tokens["access_token"]).json()["displayName"] == "Alex Emulator"
    assert poll(http, code["device_code"]).json()["error"] == "invalid_grant"  # used once


def test_verification_page_approves(http: httpx.Client) -> None:
    code = authorize(http)
    page = http.get(code["verification_uri_complete"])
    assert page.status_code == 200 and "Signed in" in page.json()["message"]
    assert poll(http, code["device_code"]).status_code == 200
    assert http.get(code["verification_uri_complete"]).status_code == 404


def test_denied_and_expired_codes(http: httpx.Client, clock: Clock) -> None:
    denied = authorize(http)
    http.post("/_emulator/device/approve", json={"user_code": denied["user_code"], "deny": True})
    assert poll(http, denied["device_code"]).json()["error"] == "access_denied"
    late = authorize(http)
    clock.now += 301
    assert poll(http, late["device_code"]).json()["error"] == "expired_token"


def test_refresh_rotates_and_old_refresh_token_dies(http: httpx.Client) -> None:
    first = sign_in(http)
    second = refresh(http, first["refresh_token"])
    assert second.status_code == 200
    tokens = second.json()
    assert tokens["refresh_token"] != first["refresh_token"]
    assert tokens["access_token"] != first["access_token"]
    assert me(http, tokens["access_token"]).status_code == 200
    again = refresh(http, first["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_expired_access_token_is_401_until_refreshed(http: httpx.Client, clock: Clock) -> None:
    tokens = sign_in(http)
    assert me(http, tokens["access_token"]).status_code == 200
    http.post("/_emulator/tokens/expire")
    expired = me(http, tokens["access_token"])
    assert expired.status_code == 401 and expired.json()["message"] == "The access token has expired."
    fresh = refresh(http, tokens["refresh_token"]).json()
    assert me(http, fresh["access_token"]).status_code == 200
    clock.now += 14 * 24 * 3600  # and tokens expire on their own
    assert me(http, fresh["access_token"]).status_code == 401


def test_revoked_refresh_token(http: httpx.Client) -> None:
    tokens = sign_in(http)
    http.post("/_emulator/tokens/revoke")
    response = refresh(http, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert "revoked" in response.json()["error_description"]


def test_client_credentials_checked_when_the_scenario_sets_them() -> None:
    scenario = Scenario.from_dict({"auth": {"client_id": "app-1", "client_secret": "s3cret",
                                            "auto_approve": True, "rotate_refresh_token": False}})
    with Emulator(scenario) as emu, httpx.Client(base_url=emu.url) as http:
        wrong = http.post("/v1/device/authorize", data={"client_id": "other", "scope": SCOPES})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        code = http.post("/v1/device/authorize", data={"client_id": "app-1", "scope": SCOPES}).json()
        basic = base64.b64encode(b"app-1:s3cret").decode()
        response = http.post("/v1/device/token", headers={"Authorization": f"Basic {basic}"},
                             data={"grant_type": DEVICE_GRANT, "device_code": code["device_code"]})
        assert response.status_code == 200  # auto_approve: no one had to approve
        tokens = response.json()
        bad_secret = http.post("/v1/access_token", data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
            "client_id": "app-1", "client_secret": "nope"})
        assert bad_secret.status_code == 401
        kept = http.post("/v1/access_token", data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
            "client_id": "app-1", "client_secret": "s3cret"}).json()
        assert kept["refresh_token"] == tokens["refresh_token"]  # rotation off


def test_sign_in_needs_a_form_body(http: httpx.Client) -> None:
    response = http.post("/v1/device/authorize", json={"client_id": "x", "scope": SCOPES})
    assert response.status_code == 415


def test_request_log_redacts_secrets(emulator: Emulator, http: httpx.Client) -> None:
    tokens = sign_in(http)
    refresh(http, tokens["refresh_token"])
    log = emulator.requests()
    assert [r["path"] for r in log] == ["/v1/device/authorize", "/v1/device/token", "/v1/access_token"]
    assert log[2]["form"] == {"grant_type": "refresh_token", "refresh_token": "[redacted]",
                              "client_id": "my-app", "client_secret": "[redacted]"}
    assert tokens["refresh_token"] not in repr(log)


def test_reset_forgets_tokens(emulator: Emulator, http: httpx.Client) -> None:
    tokens = sign_in(http)
    http.post("/_emulator/reset")
    assert me(http, tokens["access_token"]).status_code == 401
    assert me(http, emulator.token).status_code == 200  # the scenario token always works
