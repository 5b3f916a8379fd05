"""The spot recogniser's memory: decoders hold only the words they can hear, and the memory of
a long utterance is given back between utterances without changing what is heard next."""

from __future__ import annotations

import numpy as np
import pytest
import speech_corpus as corpus
from fixtures_speech import DEVICE_PHRASES, synthesize

from assistant.config import Recognition
from assistant.intents import CommandLanguage
from assistant.speech.pocketsphinx import PocketSphinxEngine, cmu_pronunciations, decode_whole, dither
from assistant.speech import pocketsphinx_spot
from assistant.speech.pocketsphinx_spot import SpottingRecognizer, segments


@pytest.fixture(scope="module")
def engine() -> PocketSphinxEngine:
    return PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES), recognition=Recognition.SPOT)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def test_the_dictionary_holds_the_grammar_words_and_every_pronunciation(
    engine: PocketSphinxEngine,
) -> None:
    recognizer = engine.recognizer()
    assert isinstance(recognizer, SpottingRecognizer)
    decoders = (recognizer.strict.grammar, recognizer.decoder)
    # "zebra" is in the 135,000-word CMU dictionary but in no command
    assert cmu_pronunciations(["zebra"])["zebra"]
    for decoder in (*decoders, recognizer.strict.phones):
        assert decoder.lookup_word("zebra") is None  # type: ignore[attr-defined]
    # a command word with alternates keeps them all, in the dictionary's order
    multi = sorted(w for w, p in cmu_pronunciations(engine.language.words).items() if len(p) > 1)
    assert multi, "some command word has more than one pronunciation"
    for decoder in decoders:
        for word in multi:
            prons = cmu_pronunciations([word])[word]
            names = [word] + [f"{word}({i})" for i in range(2, len(prons) + 1)]
            assert [decoder.lookup_word(n) for n in names] == prons, word  # type: ignore[attr-defined]
        assert decoder.lookup_word("webex") == "W EH B EH K S"  # type: ignore[attr-defined]
        assert decoder.lookup_word("answer(2)") == "AA N S ER"  # type: ignore[attr-defined]


@pytest.mark.parametrize("peeked", [False, True])
def test_a_long_utterance_gives_its_memory_back(engine: PocketSphinxEngine, peeked: bool) -> None:
    """6 s of chatter (the longest utterance by default) held about 180 MB of search history
    until the next utterance; ``release`` gives it back. A peek decodes in searches of its own
    ("peek", "spotting_peek"): left there, their history kept ``listen`` at 148 MB, not 113."""
    recognizer = engine.recognizer()
    chatter = corpus.babble(6000, seed=11, talkers=3)
    loud = np.clip(np.frombuffer(chatter, dtype=np.int16) * 2.0, -32768, 32767)
    recognizer.release()
    before = rss_mb()
    recognizer.accept(loud.astype(np.int16).tobytes())
    if peeked:
        recognizer.peek()  # type: ignore[attr-defined]
    recognizer.final()
    held = rss_mb()
    recognizer.release()
    after = rss_mb()
    assert held - after >= 40, (before, held, after)
    assert after - before <= 15, (before, held, after)


def test_a_rejected_peek_does_not_hold_its_history_beside_the_final_decode(
    engine: PocketSphinxEngine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The peeks and the final decode search apart ("spotting_peek", "spotting"), and each
    search kept its history until its own next utterance: in chatter the final decode added a
    second history beside the last peek's (``listen`` in 12 dB babble: 258 MB at most, 208 MB
    with ``RELEASE_REJECTED_PEEKS``; 168 MB median, 159 MB when the emptied history also goes
    back to the system)."""
    recognizer = engine.recognizer()
    chatter = corpus.babble(6000, seed=11, talkers=3)
    loud = np.clip(np.frombuffer(chatter, dtype=np.int16) * 2.0, -32768, 32767)
    added, peeked = {}, {}
    for released in (False, True):
        monkeypatch.setattr(pocketsphinx_spot, "RELEASE_REJECTED_PEEKS", released)
        recognizer.release()
        before = rss_mb()
        recognizer.accept(loud.astype(np.int16).tobytes())
        assert not recognizer.peek().accepted  # type: ignore[attr-defined]
        peeked[released] = rss_mb() - before
        recognizer.final()
        added[released] = rss_mb() - before
    recognizer.release()
    assert added[False] >= 80, added  # two histories of 6 s of chatter
    assert added[False] - added[True] >= 30, added
    # ... and between the peeks the memory goes back to the system, not only to the heap
    assert peeked[False] >= 40 and peeked[True] <= 15, peeked


def test_release_changes_nothing_that_is_heard(engine: PocketSphinxEngine) -> None:
    """An empty utterance leaves the cepstral mean, which carries from one utterance to the
    next, as it was: the same clips give the same transcripts with and without ``release``."""
    said = [("answer on my headset", "en-us+m3"), ("decline the call", "en-gb"),
            ("put the coffee cup on my desk", "en-us")]
    speech = [synthesize(text, voice) for text, voice in said]
    clips = [corpus.mix(pcm, corpus.babble(len(pcm) // 32 + 1600, seed, 3), 12.0, 800)
             for seed, pcm in enumerate(speech)]

    def heard(release: bool) -> list[tuple[str, bool, float | None]]:
        recognizer, out = engine.recognizer(), []
        for pcm in clips:
            recognizer.accept(pcm)
            t = recognizer.final()
            out.append((t.text, t.accepted, t.confidence))
            if release:
                recognizer.release()
        return out

    assert heard(True) == heard(False)


def test_the_two_passes_share_one_decoder_and_hear_as_with_two(engine: PocketSphinxEngine) -> None:
    """The spotting searches are added to the strict pass's decoder (``SHARE_DECODER``): one
    copy of the acoustic model and the words instead of two (6 MB). A grammar search reads its
    beams when it is added, so each keeps its own (the strict pass's are wider): every search
    decodes a command in babble, and babble alone, exactly as in a decoder of its own."""
    shared = engine.recognizer()
    assert isinstance(shared, SpottingRecognizer)
    assert shared.decoder is shared.strict.grammar
    own = {"strict": engine.new_grammar_decoder(decoys=True, peeks=True),
           "spotting": engine.new_spotting_decoder()}
    searches = {"strict": ("commands", "peek", "peek_carried"),
                "spotting": ("spotting", "spotting_peek", "phones")}
    speech = synthesize("put the call on hold", "en-us+f2")
    clips = [corpus.mix(speech, corpus.babble(len(speech) // 32 + 2500, 4, 3), 12.0, 1500),
             corpus.babble(3000, 5, 3)]
    for pcm in clips:
        for kind, names in searches.items():
            for name in names:
                if name == "peek_carried" and not engine.peek_carried_jsgf:
                    continue
                out = []
                for decoder in (shared.decoder, own[kind]):
                    decoder.activate_search(name)  # type: ignore[attr-defined]
                    decode_whole(decoder, dither(pcm))
                    out.append([(s.word, s.start, s.end, s.ascore) for s in segments(decoder)])
                assert out[0] == out[1], (kind, name)
