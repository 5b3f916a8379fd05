"""The tuning corpus (tests/speech_corpus.py): its labels, its signals, its determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import speech_corpus as corpus
from fixtures_speech import COMMANDS

from assistant.intents import CommandLanguage



def test_every_command_parses_to_its_labels(en_language: CommandLanguage) -> None:
    listed = len(dict.fromkeys([*COMMANDS, *corpus.EXTRA_COMMANDS]))
    assert len(corpus.commands()) == listed  # none was dropped
    for text, intent, device in corpus.commands():
        command = en_language.parse(text)
        assert command is not None, text
        assert (command.intent.value, command.device) == (intent, device), text


def test_off_domain_sentences_never_parse(en_language: CommandLanguage) -> None:
    sentences = corpus.off_domain()
    assert len(sentences) >= 200
    for text in sentences:
        assert en_language.parse(text) is None, text
        assert en_language.parse_device_only(text) is None, text
    tricky = [s for s in sentences if any(w in f" {s} " for w in corpus.COMMAND_WORDS)]
    assert len(tricky) >= len(sentences) / 2


def test_prompts_are_plain_words() -> None:
    prompts = corpus.prompts()
    assert len(prompts) > 40
    assert all(p and p == p.lower() and not set("{}.,:_-") & set(p) for p in prompts)


@pytest.mark.parametrize("snr_db", [20.0, 6.0, 0.0])
def test_mix_hits_the_snr_against_active_speech(snr_db: float) -> None:
    t = np.arange(8000) / corpus.SAMPLE_RATE_HZ
    speech = np.concatenate([np.zeros(4000), 3000 * np.sin(2 * np.pi * 220 * t), np.zeros(4000)])
    pcm = np.round(speech).astype(np.int16).tobytes()
    out = np.frombuffer(corpus.mix(pcm, corpus.pink(2000, seed=1), snr_db, 300), np.int16)
    placed = np.zeros(len(out))
    placed[4800: 4800 + len(speech)] = speech
    noise = out - placed
    active = np.mean(speech[4000:12000] ** 2)
    assert 10 * np.log10(active / np.mean(noise**2)) == pytest.approx(snr_db, abs=1.0)


def test_mix_without_snr_is_a_faint_floor_not_silence() -> None:
    out = np.frombuffer(corpus.mix(b"", bytes(3200), None), np.int16)
    assert 4 < np.std(out) < 16


def test_babble_is_deterministic_per_seed() -> None:
    first = corpus.babble(1500, seed=3, talkers=2)
    assert first == corpus.babble(1500, seed=3, talkers=2)
    assert first != corpus.babble(1500, seed=4, talkers=2)
    x = np.frombuffer(first, np.int16).astype(float)
    assert len(x) == 1500 * 16
    assert np.sqrt(np.mean(x**2)) == pytest.approx(corpus.NOISE_RMS, rel=0.05)


def test_build_is_deterministic_and_labelled() -> None:
    request = dict(kinds=("command",), conditions=("clean", "babble6"), families=("espeak",),
                   per_condition=2, seed=5, workers=1)
    items = corpus.build(**request)  # type: ignore[arg-type]
    assert items == corpus.build(**request)  # type: ignore[arg-type]
    assert [i.condition for i in items] == ["clean", "clean", "babble6", "babble6"]
    for item in items:
        assert (item.text, item.intent, item.device) in corpus.commands()
        assert item.family == "espeak" and item.speaker.startswith(item.group)
        assert 600 <= item.start_ms < item.end_ms <= len(item.pcm) // 32 - 400


def test_build_says_the_sentences_in_the_voices_given() -> None:
    # bench/ceiling.py --voices unseen: the bench's clips in other voices. The sentences and
    # conditions are drawn as for the corpus's voices; only who says them changes.
    one = [s for s in corpus.speakers() if s.family == "espeak"][:1]
    request = dict(kinds=("command",), conditions=("clean",), per_condition=3, seed=5, workers=1)
    given = corpus.build(voices=one, **request)  # type: ignore[arg-type]
    usual = corpus.build(**request)  # type: ignore[arg-type]
    assert {i.speaker for i in given} == {one[0].id}
    assert [i.text for i in given] == [i.text for i in usual]


def test_the_held_out_voices_are_not_in_the_corpus(tmp_path: Path) -> None:
    # bench/commit_replay.py --voices unseen: MBROLA and Pico voices that no setting was chosen
    # on. They must never be in speakers(), which the corpus, the gate and every tuning run use.
    assert {s.family for s in corpus.speakers()} <= set(corpus.FAMILIES)
    mbrola = corpus.Speaker("mb-us1:p50:s160", "mbrola", "mbrola:us1", "mb-us1", 50, 160)
    assert corpus._argv(mbrola, tmp_path / "o.wav", "answer") == [
        "espeak-ng", "-v", "mb-us1", "-p", "50", "-s", "160", "-g", "0", "-w",
        str(tmp_path / "o.wav"), "answer"]
    pico = corpus.Speaker("pico:en-GB:p115:d1.2", "pico", "pico:en-GB", "en-GB", 115, stretch=1.2)
    assert corpus._argv(pico, tmp_path / "o.wav", "answer") == [
        "pico2wave", "-l", "en-GB", "-w", str(tmp_path / "o.wav"),
        "<speed level='83'><pitch level='115'>answer</pitch></speed>"]
    for spk in corpus.unseen_speakers():  # those installed here (scripts/unseen-voices.sh)
        assert spk.family in ("mbrola", "pico") and spk not in corpus.speakers()
