"""The assistant loop: three well-named threads feeding one dialog.

    call-poller  ──CallEvent──►┐
    microphone   ──Transcript─►├─► queue ─► main thread: Dialog (+ ticks) ─► voice, Webex
    (voice and microphone report through the EventLog)

Only the main thread touches the dialog. Ctrl-C (or ``stop``) ends it cleanly: the microphone
is closed, the threads are joined, the voice is closed.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.calls import CallEvent, CallWatcher
from assistant.config import Settings
from assistant.dialog import Dialog
from assistant.events import EventLog
from assistant.speech.endpointing import new_listener

log = logging.getLogger(__name__)

JOIN_TIMEOUT_SECONDS = 5.0


class FrameSource(Protocol):
    def frames(self) -> Iterable[bytes]: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Heard:
    transcript: Any  # assistant.speech.Transcript


@dataclass(frozen=True)
class DeviceNotice:
    name: str
    fields: dict[str, Any]


class Assistant:
    def __init__(
        self,
        settings: Settings,
        client: Any,
        engine: Any,
        dialog: Dialog,
        events: EventLog,
    ) -> None:
        self._settings = settings
        self._client = client
        self._engine = engine
        self.dialog = dialog
        self._events = events
        self._queue: queue.Queue[CallEvent | Heard | DeviceNotice] = queue.Queue()

    def notice(self, name: str, fields: dict[str, Any]) -> None:
        """``on_event`` for the microphone: its errors and recoveries reach the dialog."""
        self._queue.put(DeviceNotice(name, fields))

    def run(self, microphone: FrameSource, stop: threading.Event) -> None:
        watcher = CallWatcher(self._client, self._settings.webex.poll_interval_seconds)
        threads = [
            threading.Thread(
                target=watcher.run, args=(self._queue.put, stop), name="call-poller", daemon=True
            ),
            threading.Thread(target=self._hear, args=(microphone, stop), name="microphone", daemon=True),
        ]
        for thread in threads:
            thread.start()
        self._events.emit("ready", engine=getattr(self._engine, "name", None))
        try:
            while not stop.is_set():
                try:
                    item = self._queue.get(timeout=0.05)
                except queue.Empty:
                    item = None
                if item is not None:
                    self._dispatch(item)
                self.dialog.on_tick()
        finally:
            stop.set()
            microphone.close()
            for thread in threads:
                thread.join(JOIN_TIMEOUT_SECONDS)
                if thread.is_alive():
                    log.error("thread %s did not stop within %.0f s", thread.name, JOIN_TIMEOUT_SECONDS)

    def _dispatch(self, item: CallEvent | Heard | DeviceNotice) -> None:
        try:
            if isinstance(item, CallEvent):
                self.dialog.on_call_event(item)
            elif isinstance(item, Heard):
                if self.dialog.listening:
                    self.dialog.on_heard(item.transcript)
            elif item.name == "microphone_back":
                self.dialog.on_microphone_back()
            elif item.name == "error":
                self.dialog.on_device_error(str(item.fields.get("message", "")))
        except Exception:  # a bug in one step must not end the assistant: log loudly, go on
            log.exception("dialog failed on %r", item)

    def _hear(self, microphone: FrameSource, stop: threading.Event) -> None:
        listener = new_listener(self._engine.recognizer(), self._settings.speech)
        try:
            for frame in microphone.frames():
                if stop.is_set():
                    break
                if not frame or not self.dialog.listening:
                    listener.reset()
                    continue
                transcript = listener.feed(frame)
                if transcript is not None and transcript.text.strip():
                    self._queue.put(Heard(transcript))
        except Exception:
            log.exception("the microphone thread failed")
            self._events.emit("error", message="Listening stopped because of an internal error.")
