"""``assistant demo``: the whole loop on embedded defaults.

The emulator runs in-process, a sample caller rings, and the person's reply comes from the
microphone — or, with no microphone (or ``--simulate``), is synthesized with espeak-ng and fed
through the same audio path (deaf while the assistant speaks, 16 kHz mono frames, endpointing,
recogniser). It ends once the outcome has been spoken.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from assistant.audio import DeafGate
from assistant.audio_io import FRAME_BYTES, FRAME_MS, read_wav_frames
from assistant.config import Settings
from assistant.dialog import Dialog
from assistant.errors import AudioError
from assistant.events import EventLog
from assistant.loop import FrameSource

log = logging.getLogger(__name__)

DEMO_CALLER = {"name": "Dana Smith", "number": "+14085550123"}
DEMO_REPLY = "answer on my headset"
# the person's reply in each command language, and the espeak-ng voice that says it
DEMO_REPLIES = {"en": (DEMO_REPLY, "en-us"), "ko": ("헤드셋 으로 받아", "ko")}
DEMO_TIMEOUT_SECONDS = 90.0


def synthesize_reply(text: str, folder: Path, voice: str = "en-us", speed_wpm: int = 150) -> Path:
    """The person's words as a WAV, spoken by espeak-ng in a voice unlike the assistant's."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise AudioError(
            "espeak-ng is not installed",
            "The demo needs espeak-ng to play the caller's part. Install it with apt-get install espeak-ng.",
        )
    path = folder / "reply.wav"
    subprocess.run(
        [espeak, "-v", voice, "-s", str(speed_wpm), "-w", str(path), text],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path


class SimulatedMicrophone:
    """A microphone that hears silence, then the person's reply once the assistant listens.

    It keeps real time (one 20 ms frame every 20 ms) and honours ``deaf`` exactly like the real
    microphone: frames while the assistant speaks are dropped and one ``b""`` gap follows.
    """

    def __init__(self, reply_wav: Path, deaf: Callable[[], bool], listening: Callable[[], bool],
                 reply_text: str = DEMO_REPLY) -> None:
        self._reply_text = reply_text
        self._reply = list(read_wav_frames(reply_wav, FRAME_MS))
        self._deaf = deaf
        self._listening = listening
        self._closed = threading.Event()
        self.replied = threading.Event()

    def frames(self) -> Iterator[bytes]:
        silence = bytes(FRAME_BYTES)
        gate = DeafGate(self._deaf)
        pending: list[bytes] = []
        next_at = time.monotonic()
        while not self._closed.is_set():
            next_at += FRAME_MS / 1000
            self._closed.wait(max(0.0, next_at - time.monotonic()))
            if self._deaf():
                yield from gate.admit(silence)  # the person waits while the assistant speaks
                continue
            if not pending and not self.replied.is_set() and self._listening():
                pending = list(self._reply) + [silence] * 30  # the words, then a pause
                self.replied.set()
                log.info("demo: the person says %r", self._reply_text)
            yield from gate.admit(pending.pop(0) if pending else silence)

    def close(self) -> None:
        self._closed.set()


def reply_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="assistant-demo-")


def run_demo(
    settings: Settings, stop: threading.Event, simulate: bool, stream: TextIO | None
) -> int:
    """The whole loop against the in-process emulator; exit 0 once an answer was spoken."""
    from assistant.session import open_session
    from assistant.emulator import Emulator

    with contextlib.ExitStack() as stack:
        emulator = stack.enter_context(Emulator().start())
        settings = settings.replace(
            "webex", url=emulator.url, access_token=emulator.token, poll_interval_seconds=0.5
        )
        folder = Path(stack.enter_context(reply_folder()))
        use_simulation = simulate or not _microphone_works(settings)
        factory = None
        if use_simulation:
            text, espeak_voice = DEMO_REPLIES.get(settings.speech.language, DEMO_REPLIES["en"])
            reply = synthesize_reply(text, folder, voice=espeak_voice)

            def factory(voice: Any, dialog: Dialog, notice: Any) -> FrameSource:
                return SimulatedMicrophone(reply, voice.is_deaf, lambda: dialog.listening, text)

        started = time.time()
        events = EventLog(stream)
        outcome: dict[str, Any] = {}
        events.subscribe(lambda record: print_event(record, started))
        events.subscribe(lambda record: _watch_demo(record, outcome, stop, emulator))
        said = DEMO_REPLIES.get(settings.speech.language, DEMO_REPLIES["en"])[0]
        person = "the person's reply is simulated" if use_simulation else f"say: {said}"
        print(f"demo: Webex emulator at {emulator.url}; {person}", flush=True)
        timer = threading.Timer(DEMO_TIMEOUT_SECONDS, stop.set)
        timer.daemon = True
        timer.start()
        try:
            with open_session(settings, stream, factory, events) as session:
                session.run(stop)
                if not session.voice.output_available:
                    print(f"demo: no speaker; the assistant's speech is in {session.voice.fallback_path}",
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
    return dict(DEMO_CALLER)


def _microphone_works(settings: Settings) -> bool:
    from assistant.audio import Microphone

    try:
        Microphone.check(settings.audio)
    except AudioError as exc:
        print(f"demo: {exc.spoken} Simulating the person's reply.", flush=True)
        return False
    return True


def print_event(record: dict[str, Any], started: float) -> None:
    """Human-readable demo output: one line per event, on stdout."""
    fields = {k: v for k, v in record.items() if k not in ("t", "event")}
    detail = "  ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in fields.items())
    print(f"{record['t'] - started:7.2f}s  {record['event']:<9} {detail}", flush=True)
