"""Audio in any sample rate and channel count → 16 kHz mono int16, the recognisers' format.

``WavFile`` checks a WAV file's header (every problem a ``SpeechError`` naming the file and what
was expected) and reads it a block at a time, so a file of any length fits in the same memory;
``read_wav_16k`` reads a whole (short) file and converts it as one buffer.
"""

from __future__ import annotations

import struct
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.audio_convert import Converter
from assistant.errors import SpeechError

SAMPLE_RATE_HZ = 16000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE_HZ * FRAME_MS // 1000 * 2  # 640 bytes of int16


def _lowpass(x: np.ndarray, cutoff: float, taps: int = 63) -> np.ndarray:
    """Windowed-sinc low-pass; ``cutoff`` as a fraction of the sample rate (0..0.5)."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
    kernel /= kernel.sum()
    return np.convolve(x, kernel, mode="same")


def to_mono_16k(
    samples: np.ndarray, rate_hz: int, channels: int = 1, target_hz: int = SAMPLE_RATE_HZ
) -> np.ndarray:
    """Interleaved int16 (or float) samples → mono int16 at ``target_hz``."""
    x = np.asarray(samples, dtype=np.float64)
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1)
    if rate_hz != target_hz and len(x):
        if target_hz < rate_hz:
            x = _lowpass(x, 0.45 * target_hz / rate_hz)
        duration = len(x) / rate_hz
        n_out = round(duration * target_hz)
        t_out = np.arange(n_out) / target_hz
        t_in = np.arange(len(x)) / rate_hz
        x = np.interp(t_out, t_in, x)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def pcm_to_mono_16k(pcm: bytes, rate_hz: int, channels: int, sample_width: int = 2) -> bytes:
    """Raw PCM bytes (8/16/24/32-bit) → 16 kHz mono int16 bytes, converted as one buffer."""
    if sample_width not in _DECODERS:
        raise SpeechError(f"unsupported sample width {sample_width} bytes")
    x = _DECODERS[sample_width](pcm[: len(pcm) // sample_width * sample_width])
    return to_mono_16k(x.astype(np.float64), rate_hz, channels).tobytes()


MIN_RATE_HZ = 4000  # under it there is no speech to hear (and upsampling would balloon)
MAX_RATE_HZ = 768_000  # the highest rate any sound card or recorder writes
BLOCK_BYTES = 1 << 20  # read 1 MiB of a file at a time, whatever its rate and channels
UNREADABLE = "The audio file is not readable."
_BROKEN = (EOFError, OSError, struct.error, RuntimeError, ValueError, OverflowError)
SAMPLE_WIDTHS = "8, 16, 24 or 32-bit PCM"
_WAVE_HEADER_ERRORS = {  # the wave module's own words for header values it refuses
    "bad # of channels": "0 channels; expected 1 or more",
    "bad sample width": f"0-bit samples; expected {SAMPLE_WIDTHS}",
}


@dataclass(frozen=True)
class WavInfo:
    rate_hz: int
    channels: int
    sample_width: int  # bytes per sample
    frames: int  # as the header says


class WavFile:
    """A WAV file read block by block as 16 kHz mono int16: memory stays the same for a file of
    any length. Every problem is a ``SpeechError`` naming the file and what was expected."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self._wav = wave.open(self.path, "rb")
        except FileNotFoundError:
            raise SpeechError(f"{path}: no such file", spoken="The audio file is missing.") from None
        except IsADirectoryError:
            raise SpeechError(f"{path}: a directory, not a WAV file", spoken=UNREADABLE) from None
        except wave.Error as exc:
            header = _WAVE_HEADER_ERRORS.get(str(exc))
            what = f"the WAV header says {header}" if header else f"not a readable WAV file ({exc})"
            raise SpeechError(f"{path}: {what}", spoken=UNREADABLE) from None
        except _BROKEN as exc:  # the wave module raises a bare RuntimeError on some chunk sizes
            raise SpeechError(f"{path}: not a readable WAV file ({exc or 'empty or truncated'})",
                              spoken=UNREADABLE) from None
        try:
            self.info = self._check(WavInfo(self._wav.getframerate(), self._wav.getnchannels(),
                                            self._wav.getsampwidth(), self._wav.getnframes()))
        except SpeechError:
            self._wav.close()
            raise

    def _check(self, info: WavInfo) -> WavInfo:
        def bad(what: str) -> SpeechError:
            return SpeechError(f"{self.path}: the WAV header says {what}", spoken=UNREADABLE)

        if not MIN_RATE_HZ <= info.rate_hz <= MAX_RATE_HZ:
            raise bad(f"{info.rate_hz} Hz; expected a sample rate from {MIN_RATE_HZ} to "
                      f"{MAX_RATE_HZ} Hz")
        if info.channels < 1:
            raise bad(f"{info.channels} channels; expected 1 or more")
        if info.sample_width not in _DECODERS:
            raise bad(f"{8 * info.sample_width}-bit samples; expected {SAMPLE_WIDTHS}")
        return info

    def __enter__(self) -> WavFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._wav.close()

    def pcm_blocks(self) -> Iterator[bytes]:
        """The file's own PCM, whole frames, about ``BLOCK_BYTES`` at a time. SpeechError when
        the file holds no audio at all, or breaks off unreadably."""
        frame_bytes = self.info.channels * self.info.sample_width
        per_block = max(1, BLOCK_BYTES // frame_bytes)
        got = 0
        while True:
            try:
                raw = self._wav.readframes(per_block)
            except (wave.Error, *_BROKEN) as exc:
                raise SpeechError(f"{self.path}: the audio breaks off ({exc or 'unreadable'})",
                                  spoken=UNREADABLE) from None
            usable = len(raw) - len(raw) % frame_bytes  # a truncated file may end mid-frame
            if usable == 0:
                break
            got += usable
            yield raw[:usable]
        if got == 0:
            raise SpeechError(f"{self.path}: the audio is empty", spoken="The audio file is empty.")

    def converter(self) -> Callable[[bytes], bytes]:
        """A streaming conversion of this file's PCM blocks to 16 kHz mono int16 bytes."""
        info = self.info
        converter = Converter(info.rate_hz, info.channels, SAMPLE_RATE_HZ)
        decode = _DECODERS[info.sample_width]
        return lambda pcm: converter.convert_array(decode(pcm).reshape(-1, info.channels))

    def blocks(self) -> Iterator[bytes]:
        """The audio as 16 kHz mono int16 bytes, a block at a time (streaming conversion)."""
        convert = self.converter()
        for pcm in self.pcm_blocks():
            out = convert(pcm)
            if out:
                yield out

    def to_16k(self, pcm: bytes) -> bytes:
        """PCM of this file, converted as one buffer (``read_wav_16k``'s conversion)."""
        return pcm_to_mono_16k(pcm, self.info.rate_hz, self.info.channels, self.info.sample_width)


def _pcm8(raw: bytes) -> np.ndarray:
    return (np.frombuffer(raw, np.uint8).astype(np.float64) - 128) * 256


def _pcm16(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, "<i2")


def _pcm24(raw: bytes) -> np.ndarray:
    b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
    value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    value = np.where(value >= 1 << 23, value - (1 << 24), value)
    return value / 256


def _pcm32(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, "<i4") / 65536


_DECODERS: dict[int, Callable[[bytes], np.ndarray]] = {1: _pcm8, 2: _pcm16, 3: _pcm24, 4: _pcm32}


def read_wav_16k(path: str | Path) -> bytes:
    """A whole WAV file as 16 kHz mono int16 bytes; SpeechError when unreadable or empty.
    (``WavFile.blocks`` reads a long file without holding it.)"""
    with WavFile(path) as wav:
        return wav.to_16k(b"".join(wav.pcm_blocks()))


def write_wav_16k(path: str | Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE_HZ)
        wav.writeframes(pcm)


def frames(pcm: bytes, frame_bytes: int = FRAME_BYTES) -> list[bytes]:
    """Split PCM into fixed frames (the last one may be shorter)."""
    return [pcm[i : i + frame_bytes] for i in range(0, len(pcm), frame_bytes)]


def duration_ms(pcm: bytes) -> float:
    return len(pcm) / 2 / SAMPLE_RATE_HZ * 1000
