"""The emulator through raw HTTP: control API, call states, the documented refusals, faults,
scenarios, and clean shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.errors import ConfigError
from assistant.emulator import Emulator, Scenario

CALLS = "/v1/telephony/calls"
DESK_ID = "Y2lzY29zcGFyazovL3VzL0RFVklDRS9kZXNrLTg4NjU"
LOBBY_ID = "Y2lzY29zcGFyazovL3VzL0RFVklDRS9sb2JieS03ODQx"


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {emulator.token}", "TrackingID": "TEST_1"}
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=5) as client:
        yield client


def ring(http: httpx.Client, **caller: Any) -> str:
    response = http.post("/_emulator/ring", json=caller)
    assert response.status_code == 201
    return str(response.json()["callId"])


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["trackingId"] == response.headers["TrackingID"] == "TEST_1"
    assert body["errors"] == [{"description": body["message"]}]
    return str(body["message"])


def test_ring_lists_an_alerting_incoming_call(http: httpx.Client) -> None:
    call_id = ring(http, name="Dana Smith", number="+15551234567")
    [call] = http.get(CALLS).json()["items"]
    assert call["id"] == call_id
    assert (call["personality"], call["state"]) == ("terminator", "alerting")
    assert call["remoteParty"]["name"] == "Dana Smith"
    assert http.get(f"{CALLS}/{call_id}").json() == call


def test_private_call_has_no_name_or_number(http: httpx.Client) -> None:
    ring(http, name="Hidden", number="123", privacy=True)
    party = http.get(CALLS).json()["items"][0]["remoteParty"]
    assert party == {"privacyEnabled": True, "callType": "external"}


def test_request_log_records_bodies(http: httpx.Client) -> None:
    call_id = ring(http, name="Dana")
    assert http.post(f"{CALLS}/answer", json={"callId": call_id, "endpointId": DESK_ID}).status_code == 204
    log = http.get("/_emulator/requests").json()
    assert [(r["method"], r["path"], r["status"]) for r in log] == [("POST", f"{CALLS}/answer", 204)]
    assert log[0]["json"] == {"callId": call_id, "endpointId": DESK_ID}
    assert isinstance(log[0]["t"], float) and log[0]["trackingId"] == "TEST_1"


def test_answer_on_a_call_that_is_not_alerting(http: httpx.Client) -> None:
    call_id = ring(http)
    assert http.post(f"{CALLS}/answer", json={"callId": call_id}).status_code == 204
    assert error(http.post(f"{CALLS}/answer", json={"callId": call_id}), 409) == "The call is not alerting."


def test_answer_refusals(http: httpx.Client) -> None:
    call_id = ring(http)
    answer = f"{CALLS}/answer"
    assert "not one of" in error(http.post(answer, json={"callId": call_id, "endpointId": "nope"}), 400)
    assert "does not support" in error(http.post(answer, json={"callId": call_id, "endpointId": LOBBY_ID}), 400)
    assert error(http.post(answer, json={"endpointId": DESK_ID}), 400) == "callId is required."
    assert error(http.post(answer, json={"callId": "unknown"}), 404) == "Call not found."
    assert "JSON" in error(http.post(answer, content=b"callId=1", headers={"Content-Type": "text/plain"}), 415)
    assert "JSON" in error(http.post(answer, content=b"{oops", headers={"Content-Type": "application/json"}), 415)
    assert error(http.get(answer), 405)
    assert error(http.delete(CALLS), 405)
    assert error(http.get("/v1/nothing/here"), 404)
    assert http.get(f"{CALLS}/{call_id}").json()["state"] == "alerting"  # none of that answered it


def test_bad_or_missing_token(http: httpx.Client) -> None:
    assert "access token" in error(http.get(CALLS, headers={"Authorization": "Bearer wrong"}), 401)
    del http.headers["Authorization"]
    error(http.get(CALLS), 401)


def test_state_changes_and_their_refusals(http: httpx.Client) -> None:
    call_id = ring(http)
    body = {"callId": call_id}
    error(http.post(f"{CALLS}/hold", json=body), 409)  # not connected yet
    error(http.post(f"{CALLS}/mute", json=body), 409)
    http.post(f"{CALLS}/answer", json=body)
    assert http.post(f"{CALLS}/hold", json=body).status_code == 204
    error(http.post(f"{CALLS}/hold", json=body), 409)
    assert http.get(f"{CALLS}/{call_id}").json()["state"] == "held"
    assert http.post(f"{CALLS}/resume", json=body).status_code == 204
    error(http.post(f"{CALLS}/reject", json=body), 409)  # only a ringing call can be rejected
    error(http.post(f"{CALLS}/divert", json=body), 400)  # neither toVoicemail nor destination
    assert http.post(f"{CALLS}/hangup", json=body).status_code == 204
    error(http.get(f"{CALLS}/{call_id}"), 404)
    assert http.get(f"{CALLS}/history", params={"type": "received"}).json()["items"][0]["type"] == "received"


def test_bad_reject_action(http: httpx.Client) -> None:
    call_id = ring(http)
    assert "busy" in error(http.post(f"{CALLS}/reject", json={"callId": call_id, "action": "loud"}), 400)


def test_ringing_stops_after_the_ring_timeout(emulator: Emulator) -> None:
    with Emulator(Scenario.from_dict({"ring_timeout_seconds": 0})) as quick:
        quick.ring("Dana")
        assert quick.calls() == []
        assert [r["type"] for r in quick.state.history] == ["missed"]
    assert Scenario.default().ring_timeout_seconds == 30


def test_ring_timeout_uses_the_clock(emulator: Emulator, http: httpx.Client) -> None:
    now = [1000.0]
    emulator.state.clock = lambda: now[0]
    call_id = ring(http)
    now[0] += 29.9
    assert http.get(f"{CALLS}/{call_id}").json()["state"] == "alerting"
    now[0] += 0.2
    error(http.get(f"{CALLS}/{call_id}"), 404)
    assert http.get(f"{CALLS}/history", params={"type": "missed"}).json()["items"][0]["type"] == "missed"


def test_caller_hangs_up_through_the_control_api(http: httpx.Client) -> None:
    call_id = ring(http, name="Dana")
    assert http.post(f"/_emulator/calls/{call_id}/end", json={}).status_code == 204
    assert http.get(CALLS).json()["items"] == []
    assert http.post(f"/_emulator/calls/{call_id}/end").status_code == 404
    elsewhere = ring(http, name="Sam")
    http.post(f"/_emulator/calls/{elsewhere}/end", json={"reason": "elsewhere"})
    [picked_up] = http.get(CALLS).json()["items"]  # picked up by hand: connected, still listed
    assert picked_up["id"] == elsewhere and picked_up["state"] == "connected"
    http.post(f"/_emulator/calls/{elsewhere}/end", json={})
    assert [r["type"] for r in http.get(f"{CALLS}/history").json()["items"]] == ["received", "missed"]


def test_history_keeps_20_per_type(emulator: Emulator) -> None:
    for n in range(25):
        emulator.end_call(emulator.ring(f"Caller {n}"))
    missed = emulator.state.history
    assert len(missed) == 20 and missed[0]["name"] == "Caller 24"


def test_faults_through_the_control_api(http: httpx.Client) -> None:
    fault = {"method": "GET", "path": "/telephony/calls", "status": 429, "retryAfter": 2, "count": 2}
    assert http.post("/_emulator/faults", json=fault).status_code == 204
    for _ in range(2):
        response = http.get(CALLS)
        assert response.status_code == 429 and response.headers["Retry-After"] == "2"
        assert error(response, 429) == "Too Many Requests"
    assert http.get(CALLS).status_code == 200
    assert http.post("/_emulator/faults", json={"path": "*", "colour": "red"}).status_code == 400


def test_fault_message_and_wildcard_path(http: httpx.Client) -> None:
    http.post("/_emulator/faults", json={"method": "POST", "path": "/v1/telephony/calls/*",
                                          "status": 503, "message": "Try later"})
    assert error(http.post(f"{CALLS}/hold", json={"callId": "x"}), 503) == "Try later"


def test_dropped_and_malformed(http: httpx.Client) -> None:
    http.post("/_emulator/faults", json={"method": "GET", "path": CALLS, "drop": True})
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(CALLS)
    http.post("/_emulator/faults", json={"method": "GET", "path": CALLS, "malformed": True})
    response = http.get(CALLS)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_reset(http: httpx.Client) -> None:
    ring(http)
    http.post("/_emulator/faults", json={"method": "GET", "path": CALLS, "status": 500})
    http.put(f"{'/v1/telephony/config/people/me/settings'}/preferredAnswerEndpoint",
             json={"preferredAnswerEndpointId": DESK_ID})
    assert http.post("/_emulator/reset").status_code == 204
    assert http.get(CALLS).json() == {"items": []}
    assert http.get("/_emulator/requests").json()[0]["path"] == CALLS
    preferred = http.get("/v1/telephony/config/people/me/settings/preferredAnswerEndpoint").json()
    assert preferred["name"] == "Webex Desktop Application"


def test_scenario_file_changes_endpoints_token_and_wording(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(
        'token = "secret-2"\n'
        "[[endpoints]]\n"
        'id = "e1"\ntype = "DEVICE"\nname = "Polycom VVX 450 (Kitchen)"\npreferred = true\n'
        "[refusals]\n"
        'not_alerting = { status = 400, message = "Le appel ne sonne pas." }\n'
    )
    scenario = Scenario.from_file(path)
    with Emulator(scenario) as emu, httpx.Client(base_url=emu.url) as http:
        http.headers["Authorization"] = "Bearer secret-2"
        endpoints = http.get("/v1/telephony/config/people/me/settings/availablePreferredAnswerEndpoints")
        assert [e["name"] for e in endpoints.json()["endpoints"]] == ["Polycom VVX 450 (Kitchen)"]
        call_id = emu.ring("Dana")
        http.post(f"{CALLS}/answer", json={"callId": call_id})
        again = http.post(f"{CALLS}/answer", json={"callId": call_id})
        assert again.status_code == 400 and again.json()["message"] == "Le appel ne sonne pas."
        assert emu.token == "secret-2"


@pytest.mark.parametrize(
    "text, key",
    [
        ('colour = "red"', "colour"),
        ("ring_timeout_seconds = -1", "ring_timeout_seconds"),
        ('[[endpoints]]\nid = "a"\ntype = "PHONE"\nname = "x"', "endpoints[0].type"),
        ('[refusals]\nnot_alerting = { status = 200, message = "x" }', "refusals.not_alerting.status"),
        ('[refusals]\nnew_thing = { status = 400, message = "x" }', "refusals.new_thing"),
        ("token = [", "(syntax)"),
    ],
)
def test_bad_scenario_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Scenario.from_file(path)
    assert info.value.key == key and info.value.path == str(path)


def test_stop_leaves_no_threads_behind() -> None:
    before = set(threading.enumerate())
    emu = Emulator().start()
    with httpx.Client(base_url=emu.url) as http:  # a keep-alive connection still open at stop
        http.get("/_emulator/requests")
        emu.stop()
    assert set(threading.enumerate()) <= before


def test_start_is_idempotent_so_started_emulators_work_as_context_managers() -> None:
    before = set(threading.enumerate())
    emu = Emulator().start()
    url = emu.url
    with emu as same:  # e.g. ExitStack.enter_context(Emulator().start())
        assert same is emu and emu.url == url
    assert set(threading.enumerate()) <= before
