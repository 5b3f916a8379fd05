"""Microphone in: the real capture path through PulseAudio (conversion and WAV files:
test_audio_io.py)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sounddevice as sd
from fixtures_audio import (
    Pulse,
    SoundServerSwitch,
    envelope,
    play_into_mic,
    start_pulse,
    stop_pulse,
    write_wav,
)

from assistant.audio import (
    Microphone,
    find_device,
    list_devices,
    release_alsa_plugins,
    rescan_devices,
)
from assistant.audio_io import read_wav_frames
from assistant.config import AudioSettings
from assistant.errors import AudioError

WAIT_SECONDS = 30.0


def tone_bursts(rate: int, pattern: list[tuple[float, float]], freq: float = 500.0) -> np.ndarray:
    """Bursts of a tone: (on seconds, off seconds) pairs, 8000 peak."""
    parts = []
    for on, off in pattern:
        t = np.arange(int(rate * on)) / rate
        parts += [np.sin(2 * np.pi * freq * t) * 8000, np.zeros(int(rate * off))]
    return np.concatenate(parts).astype(np.int16)


BURSTS = [(0.2, 0.3), (0.6, 0.3), (0.4, 0.5)]


def aligned_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Best Pearson correlation of envelope ``b`` slid along the longer ``a``."""
    best = -1.0
    for shift in range(len(a) - len(b) + 1):
        window = a[shift : shift + len(b)]
        if window.std() > 0:
            best = max(best, float(np.corrcoef(window, b)[0, 1]))
    return best


class Capture:
    """Runs ``mic.frames()`` in a thread, collecting frames and events."""

    def __init__(self, mic_factory: Callable[[Callable[[str, dict[str, Any]], None]], Microphone]):
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.frames: list[bytes] = []
        self.mic = mic_factory(lambda name, data: self.events.append((name, data)))
        self.thread = threading.Thread(target=self._run, name="test-capture")

    def _run(self) -> None:
        for frame in self.mic.frames():
            self.frames.append(frame)

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not predicate():
            assert time.monotonic() < deadline, f"gave up waiting for {what}"
            time.sleep(0.02)

    def audio(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.frames), dtype="<i2")


@pytest.fixture
def capture() -> Iterator[Callable[..., Capture]]:
    started: list[Capture] = []

    def start(factory: Callable[[Callable[[str, dict[str, Any]], None]], Microphone]) -> Capture:
        cap = Capture(factory)
        started.append(cap)
        cap.thread.start()
        return cap

    yield start
    for cap in started:
        cap.mic.close()
        cap.thread.join(timeout=WAIT_SECONDS)
        assert not cap.thread.is_alive()


def test_devices_are_listed_and_a_missing_one_is_reported(pulse: Pulse) -> None:
    names = [d["name"] for d in list_devices()]
    assert "default" in names
    assert find_device("", "input") is not None
    assert find_device("default", "output") is not None
    assert find_device("no such microphone", "input") is None
    pulse_index = find_device("pulse", "input")
    assert pulse_index is not None
    assert find_device("PULS", "input") == pulse_index  # a case-insensitive name part
    assert find_device(str(pulse_index), "input") == pulse_index  # or the index
    assert Microphone.check(AudioSettings())["max_input_channels"] > 0
    with pytest.raises(AudioError) as err:
        Microphone.check(AudioSettings(input_device="no such microphone"))
    assert "microphone" in err.value.spoken.lower()


def _mapped(fragment: str) -> bool:
    with open("/proc/self/maps", encoding="utf-8") as maps:
        return any(fragment in line for line in maps)


def test_plugins_loaded_to_list_devices_are_unloaded(pulse: Pulse) -> None:
    # PortAudio opens every PCM of ALSA's configuration to list them; libasound2-plugins (which
    # scripts/setup.sh installs) brings the AC-3 encoder and libavcodec with it (11 MB).
    a52 = "alsa-lib/libasound_module_pcm_a52.so"
    assert any(Path(d, a52).exists() for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                                               "/usr/lib64", "/usr/lib"))
    sd._terminate()
    sd._initialize()  # what a re-scan does, without the release
    assert _mapped(a52)
    release_alsa_plugins()
    assert not _mapped(a52) and not _mapped("libavcodec")
    assert rescan_devices()  # the same through the re-scan, and the devices are still there
    assert not _mapped(a52)
    assert find_device("pulse", "input") is not None


@pytest.mark.parametrize("capture_format", [(None, None), (48000, 2)], ids=["16k", "48k-stereo"])
def test_virtual_mic_audio_comes_out_as_16k_mono_frames(
    pulse: Pulse, capture: Callable[..., Capture], tmp_path: Path,
    capture_format: tuple[int | None, int | None],
) -> None:
    rate = 44100
    signal = tone_bursts(rate, BURSTS)
    wav = write_wav(tmp_path / "bursts.wav", np.stack([signal, signal], axis=1), rate, 2)
    rate_hz, channels = capture_format
    cap = capture(lambda on_event: Microphone(
        AudioSettings(), on_event=on_event, capture_rate_hz=rate_hz, capture_channels=channels))
    cap.wait_for(lambda: len(cap.frames) > 10, "the microphone to deliver frames")
    play_into_mic(pulse, wav)
    time.sleep(0.3)
    cap.mic.close()
    cap.thread.join(timeout=WAIT_SECONDS)
    assert {len(f) for f in cap.frames} == {640}  # 20 ms of 16 kHz mono int16
    got = envelope(cap.audio(), 16000)
    want = envelope(signal.astype(np.float64), rate)
    assert aligned_correlation(got, want) > 0.9
    assert cap.events == []


