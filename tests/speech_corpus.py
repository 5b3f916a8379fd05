"""Varied synthetic speech for tuning and benchmarking the command recogniser (16 kHz).

The material imitates what the microphone at a desk hears, so that settings tuned on it carry
over to voices, microphones and noise it never saw:

- Voices: 58 speakers in 18 groups. 42 espeak-ng speakers (14 groups: 8 English accents x
  formant variants, each at 3 settings of pitch, rate and word gap), 11 flite and 5 festival
  speakers of the CMU voices kal, awb, rms and slt (F0 and duration varied). ``Speaker.group``
  names the underlying voice, for cross-validation that holds whole voices out; the CMU voices
  are grouped by person across engines (flite's and festival's slt are both ``cmu:slt``), and
  babble never uses the target's group.
- Sentences: the commands (every template form, every device), ordinary office sentences full
  of command words (they must be rejected), and the assistant's own prompts (it hears itself).
- Conditions: clean (a faint noise floor), pink and white noise, and office babble: 2-4 other
  voices talking in a reverberant room. The SNR is measured against the active speech.
- Augmentation: speed perturbation 0.9/1.0/1.1 (Kaldi style), room reverb, a microphone (desk:
  flat; headset: band-pass; laptop: thin, roomy, hum and hiss), a random speech level. About
  15 % of multi-word commands have a 300-700 ms pause between two words.

Each sentence is embedded in 0.6-2 s of its condition's noise before and 0.4-1.5 s after, so
there is talk (or a noise floor) around it, never digital silence. Everything is deterministic
per seed. Synthesis is cached in tests/.cache/corpus/ (keyed by the speaker's parameters, the
text and ``VERSION``), so a warm ``build()`` is mostly numpy.

    items = build(per_condition=TUNING_SET)  # ~1000 items: 6 conditions x (92 + 58 + 17)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from importlib import resources
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import numpy.typing as npt
from fixtures_speech import COMMANDS, DEVICE_PHRASES, OFF_DOMAIN

from assistant.audio_io import read_wav_16k, resample
from assistant.intents import CommandLanguage, normalize

log = logging.getLogger(__name__)

Signal = npt.NDArray[np.float64]
SAMPLE_RATE_HZ = 16000
VERSION = "corpus-v1"
CACHE_DIR = Path(__file__).parent / ".cache" / "corpus"
FAMILIES = ("espeak", "flite", "festival")
KINDS = ("command", "off_domain", "prompt")
CONDITIONS = ("clean", "pink20", "white12", "babble20", "babble12", "babble6")
MICS = ("desk", "headset", "laptop")  # microphone() also knows "phone" (telephone band, mu-law)
SPEECH_RMS = 3000.0  # active-speech RMS of synthesize() output
NOISE_RMS = 1500.0
_MS = SAMPLE_RATE_HZ // 1000
TUNING_SET = {"command": 92, "off_domain": 58, "prompt": 17}  # per condition: 55/35/10 %


@dataclass(frozen=True)
class Speaker:
    id: str
    family: str  # "espeak" | "flite" | "festival"; held out: "mbrola" | "pico"
    group: str  # the underlying voice: "espeak:en-us+m3", "cmu:slt"
    voice: str  # espeak "en-us+m3"; flite "slt"; festival "cmu_us_slt_arctic_hts"
    pitch: int = 0  # espeak -p (0-99); flite/festival target F0 mean in Hz; pico pitch level
    # (percent); 0: the voice's own
    wpm: int = 0  # espeak -s
    word_gap: int = 0  # espeak -g (10 ms units)
    stretch: float = 1.0  # flite/festival/pico duration stretch (> 1 is slower)


@dataclass(frozen=True)
class Item:
    pcm: bytes
    text: str  # what the target speaker says (plain words)
    kind: str  # "command" | "off_domain" | "prompt"
    intent: str | None
    device: str | None
    speaker: str
    group: str
    family: str
    condition: str
    mic: str
    start_ms: int
    end_ms: int
    pause_ms: int = 0


# --- speakers ---------------------------------------------------------------------------------

_ESPEAK_GROUPS = (
    "en-us+m3", "en-us+f2", "en-us+klatt", "en-us+m7", "en-us+f4", "en-us+Andy", "en-us-nyc+m1",
    "en-us-nyc+f5", "en-gb+f3", "en-gb-x-rp+m2", "en-gb-scotland+m4", "en-029+f1",
    "en-gb-x-gbclan+m5", "en-gb-x-gbcwmd+steph",
)
# family voice group F0-mean-Hz-or-0 duration-stretch
_CMU = """
flite kal cmu:kal 0 1.0; flite kal16 cmu:kal 95 0.9; flite kal16 cmu:kal 125 1.15
flite awb cmu:awb 0 1.0; flite awb cmu:awb 100 0.9; flite awb cmu:awb 130 1.2
flite rms cmu:rms 0 1.0; flite rms cmu:rms 0 0.85
flite slt cmu:slt 0 1.0; flite slt cmu:slt 150 1.1; flite slt cmu:slt 200 0.9
festival kal_diphone cmu:kal 0 1.0; festival kal_diphone cmu:kal 125 1.2
festival cmu_us_slt_arctic_hts cmu:slt 0 1.0; festival cmu_us_slt_arctic_hts cmu:slt 0 0.85
festival cmu_us_slt_arctic_hts cmu:slt 0 1.15
"""
_BINARIES = {"espeak": "espeak-ng", "flite": "flite", "festival": "text2wave"}

# Voices held out from everything: no setting, threshold or gate was ever chosen on them, and
# the corpus (speakers()) does not have them; only the bench asks for them (unseen_speakers()).
# MBROLA's diphone voices were recorded from four real people (espeak-ng drives them); SVOX
# Pico is a commercial unit-selection synthesizer. Debian ships them in contrib and non-free
# (scripts/unseen-voices.sh). family voice group pitch rate-or-stretch (mbrola: espeak -p -s)
_UNSEEN = """
mbrola mb-us1 mbrola:us1 50 160; mbrola mb-us1 mbrola:us1 70 135; mbrola mb-us1 mbrola:us1 35 185
mbrola mb-us2 mbrola:us2 50 160; mbrola mb-us2 mbrola:us2 30 140; mbrola mb-us2 mbrola:us2 65 180
mbrola mb-us3 mbrola:us3 50 160; mbrola mb-us3 mbrola:us3 40 135; mbrola mb-us3 mbrola:us3 60 190
mbrola mb-en1 mbrola:en1 50 160; mbrola mb-en1 mbrola:en1 35 145; mbrola mb-en1 mbrola:en1 65 175
pico en-US pico:en-US 100 1.0; pico en-US pico:en-US 85 1.2; pico en-US pico:en-US 115 0.85
pico en-GB pico:en-GB 100 1.0; pico en-GB pico:en-GB 115 1.2; pico en-GB pico:en-GB 90 0.85
"""
_UNSEEN_BINARIES = {"mbrola": "mbrola", "pico": "pico2wave"}


@lru_cache(maxsize=1)
def _all_speakers() -> tuple[Speaker, ...]:
    out = []
    for g, voice in enumerate(_ESPEAK_GROUPS):
        for k in range(3):  # pitch 30-70, 130-190 words a minute, word gap 0-50 ms
            p, s, gap = 30 + (7 * g + 15 * k) % 41, 130 + (11 * g + 23 * k) % 61, (g + 2 * k) % 6
            out.append(Speaker(f"espeak:{voice}:p{p}:s{s}:g{gap}", "espeak", f"espeak:{voice}",
                               voice, p, s, gap))
    for row in _CMU.replace("\n", ";").split(";"):
        if row.strip():
            family, voice, group, f0, stretch = row.split()
            out.append(Speaker(f"{family}:{voice}:f{f0}:d{float(stretch):g}", family, group,
                               voice, int(f0), stretch=float(stretch)))
    missing = {f for f, b in _BINARIES.items() if shutil.which(b) is None}
    for family in sorted(missing):
        log.warning("%s not found: no %s speakers", _BINARIES[family], family)
    return tuple(s for s in out if s.family not in missing)


def speakers(family: str | None = None) -> list[Speaker]:
    """The speakers whose engine is installed, in a fixed order (all families, or one)."""
    return [s for s in _all_speakers() if family in (None, s.family)]


def unseen_speakers() -> list[Speaker]:
    """The held-out voices (``_UNSEEN``) that are installed, in a fixed order; the MBROLA ones
    only for the voices whose database is there."""
    out = []
    for row in _UNSEEN.replace("\n", ";").split(";"):
        if not row.strip():
            continue
        family, voice, group, pitch, rate = row.split()
        if shutil.which(_UNSEEN_BINARIES[family]) is None:
            continue
        if family == "mbrola":
            if not Path("/usr/share/mbrola", voice.removeprefix("mb-")).exists():
                continue
            out.append(Speaker(f"{voice}:p{pitch}:s{rate}", family, group, voice, int(pitch),
                               int(rate)))
        else:
            out.append(Speaker(f"pico:{voice}:p{pitch}:d{float(rate):g}", family, group, voice,
                               int(pitch), stretch=float(rate)))
    return out


# --- synthesis --------------------------------------------------------------------------------

def _argv(spk: Speaker, wav: Path, text: str) -> list[str]:
    if spk.family in ("espeak", "mbrola"):
        return ["espeak-ng", "-v", spk.voice, "-p", str(spk.pitch), "-s", str(spk.wpm),
                "-g", str(spk.word_gap), "-w", str(wav), text]
    if spk.family == "flite":
        pitch = ["--setf", f"int_f0_target_mean={spk.pitch}"] if spk.pitch else []
        return ["flite", "-voice", spk.voice, "-o", str(wav),
                "--setf", f"duration_stretch={spk.stretch}", *pitch, "-t", text]
    if spk.family == "pico":
        marked = (f"<speed level='{round(100 / spk.stretch)}'><pitch level='{spk.pitch}'>"
                  f"{text}</pitch></speed>")
        return ["pico2wave", "-l", spk.voice, "-w", str(wav), marked]
    setup = [f"(voice_{spk.voice})", f"(Parameter.set 'Duration_Stretch {spk.stretch})"]
    if spk.voice.endswith("_hts"):  # HTS ignores Duration_Stretch: the engine's speech rate
        rate = f"'((\"-r\" {1 / spk.stretch:.3f}))"
        setup[1] = f"(set! hts_engine_params (append hts_engine_params {rate}))"
    elif spk.pitch:
        setup.append(f"(set! int_lr_params '((target_f0_mean {spk.pitch}) (target_f0_std 18)"
                     " (model_f0_mean 170) (model_f0_std 34)))")
    return ["text2wave", "-o", str(wav), *(a for e in setup for a in ("-eval", e))]


def synthesize(speaker: Speaker, text: str) -> bytes:
    """16 kHz mono int16 speech, trimmed, at an active RMS of ``SPEECH_RMS``; cached on disk."""
    key = hashlib.sha256(json.dumps([VERSION, asdict(speaker), text]).encode()).hexdigest()
    path = CACHE_DIR / f"{key[:32]}.pcm"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    with tempfile.TemporaryDirectory(prefix="corpus-") as tmp:
        wav = Path(tmp) / "out.wav"
        stdin = text.encode() if speaker.family == "festival" else None
        subprocess.run(_argv(speaker, wav, text), input=stdin, check=True, capture_output=True,
                       timeout=120)
        x = _f(read_wav_16k(wav))
    pcm = _pcm(_level(_trim(x), SPEECH_RMS))
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(f".{os.getpid()}.part")
    part.write_bytes(pcm)
    os.replace(part, path)  # atomic: readers see all of it or nothing
    return pcm


# --- signal helpers ---------------------------------------------------------------------------

def _f(pcm: bytes) -> Signal:
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float64)


def _pcm(x: Signal) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()


def _rms(x: Signal) -> float:
    return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0


def _frame_power(x: Signal, frame_ms: int) -> Signal:
    n = frame_ms * _MS
    frames = x[: len(x) // n * n].reshape(-1, n) if len(x) >= n else x.reshape(1, -1)
    return np.asarray(np.mean(frames**2, axis=1), dtype=np.float64)


def _active_power(x: Signal) -> float:
    """Mean power of the 20 ms frames within 35 dB of the loudest one."""
    p = _frame_power(x, 20) if len(x) else np.zeros(1)
    return float(np.mean(p[p > p.max() * 10**-3.5])) if p.max() > 0 else 0.0


def _trim(x: Signal) -> Signal:
    """Without the leading and trailing silence (10 ms frames 50 dB below the peak frame)."""
    p = _frame_power(x, 10)
    on = np.flatnonzero(p > p.max() * 1e-5)
    if not len(on):
        return x
    return x[max(on[0] - 1, 0) * 10 * _MS: (on[-1] + 2) * 10 * _MS]


def _level(x: Signal, rms: float) -> Signal:
    y = x * rms / max(float(np.sqrt(_active_power(x))), 1e-9)
    peak = float(np.abs(y).max(initial=0.0))
    return y * 30000 / peak if peak > 30000 else y


def _scaled(x: Signal, rms: float) -> Signal:
    return x * rms / max(_rms(x), 1e-9)


def _band(x: Signal, lo_hz: float, hi_hz: float, order: int) -> Signal:
    """Zero-phase Butterworth-shaped band-pass (magnitude only, applied in the FFT domain)."""
    f = np.maximum(np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE_HZ), 1e-3)
    gain = 1 / np.sqrt((1 + (lo_hz / f) ** (2 * order)) * (1 + (f / hi_hz) ** (2 * order)))
    return np.fft.irfft(np.fft.rfft(x) * gain, len(x))


def _reverb(x: Signal, rt60_s: float, rng: np.random.Generator, drr_db: float) -> Signal:
    """``x`` in a room: direct sound, 6 early reflections (2-30 ms), an exponential diffuse tail
    (-60 dB after ``rt60_s``) ``drr_db`` below the direct sound. Same length and RMS."""
    n = max(int(rt60_s * SAMPLE_RATE_HZ), 160)
    tail = rng.normal(size=n) * np.exp(-6.9 * np.arange(n) / (rt60_s * SAMPLE_RATE_HZ))
    tail[: 5 * _MS] = 0
    tail = np.convolve(tail, [0.25, 0.5, 0.25], "same")  # air absorption: a duller tail
    h = tail * np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    for _ in range(6):
        h[rng.integers(2 * _MS, 30 * _MS)] += rng.uniform(0.15, 0.5) * rng.choice([-1.0, 1.0])
    h[0] += 1.0
    nfft = 1 << int(np.ceil(np.log2(len(x) + n)))
    y = np.fft.irfft(np.fft.rfft(x, nfft) * np.fft.rfft(h, nfft), nfft)[: len(x)]
    return y * _rms(x) / max(_rms(y), 1e-9)


# --- public signal API ------------------------------------------------------------------------

def pink(duration_ms: int, seed: int) -> bytes:
    """Pink (1/f power) noise above 20 Hz, RMS ``NOISE_RMS``."""
    n = duration_ms * _MS
    rng = np.random.default_rng([seed, 1])
    spec = rng.normal(size=n // 2 + 1) + 1j * rng.normal(size=n // 2 + 1)
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE_HZ)
    spec *= np.where(f >= 20, 1 / np.sqrt(np.maximum(f, 1.0)), 0.0)
    return _pcm(_scaled(np.fft.irfft(spec, n), NOISE_RMS))


def white(duration_ms: int, seed: int) -> bytes:
    return _pcm(np.random.default_rng([seed, 2]).normal(0, NOISE_RMS, duration_ms * _MS))


def reverb(pcm: bytes, rt60_s: float, seed: int) -> bytes:
    """A synthetic room (see ``_reverb``; direct-to-reverberant ratio -2..6 dB), same level."""
    rng = np.random.default_rng([seed, 3])
    return _pcm(_reverb(_f(pcm), rt60_s, rng, rng.uniform(-2, 6)))


def speed(pcm: bytes, factor: float) -> bytes:
    """Speed perturbation by resampling: tempo and pitch both scale by ``factor``."""
    if factor == 1.0:
        return pcm
    return resample(_f(pcm), round(SAMPLE_RATE_HZ * factor)).tobytes()


def microphone(pcm: bytes, kind: str, seed: int) -> bytes:
    """The signal as picked up by a microphone: desk (flat), headset (100-7000 Hz band-pass),
    laptop (room rt60 0.3-0.5 s, 250-6000 Hz, mains hum and hiss), phone (300-3400 Hz, mu-law)."""
    rng = np.random.default_rng([seed, 4])
    x = _f(pcm)
    if kind == "desk":
        return pcm
    if kind == "headset":
        y = _band(x, rng.uniform(80, 120), rng.uniform(6500, 7300), 2)
    elif kind == "laptop":
        y = _reverb(x, rng.uniform(0.3, 0.5), rng, rng.uniform(0, 6))
        y = _band(y, rng.uniform(220, 280), rng.uniform(5500, 6500), 3)
        t = np.arange(len(y)) / SAMPLE_RATE_HZ
        mains, phase = rng.choice([50.0, 60.0]), rng.uniform(0, 2 * np.pi)
        hum = sum(a * np.sin(2 * np.pi * mains * k * t + phase) for k, a in ((1, 1), (2, .5)))
        y = y + rng.uniform(5, 15) * hum + rng.normal(0, rng.uniform(6, 15), len(y))
    elif kind == "phone":
        y = _band(x, 300, 3400, 4) / 32768
        mu = np.round(np.sign(y) * np.log1p(255 * np.abs(y)) / np.log1p(255) * 127) / 127
        y = np.sign(mu) * np.expm1(np.abs(mu) * np.log1p(255)) / 255 * 32768
    else:
        raise ValueError(f"unknown microphone {kind!r} (have: {', '.join(MICS)}, phone)")
    return _pcm(y)


def _mix(speech: Signal, noise: Signal, snr_db: float | None, offset: int,
         rng: np.random.Generator) -> Signal:
    if offset < 0 or offset + len(speech) > len(noise):
        raise ValueError("the speech does not fit in the noise at that offset")
    y = np.zeros(len(noise))
    y[offset: offset + len(speech)] = speech
    if snr_db is None:
        y += rng.normal(0, 8, len(y))
    else:
        target = _active_power(speech) / 10 ** (snr_db / 10)
        y += noise * np.sqrt(target / max(float(np.mean(noise**2)), 1e-9))
    peak = float(np.abs(y).max(initial=0.0))
    return y * 32000 / peak if peak > 32000 else y  # scaling both keeps the SNR


def mix(speech: bytes, noise: bytes, snr_db: float | None, offset_ms: int = 0) -> bytes:
    """``speech`` at ``offset_ms`` in ``noise`` (which sets the length), the noise scaled to
    ``snr_db`` below the active speech power; None: a faint noise floor instead of the noise."""
    rng = np.random.default_rng([zlib.crc32(speech), len(noise)])
    return _pcm(_mix(_f(speech), _f(noise), snr_db, offset_ms * _MS, rng))


# --- babble -----------------------------------------------------------------------------------

@cache
def _bank(spk: Speaker) -> tuple[str, ...]:
    """The 12 office sentences this speaker says as babble (a fixed set: the cache stays small)."""
    sentences = off_domain()
    rng = np.random.default_rng(zlib.crc32(spk.id.encode()))
    return tuple(sentences[i] for i in sorted(rng.choice(len(sentences), 12, replace=False)))


def _talk(spk: Speaker, n: int, rng: np.random.Generator) -> Signal:
    """``n`` samples of one talker: sentences with 0.15-0.8 s gaps (sometimes 1-2.5 s), entered
    at a random point, so the talker may be mid-sentence when the clip starts."""
    bank, start = _bank(spk), int(rng.uniform(0, 1.5) * SAMPLE_RATE_HZ)
    order, pieces, total = rng.permutation(len(bank)), list[Signal](), 0
    while total < n + start:
        said = _f(synthesize(spk, bank[order[len(pieces) // 2 % len(bank)]]))
        gap = rng.uniform(0.15, 0.8) if rng.random() > 0.2 else rng.uniform(1.0, 2.5)
        pieces += [said, np.zeros(int(gap * SAMPLE_RATE_HZ))]
        total += len(said) + len(pieces[-1])
    return np.concatenate(pieces)[start: start + n]


def _talkers(n: int, exclude_group: str | None, rng: np.random.Generator) -> list[Speaker]:
    """``n`` speakers of different voices, not all of one family when there is a choice."""
    pool = [s for s in speakers() if s.group != exclude_group]
    chosen: list[Speaker] = []
    for i in rng.permutation(len(pool)):
        if pool[i].group not in {s.group for s in chosen}:
            chosen.append(pool[i])
    chosen = chosen[:n] or pool[:n]
    families = {s.family for s in pool}
    if len(chosen) > 1 and len({s.family for s in chosen}) == 1 < len(families):
        other = [s for s in pool if s.family != chosen[0].family
                 and s.group not in {c.group for c in chosen[:-1]}]
        chosen[-1] = other[int(rng.integers(len(other)))] if other else chosen[-1]
    return chosen


def babble(
    duration_ms: int, seed: int, talkers: int = 3, exclude_group: str | None = None
) -> bytes:
    """Office babble: ``talkers`` voices (not ``exclude_group``) saying office sentences in one
    room (rt60 0.3-0.7 s, each farther than the target), levels within +-4 dB, RMS ``NOISE_RMS``."""
    rng = np.random.default_rng([seed, 5])
    n, rt60 = duration_ms * _MS, rng.uniform(0.3, 0.7)
    out = np.zeros(n)
    for spk in _talkers(talkers, exclude_group, rng):
        voice = _reverb(_talk(spk, n, rng), rt60, rng, rng.uniform(-6, 2))
        out += voice * 10 ** (rng.uniform(-4, 4) / 20)
    return _pcm(_scaled(out, NOISE_RMS))


# --- sentences --------------------------------------------------------------------------------

# More phrasings the templates accept (COMMANDS from fixtures_speech come first).
_EXTRA_COMMANDS = """
answer: please answer | answer it | answer the phone | pick up the call | please pick up the phone
answer: take the call | take it | please take the call
answer@headset: please answer on my headset | answer the call using my headset
answer@desk phone: answer it using the desk phone | take it on my desk phone
answer@computer: pick up the call using my computer
answer@webex app: answer using the webex app
answer@lobby phone: take the call on the lobby phone
answer@phone: answer on my phone
answer@app: answer it on the app
answer@cisco seventy eight forty one: pick up on cisco seventy eight forty one
answer@reception phone: please take it on the reception phone
decline: decline it | please decline the call | reject | reject it | do not answer
decline: do not answer the call
ignore: ignore | ignore it | please ignore the call | let it ring
voicemail: send the call to voicemail | divert it to voicemail | send them to voicemail | voicemail
voicemail: go to voicemail | please send the call to voicemail
hangup: hang up the call | please hang up | end the call
hold: hold | hold the call | place the call on hold | put it on hold
resume: resume | resume it | take the call off hold | take it off hold
mute: mute the call | mute me | mute my microphone
unmute: unmute me | unmute my microphone
who: who is it | who is on the line | who is calling me
devices: list my devices | what are my devices
repeat: repeat | say that again
help: help | help me
cancel: cancel that | never mind
sleep: go to sleep
wake: wake up
"""

# Office talk, ";"-separated; most of it with command words in it.
_OFFICE = """
can you answer the question about the budget; nobody answered the door this morning; i will call the
client after lunch; she is on a call with the bank; please call me when you land; the conference
call was moved to three; i missed your call yesterday; my phone is almost dead; we had a long call
with the vendor; i left my phone in the car; the phone bill went up again; can i borrow your phone
charger; where did you buy that headset; this headset hurts my ears; the new headsets arrived on
monday; my desk is next to the window; i booked a desk for thursday; the standing desk is broken
again; someone took my desk chair; hold the elevator please; can you hold my coffee for a second; we
will hold the meeting in room four; the shop put my order on hold for a week; they declined the
invitation to dinner; my card was declined at the cafe; sales declined a little in the third
quarter; the microphone was muted the whole time; you were on mute for the first five minutes; i
muted that group chat last week; i always forget to check my voicemail; he left a long voicemail
about the invoice; the voicemail box is full again; can you pick up some milk on the way home; we
need to pick up the pace this quarter; i will pick up the parcel from reception; hang your coat on
the hook by the door; we should hang the new poster in the hallway; let us hang out after work on
friday; the committee rejected the proposal; my pull request was rejected twice; the printer keeps
rejecting my badge; they cancelled the train to london; the meeting was cancelled at the last
minute; did you cancel the lunch order; could you repeat the question at the end; the same error
repeats every morning; thanks for your help with the slides; can you help me move this table; the
help desk opens at eight; i was not listening during the presentation; are you listening to the new
podcast; he keeps listening to the same song; all our devices need an update by friday; the security
team scans every device on the network; my computer restarted during the update; the computer in
room two is very slow; the new app keeps crashing on my tablet; download the app from the company
portal; the webex meeting starts in ten minutes; send me the webex link for the review; i joined the
webex session from home; leave the parcel at reception; the reception area is being painted; the
visitors are waiting in the lobby; there is a coffee cart in the lobby today; the lobby doors are
locked after six; just ignore the noise from the building site; i tried to ignore that email all
week; we will resume the workshop after the break; the builders resume work on monday; please take a
seat in the meeting room; take the stairs because the lift is broken; it will take about two weeks;
who is calling the shots on this project; what is the answer to question five; let me call the help
desk about the printer; i put my phone on silent during meetings; her phone keeps ringing in the
meeting room; the desk phone in room three is not working; can you take notes during the call; i
will answer all the questions after the demo; the computer says my password expired; the app asks
for my phone number every time; my headset and my phone are both charging; i was on hold with the
airline for an hour; they put me on hold three times; reception said the lobby is closed today;
please do not call after nine in the evening; i hung the picture in the kitchen; the answer is in
the shared folder; let me hold onto the receipt for now; he declined to comment on the rumours;
could you mute the television in the break room; the webex app updated itself overnight; my laptop
and my desk phone are on different networks; i will take the early train tomorrow; take your time
with the report; the call centre is hiring again; the devices in the lab are labelled now; the
voicemail greeting still has my old name; reject any invoice without an order number; cancel my
subscription to that magazine; help yourself to the cookies in the kitchen; the kids are listening
to music upstairs; ignore the first slide because it is out of date; resume the video from where we
stopped; answer me honestly do you like the logo; let us call it a day and go home; the phone lines
are down in the east wing; put the headset back in the drawer; is this your desk or is it a shared
one; hold that thought for a minute; hang in there the week is almost over; the lobby phone rings
but nobody picks up; can you answer the phone at reception while i am out; call reception and ask
for a taxi; i need help with my computer; the app on my phone logs me out every day; take the call
in the quiet room if you need to; i will call you from my desk phone later; let me know when you are
done with the call; my headset microphone picks up everything; the call dropped twice this morning;
our phone system is being replaced next month; the answer came back faster than expected; who
answers the phone when reception is closed; i think the headset is paired with the wrong computer;
mute your phone in the cinema; we are still waiting for an answer from legal; the hold music is
driving me crazy; the coffee machine is broken again; lunch is at half past twelve today; could you
send me the slides; the budget review is next tuesday; i will be working from home on friday; the
parking lot is full this morning; who wants tea; we need more chairs in the big room; the heating is
not working on the third floor; the quarterly numbers look good; have a nice weekend; see you
tomorrow; i am going to grab a sandwich; the printer is out of paper; the new intern starts on
monday; let us book a room for the workshop; i sent you the invoice yesterday; the client liked the
proposal; there is cake in the kitchen; my flight was delayed two hours; can we move the meeting to
four; the wifi is really slow today; i need a new keyboard; the fire drill is at eleven; please sign
the birthday card; our team won the quiz last night; the elevator is out of order; i think it will
rain this afternoon; the report needs one more review; we should hire another designer; do you know
where the stapler is; the server room is too warm; i will share my screen in a moment; the
spreadsheet has a formula error; the kitchen sink is blocked; let us grab lunch at the new place;
the contract expires next month; she is on holiday until the twentieth; the window in my office does
not close; he moved to the marketing team; the plants need water; the training session was really
useful; i lost my badge somewhere; can you approve my expenses; the deadline moved to next week; the
cleaning crew comes at seven; my monitor flickers every few minutes; the draft looks much better
now; the bus was packed this morning; let me check my calendar; the team photo is on friday; i
prefer the blue version of the logo; the customer wants a discount; there is a leak in the ceiling;
i have a dentist appointment at three; the new policy starts in january; the survey closes tomorrow
night; what did you think of the keynote; the coffee here is surprisingly good; the numbers do not
add up; the office will be closed on monday; send the minutes to everyone; the project kickoff went
well; i will be ten minutes late; where are the spare batteries; the blinds are stuck halfway; it is
freezing in this room; we should celebrate the launch; the auditor arrives on wednesday; the
whiteboard markers are all dry; please close the door when you leave; the courier is downstairs;
that was a great presentation
"""
COMMAND_WORDS = (
    "answer", "call", "phone", "headset", "desk", "hold", "decline", "mute", "voicemail",
    "pick up", "hang", "reject", "cancel", "repeat", "help", "listening", "devices", "computer",
    "app", "webex", "reception", "lobby", "ignore", "resume", "take",
)


@lru_cache(maxsize=1)
def _language() -> CommandLanguage:
    return CommandLanguage.load("en", DEVICE_PHRASES)


def _labelled(spec: str) -> list[tuple[str, str, str | None]]:
    """"intent[@device]: sentence | sentence" lines -> (sentence, intent, device)."""
    out = []
    for line in spec.strip().splitlines():
        label, _, sentences = line.partition(":")
        intent, _, device = label.partition("@")
        out += [(s.strip(), intent, device or None) for s in sentences.split("|")]
    return out


EXTRA_COMMANDS = _labelled(_EXTRA_COMMANDS)


@lru_cache(maxsize=1)
def _commands() -> tuple[tuple[str, str, str | None], ...]:
    kept = []
    for text, intent, device in dict.fromkeys([*COMMANDS, *EXTRA_COMMANDS]):
        command = _language().parse(text)
        if command and (command.intent.value, command.device) == (intent, device):
            kept.append((text, intent, device))
        else:
            log.warning("dropped command %r: it parses as %s", text, command)
    return tuple(kept)


def commands() -> list[tuple[str, str, str | None]]:
    """(sentence, intent, device phrase) for every command phrasing that parses as labelled."""
    return list(_commands())


@lru_cache(maxsize=1)
def _off_domain() -> tuple[str, ...]:
    raw = [normalize(s) for s in _OFFICE.split(";")]
    kept = []
    for text in dict.fromkeys([*OFF_DOMAIN, *raw]):
        if _language().parse(text) or _language().parse_device_only(text):
            log.warning("dropped off-domain sentence %r: it parses", text)
        else:
            kept.append(text)
    return tuple(kept)


def off_domain() -> list[str]:
    """Office sentences that are not commands, most of them with command words in them."""
    return list(_off_domain())


_SAMPLES = {"waiting": "two", "devices": "headset, desk phone, and webex app",
            "phrase": "kitchen phone", "seconds": "ninety", "status": "four eighteen",
            "detail": "the call is already connected.", "done": "answered"}
_CALLERS = ("Dana Smith", "Raj Patel", "Maria Garcia", "Li Wei", "Sam Okafor", "Anna Novak")


class _Sample(dict[str, str]):
    """Sample values; a placeholder added to the catalogue later still gets one ("three")."""

    def __missing__(self, key: str) -> str:
        return "three"


@lru_cache(maxsize=1)
def _prompts() -> tuple[tuple[str, str], ...]:
    """(spoken with punctuation, plain words) for every message, with sample values."""
    out: list[tuple[str, str]] = []
    for name in ("messages.toml", "failures.toml"):
        catalogue = tomllib.loads((resources.files("assistant") / "data" / name).read_text())
        for section in catalogue.values():
            for template in section.values():
                values = {**_SAMPLES, "caller": _CALLERS[len(out) % len(_CALLERS)],
                          "device": DEVICE_PHRASES[len(out) % len(DEVICE_PHRASES)]}
                spoken = str(template).format_map(_Sample(values)).replace("_", " ")
                out.append((spoken, normalize(spoken.replace("-", " "))))
    return tuple(out)


def prompts() -> list[str]:
    """The assistant's own sentences (messages.toml and failures.toml), as plain words."""
    return [plain for _, plain in _prompts()]


