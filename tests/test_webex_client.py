"""The Webex client against the emulator over a real loopback socket: every operation, every
injected fault, the retry policy and the spoken failures."""

from __future__ import annotations

import logging
import socket
from typing import Any

import httpx
import pytest

from assistant.config import WebexSettings
from assistant.emulator import Emulator
from assistant.errors import AuthError, ConfigError, WebexError, WebexNetworkError, WebexStatusError
from assistant.webex import failures
from assistant.webex.client import StaticToken, WebexClient, network_kind

ANSWER = "/v1/telephony/calls/answer"
DESK = "Cisco 8865 (Desk phone)"


def endpoint_id(client: WebexClient, name: str) -> str:
    return next(e.id for e in client.answer_endpoints() if e.name == name)


def requests_to(emulator: Emulator, path: str, method: str | None = None) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"] == path and method in (None, r["method"])]


def answered_on(emulator: Emulator, call_id: str) -> str | None:
    return next(c["endpointId"] for c in emulator.calls() if c["id"] == call_id)


# --- every operation ---------------------------------------------------------------------------


def test_list_and_get_calls(emulator: Emulator, client: WebexClient) -> None:
    assert client.list_calls() == []
    call_id = emulator.ring("Dana Smith", "+15551234567")
    [call] = client.list_calls()
    assert call.id == call_id and call.is_ringing_for_me
    assert call.remote.name == "Dana Smith" and call.remote.number == "+15551234567"
    assert client.get_call(call_id) == call


def test_private_caller_is_not_named(emulator: Emulator, client: WebexClient) -> None:
    emulator.ring("Secret Person", "+15550000000", privacy=True)
    [call] = client.list_calls()
    assert call.remote.spoken() == "a private caller" and call.remote.name is None


