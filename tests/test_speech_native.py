"""Every decoder through PocketSphinx's C interface (``assistant.speech.native``): the same
decoders as the Cython binding's, score for score; a decode lets the assistant's other threads
run (the binding holds the GIL for the whole of it); the strict pass's phone loop decodes beside
the grammar; and when the interface cannot load or fails, the recogniser still hears, or says
that it failed."""

from __future__ import annotations

import json
import queue
import threading

import pytest
from pocketsphinx import get_model_path
import speech_corpus as corpus
from fixtures_speech import DEVICE_PHRASES, synthesize

from assistant.config import Recognition
from assistant.intents import CommandLanguage
from assistant.speech import native
from assistant.speech import pocketsphinx as ps
from assistant.speech.native import NativeDecoder
from assistant.speech.pocketsphinx import (
    BindingPhoneLoop,
    PocketSphinxEngine,
    PocketSphinxRecognizer,
    _path_score,
    binding_decoder,
)
from assistant.speech import pocketsphinx_spot as spot
from assistant.speech.pocketsphinx_spot import SpottingRecognizer


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
    cython = binding_decoder(lm=None, allphone=get_model_path("en-us/en-us-phone.lm.bin"),
                             topn=ps.TOPN)
    assert json.loads(phones.config_json()) == json.loads(cython.config.dumps())  # type: ignore[attr-defined]
    assert phones.lookup_word("zebra") is None  # no dictionary: phones only
    assert phones.lookup_word("<sil>") == "SIL"  # the model's fillers


def test_the_native_phone_loop_scores_exactly_like_the_cython_one(engine: PocketSphinxEngine) -> None:
    phones = engine.new_phone_loop()
    assert isinstance(phones, NativeDecoder)
    cython = binding_decoder(lm=None, allphone=get_model_path("en-us/en-us-phone.lm.bin"),
                             topn=ps.TOPN)
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


def test_every_decoder_of_the_recognisers_goes_through_the_c_interface(
        engine: PocketSphinxEngine) -> None:
    spot = PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES)).recognizer()
    assert isinstance(spot, SpottingRecognizer)
    strict = PocketSphinxRecognizer(engine)
    for decoder in (spot.decoder, spot.strict.grammar, spot.strict.phones, strict.grammar,
                    strict.phones):
        assert isinstance(decoder, NativeDecoder)


def test_the_c_interface_hears_exactly_what_the_binding_hears(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Transcripts, confidences and every feature of the spotting gate, bit for bit, on
    commands and talk, clean and in babble, whole and as the endpointer's peeks."""
    engine = PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES))
    through_c = engine.recognizer()
    monkeypatch.setattr(ps, "_decoder", binding_decoder)
    through_binding = engine.recognizer()
    assert not isinstance(through_binding.decoder, NativeDecoder)  # type: ignore[attr-defined]
    heard = []
    for pcm in clips():
        for peek in (False, True):
            a, b = (r.decode(pcm, peek=peek)  # type: ignore[attr-defined]
                    for r in (through_c, through_binding))
            assert (a.text, a.accepted, a.confidence, a.details) == (
                b.text, b.accepted, b.confidence, b.details)
            heard.append(a.command.intent.value if a.accepted and a.command else None)
    assert heard[0] == "answer" and heard[4] is None, heard  # the command heard, the talk not


def test_a_decode_lets_the_assistants_other_threads_run(
        engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the recogniser decodes seconds of babble, two other threads (the sound, the
    dialog) pass 200 messages back and forth, all inside one decode. Through the binding, which
    holds the GIL for the whole of a decode, they could not (a 2 ms timer stalled 1.2 s)."""
    recognizer = PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES)).recognizer()
    pcm = corpus.babble(5000, seed=5, talkers=3)
    inside = threading.Event()
    calls = [0]
    whole = ps.decode_whole

    def watched(decoder: object, audio: bytes) -> None:
        calls[0] += 1
        inside.set()
        try:
            whole(decoder, audio)
        finally:
            inside.clear()

    monkeypatch.setattr(ps, "decode_whole", watched)
    monkeypatch.setattr(spot, "decode_whole", watched)
    done = threading.Event()  # no decode left running into the next test (it saw one, loaded)
    decoder = threading.Thread(target=lambda: [recognizer.decode(pcm, peek=True)  # type: ignore[attr-defined]
                                               for _ in range(3) if not done.is_set()], daemon=True)
    ping: queue.Queue[int] = queue.Queue()
    pong: queue.Queue[int] = queue.Queue()
    echoer = threading.Thread(target=lambda: [pong.put(n) for n in iter(ping.get, -1)], daemon=True)
    echoer.start()
    decoder.start()
    assert inside.wait(30)
    during = calls[0]
    for n in range(200):
        ping.put(n)
        assert pong.get(timeout=30) == n
    same_decode = inside.is_set() and calls[0] == during
    ping.put(-1)
    done.set()
    decoder.join()  # the decode under way, at most
    assert same_decode, "the other threads waited for the decode"


def test_at_exit_decodes_under_way_are_waited_for_and_new_ones_refused(
        engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A decode runs without the GIL: the interpreter must not finish under it (a crash at
    exit). ``native._wait_for_decodes`` runs at exit."""
    phones = engine.new_phone_loop()
    assert isinstance(phones, NativeDecoder)
    pcm = corpus.babble(5000, seed=5, talkers=3)
    side = phones.start(pcm)  # under way in its own thread
    monkeypatch.setattr(native, "_closing", False)
    native._wait_for_decodes()
    assert native._in_flight == 0, "returned while a decode was under way"
    assert side.result() < 0.0  # it finished, and with a result
    with pytest.raises(RuntimeError, match="stopping"):
        phones.log_likelihood(pcm)


def test_a_second_search_on_the_same_audio_reuses_the_phone_loops_score(
    engine: PocketSphinxEngine,
) -> None:
    """The spot pass's peek may decode one clip in two grammars ("peek", "peek_carried"): the
    phone loop, the same for both, decodes it once, and its path is still that clip's."""
    recognizer = PocketSphinxRecognizer(engine)
    phones = recognizer.phones
    assert isinstance(phones, NativeDecoder)
    decodes = []
    whole = phones.log_likelihood  # beside the grammar (start) or after it
    phones.log_likelihood = (  # type: ignore[method-assign]
        lambda pcm, entered=None: decodes.append(pcm) or whole(pcm, entered))
    for pcm in clips():
        results, paths, counts = [], [], []
        for forget in (False, False, True):
            if forget:
                recognizer.forget_phones()
            recognizer.accept(pcm)
            t = recognizer.final()
            results.append((t.text, t.accepted, t.confidence, t.score))  # type: ignore[attr-defined]
            paths.append([(s.word, s.start_frame, s.end_frame) for s in phones.seg()])
            counts.append(len(decodes))
            decodes.clear()
        assert results[0] == results[1] == results[2]
        assert paths[0] == paths[1] == paths[2] or not results[0][0]  # read only when heard
        # The second decode reuses the first's; forgotten, it decodes again. (With talk around,
        # a garbage transcript needs no phone loop at all.)
        assert counts[1] == 0 and counts[0] == counts[2]
        assert counts[0] == 1 or not results[0][0]  # heard: the loop decoded it once
