"""Sign-in for the emulator: the OAuth device grant (``/v1/device/authorize``, ``/v1/device/token``)
and the refresh grant (``/v1/access_token``), with token expiry, rotation and revocation.

Bodies are form-encoded, as Webex expects; client credentials may come in the form or as HTTP
Basic. Token errors carry both the OAuth fields (``error``, ``error_description``) and the
Webex ones (``message``, ``errors[].description``). A pending device code answers ``428``
(Precondition Required) with ``error: authorization_pending``; ``slow_down``, ``expired_token``,
``access_denied``, ``invalid_grant`` and ``invalid_client`` answer ``400`` (``401`` for the last).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.emulator.scenario import AuthSpec

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels: no words, no 0/O 1/I confusion


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, interval: int | None = None) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.interval = status, error, description, interval

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "error_description": self.description,
                                "message": self.error, "errors": [{"description": self.description}]}
        if self.interval is not None:
            body["interval"] = self.interval
        return body


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    interval: float
    approved: bool = False
    denied: bool = False
    used: bool = False
    last_poll: float | None = None


@dataclass
class AuthState:
    spec: AuthSpec
    clock: Callable[[], float]
    lock: threading.RLock = field(default_factory=threading.RLock)
    devices: dict[str, DeviceCode] = field(default_factory=dict)
    access: dict[str, float] = field(default_factory=dict)  # access token → expiry (clock)
    refresh: dict[str, float] = field(default_factory=dict)  # refresh token → expiry (clock)
    issued: int = 0

    # --- checks used by every /v1 request -------------------------------------------------

    def access_token_status(self, token: str) -> str:
        """``valid``, ``expired`` or ``unknown`` for a token this emulator issued."""
        with self.lock:
            expiry = self.access.get(token)
        if expiry is None:
            return "unknown"
        return "valid" if self.clock() < expiry else "expired"

    # --- control ---------------------------------------------------------------------------

    def approve(self, user_code: str | None = None, deny: bool = False) -> int:
        """Approve (or deny) the pending code with this user code, or every pending code."""
        with self.lock:
            pending = [d for d in self.devices.values() if not d.used and not d.approved and not d.denied]
            chosen = [d for d in pending if user_code in (None, d.user_code)]
            for device in chosen:
                device.approved, device.denied = not deny, deny
            return len(chosen)

    def expire_access_tokens(self) -> None:
        with self.lock:
            now = self.clock()
            self.access = {t: min(e, now) for t, e in self.access.items()}

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh.clear()

    # --- the OAuth endpoints -----------------------------------------------------------------

    def _client(self, form: dict[str, str]) -> str:
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        if not client_id or (self.spec.client_id and client_id != self.spec.client_id):
            raise OAuthError(401, "invalid_client", "Unknown client_id.")
        if secret is not None and self.spec.client_secret and secret != self.spec.client_secret:
            raise OAuthError(401, "invalid_client", "Wrong client_secret.")
        return client_id

    def authorize(self, form: dict[str, str], base_url: str) -> dict[str, Any]:
        client_id = self._client(form)
        scope = form.get("scope", "")
        if not scope:
            raise OAuthError(400, "invalid_scope", "scope is required.")
        user_code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        user_code = f"{user_code[:4]}-{user_code[4:]}"
        device = DeviceCode(
            secrets.token_urlsafe(24), user_code, client_id, scope,
            self.clock() + self.spec.device_code_lifetime_seconds, self.spec.device_poll_interval_seconds,
        )
        with self.lock:
            self.devices[device.device_code] = device
        verify = f"{base_url}/_emulator/device"
        return {
            "device_code": device.device_code,
            "user_code": user_code,
            "verification_uri": verify,
            "verification_uri_complete": f"{verify}?user_code={user_code}",
            "expires_in": int(self.spec.device_code_lifetime_seconds),
            "interval": int(self.spec.device_poll_interval_seconds),
        }

    def device_token(self, form: dict[str, str]) -> dict[str, Any]:
        self._client(form)
        if form.get("grant_type") != DEVICE_GRANT:
            raise OAuthError(400, "unsupported_grant_type", f"grant_type must be {DEVICE_GRANT}.")
        now = self.clock()
        with self.lock:
            device = self.devices.get(form.get("device_code", ""))
            if device is None or device.used:
                raise OAuthError(400, "invalid_grant", "Unknown or already used device_code.")
            if now >= device.expires_at:
                raise OAuthError(400, "expired_token", "The device code has expired. Start again.")
            if device.denied:
                raise OAuthError(400, "access_denied", "The person declined the sign-in.")
            too_soon = device.last_poll is not None and now - device.last_poll < device.interval
            device.last_poll = now
            if self.spec.auto_approve:
                device.approved = True
            if not device.approved:
                if too_soon:
                    device.interval += 5
                    raise OAuthError(400, "slow_down", "Polling too fast.", int(device.interval))
                raise OAuthError(428, "authorization_pending", "The person has not signed in yet.")
            device.used = True
            return self._issue(device.scope)

    def refresh_grant(self, form: dict[str, str]) -> dict[str, Any]:
        self._client(form)
        if form.get("grant_type") != "refresh_token":
            raise OAuthError(400, "unsupported_grant_type", "grant_type must be refresh_token.")
        token = form.get("refresh_token", "")
        with self.lock:
            expiry = self.refresh.get(token)
            if expiry is None or self.clock() >= expiry:
                raise OAuthError(400, "invalid_grant", "The refresh token is invalid, expired or revoked.")
            if self.spec.rotate_refresh_token:
                del self.refresh[token]
                return self._issue(form.get("scope", ""))
            return self._issue(form.get("scope", ""), keep_refresh=token)

    def _issue(self, scope: str, keep_refresh: str | None = None) -> dict[str, Any]:
        now = self.clock()
        self.issued += 1
        access = f"emu-access-{self.issued}-{secrets.token_urlsafe(16)}"
        refresh = keep_refresh or f"emu-refresh-{self.issued}-{secrets.token_urlsafe(16)}"
        self.access[access] = now + self.spec.access_token_lifetime_seconds
        if keep_refresh is None:
            self.refresh[refresh] = now + self.spec.refresh_token_lifetime_seconds
        return {
            "access_token": access,
            "expires_in": int(self.spec.access_token_lifetime_seconds),
            "refresh_token": refresh,
            "refresh_token_expires_in": int(self.refresh[refresh] - now),
            "token_type": "Bearer",
            "scope": scope,
        }
