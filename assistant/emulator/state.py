"""The emulator's world: calls and their states, history, the preferred endpoint, injected
faults and the request log. Thread-safe; knows nothing about HTTP (``server`` does that).

A call: alerting → connected (answer, at one endpoint) ⇄ held (hold/resume) → gone (hangup,
divert). Alerting → gone on reject, divert, the caller hanging up, or after
``ring_timeout_seconds`` (a missed call). Gone calls leave List Calls and appear in history.

The public API of ``EmulatorState``, which the server (``server``) and the Webex operations
(``api``) use; nothing outside this module touches its private names:

    attributes     scenario, lock (an RLock: hold it across a read-modify-write), calls
                   (id → EmulatedCall, alerting/connected/held), history (newest first),
                   preferred (endpoint id or None), auth (``AuthState``), base_url
    control        ring, end_call, reset, add_fault, snapshot, requests
    per request    take_fault(method, path), record(entry)
    operations     find_call(call_id)           the call, after expiring stale rings; raises the
                                                ``missing_call_id`` / ``unknown_call`` refusal
                   expire()                     ringing calls past the ring timeout become missed
                   finish(call, history_type)   the call leaves List Calls (history_type: None,
                                                or the history entry it leaves, e.g. "missed")
                   add_history(kind, remote)    a history entry, 20 kept per kind
                   refuse(key)                  the scenario's refusal ``key`` as an ``ApiError``
                                                (raise it)
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from assistant.emulator.auth import AuthState
from assistant.emulator.scenario import Scenario

HISTORY_PER_TYPE = 20
FAULT_KEYS = {"method", "path", "status", "retryAfter", "delay", "drop", "landed", "malformed",
              "count", "message"}


class ApiError(Exception):
    """A Webex refusal: the handler turns it into a Webex-shaped error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class EmulatedCall:
    id: str
    session_id: str
    remote: dict[str, Any]
    created: str
    rang_at: float
    state: str = "alerting"
    answered: str | None = None
    endpoint_id: str | None = None
    muted: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "callSessionId": self.session_id,
            "personality": "terminator",
            "state": self.state,
            "remoteParty": self.remote,
            "appearance": 1,
            "created": self.created,
            "muteCapable": self.state in ("connected", "held"),
            "muted": self.muted,
        }
        if self.answered:
            data["answered"] = self.answered
        return data


@dataclass
class Fault:
    method: str = "*"
    path: str = "*"
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    drop: bool = False
    landed: bool = True  # a dropped request takes effect before the connection drops
    malformed: bool = False
    count: int = 1
    message: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        unknown = set(data) - FAULT_KEYS
        if unknown:
            raise ValueError(f"unknown fault keys {sorted(unknown)}; known: {sorted(FAULT_KEYS)}")
        fault = cls(
            method=str(data.get("method", "*")).upper(),
            path=_api_path(str(data.get("path", "*"))),
            status=_opt_int(data, "status"),
            retry_after=_opt_float(data, "retryAfter"),
            delay=_opt_float(data, "delay") or 0.0,
            drop=bool(data.get("drop", False)),
            landed=bool(data.get("landed", True)),
            malformed=bool(data.get("malformed", False)),
            count=_opt_int(data, "count") or 1,
            message=data.get("message"),
        )
        if fault.status is not None and not 100 <= fault.status <= 599:
            raise ValueError("status must be an HTTP status")
        return fault

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(_api_path(path), self.path)


def _api_path(path: str) -> str:
    return path[3:] if path.startswith("/v1/") else path


def _opt_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a whole number")  # noqa: TRY004 (becomes a 400)
    return int(value)


