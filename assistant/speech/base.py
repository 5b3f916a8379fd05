"""The engine contract: a ``SpeechEngine`` makes one streaming ``Recognizer`` per thread.

Recognisers take 16 kHz mono int16 frames (``assistant.audio_io`` converts anything
else), give partial text while speech goes on, and a ``Transcript`` at the end of an utterance.
A transcript is ``accepted`` only when the recogniser is confident the audio was said from the
command language *and* the text parses with ``CommandLanguage`` (the grammar of either engine
is never trusted on its own).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from assistant.audio_io import FRAME_BYTES, duration_ms, frames, read_wav_16k
from assistant.intents import Command, CommandLanguage


@dataclass
class Transcript:
    text: str  # what the recogniser heard ("" for nothing)
    accepted: bool  # False: not a command (rejected), whatever the text says
    command: Command | None  # set when accepted and the text is a command
    confidence: float | None  # 0..1 where the engine has one
    decode_ms: float  # processing time spent on this utterance
    audio_ms: float  # length of the audio fed
    device_only: str | None = None  # accepted bare device answer ("the desk phone")
    details: dict[str, float] | None = None  # the engine's measurements (gate features, scores)
    # A peek that found a command unfinished: the words said before it stopped ("answer on my")
    unfinished: str = ""
    # A command begun and left unfinished: no device came within the time a hesitation is given
    # (spot_endpointing.JOIN_WITHIN_MS), and this transcript ends the wait ("answer on my").
    left_unfinished: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "intent": self.command.intent.value if self.command else None,
            "device": self.command.device if self.command else self.device_only,
            "accepted": self.accepted,
            "confidence": self.confidence,
            "decode_ms": round(self.decode_ms, 1),
            "audio_ms": round(self.audio_ms, 1),
        }


class Recognizer:
    """One utterance at a time; not thread-safe (make one per thread)."""

    def accept(self, frame: bytes) -> None:
        raise NotImplementedError

    def partial(self) -> str:
        raise NotImplementedError

    def final(self) -> Transcript:
        """Ends the utterance, returns its transcript and resets for the next one."""
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        """Between utterances: give back the memory the last decode held (default: nothing)."""


class SpeechEngine:
    """A loaded model + grammar; cheap to ask for recognisers."""

    name: str = ""

    def __init__(self, language: CommandLanguage) -> None:
        self.language = language

    def recognizer(self) -> Recognizer:
        raise NotImplementedError

    def missing_words(self, words: Iterable[str]) -> list[str]:
        """The words this engine cannot hear (not in its vocabulary, no pronunciation)."""
        raise NotImplementedError

    def transcribe_pcm(self, pcm: bytes) -> Transcript:
        rec = self.recognizer()
        for frame in frames(pcm, FRAME_BYTES * 10):
            rec.accept(frame)
        return rec.final()

    def transcribe_file(self, path: str | Path) -> Transcript:
        """A whole WAV file (any rate/channels); SpeechError when unreadable or empty."""
        return self.transcribe_pcm(read_wav_16k(path))


def judge(
    language: CommandLanguage, text: str, confident: bool
) -> tuple[bool, Command | None, str | None]:
    """(accepted, command, device_only) for a transcript: the template language has the last word
    (after the person's own words around the command are dropped, ``Carriers.strip``)."""
    text = language.carriers.strip(text) if text else text
    command = language.parse(text) if text else None
    device_only = None if command or not text else language.parse_device_only(text)
    accepted = confident and (command is not None or device_only is not None)
    return accepted, command if accepted else None, device_only if accepted else None


class Stopwatch:
    """Accumulates processing time of one utterance."""

    def __init__(self) -> None:
        self.ms = 0.0
        self._t = 0.0

    def __enter__(self) -> Self:
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ms += (time.perf_counter() - self._t) * 1000


__all__ = ["Recognizer", "SpeechEngine", "Stopwatch", "Transcript", "duration_ms", "judge"]
