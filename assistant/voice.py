"""Voice out: synthesized speech and earcons played through sounddevice, one at a time.

One worker thread ("voice-out") plays jobs in order. The assistant knows exactly when it is
speaking: ``on_event("speaking")`` when playback starts, ``on_event("spoken")`` when it ends,
and ``is_deaf()`` is true from the moment something is queued until ``deaf_after_speech_ms``
after it ended (the microphone drops those frames). ``stop()`` cuts the current sound and
drops the queue. With no output device, sound is appended to a private, bounded WAV file
(``assistant.fallback_wav``) and the text logged.

Never silent: when a sentence cannot be synthesized, the error earcon is played instead (it
needs no synthesizer, and plays even with earcons turned off) and ``on_event("error",
{"message", "source": "voice"})`` is reported once; every later sentence tries synthesis again,
and the first that works reports ``on_event("voice_back")``. If the worker thread dies, it
reports the same error, and a new one is started at once for sounds already queued, else by
the next ``say`` or ``earcon``.
"""

from __future__ import annotations

import logging
import queue
import shutil
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sounddevice as sd

from assistant import audio, earcons
from assistant.audio_convert import resample_int16
from assistant.config import AudioSettings, VoiceSettings
from assistant.errors import VoiceError
from assistant.fallback_wav import RATE_HZ as FALLBACK_RATE_HZ
from assistant.fallback_wav import SpeechFile
from assistant.synth import SPOKEN_FAILURE, Synthesizer, TimedSynthesis

log = logging.getLogger(__name__)

EventCallback = Callable[[str, dict[str, Any]], None]
VOICE_DIED = "My voice stopped for a moment. It is back now."
PLAY_MARGIN_SECONDS = 5.0  # longest wait beyond a sound's own length before giving up on it
JOB_WAIT_SECONDS = 300.0


