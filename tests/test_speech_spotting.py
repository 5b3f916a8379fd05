"""Command spotting on the real PocketSphinx engine: commands said while colleagues talk are
found, talk full of command words is not taken for a command, and the endpointer ends an
utterance although the room never goes quiet."""

from __future__ import annotations

import math

import numpy as np
import pytest
import speech_corpus as corpus
from fixtures_speech import DEVICE_PHRASES

from assistant.audio_io import FRAME_BYTES, frames
from assistant.config import Recognition, SpeechSettings
from assistant.intents import CommandLanguage
from assistant.speech import pocketsphinx, pocketsphinx_spot, spot_endpointing
from assistant.speech.pocketsphinx import PocketSphinxEngine
from assistant.speech.spot_endpointing import SpottingListener
from assistant.speech.base import Transcript
from assistant.speech.spotting import Segment

# Voices of all three synthesizers; the babble never uses the speaker's own voice.
SPEAKER_IDS = ("espeak:en-us+f2:p37:s141:g1", "flite:slt:f0:d1", "espeak:en-us-nyc+m1:p31:s135:g0",
               "flite:rms:f0:d1", "espeak:en-us+m7:p51:s163:g3")
SPEAKERS = [next(s for s in corpus.speakers() if s.id == i) for i in SPEAKER_IDS]
COMMANDS = [
    ("answer on my headset", "answer", "headset"),
    ("decline the call", "decline", None),
    ("answer the call on my desk phone", "answer", "desk phone"),
    ("send it to voicemail", "voicemail", None),
    ("put the call on hold", "hold", None),
]
# Ordinary talk with command words in it, and the assistant's own prompts.
TALK = [
    "let me answer that email after lunch",
    "my headset battery is almost empty",
    "put the coffee cup on my desk",
    "we should decline their offer politely",
    "can you hold the door for a second",
    "the phone in reception keeps ringing",
    "Call from Dana Smith. Say answer, answer on a device, or decline.",
    "Which phone? Say desk phone, or reception phone.",
]


@pytest.fixture(scope="module")
def spotting_engine() -> PocketSphinxEngine:
    return PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES),
                              recognition=Recognition.SPOT)


def in_babble(speech: bytes, snr_db: float, seed: int, group: str, before_ms: int = 1500,
              after_ms: int = 1000) -> bytes:
    """``speech`` with office babble before, during and after it."""
    total_ms = before_ms + len(speech) // 32 + after_ms
    return corpus.mix(speech, corpus.babble(total_ms, seed, 3, group), snr_db, before_ms)


def test_commands_in_office_babble_are_understood(spotting_engine: PocketSphinxEngine) -> None:
    right, wrong, misses = 0, 0, []
    for i, (text, intent, device) in enumerate(COMMANDS):
        for j, snr in enumerate((12.0, 20.0)):
            speaker = SPEAKERS[(i + j) % len(SPEAKERS)]
            pcm = in_babble(corpus.synthesize(speaker, text), snr, seed=10 * i + j,
                            group=speaker.group)
            t = spotting_engine.transcribe_pcm(pcm)
            ok = bool(t.command and t.command.intent.value == intent and t.command.device == device)
            right += ok
            wrong += t.accepted and not ok
            if not ok:
                misses.append(f"{text!r} [{speaker.id} {snr:g} dB] -> {t.text!r}")
    # The strict grammar of 0.1 found 0 of these (talk before and after pushed them to garbage).
    assert wrong == 0, misses
    assert right >= 8, misses


def test_talk_full_of_command_words_is_rejected(spotting_engine: PocketSphinxEngine) -> None:
    accepted, replies = [], []
    for i, text in enumerate(TALK):
        speaker = SPEAKERS[i % len(SPEAKERS)]
        speech = corpus.synthesize(speaker, text)
        for pcm in (corpus.mix(speech, bytes(len(speech) + 32000), None, 500),
                    in_babble(speech, 12.0, seed=100 + i, group=speaker.group)):
            t = spotting_engine.transcribe_pcm(pcm)
            if t.accepted:
                heard = f"{text!r} [{speaker.id}] -> {t.text!r}"
                (accepted if t.command is not None else replies).append(heard)
    assert accepted == []  # no action
    # A bare device reply only means something to "Which phone?". Known: espeak's "the phone in
    # reception keeps ringing" in a quiet room is heard whole as "the phone in reception area".
    assert len(replies) <= 1, replies


def test_office_talk_rarely_makes_the_assistant_say_it_did_not_catch_that(
        spotting_engine: PocketSphinxEngine) -> None:
    """A rejected candidate reported as heard text makes the dialog say "Sorry, I didn't catch
    that ..." (5 s, deaf meanwhile). Only candidates the gate nearly believed are reported: of
    12 office sentences (the corpus's, held-out seed 1, a quiet room), at most 3 are; with the
    old threshold, 0.05, 6 of these were."""
    items = corpus.build(kinds=("off_domain",), conditions=("clean",), per_condition=12, seed=1)
    reported = []
    for item in items:
        t = spotting_engine.transcribe_pcm(item.pcm)
        assert not t.accepted, (item.text, t.text)
        if t.text:
            assert (t.confidence or 0.0) >= pocketsphinx_spot.REPORT_ABOVE, (item.text, t)
            reported.append(f"{item.text!r} -> {t.text!r} ({t.confidence})")
    assert len(reported) <= 3, reported


