"""Subcommands: listen (the main job), demo (the whole loop on embedded defaults), doctor."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

from assistant.config import Engine, Settings

log = logging.getLogger(__name__)

def add_parsers(sub: Any) -> None:
    p = sub.add_parser("listen", help="the assistant: announce calls, listen, act, speak back")
    _add_loop_options(p)
    p.add_argument("--events", metavar="-|FILE", help="write JSON-lines events to stdout or FILE")
    p.add_argument(
        "--keys", choices=["auto", "on", "off"], default="auto",
        help="single keys on standard input (a, 1-9, d, r, h, s); auto: when it is a terminal",
    )
    p.set_defaults(func=cmd_listen)

    p = sub.add_parser("demo", help="the whole loop on embedded defaults (emulator, offline recogniser)")
    _add_loop_options(p)
    p.add_argument(
        "--simulate", action="store_true", help="synthesize the person's reply instead of listening"
    )
    p.add_argument("--events", metavar="-|FILE", help="also write JSON-lines events")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("doctor", help="check audio, model, voice, token and Webex; say what to fix")
    p.set_defaults(func=cmd_doctor)


def _add_loop_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=[e.value for e in Engine if e is not Engine.AUTO])
    p.add_argument("--input-device", metavar="NAME", help="microphone name (part of it) or index")
    p.add_argument("--output-device", metavar="NAME", help="speaker name (part of it) or index")


def apply_loop_options(settings: Settings, args: argparse.Namespace) -> Settings:
    if getattr(args, "engine", None):
        settings = settings.replace("speech", engine=Engine(args.engine))
    if getattr(args, "input_device", None):
        settings = settings.replace("audio", input_device=args.input_device)
    if getattr(args, "output_device", None):
        settings = settings.replace("audio", output_device=args.output_device)
    return settings


@contextlib.contextmanager
def _events_stream(target: str | None) -> Iterator[TextIO | None]:
    if target is None:
        yield None
    elif target == "-":
        yield sys.stdout
    else:
        with open(target, "a", encoding="utf-8") as stream:
            yield stream


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM end the loop through ``stop`` (clean shutdown, no traceback)."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, lambda *_: stop.set())
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def cmd_listen(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.events import EventLog
    from assistant.keys import read_keys
    from assistant.session import open_session

    settings = apply_loop_options(settings, args)
    stop = threading.Event()
    use_keys = args.keys == "on" or (args.keys == "auto" and sys.stdin is not None and sys.stdin.isatty())
    keys = (lambda stopped: read_keys(sys.stdin, stopped)) if use_keys else None
    with _events_stream(args.events) as stream:
        events = EventLog(stream)
        # Every sentence also as a plain line of text (braille displays, screen readers);
        # on stderr when stdout carries the JSON events.
        lines = sys.stderr if stream is sys.stdout else sys.stdout
        events.subscribe(lambda record: print_spoken(record, lines))
        with open_session(settings, stream, events=events, keys=keys) as session, _stop_on_signals(stop):
            session.run(stop)
    return 0


def print_spoken(record: dict[str, Any], out: TextIO) -> None:
    if record["event"] == "speaking" and record.get("text"):
        print(record["text"], file=out, flush=True)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.demo import run_demo

    settings = apply_loop_options(settings, args)
    stop = threading.Event()
    with _events_stream(args.events) as stream, _stop_on_signals(stop):
        return run_demo(settings, stop, simulate=args.simulate, stream=stream)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.doctor import run_checks

    results = run_checks(settings)
    width = max(len(r.name) for r in results)
    for r in results:
        mark = "ok  " if r.ok else "FIX "
        print(f"{mark} {r.name:<{width}}  {r.detail}")
    failed = [r for r in results if not r.ok]
    return 1 if failed else 0
