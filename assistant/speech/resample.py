"""Audio in any sample rate and channel count → 16 kHz mono int16, the recognisers' format."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

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
    """Raw PCM bytes (8/16/32-bit) → 16 kHz mono int16 bytes."""
    if sample_width == 2:
        x = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    elif sample_width == 1:
        x = (np.frombuffer(pcm, dtype=np.uint8).astype(np.float64) - 128) * 256
    elif sample_width == 4:
        x = np.frombuffer(pcm[: len(pcm) // 4 * 4], dtype="<i4").astype(np.float64) / 65536
    else:
        raise SpeechError(f"unsupported sample width {sample_width} bytes")
    return to_mono_16k(x, rate_hz, channels).tobytes()


def read_wav_16k(path: str | Path) -> bytes:
    """A WAV file as 16 kHz mono int16 bytes; SpeechError when unreadable or empty."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            pcm = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise SpeechError(f"{path}: no such file", spoken="The audio file is missing.") from None
    except (wave.Error, EOFError, OSError) as exc:
        raise SpeechError(
            f"{path}: not a readable WAV file ({exc or 'empty or truncated'})",
            spoken="The audio file is not readable.",
        ) from None
    if not pcm:
        raise SpeechError(f"{path}: the audio is empty", spoken="The audio file is empty.")
    return pcm_to_mono_16k(pcm, rate, channels, width)


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
