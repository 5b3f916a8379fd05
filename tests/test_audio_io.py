"""The one resampler and the one WAV reader (assistant.audio_io): levels, aliases, images and
delay; every PCM width and rate a file may have; a stream in odd blocks against the whole file;
the spoken errors of bad files."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from fixtures_audio import envelope

from assistant.audio_io import (
    SAMPLE_RATE_HZ,
    Resampler,
    WavFile,
    read_wav,
    read_wav_16k,
    read_wav_frames,
    resample,
    write_wav,
)
from assistant.errors import SpeechError
from assistant.messages import english


def tone(freq_hz: float, rate_hz: int, seconds: float = 1.0, peak: float = 10000.0) -> np.ndarray:
    return peak * np.sin(2 * np.pi * freq_hz * np.arange(round(rate_hz * seconds)) / rate_hz)


def level_db(samples: np.ndarray, freq_hz: float, rate_hz: int, peak: float = 10000.0) -> float:
    """The level of ``freq_hz`` in ``samples`` (Hann window), in dB relative to ``peak``."""
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * window)) / (window.sum() / 2)
    bin_ = round(freq_hz * len(samples) / rate_hz)
    return float(20 * np.log10(spectrum[bin_ - 3 : bin_ + 4].max() / peak + 1e-12))


def write_pcm(path: Path, samples: np.ndarray, rate_hz: int, width: int, channels: int = 1) -> Path:
    """``samples`` (on the int16 scale, interleaved) written as ``width``-byte PCM."""
    x = np.round(np.asarray(samples, np.float64) * 256).astype(np.int64)  # 24-bit scale
    if width == 1:
        raw = (np.clip(np.round(samples / 256), -128, 127) + 128).astype(np.uint8).tobytes()
    elif width == 2:
        raw = np.asarray(np.round(samples), "<i2").tobytes()
    elif width == 3:
        raw = (x & 0xFFFFFF).astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raw = (x * 256).astype("<i4").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate_hz)
        wav.writeframes(raw)
    return path


def test_48k_stereo_keeps_a_1khz_tone_and_removes_what_would_alias_to_7_5khz() -> None:
    rate = 48000
    both = tone(1000, rate) + tone(8500, rate)  # 8.5 kHz folds onto 7.5 kHz at 16 kHz
    stereo = np.stack([both, both], axis=1).reshape(-1)
    out = resample(stereo, rate, channels=2)
    assert len(out) == SAMPLE_RATE_HZ and out.dtype == np.int16
    assert abs(level_db(out, 1000, SAMPLE_RATE_HZ)) < 0.1
    assert level_db(out, 7500, SAMPLE_RATE_HZ) < -50


def test_going_up_in_rate_leaves_no_image() -> None:
    # The voice's 22.05 kHz speech played on a 48 kHz device: 5 kHz must not also sound at 17 kHz.
    out = resample(tone(5000, 22050), 22050, out_rate_hz=48000)
    assert len(out) == 48000
    assert abs(level_db(out, 5000, 48000)) < 0.5
    assert level_db(out, 22050 - 5000, 48000) < -50


def test_conversion_has_no_delay() -> None:
    # Sample for sample the ideal 16 kHz tone: a filter delay of even one sample would show.
    for rate in (8000, 22050, 44100, 48000):
        out = resample(tone(440, rate), rate).astype(np.float64)
        ideal = tone(440, SAMPLE_RATE_HZ)
        middle = slice(200, -200)  # the filter sees silence beyond both ends
        error = np.sqrt(np.mean((out - ideal)[middle] ** 2)) / np.sqrt(np.mean(ideal**2))
        assert error < 0.02, rate


@pytest.mark.parametrize("rate", [8000, 44100])
@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_every_pcm_width_and_rate_reads_as_16k_mono(tmp_path: Path, rate: int, width: int) -> None:
    signal = tone(440, rate, 0.5)
    path = write_pcm(tmp_path / f"{width}.wav", np.stack([signal, signal], 1).reshape(-1), rate,
                     width, channels=2)
    out = np.frombuffer(read_wav_16k(path), "<i2").astype(np.float64)
    ideal = tone(440, SAMPLE_RATE_HZ, 0.5)
    assert len(out) == len(ideal)
    error = np.sqrt(np.mean((out - ideal)[200:-200] ** 2)) / np.sqrt(np.mean(ideal**2))
    assert error < (0.03 if width == 1 else 0.02)  # 8-bit: its own quantisation noise

    samples, own_rate = read_wav(path)  # at the file's own rate
    assert own_rate == rate and samples.dtype == np.int16
    assert np.abs(samples.astype(np.float64) - signal).max() <= (129 if width == 1 else 1)


def test_a_file_streamed_in_odd_blocks_equals_the_whole_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    signal = tone(1000, 44100, 2.0) + rng.normal(0, 2000, 88200)
    path = write_pcm(tmp_path / "stereo.wav", np.stack([signal, -signal / 2], 1).reshape(-1),
                     44100, 3, channels=2)
    whole = np.frombuffer(read_wav_16k(path), "<i2").astype(np.int64)
    with WavFile(path) as wav:
        pcm = b"".join(wav.pcm_blocks())
        sizes = [1, 7, 333, 4097, 2, 1001]  # frames of 6 bytes
        blocks, start, i = [], 0, 0
        while start < len(pcm):
            blocks.append(pcm[start : start + 6 * sizes[i % len(sizes)]])
            start, i = start + 6 * sizes[i % len(sizes)], i + 1
        streamed = np.frombuffer(b"".join(wav.convert(blocks)), "<i2").astype(np.int64)
    assert len(streamed) == len(whole) == 32000
    assert np.abs(streamed - whole).max() <= 1


def test_a_microphone_stream_in_20ms_chunks_has_no_clicks() -> None:
    # 48 kHz stereo as the sound card delivers it, 960 frames a chunk, without a flush.
    signal = np.round(tone(1000, 48000, 1.0)).astype(np.int16)
    interleaved = np.stack([signal, signal], 1).reshape(-1).tobytes()
    resampler = Resampler(48000, 2)
    out = b"".join(resampler.convert(interleaved[i : i + 3840])
                   for i in range(0, len(interleaved), 3840))
    heard = np.frombuffer(out, "<i2").astype(np.float64)
    whole = resample(signal, 48000).astype(np.float64)[: len(heard)]
    assert len(heard) > 15900
    assert np.abs(heard - whole).max() <= 1
    steepest = 2 * np.pi * 1000 / SAMPLE_RATE_HZ * 10000  # a 1 kHz sine's largest step
    assert np.abs(np.diff(heard[100:])).max() < 1.02 * steepest


def test_read_wav_frames_gives_microphone_frames(tmp_path: Path) -> None:
    rate = 44100
    t = np.arange(rate) / rate
    signal = (np.sin(2 * np.pi * 500 * t) * 8000 * (t % 0.5 < 0.25)).astype(np.int16)
    path = write_wav(tmp_path / "stereo.wav", np.stack([signal, signal], axis=1), rate, 2)
    frames = list(read_wav_frames(path, frame_ms=30))
    assert {len(f) for f in frames} == {960}
    out = np.frombuffer(b"".join(frames), dtype="<i2")
    assert abs(len(out) / 16000 - len(signal) / rate) < 0.031
    got, want = envelope(out, 16000), envelope(signal.astype(np.float64), rate)
    n = min(len(got), len(want))
    assert np.corrcoef(got[:n], want[:n])[0, 1] > 0.95


def _header(rate: int = 16000, channels: int = 1, width: int = 2, frames: int = 0) -> bytes:
    data = bytes(frames * channels * width)
    fmt = (b"fmt " + (16).to_bytes(4, "little") + (1).to_bytes(2, "little")
           + channels.to_bytes(2, "little") + rate.to_bytes(4, "little")
           + (rate * channels * width).to_bytes(4, "little") + (channels * width).to_bytes(2, "little")
           + (8 * width).to_bytes(2, "little"))
    body = b"WAVE" + fmt + b"data" + len(data).to_bytes(4, "little") + data
    return b"RIFF" + len(body).to_bytes(4, "little") + body


@pytest.mark.parametrize(
    ("name", "content", "said", "logged"),
    [
        ("missing.wav", None, "The audio file is missing.", "no such file"),
        ("noise.wav", b"this is not a wav file at all", "The audio file is not readable.",
         "not a readable WAV file"),
        ("empty.wav", _header(frames=0), "The audio file is empty.", "the audio is empty"),
        ("slow.wav", _header(rate=1000, frames=10), english().text("audio.wav_unsupported"),
         "the WAV header says 1000 Hz"),
        ("wide.wav", _header(width=5, frames=10), english().text("audio.wav_unsupported"),
         "40-bit samples"),
    ],
)
def test_a_bad_file_is_a_spoken_error(tmp_path: Path, name: str, content: bytes | None,
                                      said: str, logged: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SpeechError) as err:
        read_wav_16k(path)
    assert err.value.spoken == said
    assert str(path) in str(err.value) and logged in str(err.value)
    with pytest.raises(SpeechError):
        list(read_wav_frames(path))
