"""Microphone in: sounddevice capture converted to 16 kHz mono int16 frames.

A microphone and a WAV file (``audio_io.read_wav_frames``) feed the same consumers: both are
iterators of ``bytes``, each one frame of ``frame_ms`` milliseconds of 16 kHz mono little-endian
int16, converted by ``audio_io.Resampler`` from whatever the device gives. Frames captured while the
assistant speaks (``deaf()`` is true) are dropped; when deafness ends one empty ``b""`` frame is
yielded as a gap marker so the consumer can reset its recogniser. A microphone that is missing or
disappears never ends the iterator: it is retried every ``retry_seconds`` until ``close()``.

PortAudio enumerates devices once when it is initialised; ``rescan_devices`` re-initialises it
(only while none of our streams is open) so a device that appears later can be found.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import sounddevice as sd

from assistant.audio_io import Resampler
from assistant.config import AudioSettings
from assistant.errors import AudioError
from assistant.messages import english

log = logging.getLogger(__name__)

__all__ = [
    "Microphone",
    "find_device",
    "list_devices",
    "rescan_devices",
]

EventCallback = Callable[[str, dict[str, Any]], None]
MIC_MISSING = english().text("audio.mic_missing")  # said in the person's language: Messages.render
STALL_SECONDS = 2.0  # an open stream that delivers nothing for this long has gone away
FIRST_AUDIO_SECONDS = 5.0  # a fresh stream may take ~2 s to deliver (PulseAudio null sinks do)

_pa_lock = threading.RLock()
_open_streams = 0


def _alsa_config_release() -> Callable[[], int] | None:
    """ALSA's ``snd_config_update_free_global``, or None where there is no ALSA."""
    name = ctypes.util.find_library("asound")
    try:
        return ctypes.CDLL(name).snd_config_update_free_global if name else None
    except (OSError, AttributeError):
        return None


_ALSA_RELEASE = _alsa_config_release()


def release_alsa_plugins() -> None:
    """Unloads the ALSA plugins PortAudio loaded to list the devices, once no stream is open.

    PortAudio lists devices by opening every PCM in ALSA's configuration, and ALSA keeps each
    plugin it loaded until its global configuration is freed: with libasound2-plugins that is
    the AC-3 encoder (libavcodec and about 70 libraries it links), JACK, OSS and the rest,
    about 11 MB of the process's memory for devices the assistant never opens. Freeing the
    configuration unloads the plugins no stream holds; ALSA reads it again on the next open
    (PortAudio's own Pa_Terminate frees it the same way)."""
    with _pa_lock:
        if _ALSA_RELEASE is not None and not _open_streams:
            _ALSA_RELEASE()


release_alsa_plugins()  # importing sounddevice listed the devices


def stream_opened() -> None:
    global _open_streams
    with _pa_lock:
        _open_streams += 1


def stream_closed() -> None:
    global _open_streams
    with _pa_lock:
        _open_streams = max(0, _open_streams - 1)


def close_stream(stream: Any, kind: str) -> None:
    """Stops and closes a sounddevice stream (``kind``: input or output); a PortAudio error on
    the way is logged, never raised, and the stream always counts as closed."""
    try:
        stream.abort()
        stream.close()
    except sd.PortAudioError as exc:
        log.info("closing the %s stream: %s", kind, exc)
    finally:
        stream_closed()


def rescan_devices() -> bool:
    """Re-initialise PortAudio so new or vanished devices show; skipped while a stream is open."""
    with _pa_lock:
        if _open_streams:
            return False
        # sounddevice has no public re-scan; these two are its own init/terminate hooks.
        sd._terminate()
        sd._initialize()
        release_alsa_plugins()
        return True


def list_devices() -> list[dict[str, Any]]:
    """Every PortAudio device, for ``assistant doctor``."""
    with _pa_lock:
        devices = sd.query_devices()
        default_in, default_out = sd.default.device
        hostapis = sd.query_hostapis()
    result = []
    for info in devices:
        index = int(info["index"])
        result.append(
            {
                "index": index,
                "name": str(info["name"]),
                "hostapi": str(hostapis[info["hostapi"]]["name"]),
                "max_input_channels": int(info["max_input_channels"]),
                "max_output_channels": int(info["max_output_channels"]),
                "default_samplerate": float(info["default_samplerate"]),
                "default_input": index == default_in,
                "default_output": index == default_out,
            }
        )
    return result


def find_device(spec: str, kind: str) -> int | None:
    """The device index for ``spec`` (index, or a case-insensitive name substring; "" = default).

    ``kind`` is "input" or "output". None when no such device can do that kind.
    """
    channels_key = f"max_{kind}_channels"
    devices = list_devices()
    usable = [d for d in devices if d[channels_key] > 0]
    spec = spec.strip()
    if not spec:
        for d in usable:
            if d[f"default_{kind}"]:
                return int(d["index"])
        return None
    if spec.isdigit():
        return next((int(d["index"]) for d in usable if d["index"] == int(spec)), None)
    wanted = spec.lower()
    exact = [d for d in usable if str(d["name"]).lower() == wanted]
    matches = exact or [d for d in usable if wanted in str(d["name"]).lower()]
    return int(matches[0]["index"]) if matches else None


