"""Failures a person can understand: one spoken sentence per documented Webex status and per
kind of network failure, combined with Webex's own explanation when it sent one.

The wording is data (``[failure.*]`` of the message catalogue, ``assistant/data/failures.toml``
and its translations); this module only picks and joins. Sentences are made from the English
catalogue as ``messages.Sentence``: whoever speaks one says it in the person's language
(``Messages.render``), Webex's own explanation kept as Webex sent it.
"""

from __future__ import annotations

import json
from typing import Any

from assistant.errors import AuthError, WebexError, WebexNetworkError, WebexStatusError
from assistant.messages import Messages, english, joined
from assistant.text import MESSAGE_LIMIT, NAME_LIMIT, clean

#: The error statuses the Webex specification documents for every call-control operation.
DOCUMENTED_STATUSES = (400, 401, 403, 404, 405, 409, 410, 415, 423, 428, 429, 500, 502, 503, 504)
NETWORK_KINDS = ("timeout", "refused", "dns", "tls", "dropped")
#: values that are the assistant's own words, said in the person's language (words.toml)
WORD_VALUES = ("done",)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def server_detail(body: Any) -> str | None:
    """Webex's own explanation from an error body: ``message``, else ``errors[].description``;
    cleaned of control characters and cut to ``MESSAGE_LIMIT`` (a server can send anything)."""
    if not isinstance(body, dict):
        return None
    parts: list[str] = []
    message = body.get("message")
    if isinstance(message, str) and clean(message):
        parts.append(clean(message, MESSAGE_LIMIT))
    errors = body.get("errors")
    for item in errors[:10] if isinstance(errors, list) else []:
        description = item.get("description") if isinstance(item, dict) else None
        text = clean(description, MESSAGE_LIMIT) if isinstance(description, str) else ""
        if text and text not in parts:
            parts.append(text)
    if not parts:
        return None
    return clean(" ".join(_sentence(p) for p in parts[:2]), MESSAGE_LIMIT)


def status_spoken(status: int, detail: str | None = None, messages: Messages | None = None) -> str:
    messages = messages or english()
    key = f"failure.status.{status}"
    base = messages.text(key) if messages.has(key) else messages.text("failure.status.other", status=status)
    if detail:
        return joined(base, messages.text("failure.outcome.server_said", detail=detail))
    return base


def network_spoken(kind: str, messages: Messages | None = None) -> str:
    messages = messages or english()
    key = f"failure.network.{kind}"
    return messages.text(key if messages.has(key) else "failure.network.other")


def outcome_spoken(key: str, messages: Messages | None = None, **values: Any) -> str:
    messages = messages or english()
    for name in WORD_VALUES:
        if isinstance(values.get(name), str):  # "answered" is said as the catalogue's word
            values[name] = messages.word(name, values[name])
    return messages.text("failure.outcome." + key, **values)


def _body_of(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except (ValueError, RecursionError):
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
        tracking_id = clean(body["trackingId"], NAME_LIMIT) or tracking_id
    message = f"{method} {path} -> {status}" + (f": {detail}" if detail else "")
    message += f" (trackingId {tracking_id})"
    spoken = status_spoken(status, detail)
    if status == 401:
        error: WebexError = AuthError(message, spoken)
        error.status = status
        return error
    return WebexStatusError(message, spoken, status, tracking_id, retry_after_seconds)


def redirect_error(method: str, path: str, status: int, location: str | None,
                   tracking_id: str | None) -> WebexStatusError:
    """A 3xx: redirects are never followed (a sign-in page or a proxy is in the way)."""
    where = clean(location, MESSAGE_LIMIT) if location else "nowhere"
    return WebexStatusError(
        f"{method} {path} -> {status} redirect to {where} (not followed; trackingId {tracking_id})",
        outcome_spoken("redirect"), status, tracking_id,
    )


def malformed_error(method: str, path: str, status: int | None, why: str,
                    key: str = "malformed") -> WebexError:
    """A reply of the wrong shape (or too large, ``key="too_large"``): never a success."""
    error = WebexError(f"{method} {path} -> {status}: {clean(why, MESSAGE_LIMIT)}",
                       outcome_spoken(key))
    error.status = status
    return error


def network_error(method: str, path: str, kind: str, cause: BaseException) -> WebexNetworkError:
    return WebexNetworkError(f"{method} {path}: {kind}: {cause}", network_spoken(kind), kind)
