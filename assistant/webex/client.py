"""The Webex Calling client: call controls, answer endpoints and ``people/me`` on one
``httpx.Client``.

Every failure leaves this module as an ``assistant.errors`` exception whose ``spoken`` is a
sentence from ``failures``. Retry policy:

* 423 and 429 wait ``Retry-After`` (at most ``max_retry_after_seconds``) and retry once; before
  retrying an answer or a reject, the call is read again and, if it stopped ringing, that is said
  instead of retrying.
* GETs retry once on 502, 503 and 504.
* An answer whose outcome is unknown (timeout, dropped connection) is never blindly re-sent: the
  call is read first; if it is already connected the answer landed, if it still rings it is sent
  once more, otherwise the call has ended.
"""

from __future__ import annotations

import ipaddress
import logging
import time
import uuid
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, Self
from urllib.parse import urlsplit

import httpx

from assistant.config import WebexSettings
from assistant.errors import AuthError, ConfigError, WebexError, WebexNetworkError, WebexStatusError
from assistant.webex import failures
from assistant.webex.models import Call, Endpoint, Person

log = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = (423, 429)
GATEWAY_STATUSES = (502, 503, 504)
ANSWERED_STATES = ("connected", "held", "remoteHeld")
DEFAULT_RETRY_AFTER_SECONDS = 1.0  # a 429 without Retry-After


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


def http_client(settings: WebexSettings, base_url: str) -> httpx.Client:
    """The one way this project talks HTTP to Webex: keep-alive, explicit timeouts, no redirects."""
    timeout = httpx.Timeout(
        connect=settings.connect_timeout_seconds,
        read=settings.read_timeout_seconds,
        write=settings.read_timeout_seconds,
        pool=settings.connect_timeout_seconds,
    )
    return httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False)


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