def test_talk_the_grammar_passed_off_as_silence_is_rejected(
    spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Off-domain sentences of tests/speech_corpus.py that the strict grammar took for commands
    # by calling part of them a silence ("turn off the lights in the kitchen" -> "turn off the
    # tones", the rest a pause as loud as the words): pocketsphinx_spot.SILENCE_BELOW_DB.
    # Which clips the grammar explains that way shifts from machine to machine (on one,
    # "please take a seat in the meeting room" in the first voice came out as all words, no
    # silence; with the person's own words in the grammar, "turn off the beeps thank you"),
    # so the check is judged on every clip of four sentences in three voices where the strict
    # pass did it: at least two such clips, each rejected with the check and each taken for a
    # command without it.
    talk = ["turn off the lights in the kitchen", "please take a seat in the meeting room",
            "please do not call after nine in the evening",
            "they declined the invitation to dinner"]
    clips = [corpus.mix(speech, bytes(len(speech) + 32000), None, 500)
             for speech in (corpus.synthesize(s, text) for text in talk for s in SPEAKERS[:3])]
    loudest: list[float] = []
    measure = pocketsphinx_spot._loudest_silence

    def spy(path: list[pocketsphinx_spot.Segment], levels: np.ndarray,
            min_frames: int = pocketsphinx_spot.SILENCE_MIN_FRAMES) -> float:
        loudest.append(measure(path, levels, min_frames))
        return loudest[-1]

    monkeypatch.setattr(pocketsphinx_spot, "_loudest_silence", spy)

    def heard(pcm: bytes) -> tuple[str, float]:
        loudest.clear()
        t = spotting_engine.transcribe_pcm(pcm)
        return (t.text if t.accepted else ""), (loudest[0] if loudest else math.inf)

    passed_off = [pcm for pcm in clips
                  if heard(pcm)[1] < pocketsphinx_spot.SILENCE_BELOW_DB]
    assert len(passed_off) >= 2
    assert [heard(pcm)[0] for pcm in passed_off] == [""] * len(passed_off)
    monkeypatch.setattr(pocketsphinx_spot, "SILENCE_BELOW_DB", -math.inf)
    # without the check (nor the forced-word and "please" checks, which catch some of the same
    # clips): taken for commands
    monkeypatch.setattr(pocketsphinx_spot, "WORD_FIT_BELOW", -math.inf)
    monkeypatch.setattr(pocketsphinx_spot, "PLEASE_FIT_BELOW", -math.inf)
    # ... nor the drawn-out last word before the person's own words: "they declined the
    # invitation to dinner" came out as "hey decline it thank you", "it" over "it to dinner"
    monkeypatch.setattr(pocketsphinx_spot, "STRETCHED_BEFORE_CARRIER", math.inf)
    assert all(heard(pcm)[0] for pcm in passed_off)


def test_endpointer_ends_the_command_under_continuous_babble(
    spotting_engine: PocketSphinxEngine,
) -> None:
    speaker = SPEAKERS[0]
    speech = corpus.synthesize(speaker, "answer on my headset")
    stream = in_babble(speech, 12.0, seed=7, group=speaker.group, before_ms=3000, after_ms=6000)
    command_end_frame = (3000 * 32 + len(speech)) // FRAME_BYTES
    listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())
    heard = []
    for i, frame in enumerate(frames(stream)):
        transcript = listener.feed(frame)
        if transcript is not None and transcript.accepted:
            heard.append((i, transcript))
    assert heard, "the command was never heard"
    frame_index, transcript = heard[0]
    assert transcript.command is not None
    assert (transcript.command.intent.value, transcript.command.device) == ("answer", "headset")
    # Ended on the person's voice, well before the 6 s hard limit or the end of the babble.
    assert frame_index - command_end_frame < 1500 // 20
    assert len(heard) == 1


def test_a_pause_inside_a_command_does_not_cut_it(spotting_engine: PocketSphinxEngine) -> None:
    speaker = SPEAKERS[1]
    first = corpus.synthesize(speaker, "answer on my")
    second = corpus.synthesize(speaker, "headset")
    speech = first + bytes(2 * 16 * 500) + second  # half a second of hesitation
    stream = corpus.mix(speech, bytes(len(speech) + 3 * 32000), None, 1000)
    listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())
    heard = [t for t in listener.listen(frames(stream)) if t.accepted]
    assert [(t.command.intent.value, t.command.device) for t in heard if t.command] == [
        ("answer", "headset")]


def test_steady_babble_alone_is_never_a_command(spotting_engine: PocketSphinxEngine) -> None:
    stream = corpus.babble(20000, seed=3, talkers=3)
    loud = np.frombuffer(stream, dtype=np.int16).astype(np.float64) * 2.0
    pcm = np.clip(loud, -32768, 32767).astype(np.int16).tobytes()
    listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())
    heard = list(listener.listen(frames(pcm)))
    assert [t.text for t in heard if t.accepted] == []
    assert heard, "20 s of chatter should still be cut into utterances and judged"



