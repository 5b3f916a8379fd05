"""Subcommands: ``transcribe`` (audio files → commands) and ``models list|download|path``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from assistant.config import Engine, Settings
from assistant.devices import DeviceDirectory
from assistant.errors import SpeechError, WebexError
from assistant.webex.models import Endpoint

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# The emulator's default scenario (DESIGN.md): used to resolve device names when no Webex
# account is reachable, so transcribe also works offline.
DEFAULT_SCENARIO_ENDPOINTS = [
    Endpoint("default-app", "APPLICATION", "Webex Desktop Application", True),
    Endpoint("default-desk", "DEVICE", "Cisco 8865 (Desk phone)"),
    Endpoint("default-reception", "DEVICE", "Cisco 8865 (Phone in reception area)"),
    Endpoint("default-lobby", "DEVICE", "Cisco 7841 (Lobby)"),
]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("transcribe", help="recognise commands in WAV files (one JSON line each)")
    p.add_argument("--engine", choices=[e.value for e in Engine if e != Engine.AUTO])
    p.add_argument("--language", choices=["en", "ko"])
    p.add_argument("--json", action="store_true", help="JSON lines (the default output anyway)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=run_transcribe)

    p = sub.add_parser("models", help="speech model catalogue: list, download NAME, path NAME")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    msub.required = True
    q = msub.add_parser("list", help="catalogue models and whether they are installed")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=run_models_list)
    q = msub.add_parser("download", help="download, check and unpack a model into models/")
    q.add_argument("name")
    q.set_defaults(func=run_models_download)
    q = msub.add_parser("path", help="print where a model is (or would be) installed")
    q.add_argument("name")
    q.set_defaults(func=run_models_path)


def _endpoints(settings: Settings) -> list[Endpoint]:
    if settings.webex.access_token:
        from assistant.webex.client import WebexClient

        try:
            with WebexClient(settings.webex) as client:
                return client.answer_endpoints()
        except WebexError as exc:
            print(f"assistant transcribe: Webex endpoints unavailable ({exc}); "
                  "resolving devices against the default scenario", file=sys.stderr)
    else:
        print("assistant transcribe: no Webex token; resolving devices against the default "
              "scenario", file=sys.stderr)
    return list(DEFAULT_SCENARIO_ENDPOINTS)


def run_transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.intents import CommandLanguage
    from assistant.speech import create_engine

    speech = settings.speech
    if args.engine:
        speech = settings.replace("speech", engine=Engine(args.engine)).speech
    if args.language:
        speech = settings.replace("speech", language=args.language).speech
    directory = DeviceDirectory.build(_endpoints(settings), settings.devices.aliases)
    language = CommandLanguage.load(speech.language, directory.names)
    engine = create_engine(speech, language)
    failed = False
    for path in args.files:
        try:
            transcript = engine.transcribe_file(path)
        except SpeechError as exc:
            print(f"assistant transcribe: {exc}", file=sys.stderr)
            print(json.dumps({"file": path, "error": str(exc)}, ensure_ascii=False))
            failed = True
            continue
        row: dict[str, Any] = {"file": path, **transcript.as_json()}
        phrase = row["device"]
        if phrase is not None:
            resolution = directory.resolve(phrase)
            row["device"] = resolution.endpoint.name if resolution.endpoint else None
            row["device_phrase"] = phrase
            if resolution.kind == "ambiguous":
                row["device_candidates"] = [e.name for e in resolution.candidates]
        print(json.dumps(row, ensure_ascii=False))
        sys.stdout.flush()
    return EXIT_FAILED if failed else EXIT_OK


def run_models_list(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.models_catalogue import Catalogue

    catalogue = Catalogue.load(settings.speech.models_dir)
    rows = []
    for entry in catalogue.entries.values():
        installed = catalogue.installed_path(entry.name)
        rows.append({
            "name": entry.name, "language": entry.language, "engine": entry.engine,
            "url": entry.url, "approx_mb": entry.approx_mb, "sha256": entry.sha256 or None,
            "licence": entry.licence, "installed": installed is not None,
            "path": str(catalogue.path(entry.name)),
        })
    if args.json:
        print(json.dumps({"models": rows}, indent=2))
        return EXIT_OK
    for row in rows:
        state = "installed" if row["installed"] else "not installed"
        print(f"{row['name']}  [{row['language']}, {row['engine']}, ~{row['approx_mb']:g} MB, "
              f"{row['licence']}]  {state}")
    return EXIT_OK


def run_models_download(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.models_catalogue import Catalogue

    catalogue = Catalogue.load(settings.speech.models_dir)
    path = catalogue.download(args.name)
    print(path)
    return EXIT_OK


def run_models_path(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.models_catalogue import Catalogue

    catalogue = Catalogue.load(settings.speech.models_dir)
    path = catalogue.path(args.name)
    print(path)
    if catalogue.installed_path(args.name) is None:
        print(f"assistant models: {args.name} is not installed "
              f"(assistant models download {args.name})", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
