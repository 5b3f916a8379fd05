"""Audio between files, devices and recognisers: the one resampler and the one WAV reader.

The recognisers take 16 kHz mono int16 (``SAMPLE_RATE_HZ``, frames of ``FRAME_BYTES``); a
microphone, a speaker and a WAV file may have any rate and channel count.

- ``Resampler`` converts a stream, chunk by chunk, to mono int16 at another rate: a
  windowed-sinc low-pass on the (oversampled) input and linear interpolation, with state kept
  across chunks so a stream has no clicks at chunk boundaries.
  ``flush()`` ends the stream; ``resample`` converts a whole buffer the same way.
- ``WavFile`` checks a WAV file's header and reads it a block at a time (8, 16, 24 or 32-bit
  PCM), so a file of any length fits in the same memory. Every problem is a ``SpeechError``
  naming the file and what was expected, with a sentence to say. ``read_wav_16k``,
  ``read_wav_frames`` and ``read_wav`` read a whole file; ``write_wav`` writes one.
"""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import SpeechError
from assistant.messages import english

SAMPLE_RATE_HZ = 16000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE_HZ * FRAME_MS // 1000 * 2  # 640 bytes of int16

CUTOFF = 0.45  # of the lower rate: the low-pass is -6 dB at 0.45 x that rate
TAPS_PER_RATIO = 32  # kernel taps per unit of rate ratio: a transition band ~0.1 x the lower rate
MIN_TAPS = 63
OVERSAMPLING_TO = 4  # going up, interpolate linearly from at least 4 x the output rate ...
MAX_OVERSAMPLING = 4  # ... oversampling the input by at most this much
_EMPTY = np.zeros(0, np.float32)


def _oversampling(in_rate_hz: int, out_rate_hz: int) -> int:
    """By how much the input is oversampled (zeros stuffed, then the low-pass) before the
    linear interpolation, whose droop and images shrink with the rate it works at. Only going
    up (a voice played on a 48 kHz device): going down to the recognisers' 16 kHz, the input
    is interpolated as it is, as the recognisers' thresholds were measured with (oversampling
    there moved a clip across PocketSphinx's margin: tests/test_speech_pocketsphinx.py)."""
    if out_rate_hz <= in_rate_hz:
        return 1
    if out_rate_hz % in_rate_hz == 0:
        return out_rate_hz // in_rate_hz  # every output sample lands on one: no interpolation
    return min(MAX_OVERSAMPLING, math.ceil(OVERSAMPLING_TO * out_rate_hz / in_rate_hz))


def _lowpass(cutoff: float, ratio: float, gain: float) -> np.ndarray:
    """A Hamming-windowed sinc low-pass, ``cutoff`` a fraction of its own rate (< 0.5), long
    enough for ``ratio`` (its rate over the band it keeps) to keep the band edge as sharp."""
    taps = max(MIN_TAPS, 2 * math.ceil(TAPS_PER_RATIO / 2 * ratio) + 1)
    n = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
    normalised: np.ndarray = (kernel * (gain / kernel.sum())).astype(np.float32)
    return normalised


class _Fir:
    """A streaming FIR filter without delay: output i is centred on input i. The last half
    kernel of outputs waits for more input, or for ``flush``."""

    def __init__(self, kernel: np.ndarray) -> None:
        self._kernel = kernel
        self._half = (len(kernel) - 1) // 2
        self._tail = np.zeros(self._half, np.float32)  # as if silence came before the stream

    def push(self, x: np.ndarray) -> np.ndarray:
        padded = np.concatenate([self._tail, x])
        if len(padded) < len(self._kernel):
            self._tail = padded
            return _EMPTY
        self._tail = padded[len(padded) - (len(self._kernel) - 1) :]
        out: np.ndarray = np.convolve(padded, self._kernel, mode="valid")
        return out

    def flush(self) -> np.ndarray:
        return self.push(np.zeros(self._half, np.float32))  # as if silence came after it


