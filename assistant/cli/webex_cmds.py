"""Subcommands on Webex without speech: ``emulator``, ``calls``, ``devices``, ``answer``, ``decline``.

Each prints its outcome (``--json``: one JSON document on stdout) and returns the exit code:
0 done, 1 the operation failed (nothing ringing, Webex refused), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.config import Settings
from assistant.devices import DeviceDirectory
from assistant.errors import AssistantError, AuthError, WebexError
from assistant.messages import Messages, spoken_list
from assistant.webex.client import WebexClient
from assistant.webex.models import Call

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
NO_TOKEN = (
    "assistant: no Webex access token: set WEBEX_ACCESS_TOKEN, or run `assistant login`"
    " (for the emulator: WEBEX_ACCESS_TOKEN=emulator-token --webex-url http://127.0.0.1:PORT)"
)

#: Hook for the voice: when set, ``answer`` and ``decline`` also speak their outcome.
speak: Callable[[str], None] | None = None


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("emulator", help="serve the local Webex emulator until Ctrl-C")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    p.add_argument("--scenario", metavar="FILE", help="scenario file (TOML); see docs/emulator.md")
    p.set_defaults(func=run_emulator)

    p = sub.add_parser("calls", help="list active calls")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_calls)

    p = sub.add_parser("devices", help="answer endpoints and the words that name them")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_devices)

    p = sub.add_parser("answer", help="answer the ringing call, optionally on a named device")
    p.add_argument("words", nargs="*", metavar="DEVICE WORDS", help='e.g. "desk phone" or "headset"')
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-voice", action="store_true", help="print the outcome without speaking it")
    p.set_defaults(func=run_answer)

    p = sub.add_parser("decline", help="decline (reject) the ringing call")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-voice", action="store_true", help="print the outcome without speaking it")
    p.set_defaults(func=run_decline)


# --- emulator ------------------------------------------------------------------------------


def run_emulator(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.emulator import Emulator, Scenario

    if not 0 <= args.port <= 65535:
        print(f"assistant emulator: --port {args.port}: expected a port number from 0 to 65535 "
              "(0: any free port)", file=sys.stderr)
        return EXIT_USAGE
    scenario = Scenario.from_file(args.scenario) if args.scenario else None
    if not _is_loopback(args.host):
        print(f"assistant: warning: the emulator on {args.host} is reachable from other machines",
              file=sys.stderr)
    emulator = Emulator(scenario, host=args.host, port=args.port)
    try:
        emulator.start()
    except OSError as exc:
        print(f"assistant: the emulator cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return EXIT_FAILED
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(f"emulator listening on {emulator.url}", flush=True)
        print(f"token: {emulator.token}  (Ctrl-C stops)", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emulator.stop()
    print("emulator stopped", file=sys.stderr)
    return EXIT_OK


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- calls and devices ---------------------------------------------------------------------


def _client(settings: Settings, args: argparse.Namespace | None = None) -> WebexClient | None:
    from assistant.auth import token_source

    try:
        tokens = token_source(settings)
    except AuthError as exc:
        if args is not None and getattr(args, "json", False):
            action = getattr(args, "command", None)
            if action in ("answer", "decline"):  # the outcome's shape, as on any other failure
                messages = Messages.load(settings.speech.language)
                print(json.dumps(_failed(Outcome(False, action), exc, messages).to_json()), flush=True)
            else:
                _print_error(exc)
        print(f"assistant: {exc.spoken}", file=sys.stderr)
        print(NO_TOKEN, file=sys.stderr)
        return None
    return WebexClient(settings.webex, tokens=tokens)


def _print_error(exc: WebexError) -> None:
    """Under ``--json``, a failure is a JSON object on stdout too, never an empty stdout."""
    print(json.dumps({"ok": False, "error": exc.spoken, "status": exc.status}), flush=True)


def _failed_listing(args: argparse.Namespace, exc: WebexError) -> int:
    if args.json:
        _print_error(exc)
    print(f"assistant: {exc.spoken}", file=sys.stderr)
    return EXIT_FAILED


def _call_json(call: Call) -> dict[str, Any]:
    return {
        "id": call.id,
        "state": call.state,
        "personality": call.personality,
        "caller": call.remote.spoken(),
        "name": call.remote.name,
        "number": call.remote.number,
        "privacyEnabled": call.remote.privacy_enabled,
        "ringingForMe": call.is_ringing_for_me,
    }


def run_calls(args: argparse.Namespace, settings: Settings) -> int:
    client = _client(settings, args)
    if client is None:
        return EXIT_USAGE
    try:
        with client:
            calls = client.list_calls()
    except WebexError as exc:
        return _failed_listing(args, exc)
    if args.json:
        print(json.dumps([_call_json(c) for c in calls], indent=2))
    elif not calls:
        print("No active calls.")
    for call in [] if args.json else calls:
        ringing = "  (ringing for you)" if call.is_ringing_for_me else ""
        print(f"{call.state:<12} {call.personality:<11} {call.remote.spoken()}{ringing}  id {call.id}")
    return EXIT_OK


def run_devices(args: argparse.Namespace, settings: Settings) -> int:
    client = _client(settings, args)
    if client is None:
        return EXIT_USAGE
    try:
        with client:
            endpoints = client.answer_endpoints()
    except WebexError as exc:
        return _failed_listing(args, exc)
    directory = DeviceDirectory.build(endpoints, settings.devices.aliases)
    unheard, engine_name = _unhearable_words(settings, directory)
    problems = list(directory.problems)
    rows: list[dict[str, Any]] = []
    for e in endpoints:
        names = directory.spoken_names(e)
        deaf = [n for n in names if any(w in unheard for w in n.split())]
        rows.append({
            "id": e.id,
            "type": e.type,
            "name": e.name,
            "preferred": e.is_preferred,
            "label": directory.label(e),
            "spokenNames": [n for n in names if n not in deaf],
            "unhearableNames": deaf,
        })
        problems += [
            f'"{n}" ({e.name}) cannot be heard by {engine_name}: '
            + ", ".join(w for w in n.split() if w in unheard) + " is not in its vocabulary."
            for n in deaf
        ]
    if args.json:
        print(json.dumps({"endpoints": rows, "unusable": problems}, indent=2))
        return EXIT_OK
    if not rows:
        print("No answer endpoints: Webex lists no device that can answer calls for you.")
    for row in rows:
        preferred = ", preferred" if row["preferred"] else ""
        print(f"{row['name']} ({row['type']}{preferred})")
        print("    say: " + ", ".join(f'"{n}"' for n in row["spokenNames"]))
    for problem in problems:
        print(f"unusable: {problem}")
    return EXIT_OK


def _unhearable_words(settings: Settings, directory: DeviceDirectory) -> tuple[set[str], str]:
    """Words of the device names the configured recogniser cannot hear (it is built for this)."""
    from assistant.intents import CommandLanguage
    from assistant.speech import create_engine

    try:
        engine = create_engine(
            settings.speech, CommandLanguage.load(settings.speech.language, directory.names)
        )
    except AssistantError as exc:
        print(f"assistant: cannot check the device words: {exc.spoken}", file=sys.stderr)
        return set(), "the recogniser"
    words = sorted({w for name in directory.names for w in name.split()})
    return set(engine.missing_words(words)), engine.name


# --- answer and decline --------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    action: str
    call_id: str | None = None
    endpoint_id: str | None = None
    device: str | None = None  # the endpoint name
    message: str = ""
    status: int | None = None  # HTTP status of the Webex request (None: none was made or no reply)
    callers_ringing: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "action": self.action, "callId": self.call_id,
            "endpointId": self.endpoint_id, "device": self.device, "message": self.message,
            "status": self.status,
        }


def _ringing(client: WebexClient) -> tuple[Call | None, int]:
    """The newest call ringing for the person (by ``created``), as in the voice loop, and how
    many ring."""
    ringing = [c for c in client.list_calls() if c.is_ringing_for_me]
    return (max(ringing, key=lambda c: c.created or "") if ringing else None), len(ringing)


def _on_ringing_call(
    client: WebexClient, action: str, act: Callable[[Call, Outcome, Messages], None],
    language: str = "en",
) -> Outcome:
    """The common path of answer and decline: find the newest ringing call, act on it, and
    turn "nothing rings" and Webex failures into the outcome to print and speak."""
    messages = Messages.load(language)
    outcome = Outcome(False, action)
    try:
        call, count = _ringing(client)
        outcome.callers_ringing = count
        if call is None:
            outcome.message = messages.say("no_call")
            return outcome
        outcome.call_id = call.id
        act(call, outcome, messages)
    except WebexError as exc:
        return _failed(outcome, exc, messages)
    return outcome


def answer_outcome(client: WebexClient, settings: Settings, words: str) -> Outcome:
    """Answer the ringing call on the device the words name (none: the primary device)."""

    def answer(call: Call, outcome: Outcome, messages: Messages) -> None:
        label = None
        if words.strip():
            directory = DeviceDirectory.build(client.answer_endpoints(), settings.devices.aliases,
                                              messages)
            resolution = directory.resolve(words)
            if resolution.kind == "ambiguous":
                outcome.message = directory.question(resolution)
                return
            if resolution.kind != "device" or resolution.endpoint is None:
                names = spoken_list([directory.label(e) for e in directory.endpoints])
                outcome.message = messages.say("unknown_device", phrase=words.strip(), devices=names)
                return
            outcome.endpoint_id = resolution.endpoint.id
            outcome.device = resolution.endpoint.name
            label = directory.said_as(resolution.endpoint, resolution.phrase)
        outcome.status = client.answer(call.id, outcome.endpoint_id)
        outcome.ok = True
        if outcome.callers_ringing > 1:  # whose call it was, of the several ringing
            outcome.message = messages.outcome_for_caller("answer", call.remote.spoken(), label)
        else:
            outcome.message = messages.outcome_of("answer", label)

    return _on_ringing_call(client, "answer", answer, settings.speech.language)


def decline_outcome(client: WebexClient, language: str = "en") -> Outcome:
    def decline(call: Call, outcome: Outcome, messages: Messages) -> None:
        outcome.status = client.reject(call.id, "busy")
        outcome.ok = True
        outcome.message = messages.outcome_of("decline")

    return _on_ringing_call(client, "decline", decline, language)


def _failed(outcome: Outcome, exc: WebexError, messages: Messages) -> Outcome:
    outcome.message = messages.render(exc.spoken)
    outcome.status = exc.status  # also 401, and 200 for a success reply that was not understood
    return outcome


def _report(args: argparse.Namespace, settings: Settings, outcome: Outcome) -> int:
    if args.json:
        print(json.dumps(outcome.to_json()), flush=True)
    else:
        print(outcome.message, flush=True)
    if speak is not None:
        speak(outcome.message)
    elif not args.no_voice:
        _say(settings, outcome.message)
    return EXIT_OK if outcome.ok else EXIT_FAILED


def _say(settings: Settings, text: str) -> None:
    """Speak the outcome with the configured voice (a WAV file when there is no speaker)."""
    from assistant.voice import Voice

    voice = Voice(settings.voice, settings.audio)
    try:
        voice.say(text, wait=True)
    except AssistantError as exc:
        print(f"assistant: could not speak the outcome: {exc.spoken}", file=sys.stderr)
    finally:
        voice.close()


def run_answer(args: argparse.Namespace, settings: Settings) -> int:
    client = _client(settings, args)
    if client is None:
        return EXIT_USAGE
    with client:
        return _report(args, settings, answer_outcome(client, settings, " ".join(args.words)))


def run_decline(args: argparse.Namespace, settings: Settings) -> int:
    client = _client(settings, args)
    if client is None:
        return EXIT_USAGE
    with client:
        return _report(args, settings, decline_outcome(client, settings.speech.language))
