"""Grammars without null transitions (``assistant.speech.fsg``): PocketSphinx's own compilation of
the assistant's grammars, rewritten, must say the same sentences with the same best weights; the
spotting grammars, rid only of the null transitions into join-only states, must decode alike."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from assistant.intents import DEVICE_ONLY, CommandLanguage
from assistant.speech.fsg import Fsg, without_dead_ends, without_nulls
from assistant.speech.grammar import garbage_words, generic_phrase, to_jsgf, to_spotting_jsgf
from assistant.speech.pocketsphinx import (
    PHONES,
    SPOTTING_BEAMS,
    SPOTTING_PHONES,
    TOPN,
    UNSAID,
    UNSAID_PHONES,
    WIP,
    PocketSphinxEngine,
    _decoder,
    add_grammar,
    binding_decoder,
    decode_whole,
    dither,
)


def best(fsg: Fsg, words: list[str]) -> float:
    """The probability of the best path that says ``words`` (0.0 when none does)."""
    arcs: dict[int, list[tuple[int, float, str | None]]] = {}
    for a, b, p, w in fsg.transitions:
        arcs.setdefault(a, []).append((b, p, w))

    def closed(at: dict[int, float]) -> dict[int, float]:
        changed = True
        while changed:
            changed = False
            for state, p in list(at.items()):
                for to, q, word in arcs.get(state, ()):
                    if word is None and p * q > at.get(to, 0.0):
                        at[to], changed = p * q, True
        return at

    at = closed({fsg.start: 1.0})
    for word in words:
        step: dict[int, float] = {}
        for state, p in at.items():
            for to, q, w in arcs.get(state, ()):
                if w == word and p * q > step.get(to, 0.0):
                    step[to] = p * q
        at = closed(step)
    return at.get(fsg.final, 0.0)


def compiled(tmp_path: Path, jsgf: str) -> Fsg:
    """``jsgf`` as PocketSphinx compiles it."""
    path = tmp_path / "grammar.fsg"
    binding_decoder(lm=None).parse_jsgf(jsgf).writefile(str(path))  # type: ignore[attr-defined]
    return Fsg.parse(path.read_text())


def test_a_small_grammar_keeps_its_sentences_and_weights(tmp_path: Path) -> None:
    jsgf = ("#JSGF V1.0; grammar g; <end> = /1/ <NULL> | /0.1/ thanks;\n"
            "public <u> = ( /1/ <NULL> | /0.1/ okay ) ( answer [ it ] | decline ) <end>"
            " | /0.001/ <junk>+; <junk> = ph_aa | ph_b;")
    before = compiled(tmp_path, jsgf)
    after = without_nulls(before)
    assert any(w is None for *_, w in before.transitions)
    assert all(w is not None for *_, w in after.transitions)
    assert after.states < before.states
    words = ["okay", "answer", "it", "decline", "thanks", "ph_aa", "ph_b"]
    said = 0
    for n in range(1, 5):
        for sentence in itertools.product(words, repeat=n):
            p = best(before, list(sentence))
            assert best(after, list(sentence)) == pytest.approx(p, rel=1e-6), sentence
            said += p > 0
    assert said == 12 + 2 + 4 + 8 + 16  # the commands, and every sequence of junk up to 4
    assert best(after, ["answer", "okay"]) == 0.0
    # written and read back as PocketSphinx reads it
    again = Fsg.parse(after.text())
    assert (again.states, again.start, again.final) == (after.states, after.start, after.final)
    assert [t[:2] + t[3:] for t in again.transitions] == [t[:2] + t[3:] for t in after.transitions]
    assert [t[2] for t in again.transitions] == pytest.approx([t[2] for t in after.transitions])


def test_the_assistants_grammar_keeps_its_commands(tmp_path: Path,
                                                    en_language: CommandLanguage) -> None:
    garbage = garbage_words(PHONES)
    before = compiled(tmp_path, to_jsgf(en_language, garbage=garbage, garbage_weight=1e-25))
    after = without_nulls(before)
    assert all(w is not None for *_, w in after.transitions)
    # measured: 3,428 states and 16,304 null transitions became 953 states
    assert after.states < before.states / 2
    # Every 7th sentence, but not a bare type word that ends two or more device phrases ("phone"
    # alone): the grammar leaves it out on purpose (grammar.generic_phrase, "Which phone?")
    phrases = en_language.device_phrases()

    def bare(sentence: str) -> str:  # "[on] [my | the] device" -> the device phrase
        words = sentence.split()
        while words[:1] in (["on"], ["my"], ["the"]):
            words = words[1:]
        return " ".join(words)

    said = [s for s, intent in en_language.sentences_with_intents().items()
            if not (intent == DEVICE_ONLY and generic_phrase(bare(s), phrases))]
    sentences = [s.split() for s in said[::7]]
    sentences += [["okay", *sentences[0]], [*sentences[1], "thank", "you"], [*sentences[2], "okay"],
                  ["ph_aa", "ph_b"]]
    for words in sentences:
        p = best(before, words)
        assert p > 0, words
        assert best(after, words) == pytest.approx(p, rel=1e-6), words
    assert best(after, ["answer", "decline"]) == best(before, ["answer", "decline"]) == 0.0


def test_a_grammar_file_that_cannot_be_read_back_is_refused() -> None:
    with pytest.raises(ValueError, match="START_STATE"):
        Fsg.parse("FSG_BEGIN g\nNUM_STATES 2\nFINAL_STATE 1\nFSG_END\n")
    with pytest.raises(ValueError, match="probability"):
        Fsg.parse("FSG_BEGIN g\nNUM_STATES 2\nSTART_STATE 0\nFINAL_STATE 1\n"
                  "TRANSITION 0 1 0.000000 answer\nFSG_END\n")


def test_the_decoders_search_the_rewritten_grammar(tmp_path: Path,
                                                   en_language: CommandLanguage) -> None:
    engine = PocketSphinxEngine(en_language)
    decoder = binding_decoder(lm=None)
    engine._add_words(decoder)
    add_grammar(decoder, "g", "#JSGF V1.0; grammar g; public <u> = [ okay ] ( answer | decline );")
    decoder.get_fsg("g").writefile(str(tmp_path / "g.fsg"))  # type: ignore[attr-defined]
    # the search added its filler words' loops (silence, noise), some too unlikely to print
    lines = (tmp_path / "g.fsg").read_text().splitlines()
    searched = Fsg.parse("\n".join(x for x in lines if not x.endswith(("]", "<sil>"))))
    assert all(w is not None for *_, w in searched.transitions)
    assert best(searched, ["okay", "decline"]) > 0 and best(searched, ["answer"]) > 0
    assert best(searched, ["answer", "decline"]) == 0.0


def test_without_a_temporary_folder_the_grammar_is_used_as_compiled(
        monkeypatch: pytest.MonkeyPatch, en_language: CommandLanguage) -> None:
    import tempfile

    from fixtures_speech import synthesize

    def no_folder(*args: object, **kwargs: object) -> object:
        raise PermissionError("read-only /tmp")

    speech = synthesize("answer on my headset")  # espeak-ng writes through a temporary folder
    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_folder)
    t = PocketSphinxEngine(en_language).transcribe_pcm(speech)
    assert t.command is not None and t.command.device == "headset"


def test_the_spotting_grammar_loses_only_null_transitions_into_dead_ends(
        tmp_path: Path, en_language: CommandLanguage) -> None:
    before = compiled(tmp_path, to_spotting_jsgf(en_language, garbage_words(SPOTTING_PHONES)))
    after = without_dead_ends(before)
    leaves = {a for a, _, _, w in before.transitions if w is not None}
    nulls = [t for t in before.transitions if t[3] is None]
    kept = [t for t in after.transitions if t[3] is None]
    assert [t for t in before.transitions if t[3] is not None] == [
        t for t in after.transitions if t[3] is not None]
    assert all(b in leaves or b == after.final for _, b, _, _ in kept)
    # measured: 8,161 null transitions, 4,964 of them into states no word leaves
    assert len(kept) < 0.6 * len(nulls)
    sentences = [s.split() for s in en_language.sentences()[::5]]
    sentences += [["ph_s", "ph_ah", *sentences[0], "ph_t"], ["ph_m", *sentences[1]],
                  ["ph_iy", "ph_n"], [*sentences[2], *sentences[3]]]
    for words in sentences:  # a path past a dead end now takes the closure's own transition,
        # whose weight the file gives to 6 decimals, not the product of the two it replaces
        assert best(after, words) == pytest.approx(best(before, words), rel=1e-3), words
    assert best(after, sentences[0]) > 0 and best(after, ["ph_iy", "ph_n"]) == 0.0


def test_the_spotting_search_decodes_as_compiled_with_less_history(
        monkeypatch: pytest.MonkeyPatch, en_language: CommandLanguage) -> None:
    """The spotting decoder's searches (their dead ends gone) against the same grammars as
    PocketSphinx compiles them, on a command in office babble and on babble alone: the same
    words, frames and scores."""
    import speech_corpus as corpus
    from fixtures_speech import synthesize

    from assistant.speech import pocketsphinx

    rewritten = {}

    def spy(decoder: object, name: str, jsgf: str, rewrite: object = without_nulls) -> None:
        rewritten[name] = rewrite
        add_grammar(decoder, name, jsgf, rewrite)  # type: ignore[arg-type]

    monkeypatch.setattr(pocketsphinx, "add_grammar", spy)
    engine = PocketSphinxEngine(en_language)
    ours = engine.new_spotting_decoder()
    assert rewritten == {"spotting": without_dead_ends, "spotting_peek": without_dead_ends}
    monkeypatch.undo()
    theirs = _decoder(lm=None, wip=WIP, topn=TOPN, **SPOTTING_BEAMS)
    engine._with_grammar(theirs, engine.spotting_jsgf, "x")  # the words
    theirs.add_word(UNSAID, UNSAID_PHONES, False)  # type: ignore[attr-defined]
    for name in ("spotting", "spotting_peek"):
        theirs.add_jsgf_string(name, getattr(engine, f"{name}_jsgf"))  # type: ignore[attr-defined]
    speech = synthesize("put the call on hold", "en-us+f2")
    noise = corpus.babble(1500 + len(speech) // 32 + 1000, 4, 3, "espeak:en-us+f2")
    clips = [corpus.mix(speech, noise, 12.0, 1500), corpus.babble(3000, 5, 3)]
    heard = []
    for pcm in clips:
        for name in ("spotting", "spotting_peek"):
            out = []
            for decoder in (ours, theirs):
                decoder.activate_search(name)  # type: ignore[attr-defined]
                decode_whole(decoder, dither(pcm))
                hyp = decoder.hyp()  # type: ignore[attr-defined]
                out.append((hyp.hypstr, hyp.score, [(s.word, s.start_frame, s.end_frame, s.ascore)
                                                    for s in decoder.seg()]))  # type: ignore[attr-defined]
            assert out[0] == out[1], name
            heard.append(out[0][0])
    assert "hold" in heard[0].split()
