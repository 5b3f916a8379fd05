"""The emulator's OAuth endpoints and sign-in controls, spoken to over loopback with plain httpx
(the shapes the real client relies on, and the refusals RFC 8628 names)."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest
from fixtures_auth import CLIENT, control

from assistant.errors import ConfigError
from assistant.webex.emulator import Emulator
from assistant.webex.emulator_auth import DEVICE_GRANT
from assistant.webex.scenario import Scenario

SCOPE = "spark:calls_read"


def post(emulator: Emulator, path: str, form: dict[str, str], **kw: Any) -> httpx.Response:
    return httpx.post(f"{emulator.url}/v1/{path}", data=form, timeout=5.0, **kw)


def basic() -> dict[str, str]:
    pair = f"{CLIENT.client_id}:{CLIENT.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def authorize(emulator: Emulator) -> dict[str, Any]:
    reply = post(emulator, "device/authorize", {"client_id": CLIENT.client_id, "scope": SCOPE})
    assert reply.status_code == 200
    data: dict[str, Any] = reply.json()
    return data


def poll(emulator: Emulator, device_code: str) -> httpx.Response:
    form = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": CLIENT.client_id}
    return post(emulator, "device/token", form, headers=basic())


def tokens(emulator: Emulator) -> dict[str, Any]:
    code = authorize(emulator)
    control(emulator, "device/approve", {"user_code": code["user_code"]})
    reply = poll(emulator, code["device_code"])
    assert reply.status_code == 200
    data: dict[str, Any] = reply.json()
    return data


def me(emulator: Emulator, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{emulator.url}/v1/people/me", headers=headers, timeout=5.0).status_code


def refresh(emulator: Emulator, refresh_token: str) -> httpx.Response:
    return post(emulator, "access_token", {
        "grant_type": "refresh_token", "client_id": CLIENT.client_id,
        "client_secret": CLIENT.client_secret, "refresh_token": refresh_token,
    })


def test_device_authorization_reply_has_the_rfc_8628_fields(auth_emulator: Emulator) -> None:
    data = authorize(auth_emulator)
    assert set(data) >= {"device_code", "user_code", "verification_uri",
                         "verification_uri_complete", "expires_in", "interval"}
    assert data["user_code"] in data["verification_uri_complete"]


def test_pending_then_tokens_once_then_the_code_is_spent(auth_emulator: Emulator) -> None:
    code = authorize(auth_emulator)
    pending = poll(auth_emulator, code["device_code"])
    assert pending.status_code == 428  # Webex's way of saying authorization_pending
    assert pending.json()["error"] == "authorization_pending"
    assert "trackingId" in pending.json()
    control(auth_emulator, "device/approve")
    time.sleep(0.25)  # the interval
    data = poll(auth_emulator, code["device_code"]).json()
    assert data["token_type"] == "Bearer" and data["scope"] == SCOPE
    assert data["expires_in"] > 0 and data["refresh_token_expires_in"] > data["expires_in"]
    assert poll(auth_emulator, code["device_code"]).json()["error"] == "invalid_grant"


def test_issued_tokens_work_alongside_the_scenario_token(auth_emulator: Emulator) -> None:
    data = tokens(auth_emulator)
    assert me(auth_emulator, data["access_token"]) == 200
    assert me(auth_emulator, auth_emulator.token) == 200
    assert me(auth_emulator, data["refresh_token"]) == 401  # a refresh token is no bearer token
    control(auth_emulator, "tokens/expire")
    assert me(auth_emulator, data["access_token"]) == 401
    assert me(auth_emulator, auth_emulator.token) == 200  # the scenario token never expires


def test_refresh_rotates_and_the_old_refresh_token_stops_working(auth_emulator: Emulator) -> None:
    first = tokens(auth_emulator)
    second = refresh(auth_emulator, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert me(auth_emulator, second["access_token"]) == 200
    again = refresh(auth_emulator, first["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_refresh_without_rotation_keeps_the_refresh_token() -> None:
    scenario = Scenario.from_dict({"auth": {"rotate_refresh_tokens": False, "auto_approve": True}})
    with Emulator(scenario) as emu:
        code = authorize(emu)
        first = poll(emu, code["device_code"]).json()
        second = refresh(emu, first["refresh_token"]).json()
        assert second["refresh_token"] == first["refresh_token"]
        assert second["access_token"] != first["access_token"]


def test_revocation_ends_refresh_and_optionally_access(auth_emulator: Emulator) -> None:
    data = tokens(auth_emulator)
    assert control(auth_emulator, "tokens/revoke") == {"revoked": 1}
    assert refresh(auth_emulator, data["refresh_token"]).status_code == 400
    assert me(auth_emulator, data["access_token"]) == 200
    control(auth_emulator, "tokens/revoke", {"accessTokens": True})
    assert me(auth_emulator, data["access_token"]) == 401


@pytest.mark.parametrize(
    ("path", "form", "headers", "status", "error"),
    [
        ("device/authorize", {"client_id": "someone-else", "scope": SCOPE}, {}, 400,
         "invalid_client"),
        ("device/authorize", {"client_id": CLIENT.client_id}, {}, 400, "invalid_scope"),
        ("device/token", {"grant_type": DEVICE_GRANT, "device_code": "x"}, {}, 401,
         "invalid_client"),
        ("access_token", {"grant_type": "authorization_code", "client_id": CLIENT.client_id,
                          "client_secret": CLIENT.client_secret}, {}, 400,
         "unsupported_grant_type"),
        ("access_token", {"grant_type": "refresh_token", "client_id": CLIENT.client_id,
                          "client_secret": "wrong", "refresh_token": "x"}, {}, 401,
         "invalid_client"),
    ],
)
def test_refusals(auth_emulator: Emulator, path: str, form: dict[str, str],
                  headers: dict[str, str], status: int, error: str) -> None:
    reply = post(auth_emulator, path, form, headers=headers)
    assert (reply.status_code, reply.json()["error"]) == (status, error)


def test_json_bodies_are_refused_as_webex_does(auth_emulator: Emulator) -> None:
    reply = httpx.post(f"{auth_emulator.url}/v1/device/authorize",
                       json={"client_id": CLIENT.client_id, "scope": SCOPE}, timeout=5.0)
    assert reply.status_code == 415


def test_approving_with_nothing_pending_is_a_404(auth_emulator: Emulator) -> None:
    reply = httpx.post(f"{auth_emulator.url}/_emulator/device/approve", json={}, timeout=5.0)
    assert reply.status_code == 404


def test_faults_apply_to_the_oauth_endpoints_too(auth_emulator: Emulator) -> None:
    auth_emulator.add_fault(method="POST", path="/v1/access_token", status=503)
    assert refresh(auth_emulator, "x").status_code == 503
    assert refresh(auth_emulator, "x").status_code == 400


def test_reset_forgets_every_sign_in(auth_emulator: Emulator) -> None:
    data = tokens(auth_emulator)
    auth_emulator.reset()
    assert me(auth_emulator, data["access_token"]) == 401


@pytest.mark.parametrize(
    ("table", "key"),
    [({"auto_approve": "yes"}, "auth.auto_approve"), ({"nonsense": 1}, "auth.nonsense"),
     ({"interval_seconds": True}, "auth.interval_seconds"), ({"client_id": ""}, "auth.client_id")],
)
def test_bad_scenario_auth_table_names_the_key(table: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        Scenario.from_dict({"auth": table}, "s.toml")
    assert info.value.key == key


def test_scenario_auth_table_from_toml(tmp_path: Any) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[auth]\nclient_id = "mine"\naccess_token_seconds = 60\nauto_approve = true\n')
    scenario = Scenario.from_file(path)
    assert scenario.auth.client_id == "mine"
    assert scenario.auth.access_token_seconds == 60.0
    assert scenario.auth.auto_approve is True
    assert Scenario.default().auth.auto_approve is False
