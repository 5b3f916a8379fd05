"""Fixtures for the audio tests: a private PulseAudio daemon with a virtual mic and speaker.

``pulse`` (session scope) starts ``pulseaudio`` with two null sinks: ``vmic`` (what is played
into it is what the microphone hears, through the default source ``vmic.monitor``) and ``vspk``
(the default sink: what the assistant says; record it from ``vspk.monitor``). The test process's
environment points at it (``PULSE_SERVER``, ``XDG_RUNTIME_DIR``); ``pulse.env`` is the same for
subprocesses. sounddevice then sees it through ALSA's ``pulse``/``default`` devices, after
``rescan_devices()`` re-initialises PortAudio. Two readers keep the null sinks at low latency
(``keep_latency_low``, started by ``start_pulse``), so playback and capture start and end like on
a real device. ``start_pulse``/``stop_pulse`` serve scripts too (bench/).

Helpers: ``play_into_mic(pulse, wav)``, ``record_speaker(pulse)`` (``wait_for_quiet`` inside it),
``wait_for_quiet_speaker(pulse)``, ``loopback(pulse)``; WAV files
are read and written with ``assistant.audio_io``'s ``read_wav``/``write_wav`` (re-exported here).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import rescan_devices
from assistant.audio_io import read_wav as read_wav  # re-exported for the tests and bench/
from assistant.audio_io import write_wav

START_TIMEOUT_SECONDS = 10.0
SPEAKER_RATE_HZ = 22050  # record_speaker's recordings


@dataclass
class Pulse:
    runtime_dir: Path
    server: str
    pid: int
    env: dict[str, str] = field(default_factory=dict)  # for subprocesses
    readers: list[subprocess.Popen[bytes]] = field(default_factory=list)  # keep_latency_low

    def pactl(self, *args: str) -> str:
        done = subprocess.run(
            ["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout.strip()


def start_pulse(runtime_dir: Path, low_latency: bool = True) -> Pulse:
    """A private PulseAudio daemon in ``runtime_dir`` (a fresh, 0700 directory).

    ``low_latency`` (default) makes the null sinks behave like real devices (``keep_latency_low``,
    ~2 s once at start); without it playback ends ~2 s late and a capture starts ~2 s late.
    """
    runtime_dir.chmod(0o700)
    server = f"unix:{runtime_dir}/pulse/native"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir), "PULSE_SERVER": server}
    subprocess.run(
        [
            "pulseaudio", "-D", "-n", "--exit-idle-time=-1", "--log-target=stderr",
            "--load=module-native-protocol-unix",
            "--load=module-null-sink sink_name=vmic",
            "--load=module-null-sink sink_name=vspk",
        ],
        env=env, check=True, timeout=START_TIMEOUT_SECONDS,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,  # root: "not intended" warning
    )
    pid = int((runtime_dir / "pulse" / "pid").read_text().split()[0])
    pulse = Pulse(runtime_dir, server, pid, env)
    pulse.pactl("set-default-source", "vmic.monitor")
    pulse.pactl("set-default-sink", "vspk")
    if low_latency:
        pulse.readers = keep_latency_low(pulse)
    return pulse


def stop_pulse(pulse: Pulse) -> None:
    for reader in pulse.readers:
        reader.terminate()
        reader.wait(timeout=START_TIMEOUT_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pulse.pid, signal.SIGTERM)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            os.kill(pulse.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pulse.pid, signal.SIGKILL)


def keep_latency_low(pulse: Pulse) -> list[subprocess.Popen[bytes]]:
    """Makes the null sinks behave like real devices: low latency from the start.

    A null sink nobody listens to runs at 2 s latency: playback ends ~2 s late and a new
    capture waits ~2 s for its first audio. A low-latency reader on each monitor (discarding
    what it reads) fixes that once the sink's current 2 s block has passed, which is waited for.
    """
    readers = [
        subprocess.Popen(
            ["pacat", "--record", "--raw", f"--device={sink}.monitor", "--latency-msec=30",
             "/dev/null"],
            env=pulse.env,
        )
        for sink in ("vspk", "vmic")
    ]
    silence = write_wav(pulse.runtime_dir / "silence.wav", np.zeros(800, np.int16), 16000)
    players = [
        subprocess.Popen(["paplay", f"--device={sink}", str(silence)], env=pulse.env)
        for sink in ("vspk", "vmic")
    ]
    for player in players:
        player.wait(timeout=START_TIMEOUT_SECONDS)
    return readers


@pytest.fixture(scope="session")
def pulse() -> Iterator[Pulse]:
    runtime_dir = Path(tempfile.mkdtemp(prefix="pulse-test-"))
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    server = start_pulse(runtime_dir)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)
    os.environ["PULSE_SERVER"] = server.server
    rescan_devices()
    try:
        yield server
    finally:
        stop_pulse(server)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        rescan_devices()
        shutil.rmtree(runtime_dir, ignore_errors=True)


def play_into_mic(pulse: Pulse, wav_path: str | Path) -> None:
    """Plays a WAV into the virtual microphone; returns when it has been played."""
    subprocess.run(["paplay", "--device=vmic", str(wav_path)], env=pulse.env, check=True,
                   timeout=120)


@contextlib.contextmanager
def play_into_mic_async(pulse: Pulse, wav_path: str | Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["paplay", "--device=vmic", str(wav_path)], env=pulse.env)
    try:
        yield proc
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=120)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def record_speaker(pulse: Pulse, path: str | Path | None = None) -> Iterator[Path]:
    """Records the virtual speaker to a WAV (16-bit mono 22050 Hz) while the block runs.

    Recording has really started when the block begins; the WAV is complete after it.
    """
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="speaker-")) / "speaker.wav"
    path = Path(path)
    raw = path.with_suffix(".raw")
    rate = SPEAKER_RATE_HZ
    proc = subprocess.Popen(
        ["parecord", "--device=vspk.monitor", "--raw", "--format=s16le", f"--rate={rate}",
         "--channels=1", "--latency-msec=20", str(raw)],
        env=pulse.env,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while (not raw.exists() or raw.stat().st_size < 2048) and time.monotonic() < deadline:
            time.sleep(0.02)
        yield path
        time.sleep(0.3)  # let the tail of what was played reach the monitor
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    data = raw.read_bytes() if raw.exists() else b""
    write_wav(path, data[: len(data) - len(data) % 2], rate)


def wait_for_quiet(recording: Path, seconds: float = 1.0, timeout: float = 15.0,
                   threshold: float = 100.0) -> bool:
    """Inside ``record_speaker``: waits until the last ``seconds`` of the recording so far are
    silent (every 20 ms window under ``threshold`` RMS), at most ``timeout``; False if never.

    An event says when the assistant handed a sound to the device; on a loaded machine the sound
    server can take longer than a fixed sleep to play it out, so a test waits for the silence."""
    raw, rate = Path(recording).with_suffix(".raw"), SPEAKER_RATE_HZ  # the raw stream
    need = int(rate * seconds) * 2
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = raw.stat().st_size if raw.exists() else 0
        if size >= need:
            with open(raw, "rb") as stream:
                stream.seek(size - size % 2 - need)
                tail = np.frombuffer(stream.read(need), dtype=np.int16)
            if len(tail) and envelope(tail, rate).max() < threshold:
                return True
        time.sleep(0.05)
    return False


def wait_for_quiet_speaker(pulse: Pulse, seconds: float = 0.5, timeout: float = 15.0) -> bool:
    """Waits until nothing has come out of the virtual speaker for ``seconds`` (what is still on
    its way through the sound server has been played out)."""
    with record_speaker(pulse) as recording:
        return wait_for_quiet(recording, seconds, timeout)


@contextlib.contextmanager
def loopback(pulse: Pulse, latency_msec: int = 20) -> Iterator[str]:
    """The speaker leaks into the microphone (module-loopback) while the block runs."""
    index = pulse.pactl(
        "load-module", "module-loopback", "source=vspk.monitor", "sink=vmic",
        f"latency_msec={latency_msec}",
    )
    try:
        yield index
    finally:
        pulse.pactl("unload-module", index)


def envelope(samples: np.ndarray, rate: int, window_ms: int = 20) -> np.ndarray:
    """RMS per window."""
    size = rate * window_ms // 1000
    usable = len(samples) - len(samples) % size
    blocks = samples[:usable].astype(np.float64).reshape(-1, size)
    return np.sqrt((blocks**2).mean(axis=1))


def voiced_span_seconds(samples: np.ndarray, rate: int, threshold: float = 300.0) -> float:
    """Seconds from the first to the last 20 ms window louder than ``threshold`` RMS."""
    loud = np.nonzero(envelope(samples, rate) > threshold)[0]
    return 0.0 if len(loud) == 0 else (loud[-1] - loud[0] + 1) * 0.020


def voiced_seconds(samples: np.ndarray, rate: int, threshold: float = 300.0) -> float:
    """Seconds of 20 ms windows louder than ``threshold`` RMS. Unlike the span, silence that a
    loaded machine inserts into playback (an underrun) does not count: what was heard, not when."""
    return float(np.count_nonzero(envelope(samples, rate) > threshold)) * 0.020


class SoundServerSwitch:
    """Hides the sound server from this process (no devices at all) until ``restore()``."""

    def __init__(self, pulse: Pulse) -> None:
        self.pulse = pulse

    def hide(self) -> None:
        os.environ["PULSE_SERVER"] = "unix:/nonexistent/pulse/native"
        rescan_devices()

    def restore(self) -> None:
        """The server is back; PortAudio finds it at the next re-scan (the code under test's)."""
        os.environ["PULSE_SERVER"] = self.pulse.server


@pytest.fixture
def no_sound_server(pulse: Pulse) -> Iterator[SoundServerSwitch]:
    switch = SoundServerSwitch(pulse)
    switch.hide()
    try:
        yield switch
    finally:
        switch.restore()
        rescan_devices()
