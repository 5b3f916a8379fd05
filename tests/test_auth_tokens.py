"""StoredTokens against the emulator: refresh before expiry and after a 401 (the request retried
once), rotation stored atomically, and a revoked sign-in said once without crash or spin."""

from __future__ import annotations

import http.server
import json
import stat
import threading
from pathlib import Path

import pytest
from fixtures_auth import control, sign_in

from assistant.auth import token_source
from assistant.auth.oauth import SIGN_IN_AGAIN
from assistant.auth.store import BAD_TOKEN, FileStore, TokenRecord
from assistant.auth.tokens import StoredTokens
from assistant.calls import CallWatcher
from assistant.config import AuthSettings, Settings, WebexSettings
from assistant.errors import AuthError, WebexError
from assistant.webex.client import WebexClient
from assistant.webex.emulator import Emulator


def paths(emulator: Emulator) -> list[tuple[str, int | None]]:
    return [(r["path"], r["status"]) for r in emulator.requests()]


def webex_requests_after(emulator: Emulator, n: int) -> list[tuple[str, int | None]]:
    return paths(emulator)[n:]


def test_token_expiring_mid_session_is_refreshed_and_the_request_retried_once(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord, token_file: Path
) -> None:
    tokens = token_source(auth_settings)
    assert isinstance(tokens, StoredTokens)
    with WebexClient(auth_settings.webex, tokens=tokens) as client:
        assert client.list_calls() == []
        control(auth_emulator, "tokens/expire")  # the access token dies mid-session
        call_id = control(auth_emulator, "ring", {"name": "Dana Smith"})["callId"]
        before = len(auth_emulator.requests())
        calls = client.list_calls()
    assert [c.id for c in calls] == [call_id]
    assert webex_requests_after(auth_emulator, before) == [
        ("/v1/telephony/calls", 401),
        ("/v1/access_token", 200),
        ("/v1/telephony/calls", 200),
    ]
    # the rotated refresh token is what the store now holds, privately
    stored = FileStore(token_file).load()
    assert stored is not None
    assert stored.refresh_token != signed_in.refresh_token
    assert stored.access_token != signed_in.access_token
    assert stored.scope == signed_in.scope != ""
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in token_file.parent.iterdir()) == ["tokens.json"]
    assert tokens.refreshes == 1


def test_refreshes_before_expiry_without_a_401(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord, token_file: Path
) -> None:
    margin = auth_settings.auth.refresh_margin_seconds
    clock = [signed_in.expires_at - margin - 1.0]
    tokens = StoredTokens(FileStore(token_file), auth_settings, clock=lambda: clock[0])
    assert tokens.access_token() == signed_in.access_token  # not due yet: no request
    assert not any(p == "/v1/access_token" for p, _ in paths(auth_emulator))
    clock[0] += 2.0  # now inside the margin
    with WebexClient(auth_settings.webex, tokens=tokens) as client:
        before = len(auth_emulator.requests())
        client.me()
    assert webex_requests_after(auth_emulator, before) == [
        ("/v1/access_token", 200),
        ("/v1/people/me", 200),
    ]
    assert FileStore(token_file).load() != signed_in


def test_threads_sharing_the_tokens_refresh_once(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord, token_file: Path
) -> None:
    now = signed_in.expires_at - 1.0  # due for every thread at once
    tokens = StoredTokens(FileStore(token_file), auth_settings, clock=lambda: now)
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(tokens.access_token())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(got) == 4 and len(set(got)) == 1 and got[0] != signed_in.access_token
    assert sum(p == "/v1/access_token" for p, _ in paths(auth_emulator)) == 1


def test_revoked_sign_in_is_said_once_and_later_calls_fail_fast(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord
) -> None:
    heard: list[str] = []
    tokens = token_source(auth_settings, speak=heard.append)
    control(auth_emulator, "tokens/revoke")
    control(auth_emulator, "tokens/expire")
    with WebexClient(auth_settings.webex, tokens=tokens) as client:
        with pytest.raises(AuthError) as info:
            client.list_calls()
        assert "sign in again" in info.value.spoken
        after_failure = len(auth_emulator.requests())
        for _ in range(20):  # the poller keeps going: no crash, and no request storm
            with pytest.raises(AuthError):
                client.list_calls()
        watcher = CallWatcher(client, 0.1)
        first, delay = watcher.poll_once()
        second, _ = watcher.poll_once()
    assert heard == [SIGN_IN_AGAIN]  # said once, however often it is asked
    assert len(auth_emulator.requests()) == after_failure  # failed fast, locally
    assert [e.kind for e in first] == ["auth_failed"] and second == []
    assert delay >= 1.0
    assert sum(p == "/v1/access_token" for p, _ in paths(auth_emulator)) == 1


def test_signing_in_again_while_running_recovers_without_restart(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord, token_file: Path
) -> None:
    heard: list[str] = []
    tokens = StoredTokens(FileStore(token_file), auth_settings, speak=heard.append)
    control(auth_emulator, "tokens/revoke")
    control(auth_emulator, "tokens/expire")
    with WebexClient(auth_settings.webex, tokens=tokens) as client:
        with pytest.raises(AuthError):
            client.me()
        FileStore(token_file).save(sign_in(auth_emulator, auth_settings))  # assistant login
        assert client.me().display_name
    assert tokens.signed_out is False
    assert heard == [SIGN_IN_AGAIN]


