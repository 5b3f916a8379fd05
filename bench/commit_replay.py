"""When does the spotting endpointer commit a command? In-process, on generated audio.

The live benchmark (bench/latency.py) measures end of command -> answer request in real time,
which on a shared 2-core machine swings with whatever else runs. This replays commands through
``SpottingListener`` frame by frame, as the microphone would deliver them, and reports per room:

* ``commit_ms``: audio fed after the end of the person's speech when the command committed
  (independent of CPU speed: what the endpointer waited for);
* ``decode_ms``: the recogniser's time per peek, and the peeks per command;
* ``model_ms``: end of speech -> commit on a simulated clock: frames arrive every 20 ms, and
  each peek costs ``--rtf`` x the audio it decodes (0.1: about this machine, unloaded);
  ``wall_ms`` the same with each feed's measured time. The live figure adds the sound server's
  and the HTTP request's latency.
* right / wrong / missed: the first accepted transcript against the expected command.

Commands: the live benchmark's "answer on my desk phone" in its four espeak-ng voices, five
other commands in voices of three synthesizers, and commands with a hesitation inside
("answer on my ... headset"), each in a quiet room and in office babble.

    .venv/bin/python bench/commit_replay.py [--rooms quiet,babble12] [--seeds 2] [--json FILE]

``--holdout`` replays instead 16 hesitations ("pick up on the ... webex app") in 8 voices that
no constant of the endpointer was chosen on (``holdout_cases``).

``--stress`` replays 3 hesitations and 3 plain commands in each of the corpus's 18 voice
groups (``stress_cases``), with the outcomes split by kind. ``--pauses 1500,2000,2500,3000``:
hesitations longer than an utterance is held open (``spot_endpointing.JOIN_UNFINISHED``).

``--case-seed N`` draws other ``--stress`` and ``--talk`` cases than those the settings were
chosen on (held out); ``--per-group N``: office sentences per voice group for ``--talk``.

``--carried`` replays instead 3 commands per voice group wrapped in the person's own words
("okay, answer on my headset", "could you hang up please"; ``carried_cases``).

``--talk`` replays instead talk that is not a command (the corpus's office sentences, most of
them with command words, and the assistant's own sentences) in every voice group: any command
the endpointer commits is a false accept, counted per room (``talk_cases``). ``--mode naive``
replays through the baseline (strict grammar, no rejection, silence endpointing).

``--negated`` replays instead commands said not to be done ("don't hang up", "don't take
it"; ``NEGATED``, 3 per voice group), counted as ``--talk`` counts: every action is false.
``--led`` likewise replays talk that begins like a command ("hang up your coat by the door";
``LED``, 3 per voice group); no setting was chosen on them. ``--led-tuning``: 66 more such
sentences, with command words and device names in them, written to choose settings on
(``LED_TUNING``, 4 per voice group).

``--replies`` replays instead device names said alone in every voice group, the reply to
"Which device?" (``reply_cases``), and counts them as the dialog takes them while it asks
(``dialog.ASKING_TAKES``): right, wrong device, another command acted on, asked again, missed;
``other_commands_heard`` names the commands the devices were heard as.

``--continuous`` replays instead one long stream of office babble per seed (``--seeds``, 3
talkers, never pausing) with ``CONTINUOUS_COMMANDS`` commands of the stress set said in it at
random times, 3-8 s apart, as an office is: the room holds utterances open, so commands start
inside them and run into the hard limit, and the talk between commands is heard for minutes.
Per room: right / wrong / missed (the first accepted command from the start of the person's
speech to ``CONTINUOUS_WINDOW_MS`` after its end decides), false accepts (commands accepted
anywhere else), bare device names accepted (``device_only``: an answer only when the assistant
has asked which device, otherwise it says it did not understand; a hesitation cut in two leaves
one), and the recogniser's CPU time per second of audio. ``--mode`` as for ``--talk``.

Rooms: quiet, office babble at 20, 12 and 6 dB, pink noise (a fan) at 20 and 12 dB, white
noise (a hissing microphone) at 12 dB; ``realbabble20``, ``realbabble12``, ``realbabble6``:
babble of real people's recordings (``bench/real_speech.py``, fetched once with pip), which no
setting was chosen on. ``--suppress LEVEL``: ``[speech] noise_suppression``
(``--suppress 0`` against the default: what noise suppression gains). ``--gate FILE``: another
spotting gate (``bench/gate.py --out FILE``) in place of the shipped one.

``--set NAME=VALUE`` overrides a constant of ``spot_endpointing`` (VALUE is JSON); the
endpointer as it was before the early peek: ``--set PEEK_AFTER_MS=200 --set
SQUEEZED_FRAMES_PER_PHONE=0``. ``--set pocketsphinx.NAME=VALUE`` overrides one of the
recogniser's, e.g. ``--set 'pocketsphinx.STRICT_BEAMS={"beam": 1e-60, "pbeam": 1e-60, "wbeam":
1e-40}'``, and ``--set pocketsphinx_spot.NAME=VALUE`` one of the spotting recogniser's (the
strict pass without its forced-word check: ``--set pocketsphinx_spot.WORD_FIT_BELOW=-1e9``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

import real_speech  # noqa: E402
import speech_corpus as corpus  # noqa: E402
from fixtures_speech import DEVICE_PHRASES, synthesize  # noqa: E402

from assistant.config import Recognition, SpeechSettings  # noqa: E402
from assistant.intents import CommandLanguage, Intent  # noqa: E402
from assistant.speech import pocketsphinx, pocketsphinx_spot, spot_endpointing  # noqa: E402
from assistant.speech.endpointing import new_listener  # noqa: E402
from assistant.speech.pocketsphinx import NOISE_SUPPRESSION, PocketSphinxEngine  # noqa: E402
from assistant.speech.spotting import Gate  # noqa: E402

FRAME_MS = 20
FRAME_BYTES = 640
ROOMS = {"quiet": None, "babble20": 20.0, "babble12": 12.0, "babble6": 6.0,
         "pink20": 20.0, "pink12": 12.0, "white12": 12.0,  # pink: a fan; white: a hissing mic
         # babble of real people's recordings (bench/real_speech.py), not synthesized talkers
         "realbabble20": 20.0, "realbabble12": 12.0, "realbabble6": 6.0}
SUPPRESS = NOISE_SUPPRESSION  # [speech] noise_suppression of every engine made here (--suppress)
GATE: Gate | None = None  # --gate FILE: the spotting gate of every engine made here (None: shipped)
BEFORE_MS, AFTER_MS = 1500, 2500
LIVE_VOICES = ("en-us", "en-us+m3", "en-us+f2", "en-gb")  # bench/latency.py's
OTHER = [  # (speaker id, text, intent, device)
    ("espeak:en-us+f2:p37:s141:g1", "answer on my headset", "answer", "headset"),
    ("flite:slt:f0:d1", "decline the call", "decline", None),
    ("espeak:en-us-nyc+m1:p31:s135:g0", "answer the call on my desk phone", "answer", "desk phone"),
    ("flite:rms:f0:d1", "put the call on hold", "hold", None),
    ("espeak:en-us+m7:p51:s163:g3", "send it to voicemail", "voicemail", None),
]
HESITATIONS = [  # (speaker id, first part, pause ms, second part, device)
    ("flite:slt:f0:d1", "answer on my", 500, "headset", "headset"),
    ("espeak:en-us+f2:p37:s141:g1", "answer on my", 300, "desk phone", "desk phone"),
    ("flite:rms:f0:d1", "answer the call on my", 700, "headset", "headset"),
    ("espeak:en-us+f2:p37:s141:g1", "answer on my", 250, "headset", "headset"),
    ("flite:rms:f0:d1", "answer on my", 200, "desk phone", "desk phone"),
    ("espeak:en-us-nyc+m1:p31:s135:g0", "pick up on my", 300, "headset", "headset"),
    ("flite:slt:f0:d1", "answer the call on my", 250, "desk phone", "desk phone"),
    ("espeak:en-us+m7:p51:s163:g3", "answer on the", 300, "reception phone", "reception phone"),
]

@dataclass
class Case:
    label: str
    speech: bytes
    intent: str
    device: str | None
    group: str = ""
    kind: str = ""  # "carried" (carried_cases); otherwise told by the label


def speech_end_ms(pcm: bytes) -> float:
    """End of the last 10 ms above 5 % of the loudest (bench/latency.py's rule)."""
    x = np.frombuffer(pcm, np.int16).astype(np.float64)
    n = len(x) // 160
    energy = np.sqrt((x[: n * 160].reshape(n, 160) ** 2).mean(axis=1))
    return float((np.nonzero(energy > energy.max() * 0.05)[0][-1] + 1) * 10)


def cases() -> list[Case]:
    out = [Case(f"desk phone [{v}]", synthesize("answer on my desk phone", v, 160, pad_ms=0),
                "answer", "desk phone") for v in LIVE_VOICES]
    speakers = {s.id: s for s in corpus.speakers()}
    for sid, text, intent, device in OTHER:
        out.append(Case(f"{text} [{sid}]", corpus.synthesize(speakers[sid], text), intent, device,
                        speakers[sid].group))
    for sid, first, pause, second, device in HESITATIONS:
        spk = speakers[sid]
        speech = (corpus.synthesize(spk, first) + bytes(32 * pause)
                  + corpus.synthesize(spk, second))
        out.append(Case(f"{first} ..{pause}.. {second} [{sid}]", speech, "answer", device,
                        spk.group))
    return out


# --holdout: hesitations in voices and with devices the constants above were never chosen on
HOLDOUT_VOICES = ("cmu:awb", "cmu:kal", "espeak:en-gb-x-rp+m2", "espeak:en-029+f1",
                  "espeak:en-gb-scotland+m4", "espeak:en-us+Andy", "espeak:en-gb-x-gbcwmd+steph",
                  "cmu:slt")
HOLDOUT_FIRST = ("answer on my", "answer the call on my", "pick up on the", "take it on my")
HOLDOUT_DEVICES = ("headset", "desk phone", "webex app", "reception phone")
HOLDOUT_PAUSES = (300, 450, 600, 750)


def holdout_cases() -> list[Case]:
    """Two hesitations per held-out voice group: every first part, device and pause is used."""
    groups: dict[str, Any] = {}
    for spk in corpus.speakers():
        if spk.group in HOLDOUT_VOICES:
            groups.setdefault(spk.group, spk)
    out = []
    for i, group in enumerate(HOLDOUT_VOICES):
        spk = groups[group]
        for j in range(2):
            k = 2 * i + j
            first, device = HOLDOUT_FIRST[k % 4], HOLDOUT_DEVICES[(k // 4 + k) % 4]
            pause = HOLDOUT_PAUSES[(k // 2) % 4]
            speech = (corpus.synthesize(spk, first) + bytes(32 * pause)
                      + corpus.synthesize(spk, device))
            out.append(Case(f"{first} ..{pause}.. {device} [{spk.id}]", speech, "answer", device,
                            spk.group))
    return out


# The cases the settings were chosen on; --case-seed draws others (held out) for --stress and --talk
CASE_SEEDS = {"stress": 11, "talk": 13}
STRESS_FIRST = ("answer on my", "answer the call on my", "pick up on the", "take it on my",
                "answer it using the", "please answer on my")
STRESS_DEVICES = ("headset", "desk phone", "webex app", "reception phone", "lobby phone",
                  "computer", "app")
STRESS_PAUSES = (250, 350, 450, 600, 750)


VOICES = "corpus"  # --voices unseen: the held-out voices (corpus.unseen_speakers) instead


def voice_groups() -> dict[str, list[Any]]:
    """The corpus's speakers by voice group (with ``--voices unseen``: the held-out voices)."""
    groups: dict[str, list[Any]] = {}
    for spk in corpus.unseen_speakers() if VOICES == "unseen" else corpus.speakers():
        groups.setdefault(spk.group, []).append(spk)
    return groups


def _per_group(n: int) -> int:
    """``n`` cases per group of the corpus's 18; as many cases in all with fewer groups (the
    6 held-out ones: 3 times as many each)."""
    return n * max(1, 18 // len(voice_groups()))


def stress_cases(per_group: int = 3, seed: int | None = None) -> list[Case]:
    """In every voice group of the corpus: ``per_group`` hesitations (a random first part,
    pause and device) and ``per_group`` plain commands (any phrasing of the corpus). ``seed``:
    other cases (default ``CASE_SEEDS["stress"]``, the ones the settings were chosen on)."""
    rng = np.random.default_rng(CASE_SEEDS["stress"] if seed is None else seed)
    groups = voice_groups()
    commands = corpus.commands()
    per_group = _per_group(per_group)
    out = []
    for group, speakers in sorted(groups.items()):
        for _ in range(per_group):
            spk = speakers[int(rng.integers(len(speakers)))]
            first = STRESS_FIRST[int(rng.integers(len(STRESS_FIRST)))]
            device = STRESS_DEVICES[int(rng.integers(len(STRESS_DEVICES)))]
            pause = STRESS_PAUSES[int(rng.integers(len(STRESS_PAUSES)))]
            speech = (corpus.synthesize(spk, first) + bytes(32 * pause)
                      + corpus.synthesize(spk, device))
            out.append(Case(f"{first} ..{pause}.. {device} [{spk.id}]", speech, "answer",
                            device, group))
        for _ in range(per_group):
            spk = speakers[int(rng.integers(len(speakers)))]
            text, intent, device = commands[int(rng.integers(len(commands)))]
            out.append(Case(f"{text} [{spk.id}]", corpus.synthesize(spk, text), intent, device,
                            group))
    return out


# The person's own words around a command (bench/carriers.py): before, after
CARRIERS = (("okay", ""), ("um", ""), ("could you", "please"), ("", "thanks"), ("hey", ""),
            ("so", "now"))


def carried_cases(per_group: int = 3, seed: int | None = None) -> list[Case]:
    """In every voice group: ``per_group`` commands of the corpus wrapped in carrier words
    (``CARRIERS`` in turn). ``seed``: other cases (default ``CASE_SEEDS["stress"]``)."""
    rng = np.random.default_rng(CASE_SEEDS["stress"] if seed is None else seed)
    commands = corpus.commands()
    per_group = _per_group(per_group)
    out = []
    for k, (group, speakers) in enumerate(sorted(voice_groups().items())):
        for i in range(per_group):
            spk = speakers[int(rng.integers(len(speakers)))]
            text, intent, device = commands[int(rng.integers(len(commands)))]
            before, after = CARRIERS[(k * per_group + i) % len(CARRIERS)]
            said = " ".join(w for w in (before, text, after) if w)
            out.append(Case(f"{said} [{spk.id}]", corpus.synthesize(spk, said), intent, device,
                            group, "carried"))
    return out


TALK_PER_GROUP = 4  # office sentences per voice group; and one of the assistant's own sentences


def talk_cases(per_group: int = TALK_PER_GROUP, seed: int | None = None) -> list[Case]:
    """In every voice group: ``per_group`` office sentences that are not commands (most with
    command words in them) and one of the assistant's own sentences, each said once. ``seed``:
    other sentences and voices (default ``CASE_SEEDS["talk"]``)."""
    rng = np.random.default_rng(CASE_SEEDS["talk"] if seed is None else seed)
    groups = voice_groups()
    talk, prompts = corpus.off_domain(), corpus.prompts()
    per_group = _per_group(per_group)
    out = []
    for group, speakers in sorted(groups.items()):
        chosen = [talk[int(i)] for i in rng.choice(len(talk), per_group, replace=False)]
        chosen += [prompts[int(rng.integers(len(prompts)))] for _ in range(_per_group(1))]
        for text in chosen:
            spk = speakers[int(rng.integers(len(speakers)))]
            out.append(Case(f"{text} [{spk.id}]", corpus.synthesize(spk, text), "", None, group))
    return out


# Commands the person says not to do: none of them is a command (the grammar's "don't answer"
# is one, decline, and is not here), so any action is a false one, and the command they negate
# the worst. A pass that finds the command inside talk may take "don't" for the room's talk.
NEGATED = ("don't take it", "don't pick up", "don't pick up the call", "don't hang up",
           "do not hang up the call", "don't put it on hold", "don't send it to voicemail",
           "don't take the call on my headset", "please don't end the call", "don't decline it")
NEGATED_PER_GROUP = 3


def _not_commands(sentences: tuple[str, ...], per_group: int, seed: int) -> list[Case]:
    """In every voice group: ``per_group`` of ``sentences``, none a command, each said once."""
    rng = np.random.default_rng(seed)
    per_group = _per_group(per_group)
    out = []
    for group, speakers in sorted(voice_groups().items()):
        for i in rng.choice(len(sentences), per_group, replace=False):
            spk = speakers[int(rng.integers(len(speakers)))]
            text = sentences[int(i)]
            out.append(Case(f"{text} [{spk.id}]", corpus.synthesize(spk, text), "", None, group))
    return out


def negated_cases(per_group: int = NEGATED_PER_GROUP, seed: int = 31) -> list[Case]:
    """In every voice group: ``per_group`` of ``NEGATED``, each said once."""
    return _not_commands(NEGATED, per_group, seed)


# Talk that begins like a command and goes on as a sentence about something else: none is a
# command, so any action is a false one. The corpus's office sentences have few of these, and
# the strict pass took made-up ones ("hang up your coat by the door" as "hang up the phone
# thank you"). Written for this check; no setting was chosen on them.
LED = (
    "hang up your coat by the door", "hang up the picture in the hallway",
    "answer the email from finance before lunch", "answer the questions on the survey",
    "answer the phone when it rings twice", "answer it honestly when they ask you",
    "pick up the kids from school at five", "pick up some milk on the way home",
    "pick up the parcel from the front desk", "take the bins out tonight",
    "take it easy this weekend", "take the stairs instead of the lift",
    "decline the meeting on friday afternoon", "decline the offer if the price goes up",
    "reject the invoice from the supplier", "ignore the noise from the street",
    "ignore it if the printer beeps again", "send it to the printer on the second floor",
    "send them to the front desk when they arrive", "put it on the shelf next to the window",
    "put the call notes in the shared folder", "hold my coffee for a second",
    "resume the slides from page four", "mute the television in the break room",
    "unmute the projector speakers before the demo", "repeat that joke at the party tonight",
    "say it again louder so everyone hears", "help me carry these boxes upstairs",
    "end the meeting five minutes early", "who is calling the caterers about lunch",
    "place the order before noon", "divert the traffic around the car park",
)
LED_PER_GROUP = 3


def led_cases(per_group: int = LED_PER_GROUP, seed: int = 41) -> list[Case]:
    """In every voice group: ``per_group`` of ``LED``, each said once."""
    return _not_commands(LED, per_group, seed)


# More of such talk, and talk with command words and device names in it, written later (5
# December) to choose settings on, so that LED stays a check no setting was chosen on.
LED_TUNING = (
    "hang up the laundry before it rains", "hang up the poster in the meeting room",
    "answer the door if the courier comes", "answer all the tickets in the queue",
    "answer my question about the budget", "pick up the pace a little",
    "pick up your badge from security", "pick up the dry cleaning on friday",
    "take the train to work tomorrow", "take a seat by the window",
    "take my laptop to the repair shop", "decline the invitation politely",
    "decline to comment on the rumours", "reject the pull request if the tests fail",
    "reject any package that looks damaged", "ignore the last email i sent you",
    "ignore the warnings in the build log", "send the report to my manager",
    "send it by courier tomorrow morning", "send them my regards",
    "put the kettle on please", "put it in the calendar for monday",
    "put the meeting on hold until next week", "hold the door for the delivery man",
    "hold on to the receipts for the audit", "resume the backup after lunch",
    "mute your microphone during the presentation", "unmute yourself when you want to speak",
    "repeat the experiment with fresh samples", "say hello to your sister for me",
    "help yourself to some cake in the kitchen", "end the sentence with a full stop",
    "who is the new manager in sales", "go to the shop and buy some bread",
    "cancel my dentist appointment for thursday", "cancel the subscription before it renews",
    "forward the invoice to accounts", "switch off the lights when you leave",
    "my desk phone has a crack in the screen", "the headset on my desk is broken",
    "the webex app keeps crashing on my computer", "the lobby phone needs new batteries",
    "i left my headset in the car", "can you lend me your headset for the call",
    "the computer in the meeting room is slow", "the call with the client went well",
    "i missed the call from my mother", "that was a long call this morning",
    "voicemail messages pile up when i am away", "the phone bill was higher this month",
    "she will call back after lunch", "put me down for two tickets",
    "take it from me it is a good book", "answer me this one riddle",
    "end of the day is fine for me", "hold still while i take the photo",
    "send an invite to the whole team", "take the elevator to the third floor",
    "pick one of the three options", "decline gracefully if you are busy",
    "ignore him he is just joking", "answer honestly on the form",
    "mute the group chat for an hour", "please take a number and wait",
)
LED_TUNING_PER_GROUP = 4  # and _not_commands' seed 77


def stream_for(case: Case, snr: float | None, seed: int,
               after_ms: int = AFTER_MS, room: str = "babble") -> tuple[bytes, float]:
    """The case in its room, and where the speech ends in it (ms)."""
    total = BEFORE_MS + len(case.speech) // 32 + after_ms
    noise = (bytes(total * 32) if snr is None else
             corpus.pink(total, seed) if room.startswith("pink") else
             corpus.white(total, seed) if room.startswith("white") else
             real_speech.babble(total, seed) if room.startswith("realbabble") else
             corpus.babble(total, seed, 3, case.group or None))
    pcm = corpus.mix(case.speech, noise, snr, BEFORE_MS)
    return pcm, BEFORE_MS + speech_end_ms(case.speech)


def replay(listener: Any, pcm: bytes, end_ms: float, rtf: float) -> dict[str, Any]:
    """Feed ``pcm`` frame by frame until a command is accepted. Two clocks: ``wall`` adds each
    feed's measured time, ``model`` charges each peek ``rtf`` x the audio it decodes (the same
    on any machine)."""
    peeks: list[dict[str, Any]] = []
    recognizer = listener.recognizer
    original = getattr(recognizer, "peek", None)  # the naive recogniser never peeks
    charge = 0.0

    def timed_peek(*args: Any) -> Any:
        nonlocal charge
        t0 = time.perf_counter()
        result = original(*args)
        charge += rtf * result.audio_ms
        peeks.append({"at_ms": fed, "quiet_ms": listener._quiet_ms,
                      "ms": (time.perf_counter() - t0) * 1000, "text": result.text,
                      "ok": result.accepted,
                      "rate": (result.details or {}).get("last_word_rate"),
                      "gap": round((result.details or {}).get("last_gap", -1), 1),
                      "start": (result.details or {}).get("last_start_ms"),
                      "unfinished": result.unfinished})
        return result

    if original is not None:
        recognizer.peek = timed_peek
    wall, model, fed, out = 0.0, 0.0, 0.0, None
    left: list[str] = []  # commands left unfinished (Transcript.left_unfinished)
    try:
        listener.reset()
        for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
            fed = (i // FRAME_BYTES + 1) * FRAME_MS
            wall, model, charge = max(wall, fed), max(model, fed), 0.0
            t0 = time.perf_counter()
            transcript = listener.feed(pcm[i : i + FRAME_BYTES])
            wall += (time.perf_counter() - t0) * 1000
            model += charge
            if transcript is not None and transcript.left_unfinished:
                left.append(transcript.left_unfinished)
            if transcript is not None and transcript.accepted:
                out = {"transcript": transcript, "commit_ms": fed - end_ms,
                       "wall_ms": wall - end_ms, "model_ms": model - end_ms}
                break
    finally:
        if original is not None:
            recognizer.peek = original
    result: dict[str, Any] = {"peeks": peeks, "asked": asks(listener, left), "left": left}
    if out is not None:
        result.update(out)
    return result


def asks(listener: Any, left: list[str]) -> int:
    """How many of ``left`` (commands left unfinished) the dialog answers with "Which device?"
    while a call rings: an answer left without its device (dialog ``_misunderstood``)."""
    language = getattr(listener, "language", None)
    return sum(1 for said in left
               if language is not None and language.device_intent(said) is Intent.ANSWER)


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)


def run(rooms: list[str], rtf: float, seeds: int = 1, holdout: bool = False,
        stress: bool = False, carried: bool = False) -> dict[str, Any]:
    engine = PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES),
                                recognition=Recognition.SPOT, noise_suppression=SUPPRESS,
                                gate=GATE)
    listener = spot_endpointing.SpottingListener(engine.recognizer(), SpeechSettings())
    rows, trials = [], []
    for room in rooms:
        counts = {"right": 0, "wrong": 0, "missed": 0, "missed_asked": 0}
        kinds = {kind: {"right": 0, "wrong": 0, "missed": 0}
                 for kind in ("hesitation", "plain", "carried")}
        commit, model, wall, decode, n_peeks = [], [], [], [], []
        chosen = (stress_cases() if stress else carried_cases() if carried else
                  holdout_cases() if holdout else cases())
        for seed, case in enumerate(chosen * seeds):
            pcm, end_ms = stream_for(case, ROOMS[room], seed, room=room)
            r = replay(listener, pcm, end_ms, rtf)
            t = r.get("transcript")
            got = (t.command.intent.value, t.command.device) if t and t.command else None
            outcome = ("missed" if t is None else
                       "right" if got == (case.intent, case.device) else "wrong")
            counts[outcome] += 1
            counts["missed_asked"] += outcome == "missed" and r["asked"] > 0
            kinds[case.kind or ("hesitation" if " .." in case.label else "plain")][outcome] += 1
            decode += [p["ms"] for p in r["peeks"]]
            n_peeks.append(len(r["peeks"]))
            if outcome == "right":
                commit.append(r["commit_ms"])
                model.append(r["model_ms"])
                wall.append(r["wall_ms"])
            line = {"room": room, "case": case.label, "outcome": outcome,
                    "heard": t.text if t else None, "asked": r["asked"],
                    "commit_ms": round(r.get("commit_ms", float("nan")), 1),
                    "model_ms": round(r.get("model_ms", float("nan")), 1),
                    "wall_ms": round(r.get("wall_ms", float("nan")), 1),
                    "peeks": [(round(p["quiet_ms"]), round(p["ms"]), p["text"], p["ok"], p["rate"],
                               p["gap"], p["start"], p["unfinished"]) for p in r["peeks"]]}
            trials.append(line)
            print(json.dumps(line), flush=True)
        row = {"room": room, **counts, "commit_ms_p50": percentile(commit, 50),
               "commit_ms_max": percentile(commit, 100), "model_ms_p50": percentile(model, 50),
               "model_ms_p95": percentile(model, 95), "wall_ms_p50": percentile(wall, 50),
               "wall_ms_p95": percentile(wall, 95), "decode_ms_p50": percentile(decode, 50),
               "peeks_mean": round(float(np.mean(n_peeks)), 2), "by_kind": kinds}
        rows.append(row)
    return {"rows": rows, "trials": trials}


def mode_listener(mode: str) -> Any:
    """The endpointer ``mode`` ([speech] recognition) uses, on a fresh PocketSphinx engine."""
    engine = PocketSphinxEngine(CommandLanguage.load("en", DEVICE_PHRASES),
                                recognition=Recognition(mode), noise_suppression=SUPPRESS,
                                gate=GATE if mode == Recognition.SPOT.value else None)
    return new_listener(engine.recognizer(), SpeechSettings())


def run_talk(rooms: list[str], modes: list[str], per_group: int = TALK_PER_GROUP,
             rtf: float = 0.1, cases: list[Case] | None = None) -> dict[str, Any]:
    """``talk_cases`` through each mode's endpointer in each room: every committed command is
    a false accept. After each sentence the room goes on for the longest utterance and a second
    more, so an utterance the talk started always ends (by a pause or by the hard limit)."""
    chosen = talk_cases(per_group) if cases is None else cases
    prompts = set(corpus.prompts())
    after_ms = int(SpeechSettings().max_utterance_seconds * 1000) + 1000
    rows, trials = [], []
    for mode in modes:
        listener = mode_listener(mode)
        for room in rooms:
            counts = {"office": [0, 0], "prompt": [0, 0]}  # [said, accepted]
            accepted, asked = [], []
            for seed, case in enumerate(chosen):
                pcm, _ = stream_for(case, ROOMS[room], seed, after_ms, room)
                r = replay(listener, pcm, 0.0, rtf)
                t = r.get("transcript")
                if r["asked"]:  # "Which device?" while a call rings: a question, not an action
                    asked.append(case.label)
                kind = "prompt" if case.label.rsplit(" [", 1)[0] in prompts else "office"
                counts[kind][0] += 1
                if t is not None:
                    counts[kind][1] += 1
                    accepted.append({"said": case.label, "heard": t.text})
                line = {"mode": mode, "room": room, "case": case.label,
                        "heard": t.text if t else None, "asked": r["asked"], "left": r["left"]}
                trials.append(line)
                print(json.dumps(line), flush=True)
            said = sum(n for n, _ in counts.values())
            wrong = sum(k for _, k in counts.values())
            rows.append({"mode": mode, "room": room, "said": said, "accepted": wrong,
                         "false_accept_rate": round(wrong / max(said, 1), 4),
                         "office": counts["office"], "prompts": counts["prompt"],
                         "asked_which_device": len(asked), "asked_examples": asked[:12],
                         "accepted_examples": accepted[:12]})
    return {"rows": rows, "trials": trials, "per_group": per_group}


REPLY_DEVICES = STRESS_DEVICES + ("the desk phone", "my headset", "the lobby phone")
REPLIES_PER_GROUP = 4


def reply_cases(per_group: int = REPLIES_PER_GROUP, seed: int = 21) -> list[Case]:
    """In every voice group: ``per_group`` device names said alone, as the reply to "Which
    device?" (``REPLY_DEVICES``)."""
    rng = np.random.default_rng(seed)
    groups = voice_groups()
    language = CommandLanguage.load("en", DEVICE_PHRASES)
    out = []
    for group, speakers in sorted(groups.items()):
        for _ in range(per_group):
            spk = speakers[int(rng.integers(len(speakers)))]
            said = REPLY_DEVICES[int(rng.integers(len(REPLY_DEVICES)))]
            out.append(Case(f"{said} [{spk.id}]", corpus.synthesize(spk, said), "_device",
                            language.parse_device_only(said), group))
    return out


def run_replies(rooms: list[str], rtf: float = 0.1) -> dict[str, Any]:
    """``reply_cases`` through the spot endpointer, as the dialog takes them while it asks
    "Which device?" (``dialog.ASKING_TAKES``): ``right`` (the device, or "answer on" it),
    ``wrong_device``, ``acted_other`` (a command the question takes: cancel, or one that only
    speaks), ``asked_again`` (another command, held: the question again; before ASKING_TAKES a
    call action was acted on; or a name of several devices, "phone": the question narrows),
    ``missed`` (nothing accepted: the question again);
    ``other_commands_heard``: every command the devices were heard as."""
    from assistant.cli.speech_cmds import DEFAULT_SCENARIO_ENDPOINTS
    from assistant.config import DevicesSettings
    from assistant.devices import DeviceDirectory
    from assistant.dialog import ASKING_TAKES

    directory = DeviceDirectory.build(DEFAULT_SCENARIO_ENDPOINTS, DevicesSettings().aliases)
    listener = mode_listener(Recognition.SPOT.value)
    chosen = reply_cases()
    rows, trials = [], []
    for room in rooms:
        counts = dict.fromkeys(("right", "wrong_device", "acted_other", "asked_again", "missed"), 0)
        heard_as: dict[str, int] = {}
        for seed, case in enumerate(chosen):
            pcm, end_ms = stream_for(case, ROOMS[room], seed, room=room)
            t = replay(listener, pcm, end_ms, rtf).get("transcript")
            command = None if t is None else t.command
            device = t.device_only if t is not None and command is None else None
            if command is not None and command.intent is Intent.ANSWER and command.device:
                device = command.device
            named = directory.resolve(device) if device is not None else None
            if t is None:
                outcome = "missed"
            elif named is not None and named.kind == "ambiguous":  # "phone": the question narrows
                outcome = "asked_again"
            elif named is not None:
                right = directory.resolve(case.device or "").endpoint
                outcome = "right" if named.endpoint == right else "wrong_device"
            else:
                assert command is not None
                intent = command.intent
                heard_as[intent.value] = heard_as.get(intent.value, 0) + 1
                outcome = ("acted_other" if intent in ASKING_TAKES and intent is not Intent.ANSWER
                           else "asked_again")
            counts[outcome] += 1
            line = {"room": room, "case": case.label, "outcome": outcome,
                    "heard": t.text if t else None}
            trials.append(line)
            print(json.dumps(line), flush=True)
        rows.append({"room": room, "said": len(chosen), **counts,
                     "other_commands_heard": heard_as})
    return {"rows": rows, "trials": trials, "per_group": REPLIES_PER_GROUP}


CONTINUOUS_COMMANDS = 40
CONTINUOUS_WINDOW_MS = 3000
CONTINUOUS_GAP_MS = (3000, 8000)


def continuous_stream(snr: float, seed: int, n: int = CONTINUOUS_COMMANDS, real: bool = False
                      ) -> tuple[bytes, list[tuple[float, float, Case]]]:
    """Babble (``corpus.babble``, seed ``seed``; ``real``: ``real_speech.babble``, real people's
    recordings) with ``n`` stress commands at random times,
    each ``snr`` dB above the babble's mean power (active speech power, as ``corpus.mix``);
    and (start ms, end of speech ms, case) per command."""
    rng = np.random.default_rng([seed, 29])
    chosen = [stress_cases()[int(i)] for i in rng.permutation(len(stress_cases()))[:n]]
    gaps = rng.integers(*CONTINUOUS_GAP_MS, len(chosen))
    total = int(sum(gaps) + sum(len(c.speech) // 32 for c in chosen)) + 8000
    noise = real_speech.babble(total, seed) if real else corpus.babble(total, seed, 3)
    y = np.frombuffer(noise, np.int16).astype(np.float64)
    power = float(np.mean(y**2))
    spans, at = [], 0
    for case, gap in zip(chosen, gaps, strict=True):
        at += int(gap) * 16
        speech = np.frombuffer(case.speech, np.int16).astype(np.float64)
        speech *= np.sqrt(power * 10 ** (snr / 10) / corpus._active_power(speech))
        y[at : at + len(speech)] += speech
        spans.append((at / 16, at / 16 + speech_end_ms(case.speech), case))
        at += len(speech)
    y *= min(1.0, 32000 / float(np.abs(y).max()))
    return np.round(y).astype(np.int16).tobytes(), spans


def run_continuous(rooms: list[str], modes: list[str], seeds: int,
                   first_seed: int = 3) -> dict[str, Any]:
    rows, trials = [], []
    for mode in modes:
        listener = mode_listener(mode)
        for room in rooms:
            snr = ROOMS[room]
            if snr is None:
                raise SystemExit("--continuous: a babble room (babble20, babble12, babble6, "
                                 "realbabble20, realbabble12, realbabble6)")
            counts = {"right": 0, "wrong": 0, "missed": 0, "false_actions": 0,
                      "device_only": 0, "asked_at_command": 0, "asked_in_talk": 0}
            cpu, audio_s, commit = 0.0, 0.0, []
            for seed in range(first_seed, first_seed + seeds):
                pcm, spans = continuous_stream(snr, seed, real=room.startswith("realbabble"))
                listener.reset()
                accepted = []
                start = time.process_time()
                for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
                    transcript = listener.feed(pcm[i : i + FRAME_BYTES])
                    if transcript is not None and transcript.accepted:
                        accepted.append(((i // FRAME_BYTES + 1) * FRAME_MS, transcript))
                    if transcript is not None and asks(listener, [transcript.left_unfinished]):
                        at = (i // FRAME_BYTES + 1) * FRAME_MS  # "Which device?" while ringing
                        near = any(s0 <= at <= end + CONTINUOUS_WINDOW_MS + spot_endpointing
                                   .JOIN_WITHIN_MS for s0, end, _ in spans)
                        counts["asked_at_command" if near else "asked_in_talk"] += 1
                cpu += time.process_time() - start
                audio_s += len(pcm) / 32000
                decided: set[int] = set()
                for at, t in accepted:
                    hit = next((k for k, (s0, end, _) in enumerate(spans)
                                if s0 <= at <= end + CONTINUOUS_WINDOW_MS), None)
                    if t.command is None:  # a bare device: a reply only when the assistant asked
                        counts["device_only"] += 1
                        trials.append({"mode": mode, "room": room, "seed": seed, "at_ms": at,
                                       "heard": t.text, "outcome": "device_only",
                                       "case": spans[hit][2].label if hit is not None else ""})
                        continue
                    if hit is None or hit in decided:
                        counts["false_actions"] += 1
                        kind = "false_actions"
                        trials.append({"mode": mode, "room": room, "seed": seed, "at_ms": at,
                                       "heard": t.text, "outcome": kind})
                        continue
                    decided.add(hit)
                    s0, end, case = spans[hit]
                    got = (t.command.intent.value, t.command.device) if t.command else None
                    outcome = "right" if got == (case.intent, case.device) else "wrong"
                    counts[outcome] += 1
                    if outcome == "right":
                        commit.append(at - end)
                    trials.append({"mode": mode, "room": room, "seed": seed, "at_ms": at,
                                   "case": case.label, "heard": t.text, "outcome": outcome})
                counts["missed"] += len(spans) - len(decided)
            rows.append({"mode": mode, "room": room, "commands": seeds * CONTINUOUS_COMMANDS,
                         **counts, "minutes": round(audio_s / 60, 1),
                         "cpu_per_audio_second": round(cpu / audio_s, 3),
                         "commit_ms_p50": percentile(commit, 50)})
            print(json.dumps(rows[-1]), flush=True)
    return {"rows": rows, "trials": trials}


def main() -> int:
    global SUPPRESS, GATE, STRESS_PAUSES, VOICES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdout", action="store_true",
                        help="hesitations in other voices (holdout_cases) instead of the cases")
    parser.add_argument("--stress", action="store_true",
                        help="hesitations and plain commands in every voice group "
                             "(stress_cases) instead of the cases")
    parser.add_argument("--carried", action="store_true",
                        help="commands in the person's own words, 3 per voice group "
                             "(carried_cases) instead of the cases")
    parser.add_argument("--talk", action="store_true",
                        help="talk that is not a command (talk_cases): count false accepts")
    parser.add_argument("--voices", choices=("corpus", "unseen"), default="corpus",
                        help="--stress, --carried, --talk, --negated: the corpus's voice groups, "
                             "or voices no setting was chosen on (MBROLA, Pico; "
                             "scripts/unseen-voices.sh installs them)")
    parser.add_argument("--case-seed", type=int, metavar="N",
                        help="other --stress and --talk cases than those the settings were chosen "
                             "on (held out; e.g. 12 for --stress, 17 for --talk)")
    parser.add_argument("--per-group", type=int, default=TALK_PER_GROUP, metavar="N",
                        help=f"--talk: office sentences per voice group (default {TALK_PER_GROUP})")
    parser.add_argument("--negated", action="store_true",
                        help="commands said with 'don't' (negated_cases): any action is false")
    parser.add_argument("--led", action="store_true",
                        help="talk that begins like a command (led_cases): any action is false")
    parser.add_argument("--led-tuning", action="store_true",
                        help="more such talk, and talk with command words and devices, to choose "
                             "settings on (LED_TUNING): any action is false")
    parser.add_argument("--replies", action="store_true",
                        help="device names said alone, as replies to 'Which device?'")
    parser.add_argument("--continuous", action="store_true",
                        help="commands at random times in minutes of babble (continuous_stream)")
    parser.add_argument("--mode", default="spot",
                        help="--talk, --continuous: recognition modes (spot,naive)")
    parser.add_argument("--rooms", default="quiet,babble12", help=",".join(ROOMS))
    parser.add_argument("--json", metavar="FILE", help="write the results here too")
    parser.add_argument("--rtf", type=float, default=0.1,
                        help="model clock: decode ms per ms of audio decoded (default 0.1)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="every case this many times, each with other babble")
    parser.add_argument("--first-seed", type=int, default=3,
                        help="--continuous: the first stream's seed (3 to 6 tuned the "
                             "endpointer; 7 and 8 are held out)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a constant of spot_endpointing, or of pocketsphinx with "
                             "'pocketsphinx.NAME' (to compare settings; VALUE is JSON)")
    parser.add_argument("--suppress", type=int, default=NOISE_SUPPRESSION, metavar="LEVEL",
                        help="[speech] noise_suppression of the recogniser (default: the "
                             f"assistant's, {NOISE_SUPPRESSION})")
    parser.add_argument("--gate", metavar="FILE",
                        help="spotting gate JSON (as bench/gate.py writes) instead of the shipped one")
    parser.add_argument("--pauses", metavar="MS,MS",
                        help="the hesitations' pauses of --stress and --continuous (default: "
                             + ",".join(map(str, STRESS_PAUSES)) + "); e.g. 1500,2000,2500,3000 "
                             "for pauses longer than an utterance is held open")
    args = parser.parse_args()
    SUPPRESS = args.suppress
    VOICES = args.voices
    if VOICES == "unseen" and not corpus.unseen_speakers():
        parser.error("no held-out voices installed: run scripts/unseen-voices.sh")
    if args.case_seed is not None:
        CASE_SEEDS.update(stress=args.case_seed, talk=args.case_seed)  # --carried: stress's
    if args.pauses:
        STRESS_PAUSES = tuple(int(ms) for ms in args.pauses.split(","))
    if args.gate:
        GATE = Gate.from_dict(json.loads(Path(args.gate).read_text(encoding="utf-8")))
    for item in args.set:
        name, value = item.split("=", 1)
        module = spot_endpointing
        if name.startswith("pocketsphinx."):  # e.g. pocketsphinx.STRICT_BEAMS={"beam": 1e-60, ...}
            module, name = pocketsphinx, name.removeprefix("pocketsphinx.")
        elif name.startswith("pocketsphinx_spot."):  # e.g. pocketsphinx_spot.WORD_FIT_BELOW=-1e9
            module, name = pocketsphinx_spot, name.removeprefix("pocketsphinx_spot.")
        if not hasattr(module, name):
            parser.error(f"{module.__name__} has no {name}")
        setattr(module, name, json.loads(value))
    if args.continuous:
        results = run_continuous(args.rooms.split(","), args.mode.split(","), args.seeds,
                                 args.first_seed)
    elif args.replies:
        results = run_replies(args.rooms.split(","), rtf=args.rtf)
    elif args.talk or args.negated or args.led or args.led_tuning:
        cases = (negated_cases() if args.negated else led_cases() if args.led
                 else _not_commands(LED_TUNING, LED_TUNING_PER_GROUP, 77) if args.led_tuning
                 else None)
        results = run_talk(args.rooms.split(","), args.mode.split(","), args.per_group,
                           rtf=args.rtf, cases=cases)
    else:
        results = run(args.rooms.split(","), args.rtf, args.seeds, args.holdout, args.stress,
                      args.carried)
    for row in results["rows"]:
        print(json.dumps(row))
    if args.json:
        Path(args.json).write_text(json.dumps(results, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
