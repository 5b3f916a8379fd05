"""Spoken device names → Webex answer endpoints.

Each endpoint gets every name a person might say for it:

- the admin tag: ``Cisco 8865 (Phone in reception area)`` → "phone in reception area", and a
  short form "reception phone" (first content word + the tag's kind word);
- the model read as words: "cisco eighty eight sixty five";
- type words: "phone" / "desk phone" for DEVICE endpoints, "computer" / "app" / "webex app" for
  the APPLICATION;
- configured aliases (``headset`` → the application by default).

A phrase may name several endpoints ("phone" with two phones, or two endpoints with the same
name): ``resolve`` then answers ``ambiguous`` with the candidates, and the dialog asks
"Which phone: desk phone or reception phone?". Nothing is guessed. Every endpoint has a label
of its own: endpoints whose labels would be the same are told apart by their order ("first
desk phone", "second desk phone"), and that label is also a phrase the person can say.

Names come from Webex: they are cleaned (``assistant.text.clean``) before anything else.

Phrases are the command language's (English words; Korean maps its own device words to them,
``assistant/data/intents/ko.yaml``). What is said back (the question, kind words such as
"computer", "first …") comes from the message catalogue given to ``build``, in its language;
device names stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from assistant.messages import Messages, english
from assistant.text import NAME_LIMIT, clean
from assistant.webex.models import Endpoint

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_FILLER = {"my", "the", "a", "an", "your", "on", "to", "at", "via", "using", "with", "please"}
_STOP = {"in", "of", "at", "the", "on", "area", "room", "for", "and", "by", "near", "s"}
_KIND_WORDS = ("phone", "headset", "speaker", "handset")
APPLICATION_WORDS = ("computer", "app", "webex app", "desktop app", "webex")
# last words that make a phrase fit to be said back ("your desk phone"), unlike "your webex"
_DEVICE_NOUNS = frozenset(_KIND_WORDS) | {"app", "computer", "device"}
_ORDINALS = 10  # words.toml [ordinal] 1…10; beyond, "<label> number <n>"
DEVICE_WORDS = ("phone", "desk phone")


def _two_digits(n: int) -> str:
    if n < 10:
        return _ONES[n]
    if n < 20:
        return _TEENS[n - 10]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])


def number_words(digits: str) -> str:
    """Read a model number the way people do: 8865 → "eighty eight sixty five"."""
    if len(digits) == 4 and digits[0] != "0" and digits[2] != "0":
        return _two_digits(int(digits[:2])) + " " + _two_digits(int(digits[2:]))
    if len(digits) == 3 and digits[0] != "0" and digits[1] != "0":
        return _ONES[int(digits[0])] + " " + _two_digits(int(digits[1:]))
    if len(digits) <= 2 and not digits.startswith("0"):
        return _two_digits(int(digits))
    return " ".join(_ONES[int(d)] for d in digits)


def normalize(text: str) -> str:
    """Lowercase words only; digits read out; leading "my"/"the"/"on" and the like removed."""
    # acronyms are spelled: "VVX" → "v v x"
    text = re.sub(r"\b[A-Z]{2,4}\b", lambda m: " ".join(m.group().lower()), text)
    text = text.lower().replace("-", " ").replace("_", " ")
    text = re.sub(r"\d+", lambda m: " " + number_words(m.group()) + " ", text)
    words = re.sub(r"[^a-z' ]+", " ", text).split()
    while words and words[0] in _FILLER:
        words.pop(0)
    return " ".join(words)


def split_name(name: str) -> tuple[str, str]:
    """``Cisco 8865 (Desk phone)`` → ("Cisco 8865", "Desk phone"); no tag → (name, "")."""
    match = re.fullmatch(r"\s*(.*?)\s*\((.*)\)\s*", name)
    if match:
        return match.group(1), match.group(2)
    return name.strip(), ""


def _tag_phrases(tag: str, endpoint_type: str) -> list[str]:
    full = normalize(tag)
    if not full:
        return []
    phrases = [full]
    words = full.split()
    kind = next((w for w in words if w in _KIND_WORDS), "phone" if endpoint_type == "DEVICE" else "")
    content = [w for w in words if w not in _STOP and w not in _KIND_WORDS]
    if content and kind:
        phrases.append(f"{content[0]} {kind}")
        if len(content) > 1:
            phrases.append(" ".join(content) + f" {kind}")
    if len(words) == 1 and not kind:
        phrases.append(full)
    return phrases


@dataclass(frozen=True)
class Resolution:
    """What a spoken phrase names: ``kind`` is device, ambiguous, unknown or none (no words)."""

    kind: str
    phrase: str
    endpoint: Endpoint | None = None
    candidates: list[Endpoint] = field(default_factory=list)


@dataclass
class DeviceDirectory:
    endpoints: list[Endpoint]
    phrases: dict[str, list[Endpoint]]  # spoken phrase → endpoints it names (in endpoint order)
    labels: dict[str, str]  # endpoint id → the short name the assistant says (all distinct)
    problems: list[str]  # configured aliases that cannot be used, in words
    aliases: frozenset[str] = frozenset()  # the person's own words (normalized)
    messages: Messages = field(default_factory=english, repr=False)  # what is said back
    spoken_labels: dict[str, str] = field(default_factory=dict)  # endpoint id → label as said

    @classmethod
    def build(cls, endpoints: Iterable[Endpoint], aliases: Mapping[str, str],
              messages: Messages | None = None) -> DeviceDirectory:
        """``messages``: the catalogue to speak in (English when not given)."""
        messages = messages or english()
        endpoints = list(endpoints)
        phrases: dict[str, list[Endpoint]] = {}
        labels: dict[str, str] = {}

        def add(phrase: str, endpoint: Endpoint) -> None:
            if phrase and endpoint not in phrases.setdefault(phrase, []):
                phrases[phrase].append(endpoint)

        devices = [e for e in endpoints if e.type == "DEVICE"]
        apps = [e for e in endpoints if e.type == "APPLICATION"]
        for endpoint in endpoints:
            name = clean(endpoint.name, NAME_LIMIT)
            model, tag = split_name(name)
            tagged = _tag_phrases(tag, endpoint.type)
            for phrase in tagged:
                add(phrase, endpoint)
            if normalize(model):
                add(normalize(model), endpoint)
            if not tag:
                add(normalize(name), endpoint)
            if endpoint.type == "DEVICE":
                add("phone", endpoint)
                short = [p for p in tagged if p.endswith(" phone")]
                labels[endpoint.id] = min(short, key=len) if short else (tagged[-1] if tagged else "phone")
            elif endpoint.type == "APPLICATION":
                labels[endpoint.id] = "computer" if len(apps) == 1 else normalize(name)
            else:
                labels[endpoint.id] = normalize(name) or "device"
        spoken = {e.id: messages.word("kind", labels[e.id], labels[e.id]) for e in endpoints}
        for endpoint, label, said in _told_apart(endpoints, labels, messages):
            labels[endpoint.id], spoken[endpoint.id] = label, said
            add(label, endpoint)
        if len(devices) == 1:
            add("desk phone", devices[0])
        for word in APPLICATION_WORDS:
            for app in apps:
                add(word, app)

        problems: list[str] = []
        own: set[str] = set()
        for alias, target in aliases.items():
            said = normalize(alias)
            matches = [e for e in endpoints if e.name == target]
            shown, shown_target = clean(alias, NAME_LIMIT), clean(target, NAME_LIMIT)
            if not said:
                problems.append(messages.text("device.alias_unspeakable", alias=shown))
            elif not matches:
                problems.append(messages.text("device.alias_unknown", alias=shown, target=shown_target))
            else:
                phrases[said] = matches  # an alias is the person's own word: it wins
                own.add(said)
        return cls(endpoints, phrases, labels, problems, frozenset(own), messages, spoken)

    @property
    def names(self) -> list[str]:
        """Every spoken device phrase, longest first (so the grammar prefers full names)."""
        return sorted(self.phrases, key=lambda p: (-len(p.split()), p))

    def spoken_names(self, endpoint: Endpoint) -> list[str]:
        return [p for p in self.names if endpoint in self.phrases[p]]

    def label(self, endpoint: Endpoint) -> str:
        """The endpoint's short name as said (in English, the phrase that names it)."""
        if endpoint.id in self.spoken_labels:
            return self.spoken_labels[endpoint.id]
        return self.labels.get(endpoint.id, normalize(endpoint.name))

    def said_as(self, endpoint: Endpoint, phrase: str | None) -> str:
        """How to name the endpoint back to the person: their own words when those name only
        it and sound like a device ("your headset", "your reception phone"), else its label
        ("your computer", never "your webex" or "your cisco eighty eight sixty five")."""
        phrase = normalize(phrase or "")
        if self.phrases.get(phrase) == [endpoint] and (
            phrase in self.aliases or phrase.split()[-1] in _DEVICE_NOUNS
        ):
            return self.messages.word("kind", phrase, phrase)  # "headset" said as a kind word
        return self.label(endpoint)

    def resolve(self, words: str) -> Resolution:
        phrase = normalize(words)
        if not phrase:
            return Resolution("none", phrase)
        matches = self.phrases.get(phrase, [])
        if len(matches) == 1:
            return Resolution("device", phrase, matches[0], list(matches))
        if matches:
            return Resolution("ambiguous", phrase, None, list(matches))
        return Resolution("unknown", phrase)

    def question(self, resolution: Resolution) -> str:
        """"Which phone: desk phone or reception phone?" for an ambiguous resolution. The
        candidates are named by their labels, which are distinct; the question names the kind
        of device ("phone", "app"), never a stray word of what was said ("Which five?")."""
        options = [self.label(e) for e in resolution.candidates] or [self.label(e) for e in self.endpoints]
        kind = self.messages.word("kind", _kind_of(resolution))
        return self.messages.text("device.which", kind=kind,
                                  options=self.messages.spoken_list(options, "or"))


