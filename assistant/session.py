"""Builds the assistant from settings (the one place the parts are wired) and runs the demo."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from assistant.config import ListenMode, Settings
from assistant.devices import DeviceDirectory
from assistant.dialog import Dialog
from assistant.errors import AudioError, WebexError
from assistant.events import EventLog
from assistant.intents import CommandLanguage
from assistant.loop import Assistant, FrameSource

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
        ready = self._connect(stop)
        if ready is None:
            return
        client, endpoints = ready
        self._build(client, endpoints)
        assert self.assistant is not None and self.microphone is not None
        self.assistant.run(self.microphone, stop, self._keys)

    def _connect(self, stop: threading.Event) -> tuple[Any, list[Any]] | None:
        """The client and the answer endpoints, once Webex answers; None if stopped first."""
        from assistant.auth import token_source
        from assistant.messages import Messages
        from assistant.webex.client import WebexClient

        messages = Messages.load()
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
        directory = DeviceDirectory.build(endpoints, settings.devices.aliases)
        wake = settings.dialog.wake_phrase if settings.dialog.listen_mode is ListenMode.ALWAYS else ""
        language = CommandLanguage.load(settings.speech.language, directory.names, wake)
        engine = create_engine(settings.speech, language)
        _report_unusable_names(directory, engine, events)
        dialog = Dialog(client, self.voice, events, language, directory, settings.dialog)
        self.assistant = Assistant(settings, client, engine, dialog, events, voice=self.voice)
        if self._factory is not None:
            self.microphone = self._factory(self.voice, dialog, self.assistant.notice)
        else:
            from assistant.audio import Microphone

            self.microphone = Microphone(settings.audio, deaf=self.voice.is_deaf,
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


def run_demo(
    settings: Settings, stop: threading.Event, simulate: bool, stream: TextIO | None
) -> int:
    """The whole loop against the in-process emulator; exit 0 once an answer was spoken."""
    from assistant import demo
    from assistant.cli.loop_cmds import DEMO_TIMEOUT_SECONDS, print_event
    from assistant.webex.emulator import Emulator

    with contextlib.ExitStack() as stack:
        emulator = stack.enter_context(Emulator().start())
        settings = settings.replace(
            "webex", url=emulator.url, access_token=emulator.token, poll_interval_seconds=0.5
        )
        folder = Path(stack.enter_context(demo.reply_folder()))
        if not settings.voice.fallback_wav:
            speech_wav = Path(tempfile.gettempdir()) / "assistant-demo-speech.wav"
            speech_wav.unlink(missing_ok=True)
            settings = settings.replace("voice", fallback_wav=str(speech_wav))
        use_simulation = simulate or not _microphone_works(settings)
        factory = None
        if use_simulation:
            reply = demo.synthesize_reply(demo.DEMO_REPLY, folder)

            def factory(voice: Any, dialog: Dialog, notice: Any) -> FrameSource:
                return demo.SimulatedMicrophone(reply, voice.is_deaf, lambda: dialog.listening)

        started = time.time()
        events = EventLog(stream)
        outcome: dict[str, Any] = {}
        events.subscribe(lambda record: print_event(record, started))
        events.subscribe(lambda record: _watch_demo(record, outcome, stop, emulator))
        person = "the person's reply is simulated" if use_simulation else "say: answer on my headset"
        print(f"demo: Webex emulator at {emulator.url}; {person}", flush=True)
        timer = threading.Timer(DEMO_TIMEOUT_SECONDS, stop.set)
        timer.daemon = True
        timer.start()
        try:
            with open_session(settings, stream, factory, events) as session:
                session.run(stop)
                if not session.voice.output_available:
                    print(f"demo: no speaker; the assistant's speech is in {settings.voice.fallback_wav}",
                          flush=True)
        finally:
            timer.cancel()
        answered = [r for r in emulator.requests() if r["path"].endswith("/calls/answer")]
        ok = len(answered) == 1 and answered[0]["status"] == 204
        print("demo: " + ("the call was answered on " + str(outcome.get("device"))
                          if ok else "the call was not answered (see the events above)"), flush=True)
        return 0 if ok else 1


def _watch_demo(record: dict[str, Any], outcome: dict[str, Any], stop: threading.Event, emulator: Any) -> None:
    event = record["event"]
    if event == "ready":
        threading.Timer(0.5, lambda: emulator.ring(**_caller())).start()
    elif event == "heard" and record.get("device"):
        outcome["device"] = record["device"]
    elif event == "action":
        outcome["action"] = record
    elif event == "spoken" and "action" in outcome:
        stop.set()


def _caller() -> dict[str, Any]:
    from assistant.demo import DEMO_CALLER

    return dict(DEMO_CALLER)


def _microphone_works(settings: Settings) -> bool:
    from assistant.audio import Microphone

    try:
        Microphone.check(settings.audio)
    except AudioError as exc:
        print(f"demo: {exc.spoken} Simulating the person's reply.", flush=True)
        return False
    return True
