"""Endpointing while other people talk: end on the person's voice, not on the room's silence.

In a quiet room the plain energy endpointer (``endpointing.Listener``) works. With colleagues
talking, the room is never silent, so an utterance never ended. Here:

- the noise floor follows the room all the time (a low percentile of the last 3 s of frame
  levels), so steady chatter raises it instead of holding an utterance open;
- the person is the loudest voice (closest to the microphone): within an utterance, a frame
  belongs to them when it is within ``FOREGROUND_DB`` of the loudest part so far;
- a louder voice that starts inside an utterance that background talk opened restarts the
  utterance just before it, so the command is not glued to seconds of chatter;
- when the person's voice has been gone for ``PEEK_AFTER_MS``, the recogniser is asked what it
  has (``peek``). A complete, accepted command that cannot grow ("answer on my desk phone",
  "decline") ends the utterance once the voice has been gone ``COMMIT_AFTER_MS``. (A pause
  before the device's name is safe because every word of a command must have been said:
  ``pocketsphinx_spot.WORD_BELOW_DB``.) Anything
  else ("answer": "on my headset" may follow after a pause) waits up to ``PAUSE_MS`` for more.
  ``trailing_silence_ms`` is for the plain endpointer only;
- ``max_utterance_seconds`` stays the hard limit.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Iterable, Iterator
import numpy as np

from assistant.audio_io import SAMPLE_RATE_HZ
from assistant.config import SpeechSettings
from assistant.speech.base import Recognizer, Transcript

log = logging.getLogger(__name__)

FLOOR_WINDOW_FRAMES = 150  # 3 s of 20 ms frames
FLOOR_PERCENTILE = 10
START_ABOVE_FLOOR_DB = 9.0  # speech starts this far above the floor ...
MIN_START_DB = 46.0  # ... and above an absolute level (RMS 200)
START_FRAMES = 2  # for this many frames in a row
FOREGROUND_DB = 12.0  # the person's voice: within this of the utterance's loudest part
RESTART_ABOVE_DB = 8.0  # a voice this much louder than the utterance so far restarts it
PRE_ROLL_FRAMES = 15  # 300 ms kept before the start
SMOOTH_FRAMES = 5  # levels are smoothed over 100 ms
PEEK_AFTER_MS = 200  # the person's voice gone this long: ask the recogniser what it has
# ... and act on a complete command only if the voice stays gone this long. Measured live in
# 12 dB babble with the commit at 200 ms: 1 of 20 "answer on my desk phone" was answered on
# the app, cut short inside the command. Frames queue while the recogniser decodes (about
# 200 ms), so this costs little time.
COMMIT_AFTER_MS = 350
PAUSE_MS = 900  # longest pause inside a command ("answer on my ... headset")


def frame_db(frame: bytes) -> float:
    x = np.frombuffer(frame[: len(frame) // 2 * 2], dtype=np.int16).astype(np.float64)
    return float(10.0 * np.log10(np.mean(x**2) + 1.0)) if len(x) else 0.0


class SpottingListener:
    """Frames in, transcripts out; same contract as ``endpointing.Listener``."""

    def __init__(self, recognizer: Recognizer, settings: SpeechSettings,
                 growing: set[str] | None = None) -> None:
        self.recognizer = recognizer
        self.settings = settings
        language = getattr(getattr(recognizer, "engine", None), "language", None)
        if growing is None:
            growing = _growing_commands(language.sentences()) if language is not None else set()
        self.growing = growing  # commands that are the start of a longer command
        self._levels: collections.deque[float] = collections.deque(maxlen=FLOOR_WINDOW_FRAMES)
        self.reset()

    @property
    def floor_db(self) -> float:
        return float(np.percentile(self._levels, FLOOR_PERCENTILE)) if self._levels else 0.0

    def reset(self) -> None:
        self.recognizer.reset()
        self._recent: collections.deque[tuple[bytes, float]] = collections.deque(
            maxlen=PRE_ROLL_FRAMES)
        self._smooth: collections.deque[float] = collections.deque(maxlen=SMOOTH_FRAMES)
        self._in_speech = False
        self._loud = 0
        self._peak_db = 0.0
        self._speech_ms = 0.0
        self._quiet_ms = 0.0
        self._peeked: Transcript | None = None

    def feed(self, frame: bytes) -> Transcript | None:
        """One frame in; a Transcript when an utterance has ended."""
        if not frame:
            self.reset()
            return None
        ms = len(frame) / 2 / SAMPLE_RATE_HZ * 1000
        level = frame_db(frame)
        self._levels.append(level)
        self._smooth.append(level)
        smooth = float(np.mean(self._smooth))
        if not self._in_speech:
            self._wait_for_start(frame, level, smooth)
            return None
        if smooth > self._peak_db + RESTART_ABOVE_DB:
            self._restart()
        self._peak_db = max(self._peak_db, smooth)
        self.recognizer.accept(frame)
        self._recent.append((frame, level))
        self._speech_ms += ms
        foreground = smooth >= max(self._peak_db - FOREGROUND_DB, self.floor_db + 3.0)
        self._quiet_ms = 0.0 if foreground else self._quiet_ms + ms
        if foreground:
            self._peeked = None
        if self._speech_ms >= self.settings.max_utterance_seconds * 1000:
            return self._finish("maximum length")
        if self._quiet_ms >= PAUSE_MS:
            return self._finish("pause")
        if self._quiet_ms >= PEEK_AFTER_MS and self._peeked is None:
            self._peeked = self._peek()
        if (self._peeked is not None and self._quiet_ms >= COMMIT_AFTER_MS
                and self._peeked.accepted and self._complete(self._peeked)):
            return self._finish("complete command", self._peeked)
        return None

    def _wait_for_start(self, frame: bytes, level: float, smooth: float) -> None:
        self._recent.append((frame, level))
        loud = level >= max(self.floor_db + START_ABOVE_FLOOR_DB, MIN_START_DB)
        self._loud = self._loud + 1 if loud else 0
        if self._loud < START_FRAMES:
            return
        self._in_speech = True
        self._peak_db = smooth
        for pre, _ in self._recent:
            self.recognizer.accept(pre)
        self._speech_ms = len(self._recent) * 20.0

    def _restart(self) -> None:
        """A louder voice started: drop what came before it (but the pre-roll)."""
        log.debug("louder voice: utterance restarted")
        self.recognizer.reset()
        for pre, _ in self._recent:
            self.recognizer.accept(pre)
        self._speech_ms = len(self._recent) * 20.0
        self._peeked = None

    def _peek(self) -> Transcript:
        peek = getattr(self.recognizer, "peek", None)
        return peek() if peek is not None else Transcript("", False, None, None, 0.0, 0.0)

    def _complete(self, transcript: Transcript) -> bool:
        return transcript.command is not None and transcript.text not in self.growing

    def _finish(self, why: str, transcript: Transcript | None = None) -> Transcript:
        log.debug("utterance ended: %s", why)
        if transcript is None:
            transcript = self._peeked if self._peeked is not None else self.recognizer.final()
        self.reset()
        return transcript

    def flush(self) -> Transcript | None:
        """End of input: the utterance in progress, if any."""
        return self._finish("end of input") if self._in_speech else None

    def listen(self, frames: Iterable[bytes]) -> Iterator[Transcript]:
        from assistant.speech.endpointing import listen

        return listen(self, frames)


def _growing_commands(sentences: Iterable[str]) -> set[str]:
    """Commands that are a word-prefix of a longer command ("answer", "answer the call")."""
    complete = set(sentences)
    out: set[str] = set()
    for sentence in complete:
        words = sentence.split()
        out.update(" ".join(words[:i]) for i in range(1, len(words)) if " ".join(words[:i]) in complete)
    return out