def _kind_of(resolution: Resolution) -> str:
    """The noun "Which …?" asks with: the person's own when it is one ("headset"), else the
    candidates' common type ("phone", "app"), else "device"."""
    last = resolution.phrase.split()[-1] if resolution.phrase else ""
    if last in _DEVICE_NOUNS:
        return last
    types = {e.type for e in resolution.candidates}
    if types == {"DEVICE"}:
        return "phone"
    if types == {"APPLICATION"}:
        return "app"
    return "device"


def _told_apart(
    endpoints: list[Endpoint], labels: dict[str, str], messages: Messages
) -> list[tuple[Endpoint, str, str]]:
    """New labels for endpoints that share one: "first desk phone", "second desk phone"; each
    as a phrase (English words, for the grammar) and as said in ``messages``' language."""
    groups: dict[str, list[Endpoint]] = {}
    for endpoint in endpoints:
        groups.setdefault(labels[endpoint.id], []).append(endpoint)
    renamed = []
    for label, group in groups.items():
        said_label = messages.word("kind", label, label)
        for n, endpoint in enumerate(group if len(group) > 1 else []):
            phrase = _numbered(english(), label, n + 1, number_words(str(n + 1)))
            said = phrase if messages.language == "en" else _numbered(messages, said_label, n + 1, str(n + 1))
            renamed.append((endpoint, phrase, said))
    return renamed


def _numbered(messages: Messages, label: str, n: int, number: str) -> str:
    if n <= _ORDINALS:
        return messages.text("words.label.ordinal", ordinal=messages.word("ordinal", str(n)), label=label)
    return messages.text("words.label.numbered", label=label, number=number)
