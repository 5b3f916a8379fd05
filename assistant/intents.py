"""The command language: hassil templates per language, shipped as package data.

One template set drives the recogniser grammar (``assistant.speech.grammar``), the check that
a transcript really is a command (``CommandLanguage.parse``) and the test sentences
(``CommandLanguage.sentences``). ``{device}`` is a slot list filled at load time with the
spoken device phrases; a language file may also define its own ``device`` list (Korean maps
its phrases to the English ones that ``assistant.devices`` resolves).

"Not a command" is ``None``, never an exception.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from typing import Any

import yaml
from hassil import Intents, TextSlotList, recognize_all
from hassil.expression import Expression, Group, ListReference, RuleReference, TextChunk
from hassil.sample import sample_intents

from assistant.errors import SpeechError

log = logging.getLogger(__name__)

LANGUAGES = ("en", "ko")
DEVICE_LIST = "device"
DEVICE_ONLY = "_device"  # internal intent: a bare device phrase, the answer to "Which phone?"


class Intent(str, Enum):
    ANSWER = "answer"
    DECLINE = "decline"
    IGNORE = "ignore"
    VOICEMAIL = "voicemail"
    HANGUP = "hangup"
    HOLD = "hold"
    RESUME = "resume"
    MUTE = "mute"
    UNMUTE = "unmute"
    WHO = "who"
    DEVICES = "devices"
    REPEAT = "repeat"
    HELP = "help"
    CANCEL = "cancel"
    SLEEP = "sleep"
    WAKE = "wake"
    SLOWER = "slower"
    FASTER = "faster"
    LOUDER = "louder"
    QUIETER = "quieter"
    BEEPS_OFF = "beeps_off"
    BEEPS_ON = "beeps_on"
    SHORTER = "shorter"
    LONGER = "longer"


@dataclass(frozen=True)
class Command:
    intent: Intent
    device: str | None  # the spoken device phrase (English for every language), None if none
    text: str  # the normalised transcript that matched


_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[.,!?;:\"]")


def normalize(text: str) -> str:
    """Lower case, no punctuation, single spaces: the form templates and grammars use."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text.lower())).strip()


def load_template_data(language: str) -> dict[str, Any]:
    if language not in LANGUAGES:
        raise SpeechError(
            f"no command templates for language {language!r} (have: {', '.join(LANGUAGES)})",
            spoken=f"I have no commands for the language {language}.",
        )
    path = resources.files("assistant") / "data" / "intents" / f"{language}.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Carriers:
    """The words people say around a command ("okay, answer on my headset", "hang up,
    thanks"): a language file's ``carriers`` section. The recogniser allows one of ``before``
    in front of a command and one of ``after`` behind it; ``strip`` drops them again."""

    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    # Said before a command, these undo it ("don't hang up"): the recogniser hears them, so
    # that the command after them is not taken on its own, and the utterance is no command.
    negating: tuple[str, ...] = ()

    @classmethod
    def load(cls, section: Any) -> Carriers:
        """From ``{"before": [...], "after": [...], "negating": [...]}``; none when ``section``
        is empty."""
        if not section:
            return cls()
        keys = ("before", "after", "negating")
        if not isinstance(section, dict) or set(section) - set(keys):
            raise SpeechError(f"bad carriers section in the command templates: {section!r}",
                              spoken="My list of commands is damaged.")
        phrases = {k: tuple(p for p in (normalize(str(x)) for x in section.get(k) or []) if p)
                   for k in keys}
        return cls(phrases["before"], phrases["after"], phrases["negating"])

    @property
    def words(self) -> set[str]:
        return {w for p in self.before + self.after for w in p.split()}

    @property
    def negating_words(self) -> set[str]:
        return {w for p in self.negating for w in p.split()}

    def opening(self, text: str) -> str | None:
        """The carrier phrase ``text`` starts with, when something follows it."""
        words = normalize(text).split()
        for phrase in sorted(self.before, key=len, reverse=True):
            if words[: len(phrase.split())] == phrase.split() and len(words) > len(phrase.split()):
                return phrase
        return None

    def strip(self, text: str) -> str:
        """``text`` without one carrier phrase at its start and one at its end."""
        words = normalize(text).split()
        opening = self.opening(text)
        if opening:
            words = words[len(opening.split()):]
        for phrase in sorted(self.after, key=len, reverse=True):
            n = len(phrase.split())
            if words[-n:] == phrase.split() and len(words) > n:
                words = words[:-n]
                break
        return " ".join(words)


