"""Signing in to Webex and staying signed in.

    token_source(settings)   the ``TokenSource`` the Webex client uses: ``WEBEX_ACCESS_TOKEN`` when
                             set (it wins), else the stored sign-in (``StoredTokens``)
    device_flow              ``assistant login``: the OAuth device grant (a code entered on a phone)
    store                    where the sign-in lives: a 0600 file, or the OS keyring
    tokens                   ``StoredTokens``: refresh before expiry and after a 401, rotation
    oauth                    the form posts to ``/v1/device/*`` and ``/v1/access_token``
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.auth.oauth import require_client
from assistant.auth.store import TokenRecord, TokenStore, open_store
from assistant.auth.tokens import NO_SIGN_IN, StoredTokens
from assistant.config import Settings
from assistant.errors import AuthError
from assistant.webex.client import StaticToken, TokenSource

__all__ = ["StoredTokens", "TokenRecord", "TokenStore", "open_store", "token_source"]


def token_source(
    settings: Settings, speak: Callable[[str], None] | None = None
) -> TokenSource:
    """``StaticToken`` for ``WEBEX_ACCESS_TOKEN``, else the stored sign-in; ``AuthError`` when
    there is neither. ``speak`` hears "Please sign in again" once if Webex ends the sign-in."""
    if settings.webex.access_token:
        return StaticToken(settings.webex.access_token)
    store = open_store(settings.auth)
    if store.load() is None:
        raise AuthError(f"no WEBEX_ACCESS_TOKEN and no stored sign-in in {store.where}", NO_SIGN_IN)
    require_client(settings.auth, settings.source)  # refreshing needs the integration
    return StoredTokens(store, settings, speak=speak)
