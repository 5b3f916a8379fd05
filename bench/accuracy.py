"""Recognition accuracy per engine and noise level, on espeak-ng speech.

    python bench/accuracy.py [--engine pocketsphinx|vosk-ko|all] [--json] [--verbose]

For each noise level (clean, 20 dB, 12 dB SNR white noise): command acceptance (the command was
accepted), intent+device accuracy (accepted with the right intent and device), wrong accepts
(commands accepted as another intent or device) and the false-accept rate of off-domain
sentences. The corpus is tests/fixtures_speech.py (synthesis is cached in
tests/.cache/). Figures are recorded in the README.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import fixtures_speech as corpus

from assistant.intents import CommandLanguage

NOISE_LEVELS: tuple[float | None, ...] = (None, 20.0, 12.0)


def _level(snr: float | None) -> str:
    return "clean" if snr is None else f"{snr:g} dB"


DUMP: list[dict[str, Any]] = []


def _record(kind: str, level: str, voice: str, text: str, t: Any, right: bool) -> None:
    DUMP.append({"kind": kind, "noise": level, "voice": voice, "said": text, "heard": t.text,
                 "score": getattr(t, "score", None), "accepted": t.accepted, "right": right})


def bench_pocketsphinx(verbose: bool) -> dict[str, Any]:
    from assistant.speech.pocketsphinx import PocketSphinxEngine

    engine = PocketSphinxEngine(CommandLanguage.load("en", corpus.DEVICE_PHRASES))
    expected = {text: (intent, device) for text, intent, device in corpus.COMMANDS}
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    decode_ms: list[float] = []
    for snr in NOISE_LEVELS:
        level = stats[_level(snr)]
        for voice in corpus.VOICES:
            for text, (intent, device) in expected.items():
                t = engine.transcribe_pcm(corpus.synthesize(text, voice.name, voice.speed_wpm, snr))
                decode_ms.append(t.decode_ms)
                right = bool(t.command and t.command.intent.value == intent
                             and t.command.device == device)
                _record("command", _level(snr), voice.name, text, t, right)
                level["commands"] += 1
                level["accepted"] += t.accepted
                level["right"] += right
                level["wrong"] += t.accepted and not right
                if verbose and not right:
                    print(f"  miss {_level(snr)} {voice.name}: {text!r} -> {t.text!r} "
                          f"score {getattr(t, 'score', 0):.1f}", file=sys.stderr)
            for text in corpus.OFF_DOMAIN:
                t = engine.transcribe_pcm(corpus.synthesize(text, voice.name, voice.speed_wpm, snr))
                _record("off_domain", _level(snr), voice.name, text, t, False)
                level["off_domain"] += 1
                level["false_accepts"] += t.accepted
                if verbose and t.accepted:
                    print(f"  false accept {_level(snr)} {voice.name}: {text!r} -> {t.text!r} "
                          f"score {getattr(t, 'score', 0):.1f}", file=sys.stderr)
    return _summary("pocketsphinx", stats, decode_ms)


def bench_vosk_ko(verbose: bool) -> dict[str, Any]:
    from fixtures_speech import KO_COMMANDS, KO_OFF_DOMAIN

    from assistant.speech.vosk import VoskEngine, korean_model_dir

    engine = VoskEngine(korean_model_dir(), CommandLanguage.load("ko"))
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    decode_ms: list[float] = []
    for snr in NOISE_LEVELS:
        level = stats[_level(snr)]
        for speed in (140, 170):
            for text, intent, device in KO_COMMANDS:
                t = engine.transcribe_pcm(corpus.synthesize(text, "ko", speed, snr))
                decode_ms.append(t.decode_ms)
                right = bool(t.command and t.command.intent.value == intent
                             and t.command.device == device)
                level["commands"] += 1
                level["accepted"] += t.accepted
                level["right"] += right
                level["wrong"] += t.accepted and not right
                if verbose and not right:
                    print(f"  miss {_level(snr)}: {text!r} -> {t.text!r}", file=sys.stderr)
            for text in KO_OFF_DOMAIN:
                t = engine.transcribe_pcm(corpus.synthesize(text, "ko", speed, snr))
                level["off_domain"] += 1
                level["false_accepts"] += t.accepted
                if verbose and t.accepted:
                    print(f"  false accept {_level(snr)}: {text!r} -> {t.text!r}", file=sys.stderr)
    return _summary("vosk (ko)", stats, decode_ms)


def _summary(name: str, stats: dict[str, dict[str, float]], decode_ms: list[float]) -> dict[str, Any]:
    rows = []
    for level, s in stats.items():
        rows.append({
            "engine": name,
            "noise": level,
            "commands": int(s["commands"]),
            "acceptance": round(s["accepted"] / s["commands"], 3),
            "intent_device_accuracy": round(s["right"] / s["commands"], 3),
            "wrong_accepts": int(s["wrong"]),
            "off_domain": int(s["off_domain"]),
            "false_accept_rate": round(s["false_accepts"] / max(s["off_domain"], 1), 3),
        })
    decode_ms.sort()
    return {"rows": rows, "median_decode_ms": round(decode_ms[len(decode_ms) // 2], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["pocketsphinx", "vosk-ko", "all"], default="all")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list every miss on stderr")
    parser.add_argument("--dump", metavar="FILE", help="write every clip's result (JSON lines)")
    args = parser.parse_args()
    results = []
    if args.engine in ("pocketsphinx", "all"):
        results.append(bench_pocketsphinx(args.verbose))
    if args.engine in ("vosk-ko", "all"):
        results.append(bench_vosk_ko(args.verbose))
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(item, ensure_ascii=False, default=str) + "\n" for item in DUMP)
    for result in results:
        for row in result["rows"]:
            if args.json:
                print(json.dumps(row))
            else:
                print(f"{row['engine']:<13} {row['noise']:<6} commands {row['commands']:>3}  "
                      f"accepted {row['acceptance']:6.1%}  intent+device {row['intent_device_accuracy']:6.1%}  "
                      f"wrong {row['wrong_accepts']:>2}  "
                      f"false accepts {row['false_accept_rate']:5.1%} of {row['off_domain']}")
        if not args.json:
            print(f"  median decode {result['median_decode_ms']} ms per utterance")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
