"""A hesitation longer than an utterance ("answer on my ... desk phone") is joined back
together (``spot_endpointing.JOIN_UNFINISHED``): the device, heard as a bare device name,
completes the first half that a peek found unfinished.

The recogniser is scripted, so what is tested is the endpointer alone, frame by frame; the
same with real PocketSphinx on synthesized speech is in tests/test_speech_spotting.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from fixtures_speech import DEVICE_PHRASES

from assistant.config import SpeechSettings
from assistant.intents import Command, CommandLanguage, Intent
from assistant.speech import spot_endpointing
from assistant.speech.base import Recognizer, Transcript
from assistant.speech.spot_endpointing import SpottingListener

FRAME = 320  # samples: 20 ms
QUIET_RMS = 3.0
VOICE_RMS = 3000.0
LANGUAGE = CommandLanguage.load("en", DEVICE_PHRASES)


class Engine:
    language = LANGUAGE


class Scripted(Recognizer):
    """Peeks and wholes come from scripts, in order. In a quiet room an utterance's peek
    decides it, unless it found the command unfinished: then the whole does."""

    engine = Engine()

    def __init__(self, peeks: list[Transcript], wholes: list[Transcript]) -> None:
        self.peeks, self.wholes = list(peeks), list(wholes)
        self.fed_ms = 0.0  # since the last whole
        self.decided_ms: list[float] = []  # the audio each whole was asked about

    def accept(self, frame: bytes) -> None:
        self.fed_ms += len(frame) / 32.0

    def partial(self) -> str:
        return ""

    def reset(self) -> None:
        self.fed_ms = 0.0

    def peek(self, pad: bytes = b"") -> Transcript:
        return self.peeks.pop(0) if self.peeks else rejected()

    def final(self) -> Transcript:
        self.decided_ms.append(self.fed_ms)
        self.fed_ms = 0.0
        return self.wholes.pop(0) if self.wholes else rejected()


def rejected() -> Transcript:
    return Transcript("", False, None, 0.01, 0.0, 0.0)


def unfinished(words: str, stopped_ms: float = 200.0) -> Transcript:
    """A peek's unfinished ``words``, stopped ``stopped_ms`` before the end of the audio (the
    peek is taken 20 ms after the voice went and padded to 200 ms: as the voice went)."""
    return Transcript("", False, None, None, 0.0, 0.0,
                      details={"unfinished": 1.0, "unsaid_start_ms": stopped_ms}, unfinished=words)


def bare(device: str) -> Transcript:
    return Transcript(device, True, None, 0.9, 0.0, 0.0, device_only=device)


def decline() -> Transcript:
    return Transcript("decline", True, Command(Intent.DECLINE, None, "decline"), 0.9, 0.0, 0.0,
                      details={"last_word_rate": 12.0})


def sound(ms: int, rms: float, seed: int) -> list[bytes]:
    x = np.random.default_rng(seed).normal(0.0, rms, ms * 16)
    pcm = np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()
    return [pcm[i : i + 2 * FRAME] for i in range(0, len(pcm), 2 * FRAME)]


def run(recognizer: Scripted, parts: list[tuple[int, float | None]]) -> list[Transcript]:
    """``parts``: (ms, level) of sound, or (0, None) for a gap (the assistant spoke)."""
    listener = SpottingListener(recognizer, SpeechSettings(), growing=set())
    out = []
    for i, (ms, rms) in enumerate(parts):
        for frame in sound(ms, rms, i) if rms is not None else [b""]:
            transcript = listener.feed(frame)
            if transcript is not None:
                out.append(transcript)
    return out


def heard(transcripts: list[Transcript]) -> list[tuple[str, str | None, str | None]]:
    """What was accepted: (text, intent, device) each."""
    return [(t.text, t.command.intent.value if t.command else None,
             t.command.device if t.command else t.device_only)
            for t in transcripts if t.accepted]


# "answer on my", a pause the utterance does not outlast (longer than SQUEEZED_PAUSE_MS), then
# the device, then quiet
def hesitation(pause_ms: int) -> list[tuple[int, float | None]]:
    return [(1000, QUIET_RMS), (900, VOICE_RMS), (pause_ms, QUIET_RMS), (700, VOICE_RMS),
            (1500, QUIET_RMS)]


def test_a_device_after_a_long_hesitation_completes_the_command() -> None:
    assert 2000 > spot_endpointing.SQUEEZED_PAUSE_MS  # the first half is an utterance of its own
    recognizer = Scripted([unfinished("answer on my"), bare("desk phone")], [rejected()])
    assert heard(run(recognizer, hesitation(2000))) == [
        ("answer on my desk phone", "answer", "desk phone")]
    assert not recognizer.peeks and not recognizer.wholes, "not two utterances"


def test_without_the_join_the_device_stands_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spot_endpointing, "JOIN_UNFINISHED", False)
    recognizer = Scripted([unfinished("answer on my"), bare("desk phone")], [rejected()])
    assert heard(run(recognizer, hesitation(2000))) == [("desk phone", None, "desk phone")]


def test_a_device_said_too_long_after_is_a_bare_device() -> None:
    pause = int(spot_endpointing.JOIN_WITHIN_MS) + 200
    recognizer = Scripted([unfinished("answer on my"), bare("desk phone")], [rejected()])
    assert heard(run(recognizer, hesitation(pause))) == [("desk phone", None, "desk phone")]


def left(transcripts: list[Transcript]) -> list[tuple[str, str]]:
    """The waits for a device that ended: (text, what was left unfinished) each."""
    return [(t.text, t.left_unfinished) for t in transcripts if t.left_unfinished]


def test_when_no_device_comes_the_wait_ends_with_what_was_left_unfinished() -> None:
    # "answer on my" and then nothing: once JOIN_WITHIN_MS have passed since the voice went, a
    # transcript says what was left (the dialog asks for the device), at that moment and once
    recognizer = Scripted([unfinished("answer on my")], [rejected()])
    parts: list[tuple[int, float | None]] = [(1000, QUIET_RMS), (900, VOICE_RMS)]
    assert left(run(recognizer, [*parts, (int(spot_endpointing.JOIN_WITHIN_MS) - 100, QUIET_RMS)])) == []
    recognizer = Scripted([unfinished("answer on my")], [rejected()])
    out = run(recognizer, [*parts, (int(spot_endpointing.JOIN_WITHIN_MS) + 100, QUIET_RMS),
                           (3000, QUIET_RMS)])
    assert left(out) == [("", "answer on my")]
    assert heard(out) == [] and not out[-1].accepted


def test_an_utterance_that_completes_nothing_ends_the_wait() -> None:
    # "answer on my", then talk that is no command: that transcript says what was left
    recognizer = Scripted([unfinished("answer on my"), rejected()], [rejected()])
    out = run(recognizer, hesitation(2000))
    assert [(t.text, t.left_unfinished) for t in out] == [("", ""), ("", "answer on my")]


def command(text: str, intent: Intent, device: str | None = None) -> Transcript:
    return Transcript(text, True, Command(intent, device, text), 0.9, 0.0, 0.0,
                      details={"last_word_rate": 12.0})


def test_while_a_first_half_waits_for_its_device_another_command_is_not_acted_on() -> None:
    # "answer on my ... app", the device alone decoded as "hang up" (espeak en-029+f1 said
    # "headset" and was heard "hang up it"): not acted on, it ends the wait as no command
    recognizer = Scripted([unfinished("answer on my"), command("hang up", Intent.HANGUP)],
                          [rejected()])
    out = run(recognizer, hesitation(2000))
    assert heard(out) == [] and left(out) == [("hang up", "answer on my")]
    # the command said again from the start, with its device, and cancel are acted on
    for said in (command("answer on my headset", Intent.ANSWER, "headset"),
                 command("cancel", Intent.CANCEL)):
        recognizer = Scripted([unfinished("answer on my"), said], [rejected()])
        out = run(recognizer, hesitation(2000))
        assert heard(out) == [(said.text, said.command.intent.value, said.command.device)]
        assert left(out) == []


def test_without_the_wait_the_other_command_is_acted_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spot_endpointing, "WAIT_FOR_DEVICE", False)
    recognizer = Scripted([unfinished("answer on my"), command("hang up", Intent.HANGUP)],
                          [rejected()])
    assert heard(run(recognizer, hesitation(2000))) == [("hang up", "hangup", None)]


def test_a_first_half_that_wants_no_device_does_not_hold_other_commands() -> None:
    recognizer = Scripted([unfinished("send the call"), decline()], [rejected()])
    out = run(recognizer, hesitation(2000))  # "… to voicemail" never came; "decline" did
    assert heard(out) == [("decline", "decline", None)] and left(out) == []


def test_a_joined_command_leaves_nothing_unfinished() -> None:
    recognizer = Scripted([unfinished("answer on my"), bare("desk phone")], [rejected()])
    out = run(recognizer, [*hesitation(2000), (6000, QUIET_RMS)])
    assert heard(out) == [("answer on my desk phone", "answer", "desk phone")] and left(out) == []


def test_the_assistant_speaking_in_between_forgets_the_first_half() -> None:
    parts = hesitation(2000)
    parts.insert(3, (0, None))
    recognizer = Scripted([unfinished("answer on my"), bare("desk phone")], [rejected()])
    assert heard(run(recognizer, parts)) == [("desk phone", None, "desk phone")]


def test_a_command_acted_on_in_between_forgets_the_first_half() -> None:
    parts = hesitation(2000)
    parts[3:3] = [(600, VOICE_RMS), (2000, QUIET_RMS)]
    cancel = command("cancel", Intent.CANCEL)
    recognizer = Scripted([unfinished("answer on my"), cancel, bare("desk phone")], [rejected()])
    assert heard(run(recognizer, parts)) == [("cancel", "cancel", None),
                                             ("desk phone", None, "desk phone")]


def test_a_first_half_the_device_does_not_complete_is_left_alone() -> None:
    # "decline" takes no device: the bare device name stays what it was
    recognizer = Scripted([unfinished("decline"), bare("desk phone")], [rejected()])
    assert heard(run(recognizer, hesitation(2000))) == [("desk phone", None, "desk phone")]


def test_a_device_after_a_pause_inside_the_utterance_completes_the_command() -> None:
    # The pause is short enough to hold the utterance open; the whole ("answer on my ... desk
    # phone", with the room in the pause) is rejected; what came after the unfinished peek is
    # decided on its own, and is the device.
    assert 1000 < spot_endpointing.SQUEEZED_PAUSE_MS
    recognizer = Scripted([unfinished("answer on my"), rejected()], [bare("desk phone")])
    assert heard(run(recognizer, hesitation(1000))) == [
        ("answer on my desk phone", "answer", "desk phone")]
    # the rest only: the device (700 ms), 200 ms before it, and the quiet until the end
    [rest_ms] = recognizer.decided_ms
    assert 700 + 200 <= rest_ms < 700 + 200 + spot_endpointing.PAUSE_MS + 100, rest_ms


def test_inside_the_utterance_the_rest_must_be_a_bare_device() -> None:
    recognizer = Scripted([unfinished("answer on my"), rejected()], [rejected()])
    assert heard(run(recognizer, hesitation(1000))) == []
    assert len(recognizer.decided_ms) == 1


def on_the_app(last_start_ms: float) -> Transcript:
    return Transcript("answer on my app", True, Command(Intent.ANSWER, "app", "answer on my app"),
                      0.9, 0.0, 0.0, details={"last_word_rate": 12.0, "last_start_ms": last_start_ms})


@pytest.mark.parametrize("last_start_ms", [1500.0, 3000.0])
def test_the_whole_fitted_with_a_device_after_the_voice_went_is_no_command(
    last_start_ms: float,
) -> None:
    # "answer on my ... (2 s)": the peek found "answer on my" unfinished, the whole (with the
    # 1.5 s of quiet after it) came out "answer on my app". With "app" begun after the voice
    # went (1500 ms before the end) or not (3000 ms: fitted over the end of "my"), the whole is
    # those words and more, after which the voice went: no command. The device then completes it.
    recognizer = Scripted([unfinished("answer on my"), bare("desk phone")], [on_the_app(last_start_ms)])
    assert heard(run(recognizer, hesitation(2000))) == [
        ("answer on my desk phone", "answer", "desk phone")]


def test_without_the_check_the_whole_is_answered_on_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spot_endpointing, "WHOLE_HEARD", False)
    recognizer = Scripted([unfinished("answer on my"), bare("desk phone")], [on_the_app(1500.0)])
    assert heard(run(recognizer, hesitation(2000)))[0] == ("answer on my app", "answer", "app")


def test_a_whole_with_a_short_device_the_peek_took_for_the_stop_is_acted_on() -> None:
    # "answer on my app": the peek's stop began 300 ms before the voice went, over "app". The
    # whole, "answer on my app" with "app" begun before the voice went, is what was said.
    recognizer = Scripted([unfinished("answer on my", stopped_ms=500.0)], [on_the_app(3000.0)])
    assert heard(run(recognizer, hesitation(2000)))[0] == ("answer on my app", "answer", "app")


def test_a_word_the_whole_fitted_after_the_voice_went_is_dropped() -> None:
    # "decline", peeked as unfinished "decline the ...", decided whole as "decline it" with
    # "it" begun as the voice went: what was said is "decline".
    decline_it = Transcript("decline it", True, Command(Intent.DECLINE, None, "decline it"), 0.9,
                            0.0, 0.0, details={"last_word_rate": 12.0, "last_start_ms": 1500.0})
    recognizer = Scripted([unfinished("decline the", stopped_ms=500.0)], [decline_it])
    parts: list[tuple[int, float | None]] = [(1000, QUIET_RMS), (900, VOICE_RMS), (2500, QUIET_RMS)]
    assert heard(run(recognizer, parts)) == [("decline", "decline", None)]


def test_inside_the_utterance_a_device_that_completes_nothing_stays_unheard() -> None:
    # "decline ... desk phone", the whole rejected: the rest alone is a bare device name, but
    # "decline desk phone" is no command, so the utterance stays rejected (not a bare device)
    recognizer = Scripted([unfinished("decline"), rejected()], [bare("desk phone")])
    assert heard(run(recognizer, hesitation(1000))) == []
    assert len(recognizer.decided_ms) == 1, "the rest was never decided: the test tests nothing"


def spotted_half(words: str) -> Transcript:
    """``unfinished``, found by the spotting pass (a command's start anywhere inside talk)."""
    half = unfinished(words)
    return Transcript("", False, None, None, 0.0, 0.0,
                      details=dict(half.details or {}) | {"spotting": 1.0}, unfinished=words)


def test_in_a_quiet_room_a_first_half_only_the_spotting_pass_found_is_not_held() -> None:
    # "the kitchen sink is blocked", said plainly while a call rang, was spotted as "pick up
    # using desk …": the person's first halves there are the strict pass's
    recognizer = Scripted([spotted_half("answer on my"), bare("desk phone")], [rejected()])
    out = run(recognizer, hesitation(2000))
    assert heard(out) == [("desk phone", None, "desk phone")] and left(out) == []
    recognizer = Scripted([spotted_half("answer on my")], [rejected()])
    out = run(recognizer, [(1000, QUIET_RMS), (900, VOICE_RMS), (6000, QUIET_RMS)])
    assert left(out) == [], "no question about it either"


def test_with_talk_around_a_first_half_the_spotting_pass_found_is_held() -> None:
    room = 300.0  # 20 dB under the voice: not a quiet room
    parts = [(ms, room if rms == QUIET_RMS else rms) for ms, rms in hesitation(2000)]
    recognizer = Scripted([spotted_half("answer on my"), bare("desk phone")], [rejected()])
    assert heard(run(recognizer, parts)) == [("answer on my desk phone", "answer", "desk phone")]


def test_without_the_rule_the_quiet_rooms_spotted_half_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spot_endpointing, "QUIET_HALVES_STRICT", False)
    recognizer = Scripted([spotted_half("answer on my"), bare("desk phone")], [rejected()])
    assert heard(run(recognizer, hesitation(2000))) == [
        ("answer on my desk phone", "answer", "desk phone")]
