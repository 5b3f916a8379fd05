"""When the spotting endpointer acts on a command (real PocketSphinx on synthesized speech).

Everything is counted in audio fed, never in wall time: the recogniser's peek starts early, so
its decode overlaps the wait for the person's voice to stay gone; a pause inside a command must
still not end it; and in a quiet room a peek taken before the voice came back is never acted
on (with talk around, see tests/test_spot_keep.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import speech_corpus as corpus
from fixtures_speech import DEVICE_PHRASES, synthesize

from assistant.config import Recognition, SpeechSettings
from assistant.intents import CommandLanguage
from assistant.speech import spot_endpointing
from assistant.speech.base import Transcript
from assistant.speech.pocketsphinx import PocketSphinxEngine
from assistant.speech.spot_endpointing import SpottingListener

FRAME_BYTES = 640  # 20 ms


@pytest.fixture(scope="module")
def spotting_engine() -> PocketSphinxEngine:
    return PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES),
                              recognition=Recognition.SPOT)


def quiet_room(speech: bytes, before_ms: int = 1000, after_ms: int = 1500) -> bytes:
    """``speech`` in a quiet room (a faint noise floor around it)."""
    return corpus.mix(speech, bytes(32 * (before_ms + len(speech) // 32 + after_ms)), None,
                      before_ms)


class Run:
    """Feeds a stream to a listener frame by frame; records every peek and every result."""

    def __init__(self, engine: PocketSphinxEngine, pcm: bytes) -> None:
        self.listener = SpottingListener(engine.recognizer(), SpeechSettings())
        self.peeks: list[dict[str, Any]] = []  # quiet_ms when taken, frame, transcript
        self.results: list[tuple[int, Transcript]] = []  # (frame, transcript)
        self.voice_frames: list[int] = []  # frames in which the person's voice was heard
        recognizer = self.listener.recognizer
        peek: Callable[..., Transcript] = recognizer.peek  # type: ignore[attr-defined]
        frame = 0

        def recorded(*args: Any) -> Transcript:
            transcript = peek(*args)
            self.peeks.append({"quiet_ms": self.listener._quiet_ms, "frame": frame,
                               "transcript": transcript})
            return transcript

        recognizer.peek = recorded  # type: ignore[attr-defined]
        for frame, i in enumerate(range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)):
            transcript = self.listener.feed(pcm[i : i + FRAME_BYTES])
            if self.listener._in_speech and self.listener._quiet_ms == 0:
                self.voice_frames.append(frame)
            if transcript is not None:
                self.results.append((frame, transcript))
        last = self.listener.flush()
        if last is not None:
            self.results.append((frame, last))

    def accepted(self) -> list[tuple[int, Transcript]]:
        return [(f, t) for f, t in self.results if t.accepted]


def voiced(pcm: bytes) -> bytes:
    """``pcm`` without the silence the synthesizer put around it."""
    x = np.frombuffer(pcm, np.int16).astype(np.float64)
    n = len(x) // 160
    energy = np.sqrt((x[: n * 160].reshape(n, 160) ** 2).mean(axis=1))
    loud = np.nonzero(energy > energy.max() * 0.05)[0]
    return pcm[int(loud[0]) * 320 : (int(loud[-1]) + 1) * 320]


def intent_device(t: Transcript) -> tuple[str, str | None] | None:
    return (t.command.intent.value, t.command.device) if t.command else None


def test_a_complete_command_is_decoded_while_the_commit_waits(
    spotting_engine: PocketSphinxEngine,
) -> None:
    # Before: the recogniser was first asked after the voice had been gone 200 ms, so the
    # command was acted on after max(350 ms, 200 ms + decode). Now the decode starts at 100 ms.
    run = Run(spotting_engine, quiet_room(synthesize("answer on my desk phone", "en-us", 160)))
    (frame, transcript), = run.accepted()
    assert intent_device(transcript) == ("answer", "desk phone")
    used = [p for p in run.peeks if p["transcript"] is transcript]
    assert used, "the command was acted on without a peek"
    assert used[0]["quiet_ms"] <= spot_endpointing.PEEK_AFTER_MS < 200
    # ... and nothing else was decoded between that peek and the commit, which came as soon as
    # the voice had been gone COMMIT_AFTER_MS
    assert used[0] is run.peeks[-1]
    quiet_at_commit = (frame - run.voice_frames[-1]) * 20
    assert quiet_at_commit <= spot_endpointing.COMMIT_AFTER_QUIET_MS + 20
    assert spot_endpointing.COMMIT_AFTER_QUIET_MS < spot_endpointing.COMMIT_AFTER_MS


@pytest.mark.parametrize(("said", "heard"), [
    ("answer on my", None),
    ("answer on my desk", None),  # "desk phone" not said to the end
    ("send the call", None),  # not "end the call"
    ("answer on my desk phone", ("answer", "desk phone")),
    ("send the call to voicemail", ("voicemail", None)),
])
def test_a_peek_hears_whether_the_command_is_finished(
    spotting_engine: PocketSphinxEngine, said: str, heard: tuple[str, str | None] | None,
) -> None:
    # Peeked in a pause, the plain grammar must end on a whole command, so it fitted the pause
    # with the command or device it resembled most ("answer on my" + quiet: "answer on my app").
    recognizer = spotting_engine.recognizer()
    recognizer.accept(quiet_room(voiced(synthesize(said, "en-us", 160)), 300, 60))
    transcript = recognizer.peek(bytes(32 * 140))  # type: ignore[attr-defined]
    if heard is None:
        assert (transcript.details or {}).get("unfinished") == 1.0, transcript
        assert not transcript.accepted
    else:
        assert transcript.accepted and intent_device(transcript) == heard, transcript
        assert not (transcript.details or {}).get("unfinished")
    # the final decision is the plain grammar's: nothing in it is ever "unfinished"
    recognizer.accept(quiet_room(voiced(synthesize(said, "en-us", 160)), 300, 60))
    assert not (recognizer.final().details or {}).get("unfinished")


@pytest.mark.parametrize(("speaker_id", "first", "pause_ms", "second", "device"), [
    ("espeak:en-us+f2:p37:s141:g1", "answer on my", 300, "desk phone", "desk phone"),
    ("flite:slt:f0:d1", "answer on my", 500, "headset", "headset"),
    # in bench/commit_replay.py acted on in the pause as "answer on the app" ("app" 4.5 frames
    # per phone), "answer the call on my app" (then taken as the end when the pause ran on)
    # and "pick up on app" (the "app" 45 dB under the loudest word: the pause itself)
    ("espeak:en-us+m7:p51:s163:g3", "answer on the", 300, "reception phone", "reception phone"),
    ("flite:rms:f0:d1", "answer the call on my", 700, "headset", "headset"),
    ("flite:kal:f0:d1", "pick up on the", 450, "webex app", "webex app"),
    # with a commit after 200 ms and no "unfinished" in the peek's grammar: "answer on my
    # headset" in the pause, and "answer on my headset" in the dip inside "desk phone"
    ("espeak:en-us+f2:p37:s141:g1", "answer on my desk", 250, "phone", "desk phone"),
    ("espeak:en-gb-x-rp+m2:p41:s153:g1", "please answer on my", 350, "lobby phone",
     "lobby phone"),
    # "send the call" fitted as "end the call" (bench/commit_replay.py --stress, espeak en-us+f4)
    ("espeak:en-us+f4:p32:s136:g0", "send the call", 300, "to voicemail", None),
])
def test_a_pause_inside_a_command_does_not_end_it_early(
    spotting_engine: PocketSphinxEngine, speaker_id: str, first: str, pause_ms: int,
    second: str, device: str | None,
) -> None:
    # Cut at the pause, the first of these decoded as "answer on my app" ("app" squeezed into
    # the last 60 ms): acting on it answered on the wrong device.
    speaker = next(s for s in corpus.speakers() if s.id == speaker_id)
    head = corpus.synthesize(speaker, first)
    speech = head + bytes(32 * pause_ms) + corpus.synthesize(speaker, second)
    run = Run(spotting_engine, quiet_room(speech))
    second_starts = (1000 * 32 + len(head) + 32 * pause_ms) // FRAME_BYTES
    assert [f for f, _ in run.accepted() if f < second_starts] == []
    expected = ("answer", device) if device else ("voicemail", None)
    assert [intent_device(t) for _, t in run.accepted()] == [expected]


BREATH_MS = 100  # shorter than the commit wait in a quiet room, with the voice's decay


def test_a_peek_taken_before_the_voice_came_back_is_never_used(
    spotting_engine: PocketSphinxEngine,
) -> None:
    # "decline the call", a breath, then more words: the peek in the breath heard a complete
    # command, but the voice came back before it could be acted on. (What the whole is taken
    # for is the recogniser's business; here: "decline the call" again, from a new peek.)
    first = voiced(synthesize("decline the call", "en-us", 160))
    second = voiced(synthesize("answer on my headset", "en-us", 160))
    run = Run(spotting_engine, quiet_room(first + bytes(32 * BREATH_MS) + second))
    assert any(p["transcript"].accepted and p["transcript"].text == "decline the call"
               for p in run.peeks), "no peek in the breath: the test tests nothing"
    for frame, transcript in run.results:
        made = [p["frame"] for p in run.peeks if p["transcript"] is transcript]
        if made:  # a peek was returned: the voice was not heard between it and the result
            assert not [v for v in run.voice_frames if made[0] < v <= frame], transcript.text
    # and nothing was acted on before the second command was over
    second_ends = (1000 * 32 + len(first) + 32 * BREATH_MS + len(second)) // FRAME_BYTES
    assert [f for f, _ in run.results if f < second_ends] == []


def test_with_talk_around_the_peek_waits_longer(spotting_engine: PocketSphinxEngine) -> None:
    # Babble has many short dips; peeking at each of them live kept the CPU so busy that the
    # listener fell seconds behind. With talk around, the recogniser is asked after 200 ms.
    speaker = next(s for s in corpus.speakers() if s.id == "flite:slt:f0:d1")
    speech = corpus.synthesize(speaker, "decline the call")
    total_ms = 1500 + len(speech) // 32 + 1500
    pcm = corpus.mix(speech, corpus.babble(total_ms, 4, 3, speaker.group), 12.0, 1500)
    run = Run(spotting_engine, pcm)
    assert run.peeks, "never asked the recogniser"
    assert min(p["quiet_ms"] for p in run.peeks) >= spot_endpointing.PEEK_AFTER_NOISY_MS
    assert [intent_device(t) for _, t in run.accepted()][:1] == [("decline", None)]


@pytest.mark.parametrize("n", [1, 2, 3, 11, 149, 150])
def test_floor_percentile_is_numpys(n: int) -> None:
    """The room's floor is computed by a partial sort on every frame: the same value as
    np.percentile, for any number of levels the window holds."""
    rng = np.random.default_rng(n)
    levels = list(rng.normal(50.0, 12.0, n)) + [40.0] * (n // 3)  # ties too
    for q in (0, 10, 50, 90, 100):
        assert spot_endpointing.percentile(levels, q) == pytest.approx(
            float(np.percentile(levels, q)), abs=1e-9)


@pytest.mark.parametrize(("said", "heard"), [
    ("answer on my desk phone", ("answer", "desk phone")),
    ("answer on my", None),  # unfinished: thrown away, as before
])
def test_a_complete_command_outlasts_the_assistant_speaking_in_the_commit_wait(
    spotting_engine: PocketSphinxEngine, said: str, heard: tuple[str, str | None] | None,
) -> None:
    """``KEEP_AT_GAP``: the microphone is deaf while the assistant speaks (a gap, b""). A
    command finished and heard complete before the assistant started (its reminder, say) is
    acted on when the gap ends, not lost; anything unfinished is still thrown away."""
    listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())
    pcm = quiet_room(voiced(synthesize(said, "en-us", 160)), 1000, 140)  # inside the wait
    before = [t for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)
              if (t := listener.feed(pcm[i : i + FRAME_BYTES])) is not None]
    assert before == [], "acted on before the commit wait was over"
    assert listener._peeked is not None, "heard in the pause before the gap"
    kept = listener.feed(b"")
    if heard is None:
        assert kept is None
    else:
        assert kept is not None and kept.accepted and intent_device(kept) == heard
    assert not listener._in_speech and listener._peeked is None  # a fresh start after it


def test_a_command_in_the_persons_own_words_is_acted_on_early(
    spotting_engine: PocketSphinxEngine,
) -> None:
    # The peek's grammar had no carrier words, so "um, decline the call" could not be complete
    # in it: it was never acted on (bench/commit_replay.py --carried, quiet room: 18 of 54 right
    # without them, 25 with). (Its pair, "so answer on my headset now" in en-us, decides on a
    # margin that differs between machines: it is in the test below, in three voices.)
    run = Run(spotting_engine, quiet_room(synthesize("um decline the call", "en-us", 160)))
    (frame, transcript), = run.accepted()
    assert intent_device(transcript) == ("decline", None), transcript
    used = [p for p in run.peeks if p["transcript"] is transcript]
    assert used, "acted on without a peek"
    quiet_at_commit = (frame - run.voice_frames[-1]) * 20
    assert quiet_at_commit <= spot_endpointing.COMMIT_AFTER_QUIET_MS + 20


def test_commands_in_the_persons_own_words_are_acted_on_early_in_other_voices(
    spotting_engine: PocketSphinxEngine,
) -> None:
    # The peek's grammar had no carrier words, so "um, decline the call" could not be complete
    # in it: none of these was acted on early (bench/commit_replay.py --carried, quiet room: 18
    # of 54 right without them, 25 with). Three voices each, since one clip decides on a margin:
    # on a machine with espeak-ng 1.51 (Debian 12) "so answer on my headset now" in en-us is
    # heard rightly but its words fit 5.2 per frame worse than the phone loop (the carried check
    # rejects at 4.5), where on CI's it passed; en-us+f2's was acted on as "answer on webex app"
    # before pocketsphinx_spot.STRETCHED_FRAMES_PER_PHONE. Seen: 4 of the 6 early and right.
    early, wrong = [], []
    for said, expected in (("um decline the call", ("decline", None)),
                           ("so answer on my headset now", ("answer", "headset"))):
        for voice in ("en-us", "en-us+f2", "en-us+m7"):
            run = Run(spotting_engine, quiet_room(synthesize(said, voice, 160)))
            assert len(run.accepted()) <= 1, (said, voice)  # one command, one action
            for frame, transcript in run.accepted():
                if intent_device(transcript) != expected:
                    wrong.append((said, voice, transcript.text))
                    continue
                from_peek = any(p["transcript"] is transcript for p in run.peeks)
                quiet_at_commit = (frame - run.voice_frames[-1]) * 20
                if from_peek and quiet_at_commit <= spot_endpointing.COMMIT_AFTER_QUIET_MS + 20:
                    early.append((said, voice))
    assert wrong == []
    assert len(early) >= 3, early
