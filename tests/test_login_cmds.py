"""``assistant login`` / ``logout`` for real: the CLI as a subprocess against the emulator on
loopback, approved through the control API; then a session that refreshes and is revoked. All
output of all of it is searched for every secret the emulator handed out."""

from __future__ import annotations

import argparse
import logging
import os
import queue
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fixtures_auth import CLIENT_ID, CLIENT_SECRET, control, known_secrets

from assistant import config
from assistant.auth import token_source
from assistant.auth.store import FileStore
from assistant.cli import login_cmds, main
from assistant.config import Settings
from assistant.errors import AuthError
from assistant.webex.client import WebexClient
from assistant.webex.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """``main`` configures the root logger: put it back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    env.update(
        PYTHONPATH=str(ROOT),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),  # the sign-in is state (assistant.paths)
        WEBEX_CLIENT_ID=CLIENT_ID,
        WEBEX_CLIENT_SECRET=CLIENT_SECRET,
    )
    return env


def run_login(emulator: Emulator, home: Path, action: str = "approve") -> tuple[int, str, str]:
    """``assistant -vv --webex-url URL login --no-voice`` as a subprocess; approve (or deny) the
    code through the control API once the CLI has printed it. Exit code, stdout, stderr."""
    command = [sys.executable, "-m", "assistant", "-vv", "--webex-url", emulator.url,
               "login", "--no-voice"]
    with subprocess.Popen(command, env=cli_env(home), cwd=home, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            return _drive(proc, emulator, action)
        finally:
            if proc.poll() is None:
                proc.kill()


def _drive(proc: subprocess.Popen[str], emulator: Emulator, action: str) -> tuple[int, str, str]:
    lines: queue.Queue[str | None] = queue.Queue()
    errors: list[str] = []

    def pump_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def pump_err() -> None:
        assert proc.stderr is not None
        errors.append(proc.stderr.read())

    threads = [threading.Thread(target=pump_out), threading.Thread(target=pump_err)]
    for t in threads:
        t.start()
    out: list[str] = []
    try:
        while (line := lines.get(timeout=30)) is not None:
            out.append(line)
            if "enter the code " in line:
                code = line.split("enter the code ")[1].split()[0]
                control(emulator, "device/approve", {"user_code": code, "deny": action == "deny"})
        code_exit = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        for t in threads:
            t.join(timeout=10)
    return code_exit, "".join(out), "".join(errors)


@contextmanager
def approving(emulator: Emulator) -> Iterator[None]:
    """A person who approves the sign-in as soon as a code is pending."""
    stop = threading.Event()

    def person() -> None:
        while not stop.is_set():
            if emulator.state.auth.devices:
                control(emulator, "device/approve")
                return
            time.sleep(0.05)

    thread = threading.Thread(target=person)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def test_login_logout_refresh_and_revocation_never_leak_a_secret(
    auth_emulator: Emulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    keep_logging: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    exit_code, out, err = run_login(auth_emulator, tmp_path)
    assert exit_code == 0, err
    store_file = tmp_path / "state" / config.APP_DIR_NAME / "tokens.json"
    assert stat.S_IMODE(store_file.stat().st_mode) == 0o600
    assert "Signed in to Webex." in out and str(store_file) in out
    assert "POST /device/token -> 200" in err  # -vv: the request log is there, tokens are not
    record = FileStore(store_file).load()
    assert record is not None

    # a session on the stored sign-in: the token expires mid-session, is refreshed, then revoked
    env = cli_env(tmp_path)
    settings = config.load(None, environ=env, webex_url=auth_emulator.url)
    heard: list[str] = []
    tokens = token_source(settings, speak=heard.append)
    with WebexClient(settings.webex, tokens=tokens) as client:
        client.list_calls()
        control(auth_emulator, "tokens/expire")
        client.list_calls()
        renewed = FileStore(store_file).load()
        assert renewed is not None and renewed.refresh_token != record.refresh_token
        control(auth_emulator, "tokens/revoke")
        control(auth_emulator, "tokens/expire")
        with pytest.raises(AuthError) as info:
            client.list_calls()
    assert heard == [info.value.spoken]
    exception_text = str(info.value) + repr(info.value) + info.value.spoken

    # logout, in-process through main()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["logout"]) == 0
    assert not store_file.exists()
    assert main(["logout"]) == 0  # nothing left: still fine, and says so

    captured = capsys.readouterr()
    everything = "\n".join(
        [out, err, caplog.text, captured.out, captured.err, exception_text, *heard,
         *(repr(r.__dict__) for r in caplog.records)]
    )
    secrets = known_secrets(auth_emulator) | {
        record.access_token, record.refresh_token, renewed.access_token, renewed.refresh_token
    }
    assert len(secrets) == 6  # device code, the two sign-in tokens, two rotated ones, secret
    leaked = sorted(s for s in secrets if s in everything)
    assert leaked == []
    assert "Signed out" in captured.out and "nothing to remove" in captured.out


def test_login_declined_exits_1_and_stores_nothing(auth_emulator: Emulator, tmp_path: Path) -> None:
    exit_code, _, err = run_login(auth_emulator, tmp_path, action="deny")
    assert exit_code == 1
    assert "declined" in err
    assert not (tmp_path / "state" / config.APP_DIR_NAME / "tokens.json").exists()


def test_login_without_an_integration_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    keep_logging: None,
) -> None:
    for key in ("WEBEX_CLIENT_ID", "WEBEX_CLIENT_SECRET", "WEBEX_ACCESS_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["--webex-url", "http://127.0.0.1:9", "login", "--no-voice"]) == 2
    err = capsys.readouterr().err
    assert "auth.client_id" in err and "WEBEX_CLIENT_ID" in err


def test_login_speaks_the_code_and_the_success(
    auth_emulator: Emulator, auth_settings: Settings, token_file: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    heard: list[str] = []

    class Speaker:
        def __init__(self, settings: Settings, enabled: bool) -> None:
            assert enabled

        def __enter__(self) -> object:
            return heard.append

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(login_cmds, "_speaker", Speaker)
    with approving(auth_emulator):
        assert login_cmds.login(argparse.Namespace(no_voice=False), auth_settings) == 0
    code = auth_emulator.state.auth.devices.popitem()[1].user_code
    spelled = ", ".join(code[:4]) + ". " + ", ".join(code[5:]) + "."
    assert spelled in heard[0] and "slash _emulator slash device" in heard[0]
    assert "Signed in" in heard[-1]
    assert code in capsys.readouterr().out
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_a_voice_that_fails_does_not_stop_the_sign_in(
    auth_emulator: Emulator, auth_settings: Settings, token_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    from assistant.errors import AudioError

    class BrokenVoice:
        def __init__(self, *args: object) -> None:
            self.closed = False

        def say(self, text: str, wait: bool) -> None:
            raise AudioError("no output device", "There is no speaker.")

        def close(self) -> None:
            self.closed = True

    monkeypatch.setitem(sys.modules, "assistant.voice", types.SimpleNamespace(Voice=BrokenVoice))
    with approving(auth_emulator):
        assert login_cmds.login(argparse.Namespace(no_voice=False), auth_settings) == 0
    assert FileStore(token_file).load() is not None
