"""Everything the assistant says, per language: data, not code.

One catalogue per language, each in four files of ``assistant/data``:

- ``messages.toml``: the dialog's ``[prompt]`` and ``[outcome]``;
- ``failures.toml``: what Webex refusals and network failures sound like (``webex.failures``),
  keys ``failure.<table>.<name>``;
- ``spoken.toml``: what other modules raise or report (``[caller]``, ``[device]``, ``[audio]``,
  ``[voice]``, ``[calls]``, ``[auth]``, ``[config]``); apart from the first two because speech
  recognition reads those as the assistant's own wording (``speech.pocketsphinx.OWN_WORDING``);
- ``words.toml``: words that go into sentences (device kinds, ordinals, "and"/"or"), keys
  ``words.<table>.<name>``.

English is ``<name>.toml``, another language ``<name>.<language>.toml``; every language has
every key of English with the same ``{placeholders}`` (tests/test_messages.py checks).

Code holds keys (``"audio.mic_missing"``), never sentences. ``Messages.text(key, **values)``
returns a ``Sentence``: a ``str`` in the catalogue's language that also remembers its key and
values. Modules deep in the stack (the Webex client, the microphone, sign-in) make their
sentences from the English catalogue; whoever speaks them says them in the person's language
with ``Messages.render``, and a ``Sentence`` given as a value (``caller=``, ``problem=``) is
rendered in the catalogue's language by ``Messages.say`` on its own.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

log = logging.getLogger(__name__)

LANGUAGES = ("en", "ko")
DEFAULT_LANGUAGE = "en"
FILES = {"messages": "", "failures": "failure.", "spoken": "", "words": "words."}  # file → key prefix

Parts = tuple[tuple[str, Mapping[str, Any]], ...]


class Sentence(str):
    """A catalogue sentence: its text, and the (key, values) it was made of, so it can be said
    again in another language. String operations give plain ``str`` (the parts are lost)."""

    parts: Parts

    def __new__(cls, text: str, parts: Parts = ()) -> Sentence:
        sentence = super().__new__(cls, text)
        sentence.parts = parts
        return sentence

    def __reduce__(self) -> tuple[Any, ...]:
        return (Sentence, (str(self), self.parts))


def joined(*sentences: str) -> str:
    """Sentences said one after the other; a ``Sentence`` if all of them are."""
    text = " ".join(sentences)
    if all(isinstance(s, Sentence) and s.parts for s in sentences):
        return Sentence(text, tuple(p for s in sentences for p in s.parts))  # type: ignore[attr-defined]
    return text


def _file_name(name: str, language: str) -> str:
    return f"{name}.toml" if language == DEFAULT_LANGUAGE else f"{name}.{language}.toml"


def _flatten(data: Mapping[str, Any], prefix: str, where: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for section, table in data.items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise ValueError(f"{where}: [{section}] must be a table of strings")
        flat.update({f"{prefix}{section}.{key}": value for key, value in table.items()})
    return flat


def catalogue_files(language: str) -> list[str]:
    """The data file names of ``language``'s catalogue."""
    return [_file_name(name, language) for name in FILES]


def available(language: str) -> bool:
    data = resources.files("assistant").joinpath("data")
    return all(data.joinpath(name).is_file() for name in catalogue_files(language))


