"""The command language: templates parse what the issue requires and nothing else."""

from __future__ import annotations

import pytest
from fixtures_speech import COMMANDS, DEVICE_PHRASES, OFF_DOMAIN

from assistant.errors import SpeechError
from assistant.intents import DEVICE_ONLY, Carriers, CommandLanguage, Intent, load_template_data


@pytest.mark.parametrize(("text", "intent", "device"), COMMANDS)
def test_required_phrasings_parse(en_language: CommandLanguage, text: str, intent: str,
                                  device: str | None) -> None:
    command = en_language.parse(text)
    assert command is not None, text
    assert command.intent == Intent(intent)
    assert command.device == device


@pytest.mark.parametrize("text", OFF_DOMAIN)
def test_off_domain_text_is_not_a_command(en_language: CommandLanguage, text: str) -> None:
    assert en_language.parse(text) is None
    assert en_language.parse_device_only(text) is None


def test_punctuation_and_case_do_not_matter(en_language: CommandLanguage) -> None:
    command = en_language.parse("Answer on my Desk Phone!")
    assert command is not None and command.device == "desk phone"


@pytest.mark.parametrize(("text", "device"), [
    ("desk phone", "desk phone"), ("the reception phone", "reception phone"),
    ("my headset", "headset"), ("on the webex app", "webex app"),
])
def test_short_device_answers(en_language: CommandLanguage, text: str, device: str) -> None:
    assert en_language.parse_device_only(text) == device
    assert en_language.parse(text) is None


def test_unknown_device_is_not_a_command(en_language: CommandLanguage) -> None:
    assert en_language.parse("answer on my toaster") is None


def test_device_phrases_come_from_the_caller() -> None:
    language = CommandLanguage.load("en", ["Kitchen Speaker"])
    command = language.parse("answer on the kitchen speaker")
    assert command is not None and command.device == "kitchen speaker"
    assert language.parse("answer on my headset") is None


def test_every_template_intent_is_a_known_intent() -> None:
    for language in ("en", "ko"):
        names = set(load_template_data(language)["intents"])
        assert names - {DEVICE_ONLY} <= {i.value for i in Intent}
    assert set(load_template_data("en")["intents"]) - {DEVICE_ONLY} == {i.value for i in Intent}


def test_sentences_cover_every_intent(en_language: CommandLanguage) -> None:
    parsed = {en_language.parse(s).intent for s in en_language.sentences(device_only=False)}  # type: ignore[union-attr]
    assert parsed == set(Intent)
    assert {"answer", "headset", "voicemail", "webex"} <= en_language.words


def test_korean_commands() -> None:
    language = CommandLanguage.load("ko", DEVICE_PHRASES)
    command = language.parse("헤드셋 으로 받아")
    assert command is not None and command.intent is Intent.ANSWER and command.device == "headset"
    decline = language.parse("전화 거절 해")
    assert decline is not None and decline.intent is Intent.DECLINE
    assert language.parse("오늘 날씨 가 좋네요") is None
    assert language.parse_device_only("사무실 전화") == "desk phone"


def test_unknown_language_is_a_speech_error() -> None:
    with pytest.raises(SpeechError, match="fr"):
        CommandLanguage.load("fr")


@pytest.mark.parametrize("text", ["don't answer", "don't answer the call", "do not answer it",
                                  "Don't answer it."])
def test_dont_answer_declines(en_language: CommandLanguage, text: str) -> None:
    command = en_language.parse(text)
    assert command is not None and command.intent is Intent.DECLINE, text


def test_carrier_words_around_a_command_are_dropped(en_language: CommandLanguage) -> None:
    # People wrap a command in their own words: "okay, answer on my headset, thanks".
    strip = en_language.carriers.strip
    assert strip("Okay, answer on my headset, thanks.") == "answer on my headset"
    assert strip("hang up thank you") == "hang up"
    assert strip("so put the call on hold now") == "put the call on hold"
    assert strip("okay okay decline") == "okay decline"  # one phrase on each side, no more
    assert strip("thanks") == "thanks" and strip("okay") == "okay"  # nothing left: as said
    assert strip("slow down please") == "slow down"
    command = en_language.parse(strip("um send it to voicemail please"))
    assert command is not None and command.intent is Intent.VOICEMAIL
    assert en_language.parse("okay answer on my headset") is None  # the parser stays exact


def test_carriers_come_from_the_language_file() -> None:
    assert CommandLanguage.load("ko", DEVICE_PHRASES).carriers == Carriers()  # none in Korean
    english = CommandLanguage.load("en", DEVICE_PHRASES).carriers
    assert "okay" in english.before and "thank you" in english.after
    assert "could you" not in english.before  # measured: let office talk in (docs/templates.md)
    assert english.negating == ("don't", "do not", "please don't", "please do not")  # "don't hang up" is no command
    assert english.negating_words == {"don't", "do", "not", "please"}
    assert "don't" not in english.words  # not dropped before parsing, as carriers are
    with pytest.raises(SpeechError, match="carriers"):
        Carriers.load({"before": ["okay"], "middle": ["um"]})