# --- the corpus -------------------------------------------------------------------------------

def condition_names() -> list[str]:
    return list(CONDITIONS)


def _condition(name: str) -> tuple[str, float | None]:
    """"babble12" -> ("babble", 12.0); "clean" -> ("clean", None)."""
    m = re.fullmatch(r"(clean|pink|white|babble)(-?\d+(?:\.\d+)?)?", name)
    if not m or (m[1] == "clean") != (m[2] is None):
        raise ValueError(f"unknown condition {name!r} (e.g. clean, pink20, white12, babble6)")
    return m[1], None if m[2] is None else float(m[2])


Target = tuple[str, str, str | None, str | None]  # (spoken, text, intent, device)
_Job = tuple[str, Target, Speaker, str, int]  # (kind, target, speaker, condition, seed)


def _targets(kind: str) -> list[Target]:
    if kind == "command":
        return [(s, s, i, d) for s, i, d in commands()]
    if kind == "off_domain":
        return [(s, s, None, None) for s in off_domain()]
    if kind == "prompt":
        return [(spoken, plain, None, None) for spoken, plain in _prompts()]
    raise ValueError(f"unknown kind {kind!r} (have: {', '.join(KINDS)})")


def _render(job: _Job) -> Item:
    """One item; every random choice comes from the job's seed."""
    kind, (spoken, text, intent, device), spk, condition, seed = job
    rng = np.random.default_rng(seed)
    words, parts, pause_ms = spoken.split(), [spoken], 0
    if kind == "command" and len(words) > 1 and rng.random() < 0.15:
        cut, pause_ms = int(rng.integers(1, len(words))), int(rng.integers(300, 701))
        parts = [" ".join(words[:cut]), " ".join(words[cut:])]
    clips = [_f(synthesize(spk, part)) for part in parts]
    x = np.concatenate([clips[0], np.zeros(pause_ms * _MS), *clips[1:]])
    x = _f(speed(_pcm(x), float(rng.choice([0.9, 1.0, 1.0, 1.1]))))
    speech_ms = -(-len(x) // _MS)
    mic = MICS[int(rng.choice(len(MICS), p=[0.4, 0.3, 0.3]))]
    if mic == "desk" and rng.random() < 0.5:  # a room; its tail rings on after the speech
        x = _reverb(np.concatenate([x, np.zeros(300 * _MS)]), rng.uniform(0.25, 0.6), rng,
                    rng.uniform(-2, 6))
    x *= 10 ** (rng.uniform(-10, 2) / 20)
    pre_ms = int(rng.integers(600, 2001))
    total_ms = pre_ms + speech_ms + int(rng.integers(400, 1501))
    noise_kind, snr_db = _condition(condition)
    if noise_kind == "babble":
        noise = babble(total_ms, seed, int(rng.integers(2, 5)), spk.group)
    elif noise_kind in ("pink", "white"):
        noise = (pink if noise_kind == "pink" else white)(total_ms, seed)
    else:
        noise = bytes(total_ms * _MS * 2)  # ignored: clean speech gets a faint floor
    y = _pcm(_mix(x, _f(noise), snr_db, pre_ms * _MS, rng))
    return Item(microphone(y, mic, seed), text, kind, intent, device, spk.id, spk.group,
                spk.family, condition, mic, pre_ms, pre_ms + speech_ms, pause_ms)


def build(kinds: tuple[str, ...] = KINDS, conditions: tuple[str, ...] = CONDITIONS,
          families: tuple[str, ...] | None = None,
          per_condition: int | Mapping[str, int] | None = None, seed: int = 0,
          workers: int = 2, voices: list[Speaker] | None = None) -> list[Item]:
    """Items for every (kind, condition): each sentence of the kind once, or ``per_condition``
    of them (an int, or one per kind) sampled without repeats until all were used. Speakers
    rotate through a shuffled ``speakers()`` of ``families`` (``voices`` instead, when given:
    ``unseen_speakers()``). The draws for a (kind, condition) depend only on ``seed``, the
    kind and the condition, not on the other ones."""
    pool = [s for s in (speakers() if voices is None else voices)
            if families is None or s.family in families]
    if not pool:
        raise ValueError(f"no speakers for families {families}")
    jobs: list[_Job] = []
    for kind in kinds:
        targets = _targets(kind)
        n = per_condition.get(kind) if isinstance(per_condition, Mapping) else per_condition
        for condition in conditions:
            _condition(condition)
            rng = np.random.default_rng([seed, zlib.crc32(kind.encode()),
                                         zlib.crc32(condition.encode())])
            order = [int(i) for i in rng.permutation(len(targets))] if n is not None else []
            while n is not None and len(order) < n:
                order += [int(i) for i in rng.permutation(len(targets))]
            chosen = order[:n] if n is not None else list(range(len(targets)))
            voices = [pool[int(i)] for i in rng.permutation(len(pool))]
            jobs += [(kind, targets[t], voices[j % len(voices)], condition,
                      int(rng.integers(2**31))) for j, t in enumerate(chosen)]
    if workers <= 1:
        return [_render(job) for job in jobs]
    with get_context("fork").Pool(workers) as processes:
        return processes.map(_render, jobs, chunksize=4)
