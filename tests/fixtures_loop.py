"""Fixtures for the end-to-end loop tests: the emulator and ``assistant listen`` as real
subprocesses, talking through the PulseAudio virtual microphone and speaker.

``ListenProcess`` follows the ``--events`` file so tests can wait for events; every wait has a
timeout and a failing wait prints the events and the process's stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures_audio import loopback

EVENT_TIMEOUT_SECONDS = 60.0


@dataclass
class EmulatorProcess:
    url: str
    process: subprocess.Popen[str]

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, self.url + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def ring(self, **caller: Any) -> str:
        return str(self.control("POST", "/_emulator/ring", caller)["callId"])

    def requests(self, suffix: str = "") -> list[dict[str, Any]]:
        return [r for r in self.control("GET", "/_emulator/requests") if r["path"].endswith(suffix)]

    def endpoint_id(self, name: str) -> str:
        response = httpx.get(
            self.url + "/v1/telephony/config/people/me/settings/availablePreferredAnswerEndpoints",
            headers={"Authorization": "Bearer emulator-token"},
            timeout=10,
        )
        return next(e["id"] for e in response.json()["endpoints"] if e["name"] == name)


@contextlib.contextmanager
def running_emulator() -> Iterator[EmulatorProcess]:
    """``assistant emulator`` as a subprocess on a free loopback port (also for bench/)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("emulator listening on http://"), line
        yield EmulatorProcess(line.rsplit(" ", 1)[1], process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def emulator_process() -> Iterator[EmulatorProcess]:
    with running_emulator() as emulator:
        yield emulator


@dataclass
class ListenProcess:
    process: subprocess.Popen[bytes]
    events_path: Path
    stderr_path: Path
    seen: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)

    def read(self) -> list[dict[str, Any]]:
        if self.events_path.exists():
            lines = self.events_path.read_text().splitlines()
            complete = [line for line in lines if line.endswith("}")]
            self.records = [json.loads(line) for line in complete]
        return self.records

    def wait_for(
        self,
        event: str,
        where: Callable[[dict[str, Any]], bool] = lambda r: True,
        timeout: float = EVENT_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        """The first matching event after the last one waited for."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            records = self.read()
            for index in range(self.seen, len(records)):
                if records[index]["event"] == event and where(records[index]):
                    self.seen = index + 1
                    return records[index]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(
            f"no {event!r} event; events:\n"
            + "\n".join(json.dumps(r) for r in self.read())
            + "\nstderr:\n"
            + self.stderr_path.read_text()[-3000:]
        )

    def names(self) -> list[str]:
        return [r["event"] for r in self.read()]


@contextlib.contextmanager
def listen_starter(pulse: Any, folder: Path) -> Iterator[Callable[..., ListenProcess]]:
    """Starts ``assistant listen`` processes on ``pulse``; each is stopped with Ctrl-C at the end
    (also for bench/)."""
    started: list[ListenProcess] = []

    def start(url: str, *extra: str, config: str | None = None) -> ListenProcess:
        events = folder / f"events-{len(started)}.jsonl"
        stderr = folder / f"listen-{len(started)}.log"
        env = {**pulse.env, "WEBEX_ACCESS_TOKEN": "emulator-token",
               "XDG_CONFIG_HOME": str(folder / "config"), "XDG_STATE_HOME": str(folder / "state")}
        argv = [sys.executable, "-m", "assistant", "-v", "--webex-url", url]
        if config:
            argv += ["--config", config]
        argv += ["listen", "--events", str(events), *extra]
        with open(stderr, "wb") as err:
            process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
        listen = ListenProcess(process, events, stderr)
        started.append(listen)
        listen.wait_for("ready", timeout=120)
        return listen

    try:
        yield start
    finally:
        for listen in started:
            if listen.process.poll() is None:
                listen.process.send_signal(2)  # Ctrl-C: the clean path
                try:
                    listen.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    listen.process.kill()
                    listen.process.wait()


@pytest.fixture
def start_listen(pulse: Any, tmp_path: Path) -> Iterator[Callable[..., ListenProcess]]:
    with listen_starter(pulse, tmp_path) as start:
        yield start


def ring_cycles_over_own_voice(pulse: Any, emulator: EmulatorProcess, listen: ListenProcess,
                               cycles: int) -> list[dict[str, Any]]:
    """With the virtual speaker looped into the microphone: ring a call, wait for its
    announcement, end it from the far side, wait for "stopped ringing"; ``cycles`` times. The
    call-control requests Webex got meanwhile (there must be none); also for bench/selfhear.py."""
    with loopback(pulse):
        for _ in range(cycles):
            call_id = emulator.ring(name="Dana Smith")
            listen.wait_for("spoken", lambda r: r["text"].startswith("Call from Dana Smith"))
            time.sleep(0.3)
            emulator.control("POST", f"/_emulator/calls/{call_id}/end", {"reason": "remote"})
            listen.wait_for("spoken", lambda r: "stopped ringing" in r["text"])
    time.sleep(1.0)
    return [r for r in emulator.requests()
            if r["method"] == "POST" and "/telephony/calls/" in r["path"]]


@pytest.fixture
def headless(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment and config of ``assistant listen`` on a desk with no sound server (no
    microphone, no speaker: speech goes to ``said.wav``), signed in to the emulator."""
    runtime = tmp_path / "no-pulse"
    runtime.mkdir()
    env = {**os.environ, "WEBEX_ACCESS_TOKEN": "emulator-token", "XDG_RUNTIME_DIR": str(runtime),
           "PULSE_SERVER": f"unix:{runtime}/pulse/native", "XDG_CONFIG_HOME": str(tmp_path / "c")}
    config = tmp_path / "assistant.toml"
    config.write_text(f'[voice]\nfallback_wav = "{tmp_path / "said.wav"}"\n')
    return env, config


def env_without_pulse() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PULSE_SERVER",)}
