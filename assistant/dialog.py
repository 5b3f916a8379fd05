"""The conversation: an explicit state machine from ring to spoken outcome.

    IDLE ──ring──► RINGING ──"answer on the phone"──► ASKING ──"desk phone"──► ACTING
      ▲               │ answer / decline / ignore / voicemail                      │
      │               ▼                                                            ▼
      └──timeout── FOLLOW_UP ◄──────────────── answered ─────────────────────── ACTING
    SLEEPING: only "start listening" is heard.  AWAKE: ``always`` mode, after the wake phrase.

All state changes happen in ``_enter``; every input arrives through one ``on_*`` method, all
called from one thread (the loop's), so the dialog needs no locks. Speech is started without
waiting, so a call that stops ringing can cut its own prompt short.

ACTING: a Webex request runs on the ``webex-action`` thread, never on the dialog's. An "ack"
tone says at once that the command was heard; rings are still announced meanwhile; ``on_tick``
collects the reply and speaks the outcome. Every fault ends in a sentence or the error tone.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from assistant.calls import CallEvent
from assistant.config import BargeIn, DialogSettings, ListenMode, Verbosity, VoiceSettings
from assistant.devices import DeviceDirectory, Resolution
from assistant.errors import WebexError
from assistant.events import EventLog
from assistant.intents import Command, CommandLanguage, Intent
from assistant.messages import Messages
from assistant.preferences import Preferences
from assistant.protocols import CallControl, Speaker
from assistant.state import StateFile
from assistant.webex.models import Call, Endpoint

log = logging.getLogger(__name__)


class State(str, Enum):
    IDLE = "idle"
    RINGING = "ringing"
    ASKING = "asking"
    FOLLOW_UP = "follow_up"
    AWAKE = "awake"
    SLEEPING = "sleeping"
    ACTING = "acting"


@dataclass
class _Pending:
    """A Webex request in flight, and what happened to its call meanwhile."""

    action: str
    call: Call
    endpoint: Endpoint | None
    phrase: str | None
    future: Future[Any]
    callers_ringing: int  # calls ringing when the command was given (> 1: name the caller)
    stopped: str = ""  # "answered" or "ended" if the call stopped ringing while in flight


class HeardLike(Protocol):
    text: str
    accepted: bool
    command: Command | None


PREFERENCE_INTENTS = (
    Intent.SLOWER, Intent.FASTER, Intent.LOUDER, Intent.QUIETER,
    Intent.BEEPS_OFF, Intent.BEEPS_ON, Intent.SHORTER, Intent.LONGER,
)
# A reminder due, or a listening window ending, while the microphone hears a voice waits for
# the voice to stop, at most this long: the assistant does not talk over the person (the
# microphone is deaf while it speaks, so a command it cuts is lost), and a window does not
# close on a command being said. Bounded, since in a chatty room a voice is heard most of the
# time; a command is at most ``max_utterance_seconds`` (6 s) long and mostly 1-3 s.
VOICE_HOLD_SECONDS = 4.0
RATE_STEP_WPM = 25
RATE_RANGE_WPM = (100, 350)
VOLUME_STEP = 0.2
VOLUME_RANGE = (0.2, 2.0)
# While "Which device?" is open, only these are acted on: a device alone (the answer), "answer
# on <device>", cancel, and what only speaks. A device said alone is short, and the grammar has
# short commands: after a pause, "app" was heard as "hang up", "answer" or "repeat", "headset"
# as "hang up it" or "pick up", "desk phone" as "who is calling" (8 of 54 in a quiet room,
# bench/commit_replay.py --stress --pauses). Acted on, "hang up" would turn the caller away while
# the person was naming a device; held, the devices are said again with the way out (cancel).
ASKING_TAKES = frozenset({Intent.ANSWER, Intent.CANCEL, Intent.HELP, Intent.REPEAT, Intent.WHO,
                          Intent.DEVICES})
RINGING_CONTROLS = {Intent.DECLINE: "decline", Intent.IGNORE: "ignore", Intent.VOICEMAIL: "voicemail"}
CALL_CONTROLS = {
    Intent.HANGUP: "hangup",
    Intent.HOLD: "hold",
    Intent.RESUME: "resume",
    Intent.MUTE: "mute",
    Intent.UNMUTE: "unmute",
}


class Dialog:
    def __init__(
        self,
        client: CallControl,
        voice: Speaker,
        events: EventLog,
        language: CommandLanguage,
        directory: DeviceDirectory,
        settings: DialogSettings,
        messages: Messages | None = None,
        clock: Callable[[], float] = time.monotonic,
        actions: Executor | None = None,
        state: StateFile | None = None,
        voice_settings: VoiceSettings | None = None,
        preferences: Preferences | None = None,
        barge_in: BargeIn = BargeIn.STOP,
    ) -> None:
        self._client = client
        self._voice = voice
        self._events = events
        self._language = language
        self.directory = directory
        self._settings = settings
        self._messages = messages or Messages.load()
        self._clock = clock
        self.state = State.IDLE
        self.ringing: list[Call] = []  # oldest first; "answer" takes the newest
        self.connected: list[Call] = []  # from the latest poll
        self.active: Call | None = None  # the call the last answer connected
        self._asking: tuple[Intent, Call, list[Endpoint]] | None = None
        self._deadline = 0.0
        self._window_seconds = 0.0
        self._misheard: dict[str, int] = {}
        self._handled: set[str] = set()  # calls this assistant acted on
        self._last_said = ""
        self._webex_down = False
        self._asked = ""  # the open "Which phone?" question, repeated after a miss
        self._actions = actions or ThreadPoolExecutor(1, thread_name_prefix="webex-action")
        self._pending: _Pending | None = None
        self._remembered = state or StateFile(None)
        self._voice_settings = voice_settings or VoiceSettings()
        self._preferences = preferences or Preferences(None)
        self._verbosity = settings.verbosity
        self.barge_in = barge_in  # resolved: on, stop or off (never auto)
        self._announce_at = 0.0  # when a call still ringing is announced again
        self._voice_heard = False  # the microphone hears a voice (an utterance is under way)
        if self._remembered.value.sleeping:  # "stop listening" lasts across restarts
            self.state = State.SLEEPING

    @property
    def messages(self) -> Messages:
        return self._messages

    def close(self) -> None:
        """Wait for a request in flight (bounded by the client's deadline), then stop."""
        self._actions.shutdown(wait=True)

    def settle(self, timeout_seconds: float = 10.0) -> None:
        """Wait for the request in flight and speak its outcome (the loop's ticks do this too)."""
        if self._pending is not None:
            try:
                self._pending.future.exception(timeout=timeout_seconds)
            except TimeoutError:
                return
        self._collect()

    # ----------------------------------------------------------------- inputs

    @property
    def listening(self) -> bool:
        """Whether microphone transcripts should be interpreted right now."""
        if self._settings.listen_mode is ListenMode.ALWAYS:
            return True
        return self.state is not State.IDLE

    def on_call_event(self, event: CallEvent) -> None:
        if event.kind == "ringing" and event.call is not None:
            self._on_ringing(event.call)
        elif event.kind == "stopped" and event.call is not None:
            self._on_stopped(event.call, event.reason)
        elif event.kind == "calls":
            self.connected = [c for c in event.calls if c.state in ("connected", "held")]
            if self.active is not None:
                self.active = next((c for c in event.calls if c.id == self.active.id), None)
        elif event.kind == "webex_down" and not self._webex_down:
            self._webex_down = True
            self._error(self._messages.say("webex_down"))
        elif event.kind in ("auth_failed", "poller_error"):  # the poller says each trouble once
            self._webex_down = True
            self._error(self._messages.render(event.message))
        elif event.kind == "webex_back" and self._webex_down:
            self._webex_down = False
            self._say(self._messages.say("webex_back"))

    def on_heard(self, heard: HeardLike, speaking: bool = False) -> None:
        """``speaking``: heard while the assistant was talking (barge-in, see ``BargeIn``)."""
        if speaking and not self._barged_in(heard):
            return
        command = heard.command if heard.accepted else None
        if self.state is State.ASKING and command is None and heard.accepted:
            command = self._device_answer(heard.text)
        held = False
        if (self.state is State.ASKING and command is not None
                and (command.intent not in ASKING_TAKES
                     or command.intent is Intent.ANSWER and command.device is None)):
            command, held = None, True  # a device misheard as another command: asked again
        command = self._after_wake_phrase(heard.text, command)
        endpoint = self._endpoint_for(command)
        self._events.emit(
            "heard",
            text=heard.text or getattr(heard, "left_unfinished", ""),
            intent=command.intent.value if command else None,
            device=endpoint.name if endpoint else None,
            accepted=command is not None,
        )
        if command is None:
            self._misunderstood(getattr(heard, "left_unfinished", ""), held)
        elif self.state is State.ACTING:
            self._say(self._messages.say("busy"))  # one request at a time; nothing is lost
        elif self.state is State.SLEEPING:
            if command.intent is Intent.WAKE:
                self._wake()
            elif command.intent is Intent.HELP:
                self._say(self._help())
        elif self._settings.listen_mode is ListenMode.ALWAYS and self.state is State.IDLE:
            pass  # a command without the wake phrase first: ignored in always mode
        else:
            self._handle(command)

    def _barged_in(self, heard: HeardLike) -> bool:
        """Heard over the assistant's own voice: "stop" / "cancel" cut the sentence (and nothing
        else happens); in ``on`` mode another command cuts it and is acted on. Everything else
        heard meanwhile, possibly the assistant itself, is dropped without a reprompt."""
        command = heard.command if heard.accepted else None
        if command is None or self.barge_in is BargeIn.OFF:
            return False
        if command.intent is Intent.CANCEL:
            self._voice.stop()
            self._events.emit("heard", text=heard.text, intent="cancel", device=None, accepted=True)
            return False
        if self.barge_in is BargeIn.ON:
            self._voice.stop()
            return True
        return False

    def on_voice(self, heard: bool) -> None:
        """The microphone began to hear a voice (an utterance started), or no longer does."""
        self._voice_heard = heard

    def _waits_for_voice(self, due: float) -> bool:
        """Something due at ``due`` waits while a voice is heard, at most VOICE_HOLD_SECONDS."""
        return self._voice_heard and self._clock() < due + VOICE_HOLD_SECONDS

    def on_tick(self) -> None:
        self._collect()
        self._announce_again()
        if self._voice.is_deaf():  # windows start when the assistant has finished speaking
            self._deadline = self._clock() + self._window_seconds
            return
        if self._clock() < self._deadline or self._waits_for_voice(self._deadline):
            return
        if self.state in (State.FOLLOW_UP, State.AWAKE):
            self._enter(State.RINGING if self.ringing else State.IDLE)
        elif self.state is State.ASKING:
            self._asking = None
            if self.ringing:  # never a silent time-out: the person hears where they are
                self._say(self._messages.say("question_timeout"))
            self._enter(State.RINGING if self.ringing else State.IDLE)

    def on_microphone_back(self) -> None:
        self._say(self._messages.say("microphone_back"))

    def on_device_error(self, message: str) -> None:
        """The microphone went away (said once by the microphone; the loop keeps running)."""
        self._error(self._messages.render(message))

    def on_fault(self, message: str) -> None:
        """A part failed (a thread, a step of the dialog); the loop restarts what it can."""
        self._error(self._messages.render(message))

    # ----------------------------------------------------------------- calls

    def _on_ringing(self, call: Call) -> None:
        self.ringing.append(call)
        caller = call.remote.spoken()
        self._events.emit("ringing", callId=call.id, caller=caller)
        self._voice.stop()  # a new ring cuts any sentence at once
        self._voice.earcon("ring", wait=False)
        self._announce_at = self._clock() + self._settings.reannounce_seconds
        if self.state is State.SLEEPING:
            self._say(self._messages.say("ring_asleep", caller=caller))
            return
        remembered = self._remembered.value
        verbose = self._verbosity is Verbosity.VERBOSE or (
            self._verbosity is Verbosity.AUTO
            and remembered.calls_announced < self._settings.verbose_calls
        )
        remembered.calls_announced += 1
        self._remembered.save()
        waiting = len(self.ringing) - 1
        key = "ring_waiting" if waiting else "ring"
        self._say(self._messages.say(key if verbose else key + "_terse", caller=caller, waiting=waiting))
        if self.state not in (State.FOLLOW_UP, State.ACTING):
            self._enter(State.RINGING)

    def _announce_again(self) -> None:
        """A call that keeps ringing is named again every ``reannounce_seconds`` (name only)."""
        seconds = self._settings.reannounce_seconds
        if not seconds or not self.ringing:
            return
        if self._voice.is_deaf():  # counted from the end of the last sentence, in every state
            self._announce_at = self._clock() + seconds  # (a ring in the follow-up window too)
        elif self.state not in (State.RINGING, State.SLEEPING):
            return
        elif self._clock() >= self._announce_at and not self._waits_for_voice(self._announce_at):
            self._announce_at = self._clock() + seconds
            self._say(self._messages.say("ring_again", caller=self.ringing[-1].remote.spoken()))

    def _on_stopped(self, call: Call, reason: str) -> None:
        was_announced = bool(self.ringing) and self.ringing[-1].id == call.id
        self.ringing = [c for c in self.ringing if c.id != call.id]
        if self._asking and self._asking[1].id == call.id:
            self._asking = None
        if self._pending is not None and self._pending.call.id == call.id:
            self._pending.stopped = reason  # the reply in flight will say what happened
            return
        if call.id in self._handled:
            return
        if was_announced:
            self._voice.stop()  # its prompt ends at once
        caller = call.remote.spoken()
        key = "answered_elsewhere" if reason == "answered" else "stopped_ringing"
        self._say(self._messages.say(key, caller=caller))
        if self.state in (State.RINGING, State.ASKING):
            self._enter(State.RINGING if self.ringing else State.IDLE)

    # ----------------------------------------------------------------- commands

    def _handle(self, command: Command) -> None:
        intent = command.intent
        newest = self.ringing[-1] if self.ringing else None
        if intent is Intent.ANSWER:
            if newest is None:
                self._say(self._messages.say("no_call"))
            elif command.device is None:
                self._act("answer", newest, None, None)
            else:
                self._answer_on(newest, self.directory.resolve(command.device))
        elif intent in RINGING_CONTROLS:
            if newest is None:
                self._say(self._messages.say("no_call"))
            else:
                self._act(RINGING_CONTROLS[intent], newest, None, None)
        elif intent in CALL_CONTROLS:
            target = self.active or (self.connected[-1] if self.connected else None)
            if intent is Intent.HANGUP and target is None and newest is not None:
                target = newest  # hang up on a ringing call = reject it
            if target is None:
                self._say(self._messages.say("no_connected_call"))
            else:
                self._act(CALL_CONTROLS[intent], target, None, None)
        else:
            self._handle_conversation(intent, newest)

    def _handle_conversation(self, intent: Intent, newest: Call | None) -> None:
        if intent is Intent.WHO:
            caller = newest.remote.spoken() if newest else None
            self._say(self._messages.say("who", caller=caller) if caller else self._messages.say("no_call"))
        elif intent is Intent.DEVICES:
            self._say(self._messages.say("devices", devices=self._device_list()))
        elif intent is Intent.REPEAT:
            self._say(self._last_said or self._messages.say("help"))
        elif intent is Intent.HELP:
            self._say(self._help())
        elif intent is Intent.CANCEL:
            self._voice.stop()
            self._asking = None
            self._say(self._messages.say("cancelled"))
            if self.state is State.ASKING:
                self._enter(State.RINGING if self.ringing else State.IDLE)
        elif intent is Intent.SLEEP:
            self._sleep()
        elif intent is Intent.WAKE:
            self._say(self._messages.say("awake"))
        elif intent in PREFERENCE_INTENTS:
            self._change_preference(intent)

    def _answer_on(self, call: Call, resolution: Resolution) -> None:
        if resolution.kind == "device" and resolution.endpoint is not None:
            self._act("answer", call, resolution.endpoint, resolution.phrase)
        elif resolution.kind == "ambiguous":
            self._asking = (Intent.ANSWER, call, resolution.candidates)
            self._asked = self.directory.question(resolution)
            self._misheard.pop("asking", None)
            self._say(self._asked)
            self._enter(State.ASKING, self._settings.question_timeout_seconds)
        else:
            self._say(
                self._messages.say(
                    "unknown_device", phrase=resolution.phrase, devices=self._device_list()
                )
            )

    def _device_answer(self, text: str) -> Command | None:
        """A short answer to "Which phone?": a device phrase that names one of the candidates,
        or several of them ("phone" to "Which device?": asked again, about those only)."""
        assert self._asking is not None
        phrase = self._language.parse_device_only(text)
        if phrase is None:
            return None
        named = self.directory.resolve(phrase).candidates  # one device, or several
        if named and all(e in self._asking[2] for e in named):
            return Command(self._asking[0], phrase, text)
        return None

    def _after_wake_phrase(self, text: str, command: Command | None) -> Command | None:
        if self._settings.listen_mode is not ListenMode.ALWAYS or self.state is not State.IDLE:
            return command
        wake = self._settings.wake_phrase.lower().strip()
        if not wake or not text.lower().startswith(wake):
            return None
        rest = text[len(wake) :].strip()
        self._enter(State.AWAKE, self._settings.question_timeout_seconds)
        if not rest:
            self._voice.earcon("listening", wait=False)
            return Command(Intent.WAKE, None, text)
        return self._language.parse(rest)

    def _endpoint_for(self, command: Command | None) -> Endpoint | None:
        if command is None or command.device is None:
            return None
        return self.directory.resolve(command.device).endpoint

    def _misunderstood(self, left_unfinished: str = "", held: bool = False) -> None:
        """No command heard. ``left_unfinished``: the person began one and stopped before its
        device ("answer on my …"): the device is asked for. ``held``: a command heard while
        asking, not acted on (``ASKING_TAKES``): the devices are said again, with the way out."""
        if (left_unfinished and self.state is State.RINGING and self.ringing
                and self.directory.endpoints
                and self._language.device_intent(left_unfinished) is Intent.ANSWER):
            every = self.directory.endpoints
            self._answer_on(self.ringing[-1], Resolution("ambiguous", "", None, list(every)))
            return
        if self.state is State.ASKING and self._asking is not None:
            count = self._misheard.get("asking", 0)
            if held:  # a command was heard, and nothing done: never without a word
                self._say(self._help())  # "Say which device: … Or say cancel."
                self._deadline = self._clock() + self._window_seconds
            elif count < self._settings.reprompts:  # the question is asked again, never dropped
                self._misheard["asking"] = count + 1
                self._say(self._messages.say("reprompt_question", question=self._asked))
                self._deadline = self._clock() + self._window_seconds
            return
        if self.state is not State.RINGING or not self.ringing:
            return
        call_id = self.ringing[-1].id
        count = self._misheard.get(call_id, 0)
        if count < self._settings.reprompts:
            self._misheard[call_id] = count + 1
            self._say(self._messages.say("reprompt"))

    # ----------------------------------------------------------------- actions

    def _act(self, action: str, call: Call, endpoint: Endpoint | None, phrase: str | None) -> None:
        endpoint_id = endpoint.id if endpoint else None
        self._voice.earcon("ack", wait=False)  # heard: the reply follows when Webex gives it
        future = self._actions.submit(self._perform, action, call.id, endpoint_id)
        self._pending = _Pending(action, call, endpoint, phrase, future, len(self.ringing))
        self._asking = None
        self._enter(State.ACTING)

    def _collect(self) -> None:
        """Speak the outcome of the request in flight once Webex has replied."""
        pending = self._pending
        if pending is None or not pending.future.done():
            return
        self._pending = None
        action, call = pending.action, pending.call
        endpoint_id = pending.endpoint.id if pending.endpoint else None
        error = pending.future.exception()
        if error is not None:
            status = getattr(error, "status", None)
            self._events.emit(
                "action", name=action, callId=call.id, endpointId=endpoint_id, status=status,
                ok=False,
            )
            self._enter(State.RINGING if self.ringing else State.IDLE)
            if not isinstance(error, WebexError):
                log.error("%s on call %s failed", action, call.id, exc_info=error)
                self._error(self._messages.say("action_failed"))
            elif pending.stopped:
                log.warning("%s on call %s failed after it stopped ringing: %s", action, call.id, error)
                key = "answered_elsewhere" if pending.stopped == "answered" else "stopped_ringing"
                self._error(self._messages.say(key, caller=call.remote.spoken()))
            else:
                log.warning("%s on call %s failed: %s", action, call.id, error)
                self._error(self._messages.render(error.spoken))
            return
        status = pending.future.result()
        self._events.emit(
            "action", name=action, callId=call.id, endpointId=endpoint_id,
            status=status if isinstance(status, int) else None, ok=True,
        )
        self._handled.add(call.id)
        self._done(pending)

    def _done(self, pending: _Pending) -> None:
        action, call, endpoint = pending.action, pending.call, pending.endpoint
        device = self.directory.said_as(endpoint, pending.phrase) if endpoint is not None else None
        self._voice.earcon("done", wait=False)
        if action == "answer" and pending.callers_ringing > 1:
            self._say(self._messages.outcome_for_caller(action, call.remote.spoken(), device))
        else:
            self._say(self._messages.outcome_of(action, device))
        if action == "answer":
            self.ringing = [c for c in self.ringing if c.id != call.id]
            self.active = call
            self._enter(State.FOLLOW_UP, self._settings.follow_up_seconds)
        elif action in RINGING_CONTROLS.values() or (
            action == "hangup" and any(c.id == call.id for c in self.ringing)
        ):
            self.ringing = [c for c in self.ringing if c.id != call.id]
            self._enter(State.RINGING if self.ringing else State.IDLE)
        elif action == "hangup":
            self.active = None
            self._enter(State.RINGING if self.ringing else State.IDLE)
        else:
            self._enter(State.FOLLOW_UP, self._settings.follow_up_seconds)

    def _perform(self, action: str, call_id: str, endpoint_id: str | None) -> int | None:
        """Runs on the ``webex-action`` thread; returns the HTTP status Webex replied with."""
        client = self._client
        controls: dict[str, Callable[[str], int]] = {
            "hangup": client.hangup, "hold": client.hold, "resume": client.resume,
            "mute": client.mute, "unmute": client.unmute,
        }
        if action == "answer":
            return client.answer(call_id, endpoint_id)
        if action == "decline":
            return client.reject(call_id, "busy")
        if action == "ignore":
            return client.reject(call_id, "ignore")
        if action == "voicemail":
            return client.divert(call_id, to_voicemail=True)
        return controls[action](call_id)

    def _help(self) -> str:
        """What fits the moment: ringing, asking, on a call, idle or asleep."""
        devices = self._messages.spoken_list(
            [self.directory.label(e) for e in self.directory.endpoints], "or"
        )
        say = self._messages.say
        if self.state is State.SLEEPING:
            return say("help_asleep")
        if self.state is State.ASKING and self._asking is not None:
            return say("help_asking", devices=self._messages.spoken_list(
                [self.directory.label(e) for e in self._asking[2]], "or"))
        if self.ringing:
            return say("help_ringing", caller=self.ringing[-1].remote.spoken(), devices=devices)
        if self.active is not None or self.connected:
            return say("help_call")
        return say("help_idle", devices=devices)

    def _change_preference(self, intent: Intent) -> None:
        """Applied at once, confirmed in the new setting, and written to the config file."""
        voice = self._voice_settings
        if intent in (Intent.SLOWER, Intent.FASTER):
            step = RATE_STEP_WPM if intent is Intent.FASTER else -RATE_STEP_WPM
            value: Any = max(RATE_RANGE_WPM[0], min(RATE_RANGE_WPM[1], voice.rate_wpm + step))
            section, key, changed = "voice", "rate_wpm", value != voice.rate_wpm
        elif intent in (Intent.LOUDER, Intent.QUIETER):
            change = VOLUME_STEP if intent is Intent.LOUDER else -VOLUME_STEP
            value = round(max(VOLUME_RANGE[0], min(VOLUME_RANGE[1], voice.volume + change)), 2)
            section, key, changed = "voice", "volume", value != voice.volume
        elif intent in (Intent.BEEPS_OFF, Intent.BEEPS_ON):
            value = intent is Intent.BEEPS_ON
            section, key, changed = "voice", "earcons", value != voice.earcons
        else:
            value = Verbosity.TERSE if intent is Intent.SHORTER else Verbosity.VERBOSE
            section, key, changed = "dialog", "verbosity", value is not self._verbosity
        if not changed:
            self._say(self._messages.say("setting_limit"))
            return
        if section == "voice":
            self._voice_settings = dataclasses.replace(voice, **{key: value})
            self._voice.adjust(**{key: value})
        else:
            self._verbosity = value
        stored = value.value if isinstance(value, Verbosity) else value
        remembered = self._preferences.remember(section, key, stored)
        sentence = self._messages.say("setting_" + intent.value)
        if not remembered and self._preferences.path is not None:
            sentence += " " + self._messages.say("setting_not_saved")
        self._say(sentence)

    def _sleep(self) -> None:
        self._say(self._messages.say("sleeping"))
        self._asking = None
        self._enter(State.SLEEPING)
        self._remembered.value.sleeping = True
        self._remembered.save()

    def _wake(self) -> None:
        self._enter(State.RINGING if self.ringing else State.IDLE)
        self._say(self._messages.say("awake"))
        self._remembered.value.sleeping = False
        self._remembered.save()

    # ----------------------------------------------------------------- keys

    def on_key(self, key: str) -> None:
        """One key from the terminal: the same actions as speech, for hands that can press a
        key or a foot switch. Works in every state, whether or not the microphone does."""
        key = key.lower()
        self._events.emit("key", key=key)
        if key == "s":
            if self.state is State.SLEEPING:
                self._wake()
            else:
                self._sleep()
            return
        if key == "h":
            self._say(self._help() + " " + self._messages.say(
                "help_keys", count=min(9, len(self.directory.endpoints))))
            return
        if key == "r":
            self._say(self._last_said or self._help())
            return
        if self.state is State.ACTING:
            self._say(self._messages.say("busy"))
            return
        newest = self.ringing[-1] if self.ringing else None
        if key in "ad" or key.isdigit():
            if newest is None:
                self._say(self._messages.say("no_call"))
            elif key == "a":
                self._act("answer", newest, None, None)
            elif key == "d":
                self._act("decline", newest, None, None)
            elif 1 <= int(key) <= min(9, len(self.directory.endpoints)):
                endpoint = self.directory.endpoints[int(key) - 1]
                self._act("answer", newest, endpoint, None)
            else:
                self._say(self._messages.say("unknown_device", phrase=key, devices=self._device_list()))

    # ----------------------------------------------------------------- helpers

    def _device_list(self) -> str:
        return self._messages.spoken_list([self.directory.label(e) for e in self.directory.endpoints])

    def _say(self, text: str) -> None:
        self._last_said = text
        self._voice.say(text, wait=False)

    def _error(self, text: str) -> None:
        self._events.emit("error", message=text)
        self._voice.earcon("error", wait=False)
        self._say(text)

    def _enter(self, state: State, seconds: float = 0.0) -> None:
        previous, self.state = self.state, state
        self._window_seconds = seconds
        self._deadline = self._clock() + seconds
        if state is previous:
            return
        log.debug("dialog: %s → %s", previous.value, state.value)
        if state in (State.RINGING, State.ASKING, State.FOLLOW_UP, State.AWAKE):
            self._events.emit("listening", state=state.value)
        elif state is State.ACTING:
            self._events.emit("acting")
        elif state is State.IDLE:
            self._events.emit("idle")
