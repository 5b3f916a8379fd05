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



# Talk that runs into the hard limit (spot_endpointing.TALK_GOES_ON): a faint floor, and a voice
# that talks on past max_utterance_seconds (6 s) with a breath every 100 ms (steady sound, with
# no dips, becomes the room's floor after 3 s), then stops; a peek after it hears "decline".
QUIET = 3.0
TALK = -1.0  # in parts: talk at VOICE_RMS


def talking(ms: int, seed: int, room: float = QUIET) -> list[bytes]:
    frames = sound(ms, VOICE_RMS, seed)
    breath = sound(20, room, seed)[0]
    return [breath if i % 5 == 4 else f for i, f in enumerate(frames)]


def hear(recognizer: Scripted, parts: list[tuple[int, float]],
         room: float = QUIET) -> list[Transcript]:
    listener = SpottingListener(recognizer, SpeechSettings(), growing=set())
    out = []
    for i, (ms, rms) in enumerate(parts):
        for frame in talking(ms, i, room) if rms == TALK else sound(ms, rms, i):
            transcript = listener.feed(frame)
            if transcript is not None:
                out.append(transcript)
    return out


TALKS_ON = [(1000, QUIET), (7000, TALK), (1500, QUIET)]


def test_talk_that_runs_into_the_hard_limit_goes_on_and_is_no_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spot_endpointing, "TALK_GOES_ON", True)
    assert SpeechSettings().max_utterance_seconds < 7.0
    recognizer = Scripted([decline()])
    heard = hear(recognizer, TALKS_ON)
    assert recognizer.asked == 1, "one peek, after the talk"
    assert len(heard) == 2  # cut at the limit, then the rest of the talk
    assert [t.text for t in heard if t.accepted or t.text] == []
    # without it, the rest of the talk is taken for a command
    monkeypatch.setattr(spot_endpointing, "TALK_GOES_ON", False)
    assert [t.text for t in hear(Scripted([decline()]), TALKS_ON) if t.accepted] == [
        "decline the call"]


def test_after_a_pause_the_talk_is_over_and_a_command_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spot_endpointing, "TALK_GOES_ON", True)
    pause = int(spot_endpointing.PAUSE_MS) + 200
    parts = TALKS_ON[:2] + [(pause, QUIET), (800, TALK), (1500, QUIET)]
    recognizer = Scripted([decline(), decline()])
    heard = hear(recognizer, parts)
    assert recognizer.asked == 2
    assert [t.text for t in heard if t.accepted] == ["decline the call"]  # the second one only
    # ... and after a shorter pause it is still the talk going on
    parts[2] = (300, QUIET)
    assert [t.text for t in hear(Scripted([decline(), decline()]), parts) if t.accepted] == []


def test_with_talk_around_the_hard_limit_does_not_mark_talk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The room held the utterance open: the person's command may lie across the cut.
    monkeypatch.setattr(spot_endpointing, "TALK_GOES_ON", True)
    parts = [(3000, ROOM_RMS), (7000, TALK), (1500, ROOM_RMS)]
    recognizer = Scripted([decline()])
    heard = hear(recognizer, parts, room=ROOM_RMS)
    assert len(heard) == 2 and not heard[0].accepted  # cut at the limit, then the rest
    assert heard[1].text == "decline the call" and heard[1].accepted


def test_chatter_that_starts_in_a_quiet_room_does_not_silence_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Colleagues start talking in a quiet room and never pause: their first 6 s are talk that
    # ran into the limit, but what comes after that is the room, and the person's command in it
    # counts (a first version held the rule until a 900 ms pause, which chatter never leaves).
    monkeypatch.setattr(spot_endpointing, "TALK_GOES_ON", True)
    parts = [(3000, QUIET), (16000, TALK), (1500, ROOM_RMS)]  # cut at ~6 s and ~12 s
    recognizer = Scripted([decline()])
    heard = hear(recognizer, parts, room=ROOM_RMS)
    assert len(heard) == 3 and recognizer.asked == 1
    assert [t.accepted for t in heard] == [False, False, True]


def test_a_voice_louder_than_the_talk_is_the_person_over_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spot_endpointing, "TALK_GOES_ON", True)
    louder = VOICE_RMS * 10 ** (10 / 20)  # more than RESTART_ABOVE_DB over the talk
    assert spot_endpointing.RESTART_ABOVE_DB < 10.0
    parts = TALKS_ON[:2] + [(800, louder), (1500, QUIET)]
    assert [t.text for t in hear(Scripted([decline()]), parts) if t.accepted] == [
        "decline the call"]
    parts[2] = (800, TALK)  # as loud as the talk: the talk going on
    assert [t.text for t in hear(Scripted([decline()]), parts) if t.accepted] == []
