"""Decode time of the command the live benchmark says, with the strict pass's phone loop
beside the grammar (``assistant.speech.native``) and after it (the Cython binding), in process.

The spot endpointer's peek decodes what the microphone heard of an utterance: 300 ms of room
before the voice, the command, and the quiet after it. This times ``SpottingRecognizer.decode``
on "answer on my desk phone" in the live benchmark's four espeak-ng voices with 300 ms of
silence (dithered) on either side, both ways, interleaved, and checks they hear the same.

    .venv/bin/python bench/decode_time.py [--repeats 5]

Timings on a shared machine are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures_speech import DEVICE_PHRASES, synthesize  # noqa: E402

from assistant.config import Recognition  # noqa: E402
from assistant.intents import CommandLanguage  # noqa: E402
from assistant.speech import native  # noqa: E402
from assistant.speech.native import NativeDecoder  # noqa: E402
from assistant.speech.pocketsphinx import PocketSphinxEngine  # noqa: E402
from assistant.speech.pocketsphinx_spot import SpottingRecognizer  # noqa: E402

COMMAND = "answer on my desk phone"
VOICES = ("en-us", "en-us+m3", "en-us+f2", "en-gb")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="decodes per voice and way")
    args = parser.parse_args()
    engine = PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES),
                                recognition=Recognition.SPOT)
    beside = engine.recognizer()
    assert isinstance(beside, SpottingRecognizer) and isinstance(beside.strict.phones, NativeDecoder)
    library = native._library
    native._library = lambda: None  # type: ignore[assignment]  # as where ctypes cannot load
    try:
        after = engine.recognizer()
    finally:
        native._library = library  # type: ignore[assignment]
    assert isinstance(after, SpottingRecognizer)
    assert not isinstance(after.strict.phones, NativeDecoder)
    times: dict[str, list[float]] = {"beside": [], "after": []}
    heard: dict[str, set[str]] = {"beside": set(), "after": set()}
    for voice in VOICES:
        pcm = synthesize(COMMAND, voice, pad_ms=300)
        for _ in range(args.repeats):
            for way, recognizer in (("beside", beside), ("after", after)):
                t0 = time.perf_counter()
                transcript = recognizer.decode(pcm)
                times[way].append((time.perf_counter() - t0) * 1000)
                heard[way].add(transcript.text if transcript.accepted else "")
    rows = {way: {"n": len(ms), "p50_ms": round(statistics.median(ms), 1),
                  "max_ms": round(max(ms), 1), "heard": sorted(heard[way])}
            for way, ms in times.items()}
    for way, row in rows.items():
        print(f"phone loop {way:6} the grammar: p50 {row['p50_ms']} ms, max {row['max_ms']} ms "
              f"over {row['n']} decodes; heard {row['heard']}")
    print(json.dumps(rows))
    return 0 if heard["beside"] == heard["after"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
