"""``assistant transcribe``: one JSON line per file, devices resolved against the emulator's
endpoints, unreadable files reported without stopping the others."""

from __future__ import annotations

import json
import struct
import tracemalloc
import wave
from pathlib import Path

import numpy as np
import pytest
from fixtures_speech import synthesize

from assistant.audio_io import WavFile, write_wav
from assistant.cli import main
from assistant.webex.emulator import Emulator


@pytest.fixture
def wavs(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("answer_on_the_reception_phone", "answer on the reception phone"),
                       ("oov_my_headset_battery_is_low", "my headset battery is low")):
        path = tmp_path / f"{name}.wav"
        write_wav(path, synthesize(text))
        out[name] = path
    (tmp_path / "empty.wav").write_bytes(b"")
    out["empty"] = tmp_path / "empty.wav"
    return out


def test_transcribe_json_lines(
    emulator: Emulator, wavs: dict[str, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("WEBEX_ACCESS_TOKEN", emulator.token)
    files = [str(wavs["answer_on_the_reception_phone"]), str(wavs["empty"]),
             str(wavs["oov_my_headset_battery_is_low"])]
    code = main(["--webex-url", emulator.url, "transcribe", "--engine", "pocketsphinx",
                 "--json", *files])
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1  # the empty file failed
    assert [r["file"] for r in rows] == files
    answer, empty, oov = rows
    assert answer["intent"] == "answer" and answer["accepted"] is True
    assert answer["device"] == "Cisco 8865 (Phone in reception area)"
    assert {"text", "decode_ms", "audio_ms"} <= set(answer)
    assert answer["audio_ms"] > 1000
    assert "empty" in empty["error"] and "empty.wav" in captured.err
    assert oov["accepted"] is False and oov["intent"] is None and oov["device"] is None
    assert any(r["path"].endswith("/availablePreferredAnswerEndpoints") for r in emulator.requests())


def test_transcribe_korean_with_vosk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("WEBEX_ACCESS_TOKEN", raising=False)
    path = tmp_path / "headset.wav"
    write_wav(path, synthesize("헤드셋 으로 받아", "ko", 140))
    code = main(["transcribe", "--engine", "vosk", "--language", "ko", str(path)])
    row = json.loads(capsys.readouterr().out)
    assert code == 0
    assert row["intent"] == "answer" and row["device"] == "Webex Desktop Application"


def _wav_bytes(rate: int, channels: int, width: int, data: bytes) -> bytes:
    """A WAV file by hand, so the header can say what no writer would (0 Hz, 0 channels)."""
    fmt = struct.pack("<HHLLHH", 1, channels, rate, (rate * channels * width) % 2**32, channels * width,
                      width * 8)
    body = b"WAVE" + b"fmt " + struct.pack("<L", len(fmt)) + fmt
    body += b"data" + struct.pack("<L", len(data)) + data
    return b"RIFF" + struct.pack("<L", len(body)) + body


@pytest.fixture
def bad_wavs(tmp_path: Path) -> dict[str, Path]:
    speech = synthesize("answer on the reception phone")
    files = {
        "zero_hz": _wav_bytes(0, 1, 2, speech),
        "zero_channels": _wav_bytes(16000, 0, 2, speech),
        "huge_rate": _wav_bytes(4_000_000_000, 1, 2, speech),
        "cut_in_the_header": _wav_bytes(16000, 1, 2, speech)[:30],
        "garbage": bytes(range(256)) * 40,
        "no_audio": _wav_bytes(16000, 1, 2, b""),
    }
    out = {}
    for name, data in files.items():
        out[name] = tmp_path / f"{name}.wav"
        out[name].write_bytes(data)
    out["a_directory"] = tmp_path / "folder.wav"
    out["a_directory"].mkdir()
    return out


def test_bad_wavs_are_errors_of_their_own_file_only(
    wavs: dict[str, Path], bad_wavs: dict[str, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("WEBEX_ACCESS_TOKEN", raising=False)
    good = str(wavs["answer_on_the_reception_phone"])
    bad = [str(p) for p in bad_wavs.values()]
    files = [bad[0], good, *bad[1:], good]  # a bad file first used to abort the whole batch
    code = main(["transcribe", "--engine", "pocketsphinx", *files])
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1  # some files failed, the others were transcribed
    assert [r["file"] for r in rows] == files
    assert rows[1]["intent"] == "answer" and rows[-1]["intent"] == "answer"
    assert rows[0]["file"] == str(bad_wavs["zero_hz"])
    errors = {Path(r["file"]).stem: r["error"] for r in rows if "error" in r}
    assert set(errors) == {"zero_hz", "zero_channels", "huge_rate", "cut_in_the_header",
                           "garbage", "no_audio", "folder"}
    assert "0 Hz" in errors["zero_hz"] and "sample rate from" in errors["zero_hz"]
    assert "0 channels" in errors["zero_channels"]
    assert "4000000000 Hz" in errors["huge_rate"]
    assert "not a readable WAV file" in errors["garbage"]
    assert "not a readable WAV file" in errors["cut_in_the_header"]
    assert "empty" in errors["no_audio"] and "directory" in errors["folder"]
    err_lines = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err
    for name, path in bad_wavs.items():  # one line each, naming the file
        assert sum(str(path) in line for line in err_lines) == 1, name


def test_a_single_bad_wav_is_bad_usage(bad_wavs: dict[str, Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("WEBEX_ACCESS_TOKEN", raising=False)
    path = str(bad_wavs["zero_hz"])
    assert main(["transcribe", "--engine", "pocketsphinx", path]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["file"] == path
    assert f"{path}: the WAV header says 0 Hz" in captured.err


def test_a_file_cut_short_in_its_audio_gives_what_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("WEBEX_ACCESS_TOKEN", raising=False)
    whole = _wav_bytes(16000, 1, 2, synthesize("decline") + b"\x00" * 3201)  # odd: ends mid-frame
    path = tmp_path / "cut.wav"
    path.write_bytes(whole[: len(whole) - 1001])
    assert main(["transcribe", "--engine", "pocketsphinx", str(path)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["intent"] == "decline" and row["audio_ms"] > 500


def test_engine_and_language_flags_both_apply(
    wavs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The config asks for Vosk, which has no English model here; the flags ask for
    PocketSphinx in English. ``--language`` used to rebuild the settings without ``--engine``."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("WEBEX_ACCESS_TOKEN", raising=False)
    config = tmp_path / "assistant.toml"
    models = tmp_path / "no-models"
    models.mkdir()
    config.write_text(f'[speech]\nengine = "vosk"\nmodels_dir = "{models}"\n')
    path = str(wavs["answer_on_the_reception_phone"])
    code = main(["--config", str(config), "transcribe", "--engine", "pocketsphinx",
                 "--language", "en", path])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["intent"] == "answer"


def _write_long_wav(path: Path, minutes: int, command: bytes, at_second: int) -> None:
    """Low office-like noise, written a second at a time, with one command said in it."""
    rng = np.random.default_rng(7)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        for second in range(minutes * 60):
            wav.writeframes(rng.normal(0, 30, 16000).astype("<i2").tobytes())
            if second == at_second:
                wav.writeframes(command)


def test_a_five_minute_file_is_transcribed_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Decoded whole, a ten-minute file took 16 GB and 5 minutes; streamed, Python allocates a few
    MB whatever the length (five minutes here: the test suite must stay fast)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("WEBEX_ACCESS_TOKEN", raising=False)
    command = synthesize("answer on the reception phone")
    path = tmp_path / "five_minutes.wav"
    _write_long_wav(path, 5, command, at_second=150)
    tracemalloc.start()
    try:
        code = main(["transcribe", "--engine", "pocketsphinx", str(path)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    row = json.loads(capsys.readouterr().out)
    assert code == 0
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MB"
    assert row["intent"] == "answer" and row["device"] == "Cisco 8865 (Phone in reception area)"
    assert row["utterances"] >= 1
    assert row["audio_ms"] == pytest.approx(300_000 + len(command) / 32, abs=1)


def test_a_long_file_streams_whatever_its_format(tmp_path: Path) -> None:
    """Ten minutes of 48 kHz stereo (110 MB) converted a block at a time."""
    path = tmp_path / "stereo.wav"
    rng = np.random.default_rng(3)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(48000)
        for _ in range(600):
            wav.writeframes(rng.normal(0, 300, 96000).astype("<i2").tobytes())
    tracemalloc.start()
    try:
        with WavFile(path) as wav:
            total = sum(len(block) for block in wav.blocks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == pytest.approx(600 * 16000 * 2, abs=64)
    assert peak < 30 * 2**20, f"peak {peak / 2**20:.0f} MB"
