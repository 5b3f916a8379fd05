"""``assistant doctor``: check each part a working assistant needs and say what to fix."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass

from assistant.config import Settings
from assistant.errors import AssistantError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _microphone(settings: Settings) -> str:
    from assistant.audio import Microphone, list_devices

    try:
        device = Microphone.check(settings.audio)
    except AssistantError as exc:
        inputs = [d["name"] for d in list_devices() if d.get("max_input_channels", 0) > 0]
        hint = ("Inputs found: " + "; ".join(inputs) + ". Set audio.input_device to one of them."
                if inputs else "No input device at all: connect a microphone (or start PulseAudio).")
        raise AssistantError(str(exc), f"{exc.spoken} {hint}") from None
    return str(device.get("name", settings.audio.input_device or "system default input"))


def _speaker(settings: Settings) -> str:
    from assistant.voice import Voice

    voice = Voice(settings.voice, settings.audio)
    try:
        if not voice.output_available:
            raise AssistantError(
                "no output device",
                "No speaker found; speech will be written to a WAV file. Connect one or set audio.output_device.",
            )
        return settings.audio.output_device or "system default output"
    finally:
        voice.close()


def _voice(settings: Settings) -> str:
    from assistant.voice import Voice

    voice = Voice(settings.voice, settings.audio)
    try:
        samples, rate = voice.synthesize("Webex assistant check.")
    finally:
        voice.close()
    if len(samples) == 0:
        raise AssistantError("empty synthesis", "The speech synthesizer produced no sound.")
    return f"{len(samples) / rate:.1f} s of speech synthesized"


def _recogniser(settings: Settings) -> str:
    from assistant.devices import DeviceDirectory
    from assistant.intents import CommandLanguage
    from assistant.speech import create_engine

    directory = DeviceDirectory.build([], settings.devices.aliases)
    engine = create_engine(settings.speech, CommandLanguage.load(settings.speech.language, directory.names))
    return f"{engine.name} ({settings.speech.language})"


def _espeak(settings: Settings) -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise AssistantError("espeak-ng missing", "espeak-ng is not installed: apt-get install espeak-ng")
    return path


def _webex(settings: Settings) -> str:
    from assistant.auth import token_source
    from assistant.webex.client import WebexClient

    with WebexClient(settings.webex, tokens=token_source(settings)) as client:
        person = client.me()
        endpoints = client.answer_endpoints()
    return f"signed in as {person.display_name or person.id}; {len(endpoints)} answer endpoints"


CHECKS: list[tuple[str, Callable[[Settings], str]]] = [
    ("espeak-ng", _espeak),
    ("voice", _voice),
    ("speaker", _speaker),
    ("microphone", _microphone),
    ("recogniser", _recogniser),
    ("webex", _webex),
]


def run_checks(settings: Settings) -> list[Check]:
    results = []
    for name, check in CHECKS:
        try:
            results.append(Check(name, True, check(settings)))
        except AssistantError as exc:
            results.append(Check(name, False, exc.spoken))
    return results
