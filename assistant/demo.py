"""``assistant demo``: the whole loop on embedded defaults.

The emulator runs in-process, a sample caller rings, and the person's reply comes from the
microphone — or, with no microphone (or ``--simulate``), is synthesized with espeak-ng and fed
through the same audio path (deaf while the assistant speaks, 16 kHz mono frames, endpointing,
recogniser). It ends once the outcome has been spoken.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from assistant.audio import DeafGate, read_wav_frames
from assistant.errors import AudioError

log = logging.getLogger(__name__)

FRAME_MS = 20
FRAME_BYTES = 16000 * 2 * FRAME_MS // 1000
DEMO_CALLER = {"name": "Dana Smith", "number": "+14085550123"}
DEMO_REPLY = "answer on my headset"


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

    def __init__(self, reply_wav: Path, deaf: Callable[[], bool], listening: Callable[[], bool]) -> None:
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
                log.info("demo: the person says %r", DEMO_REPLY)
            yield from gate.admit(pending.pop(0) if pending else silence)

    def close(self) -> None:
        self._closed.set()


def reply_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="assistant-demo-")
