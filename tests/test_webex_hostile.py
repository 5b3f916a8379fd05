"""A hostile or broken Webex (tests/hostile_webex.py, a real socket server on loopback) driven
through the real client and the real CLI: no reply may turn into a success, a traceback, a hang
past the request deadline, or text that forges terminal output."""

from __future__ import annotations

import email.utils
import json
import logging
import math
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import cli
from assistant.cli import webex_cmds
from assistant.config import WebexSettings
from assistant.errors import AuthError, WebexError, WebexNetworkError, WebexStatusError
from assistant.text import MESSAGE_LIMIT, NAME_LIMIT
from assistant.webex import failures
from assistant.webex.client import WebexClient
from assistant.webex.http import MAX_BODY_BYTES, request_deadline_seconds
from hostile_webex import (
    CALL_ID, RINGING_CALL, HostileWebex, Huge, Reply, Trickle, calls_with, control_characters,
    head, html, iter_strings, json_reply, raw, redirect,
)

CALLS = "/v1/telephony/calls"
ANSWER = "/v1/telephony/calls/answer"
REJECT = "/v1/telephony/calls/reject"
ENDPOINTS = "/v1/telephony/config/people/me/settings/availablePreferredAnswerEndpoints"
MIB = 1024 * 1024
SETTINGS = dict(connect_timeout_seconds=1.0, read_timeout_seconds=1.0, max_retry_after_seconds=2.0)
DEADLINE = request_deadline_seconds(WebexSettings(**SETTINGS))  # type: ignore[arg-type]
HANG = 3 * DEADLINE  # a hang check, not a speed benchmark
EVIL_NAME = "\x1b[2J\x1b[HRinging: Boss\r\n\x1b]0;pwned\x07" + "A" * 6600
T = TypeVar("T")


@pytest.fixture
def server() -> Iterator[HostileWebex]:
    with HostileWebex() as hostile:
        yield hostile


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: HostileWebex, sleeps: list[float]) -> Iterator[WebexClient]:
    settings = WebexSettings(url=server.url, access_token="hostile-token", **SETTINGS)  # type: ignore[arg-type]
    with WebexClient(settings, sleep=sleeps.append) as c:
        yield c