class Resampler:
    """Streaming conversion of interleaved samples at ``in_rate_hz`` to mono int16 bytes at
    ``out_rate_hz``: the input, oversampled going up, goes through one low-pass (below
    the lower of the two rates' Nyquist frequencies) and is interpolated linearly. No delay:
    output sample n is the input at n / ``out_rate_hz`` seconds. ``flush()`` gives the end of
    the stream (the filter's last half kernel) and starts afresh; N input frames give
    round(N x out / in) samples in all (one more in some cases)."""

    def __init__(self, in_rate_hz: int, channels: int = 1, out_rate_hz: int = SAMPLE_RATE_HZ) -> None:
        self.in_rate_hz, self.channels, self.out_rate_hz = in_rate_hz, channels, out_rate_hz
        self._up = _oversampling(in_rate_hz, out_rate_hz)
        self._step = self._up * in_rate_hz / out_rate_hz  # in oversampled input samples
        lower = min(in_rate_hz, out_rate_hz)
        self._kernel = _lowpass(CUTOFF * lower / (self._up * in_rate_hz),
                                self._up * in_rate_hz / lower, gain=self._up)
        self._reset()

    def _reset(self) -> None:
        self._filter = _Fir(self._kernel)
        self._history = _EMPTY  # filtered input not yet passed by the interpolation
        self._position = 0.0  # the next output sample, in samples from _history[0]
        self._received = self._made = 0  # input frames in; samples out

    def convert(self, pcm: bytes) -> bytes:
        """Interleaved little-endian int16 bytes (a partial frame at the end is dropped)."""
        samples = np.frombuffer(pcm, dtype="<i2")
        usable = len(samples) - len(samples) % self.channels
        return self.convert_array(samples[:usable].reshape(-1, self.channels))

    def convert_array(self, samples: np.ndarray) -> bytes:
        """``samples``: shape (frames,) or (frames, channels), int16 or float on the int16 scale."""
        mono = np.asarray(samples, dtype=np.float32)
        if mono.ndim == 2:
            mono = mono.mean(axis=1, dtype=np.float32)
        if self.in_rate_hz == self.out_rate_hz:
            return _int16_bytes(mono)
        self._received += len(mono)
        if self._up > 1:
            stuffed = np.zeros(len(mono) * self._up, np.float32)
            stuffed[:: self._up] = mono
            mono = stuffed
        return _int16_bytes(self._interpolate(self._filter.push(mono)))

    def flush(self) -> bytes:
        if self.in_rate_hz == self.out_rate_hz:
            return b""
        out = self._interpolate(self._filter.flush())
        missing = round(self._received * self.out_rate_hz / self.in_rate_hz) - self._made
        if missing > 0 and len(self._history):  # past the last input: hold its value
            out = np.concatenate([out, self._at(self._position + self._step * np.arange(missing))])
        self._reset()
        return _int16_bytes(out)

    def _interpolate(self, x: np.ndarray) -> np.ndarray:
        history = np.concatenate([self._history, x]) if len(self._history) else x
        self._history = history
        count = math.floor((len(history) - 1 - self._position) / self._step) + 1
        if count <= 0:
            return _EMPTY
        out = self._at(self._position + self._step * np.arange(count))
        self._made += count
        after = self._position + self._step * count
        consumed = min(math.floor(after), len(history) - 1)
        self._history, self._position = history[consumed:], after - consumed
        return out

    def _at(self, positions: np.ndarray) -> np.ndarray:
        """``_history`` linearly interpolated at ``positions`` (held at its last sample)."""
        last = len(self._history) - 1
        left = np.minimum(np.floor(positions).astype(np.int64), last)
        right = np.minimum(left + 1, last)
        frac = np.clip(positions - left, 0, 1).astype(np.float32)
        out: np.ndarray = self._history[left] * (1 - frac) + self._history[right] * frac
        return out


