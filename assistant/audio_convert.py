"""Sample-format conversion: any rate and channel count to mono int16 at a target rate.

numpy only: a windowed-sinc low-pass (when the rate goes down) followed by linear
interpolation. ``Converter`` keeps state between chunks so a stream converts without clicks at
chunk boundaries; ``to_mono_rate`` converts a whole buffer at once.
"""

from __future__ import annotations

import numpy as np

FILTER_TAPS = 63


def _lowpass(cutoff: float, taps: int = FILTER_TAPS) -> np.ndarray:
    """A Hamming-windowed sinc low-pass; ``cutoff`` is a fraction of the input rate (< 0.5)."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.asarray(2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps), np.float32)
    normalised: np.ndarray = kernel / np.float32(kernel.sum())
    return normalised


class Converter:
    """Streaming conversion of interleaved int16 bytes to mono int16 bytes at ``out_rate``."""

    def __init__(self, in_rate: int, channels: int, out_rate: int) -> None:
        self.in_rate, self.channels, self.out_rate = in_rate, channels, out_rate
        self._step = in_rate / out_rate
        self._kernel = _lowpass(0.45 * out_rate / in_rate) if in_rate > out_rate else None
        self._raw_tail = np.zeros(0 if self._kernel is None else FILTER_TAPS - 1, np.float32)
        self._history = np.zeros(0, np.float32)  # filtered input not yet consumed
        self._position = 0.0  # next output sample, in input samples from _history[0]

    def convert(self, chunk: bytes) -> bytes:
        samples = np.frombuffer(chunk, dtype="<i2")
        usable = len(samples) - len(samples) % self.channels
        return self.convert_array(samples[:usable].reshape(-1, self.channels))

    def convert_array(self, samples: np.ndarray) -> bytes:
        """``samples``: int16, shape (frames,) or (frames, channels)."""
        mono = samples.astype(np.float32)
        if mono.ndim == 2:
            mono = mono.mean(axis=1)
        if self.in_rate == self.out_rate:
            return _to_int16_bytes(mono)
        if self._kernel is not None:
            padded = np.concatenate([self._raw_tail, mono])
            self._raw_tail = padded[len(padded) - (FILTER_TAPS - 1) :]
            mono = np.convolve(padded, self._kernel, mode="valid")
        history = np.concatenate([self._history, mono])
        count = int(np.floor((len(history) - 1 - self._position) / self._step)) + 1
        if len(history) < 2 or count <= 0:
            self._history = history
            return b""
        positions = self._position + self._step * np.arange(count)
        left = np.floor(positions).astype(np.int64)
        frac = (positions - left).astype(np.float32)
        right = np.minimum(left + 1, len(history) - 1)
        out = history[left] * (1 - frac) + history[right] * frac
        next_position = self._position + self._step * count
        consumed = min(int(np.floor(next_position)), len(history) - 1)
        self._history = history[consumed:]
        self._position = next_position - consumed
        return _to_int16_bytes(out)


def _to_int16_bytes(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def to_mono_rate(samples: np.ndarray, rate: int, channels: int, out_rate: int) -> bytes:
    """A whole int16 buffer (frames,) or (frames, channels) as mono int16 bytes at out_rate."""
    array = np.asarray(samples, dtype=np.int16)
    if array.ndim == 1 and channels > 1:
        array = array[: len(array) - len(array) % channels].reshape(-1, channels)
    return Converter(rate, channels, out_rate).convert_array(array)


def to_16k_mono(samples: np.ndarray, rate: int, channels: int) -> bytes:
    return to_mono_rate(samples, rate, channels, 16000)


def resample_int16(samples: np.ndarray, rate: int, out_rate: int) -> np.ndarray:
    """Mono int16 array at ``rate`` as a mono int16 array at ``out_rate``."""
    return np.frombuffer(to_mono_rate(samples, rate, 1, out_rate), dtype="<i2").copy()
