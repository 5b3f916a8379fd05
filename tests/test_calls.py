"""The call poller's rules, on hand-made List Calls snapshots (the emulator only makes
incoming calls, so the user's own click-to-dial is built here)."""

from __future__ import annotations

from assistant.calls import AUTH_RETRY_SECONDS, SPOKEN_LIMIT, CallWatcher
from assistant.errors import AuthError, WebexNetworkError, WebexStatusError
from assistant.webex.models import Call


def call(call_id: str, state: str = "alerting", personality: str = "terminator") -> Call:
    return Call.from_dict(
        {"id": call_id, "state": state, "personality": personality, "remoteParty": {"name": "Dana"}}
    )


class Snapshots:
    def __init__(self, *snapshots: list[Call] | Exception) -> None:
        self.snapshots = list(snapshots)

    def list_calls(self) -> list[Call]:
        item = self.snapshots.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def kinds(watcher: CallWatcher) -> list[str]:
    return [e.kind for e in watcher.poll_once()[0] if e.kind != "calls"]


def test_click_to_dial_and_outgoing_calls_are_never_announced() -> None:
    watcher = CallWatcher(
        Snapshots([call("a", personality="clickToDial"), call("b", personality="originator")]), 1.0
    )
    assert kinds(watcher) == []


def test_ringing_then_answered_elsewhere_then_gone() -> None:
    watcher = CallWatcher(Snapshots([call("a")], [call("a", state="connected")], []), 1.0)
    assert kinds(watcher) == ["ringing"]
    events = [e for e in watcher.poll_once()[0] if e.kind == "stopped"]
    assert [(e.call.id if e.call else None, e.reason) for e in events] == [("a", "answered")]
    assert kinds(watcher) == []


def test_several_ringing_calls_count_the_waiting_ones() -> None:
    watcher = CallWatcher(Snapshots([call("a")], [call("a"), call("b")]), 1.0)
    watcher.poll_once()
    ringing = [e for e in watcher.poll_once()[0] if e.kind == "ringing"]
    assert [(e.call.id if e.call else None, e.waiting) for e in ringing] == [("b", 1)]


def polls(watcher: CallWatcher, count: int) -> tuple[list[str], list[float]]:
    """``count`` polls: the kinds reported (snapshots left out) and the delays asked for."""
    reported: list[str] = []
    delays: list[float] = []
    for _ in range(count):
        events, delay = watcher.poll_once()
        delays.append(delay)
        reported += [e.kind for e in events if e.kind != "calls"]
    return reported, delays


LOST = WebexNetworkError("refused", "The connection to Webex was refused.", "refused")


def test_one_failure_keeps_the_normal_interval() -> None:
    watcher = CallWatcher(Snapshots(LOST, [call("a")]), 1.0)
    reported, delays = polls(watcher, 2)
    assert reported == ["webex_down", "webex_back", "ringing"]
    assert delays == [1.0, 1.0]


def test_repeated_failures_back_off_to_at_most_five_seconds_and_are_said_once() -> None:
    watcher = CallWatcher(Snapshots(*[LOST] * 8, []), 1.0)
    reported, delays = polls(watcher, 9)
    assert reported == ["webex_down", "webex_back"]
    assert delays == [1.0, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 1.0]


def test_retry_after_is_honoured_up_to_the_ceiling() -> None:
    def busy(seconds: float) -> WebexStatusError:
        return WebexStatusError("429", "Webex is busy.", 429, retry_after_seconds=seconds)

    watcher = CallWatcher(Snapshots(busy(3.0), busy(float("inf")), busy(float("nan")), busy(600)), 1.0)
    assert polls(watcher, 4)[1] == [3.0, 5.0, 2.0, 5.0]


def test_a_long_webex_message_is_cleaned_and_bounded() -> None:
    spoken = "Webex says: \x1b[2J" + "no " * 3000
    watcher = CallWatcher(Snapshots(WebexStatusError("500", spoken, 500)), 1.0)
    (event,), _ = watcher.poll_once()
    assert event.kind == "webex_down" and "\x1b" not in event.message
    assert len(event.message) <= SPOKEN_LIMIT


def test_unexpected_error_is_reported_and_polling_goes_on_at_the_normal_interval() -> None:
    watcher = CallWatcher(Snapshots(RuntimeError("bug"), RuntimeError("bug"), [call("a")]), 1.0)
    events, delay = watcher.poll_once()
    assert [e.kind for e in events] == ["poller_error"] and events[0].message
    assert delay == 1.0
    reported, delays = polls(watcher, 2)
    assert reported == ["webex_back", "ringing"]  # said once; then the call at once
    assert delays == [1.0, 1.0]


def test_a_malformed_snapshot_does_not_lose_or_repeat_ringing_calls() -> None:
    class Broken:
        id, personality = "b", "terminator"

        @property
        def is_ringing_for_me(self) -> bool:
            raise AttributeError("remoteParty is a string")

    watcher = CallWatcher(Snapshots([call("a")], [call("a"), Broken()], [call("a")]), 1.0)  # type: ignore[list-item]
    assert kinds(watcher) == ["ringing"]
    assert kinds(watcher) == ["poller_error"]
    assert kinds(watcher) == ["webex_back"]  # "a" is still known: not announced twice


def test_auth_failure_is_retried_every_five_seconds_said_once_and_its_end_said() -> None:
    signed_out = AuthError("expired", "Please sign in again.")
    watcher = CallWatcher(Snapshots(signed_out, signed_out, signed_out, [call("a")]), 1.0)
    reported, delays = polls(watcher, 4)
    assert reported == ["auth_failed", "webex_back", "ringing"]
    assert delays == [AUTH_RETRY_SECONDS] * 3 + [1.0]
    assert AUTH_RETRY_SECONDS <= 5.0


class FakeStop:
    """``threading.Event`` for ``run`` on a fake clock: ``wait`` advances time, never sleeps."""

    def __init__(self, until_seconds: float) -> None:
        self.now = 0.0
        self.until = until_seconds

    def is_set(self) -> bool:
        return self.now >= self.until

    def wait(self, timeout: float | None = None) -> bool:
        self.now += timeout or 0.0
        return self.is_set()


def test_a_call_ringing_after_an_unexpected_error_is_announced_at_the_next_interval() -> None:
    """Before: one unexpected error waited 30 s, and the call was announced after 30.1 s."""
    stop = FakeStop(until_seconds=10.0)
    heard: list[tuple[float, str]] = []
    watcher = CallWatcher(Snapshots(RuntimeError("bug"), *[[call("a")]] * 20), 1.0)
    watcher.run(lambda event: heard.append((stop.now, event.kind)), stop)
    said = [(t, kind) for t, kind in heard if kind != "calls"]
    assert said == [(0.0, "poller_error"), (1.0, "webex_back"), (1.0, "ringing")]


def test_webex_down_for_a_minute_then_a_call_is_announced_within_five_seconds() -> None:
    stop = FakeStop(until_seconds=80.0)
    heard: list[tuple[float, str]] = []

    class Outage:
        def list_calls(self) -> list[Call]:
            if stop.now < 60.0:
                raise LOST
            return [call("a")]

    CallWatcher(Outage(), 1.0).run(lambda event: heard.append((stop.now, event.kind)), stop)
    said = [(t, kind) for t, kind in heard if kind != "calls"]
    assert [kind for _, kind in said] == ["webex_down", "webex_back", "ringing"]
    assert 60.0 <= said[-1][0] <= 65.0
