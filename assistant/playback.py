"""One output stream that stays open between sounds, fed block by block.

``Player.play`` hands a sound to the stream's callback and waits until it has been played (or
stopped). The callback copies one block (as big as the device asks) at a time and asks
``is_stopped`` before each block, so a stopped sound goes silent within one block. The stream
stays open between sounds, so a ring tone and the name that follows it play back to back; the
voice closes it after a few idle seconds (an open stream keeps device re-scans away,
``audio.stream_opened``).

``PlaybackReport`` says what the device got for a sound: frames in all, frames played, and how
many of them were played after ``mark_stop()`` (at most one block, by construction).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sounddevice as sd

from assistant import audio
from assistant.audio_io import resample

log = logging.getLogger(__name__)

# PortAudio's own block size (0) with latency "low", as measured through PulseAudio's ALSA
# plugin: 64 frames (3 ms) a block, a stopped sound silent at the speaker ~15 ms later. Fixed
# sizes fared worse there: 512 is clean but cuts in ~65 ms; 256 lost the start of a new stream;
# 128, 441, or a latency other than the plugin's own, underrun.
BLOCK_FRAMES = 0
PLAY_MARGIN_SECONDS = 5.0  # longest wait beyond a sound's own length before giving up on it
START_CHECK_SECONDS = 0.005


@dataclass
class PlaybackReport:
    frames: int  # in the sound, at the stream's rate
    played: int = 0  # given to the device
    after_stop: int = 0  # of those, given after mark_stop()
    block_frames: int = 0  # the largest block the device asked for while it played
    stopped: bool = False


@dataclass
class _Sound:
    data: np.ndarray  # int16 at the stream's rate
    is_stopped: Callable[[], bool]
    report: PlaybackReport
    done: threading.Event
    started: threading.Event = field(default_factory=threading.Event)
    position: int = 0
    stop_marked: bool = False


class Player:
    def __init__(self, device: int) -> None:
        self.device = device
        self.rate = 0
        self._stream: sd.RawOutputStream | None = None
        self._lock = threading.Lock()
        self._sound: _Sound | None = None
        self.report: PlaybackReport | None = None  # of the sound playing, else the last one

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def play(self, samples: np.ndarray, rate: int, is_stopped: Callable[[], bool],
             on_start: Callable[[], None] | None = None) -> PlaybackReport:
        """Plays to the end or until ``is_stopped()``; raises ``sd.PortAudioError``.

        ``on_start`` is called (on this thread) once the first block has gone to the device,
        not when the sound is merely queued behind the one still playing.
        """
        if self._stream is None:
            self._open(rate)
        if rate != self.rate:
            samples = resample(samples, rate, out_rate_hz=self.rate)
        sound = _Sound(np.ascontiguousarray(samples, dtype="<i2"), is_stopped,
                       PlaybackReport(len(samples)), threading.Event())
        with self._lock:
            self._sound, self.report = sound, sound.report
        deadline = time.monotonic() + len(samples) / self.rate + PLAY_MARGIN_SECONDS
        if on_start is not None:
            while not sound.started.wait(START_CHECK_SECONDS) and not sound.done.is_set():
                if time.monotonic() > deadline:
                    break
            if sound.started.is_set():
                on_start()
        if not sound.done.wait(max(0.0, deadline - time.monotonic())):
            log.warning("playback did not finish in time; closing the output stream")
            with self._lock:
                self._sound = None
            self.close()
        sound.report.stopped = sound.report.stopped or is_stopped()
        return sound.report

    def mark_stop(self) -> None:
        """From now on, frames of the sound playing count as played after a stop."""
        with self._lock:
            if self._sound is not None:
                self._sound.stop_marked = True

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            audio.close_stream(stream, "output")
        finally:
            with self._lock:
                sound, self._sound = self._sound, None
            if sound is not None:
                sound.done.set()

    def _open(self, rate: int) -> None:
        audio.stream_opened()  # from here on no re-scan may pull PortAudio from under us
        try:
            try:
                sd.check_output_settings(device=self.device, samplerate=rate, channels=1,
                                         dtype="int16")
            except (sd.PortAudioError, ValueError):
                rate = int(sd.query_devices(self.device)["default_samplerate"])
            stream = sd.RawOutputStream(device=self.device, samplerate=rate, channels=1,
                                        dtype="int16", latency="low", blocksize=BLOCK_FRAMES,
                                        callback=self._fill)
            stream.start()
        except BaseException:
            audio.stream_closed()
            raise
        self._stream, self.rate = stream, rate
        log.debug("output stream open at %d Hz", rate)

    def _fill(self, outdata: Any, frames: int, when: Any, status: sd.CallbackFlags) -> None:
        with self._lock:
            sound = self._sound
            if sound is not None and (sound.report.stopped or sound.is_stopped()):
                sound.report.stopped = True
                self._sound = None
                sound.done.set()
                sound = None
            if sound is None:
                outdata[:] = b"\x00" * len(outdata)
                return
            sound.report.block_frames = max(sound.report.block_frames, frames)
            chunk = sound.data[sound.position : sound.position + frames]
            count = len(chunk)
            outdata[: count * 2] = chunk.tobytes()
            outdata[count * 2 :] = b"\x00" * (len(outdata) - count * 2)
            sound.started.set()
            sound.position += count
            sound.report.played += count
            if sound.stop_marked:
                sound.report.after_stop += count
            if sound.position >= len(sound.data):
                self._sound = None
                sound.done.set()
