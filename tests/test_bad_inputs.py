"""Bad input, as a person would give it, ends in one clear line and exit 2: never a traceback.

Each case runs ``python -m assistant`` in a subprocess, as the person would, with a private
config folder. The message must name the file (or flag) and say what was expected.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from assistant.audio_io import read_wav_16k
from assistant.auth.store import FileStore, TokenRecord
from assistant.errors import ConfigError, SpeechError
from assistant.webex.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "WEBEX_ACCESS_TOKEN"}
    environ.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
                   PYTHONPATH=str(ROOT))
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env=environ, timeout=timeout, cwd=tmp_path, check=False)


def assert_one_line_exit_2(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --- emulator ------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["70000", "-1", "65536"])
def test_emulator_port_out_of_range(tmp_path: Path, port: str) -> None:
    result = run(tmp_path, "emulator", "--port", port, timeout=20)
    assert_one_line_exit_2(result, f"--port {port}", "from 0 to 65535")
    assert result.stdout == ""  # it never said it was listening


@pytest.fixture
def latin1_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_bytes('[user]\nid = "u"\ndisplay_name = "Ren\u00e9e"\n'.encode("latin-1"))
    return path


def test_scenario_that_is_not_utf8(tmp_path: Path, latin1_scenario: Path) -> None:
    with pytest.raises(ConfigError) as info:
        Scenario.from_file(latin1_scenario)
    assert info.value.key == "(encoding)" and "UTF-8" in info.value.expected
    result = run(tmp_path, "emulator", "--scenario", str(latin1_scenario), timeout=20)
    assert_one_line_exit_2(result, str(latin1_scenario), "UTF-8")


def test_scenario_path_that_is_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    with pytest.raises(ConfigError, match="directory"):
        Scenario.from_file(folder)
    result = run(tmp_path, "emulator", "--scenario", str(folder), timeout=20)
    assert_one_line_exit_2(result, str(folder), "not a directory")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("ring_timeout_seconds = nan\n", "ring_timeout_seconds"),
        ("ring_timeout_seconds = inf\n", "ring_timeout_seconds"),
        ("ring_timeout_seconds = 1e308\n", "ring_timeout_seconds"),
        ("ring_timeout_seconds = -1\n", "ring_timeout_seconds"),
        ("[auth]\naccess_token_lifetime_seconds = inf\n", "auth.access_token_lifetime_seconds"),
        ("[auth]\ndevice_poll_interval_seconds = nan\n", "auth.device_poll_interval_seconds"),
        ("[auth]\nrefresh_token_lifetime_seconds = 1e308\n", "auth.refresh_token_lifetime_seconds"),
        ('token = "emulator-t\u00f8ken"\n', "token"),
        ('token = "two words"\n', "token"),
    ],
)
def test_scenario_numbers_and_tokens_out_of_range(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Scenario.from_file(path)
    assert info.value.key == key and info.value.path == str(path)


def test_scenario_number_out_of_range_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text("ring_timeout_seconds = nan\n")
    result = run(tmp_path, "emulator", "--scenario", str(path), timeout=20)
    assert_one_line_exit_2(result, str(path), "ring_timeout_seconds", "from 0 to")


def test_scenario_zero_ring_time_still_allowed() -> None:
    assert Scenario.from_dict({"ring_timeout_seconds": 0}).ring_timeout_seconds == 0.0


# --- configuration and sign-in -------------------------------------------------------------


def test_poll_interval_zero_is_refused_before_any_request(tmp_path: Path) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text("[webex]\npoll_interval_seconds = 0\n")
    result = run(tmp_path, "--config", str(config), "--webex-url", "http://127.0.0.1:9",
                 "calls", env={"WEBEX_ACCESS_TOKEN": "emulator-token"})
    assert_one_line_exit_2(result, str(config), "webex.poll_interval_seconds", "from 0.2")


def test_non_ascii_access_token_in_the_environment(tmp_path: Path) -> None:
    result = run(tmp_path, "--webex-url", "http://127.0.0.1:9", "calls",
                 env={"WEBEX_ACCESS_TOKEN": "emulator-t\u00f8ken"})
    line = assert_one_line_exit_2(result, "WEBEX_ACCESS_TOKEN", "printable ASCII")
    assert "t\u00f8ken" not in line


@pytest.fixture
def store_config(tmp_path: Path) -> tuple[Path, Path]:
    """A configuration whose token store is ``tmp_path/store/tokens.json``."""
    store = tmp_path / "store" / "tokens.json"
    config = tmp_path / "assistant.toml"
    config.write_text(f'[auth]\nclient_id = "c"\nclient_secret = "s"\ntoken_store = "{store}"\n')
    return config, store


@pytest.mark.parametrize("command", [["calls"], ["logout"], ["devices", "--json"]])
def test_token_store_that_is_a_directory(tmp_path: Path, store_config: tuple[Path, Path],
                                         command: list[str]) -> None:
    config, store = store_config
    store.mkdir(parents=True)
    result = run(tmp_path, "--config", str(config), "--webex-url", "http://127.0.0.1:9", *command)
    assert_one_line_exit_2(result, str(store), "auth.token_store", "directory")
    assert store.is_dir()  # logout did not try to remove a folder


def test_non_ascii_token_in_the_store_is_said_not_crashed(
    tmp_path: Path, store_config: tuple[Path, Path]
) -> None:
    config, store = store_config
    FileStore(store).save(TokenRecord("AT-good", "RT-good", 4_000_000_000.0))
    data = json.loads(store.read_text()) | {"access_token": "AT-caf\u00e9"}
    store.write_text(json.dumps(data))
    result = run(tmp_path, "--config", str(config), "--webex-url", "http://127.0.0.1:9", "calls")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "UnicodeEncodeError" not in result.stderr
    assert "characters a token cannot have" in result.stderr
    assert "caf\u00e9" not in result.stderr


# --- audio files ---------------------------------------------------------------------------


def test_a_wav_that_says_0_hz(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    fmt = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + bytes(4) + bytes(4) \
        + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    data = bytes(32000)
    body = b"WAVEfmt " + len(fmt).to_bytes(4, "little") + fmt + b"data" \
        + len(data).to_bytes(4, "little") + data
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    result = run(tmp_path, "transcribe", "--engine", "pocketsphinx", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{path}: the WAV header says 0 Hz" in result.stderr
    assert json.loads(result.stdout)["file"] == str(path)


def test_every_corrupted_wav_header_is_a_clear_error_or_audio(tmp_path: Path) -> None:
    """Seeded random damage to a valid file's first 48 bytes, and cuts: 1500 files."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(bytes(3200))
    original = buf.getvalue()
    rng = random.Random(10)
    path = tmp_path / "damaged.wav"
    outcomes = {"audio": 0, "error": 0}
    for _ in range(1500):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(48)] = rng.randrange(256)
        if rng.random() < 0.2:
            damaged = damaged[: rng.randrange(60)]
        path.write_bytes(damaged)
        try:
            read_wav_16k(path)
            outcomes["audio"] += 1
        except SpeechError as exc:
            assert str(path) in str(exc) and exc.spoken
            outcomes["error"] += 1
    assert outcomes["audio"] > 50 and outcomes["error"] > 500
