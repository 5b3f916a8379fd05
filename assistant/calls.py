"""Call events from polling List Calls: a call starts or stops ringing for me, Webex lost/back.

Webex only pushes call events to a public webhook URL; a desk assistant has none, so it polls
``GET /v1/telephony/calls`` (documented). Ringing for me = personality ``terminator`` and state
``alerting``; the user's own click-to-dial (``clickToDial`` + ``alerting``) is never announced.

Failures never make the poller slow to notice a call: a one-off failure is retried at the
normal interval; only repeated failures back off (interval, interval, 2×, 4×, …), and never
beyond ``MAX_DELAY_SECONDS``. Each kind of trouble is reported once, and its end once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from assistant.errors import AuthError, WebexError, WebexStatusError
from assistant.messages import Sentence, english
from assistant.text import clean
from assistant.webex.models import Call

log = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 0.05
MAX_DELAY_SECONDS = 5.0  # the longest pause between polls after failures (a call rings ~30 s)
AUTH_RETRY_SECONDS = 5.0  # sign-in failures: retried this often (the token may come back)
SPOKEN_LIMIT = 300  # our sentence plus a Webex message, cleaned and bounded
POLLER_ERROR = english().text("calls.poller_error")  # said in the person's language: Messages.render


class CallLister(Protocol):
    def list_calls(self) -> list[Call]: ...


class Stopper(Protocol):
    """What ``run`` needs of a ``threading.Event`` (tests pass a fake clock)."""

    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass(frozen=True)
class CallEvent:
    """One thing the poller noticed. ``kind`` is one of:

    - ``ringing`` (``call``, ``waiting`` = how many others already ring);
    - ``stopped`` (``call``, ``reason`` answered or ended);
    - ``calls``: the whole snapshot (``calls``), after every successful poll;
    - ``webex_down`` (``message``): Webex cannot be reached or refuses; said once per outage;
    - ``auth_failed`` (``message``): no usable token; said once, retried every ~5 s;
    - ``poller_error`` (``message``): a bug while polling (not a Webex failure); said once,
      polling goes on;
    - ``webex_back``: polling works again after any of the three above.
    """

    kind: str
    call: Call | None = None
    reason: str = ""
    waiting: int = 0
    message: str = ""
    calls: list[Call] = field(default_factory=list)


class CallWatcher:
    def __init__(self, client: CallLister, poll_interval_seconds: float) -> None:
        self._client = client
        self._interval = max(MIN_INTERVAL_SECONDS, poll_interval_seconds)
        self._ringing: dict[str, Call] = {}  # callId → call, in the order they started ringing
        self._trouble = ""  # the kind of the trouble already reported ("" = none)
        self.failures = 0  # failed polls in a row

    def poll_once(self) -> tuple[list[CallEvent], float]:
        """One poll: the events it causes and how long to wait before the next one.
        Never raises: every failure becomes an event (once) and a delay."""
        try:
            calls = self._client.list_calls()
            changes = self._diff(calls)
        except AuthError as exc:
            self.failures += 1
            log.warning("polling calls: not signed in (%s); next try in %.1f s", exc, AUTH_RETRY_SECONDS)
            return self._report("auth_failed", exc.spoken), AUTH_RETRY_SECONDS
        except WebexError as exc:
            self.failures += 1
            delay = self._backoff(exc)
            log.warning("polling calls failed (%s); next try in %.1f s", exc, delay)
            return self._report("webex_down", exc.spoken), delay
        except Exception:  # a bug must not silence the poller: report it, keep polling
            self.failures += 1
            delay = self._backoff(None)
            if self._trouble == "poller_error":
                log.warning("polling calls failed again unexpectedly; next try in %.1f s", delay,
                            exc_info=log.isEnabledFor(logging.DEBUG))
            else:
                log.exception("unexpected error while polling calls; next try in %.1f s", delay)
            return self._report("poller_error", POLLER_ERROR), delay
        events = [CallEvent("webex_back")] if self._trouble else []
        self._trouble = ""
        self.failures = 0
        return events + changes, self._interval

    def _report(self, kind: str, message: str) -> list[CallEvent]:
        if self._trouble == kind:
            return []
        self._trouble = kind
        return [CallEvent(kind, message=_bounded(message))]

    def _backoff(self, exc: WebexError | None) -> float:
        """interval, interval, 2×, 4×, … never more than MAX_DELAY_SECONDS (or the interval)."""
        ceiling = max(MAX_DELAY_SECONDS, self._interval)
        doublings = min(max(0, self.failures - 2), 16)
        delay = min(ceiling, math.ldexp(self._interval, doublings))
        retry_after = exc.retry_after_seconds if isinstance(exc, WebexStatusError) else None
        if retry_after is not None and not math.isnan(retry_after) and retry_after > 0:
            delay = max(delay, min(ceiling, retry_after))
        return delay

    def _diff(self, calls: list[Call]) -> list[CallEvent]:
        events: list[CallEvent] = []
        by_id = {c.id: c for c in calls}
        ringing = dict(self._ringing)  # committed only when the whole snapshot was understood
        for call_id in list(ringing):
            now = by_id.get(call_id)
            if now is None or not now.is_ringing_for_me:
                old = ringing.pop(call_id)
                reason = "ended" if now is None or now.state == "disconnected" else "answered"
                events.append(CallEvent("stopped", call=now or old, reason=reason))
        for call in calls:
            if call.is_ringing_for_me and call.id not in ringing:
                ringing[call.id] = call
                events.append(CallEvent("ringing", call=call, waiting=len(ringing) - 1))
        events.append(CallEvent("calls", calls=calls))
        self._ringing = ringing
        return events

    def run(self, put: Callable[[CallEvent], None], stop: Stopper) -> None:
        """Poll until ``stop`` is set; never raises."""
        while not stop.is_set():
            try:
                events, delay = self.poll_once()
            except Exception:  # poll_once reports its own failures; this is the last resort
                log.exception("unexpected error in the call poller")
                events, delay = [CallEvent("poller_error", message=POLLER_ERROR)], self._interval
            for event in events:
                put(event)
            stop.wait(delay)


def _bounded(message: str) -> str:
    """The message cleaned and bounded; a catalogue ``Sentence`` that needs neither stays one
    (so the dialog can still say it in the person's language)."""
    cleaned = clean(message, SPOKEN_LIMIT)
    return message if isinstance(message, Sentence) and cleaned == message else cleaned
