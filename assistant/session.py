"""Builds the assistant from settings (the one place the parts are wired) and runs the demo."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from assistant import paths
from assistant.config import BargeIn, ListenMode, Settings
from assistant.devices import DeviceDirectory
from assistant.dialog import Dialog
from assistant.errors import AssistantError, WebexError
from assistant.events import EventLog
from assistant.intents import CommandLanguage
from assistant.loop import Assistant, FrameSource
from assistant.messages import Messages
from assistant.preferences import Preferences
from assistant.state import StateFile

log = logging.getLogger(__name__)

MicrophoneFactory = Callable[[Any, Dialog, Callable[[str, dict[str, Any]], None]], FrameSource]


RETRY_SECONDS = 5.0  # while Webex or the sign-in is unavailable at start


class Session:
    """Everything ``assistant listen`` runs. The voice is ready first; ``run`` then waits for
    Webex and the sign-in (saying why it waits, and retrying), builds the rest and blocks until
    ``stop``."""

    def __init__(self, settings: Settings, voice: Any, events: EventLog,
                 microphone_factory: MicrophoneFactory | None, stack: contextlib.ExitStack,
                 keys: Callable[[threading.Event], Iterable[str]] | None = None) -> None:
        self.settings = settings
        self._keys = keys
        self.voice = voice
        self.events = events
        self._factory = microphone_factory
        self._stack = stack
        self.assistant: Assistant | None = None
        self.microphone: FrameSource | None = None

    def run(self, stop: threading.Event) -> None:
        try:
            ready = self._connect(stop)
            if ready is None:
                return
            self._build(*ready)
        except AssistantError as exc:  # a missing model, a bad setting: said, not only printed
            self.events.emit("error", message=exc.spoken)
            self.voice.earcon("error", wait=False)
            self.voice.say(Messages.load(self.settings.speech.language).render(exc.spoken),
                           wait=True)
            raise
        assert self.assistant is not None and self.microphone is not None
        self.assistant.run(self.microphone, stop, self._keys)

    def _connect(self, stop: threading.Event) -> tuple[Any, list[Any]] | None:
        """The client and the answer endpoints, once Webex answers; None if stopped first."""
        from assistant.auth import token_source
        from assistant.webex.client import WebexClient

        messages = Messages.load(self.settings.speech.language)
        said = ""
        while not stop.is_set():
            client = None
            try:
                client = WebexClient(self.settings.webex, tokens=token_source(self.settings))
                endpoints = client.answer_endpoints()
            except WebexError as exc:
                if client is not None:
                    client.close()
                log.warning("Webex is not available yet (%s); trying again in %.0f s", exc, RETRY_SECONDS)
                if exc.spoken != said:  # said once per distinct problem, not every 5 s
                    said = exc.spoken
                    sentence = messages.say("webex_waiting", problem=exc.spoken)
                    self.events.emit("error", message=sentence)
                    self.voice.earcon("error", wait=False)
                    self.voice.say(sentence, wait=False)
                stop.wait(RETRY_SECONDS)
                continue
            self._stack.callback(client.close)
            if said:
                self.voice.say(messages.say("webex_ready"), wait=False)
            return client, endpoints
        return None

    def _build(self, client: Any, endpoints: list[Any]) -> None:
        from assistant.speech import create_engine

        settings, events = self.settings, self.events
        messages = Messages.load(settings.speech.language)  # the voice speaks the command language
        self.voice.prepare(messages.all_sentences())  # fixed phrases synthesized in the background
        directory = DeviceDirectory.build(endpoints, settings.devices.aliases, messages)
        wake = settings.dialog.wake_phrase if settings.dialog.listen_mode is ListenMode.ALWAYS else ""
        language = CommandLanguage.load(settings.speech.language, directory.names, wake)
        engine = create_engine(settings.speech, language)
        _report_unusable_names(directory, engine, events)
        remembered = StateFile(paths.state_file(os.environ))
        # by-voice changes go to the file these settings came from, else the user's own
        config_file = Path(settings.source) if settings.source != "<defaults>" else paths.config_file(os.environ)
        dialog = Dialog(client, self.voice, events, language, directory, settings.dialog, messages,
                        state=remembered, voice_settings=settings.voice,
                        preferences=Preferences(config_file),
                        barge_in=resolve_barge_in(settings))
        self.assistant = Assistant(settings, client, engine, dialog, events, voice=self.voice)
        if self._factory is not None:
            self.microphone = self._factory(self.voice, dialog, self.assistant.notice)
        else:
            from assistant.audio import Microphone

            # with barge-in the microphone hears the assistant too; the dialog decides (BargeIn)
            deaf = self.voice.is_deaf if dialog.barge_in is BargeIn.OFF else (lambda: False)
            self.microphone = Microphone(settings.audio, deaf=deaf,
                                         on_event=self.assistant.notice)
        self._stack.callback(self.microphone.close)


@contextlib.contextmanager
def open_session(
    settings: Settings,
    stream: TextIO | None,
    microphone_factory: MicrophoneFactory | None = None,
    events: EventLog | None = None,
    keys: Callable[[threading.Event], Iterable[str]] | None = None,
) -> Iterator[Session]:
    """``keys``: a source of single keys (``assistant.keys.read_keys`` on the terminal)."""
    from assistant.voice import Voice

    events = events or EventLog(stream)
    with contextlib.ExitStack() as stack:
        voice = Voice(settings.voice, settings.audio, on_event=events)  # first: it says what fails
        stack.callback(voice.close)
        yield Session(settings, voice, events, microphone_factory, stack, keys)


def _report_unusable_names(directory: DeviceDirectory, engine: Any, events: EventLog) -> None:
    for problem in directory.problems:
        log.warning("%s", problem)
        events.emit("error", message=problem)
    words = sorted({w for name in directory.names for w in name.split()})
    missing = engine.missing_words(words)
    if missing:
        message = "The recogniser cannot hear these device words: " + ", ".join(missing) + "."
        log.warning("%s", message)
        events.emit("error", message=message)


HEADSET_WORDS = ("headset", "headphone", "earphone", "earbud", "bluez", "bluetooth", "hands-free")


def resolve_barge_in(settings: Settings) -> BargeIn:
    """``auto``: ``on`` when the output is a headset (no echo path from speaker to microphone),
    else ``stop``, so a loudspeaker's sound can only ever cut the assistant short."""
    mode = settings.dialog.barge_in
    if mode is not BargeIn.AUTO:
        return mode
    from assistant import audio

    name = settings.audio.output_device.lower()
    if not name:
        try:
            outputs = [d for d in audio.list_devices() if d.get("default_output")]
            name = str(outputs[0].get("name", "")).lower() if outputs else ""
        except Exception:  # no audio system: nothing to decide from; the safe choice
            log.info("no output device to judge barge-in by; using 'stop'")
    return BargeIn.ON if any(word in name for word in HEADSET_WORDS) else BargeIn.STOP
