"""The dialog against the real emulator over loopback; text stands in for the recogniser here
(the audio path is covered end to end in test_listen_e2e.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.calls import CallWatcher
from assistant.config import DialogSettings, ListenMode, WebexSettings
from assistant.devices import DeviceDirectory
from assistant.dialog import Dialog, State
from assistant.events import EventLog
from assistant.intents import CommandLanguage
from assistant.webex.client import WebexClient


@dataclass
class RecordingVoice:
    said: list[str] = field(default_factory=list)
    earcons: list[str] = field(default_factory=list)
    stops: int = 0
    speaking: bool = False
    adjusted: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, wait: bool = True) -> None:
        self.said.append(text)

    def earcon(self, name: str, wait: bool = True) -> None:
        self.earcons.append(name)

    def stop(self) -> None:
        self.stops += 1

    def is_deaf(self) -> bool:
        return self.speaking

    def adjust(self, **changes: Any) -> None:
        self.adjusted.append(changes)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    emulator: Any
    client: WebexClient
    dialog: Dialog
    voice: RecordingVoice
    watcher: CallWatcher
    language: CommandLanguage
    directory: DeviceDirectory
    events: io.StringIO
    clock: Clock

    def poll(self) -> None:
        for event in self.watcher.poll_once()[0]:
            self.dialog.on_call_event(event)

    def hear(self, text: str, speaking: bool = False) -> None:
        """What an engine gives: accepted commands, and accepted bare device replies."""
        command = self.language.parse(text)
        accepted = command is not None or self.language.parse_device_only(text) is not None
        self.dialog.on_heard(SimpleNamespace(text=text, accepted=accepted, command=command),
                             speaking=speaking)
        self.dialog.settle()  # the Webex request runs off the dialog thread; the loop's ticks collect it

    def webex_requests(self, suffix: str) -> list[dict[str, Any]]:
        return [r for r in self.emulator.requests() if r["path"].endswith(suffix)]

    def endpoint_id(self, name: str) -> str:
        return next(e.id for e in self.directory.endpoints if e.name == name)

    def event_names(self) -> list[str]:
        return [json.loads(line)["event"] for line in self.events.getvalue().splitlines()]


def make_rig(emulator: Any, settings: DialogSettings | None = None) -> Iterator[Rig]:
    client = WebexClient(WebexSettings(url=emulator.url, access_token=emulator.token))
    directory = DeviceDirectory.build(client.answer_endpoints(), {"headset": "Webex Desktop Application"})
    language = CommandLanguage.load("en", directory.names)
    voice, stream, clock = RecordingVoice(), io.StringIO(), Clock()
    dialog = Dialog(client, voice, EventLog(stream), language, directory,
                    settings or DialogSettings(), clock=clock)
    try:
        yield Rig(emulator, client, dialog, voice, CallWatcher(client, 1.0), language, directory,
                  stream, clock)
    finally:
        dialog.close()
        client.close()


@pytest.fixture
def rig(emulator: Any) -> Iterator[Rig]:
    yield from make_rig(emulator)


def test_ring_announces_caller_and_answer_on_device_answers_there(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith", number="+14085550123")
    rig.poll()
    assert rig.voice.said == ["Call from Dana Smith. Say answer, answer on a device, or decline."]
    assert rig.dialog.state is State.RINGING and rig.dialog.listening
    rig.hear("answer on my desk phone")
    answers = rig.webex_requests("/calls/answer")
    assert [a["json"] for a in answers] == [
        {"callId": call_id, "endpointId": rig.endpoint_id("Cisco 8865 (Desk phone)")}
    ]
    assert rig.voice.said[-1] == "The call was answered. Your desk phone has it."
    assert rig.dialog.state is State.FOLLOW_UP
    rig.poll()
    rig.hear("hang up")
    assert [r["json"] for r in rig.webex_requests("/calls/hangup")] == [{"callId": call_id}]
    assert rig.voice.said[-1] == "The call is over."
    assert rig.event_names()[:3] == ["ringing", "listening", "heard"]
    assert "action" in rig.event_names()


def test_headset_alias_answers_on_the_application(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on my headset")
    assert [a["json"] for a in rig.webex_requests("/calls/answer")] == [
        {"callId": call_id, "endpointId": rig.endpoint_id("Webex Desktop Application")}
    ]
    assert rig.voice.said[-1] == "The call was answered. Your headset has it."


def test_decline_rejects_busy(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("decline the call")
    assert [r["json"] for r in rig.webex_requests("/calls/reject")] == [
        {"callId": call_id, "action": "busy"}
    ]
    assert rig.voice.said[-1] == "The caller was turned away."
    assert rig.dialog.state is State.IDLE and not rig.dialog.listening


def test_ambiguous_phone_asks_which_then_answers(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on the phone")
    assert rig.voice.said[-1] == "Which phone: desk phone, reception phone or lobby phone?"
    assert rig.webex_requests("/calls/answer") == []
    assert rig.dialog.state is State.ASKING
    rig.hear("desk phone")
    assert [a["json"] for a in rig.webex_requests("/calls/answer")] == [
        {"callId": call_id, "endpointId": rig.endpoint_id("Cisco 8865 (Desk phone)")}
    ]


def test_a_rejected_device_reply_does_not_answer(rig: Rig) -> None:
    """The recogniser did not believe "desk phone" (accepted false): the question stays open."""
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on the phone")
    rig.dialog.on_heard(SimpleNamespace(text="desk phone", accepted=False, command=None))
    assert rig.webex_requests("/calls/answer") == []
    assert rig.dialog.state is State.ASKING


def test_call_answered_elsewhere_ends_prompt_and_sends_nothing(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.emulator.end_call(call_id, reason="answered")
    rig.poll()
    assert rig.voice.stops >= 2  # once before the ring prompt, once to cut it short
    assert rig.voice.said[-1] == "The call from Dana Smith was answered elsewhere."
    rig.hear("answer")
    assert rig.webex_requests("/calls/answer") == []
    assert rig.dialog.state is State.IDLE


def test_webex_refusal_is_spoken_and_not_retried(rig: Rig) -> None:
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.emulator.add_fault(method="POST", path="/v1/telephony/calls/answer", status=409)
    rig.hear("answer on my desk phone")
    assert len(rig.webex_requests("/calls/answer")) == 1
    assert rig.voice.said[-1] != "The call was answered. Your desk phone has it."
    assert "error" in rig.voice.earcons
    assert rig.dialog.state is State.RINGING  # still ringing: the person can try another device


def test_device_that_cannot_answer_says_why(rig: Rig) -> None:
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on the lobby phone")
    answers = rig.webex_requests("/calls/answer")
    assert len(answers) == 1 and answers[0]["status"] >= 400
    assert "error" in rig.voice.earcons


def test_not_understood_reprompts_once_then_stays_quiet(rig: Rig) -> None:
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.dialog.on_heard(SimpleNamespace(text="banana", accepted=False, command=None))
    rig.dialog.on_heard(SimpleNamespace(text="banana", accepted=False, command=None))
    assert rig.voice.said[1:] == ["Sorry, I didn't catch that. Say answer, answer on a device, or decline."]


def left_unfinished(words: str) -> SimpleNamespace:
    """What the listener gives when a command begun was left unfinished ("answer on my …" and
    no device within the wait, spot_endpointing.JOIN_WITHIN_MS)."""
    return SimpleNamespace(text="", accepted=False, command=None, left_unfinished=words)


def test_an_answer_left_without_its_device_asks_which_device_then_answers(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.dialog.on_heard(left_unfinished("answer on my"))
    assert rig.voice.said[-1] == ("Which device: computer, desk phone, reception phone or "
                                  "lobby phone?")
    assert rig.dialog.state is State.ASKING and rig.webex_requests("/calls/answer") == []
    assert json.loads(rig.events.getvalue().splitlines()[-2])["text"] == "answer on my"
    rig.hear("answer")  # a device said alone is easily heard as "answer": asked again
    assert rig.webex_requests("/calls/answer") == [] and rig.dialog.state is State.ASKING
    assert rig.voice.said[-1] == ("Say which device: computer, desk phone, reception phone or "
                                  "lobby phone. Or say cancel.")
    rig.hear("phone")  # several of them: asked about those only
    assert rig.voice.said[-1] == "Which phone: desk phone, reception phone or lobby phone?"
    assert rig.webex_requests("/calls/answer") == [] and rig.dialog.state is State.ASKING
    rig.hear("desk phone")
    assert [a["json"] for a in rig.webex_requests("/calls/answer")] == [
        {"callId": call_id, "endpointId": rig.endpoint_id("Cisco 8865 (Desk phone)")}]


def test_while_asking_a_call_action_is_not_taken_and_cancel_is_the_way_out(rig: Rig) -> None:
    """A device said alone was heard as "hang up" or "decline" after a pause: acted on, the
    caller would be turned away while the person named a device."""
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on the phone")
    question = rig.voice.said[-1]
    again = "Say which device: desk phone, reception phone or lobby phone. Or say cancel."
    for heard in ("hang up", "decline the call", "send it to voicemail", "put the call on hold"):
        rig.hear(heard)
        assert rig.voice.said[-1] == again
        assert rig.dialog.state is State.ASKING
        heard_event = json.loads(rig.events.getvalue().splitlines()[-1])
        assert heard_event["event"] == "heard" and heard_event["accepted"] is False
        # each one answered: a command was heard and nothing done (reprompts: 1 for misses)
    assert [r for r in rig.emulator.requests() if r["method"] == "POST"] == []
    rig.dialog.on_heard(SimpleNamespace(text="banana", accepted=False, command=None))
    assert rig.voice.said[-1] == "Sorry, I didn't catch that. " + question  # a miss: once
    rig.hear("hang up")
    assert rig.voice.said[-1] == again
    rig.hear("who is calling")  # only speaks: taken, and the question stays open
    assert rig.voice.said[-1] == "Call from Dana Smith." and rig.dialog.state is State.ASKING
    rig.hear("cancel")
    assert rig.voice.said[-1] == "OK, nothing was done." and rig.dialog.state is State.RINGING
    rig.hear("decline the call")
    assert [r["json"] for r in rig.webex_requests("/calls/reject")] == [
        {"callId": call_id, "action": "busy"}]


def test_the_app_by_its_alias_answers_which_device(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.dialog.on_heard(left_unfinished("take it on my"))
    rig.hear("headset")
    assert [a["json"] for a in rig.webex_requests("/calls/answer")] == [
        {"callId": call_id, "endpointId": rig.endpoint_id("Webex Desktop Application")}]


def test_another_command_left_unfinished_is_a_reprompt(rig: Rig) -> None:
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.dialog.on_heard(left_unfinished("send the call"))  # "… to voicemail" never came
    assert rig.voice.said[1:] == ["Sorry, I didn't catch that. Say answer, answer on a device, or decline."]
    assert rig.dialog.state is State.RINGING


def test_an_answer_left_unfinished_with_no_call_ringing_asks_nothing(rig: Rig) -> None:
    rig.dialog.on_heard(left_unfinished("answer on my"))
    assert rig.voice.said == [] and rig.dialog.state is State.IDLE


def test_private_caller_and_waiting_calls(rig: Rig) -> None:
    rig.emulator.ring(name="Dana Smith", privacy=True)
    rig.poll()
    assert rig.voice.said[-1].startswith("Call from a private caller.")
    newest = rig.emulator.ring(number="5551234")
    rig.poll()
    assert rig.voice.said[-1].startswith("Call from 5 5 5 1 2 3 4. 1 more waiting.")
    rig.hear("answer")
    assert [a["json"] for a in rig.webex_requests("/calls/answer")] == [{"callId": newest}]
    assert rig.voice.said[-1] == "The call from 5 5 5 1 2 3 4 was answered."  # whose, of the two


def test_follow_up_window_closes(rig: Rig) -> None:
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer")
    assert rig.dialog.listening
    rig.voice.speaking = True  # the window only starts once the confirmation has been said
    rig.clock.now += 60
    rig.dialog.on_tick()
    assert rig.dialog.state is State.FOLLOW_UP
    rig.voice.speaking = False
    rig.clock.now += DialogSettings().follow_up_seconds + 0.1
    rig.dialog.on_tick()
    assert rig.dialog.state is State.IDLE and not rig.dialog.listening
    assert rig.event_names()[-1] == "idle"


def test_webex_loss_and_return_are_said_once(rig: Rig) -> None:
    rig.emulator.add_fault(method="GET", path="/v1/telephony/calls", status=503, count=6)
    for _ in range(3):
        rig.poll()
    assert rig.voice.said == ["I can't reach Webex right now. I'll keep trying."]
    for _ in range(3):
        rig.poll()
    assert rig.voice.said[-1] == "Webex is reachable again."
    assert rig.voice.said.count("Webex is reachable again.") == 1


def test_sleep_and_wake(rig: Rig) -> None:
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("stop listening")
    assert rig.dialog.state is State.SLEEPING
    rig.hear("answer")
    assert rig.webex_requests("/calls/answer") == []
    rig.hear("start listening")
    assert rig.voice.said[-1] == "I'm back, and paying attention."


def test_always_mode_needs_the_wake_phrase(emulator: Any) -> None:
    for rig in make_rig(emulator, DialogSettings(listen_mode=ListenMode.ALWAYS)):
        call_id = rig.emulator.ring(name="Dana Smith")
        rig.poll()
        rig.hear("answer")
        assert [a["json"] for a in rig.webex_requests("/calls/answer")] == [{"callId": call_id}]
        rig.clock.now += 60
        rig.dialog.on_tick()
        assert rig.dialog.state is State.IDLE and rig.dialog.listening
        rig.hear("hang up")  # no wake phrase: ignored
        assert rig.webex_requests("/calls/hangup") == []


def test_wake_phrase_is_part_of_the_language_in_always_mode(emulator: Any) -> None:
    language = CommandLanguage.load("en", ["desk phone"], wake_phrase="Hey Webex")
    command = language.parse("hey webex")
    assert command is not None and command.intent.value == "wake"
    assert "hey webex" in language.sentences()
    assert CommandLanguage.load("en", ["desk phone"]).parse("hey webex") is None
    for rig in make_rig(emulator, DialogSettings(listen_mode=ListenMode.ALWAYS)):
        call_id = rig.emulator.ring(name="Dana Smith")
        rig.poll()
        rig.hear("answer")
        rig.clock.now += 60
        rig.dialog.on_tick()
        rig.dialog.on_heard(SimpleNamespace(text="hey webex", accepted=True, command=command))
        assert rig.dialog.state is State.AWAKE and "listening" in rig.voice.earcons
        rig.hear("hang up")
        assert [r["json"] for r in rig.webex_requests("/calls/hangup")] == [{"callId": call_id}]


def hear_now(rig: Rig, text: str) -> None:
    """Heard, without waiting for Webex: what the dialog thread sees at once."""
    command = rig.language.parse(text)
    rig.dialog.on_heard(SimpleNamespace(text=text, accepted=command is not None, command=command))


def test_acting_does_not_block_the_dialog(rig: Rig) -> None:
    """Webex takes a second to reply: the command is acknowledged at once, a second ring is
    announced meanwhile, and the outcome is spoken when the reply arrives."""
    first = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.emulator.add_fault(method="POST", path="/v1/telephony/calls/answer", delay=1.0)
    hear_now(rig, "answer on my desk phone")
    assert rig.dialog.state is State.ACTING and rig.voice.earcons[-1] == "ack"
    assert "acting" in rig.event_names()
    rig.emulator.ring(name="Lee Park")
    rig.poll()
    assert rig.voice.said[-1].startswith("Call from Lee Park.")
    hear_now(rig, "decline")
    assert rig.voice.said[-1] == "One moment, I'm still waiting for Webex."
    assert rig.webex_requests("/calls/reject") == []
    rig.dialog.settle()
    assert [a["json"]["callId"] for a in rig.webex_requests("/calls/answer")] == [first]
    assert rig.voice.said[-1] == "The call was answered. Your desk phone has it."
    action = [json.loads(line) for line in rig.events.getvalue().splitlines()
              if json.loads(line)["event"] == "action"]
    assert action[-1]["ok"] is True and action[-1]["status"] == 204  # what Webex replied


def test_a_call_that_stops_ringing_while_answering_is_said(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    # Webex is slow to refuse (404: the call is gone) while the caller hangs up meanwhile
    rig.emulator.add_fault(method="POST", path="/v1/telephony/calls/answer", status=404, delay=0.8)
    hear_now(rig, "answer on my desk phone")
    rig.emulator.end_call(call_id)
    rig.poll()  # the poller sees it stop while the request is in flight: nothing said yet
    rig.dialog.settle()
    assert "was answered" not in rig.voice.said[-1]
    assert rig.voice.said[-1] == "The call from Dana Smith stopped ringing."
    assert rig.voice.earcons[-1] == "error"
    assert rig.dialog.state is State.IDLE


def test_an_unexpected_failure_while_acting_is_spoken(rig: Rig) -> None:
    class Broken:
        def answer(self, call_id: str, endpoint_id: str | None) -> None:
            raise RuntimeError("bug")

    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.dialog._client = Broken()
    rig.hear("answer")
    assert rig.voice.said[-1].startswith("Something went wrong while talking to Webex.")
    assert rig.voice.earcons[-1] == "error" and rig.dialog.state is State.RINGING


def test_a_miss_while_asking_repeats_the_question_and_a_timeout_is_said(rig: Rig) -> None:
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on the phone")
    question = rig.voice.said[-1]
    rig.dialog.on_heard(SimpleNamespace(text="banana", accepted=False, command=None))
    assert rig.voice.said[-1] == "Sorry, I didn't catch that. " + question
    rig.clock.now += DialogSettings().question_timeout_seconds + 0.1
    rig.dialog.on_tick()
    assert rig.voice.said[-1].startswith("I didn't hear which device. The call is still ringing")
    assert rig.dialog.state is State.RINGING


def test_help_fits_the_moment_and_names_the_devices(rig: Rig) -> None:
    rig.hear("what can I say")
    idle = rig.voice.said[-1]
    assert idle.startswith("Nothing is ringing.") and "desk phone" in idle
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("what can I say")
    assert rig.voice.said[-1].startswith("Dana Smith is calling.") and "desk phone" in rig.voice.said[-1]
    rig.hear("answer on the phone")
    rig.hear("what can I say")
    assert rig.voice.said[-1].startswith("Say which device:") and "lobby phone" in rig.voice.said[-1]
    rig.hear("desk phone")
    rig.poll()
    rig.hear("what can I say")
    assert rig.voice.said[-1].startswith("You're on a call.")
    rig.hear("stop listening")
    rig.hear("what can I say")
    assert rig.voice.said[-1].startswith("I'm not listening to commands.")
    assert len(set(rig.voice.said[i] for i in range(len(rig.voice.said)) if "say" in rig.voice.said[i].lower())) >= 5


def test_keys_act_like_speech(rig: Rig) -> None:
    rig.dialog.on_key("a")
    assert rig.voice.said[-1] == "Nothing is ringing right now."
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.dialog.on_key("1")
    rig.dialog.settle()
    first = rig.directory.endpoints[0]
    assert [a["json"] for a in rig.webex_requests("/calls/answer")] == [
        {"callId": call_id, "endpointId": first.id}
    ]
    assert rig.voice.said[-1] == f"The call was answered. Your {rig.directory.label(first)} has it."
    rig.dialog.on_key("s")
    assert rig.dialog.state is State.SLEEPING
    rig.dialog.on_key("s")
    assert rig.dialog.state is not State.SLEEPING and rig.voice.said[-1] == "I'm back, and paying attention."
    rig.emulator.ring(name="Lee Park")
    rig.poll()
    rig.dialog.on_key("d")
    rig.dialog.settle()
    assert rig.voice.said[-1] == "The caller was turned away."


def test_auto_verbosity_gives_instructions_for_the_first_calls_then_the_name_only(emulator: Any) -> None:
    rigs = make_rig(emulator, DialogSettings(verbose_calls=2))
    rig = next(rigs)
    for _ in range(3):
        call_id = rig.emulator.ring(name="Dana Smith")
        rig.poll()
        rig.emulator.end_call(call_id)
        rig.poll()
    rings = [s for s in rig.voice.said if s.startswith("Call from")]
    assert rings == ["Call from Dana Smith. Say answer, answer on a device, or decline."] * 2 + [
        "Call from Dana Smith."]
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.dialog.on_heard(SimpleNamespace(text="banana", accepted=False, command=None))
    assert "Say answer" in rig.voice.said[-1]  # the instructions come after a miss
    rigs.close()


def test_a_call_ringing_for_25_seconds_is_announced_again_twice(rig: Rig) -> None:
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    for _ in range(250):
        rig.clock.now += 0.1
        rig.dialog.on_tick()
    assert rig.voice.said.count("Still ringing: Dana Smith.") == 2


def ticks(rig: Rig, seconds: float) -> None:
    for _ in range(round(seconds * 10)):
        rig.clock.now += 0.1
        rig.dialog.on_tick()


def test_the_reminder_waits_while_the_person_is_heard_then_comes_when_they_stop(rig: Rig) -> None:
    """The reminder is due 10 s after the announcement; the person started talking at 9.5 s.
    The microphone is deaf while the assistant speaks, so talking over them would lose what
    they say: it waits until the voice stops."""
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    ticks(rig, 9.5)
    rig.dialog.on_voice(True)
    ticks(rig, 2.0)  # 1.5 s past due
    assert "Still ringing: Dana Smith." not in rig.voice.said
    rig.dialog.on_voice(False)  # talk that was not a command (or not heard as one)
    ticks(rig, 0.1)
    assert rig.voice.said.count("Still ringing: Dana Smith.") == 1


def test_a_call_ringing_in_the_follow_up_window_is_reminded_10_s_after_its_announcement(
        rig: Rig) -> None:
    """The reminder counts from the end of the last sentence in every state. Counted from the
    ring instead, a call that rang while the confirmation of the one before was still being said
    was reminded 8 s after its announcement, live over a command begun at 9.6 s."""
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on my desk phone")
    assert rig.dialog.state is State.FOLLOW_UP
    rig.emulator.ring(name="Lee Park")
    rig.poll()
    assert rig.voice.said[-1].startswith("Call from Lee Park")
    rig.voice.speaking = True  # the announcement plays for 2 s
    ticks(rig, 2.0)
    rig.voice.speaking = False
    ticks(rig, 9.8)
    assert "Still ringing: Lee Park." not in rig.voice.said
    ticks(rig, 0.3)
    assert rig.voice.said.count("Still ringing: Lee Park.") == 1


def test_a_voice_heard_on_and_on_delays_the_reminder_by_at_most_the_hold(rig: Rig) -> None:
    """In a chatty room a voice is heard almost all the time: the reminder still comes,
    VOICE_HOLD_SECONDS late at most."""
    from assistant.dialog import VOICE_HOLD_SECONDS

    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.dialog.on_voice(True)
    ticks(rig, 10.0 + VOICE_HOLD_SECONDS - 0.2)
    assert "Still ringing: Dana Smith." not in rig.voice.said
    ticks(rig, 0.3)
    assert rig.voice.said.count("Still ringing: Dana Smith.") == 1


def test_a_command_said_when_the_reminder_was_due_is_acted_on_without_the_reminder(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    ticks(rig, 9.0)
    rig.dialog.on_voice(True)
    ticks(rig, 2.0)
    rig.hear("answer on my desk phone")  # the loop gives the transcript before the voice's end
    rig.dialog.on_voice(False)
    ticks(rig, 1.0)
    assert [a["json"] for a in rig.webex_requests("/calls/answer")] == [
        {"callId": call_id, "endpointId": rig.endpoint_id("Cisco 8865 (Desk phone)")}]
    assert "Still ringing: Dana Smith." not in rig.voice.said
    assert rig.voice.said[-1] == "The call was answered. Your desk phone has it."


def test_the_question_stays_open_while_its_answer_is_being_said(rig: Rig) -> None:
    """"Which phone?" times out after 6 s; an answer begun at 5.5 s and heard at 7 s is taken,
    and the time-out is not said over it."""
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on the phone")
    assert rig.dialog.state is State.ASKING
    ticks(rig, 5.5)
    rig.dialog.on_voice(True)
    ticks(rig, 1.5)
    assert rig.dialog.state is State.ASKING
    assert not rig.voice.said[-1].startswith("I didn't hear which device")
    rig.hear("desk phone")
    rig.dialog.on_voice(False)
    assert [a["json"] for a in rig.webex_requests("/calls/answer")] == [
        {"callId": call_id, "endpointId": rig.endpoint_id("Cisco 8865 (Desk phone)")}]


def test_the_question_times_out_after_the_hold_when_a_voice_goes_on(rig: Rig) -> None:
    from assistant.dialog import VOICE_HOLD_SECONDS

    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on the phone")
    rig.dialog.on_voice(True)
    ticks(rig, 6.0 + VOICE_HOLD_SECONDS + 0.2)
    assert rig.dialog.state is State.RINGING
    assert rig.voice.said[-1].startswith("I didn't hear which device")


def test_stop_listening_lasts_across_a_restart_and_a_ring_says_how_to_wake(
    emulator: Any, tmp_path: Any
) -> None:
    from assistant.state import StateFile

    rigs = make_rig(emulator)
    rig = next(rigs)
    rig.dialog._remembered = StateFile(tmp_path / "state.json")
    rig.hear("stop listening")
    assert rig.dialog.state is State.SLEEPING
    rigs.close()
    restarts = make_rig(emulator)
    restarted = next(restarts)
    restarted.dialog.close()
    restarted.dialog = Dialog(restarted.client, restarted.voice, EventLog(restarted.events),
                              restarted.language, restarted.directory, DialogSettings(),
                              clock=restarted.clock, state=StateFile(tmp_path / "state.json"))
    assert restarted.dialog.state is State.SLEEPING
    call_id = restarted.emulator.ring(name="Dana Smith")
    restarted.poll()
    assert restarted.voice.said[-1] == "Call from Dana Smith. I'm not listening: say start listening, then answer."
    restarted.hear("answer")
    assert restarted.webex_requests("/calls/answer") == []  # asleep: not acted on
    restarted.hear("start listening")
    assert restarted.dialog.state is State.RINGING
    restarted.hear("answer")
    assert [a["json"] for a in restarted.webex_requests("/calls/answer")] == [{"callId": call_id}]
    assert StateFile(tmp_path / "state.json").value.sleeping is False
    restarted.dialog.close()
    restarts.close()


def test_a_setting_changed_by_voice_applies_at_once_and_survives_a_restart(
    emulator: Any, tmp_path: Any
) -> None:
    from pathlib import Path

    from assistant import config
    from assistant.preferences import Preferences

    path = tmp_path / "assistant.toml"
    original = (Path(__file__).parents[1] / "config" / "assistant.toml").read_text()
    path.write_text(original)
    rigs = make_rig(emulator)
    rig = next(rigs)
    rig.dialog._preferences = Preferences(path)
    rig.hear("speak slower")
    assert rig.voice.adjusted == [{"rate_wpm": 150}]
    assert rig.voice.said[-1] == "OK, slower from now on."
    rig.hear("turn off the beeps")
    rig.hear("shorter prompts")
    rigs.close()
    restarted = config.load(str(path), environ={})
    assert restarted.voice.rate_wpm == 150 and restarted.voice.earcons is False
    assert restarted.dialog.verbosity.value == "terse"
    changed = [(a, b) for a, b in zip(original.splitlines(), path.read_text().splitlines()) if a != b]
    assert [b.split("#")[0].strip() for _, b in changed] == [
        "rate_wpm = 150", "earcons = false", 'verbosity = "terse"']
    assert len(original.splitlines()) == len(path.read_text().splitlines())  # nothing else moved


def test_a_setting_at_its_limit_is_said_and_not_written(rig: Rig) -> None:
    for _ in range(12):
        rig.hear("speak faster")
    assert rig.voice.said[-1] == "That setting is already as far as it goes."
    assert rig.voice.adjusted[-1] == {"rate_wpm": 350}


def test_stop_while_speaking_cuts_the_sentence_and_takes_no_action(rig: Rig) -> None:
    """``stop`` mode (loudspeakers): only "stop"/"cancel" cut the assistant; what else is heard
    over its voice, possibly itself, is dropped without an action or a reprompt."""
    from assistant.config import BargeIn

    rig.dialog.barge_in = BargeIn.STOP
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    stops, said = rig.voice.stops, len(rig.voice.said)
    rig.hear("answer on my desk phone", speaking=True)  # e.g. its own prompt, heard back
    rig.hear("banana", speaking=True)
    assert rig.webex_requests("/calls/answer") == [] and len(rig.voice.said) == said
    rig.hear("stop", speaking=True)
    assert rig.voice.stops == stops + 1 and len(rig.voice.said) == said
    assert rig.dialog.state is State.RINGING and rig.webex_requests("/calls/") == []


def test_a_command_barged_in_with_a_headset_is_acted_on(rig: Rig) -> None:
    from assistant.config import BargeIn

    rig.dialog.barge_in = BargeIn.ON
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    stops = rig.voice.stops
    rig.hear("answer on my desk phone", speaking=True)
    assert rig.voice.stops == stops + 1  # the prompt is cut at once
    assert [a["json"]["callId"] for a in rig.webex_requests("/calls/answer")] == [call_id]
    assert rig.voice.said[-1] == "The call was answered. Your desk phone has it."


RINGING_INTENTS = [
    # said, Webex path, body beyond callId, spoken outcome
    ("decline", "/calls/reject", {"action": "busy"}, "The caller was turned away."),
    ("ignore the call", "/calls/reject", {"action": "ignore"}, "Your devices are silent now. The caller still hears ringing."),
    ("send it to voicemail", "/calls/divert", {"toVoicemail": True}, "The caller was passed to your voicemail box."),
    # Webex: hangup on an unanswered incoming call rejects it (sent to busy)
    ("hang up", "/calls/hangup", {}, "The call is over."),
]


@pytest.mark.parametrize(("said", "path", "body", "outcome"), RINGING_INTENTS)
def test_every_ringing_intent_through_the_dialog(
    rig: Rig, said: str, path: str, body: dict[str, Any], outcome: str
) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear(said)
    requests = rig.webex_requests(path)
    assert [r["json"] for r in requests] == [{"callId": call_id, **body}]
    assert requests[0]["status"] == 204 and "ack" in rig.voice.earcons
    assert rig.voice.said[-1] == outcome
    assert rig.dialog.state is State.IDLE


CALL_INTENTS = [
    ("put the call on hold", "/calls/hold", "The caller is held and waiting."),
    ("resume the call", "/calls/resume", "You're back on the call."),
    ("mute", "/calls/mute", "Your microphone is off."),
    ("unmute", "/calls/unmute", "Your microphone is on."),
    ("hang up", "/calls/hangup", "The call is over."),
]


def test_every_call_control_through_the_dialog(rig: Rig) -> None:
    call_id = rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("answer on my desk phone")
    rig.poll()
    for said, path, outcome in CALL_INTENTS:
        rig.hear(said)
        requests = rig.webex_requests(path)
        assert [r["json"] for r in requests] == [{"callId": call_id}], said
        assert requests[0]["status"] == 204, said
        assert rig.voice.said[-1] == outcome
        rig.poll()
    assert rig.dialog.state is State.IDLE


def test_every_conversation_intent_through_the_dialog(rig: Rig) -> None:
    rig.hear("who is calling")
    assert rig.voice.said[-1] == "Nothing is ringing right now."
    rig.emulator.ring(name="Dana Smith")
    rig.poll()
    rig.hear("who is calling")
    assert rig.voice.said[-1] == "Call from Dana Smith."
    rig.hear("what devices do i have")
    assert rig.voice.said[-1].startswith("Your devices are:") and "desk phone" in rig.voice.said[-1]
    rig.hear("repeat that")
    assert rig.voice.said[-1] == rig.voice.said[-2]
    rig.hear("answer on the phone")
    assert rig.dialog.state is State.ASKING
    rig.hear("cancel")
    assert rig.voice.said[-1] == "OK, nothing was done." and rig.dialog.state is State.RINGING
    rig.hear("mute")  # nothing connected yet
    assert rig.voice.said[-1] == "There is no call to control right now."
    assert rig.emulator.requests()[-1]["path"].endswith("/telephony/calls")  # only polls
