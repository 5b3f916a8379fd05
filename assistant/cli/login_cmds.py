"""Subcommands: ``login`` (the Webex device grant: a code to enter on any phone) and ``logout``
(remove the stored sign-in)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from assistant.auth import device_flow
from assistant.auth.oauth import OAuthHttp, require_client
from assistant.auth.store import open_store
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.messages import Messages

log = logging.getLogger(__name__)

Speak = Callable[[str], None]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "login",
        help="sign in to Webex with a code entered on any phone or computer",
        description="Sign in to Webex with the device grant: the assistant says a code and an "
        "address; enter the code there on any phone or computer. Needs the client id and secret "
        "of your own Webex integration ([auth] in the configuration, or WEBEX_CLIENT_ID and "
        "WEBEX_CLIENT_SECRET).",
    )
    p.add_argument(
        "--no-voice", action="store_true", help="print the code only; do not speak it"
    )
    p.set_defaults(func=login)
    p = sub.add_parser("logout", help="remove the stored Webex sign-in")
    p.set_defaults(func=logout)


def login(args: argparse.Namespace, settings: Settings) -> int:
    require_client(settings.auth, settings.source)
    store = open_store(settings.auth)
    if settings.webex.access_token:
        print(
            "Note: WEBEX_ACCESS_TOKEN is set and wins over the stored sign-in while it is set.",
            file=sys.stderr,
        )
    with _speaker(settings, enabled=not args.no_voice) as speak:

        def tell(printed: str, spoken: str) -> None:
            print(printed, flush=True)
            if speak is not None:
                speak(spoken)

        try:
            with OAuthHttp(settings.webex) as http:
                record = device_flow.sign_in(http, settings.auth, tell,
                                             messages=Messages.load(settings.speech.language))
        except AssistantError as exc:
            if speak is not None:
                speak(exc.spoken)
            raise
        store.save(record)
    print(f"Sign-in stored in {store.where}.", flush=True)
    return 0


def logout(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings.auth)
    if store.delete():
        print(f"Signed out: removed the stored sign-in from {store.where}.")
    else:
        print(f"No stored sign-in in {store.where}: nothing to remove.")
    if settings.webex.access_token:
        print("WEBEX_ACCESS_TOKEN is still set in the environment; unset it too.", file=sys.stderr)
    return 0


@contextmanager
def _speaker(settings: Settings, enabled: bool) -> Iterator[Speak | None]:
    """The configured voice, when there is one: signing in must work by ear alone. Without a
    voice (no speaker, no voice module) the code is still printed."""
    if not enabled:
        yield None
        return
    try:
        from assistant.voice import Voice

        voice: Any = Voice(settings.voice, settings.audio)
    except Exception as exc:  # noqa: BLE001 (no voice is not a reason to refuse signing in)
        log.warning("no voice for login (%s): printing only", exc)
        yield None
        return

    def speak(text: str) -> None:
        try:
            voice.say(text, wait=True)
        except AssistantError as exc:  # the printed code still works: keep signing in
            log.warning("could not say it (%s)", exc)

    try:
        yield speak
    finally:
        voice.close()