def test_answer_on_primary_device_sends_no_endpoint(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    client.answer(call_id)
    assert client.get_call(call_id).state == "connected"
    [request] = requests_to(emulator, ANSWER)
    assert request["json"] == {"callId": call_id} and request["status"] == 204


def test_answer_on_named_endpoint(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    desk = endpoint_id(client, DESK)
    client.answer(call_id, desk)
    [request] = requests_to(emulator, ANSWER)
    assert request["json"] == {"callId": call_id, "endpointId": desk}
    assert answered_on(emulator, call_id) == desk


@pytest.mark.parametrize("action", ["busy", "temporarilyUnavailable", "ignore"])
def test_reject_actions(emulator: Emulator, client: WebexClient, action: str) -> None:
    call_id = emulator.ring("Dana")
    client.reject(call_id, action)
    assert client.list_calls() == []
    assert requests_to(emulator, "/v1/telephony/calls/reject")[0]["json"]["action"] == action
    assert [r["type"] for r in client.call_history()] == ["missed"]


def test_hold_resume_mute_unmute_hangup(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    client.answer(call_id)
    client.hold(call_id)
    assert client.get_call(call_id).state == "held"
    client.resume(call_id)
    assert client.get_call(call_id).state == "connected"
    client.mute(call_id)
    assert client.get_call(call_id).mute_capable
    assert emulator.calls()[0]["muted"] is True
    client.unmute(call_id)
    assert emulator.calls()[0]["muted"] is False
    client.hangup(call_id)
    assert client.list_calls() == []
    assert [r["type"] for r in client.call_history("received")] == ["received"]


def test_hangup_on_ringing_call_rejects_it(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    client.hangup(call_id)
    assert client.list_calls() == [] and client.call_history("missed")


def test_divert_to_voicemail_and_destination(emulator: Emulator, client: WebexClient) -> None:
    first, second = emulator.ring("A"), emulator.ring("B")
    client.divert(first, to_voicemail=True)
    client.divert(second, destination="+12223334444")
    bodies = [r["json"] for r in requests_to(emulator, "/v1/telephony/calls/divert")]
    assert bodies == [{"callId": first, "toVoicemail": True},
                      {"callId": second, "destination": "+12223334444"}]
    assert client.list_calls() == []


def test_answer_endpoints_and_preferred(emulator: Emulator, client: WebexClient) -> None:
    endpoints = client.answer_endpoints()
    assert [e.name for e in endpoints] == [
        "Webex Desktop Application", DESK, "Cisco 8865 (Phone in reception area)", "Cisco 7841 (Lobby)"
    ]
    assert [e.type for e in endpoints] == ["APPLICATION", "DEVICE", "DEVICE", "DEVICE"]
    assert client.preferred_answer_endpoint() == endpoints[0].id
    client.set_preferred_answer_endpoint(endpoints[1].id)
    assert client.preferred_answer_endpoint() == endpoints[1].id
    assert [e.is_preferred for e in client.answer_endpoints()] == [False, True, False, False]
    client.set_preferred_answer_endpoint(None)
    assert client.preferred_answer_endpoint() is None


def test_me(client: WebexClient) -> None:
    person = client.me()
    assert person.display_name == "Alex Emulator" and person.emails == ("alex@example.com",)


# --- headers, logging, URLs, tokens ------------------------------------------------------------


def test_tracking_id_on_every_request_and_log_line_without_token(
    emulator: Emulator, client: WebexClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="assistant.webex.client")
    call_id = emulator.ring("Dana")
    client.list_calls()
    client.answer(call_id)
    ids = [r["trackingId"] for r in emulator.requests()]
    assert len(ids) == 2 and all(i.startswith("WEBEX-VOICE_") for i in ids) and len(set(ids)) == 2
    lines = [r.getMessage() for r in caplog.records if r.name == "assistant.webex.client"]
    assert lines[0].startswith("GET /telephony/calls -> 200 in ") and ids[0] in lines[0]
    assert lines[1].startswith("POST /telephony/calls/answer -> 204 in ") and " ms" in lines[1]
    assert emulator.token not in caplog.text


@pytest.mark.parametrize("url", ["http://example.com", "ftp://127.0.0.1", "http://10.0.0.1:8080"])
def test_https_required_except_loopback(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        WebexClient(WebexSettings(url=url, access_token="t"))
    assert info.value.key == "webex.url"


@pytest.mark.parametrize(("url", "sent_to"), [
    ("https://webexapis.com", "https://webexapis.com/v1/telephony/calls"),
    ("https://webexapis.com/v1/", "https://webexapis.com/v1/telephony/calls"),
    ("http://127.0.0.1:1", "http://127.0.0.1:1/v1/telephony/calls"),
    ("http://localhost:2", "http://localhost:2/v1/telephony/calls"),
    ("http://[::1]:3", "http://[::1]:3/v1/telephony/calls"),
])
def test_https_or_loopback_accepted_and_requests_go_there(url: str, sent_to: str) -> None:
    sent: list[str] = []

    def webex(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, headers={"Content-Type": "application/json"},
                              stream=httpx.ByteStream(b'{"items": []}'))

    settings = WebexSettings(url=url, access_token="t")
    with WebexClient(settings, transport=httpx.MockTransport(webex)) as client:
        assert client.list_calls() == []
    assert sent == [sent_to]


def test_url_with_or_without_v1(emulator: Emulator) -> None:
    for url in (emulator.url + "/v1", emulator.url + "/"):
        with WebexClient(WebexSettings(url=url, access_token=emulator.token)) as client:
            assert client.list_calls() == []
    assert {r["path"] for r in emulator.requests()} == {"/v1/telephony/calls"}


def test_no_token_is_an_auth_error_before_any_request(emulator: Emulator, webex_settings: WebexSettings) -> None:
    with WebexClient(webex_settings, tokens=StaticToken("")) as client, pytest.raises(AuthError) as info:
        client.list_calls()
    assert "WEBEX_ACCESS_TOKEN" in info.value.spoken and "assistant login" in info.value.spoken
    assert emulator.requests() == []


def test_bad_token_is_401_spoken(emulator: Emulator, webex_settings: WebexSettings) -> None:
    with WebexClient(webex_settings, tokens=StaticToken("wrong")) as client, pytest.raises(AuthError) as info:
        client.list_calls()
    assert info.value.spoken.startswith(failures.status_spoken(401))
    assert "valid access token" in info.value.spoken  # the server's message is spoken too


class RefreshingToken:
    def __init__(self, good: str) -> None:
        self.token, self.good, self.refreshes = "expired", good, 0

    def access_token(self) -> str:
        return self.token

    def refresh_after_401(self) -> bool:
        self.refreshes += 1
        self.token = self.good
        return True


def test_401_refreshes_the_token_once_and_retries(emulator: Emulator, webex_settings: WebexSettings) -> None:
    tokens = RefreshingToken(emulator.token)
    with WebexClient(webex_settings, tokens=tokens) as client:
        assert client.list_calls() == []
    assert tokens.refreshes == 1
    assert [r["status"] for r in emulator.requests()] == [401, 200]


# --- documented statuses, each with its own sentence -----------------------------------------


@pytest.mark.parametrize("status", failures.DOCUMENTED_STATUSES)
def test_each_documented_status_is_spoken(emulator: Emulator, client: WebexClient, status: int) -> None:
    # count=2 and retryAfter=0: the statuses the client retries once fail twice
    emulator.add_fault(method="GET", path="/v1/telephony/calls", status=status, retryAfter=0,
                       count=2, message=f"Emulated failure {status}")
    with pytest.raises(WebexError) as info:
        client.list_calls()
    expected = failures.status_spoken(status, f"Emulated failure {status}.")
    assert info.value.spoken == expected
    assert f"Emulated failure {status}" in info.value.spoken
    if status == 401:
        assert isinstance(info.value, AuthError)
    else:
        assert isinstance(info.value, WebexStatusError) and info.value.status == status
        assert info.value.tracking_id and info.value.tracking_id.startswith("WEBEX-VOICE_")


def test_documented_statuses_have_distinct_sentences() -> None:
    sentences = [failures.status_spoken(s) for s in failures.DOCUMENTED_STATUSES]
    assert len(set(sentences)) == len(sentences) == 15
    network = [failures.network_spoken(k) for k in failures.NETWORK_KINDS]
    assert len(set(network + sentences)) == len(network) + len(sentences)
    assert not any(str(s) in text for s in failures.DOCUMENTED_STATUSES for text in sentences)


def test_400_speaks_the_server_message(emulator: Emulator, client: WebexClient) -> None:
    with pytest.raises(WebexStatusError) as info:
        client.answer("")
    assert info.value.status == 400
    assert info.value.spoken == failures.status_spoken(400) + " Webex said: callId is required."


def test_unknown_call_is_404(client: WebexClient) -> None:
    with pytest.raises(WebexStatusError) as info:
        client.get_call("no-such-call")
    assert info.value.status == 404 and "could not find that call" in info.value.spoken


def test_answer_on_endpoint_that_cannot_answer(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    with pytest.raises(WebexStatusError) as info:
        client.answer(call_id, endpoint_id(client, "Cisco 7841 (Lobby)"))
    assert "does not support answering" in info.value.spoken
    assert client.get_call(call_id).state == "alerting"


# --- retry policy ------------------------------------------------------------------------------


def test_429_with_retry_after_1_is_retried_and_succeeds(
    emulator: Emulator, client: WebexClient, sleeps: list[float]
) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, status=429, retryAfter=1)
    client.answer(call_id, endpoint_id(client, DESK))
    assert sleeps == [1.0]
    assert [r["status"] for r in requests_to(emulator, ANSWER)] == [429, 204]
    # before retrying, the client checked that the call still rings
    paths = [r["path"] for r in emulator.requests()]
    assert paths[-2] == f"/v1/telephony/calls/{call_id}"


def test_retry_after_longer_than_allowed_is_not_waited(
    emulator: Emulator, client: WebexClient, sleeps: list[float]
) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, status=429, retryAfter=60)
    with pytest.raises(WebexStatusError) as info:
        client.answer(call_id)
    assert sleeps == [] and info.value.retry_after_seconds == 60
    assert "60 seconds" in info.value.spoken
    assert len(requests_to(emulator, ANSWER)) == 1


def test_423_while_the_call_stops_ringing_says_so(emulator: Emulator, webex_settings: WebexSettings) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, status=423, retryAfter=1)
    # the caller hangs up while the client waits out Retry-After
    client = WebexClient(webex_settings, sleep=lambda s: emulator.end_call(call_id))
    with client, pytest.raises(WebexStatusError) as info:
        client.answer(call_id)
    assert info.value.spoken == failures.outcome_spoken("stopped_ringing", done="answered")
    assert len(requests_to(emulator, ANSWER)) == 1


def test_423_without_retry_after_is_not_retried(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, status=423)
    with pytest.raises(WebexStatusError) as info:
        client.answer(call_id)
    assert info.value.status == 423 and len(requests_to(emulator, ANSWER)) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gets_retry_once_on_gateway_errors(emulator: Emulator, client: WebexClient, status: int) -> None:
    emulator.add_fault(method="GET", path="/v1/telephony/calls", status=status)
    assert client.list_calls() == []
    assert [r["status"] for r in emulator.requests()] == [status, 200]


def test_posts_do_not_retry_on_gateway_errors(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, status=503)
    with pytest.raises(WebexStatusError) as info:
        client.answer(call_id)
    assert info.value.status == 503 and len(requests_to(emulator, ANSWER)) == 1


def test_dropped_answer_that_landed_is_checked_not_resent(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    desk = endpoint_id(client, DESK)
    emulator.add_fault(method="POST", path=ANSWER, drop=True)  # lands, then the connection drops
    client.answer(call_id, desk)
    answers = requests_to(emulator, ANSWER)
    assert len(answers) == 1 and answers[0]["json"]["endpointId"] == desk
    assert answers[0]["status"] is None  # no reply was sent
    assert emulator.requests()[-1]["path"] == f"/v1/telephony/calls/{call_id}"
    assert answered_on(emulator, call_id) == desk


def test_dropped_answer_that_did_not_land_is_sent_once_more(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, drop=True, landed=False)
    client.answer(call_id)
    assert [r["status"] for r in requests_to(emulator, ANSWER)] == [None, 204]
    assert client.get_call(call_id).state == "connected"


def test_answer_dropped_twice_is_checked_twice_and_sent_at_most_twice(
    emulator: Emulator, client: WebexClient
) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, drop=True, landed=False)
    emulator.add_fault(method="POST", path=ANSWER, drop=True)  # the second one lands
    client.answer(call_id)
    assert [r["status"] for r in requests_to(emulator, ANSWER)] == [None, None]
    assert len(requests_to(emulator, f"/v1/telephony/calls/{call_id}", "GET")) == 2
    assert client.get_call(call_id).state == "connected"


def test_answer_dropped_twice_without_landing_gives_up(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, drop=True, landed=False, count=3)
    with pytest.raises(WebexNetworkError) as info:
        client.answer(call_id)
    assert info.value.kind == "dropped" and len(requests_to(emulator, ANSWER)) == 2
    assert client.get_call(call_id).state == "alerting"


def test_timed_out_answer_that_landed_is_not_resent(emulator: Emulator) -> None:
    # 1 s, not less: the read-back after the time-out must not time out too on a loaded machine
    settings = WebexSettings(url=emulator.url, access_token=emulator.token, read_timeout_seconds=1.0)
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, delay=2.5)  # processed, then the reply is late
    with WebexClient(settings) as client:
        client.answer(call_id)
        assert client.get_call(call_id).state == "connected"
    assert len(requests_to(emulator, ANSWER)) == 1


def test_dropped_answer_on_a_call_that_ended(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, drop=True, landed=False)
    emulator.add_fault(method="GET", path="/v1/telephony/calls/*", status=404)
    with pytest.raises(WebexStatusError) as info:
        client.answer(call_id)
    assert info.value.spoken == failures.outcome_spoken("call_ended")
    assert len(requests_to(emulator, ANSWER)) == 1


# --- network failures and bad replies ------------------------------------------------------------


def test_timeout(emulator: Emulator) -> None:
    settings = WebexSettings(url=emulator.url, access_token=emulator.token, read_timeout_seconds=0.3)
    emulator.add_fault(method="GET", path="/v1/telephony/calls", delay=1.0)
    with WebexClient(settings) as client, pytest.raises(WebexNetworkError) as info:
        client.list_calls()
    assert info.value.kind == "timeout" and info.value.spoken == failures.network_spoken("timeout")


def test_dropped_get(emulator: Emulator, client: WebexClient) -> None:
    emulator.add_fault(method="GET", path="/v1/people/me", drop=True)
    with pytest.raises(WebexNetworkError) as info:
        client.me()
    assert info.value.kind == "dropped"


def test_refused() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = WebexClient(WebexSettings(url=f"http://127.0.0.1:{port}", access_token="t"))
    with client, pytest.raises(WebexNetworkError) as info:
        client.list_calls()
    assert info.value.kind == "refused" and "refused" in info.value.spoken


def test_tls_failure(emulator: Emulator) -> None:
    # https to the emulator's plain-HTTP port: the TLS handshake fails for real
    settings = WebexSettings(url=emulator.url.replace("http://", "https://"), access_token="t")
    with WebexClient(settings) as client, pytest.raises(WebexNetworkError) as info:
        client.list_calls()
    assert info.value.kind == "tls" and info.value.spoken == failures.network_spoken("tls")


def test_dns_failure_is_classified() -> None:
    # what httpcore raises when getaddrinfo fails (no real lookup: tests stay off the network)
    exc = httpx.ConnectError("[Errno -2] Name or service not known")
    exc.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert network_kind(exc) == "dns"
    assert network_kind(httpx.ConnectError("[Errno 111] Connection refused")) == "refused"
    assert network_kind(httpx.ReadTimeout("timed out")) == "timeout"
    assert network_kind(httpx.RemoteProtocolError("Server disconnected")) == "dropped"


def test_malformed_body(emulator: Emulator, client: WebexClient) -> None:
    emulator.add_fault(method="GET", path="/v1/telephony/calls", malformed=True)
    with pytest.raises(WebexError) as info:
        client.list_calls()
    assert info.value.spoken == failures.outcome_spoken("malformed")


# --- success is only what Webex documents; what a person hears after a 409 ----------------------


def test_controls_return_the_status_webex_sent(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    assert client.answer(call_id) == 204
    assert client.hold(call_id) == 204 and client.resume(call_id) == 204
    assert client.reject(emulator.ring("Eve")) == 204


@pytest.mark.parametrize("act", ["answer", "reject"])
def test_409_after_the_call_was_answered_elsewhere_says_so(
    emulator: Emulator, client: WebexClient, act: str
) -> None:
    call_id = emulator.ring("Dana")
    emulator.end_call(call_id, "elsewhere")  # picked up by hand on the desk phone
    with pytest.raises(WebexStatusError) as info:
        getattr(client, act)(call_id)
    assert info.value.status == 409
    assert info.value.spoken == failures.outcome_spoken("answered_elsewhere")
    assert "isn't ringing" not in info.value.spoken


def test_409_on_a_call_still_ringing_keeps_webex_sentence(emulator: Emulator, client: WebexClient) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, status=409, message="Device is not alerting")
    with pytest.raises(WebexStatusError) as info:
        client.answer(call_id)
    assert info.value.spoken.startswith(failures.status_spoken(409))
    assert client.get_call(call_id).state == "alerting"


def test_answered_elsewhere_while_waiting_out_retry_after(
    emulator: Emulator, webex_settings: WebexSettings
) -> None:
    call_id = emulator.ring("Dana")
    emulator.add_fault(method="POST", path=ANSWER, status=429, retryAfter=1)
    client = WebexClient(webex_settings, sleep=lambda s: emulator.end_call(call_id, "elsewhere"))
    with client, pytest.raises(WebexStatusError) as info:
        client.answer(call_id)
    assert info.value.spoken == failures.outcome_spoken("answered_elsewhere")
    assert len(requests_to(emulator, ANSWER)) == 1


def test_a_call_id_cannot_reach_another_path(emulator: Emulator, client: WebexClient) -> None:
    with pytest.raises(WebexStatusError) as info:
        client.get_call("../../people/me")
    assert info.value.status == 404
    [request] = emulator.requests()
    assert request["path"].startswith("/v1/telephony/calls/") and request["path"].count("/") == 4


def test_401_status_is_on_the_auth_error(emulator: Emulator, webex_settings: WebexSettings) -> None:
    with WebexClient(webex_settings, tokens=StaticToken("wrong")) as client, pytest.raises(AuthError) as info:
        client.answer("any")
    assert info.value.status == 401


@pytest.mark.parametrize("token", ["tökén", "abc\r\nX-Injected: 1", "two words"])
def test_a_token_that_cannot_be_sent_is_an_auth_error(
    emulator: Emulator, webex_settings: WebexSettings, token: str
) -> None:
    with WebexClient(webex_settings, tokens=StaticToken(token)) as client, pytest.raises(AuthError) as info:
        client.list_calls()
    assert info.value.spoken == failures.outcome_spoken("bad_token")
    assert emulator.requests() == []
