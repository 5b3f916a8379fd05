"""``StoredTokens``: the ``TokenSource`` for a stored sign-in. It refreshes the access token
before it expires (``refresh_margin_seconds`` ahead) and once after a 401, stores every rotated
refresh token atomically, and when Webex refuses the refresh token it says "Please sign in
again" once, then fails fast without asking the server again, until a new sign-in appears in
the store (``assistant login`` in another terminal): then it carries on by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import NoReturn

from assistant.auth.oauth import SIGN_IN_AGAIN, OAuthHttp, refresh
from assistant.auth.store import TokenRecord, TokenStore
from assistant.config import Settings
from assistant.errors import AuthError, ConfigError, WebexError
from assistant.messages import english

log = logging.getLogger(__name__)

#: After a refresh that failed for a passing reason (network, 5xx) while the old token is still
#: good, the next attempt waits this long: a network outage must not turn into a request storm.
RETRY_REFRESH_SECONDS = 30.0
NO_SIGN_IN = english().text("auth.no_sign_in")  # said in the person's language: Messages.render
RENEW_LATER = english().text("auth.renew_later")


class StoredTokens:
    """Thread-safe: the call poller and the dialog share one instance."""

    def __init__(
        self,
        store: TokenStore,
        settings: Settings,
        speak: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        record = store.load()
        if record is None:
            raise AuthError(
                f"no stored Webex sign-in in {store.where}",
                NO_SIGN_IN,
            )
        self._store = store
        self._auth = settings.auth
        self._webex = settings.webex
        self._speak = speak
        self._clock = clock
        self._record = record
        self._lock = threading.Lock()
        self._failed: AuthError | None = None
        self._next_try = 0.0
        self._to_say: str | None = None
        self._handed = threading.local()  # the token this thread last sent
        self.refreshes = 0  # how many refreshes succeeded (for doctor and tests)

    @property
    def signed_out(self) -> bool:
        """True after Webex refused the refresh token: the person must sign in again."""
        return self._failed is not None

    def access_token(self) -> str:
        token = self._access_token()
        self._handed.token = token
        return token

    def _access_token(self) -> str:
        try:
            with self._lock:
                self._check_failed()
                now = self._clock()
                record = self._record
                if now < record.expires_at - self._auth.refresh_margin_seconds:
                    return record.access_token
                if now < self._next_try:  # a refresh failed moments ago for a passing reason
                    if now < record.expires_at:
                        return record.access_token
                    raise WebexError(
                        "the access token expired and the last refresh failed; retrying later",
                        RENEW_LATER,
                    )
                return self._refresh_locked("expiring" if now < record.expires_at else "expired")
        finally:
            self._say_pending()

    def refresh_after_401(self) -> bool:
        try:
            with self._lock:
                self._check_failed()
                if getattr(self._handed, "token", None) not in (None, self._record.access_token):
                    return True  # another thread renewed it while this request was on its way
                self._refresh_locked("rejected (401)")
                return True
        finally:
            self._say_pending()

    def _say_pending(self) -> None:
        """Say "sign in again" outside the lock: speech is slow, other threads must not wait."""
        with self._lock:
            text, self._to_say = self._to_say, None
        if text is None or self._speak is None:
            return
        try:
            self._speak(text)
        except Exception:  # saying it must not be what crashes the assistant
            log.exception("could not say that the sign-in ended")

    # --- inside the lock ---------------------------------------------------------------------

    def _check_failed(self) -> None:
        if self._failed is None:
            return
        # A new sign-in may have been stored meanwhile: a local read, never a server request.
        record = self._stored_if_newer()
        if record is not None:
            log.info("a new Webex sign-in was stored: using it")
            self._record, self._failed, self._next_try = record, None, 0.0
            return
        raise AuthError(str(self._failed), self._failed.spoken)  # fresh: no growing traceback

    def _stored_if_newer(self) -> TokenRecord | None:
        """The store's sign-in when it is not the one in use (someone signed in again)."""
        try:
            record = self._store.load()
        except (AuthError, ConfigError):  # damaged or replaced by a directory: nothing newer
            return None
        if record is None or record.refresh_token == self._record.refresh_token:
            return None
        return record

    def _refresh_locked(self, why: str) -> str:
        now = self._clock()
        record = self._record
        if record.refresh_expires_at is not None and now >= record.refresh_expires_at:
            self._fail(AuthError("the refresh token has expired", SIGN_IN_AGAIN))
        log.info("access token %s: refreshing", why)
        try:
            with OAuthHttp(self._webex) as http:
                new = refresh(http, self._auth, record, now)
        except AuthError as exc:
            stored = self._stored_if_newer()
            if stored is None:
                self._fail(exc)
            # another process (assistant login, a second assistant) renewed the sign-in first
            log.info("the stored sign-in changed meanwhile: using it")
            self._record, self._next_try = stored, 0.0
            return stored.access_token
        except WebexError as exc:
            self._next_try = now + RETRY_REFRESH_SECONDS
            if now < record.expires_at and why == "expiring":
                log.warning("token refresh failed (%s); the current token is still good", exc)
                return record.access_token
            raise
        self._record, self._next_try = new, 0.0
        self.refreshes += 1
        try:
            self._store.save(new)
        except (OSError, AuthError, ConfigError) as exc:  # keep running on the new token; the
            # next start signs in again
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            log.error("could not store the renewed sign-in in %s: %s", self._store.where,
                      reason or type(exc).__name__)
        log.info("access token renewed; valid for %.0f s", new.expires_at - now)
        return new.access_token

    def _fail(self, error: AuthError) -> NoReturn:
        if self._failed is None:
            self._to_say = error.spoken  # once: later calls fail fast and silently
        self._failed = error
        log.error("Webex sign-in ended: %s", error)
        raise error
