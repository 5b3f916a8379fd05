"""The Webex Calling client: call controls, answer endpoints and ``people/me`` on one
``httpx.Client``.

Every failure leaves this module as an ``assistant.errors`` exception whose ``spoken`` is a
sentence from ``failures`` and whose ``status`` is the HTTP status Webex replied with. Only a
2xx reply of the documented shape is a success: no body for the call controls (documented
``204``), a JSON object for the GETs. A redirect (never followed), an HTML page or a body of the
wrong shape is a failure. Each request has a deadline and a body limit (``webex.http``). A
malformed record in a list is skipped and logged; the rest of the list is used.

Retry policy:

* 423 and 429 wait ``Retry-After`` (at most ``max_retry_after_seconds``) and retry once; before
  retrying an answer or a reject, the call is read again and, if it stopped ringing, that is said
  instead of retrying.
* GETs retry once on 502, 503 and 504.
* An answer whose outcome is unknown (timeout, dropped connection) is never blindly re-sent: the
  call is read first; if it is already connected the answer landed, if it still rings it is sent
  once more, otherwise the call has ended.
* A 409 on answer or reject reads the call: if it was picked up on another device, that is said.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from assistant.config import WebexSettings
from assistant.errors import AuthError, ConfigError, WebexError, WebexNetworkError, WebexStatusError
from assistant.webex import failures
from assistant.webex.http import (
    RETRY_AFTER_CEILING_SECONDS,
    Reply,
    exchange,
    request_deadline_seconds,
    retry_after_seconds,
)
from assistant.webex.http import http_client as http_client  # the one way, also for sign-in
from assistant.webex.models import Call, Endpoint, MalformedRecord, Person

log = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = (423, 429)
GATEWAY_STATUSES = (502, 503, 504)
ANSWERED_STATES = ("connected", "held", "remoteHeld")
DEFAULT_RETRY_AFTER_SECONDS = 1.0  # a 429 without Retry-After
T = TypeVar("T")


class TokenSource(Protocol):
    def access_token(self) -> str:
        """The current access token; raises ``AuthError`` when there is none."""

    def refresh_after_401(self) -> bool:
        """Try to get a new token after a 401; True if one was obtained (retry once)."""


class StaticToken:
    """A fixed token, e.g. ``WEBEX_ACCESS_TOKEN``; it cannot be refreshed."""

    def __init__(self, token: str) -> None:
        self._token = token.strip()

    def access_token(self) -> str:
        if not self._token:
            raise AuthError("no Webex access token", failures.outcome_spoken("no_token"))
        return self._token

    def refresh_after_401(self) -> bool:
        return False


def check_url(url: str) -> str:
    """The API base (``<url>/v1``); HTTPS unless the host is loopback (the emulator)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    base = url.rstrip("/").removesuffix("/v1")  # "https://webexapis.com/v1" means the same
    if parts.scheme == "https" and host:
        return base + "/v1"
    if parts.scheme == "http" and _is_loopback(host):
        return base + "/v1"
    raise ConfigError(
        "--webex-url or [webex] url",
        "webex.url",
        f"an https:// URL (http:// only for a loopback host such as the emulator), not {url!r}",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def network_kind(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        text = repr(exc) + repr(exc.__cause__) + repr(exc.__context__)
        if "SSL" in text or "certificate" in text.lower():
            return "tls"
        if "refused" in text.lower() or "Errno 111" in text:
            return "refused"
        if "gaierror" in text or "Name or service" in text or "getaddrinfo" in text:
            return "dns"
        return "refused"
    return "dropped"


def _call_path(call_id: str) -> str:
    return "/telephony/calls/" + quote(call_id, safe="=")


class WebexClient:
    def __init__(
        self,
        settings: WebexSettings,
        tokens: TokenSource | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the network (``httpx.MockTransport`` in parsing tests)."""
        self._base = check_url(settings.url)
        self._settings = settings
        self._tokens = tokens if tokens is not None else StaticToken(settings.access_token)
        self._sleep = sleep
        self._deadline_seconds = request_deadline_seconds(settings)
        self._http = (
            http_client(settings, self._base) if transport is None
            else httpx.Client(base_url=self._base, transport=transport, follow_redirects=False)
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one request, and the retry policy -------------------------------------------------

    def _send(self, method: str, path: str, body: Any, params: dict[str, str] | None) -> Reply:
        tracking_id = f"WEBEX-VOICE_{uuid.uuid4()}"
        token = self._tokens.access_token()
        if not (token.isascii() and token.isprintable()) or " " in token:
            raise AuthError("the access token has characters a token cannot have",
                            failures.outcome_spoken("bad_token"))
        headers = {
            "Authorization": f"Bearer {token}",
            "TrackingID": tracking_id,
            "Accept": "application/json",
        }
        started = time.monotonic()
        try:
            reply = exchange(self._http, method, path, self._deadline_seconds,
                             json=body, params=params, headers=headers)
        except httpx.HTTPError as exc:
            kind = network_kind(exc) if isinstance(exc, httpx.TransportError) else "dropped"
            ms = (time.monotonic() - started) * 1000
            log.info("%s %s -> %s after %.0f ms, trackingId %s", method, path, kind, ms, tracking_id)
            raise failures.network_error(method, path, kind, exc) from exc
        ms = (time.monotonic() - started) * 1000
        log.info(
            "%s %s -> %d in %.0f ms, trackingId %s%s",
            method, path, reply.status, ms, tracking_id, " (body over the limit)" if reply.truncated else "",
        )
        return dataclasses.replace(reply, tracking_id=tracking_id)

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        before_retry: Callable[[], None] | None = None,
    ) -> Reply:
        """A 2xx reply (its body within the limit); every other reply raises."""
        refreshed = retried_wait = retried_gateway = False
        while True:
            reply = self._send(method, path, body, params)
            status, tracking_id = reply.status, reply.tracking_id
            if 200 <= status < 300:
                if reply.truncated:
                    raise failures.malformed_error(method, path, status, "body over the limit",
                                                   "too_large")
                return reply
            if 300 <= status < 400:
                location = reply.headers.get("Location")
                raise failures.redirect_error(method, path, status, location, tracking_id)
            wait = retry_after_seconds(reply.headers.get("Retry-After"))
            if status == 401 and not refreshed and self._tokens.refresh_after_401():
                refreshed = True
                continue
            if status in RETRY_AFTER_STATUSES and not retried_wait:
                wait = DEFAULT_RETRY_AFTER_SECONDS if wait is None and status == 429 else wait
                if wait is not None:
                    self._wait_out(method, path, reply, wait)
                    if before_retry is not None:
                        before_retry()
                    retried_wait = True
                    continue
            if status in GATEWAY_STATUSES and method == "GET" and not retried_gateway:
                retried_gateway = True
                continue
            raise failures.status_error(method, path, status, reply.content, tracking_id, wait)

    def _wait_out(self, method: str, path: str, reply: Reply, wait: float) -> None:
        if wait > self._settings.max_retry_after_seconds:
            error = failures.status_error(
                method, path, reply.status, reply.content,
                reply.tracking_id, wait,
            )
            if wait >= RETRY_AFTER_CEILING_SECONDS:
                error.spoken = failures.outcome_spoken("wait_long")
            else:
                error.spoken = failures.outcome_spoken("wait_too_long", seconds=round(wait))
            raise error
        log.info("%s %s: waiting %.1f s (Retry-After) before retrying", method, path, wait)
        self._sleep(wait)

    def _action(self, method: str, path: str, body: Any,
                before_retry: Callable[[], None] | None = None) -> int:
        """A call control or setting documented as ``204 No Content``: success is a 2xx
        without a body; a body (an HTML sign-in page, JSON of a proxy) is not understood."""
        reply = self._request(method, path, body, before_retry=before_retry)
        if reply.content.strip():
            kind = reply.headers.get("Content-Type", "no type")
            raise failures.malformed_error(method, path, reply.status,
                                           f"expected no content, got {len(reply.content)} bytes of {kind}")
        return reply.status

    def _json_dict(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """A GET documented as ``200`` with a JSON object."""
        reply = self._request("GET", path, params=params)
        try:
            data = json.loads(reply.content) if reply.status == 200 else None
        except (ValueError, RecursionError) as exc:
            raise failures.malformed_error("GET", path, reply.status, f"not JSON ({exc})") from None
        if not isinstance(data, dict):
            why = f"status {reply.status}" if reply.status != 200 else f"{type(data).__name__} reply"
            raise failures.malformed_error("GET", path, reply.status, f"not an object ({why})")
        return data

    def _items(self, path: str, key: str, params: dict[str, str] | None = None) -> list[Any]:
        data = self._json_dict(path, params)
        items = data.get(key)
        if not isinstance(items, list):
            raise failures.malformed_error("GET", path, 200, f"no {key!r} list")
        return items

    def _records(self, path: str, key: str, parse: Callable[[Any], T]) -> list[T]:
        """Each well-formed record of the ``key`` list; a malformed one is skipped and logged."""
        records: list[T] = []
        for index, item in enumerate(self._items(path, key)):
            try:
                records.append(parse(item))
            except MalformedRecord as exc:
                log.warning("GET %s: %s[%d] skipped: %s", path, key, index, exc)
        return records

    # --- calls --------------------------------------------------------------------------------

    def list_calls(self) -> list[Call]:
        return self._records("/telephony/calls", "items", Call.from_dict)

    def get_call(self, call_id: str) -> Call:
        path = _call_path(call_id)
        data = self._json_dict(path)
        try:
            return Call.from_dict(data)
        except MalformedRecord as exc:
            raise failures.malformed_error("GET", path, 200, str(exc)) from None

    def call_history(self, type: str | None = None) -> list[dict[str, Any]]:
        params = {"type": type} if type else None
        return [i for i in self._items("/telephony/calls/history", "items", params) if isinstance(i, dict)]

    def _still_ringing(self, call_id: str, done: str) -> Callable[[], None]:
        def check() -> None:
            try:
                call = self.get_call(call_id)
            except WebexStatusError as exc:
                if exc.status in (404, 410):
                    exc.spoken = failures.outcome_spoken("stopped_ringing", done=done)
                raise
            if call.state != "alerting":
                key = "answered_elsewhere" if call.state in ANSWERED_STATES else "stopped_ringing"
                raise WebexStatusError(
                    f"call {call_id} is {call.state}, no longer alerting",
                    failures.outcome_spoken(key, done=done),
                    409,
                )

        return check

    def _explain_conflict(self, call_id: str, exc: WebexStatusError) -> None:
        """A 409 on answer or reject: if the call was picked up on another device meanwhile,
        say that, rather than "that device isn't ringing"."""
        try:
            call = self.get_call(call_id)
        except WebexError as read_error:
            log.info("after a 409, call %s could not be read: %s", call_id, read_error)
            return
        if call.state in ANSWERED_STATES:
            exc.spoken = failures.outcome_spoken("answered_elsewhere")

    def answer(self, call_id: str, endpoint_id: str | None = None) -> int | None:
        """Answers; returns the status of Webex's success reply (None: the reply was lost but
        reading the call showed that the answer landed)."""
        body: dict[str, Any] = {"callId": call_id}
        if endpoint_id:
            body["endpointId"] = endpoint_id
        check = self._still_ringing(call_id, "answered")
        for attempt in (1, 2):
            try:
                return self._action("POST", "/telephony/calls/answer", body, before_retry=check)
            except WebexStatusError as exc:
                if exc.status == 409:
                    self._explain_conflict(call_id, exc)
                raise
            except WebexNetworkError as exc:
                if exc.kind not in ("timeout", "dropped"):
                    raise  # refused, DNS, TLS: nothing reached Webex
                if self._answer_landed(call_id, exc):
                    return None
                if attempt == 2:
                    raise
            log.info("answer of %s did not land and the call still rings: sending once more", call_id)
        return None  # not reached: the second attempt returns or raises

    def _answer_landed(self, call_id: str, cause: WebexNetworkError) -> bool:
        """After an answer with unknown outcome: True if the call is answered, False if it still
        rings; raises when it ended or its state cannot be read."""
        log.warning("answer of %s: outcome unknown (%s); reading the call", call_id, cause.kind)
        try:
            call = self.get_call(call_id)
        except WebexStatusError as exc:
            if exc.status in (404, 410):
                exc.spoken = failures.outcome_spoken("call_ended")
            raise
        except WebexError as exc:
            raise WebexNetworkError(
                f"answer of {call_id}: outcome unknown, state unreadable: {exc}",
                failures.outcome_spoken("unknown_outcome"),
                cause.kind,
            ) from exc
        if call.state in ANSWERED_STATES:
            log.info("answer of %s landed (state %s): not sending it again", call_id, call.state)
            return True
        if call.state == "alerting":
            return False
        raise WebexStatusError(
            f"call {call_id} is {call.state} after an answer with unknown outcome",
            failures.outcome_spoken("call_ended"),
            410,
        )

    def reject(self, call_id: str, action: str = "busy") -> int:
        """Rejects; returns the status of Webex's success reply."""
        check = self._still_ringing(call_id, "declined")
        body = {"callId": call_id, "action": action}
        try:
            return self._action("POST", "/telephony/calls/reject", body, before_retry=check)
        except WebexStatusError as exc:
            if exc.status == 409:
                self._explain_conflict(call_id, exc)
            raise

    def _control(self, op: str, call_id: str) -> int:
        return self._action("POST", f"/telephony/calls/{op}", {"callId": call_id})

    def hangup(self, call_id: str) -> int:
        return self._control("hangup", call_id)

    def hold(self, call_id: str) -> int:
        return self._control("hold", call_id)

    def resume(self, call_id: str) -> int:
        return self._control("resume", call_id)

    def mute(self, call_id: str) -> int:
        return self._control("mute", call_id)

    def unmute(self, call_id: str) -> int:
        return self._control("unmute", call_id)

    def divert(
        self, call_id: str, *, to_voicemail: bool = False, destination: str | None = None
    ) -> int:
        body: dict[str, Any] = {"callId": call_id}
        if to_voicemail:
            body["toVoicemail"] = True
        if destination:
            body["destination"] = destination
        return self._action("POST", "/telephony/calls/divert", body)

    # --- answer endpoints and the person ---------------------------------------------------

    _SETTINGS = "/telephony/config/people/me/settings"

    def answer_endpoints(self) -> list[Endpoint]:
        path = f"{self._SETTINGS}/availablePreferredAnswerEndpoints"
        return self._records(path, "endpoints", Endpoint.from_dict)

    def preferred_answer_endpoint(self) -> str | None:
        path = f"{self._SETTINGS}/preferredAnswerEndpoint"
        value = self._json_dict(path).get("id")
        if value is not None and not isinstance(value, str):
            raise failures.malformed_error("GET", path, 200, "id is not a string")
        return value or None

    def set_preferred_answer_endpoint(self, endpoint_id: str | None) -> int:
        body = {"preferredAnswerEndpointId": endpoint_id}
        return self._action("PUT", f"{self._SETTINGS}/preferredAnswerEndpoint", body)

    def me(self) -> Person:
        try:
            return Person.from_dict(self._json_dict("/people/me"))
        except MalformedRecord as exc:
            raise failures.malformed_error("GET", "/people/me", 200, str(exc)) from None