def test_a_passing_refresh_failure_keeps_the_good_token_and_waits(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord, token_file: Path
) -> None:
    now = [signed_in.expires_at - 10.0]  # due, but still valid for 10 s
    tokens = StoredTokens(FileStore(token_file), auth_settings, clock=lambda: now[0])
    auth_emulator.add_fault(method="POST", path="/v1/access_token", status=503, count=5)
    assert tokens.access_token() == signed_in.access_token
    assert tokens.access_token() == signed_in.access_token  # no second attempt at once
    assert sum(p == "/v1/access_token" for p, _ in paths(auth_emulator)) == 1
    now[0] += 20.0  # expired now, and the last attempt was 20 s ago: still waiting
    with pytest.raises(WebexError) as info:
        tokens.access_token()
    assert not isinstance(info.value, AuthError)  # not "sign in again": Webex is just away
    assert sum(p == "/v1/access_token" for p, _ in paths(auth_emulator)) == 1
    auth_emulator.state.faults.clear()
    now[0] += 30.0
    assert tokens.access_token() != signed_in.access_token  # the next try renews it
    assert tokens.signed_out is False


def test_an_expired_refresh_token_is_not_even_sent(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord, token_file: Path
) -> None:
    assert signed_in.refresh_expires_at is not None
    now = signed_in.refresh_expires_at + 1.0
    heard: list[str] = []
    tokens = StoredTokens(FileStore(token_file), auth_settings, speak=heard.append,
                          clock=lambda: now)
    with pytest.raises(AuthError):
        tokens.access_token()
    assert heard == [SIGN_IN_AGAIN]
    assert not any(p == "/v1/access_token" for p, _ in paths(auth_emulator))


def test_a_401_on_a_static_token_is_not_retried(
    auth_emulator: Emulator, auth_settings: Settings
) -> None:
    settings = auth_settings.replace("webex", access_token="not-a-token")
    with WebexClient(settings.webex, tokens=token_source(settings)) as client, pytest.raises(
        AuthError
    ):
        client.me()
    assert paths(auth_emulator) == [("/v1/people/me", 401)]


def test_a_401_for_a_token_another_thread_just_renewed_is_retried_without_refreshing(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord, token_file: Path
) -> None:
    tokens = StoredTokens(FileStore(token_file), auth_settings)
    old = tokens.access_token()  # this thread sends the old token...
    control(auth_emulator, "tokens/expire")
    renewed: list[str] = []
    other = threading.Thread(target=lambda: renewed.append(tokens.access_token()
                                                             if tokens.refresh_after_401() else ""))
    other.start()  # ...while another thread gets a 401 and renews
    other.join(timeout=10)
    assert tokens.refresh_after_401() is True  # this thread's late 401: retry, do not refresh
    assert tokens.access_token() == renewed[0] != old
    assert [p for p, _ in paths(auth_emulator)].count("/v1/access_token") == 1


def test_a_sign_in_renewed_by_another_process_is_picked_up_not_announced(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord, token_file: Path
) -> None:
    heard: list[str] = []
    mine = StoredTokens(FileStore(token_file), auth_settings, speak=heard.append)
    theirs = StoredTokens(FileStore(token_file), auth_settings)
    control(auth_emulator, "tokens/expire")
    assert theirs.refresh_after_401()  # the other process rotates the refresh token first
    with WebexClient(auth_settings.webex, tokens=mine) as client:
        assert client.me().display_name  # 401, my refresh is refused, the store has the new one
    assert heard == [] and not mine.signed_out


class _OddTokenServer(http.server.BaseHTTPRequestHandler):
    """A token endpoint that renews the sign-in with a token no HTTP header can carry."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"access_token": "AT-t\u00f8ken", "refresh_token": "RT-new",
                           "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_renewed_token_that_cannot_go_in_a_header_is_said_not_crashed(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OddTokenServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        path = tmp_path / "tokens.json"
        FileStore(path).save(TokenRecord("AT-old", "RT-old", expires_at=1.0))  # long expired
        settings = Settings(
            webex=WebexSettings(url=f"http://127.0.0.1:{server.server_address[1]}",
                                connect_timeout_seconds=2.0, read_timeout_seconds=2.0),
            auth=AuthSettings(client_id="c", client_secret="s", token_store=str(path)),
        )
        heard: list[str] = []
        tokens = StoredTokens(FileStore(path), settings, speak=heard.append)
        for _ in range(3):
            with pytest.raises(AuthError) as info:
                tokens.access_token()
            assert "t\u00f8ken" not in str(info.value)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert heard == [BAD_TOKEN]  # said once, in words
    assert tokens.signed_out
    assert FileStore(path).load() == TokenRecord("AT-old", "RT-old", expires_at=1.0)


def test_a_store_replaced_by_a_directory_while_running_does_not_crash_a_refresh(
    auth_emulator: Emulator, auth_settings: Settings, signed_in: TokenRecord, token_file: Path
) -> None:
    tokens = StoredTokens(FileStore(token_file), auth_settings,
                          clock=lambda: signed_in.expires_at + 1.0)
    token_file.unlink()
    token_file.mkdir()  # the renewed sign-in cannot be stored: keep running on it
    renewed = tokens.access_token()
    assert renewed != signed_in.access_token and tokens.refreshes == 1