def test_decoys_reject_the_assistants_own_confirmations(
    spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The assistant's own sentences as decoys (decoys=True, off by default: it doubles the CPU).
    # Spot mode without decoys accepted each of these as the command it echoes ("Declined." ->
    # "decline", "Muted." -> "mute it") in the flite voice; homophones ("Unmuted." / "unmute
    # it") are left out: no acoustic rule can tell them apart. They were the assistant's wording
    # until it was changed so that it no longer sounds like commands (test_own_prompts.py); the
    # decoys are tested on them, as the worst case.
    old_wording = ["Declined.", "Muted.", "Cancelled.", "Answered."]
    monkeypatch.setattr("assistant.speech.pocketsphinx.own_wording", lambda: old_wording)
    decoy_engine = PocketSphinxEngine(spotting_engine.language, recognition=Recognition.SPOT,
                                      decoys=True)
    heard = {}
    for text in old_wording:
        for speaker in (SPEAKERS[1], SPEAKERS[0]):
            speech = corpus.synthesize(speaker, text)
            pcm = corpus.mix(speech, bytes(len(speech) + 32000), None, 500)
            heard[(text, speaker.id)] = (decoy_engine.transcribe_pcm(pcm).accepted,
                                         spotting_engine.transcribe_pcm(pcm).accepted)
    assert [k for k, (with_decoys, _) in heard.items() if with_decoys] == []
    assert sum(without for _, without in heard.values()) >= 4, heard  # the decoys did it
    command = corpus.synthesize(SPEAKERS[1], "decline the call")
    t = decoy_engine.transcribe_pcm(corpus.mix(command, bytes(len(command) + 32000), None, 500))
    assert t.command is not None and t.command.intent.value == "decline"


def test_the_rest_of_talk_cut_at_the_hard_limit_is_no_command(
    spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The assistant's long sentences that quote commands, said by a voice in a quiet room: longer
    # than max_utterance_seconds, so the hard limit cuts them, and the rest ("... mute or
    # unmute") was taken for a command (spot_endpointing.TALK_GOES_ON). Which rests the grammar
    # accepts shifts from machine to machine: three clips that each did, at least one of them
    # taken for a command without the rule, none with it.
    from assistant.speech import spot_endpointing

    help_all = ("you can say answer answer on a device decline send it to voicemail or ignore "
                "during a call hang up hold resume mute or unmute")
    not_heard = ("i didn't hear which device the call is still ringing say answer answer on a "
                 "device or decline")
    said = [(help_all, "espeak:en-gb-x-gbcwmd+steph:p54:s174:g3"),
            (not_heard, "espeak:en-gb+f3:p45:s157:g2"),
            (not_heard, "espeak:en-gb-scotland+m4:p33:s141:g0")]
    speakers = {s.id: s for s in corpus.speakers()}
    clips = [corpus.mix(speech, bytes(len(speech) + 2 * 32000), None, 1500)
             for speech in (corpus.synthesize(speakers[v], text) for text, v in said)]
    ends: list[str] = []
    finish = SpottingListener._finish

    def spy(self: SpottingListener, why: str, transcript: object = None) -> object:
        ends.append(why)
        return finish(self, why, transcript)  # type: ignore[arg-type]

    monkeypatch.setattr(SpottingListener, "_finish", spy)
    listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())

    def commands(pcm: bytes) -> list[str]:
        return [t.text for t in listener.listen(frames(pcm)) if t.accepted]

    assert [commands(pcm) for pcm in clips] == [[]] * len(clips)
    assert ends.count("maximum length") == len(clips), ends  # the limit did cut each of them
    monkeypatch.setattr(spot_endpointing, "TALK_GOES_ON", False)
    assert any(commands(pcm) for pcm in clips), "nothing to reject: the test tests nothing"


# pink: the two flite voices (with the espeak ones this short clip is not judged steady, and it
# is not suppressed)
@pytest.mark.parametrize(("room", "speaker"),
                         [("quiet", s) for s in SPEAKERS[:3]]
                         + [("pink", s) for s in SPEAKERS[1::2]],
                         ids=lambda x: x if isinstance(x, str) else x.id)
def test_the_recogniser_says_where_the_last_word_began(
    spotting_engine: PocketSphinxEngine, room: str, speaker: corpus.Speaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # spot_endpointing.LAST_WORD_HEARD_MS compares it with when the voice went. A fan (steady
    # noise) is noise suppressed first, on audio cut differently: a first version counted from
    # the wrong place there (-40 s), and every command in pink noise waited 1.5 s.
    suppressed = []
    real_suppress = pocketsphinx_spot.suppress

    def counted(*args: object) -> bytes:
        suppressed.append(1)
        return real_suppress(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pocketsphinx_spot, "suppress", counted)
    head = corpus.synthesize(speaker, "answer on my")
    device = corpus.synthesize(speaker, "headset")
    before_ms, after_ms = (2000, 800) if room == "pink" else (1000, 500)
    total_ms = before_ms + (len(head) + len(device)) // 32 + after_ms
    noise = corpus.pink(total_ms, 3) if room == "pink" else bytes(32 * total_ms)
    pcm = corpus.mix(head + device, noise, 25.0 if room == "pink" else None, before_ms)
    recognizer = spotting_engine.recognizer()
    for frame in frames(pcm, FRAME_BYTES):
        recognizer.accept(frame)
    t = recognizer.final()
    assert t.text == "answer on my headset"
    assert bool(suppressed) == (room == "pink")
    said_ms = after_ms + len(device) // 32  # "headset" began this long before the end
    assert abs(t.details["last_start_ms"] - said_ms) <= 150, (t.details, said_ms)


# espeak en-us+m7 had its first half answered on the app before WHOLE_HEARD
@pytest.mark.parametrize("speaker", [SPEAKERS[0], SPEAKERS[1], SPEAKERS[4]], ids=lambda s: s.id)
def test_a_hesitation_longer_than_an_utterance_is_joined(
    spotting_engine: PocketSphinxEngine, speaker: corpus.Speaker,
) -> None:
    # "answer on my ... (2 s) ... desk phone" in a quiet room: the first half ends an utterance
    # of its own (the pause outlasts SQUEEZED_PAUSE_MS) and is no command, not "answer on my
    # app"; the device name after it completes it.
    first = corpus.synthesize(speaker, "answer on my")
    device = corpus.synthesize(speaker, "desk phone")
    speech = first + bytes(32 * 2000) + device
    stream = corpus.mix(speech, bytes(len(speech) + 3 * 32000), None, 1000)
    listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())
    heard = list(listener.listen(frames(stream)))
    assert [t.unfinished for t in heard] == ["answer on my", ""]
    assert [(t.text, t.command.intent.value, t.command.device) for t in heard if t.command] == [
        ("answer on my desk phone", "answer", "desk phone")]


@pytest.mark.parametrize("speaker", [SPEAKERS[0], SPEAKERS[4]], ids=lambda s: s.id)
def test_a_first_half_no_device_follows_is_said_to_be_left_unfinished(
    spotting_engine: PocketSphinxEngine, speaker: corpus.Speaker,
) -> None:
    # "answer on my" and then nothing: no command, and once the wait for a device is over, a
    # transcript says what was left (the dialog asks which device, tests/test_dialog.py)
    first = corpus.synthesize(speaker, "answer on my")
    wait_ms = int(spot_endpointing.JOIN_WITHIN_MS) + 1000
    stream = corpus.mix(first, bytes(len(first) + 32 * (1000 + wait_ms)), None, 1000)
    listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())
    heard = list(listener.listen(frames(stream)))
    assert [(t.text, t.accepted, t.unfinished, t.left_unfinished) for t in heard] == [
        ("", False, "answer on my", ""), ("", False, "", "answer on my")]


# Said alone after a pause, these devices were decoded as other commands (bench/commit_replay.py
# --stress --pauses ...): "desk phone" as "who is calling", "headset" as "hang up it", "app" as
# "answer".
@pytest.mark.parametrize(("speaker_id", "first", "device"), [
    ("espeak:en-029+f1:p40:s152:g1", "answer on my", "desk phone"),
    ("espeak:en-029+f1:p55:s175:g3", "answer it using the", "headset"),
    ("espeak:en-gb-x-rp+m2:p41:s153:g1", "answer the call on my", "app"),
])
def test_while_a_first_half_waits_for_its_device_no_other_command_is_acted_on(
    spotting_engine: PocketSphinxEngine, speaker_id: str, first: str, device: str,
) -> None:
    speaker = next(s for s in corpus.speakers() if s.id == speaker_id)
    speech = (corpus.synthesize(speaker, first) + bytes(32 * 1500)
              + corpus.synthesize(speaker, device))
    stream = corpus.mix(speech, bytes(len(speech) + 3 * 32000), None, 1000)
    listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())
    heard = list(listener.listen(frames(stream)))
    acted = [(t.command.intent.value, t.command.device) for t in heard if t.command]
    assert acted in ([], [("answer", device)]), heard  # joined, or no action
    if not acted:  # the dialog asks which device
        assert [t.left_unfinished for t in heard][-1], heard


# Office sentences said plainly in a quiet room while a call rang, which the spotting pass took
# for a command's first half, so the assistant asked "Which device?" (bench/commit_replay.py
# --talk --rooms quiet: 6 of 90 before spot_endpointing.QUIET_HALVES_STRICT).
@pytest.mark.parametrize(("speaker_id", "text"), [
    ("festival:kal_diphone:f125:d1.2", "the kitchen sink is blocked"),
    ("espeak:en-us+f2:p67:s187:g5", "someone took my desk chair"),
    ("espeak:en-gb-x-gbcwmd+steph:p39:s151:g1", "i need a new keyboard"),
])
def test_talk_in_a_quiet_room_is_not_taken_for_a_first_half(
    spotting_engine: PocketSphinxEngine, speaker_id: str, text: str,
) -> None:
    speaker = next(s for s in corpus.speakers() if s.id == speaker_id)
    speech = corpus.synthesize(speaker, text)
    wait_ms = int(spot_endpointing.JOIN_WITHIN_MS) + 2000
    stream = corpus.mix(speech, bytes(len(speech) + 32 * (1000 + wait_ms)), None, 1000)
    listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())
    heard = list(listener.listen(frames(stream)))
    assert [(t.accepted, t.unfinished, t.left_unfinished) for t in heard
            if t.accepted or t.unfinished or t.left_unfinished] == [], heard


def spy_on(monkeypatch: pytest.MonkeyPatch, check: str) -> list[bool]:
    """What each call of the check ``pocketsphinx_spot.<check>`` returned."""
    fired: list[bool] = []
    original = getattr(pocketsphinx_spot, check)

    def spy(*args: object) -> bool:
        fired.append(original(*args))
        return fired[-1]

    monkeypatch.setattr(pocketsphinx_spot, check, spy)
    return fired


