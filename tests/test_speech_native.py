"""The strict pass's phone loop through PocketSphinx's C interface (``assistant.speech.native``):
the same decoder as the Cython one, score for score, decoding beside the grammar; and when it
cannot load or fails, the recogniser still hears, or says that it failed."""

from __future__ import annotations

import json

import pytest
import speech_corpus as corpus
from fixtures_speech import DEVICE_PHRASES, synthesize

from assistant.config import Recognition
from assistant.intents import CommandLanguage
from assistant.speech import native
from assistant.speech.native import NativeDecoder
from assistant.speech.pocketsphinx import (
    BindingPhoneLoop,
    PocketSphinxEngine,
    PocketSphinxRecognizer,
    _path_score,
)


@pytest.fixture(scope="module")
def engine() -> PocketSphinxEngine:
    return PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES), recognition=Recognition.STRICT)


def clips() -> list[bytes]:
    """Commands and off-domain talk, clean and in office babble."""
    said = [synthesize("answer on my desk phone", "en-us+m3"), synthesize("decline", "en-us+f2"),
            synthesize("the coffee machine on my desk is broken", "en-us")]
    chatter = corpus.babble(4500, seed=3, talkers=3)
    return said + [corpus.mix(s, chatter, 12.0, offset_ms=800) for s in said[:2]]


def test_the_native_phone_loop_is_configured_like_the_cython_one(engine: PocketSphinxEngine) -> None:
    phones = engine.new_phone_loop()
    assert isinstance(phones, NativeDecoder), "the C interface loads from the pocketsphinx wheel"
    cython = engine.new_phone_decoder()
    assert json.loads(phones.config_json()) == json.loads(cython.config.dumps())  # type: ignore[attr-defined]
    assert phones.lookup_word("zebra") is None  # no dictionary: phones only
    assert phones.lookup_word("<sil>") == "SIL"  # the model's fillers


def test_the_native_phone_loop_scores_exactly_like_the_cython_one(engine: PocketSphinxEngine) -> None:
    phones = engine.new_phone_loop()
    assert isinstance(phones, NativeDecoder)
    cython = engine.new_phone_decoder()
    for pcm in clips():
        cython.reinit_feat()  # type: ignore[attr-defined]  # native starts each utterance afresh
        cython.start_utt()  # type: ignore[attr-defined]
        cython.process_raw(pcm, False, True)  # type: ignore[attr-defined]
        cython.end_utt()  # type: ignore[attr-defined]
        expected = _path_score(cython)[1]
        assert expected < 0.0
        assert phones.log_likelihood(pcm) == expected
        assert phones.start(pcm).result() == expected  # in a thread of its own


def test_decoding_beside_the_grammar_changes_no_transcript(engine: PocketSphinxEngine) -> None:
    beside = PocketSphinxRecognizer(engine)
    assert isinstance(beside.phones, NativeDecoder)
    after = PocketSphinxRecognizer(engine)
    after.phones = BindingPhoneLoop(engine.new_phone_decoder())  # after the grammar
    heard = []
    for pcm in clips():
        results = []
        for recognizer in (beside, after):
            recognizer.accept(pcm)
            results.append(recognizer.final())
        a, b = results
        assert (a.text, a.accepted, a.confidence, a.score) == (b.text, b.accepted, b.confidence, b.score)  # type: ignore[attr-defined]
        heard.append(a.command.intent.value if a.accepted and a.command else None)
    assert heard[:2] == ["answer", "decline"] and heard[2] is None, heard


def test_without_the_c_interface_the_phone_loop_decodes_after_the_grammar(
    engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(native, "_library", lambda: None)
    recognizer = PocketSphinxRecognizer(engine)
    assert not isinstance(recognizer.phones, NativeDecoder)
    recognizer.accept(synthesize("answer on my desk phone", "en-us+m3"))
    t = recognizer.final()
    assert t.accepted and t.command is not None and t.command.device == "desk phone"


def test_a_failing_phone_loop_is_an_error_not_a_silent_result(
    engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The microphone part's supervisor says so when the recogniser raises
    (tests/test_loop.py); a decode that failed must not turn into "nothing heard"."""
    def broken(self: NativeDecoder, pcm: bytes, entered: object = None) -> float:
        raise RuntimeError("Failed to process 100 samples of audio data")

    recognizer = PocketSphinxRecognizer(engine)
    monkeypatch.setattr(NativeDecoder, "log_likelihood", broken)
    recognizer.accept(synthesize("answer on my desk phone", "en-us+m3"))
    with pytest.raises(RuntimeError, match="Failed to process"):
        recognizer.final()


def test_the_phone_loop_decodes_beside_the_grammar_only_in_a_quiet_room(
    engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With talk around, both cores are busy and most utterances are garbage that needs no
    phone loop: it then decodes after the grammar, and only for a command."""
    started: list[int] = []
    start = NativeDecoder.start

    def counted(self: NativeDecoder, pcm: bytes) -> native.Decode:
        started.append(len(pcm))
        return start(self, pcm)

    monkeypatch.setattr(NativeDecoder, "start", counted)
    recognizer = PocketSphinxRecognizer(engine)
    answer, _, talk, answer_in_babble, decline_in_babble = clips()
    for pcm in (answer, talk):  # also for talk that turns out to be garbage
        recognizer.accept(pcm)
        recognizer.final()
    assert len(started) == 2
    for pcm in (answer_in_babble, decline_in_babble):
        recognizer.accept(pcm)
        recognizer.final()
    assert len(started) == 2


def test_a_phone_loop_the_c_interface_refuses_is_built_by_the_binding(
    engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(config_json: str) -> NativeDecoder:
        raise RuntimeError("PocketSphinx could not build the phone loop")

    monkeypatch.setattr(NativeDecoder, "load", staticmethod(refused))
    phones = engine.new_phone_loop()
    assert not isinstance(phones, NativeDecoder)
    assert phones.lookup_word("zebra") is None  # type: ignore[attr-defined]  # a working decoder


def test_an_utterance_is_heard_the_same_whatever_was_heard_before() -> None:
    """PocketSphinx's feature extraction kept state across utterances: the same clip scored
    differently after another one (``pocketsphinx.decode_whole``)."""
    spot = PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES), recognition=Recognition.SPOT)
    answer, decline, talk, answer_in_babble, _ = clips()
    for recognizer in (spot.recognizer(), PocketSphinxRecognizer(spot)):
        heard = []
        for pcm in (answer, talk, answer, answer_in_babble, decline, answer_in_babble):
            recognizer.accept(pcm)
            t = recognizer.final()
            heard.append((t.text, t.accepted, t.confidence, getattr(t, "score", None), t.details))
        assert heard[0] == heard[2] and heard[3] == heard[5], heard
        assert heard[0][1], "the clean command is heard"