@dataclass
class _Job:
    kind: str  # "say" or "earcon"
    text: str
    generation: int
    done: threading.Event = field(default_factory=threading.Event)


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
        self._synthesis_broken = False  # reported once, until a sentence is spoken again
        self._device = self._find_output()
        self.output_available = self._device is not None
        self._next_device_check = clock() + audio.retry_seconds

    # -- public API -------------------------------------------------------------------------

    def say(self, text: str, wait: bool = True) -> None:
        self._submit("say", text, wait)

    def earcon(self, name: str, wait: bool = True) -> None:
        if name not in earcons.NAMES:
            raise ValueError(f"unknown earcon {name!r}; known: {', '.join(earcons.NAMES)}")
        if self.settings.earcons:
            self._submit("earcon", name, wait)

    def stop(self) -> None:
        with self._lock:
            self._generation += 1
        log.info("voice: stopped")

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

    def save(self, text: str, path: str | Path) -> Path:
        """Writes ``text`` spoken to a new WAV file (``assistant say --out``)."""
        samples, rate = self.synthesize(text)
        _write_wav(Path(path), samples, rate)
        return Path(path)

    @property
    def synthesizer_name(self) -> str:
        return self._synth.active

    def close(self) -> None:
        self.stop()
        worker, self._worker = self._worker, None
        if worker is not None:
            self._jobs.put(None)
            worker.join(timeout=PLAY_MARGIN_SECONDS + self.settings.synth_timeout_seconds)
        self._synth.close()
        if self._fallback is not None:
            self._fallback.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    # -- the worker --------------------------------------------------------------------------

    def _submit(self, kind: str, text: str, wait: bool) -> None:
        with self._lock:
            job = _Job(kind, text, self._generation)
            self._busy += 1
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
            while (job := self._jobs.get()) is not None:
                self._do(job)
        except BaseException as exc:  # noqa: BLE001 - the thread ends; the next say restarts it
            log.critical("voice: the voice thread died (%r); the next sentence restarts it", exc)
            with self._lock:  # sounds already queued must not wait for the next say
                if self._worker is threading.current_thread() and not self._jobs.empty():
                    self._worker = threading.Thread(target=self._run, name="voice-out", daemon=True)
                    self._worker.start()
            self._on_event("error", {"message": VOICE_DIED, "source": "voice"})

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
        try:
            samples, rate = self.synthesize(job.text)
        except Exception as exc:  # noqa: BLE001 - any synthesizer failure ends in a tone
            self._cannot_synthesize(job, exc)
            return
        if self._synthesis_broken:
            self._synthesis_broken = False
            log.warning("voice: synthesis works again")
            self._on_event("voice_back", {})
        if self._stopped(job):
            return
        self._on_event("speaking", {"text": job.text})
        completed = self._play(job, samples, rate)
        self._on_event("spoken", {"text": job.text, "completed": completed})

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

    def _play(self, job: _Job, samples: np.ndarray, rate: int) -> bool:
        """Plays to the end (True) or until stopped (False); without a device, writes the WAV."""
        if self._device is None and self._clock() >= self._next_device_check:
            self._next_device_check = self._clock() + self.audio_settings.retry_seconds
            audio.rescan_devices()
            self._device = audio.find_device(self.audio_settings.output_device, "output")
            self.output_available = self._device is not None
            if self._device is not None:
                log.warning("output device is back")
        if self._device is not None:
            try:
                return self._play_device(job, self._device, samples, rate)
            except sd.PortAudioError as exc:
                log.warning("output device failed (%s): speech goes to a WAV file", exc)
                self._device, self.output_available = None, False
        self._append_fallback(job, samples, rate)
        return True

    def _play_device(self, job: _Job, device: int, samples: np.ndarray, rate: int) -> bool:
        audio.stream_opened()  # from here on no re-scan may pull PortAudio from under us
        try:
            try:
                sd.check_output_settings(device=device, samplerate=rate, channels=1, dtype="int16")
            except (sd.PortAudioError, ValueError):
                native = int(sd.query_devices(device)["default_samplerate"])
                samples, rate = resample_int16(samples, rate, native), native
            self._stream_out(job, device, samples.astype("<i2").tobytes(), rate)
        finally:
            audio.stream_closed()
        return not self._stopped(job)

    def _stream_out(self, job: _Job, device: int, data: bytes, rate: int) -> None:
        position = 0
        finished = threading.Event()

        def callback(outdata: Any, frames: int, when: Any, status: sd.CallbackFlags) -> None:
            nonlocal position
            if self._stopped(job):
                raise sd.CallbackAbort
            chunk = data[position : position + len(outdata)]
            outdata[: len(chunk)] = chunk
            outdata[len(chunk) :] = b"\x00" * (len(outdata) - len(chunk))
            position += len(chunk)
            if position >= len(data):
                raise sd.CallbackStop

        stream = sd.RawOutputStream(device=device, samplerate=rate, channels=1, dtype="int16",
                                    latency="low", callback=callback,
                                    finished_callback=finished.set)
        try:
            stream.start()
            if not finished.wait(len(data) / 2 / rate + PLAY_MARGIN_SECONDS):
                log.warning("playback did not finish in time; aborting it")
                stream.abort()
        finally:
            stream.close()

    def _append_fallback(self, job: _Job, samples: np.ndarray, rate: int) -> None:
        if self._fallback is None:
            self._fallback = SpeechFile.open(self.settings.fallback_wav)
            log.warning("no output device: speech is appended to %s", self._fallback.path)
        if job.kind == "say":
            log.warning("said (no output device): %s", job.text)
        if rate != FALLBACK_RATE_HZ:
            samples = resample_int16(samples, rate, FALLBACK_RATE_HZ)
        self._fallback.append(samples)

    @property
    def fallback_path(self) -> Path | None:
        """Where speech went when there was no output device (None until it happened)."""
        return self._fallback.path if self._fallback is not None else None


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        raw = wav.readframes(wav.getnframes())
    if width != 2:
        raise VoiceError(f"{path}: {width * 8}-bit WAV, expected 16-bit", "I cannot speak that.")
    samples = np.frombuffer(raw, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples.copy(), rate


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.asarray(samples, dtype="<i2").tobytes())
