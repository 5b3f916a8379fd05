"""Typed records for what Webex returns; tolerant of unknown fields and of ``id`` vs ``callId``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Party:
    name: str | None = None
    number: str | None = None
    privacy_enabled: bool = False
    call_type: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Party:
        data = data or {}
        return cls(
            name=data.get("name") or None,
            number=data.get("number") or None,
            privacy_enabled=bool(data.get("privacyEnabled", False)),
            call_type=data.get("callType"),
        )

    def spoken(self) -> str:
        """How the caller is announced; privacy is respected."""
        if self.privacy_enabled:
            return "a private caller"
        if self.name:
            return self.name
        if self.number:
            return " ".join(self.number)  # digits read one by one
        return "an unknown caller"


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
    def from_dict(cls, data: dict[str, Any]) -> Call:
        return cls(
            id=str(data.get("id") or data.get("callId") or ""),
            state=str(data.get("state", "")),
            personality=str(data.get("personality", "")),
            remote=Party.from_dict(data.get("remoteParty")),
            call_session_id=data.get("callSessionId"),
            created=data.get("created"),
            answered=data.get("answered"),
            mute_capable=bool(data.get("muteCapable", False)),
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
    def from_dict(cls, data: dict[str, Any]) -> Endpoint:
        return cls(
            id=str(data.get("id", "")),
            type=str(data.get("type", "")),
            name=str(data.get("name", "")),
            is_preferred=bool(data.get("isPreferredAnswerEndpoint", False)),
        )


@dataclass(frozen=True)
class Person:
    id: str
    display_name: str
    emails: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Person:
        return cls(
            id=str(data.get("id", "")),
            display_name=str(data.get("displayName", "")),
            emails=tuple(data.get("emails") or ()),
        )
