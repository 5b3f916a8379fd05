"""The assistant loop: three well-named threads feeding one dialog.

    call-poller  ──CallEvent──►┐
    microphone   ──Transcript─►├─► queue ─► main thread: Dialog (+ ticks) ─► voice, Webex
    (voice and microphone report through the EventLog)

Only the main thread touches the dialog. Ctrl-C (or ``stop``) ends it cleanly: the microphone
is closed, the threads are joined, the voice is closed.

Nothing fails in silence: a thread that dies is said aloud by the dialog (or, if the dialog
itself is broken, the error tone plays) and is started again, at once the first time and then
after 1, 2, 4 … up to 30 s while it keeps failing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.calls import CallEvent, CallWatcher
from assistant.config import Settings
from assistant.dialog import Dialog
from assistant.events import EventLog
from assistant.protocols import CallControl, Speaker
from assistant.speech.base import Recognizer, SpeechEngine, Transcript
from assistant.speech.endpointing import new_listener

log = logging.getLogger(__name__)

JOIN_TIMEOUT_SECONDS = 5.0
MAX_RESTART_DELAY_SECONDS = 30.0
STABLE_SECONDS = 30.0  # a part that ran this long since its restart counts as healthy again
# Frames (20 ms) after a transcript, not counting those while the assistant speaks, before the
# recogniser gives back the memory of its decode. That holds the GIL for 4-15 ms: not while the
# dialog sends the answer request, and not while the voice's callback fills 3 ms blocks (a
# garbled "Your desk phone has it" in one run of tests/test_listen_e2e.py, about 1 s after the
# transcript, is suspected to be that underrun).
RELEASE_AFTER_FRAMES = 50


class FrameSource(Protocol):
    def frames(self) -> Iterable[bytes]: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Heard:
    transcript: Transcript
    speaking: bool = False  # the assistant was talking when it ended (barge-in)


@dataclass(frozen=True)
class VoiceHeard:
    heard: bool  # the microphone began to hear a voice (True) or stopped hearing it (False)


@dataclass(frozen=True)
class DeviceNotice:
    name: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class KeyPress:
    key: str


class _Part:
    """One supervised thread: started again when it dies, with a growing pause if it keeps dying."""

    def __init__(self, name: str, target: Callable[[], None], failed_message: str) -> None:
        self.name = name
        self._target = target
        self.failed_message = failed_message
        self.thread: threading.Thread | None = None
        self.failures = 0
        self._started_at = 0.0
        self._restart_at = 0.0

    def start(self, now: float, crashed: set[str]) -> None:
        def run() -> None:
            try:
                self._target()
            except BaseException:
                log.exception("thread %s failed", self.name)
                crashed.add(self.name)

        self.thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._started_at = now
        self.thread.start()

    def died(self, now: float, crashed: set[str]) -> bool:
        """True once when the thread has ended by a failure; schedules its restart. A part that
        ended normally (its input ran out, or ``stop``) is not started again."""
        if self.thread is None or self.thread.is_alive() or self._restart_at:
            return False
        if self.name not in crashed:
            return False
        crashed.discard(self.name)
        if now - self._started_at > STABLE_SECONDS:
            self.failures = 0
        self.failures += 1
        delay = 0.0 if self.failures == 1 else min(MAX_RESTART_DELAY_SECONDS, 2.0 ** (self.failures - 2))
        self._restart_at = now + delay
        return True

    def restart_due(self, now: float) -> bool:
        if self._restart_at and now >= self._restart_at:
            self._restart_at = 0.0
            return True
        return False


class Assistant:
    def __init__(
        self,
        settings: Settings,
        client: CallControl,
        engine: SpeechEngine,
        dialog: Dialog,
        events: EventLog,
        voice: Speaker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._voice = voice  # for the error tone when the dialog itself cannot speak
        self._clock = clock
        self._client = client
        self._engine = engine
        self.dialog = dialog
        self._events = events
        self._queue: queue.Queue[CallEvent | Heard | VoiceHeard | DeviceNotice | KeyPress] = queue.Queue()
        self.crashed: set[str] = set()  # names of threads that ended by a failure
        self._recognizer: Recognizer | None = None  # built ahead, for the first microphone part

    def notice(self, name: str, fields: dict[str, Any]) -> None:
        """``on_event`` for the microphone: its errors and recoveries reach the dialog."""
        self._queue.put(DeviceNotice(name, fields))

    def run(self, microphone: FrameSource, stop: threading.Event,
            keys: Callable[[threading.Event], Iterable[str]] | None = None) -> None:
        watcher = CallWatcher(self._client, self._settings.webex.poll_interval_seconds)
        say = self.dialog.messages.say
        # Built before "ready" (spot mode's three decoders take about 0.3 s of CPU), so that
        # ready means hearing. If it fails, the microphone part tries again and says so.
        try:
            self._recognizer = self._engine.recognizer()
        except Exception:
            log.exception("the recogniser could not be built before ready")
        parts = [
            _Part("call-poller", lambda: watcher.run(self._queue.put, stop), say("poller_failed")),
            _Part("microphone", lambda: self._hear(microphone, stop), say("listening_failed")),
        ]
        if keys is not None:
            parts.append(_Part("keyboard", lambda: self._press(keys, stop), say("keys_failed")))
        for part in parts:
            part.start(self._clock(), self.crashed)
        self._events.emit("ready", engine=getattr(self._engine, "name", None))
        try:
            while not stop.is_set():
                try:
                    item = self._queue.get(timeout=0.05)
                except queue.Empty:
                    item = None
                if item is not None:
                    self._dispatch(item)
                self._supervise(parts, stop)
                self._safely(self.dialog.on_tick)
        finally:
            stop.set()
            microphone.close()
            for part in parts:
                if part.thread is None:
                    continue
                part.thread.join(JOIN_TIMEOUT_SECONDS)
                if part.thread.is_alive():
                    log.error("thread %s did not stop within %.0f s", part.name, JOIN_TIMEOUT_SECONDS)
            self.dialog.close()

    def _supervise(self, parts: list[_Part], stop: threading.Event) -> None:
        now = self._clock()
        for part in parts:
            if stop.is_set():
                return
            if part.died(now, self.crashed):
                log.error("thread %s ended (failure %d); starting it again", part.name, part.failures)
                self._events.emit("error", message=part.failed_message, part=part.name)
                if part.failures == 1:  # said once; a part that keeps failing is not said every time
                    self._safely(lambda: self.dialog.on_fault(part.failed_message))
            if part.restart_due(now):
                part.start(now, self.crashed)

    def _safely(self, step: Callable[[], None]) -> None:
        """A bug in one step must not end the assistant or leave it silent."""
        try:
            step()
        except Exception:
            log.exception("dialog step failed")
            self._events.emit("error", message="internal error in the dialog")
            try:
                self.dialog.on_fault(self.dialog.messages.say("internal_error"))
            except Exception:
                log.exception("the dialog cannot report its own failure; playing the error tone")
                if self._voice is not None:
                    self._voice.earcon("error", wait=False)

    def _dispatch(self, item: CallEvent | Heard | VoiceHeard | DeviceNotice | KeyPress) -> None:
        self._safely(lambda: self._deliver(item))

    def _deliver(self, item: CallEvent | Heard | VoiceHeard | DeviceNotice | KeyPress) -> None:
        if isinstance(item, KeyPress):
            self.dialog.on_key(item.key)
        elif isinstance(item, CallEvent):
            self.dialog.on_call_event(item)
        elif isinstance(item, Heard):
            if self.dialog.listening:
                self.dialog.on_heard(item.transcript, speaking=item.speaking)
        elif isinstance(item, VoiceHeard):
            self.dialog.on_voice(item.heard)
        elif item.name == "microphone_back":
            self.dialog.on_microphone_back()
        elif item.name == "error":
            self.dialog.on_device_error(item.fields.get("message") or "")

    def _press(self, keys: Callable[[threading.Event], Iterable[str]], stop: threading.Event) -> None:
        for key in keys(stop):
            self._queue.put(KeyPress(key))

    def _hear(self, microphone: FrameSource, stop: threading.Event) -> None:
        """Raises on failure: the supervisor says so and starts listening again."""
        recognizer, self._recognizer = self._recognizer or self._engine.recognizer(), None
        listener = new_listener(recognizer, self._settings.speech)
        was_speaking = False
        hearing = False  # what the dialog was last told (VoiceHeard)
        release_in = 0  # frames until the recogniser gives back the last utterance's memory
        try:
            for frame in microphone.frames():
                if stop.is_set():
                    break
                speaking = self._voice is not None and bool(self._voice.is_deaf())
                if release_in > 0 and not speaking:
                    release_in -= 1
                    if release_in == 0:  # off the answer's path, and never under the voice
                        recognizer.release()
                if was_speaking and not speaking:
                    listener.reset()  # the person's next words never join the assistant's last ones
                was_speaking = speaking
                if frame and not self.dialog.listening:
                    listener.reset()
                    transcript = None
                else:
                    # b"": a gap (the assistant spoke, or the microphone went away); the listener
                    # starts afresh, and gives what it had heard complete before it
                    # (spot_endpointing.KEEP_AT_GAP)
                    transcript = listener.feed(frame)
                if transcript is not None:
                    if transcript.text.strip() or transcript.left_unfinished:
                        self._queue.put(Heard(transcript, speaking))
                    release_in = RELEASE_AFTER_FRAMES
                if listener.hearing != hearing:  # after the transcript: it reaches the dialog first
                    hearing = listener.hearing
                    self._queue.put(VoiceHeard(hearing))
        finally:
            if hearing:
                self._queue.put(VoiceHeard(False))