def _network_kind(exc: httpx.TransportError) -> str:
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


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class WebexClient:
    def __init__(
        self,
        settings: WebexSettings,
        tokens: TokenSource | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = check_url(settings.url)
        self._settings = settings
        self._tokens = tokens if tokens is not None else StaticToken(settings.access_token)
        self._sleep = sleep
        self._http = http_client(settings, self._base)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one request, and the retry policy -------------------------------------------------

    def _send(self, method: str, path: str, body: Any, params: dict[str, str] | None) -> httpx.Response:
        tracking_id = f"WEBEX-VOICE_{uuid.uuid4()}"
        headers = {
            "Authorization": f"Bearer {self._tokens.access_token()}",
            "TrackingID": tracking_id,
            "Accept": "application/json",
        }
        started = time.monotonic()
        try:
            response = self._http.request(method, path, json=body, params=params, headers=headers)
        except httpx.TransportError as exc:
            kind = _network_kind(exc)
            ms = (time.monotonic() - started) * 1000
            log.info("%s %s -> %s after %.0f ms, trackingId %s", method, path, kind, ms, tracking_id)
            raise failures.network_error(method, path, kind, exc) from exc
        ms = (time.monotonic() - started) * 1000
        log.info(
            "%s %s -> %d in %.0f ms, trackingId %s",
            method, path, response.status_code, ms, tracking_id,
        )
        response.extensions["tracking_id"] = tracking_id
        return response

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        before_retry: Callable[[], None] | None = None,
    ) -> httpx.Response:
        refreshed = retried_wait = retried_gateway = False
        while True:
            response = self._send(method, path, body, params)
            status = response.status_code
            if status < 400:
                return response
            wait = _retry_after(response)
            if status == 401 and not refreshed and self._tokens.refresh_after_401():
                refreshed = True
                continue
            if status in RETRY_AFTER_STATUSES and not retried_wait:
                wait = DEFAULT_RETRY_AFTER_SECONDS if wait is None and status == 429 else wait
                if wait is not None:
                    self._wait_out(method, path, response, wait)
                    if before_retry is not None:
                        before_retry()
                    retried_wait = True
                    continue
            if status in GATEWAY_STATUSES and method == "GET" and not retried_gateway:
                retried_gateway = True
                continue
            raise failures.status_error(
                method, path, status, response.content, response.extensions.get("tracking_id"), wait
            )

    def _wait_out(self, method: str, path: str, response: httpx.Response, wait: float) -> None:
        if wait > self._settings.max_retry_after_seconds:
            error = failures.status_error(
                method, path, response.status_code, response.content,
                response.extensions.get("tracking_id"), wait,
            )
            error.spoken = failures.outcome_spoken("wait_too_long", seconds=round(wait))
            raise error
        log.info("%s %s: waiting %.1f s (Retry-After) before retrying", method, path, wait)
        self._sleep(wait)

    def _json(self, method: str, path: str, params: dict[str, str] | None = None) -> Any:
        response = self._request(method, path, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise WebexError(
                f"{method} {path}: reply is not JSON ({exc})", failures.outcome_spoken("malformed")
            ) from exc

    def _json_dict(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        data = self._json("GET", path, params)
        if not isinstance(data, dict):
            raise WebexError(f"GET {path}: reply is not an object", failures.outcome_spoken("malformed"))
        return data

    def _items(self, path: str, key: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        items = self._json_dict(path, params).get(key)
        if not isinstance(items, list):
            raise WebexError(f"GET {path}: no {key!r} list", failures.outcome_spoken("malformed"))
        return [item for item in items if isinstance(item, dict)]

    # --- calls --------------------------------------------------------------------------------

    def list_calls(self) -> list[Call]:
        return [Call.from_dict(item) for item in self._items("/telephony/calls", "items")]

    def get_call(self, call_id: str) -> Call:
        return Call.from_dict(self._json_dict(f"/telephony/calls/{call_id}"))

    def call_history(self, type: str | None = None) -> list[dict[str, Any]]:
        params = {"type": type} if type else None
        return self._items("/telephony/calls/history", "items", params)

    def _still_ringing(self, call_id: str, done: str) -> Callable[[], None]:
        def check() -> None:
            try:
                call = self.get_call(call_id)
            except WebexStatusError as exc:
                if exc.status in (404, 410):
                    exc.spoken = failures.outcome_spoken("stopped_ringing", done=done)
                raise
            if call.state != "alerting":
                raise WebexStatusError(
                    f"call {call_id} is {call.state}, no longer alerting",
                    failures.outcome_spoken("stopped_ringing", done=done),
                    409,
                )

        return check

    def answer(self, call_id: str, endpoint_id: str | None = None) -> None:
        body: dict[str, Any] = {"callId": call_id}
        if endpoint_id:
            body["endpointId"] = endpoint_id
        check = self._still_ringing(call_id, "answered")
        for attempt in (1, 2):
            try:
                self._request("POST", "/telephony/calls/answer", body, before_retry=check)
                return
            except WebexNetworkError as exc:
                if exc.kind not in ("timeout", "dropped"):
                    raise  # refused, DNS, TLS: nothing reached Webex
                if self._answer_landed(call_id, exc):
                    return
                if attempt == 2:
                    raise
            log.info("answer of %s did not land and the call still rings: sending once more", call_id)

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

    def reject(self, call_id: str, action: str = "busy") -> None:
        check = self._still_ringing(call_id, "declined")
        body = {"callId": call_id, "action": action}
        self._request("POST", "/telephony/calls/reject", body, before_retry=check)

    def _control(self, op: str, call_id: str) -> None:
        self._request("POST", f"/telephony/calls/{op}", {"callId": call_id})

    def hangup(self, call_id: str) -> None:
        self._control("hangup", call_id)

    def hold(self, call_id: str) -> None:
        self._control("hold", call_id)

    def resume(self, call_id: str) -> None:
        self._control("resume", call_id)

    def mute(self, call_id: str) -> None:
        self._control("mute", call_id)

    def unmute(self, call_id: str) -> None:
        self._control("unmute", call_id)

    def divert(
        self, call_id: str, *, to_voicemail: bool = False, destination: str | None = None
    ) -> None:
        body: dict[str, Any] = {"callId": call_id}
        if to_voicemail:
            body["toVoicemail"] = True
        if destination:
            body["destination"] = destination
        self._request("POST", "/telephony/calls/divert", body)

    # --- answer endpoints and the person ---------------------------------------------------

    _SETTINGS = "/telephony/config/people/me/settings"

    def answer_endpoints(self) -> list[Endpoint]:
        items = self._items(f"{self._SETTINGS}/availablePreferredAnswerEndpoints", "endpoints")
        return [Endpoint.from_dict(item) for item in items]

    def preferred_answer_endpoint(self) -> str | None:
        data = self._json_dict(f"{self._SETTINGS}/preferredAnswerEndpoint")
        value = data.get("id")
        return str(value) if value else None

    def set_preferred_answer_endpoint(self, endpoint_id: str | None) -> None:
        body = {"preferredAnswerEndpointId": endpoint_id}
        self._request("PUT", f"{self._SETTINGS}/preferredAnswerEndpoint", body)

    def me(self) -> Person:
        return Person.from_dict(self._json_dict("/people/me"))
