"""The speech file used when there is no speaker: private, never through a link, bounded."""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixtures_audio import read_wav

from assistant.fallback_wav import HEADER_BYTES, RATE_HZ, SpeechFile, private_folder

SECRET = b"someone else's file\n"


def tone(seconds: float, value: int = 1000) -> np.ndarray:
    return np.full(int(seconds * RATE_HZ), value, dtype=np.int16)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def shared_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp folder standing in for /tmp, and no runtime folder."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    return temp


def test_default_file_is_in_the_runtime_folder_private_to_the_user(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o755)
    speech = SpeechFile.open("", {"XDG_RUNTIME_DIR": str(runtime)})
    speech.append(tone(0.1))
    speech.close()
    assert speech.path == runtime / "assistant" / "speech.wav"
    assert mode(speech.path.parent) == 0o700 and mode(speech.path) == 0o600
    samples, rate = read_wav(speech.path)
    assert rate == RATE_HZ and len(samples) == len(tone(0.1))


def test_without_a_runtime_folder_a_per_user_temp_folder_is_used(shared_temp: Path) -> None:
    folder = shared_temp / f"assistant-{os.getuid()}"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    assert private_folder({}) == folder
    assert mode(folder) == 0o700  # tightened


def test_a_link_planted_as_the_folder_is_never_used(shared_temp: Path) -> None:
    elsewhere = shared_temp / "attacker"
    elsewhere.mkdir()
    (shared_temp / f"assistant-{os.getuid()}").symlink_to(elsewhere)
    speech = SpeechFile.open("", {})
    speech.append(tone(0.1))
    speech.close()
    assert list(elsewhere.iterdir()) == []
    assert elsewhere not in speech.path.parents
    assert mode(speech.path.parent) == 0o700 and speech.path.parent.stat().st_uid == os.getuid()


def test_someone_elses_folder_is_never_used(
    shared_temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = shared_temp / f"assistant-{os.getuid()}"
    folder.mkdir(mode=0o777)
    if os.getuid() == 0:
        os.chown(folder, 65534, 65534)  # really someone else's
    else:  # without root the folder cannot be given away: the system reports another owner
        real_lstat = os.lstat

        def lstat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            st = real_lstat(path, *args, **kwargs)
            if Path(path) != folder:
                return st
            fields = list(st)
            fields[4] = fields[5] = 65534  # st_uid, st_gid
            return os.stat_result(fields)

        monkeypatch.setattr(os, "lstat", lstat)
    speech = SpeechFile.open("", {"XDG_RUNTIME_DIR": str(folder)})
    speech.append(tone(0.1))
    speech.close()
    assert list(folder.iterdir()) == [] and speech.path.parent != folder


def test_a_configured_file_that_is_a_link_is_not_followed(
    tmp_path: Path, shared_temp: Path, caplog: pytest.LogCaptureFixture
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(SECRET)
    planted = tmp_path / "speech.wav"
    planted.symlink_to(victim)
    with caplog.at_level(logging.ERROR, logger="assistant.fallback_wav"):
        speech = SpeechFile.open(str(planted), {})
    speech.append(tone(0.1))
    speech.close()
    assert victim.read_bytes() == SECRET and planted.is_symlink()
    assert speech.path.parent.parent == shared_temp
    assert str(planted) in caplog.text


def test_a_configured_file_with_a_second_name_is_not_used(tmp_path: Path, shared_temp: Path) -> None:
    victim = tmp_path / "victim.wav"
    victim.write_bytes(SECRET)
    os.link(victim, tmp_path / "speech.wav")
    speech = SpeechFile.open(str(tmp_path / "speech.wav"), {})
    speech.append(tone(0.1))
    speech.close()
    assert victim.read_bytes() == SECRET and speech.path.parent.parent == shared_temp


def test_appends_across_runs_and_restarts_a_file_that_is_not_its_wav(tmp_path: Path) -> None:
    out = tmp_path / "said.wav"
    out.write_bytes(b"not a wav at all")
    for value in (1000, 2000):
        speech = SpeechFile.open(str(out))
        speech.append(tone(0.2, value))
        speech.close()
    samples, _ = read_wav(out)
    assert list(np.unique(samples)) == [1000, 2000] and len(samples) == 2 * len(tone(0.2))


def test_size_is_bounded_and_each_sentence_costs_only_its_own_bytes(tmp_path: Path) -> None:
    """Before: the whole file was read and rewritten for every sentence (quadratic I/O),
    and it grew for ever."""
    out = tmp_path / "said.wav"
    speech = SpeechFile(out, max_seconds=1.0)
    chunk = tone(0.3)
    for n in range(20):
        speech.append(tone(0.3, 100 + n))
    speech.close()
    current, rate = read_wav(out)
    previous, _ = read_wav(speech.previous)
    assert len(current) <= RATE_HZ and len(previous) <= RATE_HZ  # at most a second each
    assert current[-1] == 119 and previous[-1] == current[0] - 1  # the latest sentences kept
    assert out.stat().st_size == HEADER_BYTES + 2 * len(current)
    sentence_bytes = 20 * chunk.nbytes
    assert speech.bytes_written <= sentence_bytes + 20 * 2 * HEADER_BYTES
