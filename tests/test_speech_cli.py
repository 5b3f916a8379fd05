"""``assistant transcribe``: one JSON line per file, devices resolved against the emulator's
endpoints, unreadable files reported without stopping the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures_speech import synthesize

from assistant.cli import main
from assistant.speech.resample import write_wav_16k
from assistant.webex.emulator import Emulator


@pytest.fixture
def wavs(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("answer_on_the_reception_phone", "answer on the reception phone"),
                       ("oov_my_headset_battery_is_low", "my headset battery is low")):
        path = tmp_path / f"{name}.wav"
        write_wav_16k(path, synthesize(text))
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
    write_wav_16k(path, synthesize("헤드셋 으로 받아", "ko", 140))
    code = main(["transcribe", "--engine", "vosk", "--language", "ko", str(path)])
    row = json.loads(capsys.readouterr().out)
    assert code == 0
    assert row["intent"] == "answer" and row["device"] == "Webex Desktop Application"