def _int16_bytes(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def resample(samples: np.ndarray, rate_hz: int, channels: int = 1,
             out_rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """A whole buffer, interleaved (or shape (frames, channels)), int16 or float on the int16
    scale, as mono int16 at ``out_rate_hz``."""
    x = np.asarray(samples)
    if x.ndim == 1 and channels > 1:
        x = x[: len(x) - len(x) % channels].reshape(-1, channels)
    resampler = Resampler(rate_hz, channels, out_rate_hz)
    pcm = resampler.convert_array(x) + resampler.flush()
    return np.frombuffer(pcm, dtype="<i2").copy()


# --- WAV files --------------------------------------------------------------------------------

MIN_RATE_HZ = 4000  # under it there is no speech to hear (and upsampling would balloon)
MAX_RATE_HZ = 768_000  # the highest rate any sound card or recorder writes
BLOCK_BYTES = 1 << 20  # read 1 MiB of a file at a time, whatever its rate and channels
MISSING = english().text("audio.wav_missing")
UNREADABLE = english().text("audio.wav_unreadable")
EMPTY = english().text("audio.wav_empty")
SAMPLE_WIDTHS = "8, 16, 24 or 32-bit PCM"
_BROKEN = (EOFError, OSError, struct.error, RuntimeError, ValueError, OverflowError)
_WAVE_HEADER_ERRORS = {  # the wave module's own words for header values it refuses
    "bad # of channels": "0 channels; expected 1 or more",
    "bad sample width": f"0-bit samples; expected {SAMPLE_WIDTHS}",
}


def _pcm8(raw: bytes) -> np.ndarray:
    return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) * 256


def _pcm16(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, "<i2")


def _pcm24(raw: bytes) -> np.ndarray:
    b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
    value = (b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)  # sign from the top byte
    return value.astype(np.float64) / 65536


def _pcm32(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, "<i4").astype(np.float64) / 65536


_DECODERS: dict[int, Callable[[bytes], np.ndarray]] = {1: _pcm8, 2: _pcm16, 3: _pcm24, 4: _pcm32}


@dataclass(frozen=True)
class WavInfo:
    rate_hz: int
    channels: int
    sample_width: int  # bytes per sample
    frames: int  # as the header says


class WavFile:
    """A WAV file read block by block, converted to mono int16 at ``rate_hz`` (None: the file's
    own rate). Memory stays the same for a file of any length."""

    def __init__(self, path: str | Path, rate_hz: int | None = SAMPLE_RATE_HZ) -> None:
        self.path = str(path)
        try:
            self._wav = wave.open(self.path, "rb")
        except FileNotFoundError:
            raise SpeechError(f"{path}: no such file", spoken=MISSING) from None
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
        self.rate_hz = rate_hz or self.info.rate_hz

    def _check(self, info: WavInfo) -> WavInfo:
        def unsupported(what: str) -> SpeechError:
            return SpeechError(f"{self.path}: the WAV header says {what}",
                               spoken=english().text("audio.wav_unsupported"))

        if not MIN_RATE_HZ <= info.rate_hz <= MAX_RATE_HZ:
            raise unsupported(f"{info.rate_hz} Hz; expected a sample rate from {MIN_RATE_HZ} to "
                              f"{MAX_RATE_HZ} Hz")
        if info.channels < 1:
            raise unsupported(f"{info.channels} channels; expected 1 or more")
        if info.sample_width not in _DECODERS:
            raise unsupported(f"{8 * info.sample_width}-bit samples; expected {SAMPLE_WIDTHS}")
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
            raise SpeechError(f"{self.path}: the audio is empty", spoken=EMPTY)

    def convert(self, pcm_blocks: Iterable[bytes]) -> Iterator[bytes]:
        """This file's PCM blocks (from ``pcm_blocks``) as mono int16 bytes at ``rate_hz``,
        converted as one stream."""
        info = self.info
        resampler = Resampler(info.rate_hz, info.channels, self.rate_hz)
        decode = _DECODERS[info.sample_width]
        for pcm in pcm_blocks:
            out = resampler.convert_array(decode(pcm).reshape(-1, info.channels))
            if out:
                yield out
        end = resampler.flush()
        if end:
            yield end

    def blocks(self) -> Iterator[bytes]:
        """The whole file as mono int16 bytes at ``rate_hz``, a block at a time."""
        return self.convert(self.pcm_blocks())


def read_wav_16k(path: str | Path) -> bytes:
    """A whole WAV file as 16 kHz mono int16 bytes; SpeechError when unreadable or empty."""
    with WavFile(path) as wav:
        return b"".join(wav.blocks())


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A whole WAV file as mono int16 samples at its own rate, and that rate."""
    with WavFile(path, rate_hz=None) as wav:
        return np.frombuffer(b"".join(wav.blocks()), dtype="<i2").copy(), wav.rate_hz


def read_wav_frames(path: str | Path, frame_ms: int = FRAME_MS,
                    rate_hz: int = SAMPLE_RATE_HZ) -> Iterator[bytes]:
    """A WAV file as frames like a microphone's (the last one padded with silence), read and
    converted a block at a time."""
    frame_bytes = rate_hz * frame_ms // 1000 * 2
    pending = b""
    with WavFile(path, rate_hz) as wav:
        for block in wav.blocks():
            pending += block
            usable = len(pending) - len(pending) % frame_bytes
            yield from frames(pending[:usable], frame_bytes)
            pending = pending[usable:]
    if pending:
        yield pending + bytes(frame_bytes - len(pending))


def write_wav(path: str | Path, samples: bytes | np.ndarray, rate_hz: int = SAMPLE_RATE_HZ,
              channels: int = 1) -> Path:
    """16-bit PCM (bytes, or int16 samples interleaved or shape (frames, channels))."""
    pcm = samples if isinstance(samples, bytes) else np.asarray(samples, dtype="<i2").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(pcm)
    return Path(path)


def frames(pcm: bytes, frame_bytes: int = FRAME_BYTES) -> list[bytes]:
    """Split PCM into fixed frames (the last one may be shorter)."""
    return [pcm[i : i + frame_bytes] for i in range(0, len(pcm), frame_bytes)]


def duration_ms(pcm: bytes, rate_hz: int = SAMPLE_RATE_HZ) -> float:
    """How long mono int16 ``pcm`` lasts."""
    return len(pcm) / 2 / rate_hz * 1000