def _opt_float(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{key} must be a number of seconds")
    return float(value)


@dataclass
class EmulatorState:
    scenario: Scenario
    clock: Callable[[], float] = time.monotonic
    lock: threading.RLock = field(default_factory=threading.RLock)
    base_url: str = ""  # set by the server: verification addresses point here

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.calls: dict[str, EmulatedCall] = {}
            self.history: list[dict[str, Any]] = []
            self.faults: list[Fault] = []
            self.log: list[dict[str, Any]] = []
            preferred = [e.id for e in self.scenario.endpoints if e.preferred]
            self.preferred: str | None = preferred[0] if preferred else None
            self._serial = itertools.count(1)
            self.auth = AuthState(self.scenario.auth, lambda: self.clock())

    # --- control -------------------------------------------------------------------------

    def ring(self, name: str | None = None, number: str | None = None, privacy: bool = False) -> str:
        remote: dict[str, Any] = {"privacyEnabled": privacy, "callType": "external"}
        if not privacy:
            if name:
                remote["name"] = name
            if number:
                remote["number"] = number
        with self.lock:
            n = next(self._serial)
            call_id = f"Y2lzY29zcGFyazovL3VzL0NBTEwv{uuid.uuid4().hex[:12]}-{n}"
            self.calls[call_id] = EmulatedCall(
                call_id, str(uuid.uuid4()), remote, iso_now(), self.clock()
            )
            return call_id

    def end_call(self, call_id: str, reason: str = "remote") -> None:
        """The caller hung up (``remote``), or the person picked up by hand on one of their
        devices (``elsewhere``/``answered``): the call stays in List Calls as connected there,
        as it does on Webex."""
        with self.lock:
            call = self.find_call(call_id)
            if call.state == "alerting" and reason in ("elsewhere", "answered"):
                devices = [e.id for e in self.scenario.endpoints if e.type == "DEVICE"]
                call.state, call.answered = "connected", iso_now()
                call.endpoint_id = devices[0] if devices else None
                self.add_history("received", call.remote)
            elif call.state == "alerting":
                self.finish(call, "missed")
            else:
                self.finish(call, None)

    def add_fault(self, data: dict[str, Any]) -> None:
        fault = Fault.from_json(data)
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.log.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(e) for e in self.log]

    def snapshot(self) -> list[dict[str, Any]]:
        """Every call the emulator still tracks, with the endpoint it was answered on."""
        with self.lock:
            self.expire()
            return [dict(c.to_json(), endpointId=c.endpoint_id) for c in self.calls.values()]

    # --- operations: the Webex handlers in ``api`` call these with ``lock`` held -----------

    def refuse(self, key: str) -> ApiError:
        """The scenario's refusal ``key`` (status and wording) as an error to raise."""
        refusal = self.scenario.refusal(key)
        return ApiError(refusal.status, refusal.message)

    def expire(self) -> None:
        """Calls that rang past ``ring_timeout_seconds`` become missed calls."""
        now = self.clock()
        for call in list(self.calls.values()):
            if call.state == "alerting" and now - call.rang_at >= self.scenario.ring_timeout_seconds:
                self.finish(call, "missed")

    def finish(self, call: EmulatedCall, history_type: str | None) -> None:
        """The call is gone from List Calls; ``history_type`` (e.g. ``"missed"``) records it."""
        call.state = "disconnected"
        self.calls.pop(call.id, None)
        if history_type:
            self.add_history(history_type, call.remote)

    def add_history(self, kind: str, remote: dict[str, Any]) -> None:
        """A call-history entry of ``kind`` (placed, missed, received), newest first, 20 per kind."""
        record = {"type": kind, "privacyEnabled": remote["privacyEnabled"], "time": iso_now()}
        for key in ("name", "number"):
            if key in remote:
                record[key] = remote[key]
        self.history.insert(0, record)
        kept = [r for r in self.history if r["type"] == kind][:HISTORY_PER_TYPE]
        self.history = [r for r in self.history if r["type"] != kind or r in kept]

    def find_call(self, call_id: Any) -> EmulatedCall:
        """The live call ``call_id`` (after expiring stale rings), or the ``missing_call_id`` /
        ``unknown_call`` refusal."""
        self.expire()
        if not isinstance(call_id, str) or not call_id:
            raise self.refuse("missing_call_id")
        call = self.calls.get(call_id)
        if call is None:
            raise self.refuse("unknown_call")
        return call