def within(seconds: float, work: Callable[[], T]) -> T:
    """``work()``, failing the test if it has not finished after ``seconds`` (a hang)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds:.1f} s: hung past the deadline"
    if "error" in box:
        raise box["error"]
    assert time.monotonic() - started < seconds
    return box["value"]  # type: ignore[no-any-return]


def trickle_body() -> Trickle:
    body = json.dumps({"items": [RINGING_CALL]}).encode()
    return Trickle(head(200, {"Content-Type": "application/json"},
                        framing=f"Content-Length: {len(body)}"), body, interval_seconds=0.3)


def trickle_head() -> Trickle:
    return Trickle(head(204), b"", interval_seconds=0.3, trickle_head=True)


# --- the client: only a documented success is a success ------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirected_answer_is_a_failure_not_followed(
    server: HostileWebex, client: WebexClient, status: int
) -> None:
    server.script("POST", ANSWER, redirect(f"{server.url}/login?next=answer", status))
    with pytest.raises(WebexStatusError) as info:
        client.answer(CALL_ID)
    assert info.value.status == status
    assert info.value.spoken == failures.outcome_spoken("redirect")
    assert ("GET", "/login") not in server.requests()


@pytest.mark.parametrize("op", ["answer", "reject", "hangup", "hold", "resume", "divert", "mute"])
def test_html_login_page_is_not_a_success(server: HostileWebex, client: WebexClient, op: str) -> None:
    server.script("POST", f"/v1/telephony/calls/{op}", html(200))
    with pytest.raises(WebexError) as info:
        getattr(client, op if op != "reject" else "reject")(CALL_ID)
    assert info.value.status == 200
    assert info.value.spoken == failures.outcome_spoken("malformed")


@pytest.mark.parametrize("reply", [
    json_reply(200, {"ok": True}), json_reply(201, {"callId": CALL_ID}), raw(202, b"null"),
    raw(200, b"Answered!", content_type="text/plain"),
], ids=["200-json", "201-json", "202-null", "200-text"])
def test_a_body_where_none_is_documented_is_not_a_success(
    server: HostileWebex, client: WebexClient, reply: Reply
) -> None:
    server.script("POST", ANSWER, reply)
    with pytest.raises(WebexError) as info:
        client.answer(CALL_ID)
    assert info.value.spoken == failures.outcome_spoken("malformed")


def test_answer_reports_the_status_it_got(server: HostileWebex, client: WebexClient) -> None:
    assert client.answer(CALL_ID) == 204
    server.script("POST", ANSWER, raw(200))  # 2xx without content: the documented success
    assert client.answer(CALL_ID) == 200


@pytest.mark.parametrize("reply", [redirect("/login"), html(200), json_reply(200, [RINGING_CALL]),
                                   json_reply(200, {"items": {"id": "x"}}), raw(200, b"\xff\xfe{"),
                                   raw(200, b"[" * 100_000), json_reply(204, None)],
                         ids=["302", "html", "list", "items-dict", "bytes", "deep", "204"])
def test_list_calls_on_a_bad_reply_is_a_webex_error(
    server: HostileWebex, client: WebexClient, reply: Reply
) -> None:
    server.script("GET", CALLS, reply)
    with pytest.raises(WebexError) as info:
        client.list_calls()
    assert info.value.spoken and info.value.status is not None


def test_401_carries_its_status(server: HostileWebex, client: WebexClient) -> None:
    server.script("GET", CALLS, json_reply(401, {"message": "The request requires a valid access token."}))
    with pytest.raises(AuthError) as info:
        client.list_calls()
    assert info.value.status == 401


# --- limits: deadline and size ---------------------------------------------------------------


@pytest.mark.parametrize("reply", [trickle_body, trickle_head], ids=["body", "head"])
def test_trickling_reply_ends_at_the_deadline(
    server: HostileWebex, client: WebexClient, reply: Callable[[], Reply]
) -> None:
    server.script("GET", CALLS, reply)
    started = time.monotonic()
    with pytest.raises(WebexNetworkError) as info:
        within(HANG, client.list_calls)
    assert info.value.kind == "timeout" and info.value.spoken == failures.network_spoken("timeout")
    assert time.monotonic() - started >= DEADLINE * 0.9  # it was the deadline, not a read timeout


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_huge_body_is_not_read_into_memory(
    server: HostileWebex, client: WebexClient, chunked: bool
) -> None:
    huge = Huge(300 * MIB, chunked=chunked)
    server.script("GET", CALLS, huge)
    tracemalloc.start()
    try:
        with pytest.raises(WebexError) as info:
            within(HANG, client.list_calls)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.spoken == failures.outcome_spoken("too_large")
    assert peak < MAX_BODY_BYTES + 4 * MIB, f"peak {peak / MIB:.1f} MiB"
    time.sleep(0.2)
    assert max(huge.sent, default=0) < 64 * MIB  # the client hung up long before the end


def test_huge_error_body_still_gives_the_status_sentence(server: HostileWebex, client: WebexClient) -> None:
    body = json.dumps({"message": "x" * (2 * MAX_BODY_BYTES)}).encode()
    server.script("POST", ANSWER, raw(403, body))
    with pytest.raises(WebexStatusError) as info:
        client.answer(CALL_ID)
    assert info.value.status == 403 and info.value.spoken == failures.status_spoken(403)


# --- Retry-After -----------------------------------------------------------------------------


def _http_date(offset_seconds: float) -> str:
    return email.utils.formatdate(time.time() + offset_seconds, usegmt=True)


# An HTTP date is made when the test runs (``date+N``: N seconds from now), so that the test ids
# are the same in every pytest-xdist worker.
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-5", "1e308", "99999999999999999999999",
                                   "garbage", "", "1.5", "date+1", "date-60", "date+1000000",
                                   "Mon, 99 Foo 9999 99:99:99 GMT",
                                   "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_odd_retry_after_never_crashes_or_overwaits(
    server: HostileWebex, client: WebexClient, sleeps: list[float], value: str
) -> None:
    if value.startswith("date"):
        value = _http_date(float(value.removeprefix("date")))
    server.script("GET", CALLS, [json_reply(429, {"message": "slow down"}, {"Retry-After": value}),
                                 calls_with()])
    try:
        assert client.list_calls() == []  # waited a sane time, then retried
    except WebexStatusError as exc:  # or refused to wait that long, and said so
        assert exc.status == 429 and exc.retry_after_seconds is not None
        assert math.isfinite(exc.retry_after_seconds) and exc.retry_after_seconds >= 0
        assert "inf" not in exc.spoken and "nan" not in exc.spoken and len(exc.spoken) < 200
    assert all(math.isfinite(s) and 0 <= s <= 2.0 for s in sleeps), sleeps


# --- malformed records are skipped, outside text is cleaned -----------------------------------


def test_malformed_calls_are_skipped_and_logged(
    server: HostileWebex, client: WebexClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="assistant.webex.client")
    bad = [
        dict(RINGING_CALL, id="a", remoteParty="Dana Smith"),
        {k: v for k, v in RINGING_CALL.items() if k != "id"},
        dict(RINGING_CALL, id=7),
        dict(RINGING_CALL, id="b", state=["alerting"]),
        dict(RINGING_CALL, id="c", remoteParty={"name": 5}),
        dict(RINGING_CALL, id="d", remoteParty={"name": "X", "privacyEnabled": "no"}),
        dict(RINGING_CALL, id="e", muteCapable="yes"),
        dict(RINGING_CALL, id="f\x1b[2J"),
        "not a call", None, 12,
    ]
    server.script("GET", CALLS, calls_with(*bad, RINGING_CALL))
    calls = client.list_calls()
    assert [c.id for c in calls] == [CALL_ID]
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == len(bad)
    assert all(not control_characters(r.getMessage()) for r in caplog.records)


def test_malformed_single_call_is_a_webex_error(server: HostileWebex, client: WebexClient) -> None:
    server.script("GET", f"{CALLS}/{CALL_ID}", json_reply(200, dict(RINGING_CALL, remoteParty=[1])))
    with pytest.raises(WebexError) as info:
        client.get_call(CALL_ID)
    assert info.value.spoken == failures.outcome_spoken("malformed")


def test_caller_and_device_names_are_cleaned(server: HostileWebex, client: WebexClient) -> None:
    party = dict(RINGING_CALL["remoteParty"], name=EVIL_NAME, number="+1\x1b[31m555")
    server.script("GET", CALLS, calls_with(dict(RINGING_CALL, remoteParty=party)))
    server.script("GET", ENDPOINTS, json_reply(200, {"endpoints": [
        {"id": "d1", "type": "DEVICE", "name": EVIL_NAME, "isPreferredAnswerEndpoint": False}]}))
    [call] = client.list_calls()
    [endpoint] = client.answer_endpoints()
    for text in (call.remote.name or "", call.remote.number or "", call.remote.spoken(), endpoint.name):
        assert not control_characters(text) and "\x1b" not in text and len(text) <= NAME_LIMIT
    assert call.remote.name and call.remote.name.startswith("Ringing: Boss")


def test_long_hostile_webex_message_is_cleaned_and_bounded(server: HostileWebex, client: WebexClient) -> None:
    server.script("POST", ANSWER, json_reply(400, {"message": EVIL_NAME, "errors": [
        {"description": "\x1b[31m" + "B" * 6600}], "trackingId": "T\x1b[2J" + "9" * 5000}))
    with pytest.raises(WebexStatusError) as info:
        client.answer(CALL_ID)
    spoken = info.value.spoken
    assert spoken.startswith(failures.status_spoken(400))
    assert len(spoken) <= len(failures.status_spoken(400)) + MESSAGE_LIMIT + 20
    for text in (spoken, str(info.value), info.value.tracking_id or ""):
        assert not control_characters(text) and "\x1b" not in text
    assert len(str(info.value)) < 1000


# --- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def run_cli(server: HostileWebex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    config = tmp_path / "assistant.toml"
    config.write_text("[webex]\n" + "".join(f"{k} = {v}\n" for k, v in SETTINGS.items()))
    for key, value in {"WEBEX_ACCESS_TOKEN": "hostile-token", "HOME": str(tmp_path),
                       "XDG_CONFIG_HOME": str(tmp_path / "config")}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(webex_cmds, "speak", None)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def run(*args: str) -> tuple[int, str, str]:
        argv = ["--config", str(config), "--webex-url", server.url, *args]
        try:
            code = within(HANG * 3, lambda: cli.main(argv))  # up to three requests
        finally:
            root.handlers[:], root.level = handlers, level
        out, err = capsys.readouterr()
        assert "Traceback" not in err and "Traceback" not in out
        assert not control_characters(out), repr(out)
        assert not control_characters(err), repr(err)
        return code, out, err

    return run


HOSTILE_ACTION_REPLIES: dict[str, tuple[Callable[[], Reply], int | None]] = {
    "302": (lambda: redirect("https://login.example.com/"), 302),
    "307": (lambda: redirect("/v1/elsewhere", 307), 307),
    "html": (lambda: html(200), 200),
    "json-200": (lambda: json_reply(200, {"status": "ok"}), 200),
    "401": (lambda: json_reply(401, {"message": "The request requires a valid access token."}), 401),
    "evil-400": (lambda: json_reply(400, {"message": EVIL_NAME}), 400),
    "trickle": (trickle_head, None),
    "huge": (lambda: Huge(300 * MIB), 200),
}


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
@pytest.mark.parametrize("command", ["answer", "decline"])
@pytest.mark.parametrize("name", list(HOSTILE_ACTION_REPLIES))
def test_cli_answer_and_decline_never_report_a_false_success(
    server: HostileWebex, run_cli: Callable[..., tuple[int, str, str]],
    name: str, command: str, as_json: bool,
) -> None:
    make, status = HOSTILE_ACTION_REPLIES[name]
    server.script("POST", ANSWER if command == "answer" else REJECT, make)
    code, out, _ = run_cli(command, "--no-voice", *(["--json"] if as_json else []))
    assert code == 1
    if as_json:
        outcome = json.loads(out)
        assert outcome["ok"] is False and outcome["status"] == status, outcome
        assert outcome["message"] and not outcome["message"].startswith("The call was answered")
        assert not any(control_characters(s) or "\x1b" in s for s in iter_strings(outcome))
    else:
        assert out.strip() and "The call was answered." not in out and "turned away" not in out


HOSTILE_LIST_REPLIES: dict[str, tuple[Callable[[], Reply], int | None]] = {
    "302": (lambda: redirect("/login"), 302),
    "html": (lambda: html(200), 200),
    "401": (lambda: json_reply(401, {"message": "no"}), 401),
    "trickle": (trickle_body, None),
    "huge": (lambda: Huge(300 * MIB, chunked=True), 200),
    "items-string": (lambda: json_reply(200, {"items": "nope", "endpoints": "nope"}), 200),
}


@pytest.mark.parametrize("command", ["calls", "devices"])
@pytest.mark.parametrize("name", list(HOSTILE_LIST_REPLIES))
def test_cli_calls_and_devices_fail_with_a_json_error(
    server: HostileWebex, run_cli: Callable[..., tuple[int, str, str]], name: str, command: str,
) -> None:
    make, status = HOSTILE_LIST_REPLIES[name]
    server.script("GET", CALLS if command == "calls" else ENDPOINTS, make)
    code, out, _ = run_cli(command, "--json")
    assert code == 1
    error = json.loads(out)
    assert error["ok"] is False and error["status"] == status and error["error"], error
    code, out, err = run_cli(command)
    assert code == 1 and out == "" and err.startswith("assistant: ")


def test_cli_calls_skips_malformed_records_and_cleans_names(
    server: HostileWebex, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    evil = dict(RINGING_CALL, id="evil-1", remoteParty={"name": EVIL_NAME},
                state="alerting\x1b[2K", personality="terminator")
    server.script("GET", CALLS, calls_with(dict(RINGING_CALL, id="s", remoteParty="Dana"), evil,
                                           RINGING_CALL))
    code, out, _ = run_cli("calls", "--json")
    assert code == 0
    calls = json.loads(out)
    assert [c["id"] for c in calls] == ["evil-1", CALL_ID]
    assert not any(control_characters(s) or "\x1b" in s for s in iter_strings(calls))
    code, out, _ = run_cli("calls")
    assert code == 0 and len(out.splitlines()) == 2 and "Ringing: Boss" in out


def test_cli_answer_with_a_string_remote_party_says_nothing_rings(
    server: HostileWebex, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    server.script("GET", CALLS, calls_with(dict(RINGING_CALL, remoteParty="Dana Smith")))
    code, out, _ = run_cli("answer", "--no-voice", "--json")
    assert code == 1 and json.loads(out)["message"] == "Nothing is ringing right now."
    assert ("POST", ANSWER) not in server.requests()


def test_cli_devices_with_hostile_names(
    server: HostileWebex, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    server.script("GET", ENDPOINTS, json_reply(200, {"endpoints": [
        {"id": "d1", "type": "DEVICE", "name": "Cisco 8865 (Desk phone)\x1b[2J\nfake: line"},
        {"id": 5, "type": "DEVICE", "name": "numbered id"},
        {"id": "d3", "type": ["DEVICE"], "name": "bad type"},
    ]}))
    code, out, _ = run_cli("devices", "--json")
    assert code == 0
    data = json.loads(out)
    assert [e["id"] for e in data["endpoints"]] == ["d1"]
    assert not any(control_characters(s) or "\x1b" in s for s in iter_strings(data))


# --- fuzzing the parsing of replies (hypothesis) ---------------------------------------------

JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                      st.text(max_size=30))
JSON_ANY = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)
ODD = st.one_of(JSON_ANY, st.text(max_size=20).map(lambda t: "\x1b[2J" + t + "\r\n"))


def _field(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, ODD)


CALL_LIKE = st.fixed_dictionaries({}, optional={
    "id": _field(st.text(min_size=1, max_size=20)), "callId": _field(st.text(max_size=20)),
    "state": _field(st.sampled_from(["alerting", "connected", "held", "disconnected"])),
    "personality": _field(st.sampled_from(["terminator", "originator", "clickToDial"])),
    "remoteParty": _field(st.fixed_dictionaries({}, optional={
        "name": _field(st.text(max_size=40)), "number": _field(st.text(max_size=20)),
        "privacyEnabled": _field(st.booleans()), "callType": _field(st.text(max_size=10))})),
    "created": _field(st.text(max_size=30)), "muteCapable": _field(st.booleans()),
    "callSessionId": _field(st.text(max_size=20)),
})
ENDPOINT_LIKE = st.fixed_dictionaries({}, optional={
    "id": _field(st.text(min_size=1, max_size=20)), "name": _field(st.text(max_size=40)),
    "type": _field(st.sampled_from(["DEVICE", "APPLICATION"])),
    "isPreferredAnswerEndpoint": _field(st.booleans()),
})
BODY = st.one_of(
    st.just(b""), st.binary(max_size=120),
    JSON_ANY.map(lambda d: json.dumps(d).encode()),
    st.fixed_dictionaries({"items": st.one_of(st.lists(st.one_of(CALL_LIKE, ODD), max_size=5), ODD)})
    .map(lambda d: json.dumps(d).encode()),
    CALL_LIKE.map(lambda d: json.dumps(d).encode()),
    st.fixed_dictionaries({}, optional={"message": ODD, "errors": ODD, "trackingId": ODD})
    .map(lambda d: json.dumps(d).encode()),
    st.just(b"<html><body>Sign in</body></html>"),
)
RETRY_AFTER = st.one_of(
    st.sampled_from(["inf", "-inf", "nan", "-5", "1e308", "0", "1", "garbage", "",
                     "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"]),
    st.floats().map(repr), st.integers().map(str),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)
STATUS = st.one_of(st.sampled_from([200, 201, 202, 204, 301, 302, 307, 400, 401, 404, 409, 423,
                                     429, 500, 502, 503]), st.integers(200, 599))
REPLY = st.tuples(STATUS, st.sampled_from(["application/json", "text/html", "text/plain", ""]),
                  st.one_of(st.none(), RETRY_AFTER), BODY)
LIST_REPLY = st.one_of(  # mostly a 200 carrying a list of odd records: the parsing is the target
    st.tuples(st.just(200), st.just("application/json"), st.none(),
              st.fixed_dictionaries({"items": st.lists(st.one_of(CALL_LIKE, ODD), max_size=5),
                                     "endpoints": st.lists(st.one_of(ENDPOINT_LIKE, ODD), max_size=5)})
              .map(lambda d: json.dumps(d).encode())),
    st.tuples(st.just(200), st.just("application/json"), st.none(),
              CALL_LIKE.map(lambda d: json.dumps(d).encode())),
    REPLY,
)
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _fuzz(op: str, replies: list[tuple[int, str, str | None, bytes]]) -> None:
    """``op`` on a client whose every request gets the next of ``replies`` (the last repeats)."""
    served: list[tuple[str, str, int, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status, content_type, retry_after, body = replies[min(len(served), len(replies) - 1)]
        served.append((request.method, request.url.path, status, body))
        headers = {"Content-Type": content_type} if content_type else {}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))

    waits: list[float] = []
    settings_ = WebexSettings(url="http://127.0.0.1:9", access_token="t", **SETTINGS)  # type: ignore[arg-type]
    with WebexClient(settings_, sleep=waits.append, transport=httpx.MockTransport(handler)) as client:
        try:
            result = getattr(client, op)(CALL_ID) if op in ("answer", "reject", "get_call") \
                else getattr(client, op)()
        except WebexError as exc:
            assert exc.spoken.strip() and not control_characters(exc.spoken), exc.spoken
            assert len(exc.spoken) < 500
            result = None
        else:
            if op in ("answer", "reject"):  # a success only on a 2xx without content
                posts = [s for s in served if s[0] == "POST"]
                assert 200 <= posts[-1][2] < 300 and not posts[-1][3].strip(), posts[-1]
                assert result == posts[-1][2]
    assert all(math.isfinite(w) and 0 <= w <= 2.0 for w in waits), waits
    records = result if isinstance(result, list) else [result] if op == "get_call" and result else []
    for record in records:
        texts = [record.id, record.name, record.type] if op == "answer_endpoints" \
            else [record.id, record.state, record.personality, record.remote.spoken()]
        assert all(isinstance(t, str) and not control_characters(t) and len(t) <= 512 for t in texts)


@FUZZ
@given(op=st.sampled_from(["list_calls", "get_call", "answer_endpoints"]),
       replies=st.lists(LIST_REPLY, min_size=1, max_size=3))
def test_any_list_calls_reply_is_parsed_or_a_spoken_webex_error(
    op: str, replies: list[tuple[int, str, str | None, bytes]]
) -> None:
    _fuzz(op, replies)


@FUZZ
@given(op=st.sampled_from(["answer", "reject"]), replies=st.lists(REPLY, min_size=1, max_size=4))
def test_any_answer_reply_is_a_success_only_when_documented(
    op: str, replies: list[tuple[int, str, str | None, bytes]]
) -> None:
    _fuzz(op, replies)