@dataclass(frozen=True)
class Messages:
    language: str
    templates: dict[str, str]  # "prompt.ring" → "Call from {caller}. …"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], language: str = DEFAULT_LANGUAGE) -> Messages:
        """From the tables of one file (``[prompt]``, ``[outcome]``, …; no prefix)."""
        return cls(language, _flatten(data, "", "messages"))

    @classmethod
    def load(cls, language: str = DEFAULT_LANGUAGE) -> Messages:
        """The catalogue of ``language``; English, with a warning, when there is none."""
        if language not in LANGUAGES or not available(language):
            log.warning("no spoken wording for language %r: speaking English", language)
            language = DEFAULT_LANGUAGE
        return _load(language)

    # --- sentences ----------------------------------------------------------------------------

    @property
    def prompt(self) -> dict[str, str]:
        return self.table("prompt")

    @property
    def outcome(self) -> dict[str, str]:
        return self.table("outcome")

    def table(self, section: str) -> dict[str, str]:
        """One section without its prefix: ``table("failure.status")["409"]``."""
        prefix = section + "."
        return {k[len(prefix):]: v for k, v in self.templates.items() if k.startswith(prefix)}

    def has(self, key: str) -> bool:
        return key in self.templates

    def text(self, key: str, **values: Any) -> Sentence:
        """The sentence ``key`` in this language; ``Sentence`` values are said in it too."""
        template = self.templates.get(key)
        if template is None:  # a custom or partial catalogue: English rather than nothing
            if self.language == DEFAULT_LANGUAGE:
                raise KeyError(key)
            log.warning("no %s wording for %r: saying it in English", self.language, key)
            template = _load(DEFAULT_LANGUAGE).templates[key]
        shown = {name: self.render(value) if isinstance(value, str) else value
                 for name, value in values.items()}
        return Sentence(template.format(**shown), ((key, dict(values)),))

    def render(self, text: str) -> str:
        """``text`` in this language when it is a ``Sentence`` (made from any catalogue); other
        text (a name, Webex's own explanation) as it is."""
        if not isinstance(text, Sentence) or not text.parts:
            return text
        said = [self.text(key, **values) for key, values in text.parts]
        return said[0] if len(said) == 1 else joined(*said)

    def word(self, section: str, key: str, default: str | None = None) -> str:
        """A word of ``words.toml`` (``word("kind", "phone")``); ``default`` (else ``key``)
        when there is no such word."""
        full = f"words.{section}.{key}"
        if full in self.templates or full in _load(DEFAULT_LANGUAGE).templates:
            return self.text(full)
        return key if default is None else default

    def spoken_list(self, items: Iterable[str], conjunction: str = "and") -> str:
        """["a", "b", "c"] → "a, b and c", with this language's "and" / "or"."""
        return spoken_list(list(items), self.word("list", conjunction))

    # --- the dialog ---------------------------------------------------------------------------

    def say(self, key: str, **values: object) -> str:
        return self.text("prompt." + key, **values)

    def outcome_of(self, action: str, device: str | None = None) -> str:
        if action == "answer" and device:
            return self.text("outcome.answer_on", device=device)
        return self.text("outcome." + action)

    def outcome_for_caller(self, action: str, caller: str, device: str | None = None) -> str:
        """With more than one call ringing, the outcome names whose call it was."""
        key = f"outcome.{action}_caller_on" if device else f"outcome.{action}_caller"
        if key not in self.templates:
            return self.outcome_of(action, device)
        return self.text(key, caller=caller, device=device)

    def all_sentences(self) -> list[str]:
        """The dialog's sentences (prompts and outcomes), as templates."""
        return list(self.prompt.values()) + list(self.outcome.values())


@lru_cache(maxsize=len(LANGUAGES))
def _load(language: str) -> Messages:
    data = resources.files("assistant").joinpath("data")
    templates: dict[str, str] = {}
    for name, prefix in FILES.items():
        file_name = _file_name(name, language)
        text = data.joinpath(file_name).read_text(encoding="utf-8")
        table = _flatten(tomllib.loads(text), prefix, file_name)
        if table.keys() & templates.keys():
            raise ValueError(f"{file_name}: keys also in another file: {sorted(table.keys() & templates.keys())}")
        templates.update(table)
    return Messages(language, templates)


def english() -> Messages:
    """The English catalogue: what modules below the dialog make their sentences from."""
    return _load(DEFAULT_LANGUAGE)


def spoken_list(items: list[str], conjunction: str = "and") -> str:
    """["a", "b", "c"] → "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]