def test_frames_heard_while_deaf_are_dropped_and_one_gap_follows(
    pulse: Pulse, capture: Callable[..., Capture]
) -> None:
    calls = 0

    def deaf() -> bool:  # deaf for frames 50 to 99 as the microphone asks
        nonlocal calls
        calls += 1
        return 50 < calls <= 100

    cap = capture(lambda on_event: Microphone(AudioSettings(), deaf=deaf, on_event=on_event))
    cap.wait_for(lambda: len(cap.frames) >= 120, "120 frames")
    cap.mic.close()
    cap.thread.join(timeout=WAIT_SECONDS)
    gaps = [i for i, f in enumerate(cap.frames) if f == b""]
    assert gaps == [50]  # 50 frames heard, 50 dropped, then one gap marker
    assert calls >= len(cap.frames) - 1 + 50


def test_missing_microphone_is_retried_and_reported_once_when_back(
    capture: Callable[..., Capture], no_sound_server: SoundServerSwitch
) -> None:
    settings = AudioSettings(retry_seconds=0.2)
    cap = capture(lambda on_event: Microphone(settings, on_event=on_event))
    cap.wait_for(lambda: bool(cap.events), "the error event")
    time.sleep(0.6)  # a few retries: still only one error
    assert [name for name, _ in cap.events] == ["error"]
    assert "microphone" in cap.events[0][1]["message"].lower()
    no_sound_server.restore()
    cap.wait_for(lambda: len(cap.events) == 2, "the microphone_back event")
    cap.wait_for(lambda: len(cap.frames) > 5, "frames after the microphone came back")
    assert [name for name, _ in cap.events] == ["error", "microphone_back"]


def test_microphone_that_disappears_mid_stream_comes_back(
    pulse: Pulse, capture: Callable[..., Capture], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    runtime = tmp_path / "pulse2"
    runtime.mkdir()
    second = start_pulse(runtime, low_latency=False)
    try:
        monkeypatch.setenv("PULSE_SERVER", second.server)
        rescan_devices()
        cap = capture(lambda on_event: Microphone(AudioSettings(retry_seconds=0.2),
                                                  on_event=on_event))
        cap.wait_for(lambda: len(cap.frames) > 5, "frames from the second server")
        stop_pulse(second)
        cap.wait_for(lambda: b"" in cap.frames, "the gap when the microphone went away")
        cap.wait_for(lambda: len(cap.events) == 1, "the error event")
        heard = len(cap.frames)
        second = start_pulse(runtime, low_latency=False)
        cap.wait_for(lambda: len(cap.events) == 2, "the microphone_back event")
        cap.wait_for(lambda: len(cap.frames) > heard + 5, "frames after it came back")
        assert [name for name, _ in cap.events] == ["error", "microphone_back"]
        cap.mic.close()
        cap.thread.join(timeout=WAIT_SECONDS)
    finally:
        stop_pulse(second)
        monkeypatch.setenv("PULSE_SERVER", pulse.server)
        rescan_devices()
    assert os.environ["PULSE_SERVER"] == pulse.server


def best_alignment(long: np.ndarray, short: np.ndarray) -> tuple[float, int]:
    """The best cosine similarity of ``short`` slid along ``long``, and the offset it is at."""
    size = 1 << (len(long) + len(short)).bit_length()
    products = np.fft.irfft(np.fft.rfft(long, size) * np.conj(np.fft.rfft(short, size)), size)
    products = products[: len(long) - len(short) + 1]
    energy = np.concatenate([[0.0], np.cumsum(long**2)])
    windows = energy[len(short):] - energy[: len(energy) - len(short)]
    scores = products / np.sqrt(np.maximum(windows, 1e-9) * float(np.sum(short**2)))
    offset = int(np.argmax(scores))
    return float(scores[offset]), offset


def test_wav_frames_and_microphone_frames_agree(
    pulse: Pulse, capture: Callable[..., Capture], tmp_path: Path
) -> None:
    # A WAV file and the microphone feed the same code: the same recording, read from the file
    # and played into the virtual microphone, comes out as the same 16 kHz mono samples.
    rate = 22050
    path = write_wav(tmp_path / "mono.wav", tone_bursts(rate, BURSTS), rate)
    from_file = np.frombuffer(b"".join(read_wav_frames(path)), dtype="<i2").astype(np.float64)
    cap = capture(lambda on_event: Microphone(AudioSettings(), on_event=on_event))
    cap.wait_for(lambda: len(cap.frames) > 10, "the microphone to deliver frames")
    play_into_mic(pulse, path)
    time.sleep(0.3)
    cap.mic.close()
    cap.thread.join(timeout=WAIT_SECONDS)
    assert {len(f) for f in cap.frames} == {640}  # the frames read_wav_frames gives
    heard = cap.audio().astype(np.float64)
    assert len(heard) > len(from_file), "the microphone delivered less than the file holds"
    similarity, offset = best_alignment(heard, from_file)
    assert similarity > 0.9  # sample by sample, not only the loudness envelope
    same_span = heard[offset : offset + len(from_file)]
    level = float(np.sqrt(np.mean(same_span**2)) / np.sqrt(np.mean(from_file**2)))
    assert 0.8 < level < 1.25
    assert cap.events == []
