"""Subcommands: say."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "say",
        help="speak text with the configured voice (or write it to a WAV file)",
        description="Speak TEXT through the output device. With no output device the speech "
        "is appended to a WAV file (voice.fallback_wav, else a temporary file) and logged.",
    )
    p.add_argument("text", nargs="+", metavar="TEXT", help="what to say")
    p.add_argument("--out", metavar="FILE.wav", help="write the speech to this WAV file instead")
    p.set_defaults(func=cmd_say)


def cmd_say(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.synth import TimedSynthesis
    from assistant.voice import Voice

    text = " ".join(args.text).strip()
    if not text:
        print("assistant say: nothing to say", file=sys.stderr)
        return 2
    if args.out:
        synth = TimedSynthesis(settings.voice)
        try:
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            synth.to_file(text, out)
        finally:
            synth.close()
        print(f"assistant say: wrote {out}", file=sys.stderr)
        return 0
    voice = Voice(settings.voice, settings.audio)
    try:
        voice.say(text)
    finally:
        voice.close()
    if voice.fallback_path is not None:
        print(f"assistant say: no output device; speech written to {voice.fallback_path}",
              file=sys.stderr)
    return 0
