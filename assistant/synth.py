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


class EngineTaken(VoiceError):
    """pyttsx3 already speaks with other voice settings in this process."""


class Synthesizer(Protocol):
    """Writes ``text`` spoken with the configured voice to a 16-bit mono WAV at ``path``."""

    name: str

    def to_file(self, text: str, path: Path) -> None: ...

    def close(self) -> None: ...


class Pyttsx3Synthesizer:
    """pyttsx3's espeak driver; must be used from a single thread (the worker below)."""

    name = "pyttsx3"

    # pyttsx3 keeps one engine per process and espeak-ng (asynchronous mode) does not reliably
    # apply a rate or volume changed after the first utterance: the first settings used in a
    # process own the engine for its lifetime; other settings go to the espeak-ng command line.
    _engine: Any = None
    _owner: tuple[str, int, float] | None = None

    def __init__(self, settings: VoiceSettings) -> None:
        self.settings = settings

    @staticmethod
    def _start() -> Any:
        import pyttsx3
        import pyttsx3.drivers.espeak as espeak_driver

        # The driver print()s "Audio saved to ..." on stdout, which is for data: send it to the log.
        vars(espeak_driver)["print"] = lambda *args, **kw: log.debug(" ".join(map(str, args)))
        _mend_synth_size()
        engine = pyttsx3.init("espeak")
        finished = threading.Event()
        engine.connect("finished-utterance", lambda **kwargs: finished.set())
        return engine, finished

    def to_file(self, text: str, path: Path) -> None:
        cls = Pyttsx3Synthesizer
        if cls._engine is None:
            cls._engine = self._start()
        engine, finished = cls._engine
        wanted = (self.settings.voice, self.settings.rate_wpm, self.settings.volume)
        if cls._owner is None:
            if self.settings.voice:
                engine.setProperty("voice", _pick_voice(engine, self.settings.voice))
            engine.setProperty("rate", self.settings.rate_wpm)
            engine.setProperty("volume", self.settings.volume)
            cls._owner = wanted
        elif cls._owner != wanted:
            raise EngineTaken(
                f"pyttsx3 already speaks with voice/rate/volume {cls._owner} in this process",
                SPOKEN_FAILURE,
            )
        for attempt in (1, 2):
            _settle()
            finished.clear()
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            # espeak synthesizes asynchronously (AUDIO_OUTPUT_RETRIEVAL): runAndWait can return
            # before the WAV is written; the driver announces the end once the file is complete.
            if not finished.wait(self.settings.synth_timeout_seconds):
                raise VoiceError("pyttsx3 did not finish the utterance", SPOKEN_FAILURE)
            if path.is_file() and path.stat().st_size > 44:
                return
            # Seen once in a full test run: the driver ended the utterance before any
            # audio arrived (an end-of-message left over from the previous one). Once more.
            if attempt == 1:
                log.info("pyttsx3 wrote no audio to %s; synthesizing it once more", path)
        raise VoiceError(f"pyttsx3 wrote no audio to {path}", SPOKEN_FAILURE)

    def close(self) -> None:
        pass


def _mend_synth_size() -> None:
    """pyttsx3 (up to 2.99 at least) tells ``espeak_Synth`` the text is ten times its length.

    In espeak's asynchronous mode that size is copied with memcpy, so it reads past the end of
    the Python bytes object, and crashes the process (SIGSEGV) whenever the text lies near the
    end of mapped memory: about 2 in 50 start-ups of the demo. The size given here is the
    text's own plus its terminating NUL, as espeak's API asks.
    """
    from pyttsx3.drivers import _espeak

    if getattr(_espeak.Synth, "mended_size", False):
        return

    def synth(text: str | bytes, position: int = 0, position_type: int = _espeak.POS_CHARACTER,
              end_position: int = 0, flags: int = 0, user_data: Any = None) -> Any:
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        return _espeak.cSynth(data, len(data) + 1, position, position_type, end_position, flags,
                       None, user_data)

    vars(synth)["mended_size"] = True
    _espeak.Synth = synth


