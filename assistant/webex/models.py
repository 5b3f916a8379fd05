"""Typed records for what Webex returns; tolerant of unknown fields and of ``id`` vs ``callId``,
strict about the types of the fields they use.

A record of the wrong shape (a ``remoteParty`` that is a string, a call without an id, a flag
that is not a boolean) raises ``MalformedRecord``: the client skips and logs it rather than
guessing, since a guess could announce a private caller's name. Text that is printed or spoken
(names, numbers, states) is cleaned by ``assistant.text.clean`` here, once, so nothing
downstream can print an escape sequence or speak a page of text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.messages import Messages, english
from assistant.text import NAME_LIMIT, clean

ID_LIMIT = 512  # Webex ids are base64 of a URL: about 100 characters


class MalformedRecord(ValueError):
    """A record whose fields have the wrong types; the message names the field, never its value."""


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedRecord(f"{what} is {type(data).__name__}, not an object")
    return data


def _text(data: dict[str, Any], key: str, limit: int = NAME_LIMIT) -> str | None:
    """An optional string field, cleaned; None when absent, null or empty."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedRecord(f"{key} is {type(value).__name__}, not a string")
    return clean(value, limit) or None


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise MalformedRecord(f"{key} is {type(value).__name__}, not a boolean")
    return value


def _id(data: dict[str, Any], *keys: str) -> str:
    """An opaque id: a non-empty printable string (it goes back to Webex in a path or a body)."""
    for key in keys:
        value = data.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise MalformedRecord(f"{key} is {type(value).__name__}, not a string")
        if len(value) > ID_LIMIT or clean(value, ID_LIMIT) != value or " " in value:
            raise MalformedRecord(f"{key} is not a printable id")
        return value
    raise MalformedRecord(f"no {' or '.join(keys)}")


@dataclass(frozen=True)
class Party:
    name: str | None = None
    number: str | None = None
    privacy_enabled: bool = False
    call_type: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Party:
        data = {} if data is None else _object(data, "remoteParty")
        return cls(
            name=_text(data, "name"),
            number=_text(data, "number"),
            privacy_enabled=_flag(data, "privacyEnabled"),
            call_type=_text(data, "callType"),
        )

    def spoken(self, messages: Messages | None = None) -> str:
        """How the caller is announced; privacy is respected. The name as Webex gave it, else
        the number digit by digit (in any language), else the catalogue's words for a caller
        without one (a ``Sentence``: ``Messages.say`` says it in the person's language)."""
        messages = messages or english()
        if self.privacy_enabled:
            return messages.text("caller.private")
        if self.name:
            return self.name
        if self.number:
            return " ".join(self.number)  # digits read one by one
        return messages.text("caller.unknown")


@dataclass(frozen=True)
class Call:
    id: str
    state: str
    personality: str
    remote: Party
    call_session_id: str | None = None
    created: str | None = None
    answered: str | None = None
    mute_capable: bool = False

    @classmethod
    def from_dict(cls, data: Any) -> Call:
        data = _object(data, "call")
        try:
            remote = Party.from_dict(data.get("remoteParty"))
        except MalformedRecord as exc:
            raise MalformedRecord(f"remoteParty: {exc}") from None
        return cls(
            id=_id(data, "id", "callId"),
            state=_text(data, "state") or "",
            personality=_text(data, "personality") or "",
            remote=remote,
            call_session_id=_text(data, "callSessionId", ID_LIMIT),
            created=_text(data, "created"),
            answered=_text(data, "answered"),
            mute_capable=_flag(data, "muteCapable"),
        )

    @property
    def is_ringing_for_me(self) -> bool:
        return self.personality == "terminator" and self.state == "alerting"


@dataclass(frozen=True)
class Endpoint:
    id: str
    type: str  # DEVICE | APPLICATION
    name: str
    is_preferred: bool = False

    @classmethod
    def from_dict(cls, data: Any) -> Endpoint:
        data = _object(data, "endpoint")
        return cls(
            id=_id(data, "id"),
            type=_text(data, "type") or "",
            name=_text(data, "name") or "",
            is_preferred=_flag(data, "isPreferredAnswerEndpoint"),
        )


@dataclass(frozen=True)
class Person:
    id: str
    display_name: str
    emails: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> Person:
        data = _object(data, "person")
        emails = data.get("emails") or []
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise MalformedRecord("emails is not a list of strings")
        return cls(
            id=_id(data, "id"),
            display_name=_text(data, "displayName") or "",
            emails=tuple(clean(e, NAME_LIMIT) for e in emails[:20]),
        )
