"""Subcommands: ``transcribe`` (audio files → commands) and ``models list|download|path``."""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from assistant.config import Engine, Settings, SpeechSettings
from assistant.devices import DeviceDirectory
from assistant.errors import SpeechError, WebexError
from assistant.text import clean
from assistant.webex.models import Endpoint

if TYPE_CHECKING:  # the speech modules load numpy and the templates: only for transcribe
    from assistant.audio_io import WavFile
    from assistant.speech.base import SpeechEngine, Transcript

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Longest file decoded whole as one utterance (a command with talk around it fits easily). A
# PocketSphinx decode holds about 45 MB per second of audio (555 MB for 10 s, measured).
WHOLE_FILE_SECONDS = 10.0
WHOLE_FILE_MAX_BYTES = 32 << 20  # ... and at most this much of the file's own PCM

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
    q.add_argument("name", type=_model_name)
    q.set_defaults(func=run_models_download)
    q = msub.add_parser("path", help="print where a model is (or would be) installed")
    q.add_argument("name", type=_model_name)
    q.set_defaults(func=run_models_path)


def _model_name(name: str) -> str:
    """argparse type: a catalogue name is joined onto models/, so '../' or '/' is bad usage."""
    from assistant.models_catalogue import name_problem

    problem = name_problem(name)
    if problem:
        raise argparse.ArgumentTypeError(f"{name!r}: {problem}")
    return name


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

    changes: dict[str, Any] = {}
    if args.engine:
        changes["engine"] = Engine(args.engine)
    if args.language:
        changes["language"] = args.language
    speech = settings.replace("speech", **changes).speech  # both flags apply
    directory = DeviceDirectory.build(_endpoints(settings), settings.devices.aliases)
    language = CommandLanguage.load(speech.language, directory.names)
    engine = create_engine(speech, language)
    failed = 0
    for path in args.files:
        try:
            row: dict[str, Any] = {"file": path, **transcribe_file(engine, speech, path)}
        except SpeechError as exc:  # this file only: the others are still transcribed
            print(f"assistant transcribe: {clean(str(exc), 600)}", file=sys.stderr)
            print(json.dumps({"file": path, "error": str(exc)}, ensure_ascii=False), flush=True)
            failed += 1
            continue
        phrase = row["device"]
        if phrase is not None:
            resolution = directory.resolve(phrase)
            row["device"] = resolution.endpoint.name if resolution.endpoint else None
            row["device_phrase"] = phrase
            if resolution.kind == "ambiguous":
                row["device_candidates"] = [e.name for e in resolution.candidates]
        print(json.dumps(row, ensure_ascii=False), flush=True)
    if failed == len(args.files):
        return EXIT_USAGE  # nothing could be read: the input was wrong
    return EXIT_FAILED if failed else EXIT_OK


def transcribe_file(engine: SpeechEngine, speech: SpeechSettings, path: str) -> dict[str, Any]:
    """One file's JSON fields. A file up to ``WHOLE_FILE_SECONDS`` is one utterance, decoded
    whole (as always). A longer one is read in blocks and listened to like the microphone: the
    endpointer cuts it into utterances of at most ``max_utterance_seconds``, so memory stays
    the same for any length (a 10-minute file took 16 GB decoded whole). The row is then the
    first accepted command, else the first utterance with text, over the whole file's audio,
    plus ``utterances``."""
    from assistant.audio_io import WavFile

    with WavFile(path) as wav:
        info = wav.info
        limit = min(WHOLE_FILE_SECONDS * info.rate_hz * info.channels * info.sample_width,
                    WHOLE_FILE_MAX_BYTES)
        head: list[bytes] = []
        size = 0
        blocks = wav.pcm_blocks()
        for pcm in blocks:
            head.append(pcm)
            size += len(pcm)
            if size > limit:
                return _listen_through(engine, speech, wav, itertools.chain(head, blocks))
        return engine.transcribe_pcm(b"".join(wav.convert(head))).as_json()


def _listen_through(engine: SpeechEngine, speech: SpeechSettings, wav: WavFile,
                    pcm_blocks: Iterable[bytes]) -> dict[str, Any]:
    from assistant.audio_io import FRAME_BYTES, duration_ms
    from assistant.speech.base import Transcript
    from assistant.speech.endpointing import new_listener

    listener = new_listener(engine.recognizer(), speech)
    decode_ms = audio_ms = 0.0
    chosen: Transcript | None = None
    utterances = 0

    def frames() -> Iterator[bytes]:
        nonlocal audio_ms
        pending = b""
        for block in wav.convert(pcm_blocks):
            pending += block
            usable = len(pending) - len(pending) % FRAME_BYTES
            for start in range(0, usable, FRAME_BYTES):
                yield pending[start : start + FRAME_BYTES]
            audio_ms += duration_ms(pending[:usable])
            pending = pending[usable:]
        if pending:
            audio_ms += duration_ms(pending)
            yield pending

    for transcript in listener.listen(frames()):
        if transcript.left_unfinished and not transcript.audio_ms:
            continue  # not an utterance: the wait for the rest of one ended
        utterances += 1
        decode_ms += transcript.decode_ms
        if _better(transcript, chosen):
            chosen = transcript
    row = (chosen or Transcript("", False, None, None, 0.0, 0.0)).as_json()
    row.update(decode_ms=round(decode_ms, 1), audio_ms=round(audio_ms, 1), utterances=utterances)
    return row


def _better(transcript: Transcript, chosen: Transcript | None) -> bool:
    """The first accepted command wins; until one comes, the first utterance with text."""
    if chosen is None:
        return True
    if chosen.accepted:
        return False
    return transcript.accepted or (bool(transcript.text) and not chosen.text)


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
