"""The call poller's rules, on hand-made List Calls snapshots (the emulator only makes
incoming calls, so the user's own click-to-dial is built here)."""

from __future__ import annotations

from assistant.calls import CallWatcher
from assistant.errors import WebexNetworkError
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


def test_network_loss_backs_off_and_is_reported_once() -> None:
    lost = WebexNetworkError("refused", "The connection to Webex was refused.", "refused")
    watcher = CallWatcher(Snapshots(lost, lost, lost, []), 1.0)
    delays = []
    reported = []
    for _ in range(4):
        events, delay = watcher.poll_once()
        delays.append(delay)
        reported += [e.kind for e in events if e.kind != "calls"]
    assert reported == ["webex_down", "webex_back"]
    assert delays[0] < delays[1] < delays[2] and delays[3] == 1.0
