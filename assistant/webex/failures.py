"""Failures a person can understand: one spoken sentence per documented Webex status and per
kind of network failure, combined with Webex's own explanation when it sent one.

The wording is data (``assistant/data/failures.toml``); this module only picks and joins.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.errors import AuthError, WebexError, WebexNetworkError, WebexStatusError

#: The error statuses the Webex specification documents for every call-control operation.
DOCUMENTED_STATUSES = (400, 401, 403, 404, 405, 409, 410, 415, 423, 428, 429, 500, 502, 503, 504)
NETWORK_KINDS = ("timeout", "refused", "dns", "tls", "dropped")


@dataclass(frozen=True)
class Wording:
    status: dict[str, str]
    network: dict[str, str]
    outcome: dict[str, str]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Wording:
        tables = {}
        for name in ("status", "network", "outcome"):
            table = data.get(name)
            if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                raise ValueError(f"failure wording: [{name}] must be a table of strings")
            tables[name] = {str(k): v for k, v in table.items()}
        return cls(**tables)

    @classmethod
    def from_file(cls, path: Path) -> Wording:
        return cls.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def default(cls) -> Wording:
        return _default_wording()


@lru_cache(maxsize=1)
def _default_wording() -> Wording:
    text = resources.files("assistant").joinpath("data/failures.toml").read_text(encoding="utf-8")
    return Wording.from_dict(tomllib.loads(text))


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def server_detail(body: Any) -> str | None:
    """Webex's own explanation from an error body: ``message``, else ``errors[].description``."""
    if not isinstance(body, dict):
        return None
    parts: list[str] = []
    message = body.get("message")
    if isinstance(message, str) and message.strip():
        parts.append(message.strip())
    for item in body.get("errors") or []:
        description = item.get("description") if isinstance(item, dict) else None
        if isinstance(description, str) and description.strip() and description.strip() not in parts:
            parts.append(description.strip())
    if not parts:
        return None
    return " ".join(_sentence(p) for p in parts[:2])


def status_spoken(status: int, detail: str | None = None, wording: Wording | None = None) -> str:
    wording = wording or Wording.default()
    base = wording.status.get(str(status)) or wording.status["other"].format(status=status)
    if detail:
        return base + " " + wording.outcome["server_said"].format(detail=detail)
    return base


def network_spoken(kind: str, wording: Wording | None = None) -> str:
    wording = wording or Wording.default()
    return wording.network.get(kind) or wording.network["other"]


def outcome_spoken(key: str, wording: Wording | None = None, **values: Any) -> str:
    wording = wording or Wording.default()
    return wording.outcome[key].format(**values)


def _body_of(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def status_error(
    method: str,
    path: str,
    status: int,
    content: bytes,
    tracking_id: str | None,
    retry_after_seconds: float | None = None,
) -> WebexError:
    """The project error for a Webex error response (``AuthError`` for 401)."""
    body = _body_of(content)
    detail = server_detail(body)
    if isinstance(body, dict) and isinstance(body.get("trackingId"), str):
        tracking_id = body["trackingId"]
    message = f"{method} {path} -> {status}" + (f": {detail}" if detail else "")
    message += f" (trackingId {tracking_id})"
    spoken = status_spoken(status, detail)
    if status == 401:
        return AuthError(message, spoken)
    return WebexStatusError(message, spoken, status, tracking_id, retry_after_seconds)


def network_error(method: str, path: str, kind: str, cause: BaseException) -> WebexNetworkError:
    return WebexNetworkError(f"{method} {path}: {kind}: {cause}", network_spoken(kind), kind)