def test_a_command_is_forced_talk_when_one_word_fits_badly_and_a_word_is_squeezed() -> None:
    # pocketsphinx_spot._forced on a scripted path: the phone loop costs 0.01 per frame; a word's
    # fit is how much worse than that its own frames cost (x1e3 per frame).
    loop = [pocketsphinx_spot.Segment("+AH", 0, 199, -2.0)]
    phones = {"please": 4, "take": 3, "the": 2, "call": 3}

    def word(text: str, start: int, frames: int, fit: float) -> pocketsphinx_spot.Segment:
        return pocketsphinx_spot.Segment(text, start, start + frames - 1,
                                         frames * (-0.01 + fit / 1e3))

    def forced(*words: pocketsphinx_spot.Segment) -> bool:
        return pocketsphinx_spot._forced(list(words), loop, phones)

    please, call = word("please", 0, 40, -2.0), word("call", 80, 40, -3.0)
    # "take" in 10 frames (3.3 per phone), 15 worse per frame than free phones: talk
    assert forced(please, word("take", 40, 10, -15.0), word("the", 50, 30, -4.0), call)
    # the same fit at an ordinary pace is a command said badly, not talk forced onto one
    assert not forced(please, word("take", 40, 30, -15.0), word("the", 70, 10, -4.0), call)
    # squeezed but fitting: a quick command
    assert not forced(please, word("take", 40, 10, -5.0), word("the", 50, 30, -4.0), call)
    # a short function word squeezed and badly fitted, as said commands have them
    assert not forced(please, word("take", 40, 30, -5.0), word("the", 70, 4, -14.0), call)
    assert forced(please, word("take", 40, 30, -5.0), word("the", 70, 4, -14.0),
                  word("call", 74, 12, -3.0))  # ... unless a longer word is squeezed too


def without_negating(monkeypatch: pytest.MonkeyPatch) -> PocketSphinxEngine:
    """The spot engine without the negating phrases (pocketsphinx.NEGATING): "please don't"
    now takes some "please ..." office sentences before the strict pass's checks see them
    (they are rejected either way); the checks are tested on their own."""
    monkeypatch.setattr(pocketsphinx, "NEGATING", False)
    return PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES),
                              recognition=Recognition.SPOT)


