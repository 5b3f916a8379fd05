"""The emulator's sign-in side: the OAuth device grant (RFC 8628) and the refresh grant, with
token expiry, refresh-token rotation and revocation, so signing in is tested for real.

    POST /v1/device/authorize   form client_id, scope        → device_code, user_code, ...
    POST /v1/device/token       form grant_type, device_code (client in Basic auth or form)
                                → 200 tokens | 428 authorization_pending | 400 slow_down,
                                  expired_token, access_denied, invalid_grant | 401 invalid_client
    POST /v1/access_token       form grant_type=refresh_token, client_id, client_secret,
                                refresh_token → 200 tokens (a new refresh token when rotating)

Control API:

    POST /_emulator/device/approve   {"user_code"?}  approve that code (default: the newest pending)
    POST /_emulator/device/deny      {"user_code"?}  decline it (the next poll: access_denied)
    POST /_emulator/tokens/expire    every issued access token expires now
    POST /_emulator/tokens/revoke    {"accessTokens"?: bool} every refresh token stops working

Scenario table ``[auth]`` (all optional): ``client_id``, ``client_secret``, ``auto_approve``,
``device_code_seconds``, ``interval_seconds``, ``access_token_seconds``,
``refresh_token_seconds``, ``rotate_refresh_tokens``, ``verification_uri``.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qsl

from assistant.errors import ConfigError

Reply = tuple[int, Any]
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels: no words by accident
CONTROL_PREFIXES = ("/_emulator/device/", "/_emulator/tokens/")
POLL_SLACK_SECONDS = 0.05  # scheduling jitter is not "polling too fast"


@dataclass(frozen=True)
class AuthConfig:
    client_id: str = "emulator-client-id"
    client_secret: str = "emulator-client-secret"
    auto_approve: bool = False
    device_code_seconds: float = 300.0
    interval_seconds: float = 1.0
    access_token_seconds: float = 14 * 24 * 3600.0
    refresh_token_seconds: float = 90 * 24 * 3600.0
    rotate_refresh_tokens: bool = True
    verification_uri: str = "https://emulator.invalid/verify"

    @classmethod
    def from_dict(cls, table: Any, source: str) -> AuthConfig:
        if not isinstance(table, dict):
            raise ConfigError(source, "auth", "an [auth] table")
        values: dict[str, Any] = {}
        kinds = {f.name: type(f.default) for f in fields(cls)}
        for key, value in table.items():
            if key not in kinds:
                raise ConfigError(source, f"auth.{key}", "one of the keys " + ", ".join(kinds))
            kind = kinds[key]
            if kind is float and not isinstance(value, bool) and isinstance(value, (int, float)):
                value = float(value)
            if not isinstance(value, kind) or (kind is str and not value):
                raise ConfigError(source, f"auth.{key}", f"a {kind.__name__} value")
            values[key] = value
        return cls(**values)


@dataclass
class _Grant:
    user_code: str
    scope: str
    expires_at: float
    state: str = "pending"  # pending, approved, denied, used
    last_poll: float | None = None


@dataclass
class AuthState:
    config: AuthConfig
    clock: Callable[[], float]
    lock: threading.Lock = field(default_factory=threading.Lock)
    grants: dict[str, _Grant] = field(default_factory=dict)  # device_code → grant
    access: dict[str, float] = field(default_factory=dict)  # access token → expires at
    refresh: dict[str, tuple[float, str]] = field(default_factory=dict)  # → expires at, scope
    issued: list[str] = field(default_factory=list)  # every secret handed out (leak tests)

    def accepts(self, authorization: str) -> bool:
        """True for ``Bearer <an issued access token that has not expired>``."""
        if not authorization.startswith("Bearer "):
            return False
        with self.lock:
            expires = self.access.get(authorization[7:])
            return expires is not None and self.clock() < expires

    # --- control ---------------------------------------------------------------------------

    def decide(self, user_code: str | None, state: str) -> dict[str, Any]:
        with self.lock:
            now = self.clock()
            pending = [g for g in self.grants.values() if g.state == "pending" and now < g.expires_at]
            if user_code is not None:
                wanted = user_code.upper().replace(" ", "")
                pending = [g for g in pending if g.user_code == wanted]
            if not pending:
                raise LookupError("no pending sign-in" + (f" with code {user_code}" if user_code else ""))
            grant = pending[-1]
            grant.state = state
            return {"user_code": grant.user_code, "scope": grant.scope}

    def expire_access(self) -> int:
        with self.lock:
            now = self.clock()
            for token in self.access:
                self.access[token] = min(self.access[token], now)
            return len(self.access)

    def revoke(self, access_too: bool) -> int:
        with self.lock:
            count = len(self.refresh)
            self.refresh.clear()
            if access_too:
                self.access.clear()
            return count

    # --- the OAuth endpoints ---------------------------------------------------------------

    def _issue(self, scope: str, now: float) -> dict[str, Any]:
        cfg = self.config
        access = "EMU" + secrets.token_urlsafe(32)
        refresh = "EMR" + secrets.token_urlsafe(32)
        self.access[access] = now + cfg.access_token_seconds
        self.refresh[refresh] = (now + cfg.refresh_token_seconds, scope)
        self.issued += [access, refresh]
        return {
            "access_token": access,
            "expires_in": int(cfg.access_token_seconds),
            "refresh_token": refresh,
            "refresh_token_expires_in": int(cfg.refresh_token_seconds),
            "token_type": "Bearer",
            "scope": scope,
        }

    def authorize(self, form: dict[str, str]) -> Reply:
        if form.get("client_id") != self.config.client_id:
            return _oauth(400, "invalid_client", "Unknown client_id.")
        scope = form.get("scope", "").strip()
        if not scope:
            return _oauth(400, "invalid_scope", "scope is required.")
        cfg = self.config
        device_code = secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice(CODE_LETTERS) for _ in range(8))
        user_code = user_code[:4] + "-" + user_code[4:]
        with self.lock:
            self.issued.append(device_code)
            self.grants[device_code] = _Grant(
                user_code, scope, self.clock() + cfg.device_code_seconds,
                "approved" if cfg.auto_approve else "pending",
            )
        return 200, {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": cfg.verification_uri,
            "verification_uri_complete": f"{cfg.verification_uri}?userCode={user_code}",
            "expires_in": int(cfg.device_code_seconds),
            "interval": cfg.interval_seconds,
        }

    def device_token(self, form: dict[str, str], basic: tuple[str, str] | None) -> Reply:
        client = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if client != (self.config.client_id, self.config.client_secret):
            return _oauth(401, "invalid_client", "Client authentication failed.")
        if form.get("grant_type") != DEVICE_GRANT:
            return _oauth(400, "unsupported_grant_type", f"grant_type must be {DEVICE_GRANT}.")
        with self.lock:
            now = self.clock()
            grant = self.grants.get(form.get("device_code", ""))
            if grant is None or grant.state == "used":
                return _oauth(400, "invalid_grant", "Unknown device_code.")
            if now >= grant.expires_at:
                return _oauth(400, "expired_token", "The device code has expired.")
            if grant.state == "denied":
                return _oauth(400, "access_denied", "The user declined the request.")
            too_fast = (
                grant.last_poll is not None
                and now - grant.last_poll < self.config.interval_seconds - POLL_SLACK_SECONDS
            )
            grant.last_poll = now
            if too_fast:
                return _oauth(400, "slow_down", "Polling too often.")
            if grant.state == "pending":
                return _oauth(428, "authorization_pending", "The user has not yet approved.")
            grant.state = "used"
            return 200, self._issue(grant.scope, now)

    def access_token(self, form: dict[str, str]) -> Reply:
        if (form.get("client_id"), form.get("client_secret")) != (
            self.config.client_id, self.config.client_secret
        ):
            return _oauth(401, "invalid_client", "Client authentication failed.")
        if form.get("grant_type") != "refresh_token":
            return _oauth(400, "unsupported_grant_type", "Only refresh_token is emulated.")
        with self.lock:
            now = self.clock()
            old = form.get("refresh_token", "")
            entry = self.refresh.get(old)
            if entry is None or now >= entry[0]:
                return _oauth(400, "invalid_grant", "The refresh token is invalid or expired.")
            if not self.config.rotate_refresh_tokens:
                access = "EMU" + secrets.token_urlsafe(32)
                self.access[access] = now + self.config.access_token_seconds
                self.issued.append(access)
                return 200, {
                    "access_token": access,
                    "expires_in": int(self.config.access_token_seconds),
                    "refresh_token": old,
                    "refresh_token_expires_in": int(entry[0] - now),
                    "token_type": "Bearer",
                }
            del self.refresh[old]
            return 200, self._issue(entry[1], now)


def _oauth(status: int, error: str, description: str) -> Reply:
    return status, {"error": error, "error_description": description, "message": description}


def _form(content_type: str | None, raw: bytes) -> dict[str, str] | None:
    if (content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


def _basic(authorization: str) -> tuple[str, str] | None:
    if not authorization.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


PATHS = ("/v1/device/authorize", "/v1/device/token", "/v1/access_token")


def handles(path: str) -> bool:
    return path.rstrip("/") in PATHS


def dispatch(auth: AuthState, method: str, path: str, headers: Any, raw: bytes) -> Reply:
    """One OAuth request (``handles(path)`` is true). Form-encoded POSTs only, as Webex takes."""
    if method != "POST":
        return _oauth(405, "invalid_request", "Use POST.")
    form = _form(headers.get("Content-Type"), raw)
    if form is None:
        return _oauth(415, "invalid_request", "The body must be application/x-www-form-urlencoded.")
    path = path.rstrip("/")
    if path == "/v1/device/authorize":
        return auth.authorize(form)
    if path == "/v1/device/token":
        return auth.device_token(form, _basic(headers.get("Authorization", "")))
    return auth.access_token(form)


def control(auth: AuthState, method: str, path: str, body: dict[str, Any]) -> Reply:
    path = path.rstrip("/")
    code = body.get("user_code")
    if code is not None and not isinstance(code, str):
        return 400, {"message": "user_code must be a string"}
    try:
        if (method, path) == ("POST", "/_emulator/device/approve"):
            return 200, auth.decide(code, "approved")
        if (method, path) == ("POST", "/_emulator/device/deny"):
            return 200, auth.decide(code, "denied")
    except LookupError as exc:
        return 404, {"message": str(exc)}
    if (method, path) == ("POST", "/_emulator/tokens/expire"):
        return 200, {"expired": auth.expire_access()}
    if (method, path) == ("POST", "/_emulator/tokens/revoke"):
        return 200, {"revoked": auth.revoke(bool(body.get("accessTokens")))}
    return 404, {"message": f"no control endpoint {method} {path}"}
