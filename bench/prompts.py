"""Does the assistant take its own sentences for commands? Every English sentence it can say,
spoken by several voices, through the default engine exactly as ``assistant listen`` hears it.

    nice -n 10 .venv/bin/python bench/prompts.py [--voices tuning|holdout|all] [--babble] [--jobs 2]

Sentences: every template of messages.toml, failures.toml and spoken.toml (words.toml holds
words, not sentences), filled with the values the dialog gives them: the default scenario's
devices as the assistant names them ("your desk phone", "your lobby phone"), callers' names,
a Webex failure for {problem}, and so on. Keys with {device} are said once per device.

Hearing: PocketSphinx in the default recognition mode (``spot``) with the live loop's
endpointer (``new_listener``: ``SpottingListener``), frames of 20 ms, the sentence in a quiet
room (a faint noise floor) with 0.5 s before and 1.5 s after; ``--babble`` puts it 12 dB over
office chatter instead. A sentence counts as accepted when any utterance the listener cut from
it was accepted (a command or a bare device reply); ``--whole`` also decodes the clip in one
``final()``.

Voices: ``tuning`` are the ones the rewording was iterated on, ``holdout`` were never looked at
while rewording (two more espeak-ng voices and two flite voices, another synthesizer).

Figures (quiet room, spot mode, live endpointer; 2026-11-30, this 2-core machine under load):

- before (the wording of commit e24cd8d), --keys outcome. (20 sentences: 12 keys, {device} x5),
  tuning voices: 57 of 80 accepted (en-us+m3 11/20, en-us+f2 18/20, en and en-us 28/40), e.g.
  "Declined." -> "decline it", "Unmuted." -> "unmute it", "Answered on your lobby phone." ->
  "answer on the lobby phone", "The call is resumed." -> "please resume";
- after, --keys outcome.,prompt.setting,prompt.cancelled,prompt.awake (32 sentences), tuning
  voices: 4 of 128, all "I'm listening." (-> "stop listening"), then reworded: 0 of 12;
- after, the same keys, held-out voices (--voices holdout --only nyc,slt): see the report;
- the other sentences (long prompts that quote commands: "Say answer, answer on a device, or
  decline.") are measured by a full run: ``--voices all`` (about an hour under load).
"""

from __future__ import annotations

import argparse
import string
import sys
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import speech_corpus as corpus  # noqa: E402

from assistant.config import Recognition, SpeechSettings  # noqa: E402
from assistant.messages import english  # noqa: E402

# (label, espeak-ng voice or "flite:<voice>", words a minute / duration stretch)
TUNING = [
    ("espeak en 175 (the assistant's own)", "en", 175),
    ("espeak en-us 160", "en-us", 160),
    ("espeak en-us+m3 150", "en-us+m3", 150),
    ("espeak en-us+f2 175", "en-us+f2", 175),
]
HOLDOUT = [
    ("espeak en-us-nyc+m1 140", "en-us-nyc+m1", 140),
    ("espeak en-gb-x-rp+f3 165", "en-gb-x-rp+f3", 165),
    ("flite slt", "flite:slt", 1.0),
    ("flite rms", "flite:rms", 1.0),
]

# The default scenario's devices as the assistant names them back (DeviceDirectory.said_as).
DEVICES = ["headset", "desk phone", "reception phone", "lobby phone", "computer"]
CALLERS = ["Dana Smith", "Raj Patel", "an unknown caller"]
VALUES: dict[str, str] = {
    "waiting": "1",
    "devices": "headset, desk phone, reception phone and lobby phone",
    "options": "desk phone, reception phone or lobby phone",
    "kind": "phone",
    "count": "4",
    "phrase": "kitchen phone",
    "seconds": "90",
    "status": "418",
    "detail": "The call is already connected.",
    "done": "answered",
    "alias": "desk",
    "target": "Kitchen phone",
    "address": "webex.com/device",
    "code": "K7 M2 Q9",
    "minutes": "5",
    "link": "webex.com/device?code=K7M2Q9",
    "path": "/home/alex/.config/assistant/token.json",
}


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def sentences() -> list[tuple[str, str]]:
    """(key, sentence) for every sentence the assistant can say in English."""
    messages = english()
    values = dict(VALUES)
    values["problem"] = messages.text("failure.network.refused")
    values["question"] = messages.text("device.which", kind="phone", options=VALUES["options"])
    out: list[tuple[str, str]] = []
    for key, template in messages.templates.items():
        if key.startswith("words."):
            continue
        fields = _fields(template)
        devices = DEVICES if "device" in fields else [DEVICES[0]]
        for i, device in enumerate(devices):
            caller = CALLERS[i % len(CALLERS)] if "caller" in fields else ""
            out.append((key, template.format(**values, device=device, caller=caller)))
    return out