def test_talk_the_strict_grammar_forced_onto_a_command_is_rejected(
    spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Office sentences said plainly in a quiet room, which the strict pass took whole for
    # commands by forcing one squeezed word onto them ("please call me when you land" ->
    # "please take on the computer"): pocketsphinx_spot.WORD_FIT_BELOW. As in the silence test
    # above, judged on the clips where the check fired (on this machine, 5 of these 6): at
    # least three, each rejected with the check and each taken for a command without it.
    talk = ["please call me when you land", "please close the door when you leave"]
    clips = [corpus.mix(speech, bytes(len(speech) + 32000), None, 500)
             for speech in (corpus.synthesize(s, text) for text in talk
                            for s in (SPEAKERS[0], SPEAKERS[2], SPEAKERS[3]))]
    fired = spy_on(monkeypatch, "_forced")
    engine = without_negating(monkeypatch)

    def heard(pcm: bytes) -> tuple[str, bool]:
        fired.clear()
        t = engine.transcribe_pcm(pcm)
        return (t.text if t.accepted else ""), any(fired)

    forced = [pcm for pcm in clips if heard(pcm)[1]]
    assert len(forced) >= 3
    assert [heard(pcm)[0] for pcm in forced] == [""] * len(forced)
    monkeypatch.setattr(pocketsphinx_spot, "WORD_FIT_BELOW", -math.inf)
    monkeypatch.setattr(pocketsphinx_spot, "PLEASE_FIT_BELOW", -math.inf)  # catches some too
    assert all(heard(pcm)[0] for pcm in forced)  # without the check: taken for commands


def test_please_does_not_carry_the_rest_of_a_command() -> None:
    # pocketsphinx_spot._carried on a scripted path: the phone loop costs 0.01 per frame; a
    # word's fit is how much worse than that its own frames cost (x1e3 per frame).
    loop = [pocketsphinx_spot.Segment("+AH", 0, 199, -2.0)]

    def word(text: str, start: int, frames: int, fit: float) -> pocketsphinx_spot.Segment:
        return pocketsphinx_spot.Segment(text, start, start + frames - 1,
                                         frames * (-0.01 + fit / 1e3))

    def carried(*words: pocketsphinx_spot.Segment,
                around: tuple[pocketsphinx_spot.Segment, ...] = ()) -> bool:
        return pocketsphinx_spot._carried(list(words), loop, list(around))

    answer, call = word("answer", 40, 30, -6.0), word("call", 90, 30, -5.0)
    # "please" fits (-1); the rest at -5.4 per frame: talk that "please" carried
    assert carried(word("please", 0, 40, -1.0), answer, word("the", 70, 20, -5.0), call)
    # without "please" the rest is judged by the strict pass's whole-utterance threshold alone
    assert not carried(answer, word("the", 70, 20, -5.0), call)
    # said well after "please"
    assert not carried(word("please", 0, 40, -1.0), word("answer", 40, 30, -3.0),
                       word("the", 70, 20, -4.0), word("call", 90, 30, -3.0))
    # "slow down please": the polite word at the end counts the same
    assert carried(word("slow", 0, 30, -6.0), word("down", 30, 30, -5.0),
                   word("please", 60, 40, -0.5))
    assert not carried(word("please", 0, 40, -9.0))  # nothing but "please": not this check
    # the person's own words after the command are held to the same: "thanks" fits, the rest
    # at -5.4 was talk; said well, it stands. Words only before it ("okay"), to the looser
    # CARRIED_BEFORE_FIT_BELOW: "um what devices do i have" at -5.3 was a right command
    # (tests below); looser after it, talk went through ("take it easy this weekend" as "take
    # it using desk phone thanks"), and with "please" ("please take the call" as "please
    # ignore the call")
    assert pocketsphinx_spot.PLEASE_FIT_BELOW > -5.4 > pocketsphinx_spot.CARRIED_BEFORE_FIT_BELOW
    okay, thanks = word("okay", 0, 40, -1.0), word("thanks", 120, 40, -1.0)
    assert carried(answer, word("the", 70, 20, -5.0), call, around=(thanks,))
    assert not carried(answer, word("the", 70, 20, -5.0), call, around=(okay,))
    assert carried(answer, word("the", 70, 20, -5.0), call, around=(okay, thanks))
    assert carried(word("answer", 40, 30, -8.0), word("the", 70, 20, -7.0), call, around=(okay,))
    assert not carried(word("answer", 40, 30, -3.0), word("the", 70, 20, -4.0),
                       word("call", 90, 30, -3.0), around=(word("okay", 0, 40, -1.0),))
    # ... and a carrier word that took talk ("thank you" over "to comment on the rumours")
    # fits its own frames worse than pocketsphinx_spot.WORD_FIT_BELOW
    assert carried(word("answer", 40, 30, -3.0), around=(word("thank", 120, 50, -9.0),))
    assert carried(word("answer", 40, 30, -3.0), around=(word("hey", 0, 40, -9.0),))  # before too
    assert not carried(word("answer", 40, 30, -3.0), around=(word("thank", 120, 50, -7.0),))


def test_talk_that_begins_with_please_is_not_taken_whole_for_a_command(
    spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Office sentences that begin with "please", said plainly in a quiet room, which the strict
    # pass took whole for "please <a command>" ("please sign the birthday card" -> "please
    # ignore the call"): pocketsphinx_spot.PLEASE_FIT_BELOW. On this machine the check fires
    # on all five. The spotting pass then finds "please <a command>" in some of them, which its
    # gate took (MBROLA: "please sign the birthday card" -> "please answer the call"); the
    # same check on the spotted words rejects those too.
    said = [("please send the report to the team", 0), ("please send the report to the team", 3),
            ("please call me when you land", 3), ("please sign the birthday card", 2),
            ("please close the door when you leave", 1)]
    clips = [corpus.mix(speech, bytes(len(speech) + 32000), None, 500)
             for speech in (corpus.synthesize(SPEAKERS[i], text) for text, i in said)]
    fired = spy_on(monkeypatch, "_carried")
    engine = without_negating(monkeypatch)

    def heard(pcm: bytes) -> tuple[str, bool, bool]:
        fired.clear()
        t = engine.transcribe_pcm(pcm)
        return (t.text if t.accepted else ""), bool((t.details or {}).get("strict")), any(fired)

    with_check = [heard(pcm) for pcm in clips]
    caught = [pcm for pcm, (_, _, hit) in zip(clips, with_check) if hit]
    assert len(caught) >= 4
    assert not any(strict for _, strict, hit in with_check if hit)  # none taken whole
    assert [text for text, _, hit in with_check if hit] == [""] * len(caught), with_check
    monkeypatch.setattr(pocketsphinx_spot, "PLEASE_FIT_BELOW", -math.inf)
    monkeypatch.setattr(pocketsphinx_spot, "FORCED_WORDS", 0)  # catches two of them too
    without = [heard(pcm) for pcm in caught]  # without the check: taken whole, "please ..."
    assert all(strict and text.startswith("please ") for text, strict, _ in without), without


def test_two_words_forced_onto_talk_make_it_talk() -> None:
    # pocketsphinx_spot._many_forced on a scripted path (the phone loop costs 0.01 per frame; a
    # word's fit is how much worse its own frames cost, x1e3 per frame): "pick up some milk on
    # the way home" heard whole as "pick up on the lobby phone", "up" at -8.4 and "lobby" at
    # -9.3 (MBROLA, bench/commit_replay.py --led --voices unseen).
    loop = [pocketsphinx_spot.Segment("+AH", 0, 299, -3.0)]

    def path(*fits: float) -> list[pocketsphinx_spot.Segment]:
        words = ("pick", "up", "on", "the", "lobby", "phone")
        return [pocketsphinx_spot.Segment(w, 40 * i, 40 * i + 39, 40 * (-0.01 + f / 1e3))
                for i, (w, f) in enumerate(zip(words, fits))]

    assert pocketsphinx_spot._many_forced(path(-2.4, -8.4, -7.9, -7.9, -9.3, -1.9), loop)
    # one word that fits badly is a right command's, as often as not (14 of the corpus's)
    assert not pocketsphinx_spot._many_forced(path(-2.4, -8.4, -7.9, -7.9, -7.0, -1.9), loop)
    assert not pocketsphinx_spot._many_forced(path(-2.4, -4.0, -3.0, -5.0, -4.0, -1.9), loop)


def test_commands_after_the_persons_own_words_are_heard_whole(
        spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # pocketsphinx_spot.CARRIED_BEFORE_FIT_BELOW, on corpus voices in a quiet room: heard
    # rightly by the strict pass, and rejected when held to the "please" threshold, which
    # words before a command were held to before.
    speakers = {s.id: s for s in corpus.speakers()}
    said = [("um what devices do i have", "espeak:en-us+f4:p58:s174:g4"),
            ("hey answer the call on my desk phone", "espeak:en-us-nyc+m1:p61:s181:g4")]
    clips = [corpus.mix(speech, bytes(len(speech) + 32000), None, 500)
             for speech in (corpus.synthesize(speakers[i], text) for text, i in said)]

    def heard(pcm: bytes) -> str:
        t = spotting_engine.transcribe_pcm(pcm)
        return t.text if t.accepted and (t.details or {}).get("strict") else ""

    assert [heard(pcm) for pcm in clips] == [text for text, _ in said]
    monkeypatch.setattr(pocketsphinx_spot, "CARRIED_BEFORE_FIT_BELOW",
                        pocketsphinx_spot.PLEASE_FIT_BELOW)
    assert [heard(pcm) for pcm in clips] == ["", ""]


def test_please_commands_said_in_steady_noise_are_not_taken_for_carried_talk(
    spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Commands with "please", said in pink or white noise (corpus seeds 0 and 2): the spotting
    # pass hears them right, and every word but "please" fits its frames worse than
    # pocketsphinx_spot.PLEASE_FIT_BELOW in the noise, as talk that "please" carried would.
    # None of their words fits worse than WORD_FIT_BELOW, as a word forced over talk does, so
    # they stand (pocketsphinx_spot.PLEASE_SPOTTED_WORD).
    jobs = [("please answer", "answer", None, "flite:awb:f100:d0.9", "pink20", 2049892495),
            ("please pick up the phone", "answer", None, "espeak:en-029+f1:p66:s190:g5",
             "pink20", 1449929398),
            ("please answer on my headset", "answer", "headset",
             "espeak:en-us-nyc+f5:p53:s169:g3", "white12", 1639384659),
            ("please send the call to voicemail", "voicemail", None,
             "espeak:en-gb-scotland+m4:p33:s141:g0", "pink20", 1939279201)]
    voices = {s.id: s for s in corpus.speakers()}
    clips = [corpus._render(("command", (text, text, intent, device), voices[voice], room, seed))
             for text, intent, device, voice, room, seed in jobs]

    def understood() -> list[bool]:
        out = []
        for item in clips:
            t = spotting_engine.transcribe_pcm(item.pcm)
            out.append(t.command is not None and (t.command.intent.value, t.command.device)
                       == (item.intent, item.device))
        return out

    assert understood() == [True] * len(clips)
    monkeypatch.setattr(pocketsphinx_spot, "PLEASE_SPOTTED_WORD", False)
    assert sum(understood()) <= 1  # the check without the forced word: lost


def test_a_pause_at_speech_level_is_talk() -> None:
    # pocketsphinx_spot._talk_in_pause on a scripted spotting path: "webex" and "app" at 60 dB
    # in a room at 20 dB, a "<sil>" between them, and 2 s after them; a "<sil>" the grammar
    # put over talk is as loud as the words.
    def talk(pause_db: float, pause_frames: int = 60, after_db: float = 20.0,
             after: str = "<sil>", whole: bool = False) -> bool:
        levels = np.full(400, 20.0)
        app = 100 + pause_frames
        levels[50:100] = levels[app : app + 40] = 60.0
        levels[100:app] = pause_db
        levels[app + 40 :] = after_db
        spotted = [pocketsphinx_spot.Segment("<sil>", 0, 49, 0.0),
                   pocketsphinx_spot.Segment("webex", 50, 99, -1.0),
                   pocketsphinx_spot.Segment("<sil>", 100, app - 1, -1.0),
                   pocketsphinx_spot.Segment("app", app, app + 39, -1.0),
                   pocketsphinx_spot.Segment(after, app + 40, 399, -1.0)]
        return pocketsphinx_spot._talk_in_pause(spotted, levels, whole)

    assert talk(57.0)  # 600 ms between the words, 3 dB under them: talk
    assert talk(54.0)  # ... 6 dB under
    assert not talk(30.0)  # a hesitation: the room
    assert not talk(48.0)  # ... a loud room (12 dB under the words)
    assert not talk(57.0, pause_frames=50)  # 500 ms: the words' own gaps and decay
    # After the words: judged only around a bare device reply, which stands alone
    assert not talk(30.0, after_db=57.0)
    assert talk(30.0, after_db=57.0, whole=True)
    assert not talk(30.0, whole=True)
    # talk the path called garbage is the gate's to weigh, not a pause
    assert not talk(30.0, after_db=57.0, after="ph_ah", whole=True)


def test_the_assistants_own_sentences_are_not_a_device_between_pauses(
    spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The assistant's sentences that begin with "Webex", said plainly in a quiet room: the
    # spotting pass took "webex" and a last word like "that" for the bare device "webex app",
    # and called the talk between or after them silence (pocketsphinx_spot.PAUSE_BELOW_DB).
    # Which clips it does that on shifts from machine to machine, so the check is judged on
    # the clips where it fired: at least three, each rejected with it (and not reported as
    # heard) and each accepted without it (as "webex app", here).
    said = ["webex needs a confirmation before it can do that", "webex could not be reached",
            "webex is reachable again", "webex says that device isn't ringing for this call"]
    clips = [corpus.mix(speech, bytes(len(speech) + 32000), None, 500)
             for speech in (corpus.synthesize(s, text) for text in said for s in SPEAKERS)]
    fired = spy_on(monkeypatch, "_talk_in_pause")

    def heard(pcm: bytes) -> tuple[str, str, bool]:
        fired.clear()
        t = spotting_engine.transcribe_pcm(pcm)
        return (t.device_only or t.text) if t.accepted else "", t.text, any(fired)

    caught = [pcm for pcm in clips if heard(pcm)[2]]
    assert len(caught) >= 3
    assert [heard(pcm)[:2] for pcm in caught] == [("", "")] * len(caught)
    monkeypatch.setattr(pocketsphinx_spot, "PAUSE_BELOW_DB", -math.inf)
    assert all(heard(pcm)[0] for pcm in caught)  # without the check: accepted


def test_a_command_followed_by_thanks_is_understood(spotting_engine: PocketSphinxEngine) -> None:
    # People thank the assistant in the same breath: the strict grammar allows "thank you"
    # after a command (Carriers); a trailing "okay" it does not allow. Through the listener, as
    # the assistant hears them: it acts on the command at the dip before such words, or the
    # strict pass hears them whole, or the spotting pass finds the command before them. Words
    # after a spotted command count against it (pocketsphinx_spot.OWN_WORDS_AFTER): on whole
    # clips that lost 3 of these 8, through the listener at most 1 (measured 5 December).
    said = [("answer on my headset thank you", "headset"),
            ("answer on my desk phone okay", "desk phone")]
    heard = []
    for text, device in said:
        for speaker in SPEAKERS[:4]:
            speech = corpus.synthesize(speaker, text)
            listener = SpottingListener(spotting_engine.recognizer(), SpeechSettings())
            stream = corpus.mix(speech, bytes(len(speech) + 2 * 32000), None, 1000)
            acted = [t for t in listener.listen(frames(stream)) if t.accepted and t.command]
            got = [(t.command.intent.value, t.command.device) for t in acted if t.command]
            heard.append((got, ("answer", device)))
    assert sum(got == [want] for got, want in heard) >= 7, heard
    assert all(got in ([], [want]) for got, want in heard), heard  # never another action


def test_a_command_with_the_persons_own_words_around_it_is_understood(
        spotting_engine: PocketSphinxEngine) -> None:
    # "okay, answer on my headset": before the carrier words were in the strict grammar
    # (3 December) the strict pass rejected most of these and the spotting pass's gate took
    # the words before the command for talk (bench/carriers.py: 53 of 282 understood).
    said = [("okay answer on my headset", "answer", "headset"),
            ("um decline the call", "decline", None),
            ("hey put the call on hold", "hold", None),
            ("send it to voicemail thanks", "voicemail", None)]
    heard = []
    for text, intent, device in said:
        for speaker in SPEAKERS[:4]:
            speech = corpus.synthesize(speaker, text)
            t = spotting_engine.transcribe_pcm(
                corpus.mix(speech, bytes(len(speech) + 32000), None, 500))
            got = (t.command.intent.value, t.command.device) if t.accepted and t.command else None
            heard.append((got, (intent, device)))
    # Measured: 11 of 16, none wrong; without the carriers in the grammar 9, and 2 wrong.
    assert sum(got == want for got, want in heard) >= 10, heard
    assert all(got in (None, want) for got, want in heard), [h for h in heard if h[0] != h[1]]  # never another action


def after_a_colleague(speech: bytes, colleague: bytes, seed: int, group: str) -> bytes:
    """A colleague's sentence 12 dB below the person, then 100 ms later the person's command,
    with 20 dB babble around both: talk just before the command, in the same utterance."""
    talk = np.frombuffer(colleague, np.int16).astype(np.float64) * 10 ** (-12 / 20)
    joined = np.concatenate([talk, np.zeros(1600), np.frombuffer(speech, np.int16)])
    return in_babble(joined.astype(np.int16).tobytes(), 20.0, seed, group, before_ms=800,
                     after_ms=800)


def test_a_command_said_straight_after_a_colleagues_sentence_is_understood(
        spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # In babble of real people (bench/real_speech.py) the strict pass lost commands that had
    # talk just before them, and the spotting pass found them, its gate unsure: the strict pass
    # on the spotted span alone is the second view (pocketsphinx_spot.SPAN_RECHECK).
    colleague = corpus.synthesize(SPEAKERS[0], "i sent the slides this morning")
    speaker = SPEAKERS[3]  # flite rms
    said = [("decline the call", "decline", 10), ("put the call on hold", "hold", 31)]
    clips = [(after_a_colleague(corpus.synthesize(speaker, text), colleague, seed,
                                speaker.group), intent) for text, intent, seed in said]

    def heard() -> list[tuple[str | None, str]]:
        out = []
        for pcm, intent in clips:
            t = spotting_engine.transcribe_pcm(pcm)
            out.append((t.command.intent.value if t.accepted and t.command else None, intent))
        return out

    assert all(got == want for got, want in heard()), heard()
    monkeypatch.setattr(pocketsphinx_spot, "SPAN_RECHECK", False)
    assert all(got is None for got, _ in heard()), heard()  # the rule is what finds them


def test_a_command_said_not_to_be_done_is_never_acted_on(
        spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # "don't hang up" holds "hang up". Before the negating words were in the grammars
    # (pocketsphinx.NEGATING), most of these were acted on: "don't take it" as "so take it"
    # (a carrier), "don't hang up" as talk, then "hang up".
    clips = []
    for i, text in enumerate(("don't hang up", "don't take it", "don't put it on hold")):
        for j, speaker in enumerate(SPEAKERS[:4]):
            speech = corpus.synthesize(speaker, text)
            clips += [(text, speaker.id, corpus.mix(speech, bytes(len(speech) + 32000), None, 500)),
                      (text, speaker.id, in_babble(speech, 12.0, 10 * i + j, speaker.group))]

    def acted_on(engine: PocketSphinxEngine) -> list[tuple[str, str, str]]:
        heard = [(text, who, engine.transcribe_pcm(pcm)) for text, who, pcm in clips]
        return [(text, who, t.text) for text, who, t in heard if t.accepted]

    assert acted_on(spotting_engine) == []
    monkeypatch.setattr(pocketsphinx, "NEGATING", False)
    without = PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES),
                                 recognition=Recognition.SPOT)
    assert len(acted_on(without)) >= 4  # measured: 8 of the 24


def test_dont_heard_in_the_rooms_talk_does_not_undo_the_persons_command(
        spotting_engine: PocketSphinxEngine) -> None:
    # SpottingRecognizer._room_negation on a scripted spotting path: "don't" right before
    # "hang up". Measured in babble of real people: the talk just before a command was spotted
    # as "don't" and the command lost.
    recognizer = spotting_engine.recognizer()
    assert isinstance(recognizer, pocketsphinx_spot.SpottingRecognizer)
    segment = pocketsphinx_spot.Segment

    def path(dont_db: float) -> list[str]:
        levels = np.full(200, 30.0)
        levels[40:60], levels[60:120] = dont_db, 60.0
        spotted = [segment("ph_ah", 0, 39, -1.0), segment("dc_don't", 40, 59, -1.0),
                   segment("hang", 60, 89, -1.0), segment("up", 90, 119, -1.0),
                   segment("<sil>", 120, 199, -1.0)]
        return [s.word for s in recognizer._room_negation(spotted, levels)]

    assert path(58.0)[1] == "dc_don't"  # the person's own: the command is not to be done
    assert path(55.0)[1] == "dc_don't"  # 5 dB under the command: still the person's
    assert path(50.0)[1].startswith("ph_")  # 10 dB under: the room's talk, garbage
    recognizer.release()


def test_a_dont_that_may_be_the_rooms_talk_neither_declines_nor_answers(
        spotting_engine: PocketSphinxEngine) -> None:
    # SpottingRecognizer._doubtful_negation on scripted paths of "don't answer the call" (a
    # decline). Measured on voices no setting was chosen on, in babble: "answer the call" was
    # declined as "don't answer the call", the room's talk taken for "don't" (cut off at the
    # audio's start, 2.8 frames per phone; or 1.3 s of real talk, 31.8 frames per phone).
    recognizer = spotting_engine.recognizer()
    assert isinstance(recognizer, pocketsphinx_spot.SpottingRecognizer)
    segment = pocketsphinx_spot.Segment
    phones = {"don't": 4, "do": 2, "not": 3, "answer": 4, "the": 2, "call": 3}

    # the phone loop costs 0.01 per frame; a word's fit is how much worse than that its own
    # frames cost (x1e3 per frame)
    loop = [segment("+AH", 0, 399, -4.0)]

    def doubtful(lead: list[tuple[str, int]], lead_db: float, lead_fit: float = -3.0) -> bool:
        levels = np.full(400, 30.0)
        words, at = [], 10
        for word, n in lead:
            words.append(segment(word, at, at + n - 1, n * (-0.01 + lead_fit / 1e3)))
            levels[at : at + n] = lead_db
            at += n
        for word in ("answer", "the", "call"):
            n = 8 * phones[word]
            words.append(segment(word, at, at + n - 1, n * (-0.01 - 3.0 / 1e3)))
            levels[at : at + n] = 64.0
            at += n
        return recognizer._doubtful_negation(words, levels, phones, loop)

    assert not doubtful([("don't", 28)], 63.0)  # the person's own: 7 frames per phone
    assert not doubtful([("do", 16), ("not", 27)], 62.0)  # "do not", slowly
    assert doubtful([("don't", 11)], 63.0)  # cut off at the audio's start: 2.8 per phone
    assert doubtful([("don't", 127)], 63.0)  # 1.3 s of talk: 31.8 per phone
    assert doubtful([("don't", 28)], 56.0)  # 8 dB under the command: the room's talk
    # talk forced onto "don't" (held out, babble: "where are the spare batteries" as "don't
    # answer it", its "don't" at -9.1): it fits worse than pocketsphinx_spot.WORD_FIT_BELOW
    assert doubtful([("don't", 28)], 63.0, lead_fit=-9.0)
    assert not doubtful([("don't", 28)], 63.0, lead_fit=-7.0)
    assert not recognizer._doubtful_negation(  # no "don't": nothing to doubt
        [segment("answer", 10, 41, -1.0)], np.full(100, 60.0), phones, loop)
    recognizer.release()


def test_after_a_doubtful_dont_no_other_command_is_spotted_in_its_place(
        spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Measured (bench/commit_replay.py, flite kal in 12 dB babble): the strict pass's "do not
    # answer" was rejected for a "don't" that might be the room's, and the spotting pass then
    # took "answer it": the call the person declined would have been answered. Here every
    # "don't" is doubted: the person's own "don't answer ..." is then no action at all.
    recognizer = spotting_engine.recognizer()
    assert isinstance(recognizer, pocketsphinx_spot.SpottingRecognizer)
    said = [(speaker, text) for speaker in SPEAKERS[:4]
            for text in ("do not answer it", "don't answer the call")]

    def heard() -> list[str | None]:
        out = []
        for speaker, text in said:
            t = recognizer.decode(bytes(9600) + corpus.synthesize(speaker, text) + bytes(9600))
            out.append(t.command.intent.value if t.accepted and t.command else None)
        return out

    as_said = heard()
    assert as_said.count("decline") >= 6 and "answer" not in as_said, as_said
    doubt = recognizer._doubtful_negation
    monkeypatch.setattr(recognizer, "_doubtful_negation", lambda words, levels, phones, loop: bool(
        words and words[0].word in ("don't", "do")) or doubt(words, levels, phones, loop))
    assert heard() == [None] * len(said)
    recognizer.release()


def test_a_doubtful_dont_makes_the_strict_pass_doubt_its_command(
        spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # SpottingRecognizer._checked on a scripted strict path (the phone loop taken to fit as
    # well): a doubtful "don't" rejects "don't answer the call" and names the decline as
    # doubted, so the spotting pass may not act on another command ("answer it") instead.
    from assistant.speech.base import Transcript

    recognizer = spotting_engine.recognizer()
    assert isinstance(recognizer, pocketsphinx_spot.SpottingRecognizer)
    segment = pocketsphinx_spot.Segment
    decline = spotting_engine.language.parse("don't answer the call")
    assert decline is not None and decline.intent.value == "decline"

    def checked(dont_frames: int) -> tuple[bool, object]:
        path, at = [segment("<sil>", 0, 19, -1.0)], 20
        levels = np.full(300, 30.0)
        for word, n in (("don't", dont_frames), ("answer", 32), ("the", 16), ("call", 24)):
            path.append(segment(word, at, at + n - 1, -1.0 * n))
            levels[at : at + n] = 64.0
            at += n
        path.append(segment("<sil>", at, 299, -1.0))
        monkeypatch.setattr(pocketsphinx_spot, "segments", lambda decoder: path)
        strict = Transcript("don't answer the call", True, decline, 0.9, 0.0, 0.0)
        checked, _, doubted = recognizer._checked(strict, levels)
        return checked.accepted, doubted

    assert checked(28) == (True, None)  # the person's "don't": declined
    assert checked(11) == (False, decline)  # cut off at the start of the audio: doubted
    recognizer.release()


def test_words_of_the_persons_own_before_a_spotted_command_may_undo_it(
        spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # pocketsphinx_spot.OWN_WORDS_BEFORE. Measured on a voice no setting was chosen on (SVOX
    # Pico, British): its "don't" is no "don't" to the US model, and "don't put it on hold" was
    # spotted as talk + "put it on hold". Here "never", which no grammar has.
    speaker = next(s for s in corpus.speakers() if s.id == "espeak:en-us+m7:p51:s163:g3")
    pcm = bytes(9600) + corpus.synthesize(speaker, "never put it on hold") + bytes(9600)
    recognizer = spotting_engine.recognizer()
    monkeypatch.setattr(pocketsphinx_spot, "OWN_WORDS_BEFORE", True)
    heard = recognizer.decode(pcm)
    assert not heard.accepted and heard.command is None
    monkeypatch.setattr(pocketsphinx_spot, "OWN_WORDS_BEFORE", False)
    heard = recognizer.decode(pcm)  # without it, spotted and acted on
    assert heard.accepted and heard.command is not None and heard.command.intent.value == "hold"
    recognizer.release()


def test_own_words_after_a_spotted_command_make_it_talk(
        spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # pocketsphinx_spot.OWN_WORDS_AFTER. Measured on voices no setting was chosen on (MBROLA,
    # Pico): "mute your phone in the cinema" acted on as "mute the phone", "send them to the
    # front desk when they arrive" as "send them to voicemail". Here sentences that begin like
    # a command, said plainly in a quiet room by corpus voices in which, on this machine, the
    # spotting pass finds the command and its gate takes it: the words after it stop them.
    said = [("espeak:en-us+klatt:p59:s175:g4", "mute your phone in the cinema", "mute"),
            ("flite:kal:f0:d1", "put it on hold for a minute while i check", "hold"),
            ("flite:slt:f150:d1.1", "send it to voicemail if it is a sales call", "voicemail"),
            ("flite:slt:f150:d1.1", "mute the phone during the board meeting", "mute")]
    by_id = {s.id: s for s in corpus.speakers()}
    clips = [(corpus.mix(speech, bytes(len(speech) + 32000), None, 500), intent)
             for speech, intent in ((corpus.synthesize(by_id[i], text), intent)
                                    for i, text, intent in said)]

    def acted(rule: bool) -> list[str | None]:
        monkeypatch.setattr(pocketsphinx_spot, "OWN_WORDS_AFTER", rule)
        heard = [spotting_engine.transcribe_pcm(pcm) for pcm, _ in clips]
        return [t.command.intent.value if t.accepted and t.command else None for t in heard]

    assert acted(True) == [None] * len(clips)
    without = acted(False)  # without the rule: the sentence's start is the command
    assert sum(got == intent for got, (_, intent) in zip(without, clips)) >= 3, without


def acted_on_only_without(engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch,
                          speaker_id: str, text: str, rule: str, off: object) -> Transcript:
    """``text`` said plainly in a quiet room by the corpus voice ``speaker_id`` is not acted
    on; returns what it is heard as with ``pocketsphinx_spot.<rule>`` set to ``off``."""
    speech = corpus.synthesize({s.id: s for s in corpus.speakers()}[speaker_id], text)
    pcm = corpus.mix(speech, bytes(len(speech) + 32000), None, 500)
    heard = engine.transcribe_pcm(pcm)
    assert not heard.accepted and heard.command is None, heard.text
    monkeypatch.setattr(pocketsphinx_spot, rule, off)
    return engine.transcribe_pcm(pcm)


def test_talk_laid_over_a_drawn_out_last_word_and_okay_is_not_a_command(
        spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # pocketsphinx_spot.STRETCHED_BEFORE_CARRIER. With "okay" among the words allowed after a
    # command (carriers.after), the strict pass explained this sentence whole as "put it on hold
    # okay": "hold" drawn over "hold for a minute while", "okay" over the rest.
    heard = acted_on_only_without(spotting_engine, monkeypatch, "flite:kal:f0:d1",
                                  "put it on hold for a minute while i check",
                                  "STRETCHED_BEFORE_CARRIER", math.inf)  # without the limit
    assert heard.accepted and heard.command is not None and heard.command.intent.value == "hold"
    assert heard.text == "put it on hold okay"


def test_talk_laid_over_a_word_inside_a_command_is_not_a_command(
        spotting_engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # pocketsphinx_spot.VOICED_STRETCH. The strict pass explained this sentence whole as "ignore
    # the call": "the" over "the warnings in the build" (1.14 s at the voice's level), "call"
    # over "log". Only the last word's stretch was limited (STRETCHED_FRAMES_PER_PHONE).
    heard = acted_on_only_without(spotting_engine, monkeypatch, "espeak:en-us+f2:p67:s187:g5",
                                  "ignore the warnings in the build log", "VOICED_STRETCH", False)
    assert heard.accepted and heard.command is not None and heard.text == "ignore the call"


def test_a_hesitation_inside_a_command_is_no_stretched_word() -> None:
    # VOICED_STRETCH counts only frames at the voice's level: a pause inside "answer on my ...
    # headset" (quiet frames) is not a word drawn out, talk at the voice's level is.
    phones = {"on": 2, "my": 2, "headset": 6}
    levels = np.full(300, 20.0)
    levels[0:40] = levels[60:80] = levels[200:260] = 70.0  # "on", "my" ... "headset"
    paused = [Segment("on", 0, 40, -1.0), Segment("my", 41, 199, -1.0),
              Segment("headset", 200, 260, -1.0)]  # "my" took the 1.2 s pause
    assert not pocketsphinx_spot._voiced_stretch(paused, phones, levels)
    levels[80:200] = 68.0  # the same span, but talk at the voice's level
    assert pocketsphinx_spot._voiced_stretch(paused, phones, levels)
