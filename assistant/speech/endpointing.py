"""Endpointing: energy VAD, trailing silence, early commit on a stable complete command.

PyPI vosk 0.3.45 has no ``SetEndpointerDelays``, so utterance ends are found here:

- a frame is speech when its RMS energy is well above an adaptive noise floor;
- an utterance starts at the first speech frame (a little audio before it is kept);
- it ends after ``trailing_silence_ms`` of non-speech, or ``max_utterance_seconds``;
- early commit: when the recogniser's partial text is a complete command that is not the
  prefix of a longer one ("answer" could become "answer on my headset"), unchanged for
  ``stable_partial_frames`` frames, and the speaker has paused (``PAUSE_MS``), the utterance
  ends at once instead of after the whole trailing silence. (PocketSphinx has no partials,
  so only trailing silence ends its utterances.)
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np

from assistant.audio_io import SAMPLE_RATE_HZ
from assistant.config import SpeechSettings
from assistant.speech.base import Recognizer, Transcript

if TYPE_CHECKING:
    from assistant.speech.spot_endpointing import SpottingListener

log = logging.getLogger(__name__)

PRE_ROLL_FRAMES = 10
SPEECH_FACTOR = 3.0  # speech: RMS above 3× the noise floor
MIN_SPEECH_RMS = 200.0
PAUSE_MS = 60  # early commit needs at least this pause after a stable, complete command


def frame_rms(frame: bytes) -> float:
    x = np.frombuffer(frame[: len(frame) // 2 * 2], dtype=np.int16).astype(np.float64)
    return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0


class Listener:
    def __init__(self, recognizer: Recognizer, settings: SpeechSettings,
                 prefixes: set[str] | None = None) -> None:
        self.recognizer = recognizer
        self.settings = settings
        if prefixes is None:
            language = getattr(getattr(recognizer, "engine", None), "language", None)
            prefixes = command_prefixes(language.sentences()) if language is not None else set()
        self.prefixes = prefixes  # texts that are the start of a longer utterance
        self.noise_floor = 100.0
        self.reset()

    @property
    def hearing(self) -> bool:
        """An utterance is under way: speech is being heard."""
        return self._in_speech

    def reset(self) -> None:
        self.recognizer.reset()
        self._pre: collections.deque[bytes] = collections.deque(maxlen=PRE_ROLL_FRAMES)
        self._in_speech = False
        self._silence_ms = 0.0
        self._speech_ms = 0.0
        self._last_partial = ""
        self._stable = 0

    def feed(self, frame: bytes) -> Transcript | None:
        """One frame in; a Transcript when an utterance has ended."""
        if not frame:
            self.reset()
            return None
        ms = len(frame) / 2 / SAMPLE_RATE_HZ * 1000
        rms = frame_rms(frame)
        speech = rms > max(MIN_SPEECH_RMS, SPEECH_FACTOR * self.noise_floor)
        if not self._in_speech:
            if not speech:
                self.noise_floor = 0.95 * self.noise_floor + 0.05 * rms
                self._pre.append(frame)
                return None
            self._in_speech = True
            for pre in self._pre:
                self.recognizer.accept(pre)
            self._pre.clear()
        self.recognizer.accept(frame)
        self._speech_ms += ms
        self._silence_ms = 0.0 if speech else self._silence_ms + ms
        if self._silence_ms >= self.settings.trailing_silence_ms:
            return self._finish("trailing silence")
        if self._speech_ms >= self.settings.max_utterance_seconds * 1000:
            return self._finish("maximum length")
        if self._silence_ms >= PAUSE_MS and self._stable_command():
            return self._finish("stable partial")
        return None

    def _stable_command(self) -> bool:
        partial = self.recognizer.partial()
        if partial and partial == self._last_partial:
            self._stable += 1
        else:
            self._stable = 0
        self._last_partial = partial
        if self._stable < self.settings.stable_partial_frames or not partial:
            return False
        language = getattr(getattr(self.recognizer, "engine", None), "language", None)
        if language is None or language.parse(partial) is None:
            return False
        return partial not in self.prefixes

    def _finish(self, why: str) -> Transcript:
        log.debug("utterance ended: %s", why)
        transcript = self.recognizer.final()
        self.reset()
        return transcript

    def flush(self) -> Transcript | None:
        """End of input: the utterance in progress, if any."""
        if not self._in_speech:
            return None
        return self._finish("end of input")

    def listen(self, frames: Iterable[bytes]) -> Iterator[Transcript]:
        return listen(self, frames)


class Endpointer(Protocol):
    def feed(self, frame: bytes) -> Transcript | None: ...
    def flush(self) -> Transcript | None: ...


def listen(endpointer: Endpointer, frames: Iterable[bytes]) -> Iterator[Transcript]:
    """Every transcript of a stream of frames, the unfinished last utterance included."""
    for frame in frames:
        transcript = endpointer.feed(frame)
        if transcript is not None:
            yield transcript
    last = endpointer.flush()
    if last is not None:
        yield last


def command_prefixes(sentences: Iterable[str]) -> set[str]:
    """Every proper word-prefix of the sentences: partials that may still grow."""
    out: set[str] = set()
    for sentence in sentences:
        words = sentence.split()
        for i in range(1, len(words)):
            out.add(" ".join(words[:i]))
    return out


def new_listener(recognizer: Recognizer, settings: SpeechSettings) -> Listener | SpottingListener:
    """The endpointer that suits the recogniser: one that spots commands inside talk gets the
    endpointer that ends on the person's voice (``spot_endpointing``)."""
    if hasattr(recognizer, "peek"):
        from assistant.speech.spot_endpointing import SpottingListener

        return SpottingListener(recognizer, settings)
    return Listener(recognizer, settings)