def _settle() -> None:
    """Wait until espeak has delivered everything it was asked to say before."""
    try:
        from pyttsx3.drivers import _espeak

        _espeak.Synchronize()
    except Exception:  # best effort; the emptiness check in to_file still guards
        log.debug("espeak Synchronize unavailable", exc_info=True)


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
    synth: Synthesizer
    text: str
    path: Path
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class _Worker:
    """A thread that runs synthesis jobs one at a time."""

    def __init__(self, name: str) -> None:
        self.jobs: queue.Queue[_Job | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                job.synth.to_file(job.text, job.path)
            except Exception as exc:  # noqa: BLE001 - reported to the waiting caller
                job.error = exc
            job.done.set()

    def stop(self, wait_seconds: float) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=wait_seconds)


class _SharedPyttsx3:
    """pyttsx3 keeps one engine per process: every pyttsx3 job runs on this one thread.

    Started by the first user, stopped when the last one closes (unless it hung: then it is
    abandoned, and pyttsx3 is not used again in this process).
    """

    lock = threading.Lock()
    worker: _Worker | None = None
    users = 0
    hung = False

    @classmethod
    def acquire(cls) -> _Worker | None:
        with cls.lock:
            if cls.hung:
                return None
            if cls.worker is None:
                cls.worker = _Worker("voice-synth")
            cls.users += 1
            return cls.worker

    @classmethod
    def release(cls, hung: bool, wait_seconds: float) -> None:
        with cls.lock:
            cls.users -= 1
            cls.hung = cls.hung or hung
            worker = cls.worker
            if worker is None or (cls.users > 0 and not hung):
                return
            cls.worker = None
        if hung:
            worker.jobs.put(None)  # it ends by itself if it ever wakes up
        else:
            worker.stop(wait_seconds)


class TimedSynthesis:
    """Runs a primary synthesizer in a worker thread with a timeout; falls back for good."""

    def __init__(self, settings: VoiceSettings, primary: Synthesizer | None = None,
                 fallback: Synthesizer | None = None) -> None:
        self.settings = settings
        self.primary: Synthesizer | None = primary or Pyttsx3Synthesizer(settings)
        self.fallback: Synthesizer = fallback or EspeakCliSynthesizer(settings)
        self._shared = isinstance(self.primary, Pyttsx3Synthesizer)
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    @property
    def active(self) -> str:
        return self.primary.name if self.primary else self.fallback.name

    def to_file(self, text: str, path: Path) -> None:
        with self._lock:
            primary = self.primary
            if primary is not None and self._ensure_worker():
                assert self._worker is not None
                job = _Job(primary, text, path)
                self._worker.jobs.put(job)
                if job.done.wait(self.settings.synth_timeout_seconds) and job.error is None:
                    return
                hung = not job.done.is_set()
                if isinstance(job.error, EngineTaken):
                    log.info("%s; these settings use the %s command line", job.error,
                             self.fallback.name)
                else:
                    reason = (f"did not finish within {self.settings.synth_timeout_seconds:g} s"
                              if hung else f"failed: {job.error}")
                    log.warning("%s %s; using the %s command line from now on",
                                primary.name, reason, self.fallback.name)
                self._drop_primary(hung)
        self.fallback.to_file(text, path)

    def _ensure_worker(self) -> bool:
        if self._worker is None:
            self._worker = _SharedPyttsx3.acquire() if self._shared else _Worker("voice-synth")
            if self._worker is None:
                log.warning("pyttsx3 hung earlier in this process; using %s", self.fallback.name)
                self.primary = None
        return self._worker is not None

    def _drop_primary(self, hung: bool) -> None:
        worker, self._worker, self.primary = self._worker, None, None
        if worker is None:
            return
        if self._shared:
            _SharedPyttsx3.release(hung, self.settings.synth_timeout_seconds)
        elif hung:
            worker.jobs.put(None)  # it ends by itself if it ever wakes up
        else:
            worker.stop(self.settings.synth_timeout_seconds)

    def close(self) -> None:
        with self._lock:
            self._drop_primary(hung=False)
        self.fallback.close()
