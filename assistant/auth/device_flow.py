"""Signing in with the OAuth device grant (RFC 8628), the way Webex does it: ask for a code
(``POST /v1/device/authorize``), tell the person the code and where to enter it, then poll
``POST /v1/device/token`` until they have approved, honouring ``interval``, ``slow_down`` and
the code's expiry.

Webex answers a pending poll with ``428 Precondition Required``; RFC 8628 says ``400`` with
``{"error": "authorization_pending"}``. Both are understood.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from assistant.auth.oauth import DEVICE_GRANT, SCOPES, OAuthHttp, Reply, record_from_reply
from assistant.auth.store import TokenRecord
from assistant.config import AuthSettings
from assistant.errors import AuthError, WebexError, WebexNetworkError
from assistant.messages import Messages, english

log = logging.getLogger(__name__)

SLOW_DOWN_STEP_SECONDS = 5.0  # RFC 8628 §3.5: every slow_down adds five seconds
DEFAULT_INTERVAL_SECONDS = 5.0
# spoken sentences (the catalogue's [auth]), said in the person's language by Messages.render
EXPIRED = english().text("auth.code_expired")
DENIED = english().text("auth.declined")
REFUSED = english().text("auth.refused")


@dataclass(frozen=True)
class DeviceCode:
    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in_seconds: float
    interval_seconds: float


def spell_code(code: str) -> str:
    """A user code as a listener needs it: one character at a time, groups split by a pause.
    ``"WDJB-MJHT"`` → ``"W, D, J, B. M, J, H, T."``"""
    groups = [g for g in code.replace(" ", "-").split("-") if g]
    return " ".join(", ".join(ch.upper() for ch in group) + "." for group in groups)


def spoken_address(url: str) -> str:
    """``https://login.example.com/verify`` → ``"login dot example dot com slash verify"``."""
    parts = urlsplit(url)
    text = (parts.netloc or "") + (parts.path.rstrip("/") if parts.path != "/" else "")
    text = text.removeprefix("www.")
    for mark, word in ((".", " dot "), ("/", " slash "), ("-", " dash "), (":", " colon ")):
        text = text.replace(mark, word)
    return " ".join(text.split())


def authorize(http: OAuthHttp, auth: AuthSettings, scopes: str = SCOPES) -> DeviceCode:
    reply = http.post_form("/device/authorize", {"client_id": auth.client_id, "scope": scopes})
    if reply.status != 200:
        raise AuthError(
            f"device authorization refused: {reply.status} {reply.error or 'no error code'}",
            REFUSED,
        )
    data = reply.data
    fields = ("device_code", "user_code", "verification_uri")
    if not all(isinstance(data.get(k), str) and data[k] for k in fields):
        raise WebexError("device authorization reply without code or address", REFUSED)
    interval = data.get("interval")
    expires = data.get("expires_in")
    return DeviceCode(
        data["device_code"],
        data["user_code"],
        data["verification_uri"],
        str(data.get("verification_uri_complete") or data["verification_uri"]),
        float(expires) if isinstance(expires, (int, float)) and expires > 0 else 300.0,
        float(interval) if isinstance(interval, (int, float)) and interval > 0
        else DEFAULT_INTERVAL_SECONDS,
    )


def poll(
    http: OAuthHttp,
    auth: AuthSettings,
    code: DeviceCode,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], float] = time.time,
) -> TokenRecord:
    """Poll until approved; raises ``AuthError`` when declined or expired."""
    deadline = clock() + code.expires_in_seconds
    interval = code.interval_seconds
    form = {"grant_type": DEVICE_GRANT, "device_code": code.device_code, "client_id": auth.client_id}
    while True:
        if clock() + interval > deadline:
            raise AuthError("the device code expired while waiting for approval", EXPIRED)
        sleep(interval)
        try:
            reply = http.post_form("/device/token", form, basic=(auth.client_id, auth.client_secret))
        except WebexNetworkError as exc:
            interval *= 2  # RFC 8628 §3.5: back off on connection timeouts
            log.warning("polling for sign-in failed (%s); next poll in %.0f s", exc.kind, interval)
            continue
        if reply.status == 200:
            return record_from_reply(reply, now())
        outcome = _poll_outcome(reply)
        if outcome == "pending":
            continue
        if outcome == "slow_down":
            interval += SLOW_DOWN_STEP_SECONDS
            log.info("Webex asked to poll more slowly: every %.0f s", interval)
            continue
        if outcome == "expired_token":
            raise AuthError("the device code expired (expired_token)", EXPIRED)
        if outcome == "access_denied":
            raise AuthError("the person declined the sign-in (access_denied)", DENIED)
        raise AuthError(f"device token refused: {reply.status} {outcome}", REFUSED)


def _poll_outcome(reply: Reply) -> str:
    if reply.error:
        return "pending" if reply.error == "authorization_pending" else reply.error
    if reply.status == 428:
        return "pending"
    if reply.status == 429:
        return "slow_down"
    return "no error code"


def sign_in(
    http: OAuthHttp,
    auth: AuthSettings,
    tell: Callable[[str, str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    messages: Messages | None = None,
) -> TokenRecord:
    """The whole device grant. ``tell(printed, spoken)`` gives the person each step twice: as
    text to read and as a sentence to hear (the code spelled out, the address in words), in
    the language of ``messages`` (English when not given)."""
    messages = messages or english()
    code = authorize(http, auth)
    minutes = max(1, round(code.expires_in_seconds / 60))
    tell(
        messages.text("auth.code_shown", address=code.verification_uri, code=code.user_code,
                      minutes=minutes, link=code.verification_uri_complete),
        messages.text("auth.code_spoken", address=spoken_address(code.verification_uri),
                      code=spell_code(code.user_code)),
    )
    record = poll(http, auth, code, sleep=sleep, clock=clock)
    tell(messages.text("auth.signed_in"), messages.text("auth.signed_in_ready"))
    return record
