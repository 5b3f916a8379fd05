"""The spotting endpointer keeps the last complete command it heard in a noisy room when the
whole utterance is then rejected (``spot_endpointing.KEEP_LAST_COMPLETE``).

The recogniser is scripted, so what is tested is the endpointer alone, frame by frame: a room
of steady talk, the person 12 dB above it, a peek that hears a complete command, the room's
voices "bringing the voice back" before the commit, and the whole utterance rejected at the
end. Real PocketSphinx in babble is measured by bench/commit_replay.py (figures in the module).
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant.config import SpeechSettings
from assistant.intents import Command, Intent
from assistant.speech import spot_endpointing
from assistant.speech.base import Recognizer, Transcript
from assistant.speech.spot_endpointing import SpottingListener

FRAME = 320  # samples: 20 ms
ROOM_RMS = 300.0  # steady talk in the room
VOICE_RMS = ROOM_RMS * 10 ** (12 / 20)  # the person, 12 dB above it


class Scripted(Recognizer):
    """Peeks answer from a script, in order; the whole utterance is always rejected."""

    def __init__(self, peeks: list[Transcript]) -> None:
        self.peeks = list(peeks)
        self.asked = 0

    def accept(self, frame: bytes) -> None:
        pass

    def partial(self) -> str:
        return ""

    def reset(self) -> None:
        pass

    def peek(self, pad: bytes = b"") -> Transcript:
        self.asked += 1
        return self.peeks.pop(0) if self.peeks else rejected()

    def final(self) -> Transcript:
        return rejected()


def rejected() -> Transcript:
    return Transcript("", False, None, 0.01, 0.0, 0.0)


def decline() -> Transcript:
    return Transcript("decline the call", True, Command(Intent.DECLINE, None, "decline the call"),
                      0.9, 0.0, 0.0, details={"last_word_rate": 12.0})


def sound(ms: int, rms: float, seed: int) -> list[bytes]:
    """``ms`` of noise at ``rms``, as 20 ms frames."""
    x = np.random.default_rng(seed).normal(0.0, rms, ms * 16)
    pcm = np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()
    return [pcm[i : i + 2 * FRAME] for i in range(0, len(pcm), 2 * FRAME)]


def run(recognizer: Scripted, parts: list[tuple[int, float]]) -> list[Transcript]:
    listener = SpottingListener(recognizer, SpeechSettings(), growing=set())
    out = []
    for i, (ms, rms) in enumerate(parts):
        for frame in sound(ms, rms, i):
            transcript = listener.feed(frame)
            if transcript is not None:
                out.append(transcript)
    return out


# the room, the person, a dip long enough to peek, the voice back (a talker in the room, as loud
# as the person) before the commit wait is over, then the room until the utterance ends
VOICE_COMES_BACK = [(3000, ROOM_RMS), (1000, VOICE_RMS), (300, ROOM_RMS), (200, VOICE_RMS),
                    (1500, ROOM_RMS)]


def test_in_a_noisy_room_the_last_complete_command_decides_when_the_whole_is_rejected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spot_endpointing, "KEEP_LAST_COMPLETE", True)
    recognizer = Scripted([decline()])
    heard = run(recognizer, VOICE_COMES_BACK)
    assert recognizer.asked >= 2, "the voice never came back inside the commit wait"
    assert [t.text for t in heard if t.accepted] == ["decline the call"]
    # without it, the same stream ends rejected: nothing is acted on
    monkeypatch.setattr(spot_endpointing, "KEEP_LAST_COMPLETE", False)
    assert [t.text for t in run(Scripted([decline()]), VOICE_COMES_BACK) if t.accepted] == []


def test_a_command_heard_before_a_louder_voice_is_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What a peek heard before the person spoke was the room: the person is the loudest voice.
    monkeypatch.setattr(spot_endpointing, "KEEP_LAST_COMPLETE", True)
    louder = VOICE_RMS * 10 ** (5 / 20)  # 5 dB louder: more than KEEP_UNLESS_LOUDER_DB, less
    parts = [(3000, ROOM_RMS), (1000, VOICE_RMS), (300, ROOM_RMS), (400, louder),  # than a restart
             (1500, ROOM_RMS)]
    assert spot_endpointing.KEEP_UNLESS_LOUDER_DB < 5.0 < spot_endpointing.RESTART_ABOVE_DB
    recognizer = Scripted([decline()])
    assert [t.text for t in run(recognizer, parts) if t.accepted] == []
    assert recognizer.asked >= 2


def test_in_a_quiet_room_a_voice_that_comes_back_is_the_person_going_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # "decline the call ... no, answer it": with the room quiet, nothing heard before the voice
    # came back is kept.
    monkeypatch.setattr(spot_endpointing, "KEEP_LAST_COMPLETE", True)
    quiet = 3.0  # a faint floor, 40 dB and more under the voice
    parts = [(3000, quiet), (1000, VOICE_RMS), (100, quiet), (600, VOICE_RMS), (1500, quiet)]
    recognizer = Scripted([decline()])
    assert [t.text for t in run(recognizer, parts) if t.accepted] == []
    assert recognizer.asked >= 2, "no peek in the breath: the test tests nothing"