class DeafGate:
    """Drops frames heard while ``deaf()`` (the assistant speaking, and 0.5 s after); the first
    frame after a deaf spell is preceded by one ``b""`` so the consumer resets its recogniser."""

    def __init__(self, deaf: Callable[[], bool]) -> None:
        self._deaf = deaf
        self._was_deaf = False

    def admit(self, frame: bytes) -> Iterator[bytes]:
        if self._deaf():
            self._was_deaf = True
            return
        if self._was_deaf:
            self._was_deaf = False
            yield b""
        yield frame

    def reset(self) -> None:
        self._was_deaf = False


class Microphone:
    """Frames from a sounddevice input, converted, with deafness and device recovery."""

    def __init__(
        self,
        settings: AudioSettings,
        deaf: Callable[[], bool] = lambda: False,
        on_event: EventCallback | None = None,
        frame_ms: int = 20,
        capture_rate_hz: int | None = None,
        capture_channels: int | None = None,
    ) -> None:
        self.settings = settings
        self.rate_hz = settings.sample_rate_hz
        self.frame_bytes = self.rate_hz * frame_ms // 1000 * 2
        self._frame_ms = frame_ms
        self._deaf = deaf
        self._on_event = on_event or (lambda name, data: None)
        self._forced = (capture_rate_hz, capture_channels)  # tests force a non-native format
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._closed = threading.Event()
        self._stream: sd.InputStream | None = None
        self._converter: Resampler | None = None
        self._missing_reported = False
        self._flowing = False

    @staticmethod
    def check(settings: AudioSettings) -> dict[str, Any]:
        """The input device that would be used; AudioError when there is none (for doctor)."""
        index = find_device(settings.input_device, "input")
        if index is None:
            what = f"'{settings.input_device}'" if settings.input_device else "default"
            raise AudioError(f"no {what} input device", english().text("audio.mic_unavailable"))
        return next(d for d in list_devices() if d["index"] == index)

    def close(self) -> None:
        self._closed.set()
        self._queue.put(None)

    def frames(self) -> Iterator[bytes]:
        pending = b""
        gate = DeafGate(self._deaf)
        try:
            while not self._closed.is_set():
                if self._stream is None and not self._open():
                    self._closed.wait(self.settings.retry_seconds)
                    continue
                chunk = self._next_chunk()
                if chunk is None:
                    if self._stream is None:
                        pending = b""
                        gate.reset()
                        yield b""  # the microphone went away: a gap
                    continue
                assert self._converter is not None
                pending += self._converter.convert(chunk)
                while len(pending) >= self.frame_bytes:
                    frame, pending = pending[: self.frame_bytes], pending[self.frame_bytes :]
                    yield from gate.admit(frame)
        finally:
            self._close_stream()

    def _next_chunk(self) -> bytes | None:
        """One captured chunk, or None on timeout/close; a stalled or dead stream is dropped."""
        try:
            chunk = self._queue.get(timeout=STALL_SECONDS if self._flowing else FIRST_AUDIO_SECONDS)
        except queue.Empty:
            chunk = None
        stream = self._stream
        if chunk:
            self._flowing = True
        if chunk is None and not self._closed.is_set() and stream is not None:
            log.warning("microphone stopped delivering audio; reopening")
            self._lost()
        return chunk

    def _lost(self) -> None:
        self._close_stream()
        self._report_missing()

    def _report_missing(self) -> None:
        if not self._missing_reported:
            self._missing_reported = True
            self._on_event("error", {"message": MIC_MISSING})

    def _open(self) -> bool:
        spec = self.settings.input_device
        index = find_device(spec, "input")
        if index is None and rescan_devices():
            index = find_device(spec, "input")
        if index is None:
            log.warning("no input device %r; retrying every %.0f s", spec or "(default)",
                        self.settings.retry_seconds)
            self._report_missing()
            return False
        while not self._queue.empty():  # stale audio from a stream that went away
            self._queue.get_nowait()
        stream_opened()  # before touching the device: no re-scan from here on
        try:
            rate, channels = self._capture_format(index)
            stream = sd.RawInputStream(
                device=index,
                samplerate=rate,
                channels=channels,
                dtype="int16",
                blocksize=rate * self._frame_ms // 1000,
                callback=self._callback,
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            stream_closed()
            log.warning("cannot open input device %s: %s", index, exc)
            self._report_missing()
            return False
        self._stream = stream
        self._flowing = False
        self._converter = Resampler(rate, channels, self.rate_hz)
        log.info("microphone: device %s at %d Hz, %d channel(s)", index, rate, channels)
        if self._missing_reported:
            self._missing_reported = False
            log.warning("the microphone is back")
            self._on_event("microphone_back", {})
        return True

    def _capture_format(self, index: int) -> tuple[int, int]:
        rate, channels = self._forced
        if rate or channels:
            return rate or self.rate_hz, channels or 1
        try:
            sd.check_input_settings(device=index, samplerate=self.rate_hz, channels=1, dtype="int16")
            return self.rate_hz, 1
        except (sd.PortAudioError, ValueError):
            info = sd.query_devices(index)
            native = int(info["default_samplerate"])
            channels = 1
            try:
                sd.check_input_settings(device=index, samplerate=native, channels=1, dtype="int16")
            except (sd.PortAudioError, ValueError):
                channels = min(2, int(info["max_input_channels"]))
            log.info("device %s refuses %d Hz mono; capturing %d Hz x%d", index, self.rate_hz,
                     native, channels)
            return native, channels

    def _callback(self, indata: Any, frames: int, when: Any, status: sd.CallbackFlags) -> None:
        self._queue.put(bytes(indata))

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            close_stream(stream, "input")
