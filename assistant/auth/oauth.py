"""The OAuth side of Webex: form posts to ``/v1/device/*`` and ``/v1/access_token``.

Nothing here ever puts a token, a device code or the client secret into a log line or an
exception's text: requests are logged by path and status only, and errors carry the OAuth
``error`` code (``invalid_grant``), never the reply body.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Self

import httpx

from assistant.auth.store import TokenRecord
from assistant.config import AuthSettings, WebexSettings
from assistant.errors import AuthError, ConfigError, WebexError
from assistant.messages import english
from assistant.webex import failures
from assistant.webex.client import (  # one translation of errors
    network_kind,
    check_url,
    http_client,
)

log = logging.getLogger(__name__)

SCOPES = (
    "spark:calls_read spark:calls_write spark:telephony_config_read spark:telephony_config_write"
)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SIGN_IN_AGAIN = english().text("auth.sign_in_again")  # said in the person's language: Messages.render
# Webex states lifetimes only roughly (access ~14 days, refresh ~90 days): assume those when a
# reply leaves them out.
DEFAULT_ACCESS_SECONDS = 14 * 24 * 3600.0
UNEXPECTED = english().text("auth.unexpected_reply")


@dataclass(frozen=True)
class Reply:
    status: int
    data: dict[str, Any]

    @property
    def error(self) -> str:
        value = self.data.get("error")
        return value if isinstance(value, str) else ""


def require_client(auth: AuthSettings, source: str) -> None:
    """Signing in and refreshing need the person's own Webex integration."""
    for key, env in (("client_id", "WEBEX_CLIENT_ID"), ("client_secret", "WEBEX_CLIENT_SECRET")):
        if not getattr(auth, key):
            raise ConfigError(
                source,
                f"auth.{key}",
                f"the {key.replace('_', ' ')} of your Webex integration "
                f"(or set {env}; see docs/login.md)",
            )


class OAuthHttp:
    """Form posts to the Webex OAuth endpoints; one short INFO line per request."""

    def __init__(self, webex: WebexSettings) -> None:
        self._base = check_url(webex.url)
        self._http = http_client(webex, self._base)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post_form(
        self, path: str, form: dict[str, str], basic: tuple[str, str] | None = None
    ) -> Reply:
        started = time.monotonic()
        try:
            response = self._http.post(
                path,
                data=form,
                auth=basic if basic is not None else httpx.USE_CLIENT_DEFAULT,
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            kind = network_kind(exc)
            log.info("POST %s -> %s", path, kind)
            # the exception's own text never carries the form, but keep only its class anyway
            raise failures.network_error("POST", path, kind, _Bare(exc)) from None
        ms = (time.monotonic() - started) * 1000
        tracking_id = response.headers.get("TrackingID", "")
        log.info("POST %s -> %d in %.0f ms, trackingId %s", path, response.status_code, ms,
                 tracking_id)
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = {}
        return Reply(response.status_code, data if isinstance(data, dict) else {})


class _Bare(Exception):
    def __init__(self, exc: BaseException) -> None:
        super().__init__(type(exc).__name__)


def record_from_reply(reply: Reply, now: float, previous: TokenRecord | None = None) -> TokenRecord:
    """A ``TokenRecord`` from a token reply; a reply without a refresh token keeps the old one."""
    data = reply.data
    access = data.get("access_token")
    refresh = data.get("refresh_token") or (previous.refresh_token if previous else None)
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise WebexError(f"token reply {reply.status} without access/refresh token", UNEXPECTED)
    expires_in = _seconds(data.get("expires_in")) or DEFAULT_ACCESS_SECONDS
    refresh_in = _seconds(data.get("refresh_token_expires_in"))
    if refresh_in is None and previous is not None and not data.get("refresh_token"):
        refresh_expires_at = previous.refresh_expires_at
    else:
        refresh_expires_at = None if refresh_in is None else now + refresh_in
    scope = data.get("scope")
    return TokenRecord(
        access,
        refresh,
        now + expires_in,
        refresh_expires_at,
        scope if isinstance(scope, str) and scope else (previous.scope if previous else ""),
    )


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


def refresh(http: OAuthHttp, auth: AuthSettings, record: TokenRecord, now: float) -> TokenRecord:
    """``grant_type=refresh_token``. Raises ``AuthError`` (spoken: sign in again) when Webex
    refuses the refresh token, ``WebexError`` when it could not answer (try later)."""
    reply = http.post_form(
        "/access_token",
        {
            "grant_type": "refresh_token",
            "client_id": auth.client_id,
            "client_secret": auth.client_secret,
            "refresh_token": record.refresh_token,
        },
    )
    if reply.status == 200:
        return record_from_reply(reply, now, record)
    if reply.status in (400, 401, 403):
        raise AuthError(
            f"Webex refused the token refresh: {reply.status} {reply.error or 'no error code'}",
            SIGN_IN_AGAIN,
        )
    raise WebexError(
        f"token refresh: Webex answered {reply.status} {reply.error}".rstrip(),
        failures.status_spoken(reply.status),
    )
