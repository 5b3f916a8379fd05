"""Call events from polling List Calls: a call starts or stops ringing for me, Webex lost/back.

Webex only pushes call events to a public webhook URL; a desk assistant has none, so it polls
``GET /v1/telephony/calls`` (documented). Ringing for me = personality ``terminator`` and state
``alerting``; the user's own click-to-dial (``clickToDial`` + ``alerting``) is never announced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from assistant.errors import AuthError, WebexError, WebexStatusError
from assistant.webex.models import Call

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0


class CallLister(Protocol):
    def list_calls(self) -> list[Call]: ...


@dataclass(frozen=True)
class CallEvent:
    """``kind``: ringing, stopped (``reason`` answered or ended), calls (a new snapshot),
    webex_down (``message``), webex_back, auth_failed (``message``)."""

    kind: str
    call: Call | None = None
    reason: str = ""
    waiting: int = 0
    message: str = ""
    calls: list[Call] = field(default_factory=list)


class CallWatcher:
    def __init__(self, client: CallLister, poll_interval_seconds: float) -> None:
        self._client = client
        self._interval = max(0.05, poll_interval_seconds)
        self._ringing: dict[str, Call] = {}  # callId → call, in the order they started ringing
        self._down = False
        self._auth_failed = False
        self.failures = 0

    def poll_once(self) -> tuple[list[CallEvent], float]:
        """One poll: the events it causes and how long to wait before the next one."""
        try:
            calls = self._client.list_calls()
        except AuthError as exc:
            if self._auth_failed:
                return [], MAX_BACKOFF_SECONDS
            self._auth_failed = True
            return [CallEvent("auth_failed", message=exc.spoken)], MAX_BACKOFF_SECONDS
        except WebexError as exc:
            self.failures += 1
            delay = min(MAX_BACKOFF_SECONDS, self._interval * 2**self.failures)
            if isinstance(exc, WebexStatusError) and exc.retry_after_seconds:
                delay = max(delay, min(MAX_BACKOFF_SECONDS, exc.retry_after_seconds))
            log.warning("polling calls failed (%s); next try in %.1f s", exc, delay)
            if self._down:
                return [], delay
            self._down = True
            return [CallEvent("webex_down", message=exc.spoken)], delay
        events: list[CallEvent] = []
        if self._down:
            events.append(CallEvent("webex_back"))
        self._down = self._auth_failed = False
        self.failures = 0
        events.extend(self._diff(calls))
        return events, self._interval

    def _diff(self, calls: list[Call]) -> list[CallEvent]:
        events: list[CallEvent] = []
        by_id = {c.id: c for c in calls}
        for call_id in list(self._ringing):
            now = by_id.get(call_id)
            if now is None or not now.is_ringing_for_me:
                old = self._ringing.pop(call_id)
                reason = "ended" if now is None or now.state == "disconnected" else "answered"
                events.append(CallEvent("stopped", call=now or old, reason=reason))
        for call in calls:
            if call.is_ringing_for_me and call.id not in self._ringing:
                self._ringing[call.id] = call
                events.append(CallEvent("ringing", call=call, waiting=len(self._ringing) - 1))
        events.append(CallEvent("calls", calls=calls))
        return events

    def run(self, put: Callable[[CallEvent], None], stop: threading.Event) -> None:
        """Poll until ``stop`` is set; never raises (an unexpected error is logged and retried)."""
        while not stop.is_set():
            try:
                events, delay = self.poll_once()
            except Exception:  # the poller must not die silently: log loudly and keep going
                log.exception("unexpected error while polling calls")
                events, delay = [], MAX_BACKOFF_SECONDS
            for event in events:
                put(event)
            stop.wait(delay)
