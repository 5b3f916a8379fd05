"""Voice out: synthesized speech and earcons played through sounddevice, one at a time.

One worker thread ("voice-out") plays jobs in order. The assistant knows exactly when it is
speaking: ``on_event("speaking")`` when playback starts, ``on_event("spoken")`` when it ends,
and ``is_deaf()`` is true from the moment something is queued until ``deaf_after_speech_ms``
after it ended (the microphone drops those frames). ``stop()`` cuts the current sound within
one audio block and drops the queue. With no output device, sound is appended to a private,
bounded WAV file (``assistant.fallback_wav``) and the text logged.

Speaking at once (issue 11): ``say`` splits its text into sentences and has each synthesized
straight away by the "voice-prep" thread (``assistant.voice_cache``), while whatever is queued
before it (the ring tone) plays; a sentence plays as soon as it is ready, the next one being
synthesized behind it. Sentences are cached: ``prepare(texts)`` at start-up keeps the fixed
phrases for good, and recent sentences (callers repeat) stay in an LRU. One output stream
(``assistant.playback``) stays open while sounds follow each other and closes after
``STREAM_IDLE_SECONDS`` of quiet.

Never silent: when a sentence cannot be synthesized, the error earcon is played instead (it
needs no synthesizer, and plays even with earcons turned off) and ``on_event("error",
{"message", "source": "voice"})`` is reported once; every later sentence tries synthesis again,
and the first that works reports ``on_event("voice_back")``. If the worker thread dies, it
reports the same error, and a new one is started at once for sounds already queued, else by
the next ``say`` or ``earcon``.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sounddevice as sd

from assistant import audio, earcons
from assistant.audio_io import read_wav, resample, write_wav
from assistant.config import AudioSettings, VoiceSettings
from assistant.errors import SpeechError, VoiceError
from assistant.fallback_wav import RATE_HZ as FALLBACK_RATE_HZ
from assistant.fallback_wav import SpeechFile
from assistant.playback import PLAY_MARGIN_SECONDS, PlaybackReport, Player
from assistant.synth import SPOKEN_FAILURE, Synthesizer, TimedSynthesis
from assistant.voice_cache import Audio, Preparer, SentenceCache, edges_for_joining, split_sentences

log = logging.getLogger(__name__)

EventCallback = Callable[[str, dict[str, Any]], None]
VOICE_DIED = "My voice stopped for a moment. It is back now."
JOB_WAIT_SECONDS = 300.0
STREAM_IDLE_SECONDS = 3.0  # the output stream stays open this long after the last sound
STOP_CHECK_SECONDS = 0.02  # while waiting for a sentence's synthesis, how often stop is checked


@dataclass
class _Job:
    kind: str  # "say" or "earcon"
    text: str
    generation: int
    done: threading.Event = field(default_factory=threading.Event)
    sentences: list[Future[Audio]] = field(default_factory=list)  # "say": synthesized ahead
    logged: bool = False  # written to the log (no output device)


class Voice:
    def __init__(
        self,
        voice: VoiceSettings,
        audio: AudioSettings,
        on_event: EventCallback | None = None,
        *,
        synthesizer: Synthesizer | None = None,
        fallback_synthesizer: Synthesizer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = voice
        self.audio_settings = audio
        self._on_event = on_event or (lambda name, data: None)
        self._given = (synthesizer, fallback_synthesizer)
        self._synth = TimedSynthesis(voice, synthesizer, fallback_synthesizer)
        self._clock = clock
        self._lock = threading.Lock()
        self._busy = 0
        self._deaf_until = float("-inf")
        self._generation = 0
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="assistant-voice-"))
        self._earcons: dict[str, np.ndarray] = {}
        self._fallback: SpeechFile | None = None
        self._prep = Preparer(self.synthesize, SentenceCache())
        self._player: Player | None = None
        self._synthesis_broken = False  # reported once, until a sentence is spoken again
        self._device = self._find_output()
        self.output_available = self._device is not None
        self._next_device_check = clock() + audio.retry_seconds
        for name in earcons.NAMES:  # ready before the first ring
            self._earcon(name)

    # -- public API -------------------------------------------------------------------------

    def say(self, text: str, wait: bool = True) -> None:
        self._submit("say", text, wait)

    def earcon(self, name: str, wait: bool = True) -> None:
        if name not in earcons.NAMES:
            raise ValueError(f"unknown earcon {name!r}; known: {', '.join(earcons.NAMES)}")
        if self.settings.earcons:
            self._submit("earcon", name, wait)

    def stop(self) -> None:
        """Cuts the sound playing within one audio block and drops every queued one."""
        with self._lock:
            self._generation += 1
            player = self._player
        if player is not None:
            player.mark_stop()
        log.info("voice: stopped")

    def prepare(self, texts: Iterable[str]) -> None:
        """Synthesizes the sentences of ``texts`` in the background and keeps them for good.

        Sentences with a ``{placeholder}`` are left out, so message templates can be given as
        they are: of "Call from {caller}. Say answer, …" the fixed "Say answer, …" is prepared.
        """
        self._prep.prepare(sentence for text in texts for sentence in split_sentences(text)
                           if "{" not in sentence and "}" not in sentence)

    def adjust(self, **changes: Any) -> None:
        """New voice settings (``rate_wpm``, ``volume``, ``voice``, ``earcons``) from the next
        sound on. Sentences synthesized before are dropped and prepared phrases prepared again.
        """
        settings = dataclasses.replace(self.settings, **changes)
        old, self.settings = self.settings, settings
        if (settings.rate_wpm, settings.volume, settings.voice) == (
                old.rate_wpm, old.volume, old.voice):
            return
        previous, self._synth = self._synth, TimedSynthesis(settings, *self._given)
        previous.close()
        self._earcons.clear()
        for name in earcons.NAMES:
            self._earcon(name)
        self._prep.reset()
        log.info("voice: now %s", ", ".join(f"{k}={v!r}" for k, v in changes.items()))

    def wait_prepared(self, timeout_seconds: float) -> bool:
        """True once everything asked for has been synthesized (within the timeout)."""
        return self._prep.wait_idle(timeout_seconds)

    def is_prepared(self, text: str) -> bool:
        """Whether every sentence of ``text`` is synthesized already (it would start at once)."""
        return all(sentence in self._prep.cache for sentence in split_sentences(text))

    def is_deaf(self) -> bool:
        with self._lock:
            return self._busy > 0 or self._clock() < self._deaf_until

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """``text`` spoken with the configured voice: int16 mono samples and their rate."""
        with tempfile.NamedTemporaryFile(dir=self._tmp, suffix=".wav", delete=False) as tmp:
            path = Path(tmp.name)
        try:
            self._synth.to_file(text, path)
            return _read_wav(path)
        finally:
            path.unlink(missing_ok=True)

    def render(self, text: str) -> tuple[np.ndarray, int]:
        """``text`` as ``say`` plays it: its sentences from the cache (synthesized if need be)."""
        sentences = split_sentences(text)
        sounds = [self._prep.request(s).result(2 * self.settings.synth_timeout_seconds)
                  for s in sentences]
        rate = sounds[0][1]
        parts = [edges_for_joining(samples, rate, i == 0, i == len(sounds) - 1)
                 for i, (samples, _) in enumerate(sounds)]
        return np.concatenate(parts), rate

    def save(self, text: str, path: str | Path) -> Path:
        """Writes ``text`` spoken to a new WAV file (``assistant say --out``)."""
        samples, rate = self.synthesize(text)
        _write_wav(Path(path), samples, rate)
        return Path(path)

    @property
    def playback(self) -> PlaybackReport | None:
        """What the output device got of the sound playing (else of the last one)."""
        player = self._player
        return player.report if player is not None else None

    @property
    def synthesizer_name(self) -> str:
        return self._synth.active

    def close(self) -> None:
        self.stop()
        worker, self._worker = self._worker, None
        if worker is not None:
            self._jobs.put(None)
            worker.join(timeout=PLAY_MARGIN_SECONDS + self.settings.synth_timeout_seconds)
        self._prep.close(self.settings.synth_timeout_seconds)
        self._close_player()
        self._synth.close()
        if self._fallback is not None:
            self._fallback.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    # -- the worker --------------------------------------------------------------------------

    def _submit(self, kind: str, text: str, wait: bool) -> None:
        with self._lock:
            job = _Job(kind, text, self._generation)
            self._busy += 1
        if kind == "say":  # synthesized now, while what is queued before it plays
            job.sentences = [self._prep.request(sentence, job.generation)
                             for sentence in split_sentences(text)]
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                if self._worker is not None:
                    log.warning("voice: the voice thread had stopped; starting a new one")
                self._worker = threading.Thread(target=self._run, name="voice-out", daemon=True)
                self._worker.start()
        self._jobs.put(job)
        if wait and threading.current_thread() is self._worker:
            log.warning("voice: %s %r asked from an event callback; not waiting for it", kind, text)
            return
        if wait and not job.done.wait(JOB_WAIT_SECONDS):
            log.error("voice: %s %r did not finish in %.0f s", kind, text, JOB_WAIT_SECONDS)

    def _stopped(self, job: _Job) -> bool:
        return job.generation != self._generation

    def _run(self) -> None:
        try:
            while (job := self._next_job()) is not None:
                self._do(job)
            self._close_player()
        except BaseException as exc:  # noqa: BLE001 - the thread ends; the next say restarts it
            log.critical("voice: the voice thread died (%r); the next sentence restarts it", exc)
            with self._lock:  # sounds already queued must not wait for the next say
                if self._worker is threading.current_thread() and not self._jobs.empty():
                    self._worker = threading.Thread(target=self._run, name="voice-out", daemon=True)
                    self._worker.start()
            self._on_event("error", {"message": VOICE_DIED, "source": "voice"})

    def _next_job(self) -> _Job | None:
        try:
            return self._jobs.get(timeout=STREAM_IDLE_SECONDS)
        except queue.Empty:
            self._close_player()  # idle: the output stream is closed until the next sound
            return self._jobs.get()

    def _do(self, job: _Job) -> None:
        try:
            if not self._stopped(job):
                self._speak(job) if job.kind == "say" else self._sound(job)
        except Exception:  # the voice must outlive any one sentence
            log.exception("voice: %s %r failed", job.kind, job.text)
        finally:
            with self._lock:
                self._deaf_until = self._clock() + self.audio_settings.deaf_after_speech_ms / 1000
                self._busy -= 1
            job.done.set()

    def _speak(self, job: _Job) -> None:
        """Each sentence plays as soon as it is synthesized, the next one ready behind it."""
        count, started, completed = len(job.sentences), False, True

        def speaking() -> None:  # when the first sentence really starts going out
            nonlocal started
            started = True
            self._on_event("speaking", {"text": job.text})

        for index, future in enumerate(job.sentences):
            try:
                sound = self._await(job, future)
            except Exception as exc:  # noqa: BLE001 - any synthesizer failure ends in a tone
                self._cannot_synthesize(job, exc)
                completed = False
                break
            if sound is None:  # stopped while it was being synthesized
                completed = False
                break
            if self._synthesis_broken:
                self._synthesis_broken = False
                log.warning("voice: synthesis works again")
                self._on_event("voice_back", {})
            samples = edges_for_joining(sound[0], sound[1], index == 0, index == count - 1)
            if not self._play(job, samples, sound[1], None if started else speaking):
                completed = False
                break
        if started:
            self._on_event("spoken", {"text": job.text, "completed": completed})

    def _await(self, job: _Job, future: Future[Audio]) -> Audio | None:
        """The synthesized sentence, or None as soon as the job is stopped."""
        deadline = time.monotonic() + 2 * self.settings.synth_timeout_seconds + PLAY_MARGIN_SECONDS
        while not self._stopped(job):
            try:
                return future.result(timeout=STOP_CHECK_SECONDS)
            except FutureTimeout:
                if time.monotonic() > deadline:
                    raise VoiceError("synthesis did not finish", SPOKEN_FAILURE) from None
        return None

    def _cannot_synthesize(self, job: _Job, exc: Exception) -> None:
        """The error tone instead of the sentence; the failure reported once until it recovers."""
        spoken = exc.spoken if isinstance(exc, VoiceError) else SPOKEN_FAILURE
        log.error("voice: cannot synthesize (%s); text was: %s", exc, job.text,
                  exc_info=not isinstance(exc, VoiceError))
        if not self._synthesis_broken:
            self._synthesis_broken = True
            self._on_event("error", {"message": spoken, "source": "voice"})
        if not self._stopped(job):
            self._play(_Job("earcon", "error", job.generation), self._earcon("error"), earcons.RATE_HZ)

    def _sound(self, job: _Job) -> None:
        self._play(job, self._earcon(job.text), earcons.RATE_HZ)

    def _earcon(self, name: str) -> np.ndarray:
        if name not in self._earcons:
            sound = earcons.render(name, earcons.RATE_HZ) * min(1.0, self.settings.volume)
            self._earcons[name] = sound.astype(np.int16)
        return self._earcons[name]

    # -- output ------------------------------------------------------------------------------

    def _find_output(self) -> int | None:
        spec = self.audio_settings.output_device
        index = audio.find_device(spec, "output")
        if index is None:
            log.warning("no output device %r: speech goes to a WAV file", spec or "(default)")
        return index

    def _play(self, job: _Job, samples: np.ndarray, rate: int,
              on_start: Callable[[], None] | None = None) -> bool:
        """Plays to the end (True) or until stopped (False); without a device, writes the WAV.

        ``on_start`` is called when the sound starts going out (before the WAV is written)."""
        if self._device is None and self._clock() >= self._next_device_check:
            self._next_device_check = self._clock() + self.audio_settings.retry_seconds
            audio.rescan_devices()
            self._device = audio.find_device(self.audio_settings.output_device, "output")
            self.output_available = self._device is not None
            if self._device is not None:
                log.warning("output device is back")
        if self._device is not None:
            try:
                return self._play_device(job, self._device, samples, rate, on_start)
            except sd.PortAudioError as exc:
                log.warning("output device failed (%s): speech goes to a WAV file", exc)
                self._device, self.output_available = None, False
        if on_start is not None:
            on_start()
        self._append_fallback(job, samples, rate)
        return True

    def _play_device(self, job: _Job, device: int, samples: np.ndarray, rate: int,
                     on_start: Callable[[], None] | None = None) -> bool:
        with self._lock:
            if self._player is None or self._player.device != device:
                self._player = Player(device)
            player = self._player
        try:
            report = player.play(samples, rate, lambda: self._stopped(job), on_start)
        except sd.PortAudioError:
            self._close_player()
            raise
        return not report.stopped

    def _close_player(self) -> None:
        with self._lock:
            player = self._player
        if player is not None:
            player.close()

    def _append_fallback(self, job: _Job, samples: np.ndarray, rate: int) -> None:
        if self._fallback is None:
            self._fallback = SpeechFile.open(self.settings.fallback_wav)
            log.warning("no output device: speech is appended to %s", self._fallback.path)
        if job.kind == "say" and not job.logged:
            job.logged = True
            log.warning("said (no output device): %s", job.text)
        if rate != FALLBACK_RATE_HZ:
            samples = resample(samples, rate, out_rate_hz=FALLBACK_RATE_HZ)
        self._fallback.append(samples)

    @property
    def fallback_path(self) -> Path | None:
        """Where speech went when there was no output device (None until it happened)."""
        return self._fallback.path if self._fallback is not None else None


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    """The synthesizer's WAV as mono int16 samples and their rate; VoiceError when unreadable."""
    try:
        return read_wav(path)
    except SpeechError as exc:
        raise VoiceError(str(exc), "I cannot speak that.") from None


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, samples, rate)