class CommandLanguage:
    """Parses transcripts into commands and lists what can be said."""

    def __init__(self, language: str, intents: Intents, device_list: TextSlotList,
                 carriers: Carriers | None = None) -> None:
        self.language = language
        self.intents = intents
        self.device_list = device_list
        self.carriers = carriers or Carriers()
        self._slot_lists: dict[str, Any] = {DEVICE_LIST: device_list}
        self.words: set[str] = {w for s in self.sentences() for w in s.split()}

    @classmethod
    def load(
        cls, language: str = "en", device_phrases: Iterable[str] = (), wake_phrase: str = ""
    ) -> CommandLanguage:
        """The language's templates with ``{device}`` filled from ``device_phrases``.

        A language file's own ``device`` list (phrase → English phrase) wins when present.
        ``wake_phrase`` (``always`` listening mode) becomes one more way to say ``wake``.
        """
        data = load_template_data(language)
        if normalize(wake_phrase):
            wake = data["intents"].setdefault(Intent.WAKE.value, {"data": [{"sentences": []}]})
            wake["data"][0]["sentences"].append(normalize(wake_phrase))
        intents = Intents.from_dict(data)
        own = intents.slot_lists.get(DEVICE_LIST)
        if isinstance(own, TextSlotList):
            device_list = own
        else:
            phrases = sorted({normalize(p) for p in device_phrases if normalize(p)})
            if not phrases:
                log.warning("no device phrases: 'answer on <device>' cannot be recognised")
                phrases = ["headset"]
            device_list = TextSlotList.from_strings(phrases, name=DEVICE_LIST)
        return cls(language, intents, device_list, Carriers.load(data.get("carriers")))

    @property
    def spoken_words(self) -> set[str]:
        """Every word a recogniser must know: the commands' and the carriers'."""
        return self.words | self.carriers.words

    def parse(self, text: str) -> Command | None:
        """The command ``text`` says, or None when it is not exactly a command."""
        for intent_name, device in self._matches(text):
            if intent_name == DEVICE_ONLY:
                continue
            return Command(Intent(intent_name), device, normalize(text))
        return None

    def parse_device_only(self, text: str) -> str | None:
        """The device phrase of a short answer such as "the desk phone", else None."""
        for intent_name, device in self._matches(text):
            if intent_name == DEVICE_ONLY:
                return device
        return None

    def device_intent(self, said: str) -> Intent | None:
        """The intent of a command ``said`` up to its device ("answer on my" → ANSWER), or
        into its device's name ("answer on my desk"); None when more than a device is missing
        or nothing is ("decline the", "decline")."""
        words = normalize(said).split()
        if not words:
            return None
        for phrase in self.device_phrases():
            device = phrase.split()
            for said_of_it in range(len(device)):  # the device's first words already said
                if said_of_it and words[-said_of_it:] != device[:said_of_it]:
                    continue
                command = self.parse(" ".join(words + device[said_of_it:]))
                if command is not None and command.device is not None:
                    return command.intent
        return None

    def is_utterance(self, text: str) -> bool:
        """True when ``text`` is a command or a bare device answer (what the grammar allows)."""
        return any(True for _ in self._matches(text))

    def _matches(self, text: str) -> Iterable[tuple[str, str | None]]:
        clean = normalize(text)
        if not clean:
            return
        for result in recognize_all(
            clean, self.intents, slot_lists=self._slot_lists, language=self.language
        ):
            if result.unmatched_entities:
                continue
            entity = result.entities.get(DEVICE_LIST)
            yield result.intent.name, (str(entity.value) if entity else None)

    def sentences(self, max_per_intent: int | None = None, device_only: bool = True) -> list[str]:
        """Every sentence the templates allow (sampled; the grammar's test set)."""
        return list(self.sentences_with_intents(max_per_intent, device_only))

    def sentences_with_intents(self, max_per_intent: int | None = None,
                               device_only: bool = True) -> dict[str, str]:
        """``sentences``, each with the name of its intent."""
        seen: dict[str, str] = {}
        for intent_name, text in sample_intents(
            self.intents,
            slot_lists=self._slot_lists,
            max_sentences_per_intent=max_per_intent,
            language=self.language,
        ):
            if intent_name == DEVICE_ONLY and not device_only:
                continue
            seen.setdefault(normalize(text), intent_name)
        return seen

    def intent_sentences(self) -> dict[str, list[Expression]]:
        """The template expressions per intent name (for grammar compilers)."""
        out: dict[str, list[Expression]] = {}
        for name, intent in self.intents.intents.items():
            out[name] = [s.expression for data in intent.data for s in data.sentences]
        return out

    def device_phrases(self) -> list[str]:
        """The spoken phrases of the ``{device}`` list, as said (Korean stays Korean)."""
        out = []
        for value in self.device_list.values:
            out.append(normalize(value.text_in.text if isinstance(value.text_in, TextChunk)
                                 else str(value.value_out)))
        return out

    def expansion_rules(self) -> dict[str, Expression]:
        return {name: rule.expression for name, rule in self.intents.expansion_rules.items()}


def expression_words(expr: Expression) -> Iterable[str]:
    """Literal words of one template expression (rules and lists not followed)."""
    if isinstance(expr, TextChunk):
        yield from normalize(expr.text).split()
    elif isinstance(expr, Group):
        for item in expr.items:
            yield from expression_words(item)
    elif isinstance(expr, (ListReference, RuleReference)):
        return
