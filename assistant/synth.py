"""Text to a WAV file: pyttsx3 in its own thread with a timeout, the espeak-ng command line after.

pyttsx3 2.99 on Linux can hang in ``runAndWait``; it only ever runs in one dedicated worker
thread that owns the engine, and the caller waits at most ``synth_timeout_seconds``. When it
does not answer in time (or cannot start), the espeak-ng command line takes over for good,
and that is logged.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant.config import VoiceSettings
from assistant.errors import VoiceError

log = logging.getLogger(__name__)

SPOKEN_FAILURE = "I cannot speak right now."


class Synthesizer(Protocol):
    """Writes ``text`` spoken with the configured voice to a 16-bit mono WAV at ``path``."""

    name: str

    def to_file(self, text: str, path: Path) -> None: ...

    def close(self) -> None: ...


class Pyttsx3Synthesizer:
    """pyttsx3's espeak driver; must be used from a single thread (the worker below)."""

    name = "pyttsx3"

    def __init__(self, settings: VoiceSettings) -> None:
        self.settings = settings
        self._engine: Any = None

    def _start(self) -> Any:
        import pyttsx3
        import pyttsx3.drivers.espeak as espeak_driver

        # The driver print()s "Audio saved to ..." on stdout, which is for data: send it to the log.
        espeak_driver.print = lambda *args, **kwargs: log.debug(" ".join(map(str, args)))  # type: ignore[attr-defined]
        engine = pyttsx3.init("espeak")
        engine.setProperty("rate", self.settings.rate_wpm)
        engine.setProperty("volume", self.settings.volume)
        if self.settings.voice:
            engine.setProperty("voice", _pick_voice(engine, self.settings.voice))
        return engine

    def to_file(self, text: str, path: Path) -> None:
        if self._engine is None:
            self._engine = self._start()
        self._engine.save_to_file(text, str(path))
        self._engine.runAndWait()
        if not path.is_file() or path.stat().st_size <= 44:
            raise VoiceError(f"pyttsx3 wrote no audio to {path}", SPOKEN_FAILURE)

    def close(self) -> None:
        self._engine = None


def _pick_voice(engine: Any, wanted: str) -> str:
    voices = engine.getProperty("voices")
    low = wanted.lower()
    for v in voices:
        if low in (str(v.id).lower(), str(v.name).lower()):
            return str(v.id)
    for v in voices:
        if low in str(v.id).lower() or low in str(v.name).lower():
            return str(v.id)
    log.warning("voice %r not found; using the default voice", wanted)
    return str(engine.getProperty("voice"))


class EspeakCliSynthesizer:
    """The ``espeak-ng`` command line: ``espeak-ng -w out.wav``."""

    name = "espeak-ng"

    def __init__(self, settings: VoiceSettings, program: str = "espeak-ng") -> None:
        self.settings = settings
        self.program = program

    def to_file(self, text: str, path: Path) -> None:
        exe = shutil.which(self.program)
        if exe is None:
            raise VoiceError(f"{self.program} is not installed", SPOKEN_FAILURE)
        cmd = [exe, "-w", str(path), "-s", str(self.settings.rate_wpm),
               "-a", str(round(max(0.0, min(2.0, self.settings.volume)) * 100))]
        if self.settings.voice:
            cmd += ["-v", self.settings.voice]
        try:
            done = subprocess.run(cmd + ["--", text], check=False, capture_output=True, text=True,
                                  timeout=self.settings.synth_timeout_seconds)
        except subprocess.TimeoutExpired:
            raise VoiceError(f"{self.program} timed out", SPOKEN_FAILURE) from None
        if done.returncode != 0 or not path.is_file():
            raise VoiceError(f"{self.program} failed: {done.stderr.strip()}", SPOKEN_FAILURE)

    def close(self) -> None:
        pass


@dataclass
class _Job:
    text: str
    path: Path
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class TimedSynthesis:
    """Runs a primary synthesizer in a worker thread with a timeout; falls back for good."""

    def __init__(self, settings: VoiceSettings, primary: Synthesizer | None = None,
                 fallback: Synthesizer | None = None) -> None:
        self.settings = settings
        self.primary: Synthesizer | None = primary or Pyttsx3Synthesizer(settings)
        self.fallback: Synthesizer = fallback or EspeakCliSynthesizer(settings)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    @property
    def active(self) -> str:
        return self.primary.name if self.primary else self.fallback.name

    def to_file(self, text: str, path: Path) -> None:
        if self.primary is not None:
            job = _Job(text, path)
            self._ensure_worker()
            self._jobs.put(job)
            if job.done.wait(self.settings.synth_timeout_seconds) and job.error is None:
                return
            reason = (f"did not finish within {self.settings.synth_timeout_seconds:g} s"
                      if not job.done.is_set() else f"failed: {job.error}")
            log.warning("%s %s; using the %s command line from now on",
                        self.primary.name, reason, self.fallback.name)
            self._abandon_primary(hung=not job.done.is_set())
        self.fallback.to_file(text, path)

    def _ensure_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, args=(self.primary, self._jobs),
                                            name="voice-synth", daemon=True)
            self._worker.start()

    @staticmethod
    def _run(synth: Synthesizer, jobs: queue.Queue[_Job | None]) -> None:
        while (job := jobs.get()) is not None:
            try:
                synth.to_file(job.text, job.path)
            except Exception as exc:  # noqa: BLE001 - reported to the waiting caller
                job.error = exc
            job.done.set()
        synth.close()

    def _abandon_primary(self, hung: bool) -> None:
        """Stop using the primary; a hung worker is left to finish on its own (a daemon)."""
        self.primary = None
        self._jobs.put(None)
        worker, self._worker = self._worker, None
        if worker is not None and not hung:
            worker.join(timeout=self.settings.synth_timeout_seconds)

    def close(self) -> None:
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join(timeout=self.settings.synth_timeout_seconds)
            self._worker = None
        self.fallback.close()