def speaker(voice: str, rate: float) -> corpus.Speaker:
    if voice.startswith("flite:"):
        name = voice.split(":", 1)[1]
        return corpus.Speaker(f"flite:{name}:f0:d{rate:g}", "flite", f"cmu:{name}", name,
                              stretch=float(rate))
    return corpus.Speaker(f"espeak:{voice}:p50:s{rate:g}:g0", "espeak", f"espeak:{voice}", voice,
                          pitch=50, wpm=int(rate), word_gap=0)


_ENGINE: Any = None


def engine() -> Any:
    """The live default: PocketSphinx, recognition ``spot``, the scenario's device phrases."""
    global _ENGINE
    if _ENGINE is None:
        from assistant.devices import DeviceDirectory
        from assistant.emulator.scenario import Scenario
        from assistant.intents import CommandLanguage
        from assistant.speech.pocketsphinx import PocketSphinxEngine
        from assistant.webex.models import Endpoint

        endpoints = [Endpoint(e.id, e.type, e.name) for e in Scenario.default().endpoints]
        directory = DeviceDirectory.build(endpoints, {"headset": "Webex Desktop Application"})
        language = CommandLanguage.load("en", directory.names)
        _ENGINE = PocketSphinxEngine(language, recognition=Recognition.SPOT)
    return _ENGINE


def clip(text: str, voice: str, rate: float, babble: bool) -> bytes:
    spk = speaker(voice, rate)
    speech = corpus.synthesize(spk, text)
    total_ms = 500 + len(speech) // 32 + 1500
    if babble:
        noise = corpus.babble(total_ms, seed=len(text), talkers=3, exclude_group=spk.group)
        return corpus.mix(speech, noise, 12.0, 500)
    return corpus.mix(speech, bytes(total_ms * 32), None, 500)


def heard(text: str, voice: str, rate: float, babble: bool = False,
          whole: bool = False) -> list[str]:
    """What the live listener accepted from the sentence (empty: nothing, as it should be)."""
    from assistant.speech.endpointing import new_listener
    from assistant.audio_io import frames

    pcm = clip(text, voice, rate, babble)
    listener = new_listener(engine().recognizer(), SpeechSettings())
    out = [t.text for t in listener.listen(frames(pcm)) if t.accepted]
    if whole:
        t = engine().transcribe_pcm(pcm)
        out += [f"(whole) {t.text}"] if t.accepted else []
    return out


def _job(args: tuple[str, str, str, str, float, bool, bool]) -> tuple[str, str, str, list[str]]:
    label, key, text, voice, rate, babble, whole = args
    return label, key, text, heard(text, voice, rate, babble, whole)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", choices=("tuning", "holdout", "all"), default="all")
    parser.add_argument("--babble", action="store_true", help="12 dB over office chatter")
    parser.add_argument("--whole", action="store_true", help="also decode each clip whole")
    parser.add_argument("--keys", default="",
                        help="only keys starting with these (outcome.,prompt.cancelled)")
    parser.add_argument("--text", action="append", default=[],
                        help="try this sentence instead of the catalogue (repeatable)")
    parser.add_argument("--only", default="", help="voices whose label has one of these")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    voices = {"tuning": TUNING, "holdout": HOLDOUT, "all": TUNING + HOLDOUT}[args.voices]
    voices = [v for v in voices if any(o in v[0] for o in args.only.split(","))]
    prefixes = tuple(args.keys.split(","))
    said = [("text", t) for t in args.text] or [
        (k, s) for k, s in sentences() if k.startswith(prefixes)]
    jobs = [(label, key, text, voice, rate, args.babble, args.whole)
            for label, voice, rate in voices for key, text in said]
    started = time.monotonic()
    results = []
    with get_context("fork").Pool(args.jobs) as pool:
        for result in pool.imap(_job, jobs):
            results.append(result)
            if result[3]:  # as it happens, on stderr: a long run shows its findings early
                print(f"accepted: {result[0]}: {result[2]!r} -> {result[3]}", file=sys.stderr,
                      flush=True)
    total = 0
    for label, _, _ in voices:
        accepted = [(k, t, h) for lab, k, t, h in results if lab == label and h]
        total += len(accepted)
        print(f"{label}: {len(accepted)} of {len(said)} accepted")
        for key, text, what in accepted:
            print(f"    {key}: {text!r} -> {what}")
    condition = "babble 12 dB" if args.babble else "quiet room"
    print(f"total: {total} of {len(jobs)} accepted ({len(voices)} voices, {len(said)} sentences,"
          f" {condition}, {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
