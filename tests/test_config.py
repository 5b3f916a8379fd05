import dataclasses
import re
from pathlib import Path

import pytest

from assistant import config
from assistant.cli import main
from assistant.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_equals_embedded_defaults() -> None:
    shipped = config.from_file(ROOT / "config" / "assistant.toml")
    assert shipped.replace("webex") == config.Settings(source=shipped.source)


def test_flags_and_environment_override_file(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('[webex]\nurl = "https://example.invalid"\n[speech]\nengine = "vosk"\n')
    settings = config.load(
        str(path), environ={"WEBEX_ACCESS_TOKEN": "tok"}, webex_url="http://127.0.0.1:9/"
    )
    assert settings.webex.url == "http://127.0.0.1:9"
    assert settings.webex.access_token == "tok"
    assert settings.speech.engine is config.Engine.VOSK


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[speech]\nengine = 'whisper'\n", "speech.engine", "one of 'auto'"),
        ("[webex]\npoll_interval_seconds = 'fast'\n", "webex.poll_interval_seconds", "a number"),
        ("[webex]\naccess_token = 'x'\n", "webex.access_token", "one of the keys"),
        ("[nonsense]\nx = 1\n", "nonsense", "one of the sections"),
        ("[devices.aliases]\nheadset = 3\n", "devices.aliases", "a table"),
        ("[speech\n", "(syntax)", "valid TOML"),
    ],
)
def test_bad_config_names_file_key_and_expectation(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        config.from_file(path)
    assert info.value.key == key
    assert str(path) in str(info.value)
    assert expected in info.value.expected


def test_cli_exits_2_on_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[audio]\nsample_rate_hz = -5\n")
    assert main(["--config", str(path), "calls"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "audio.sample_rate_hz" in err


def _numeric_fields() -> list[tuple[str, dataclasses.Field[object]]]:
    return [(section, f) for section, cls in config._SECTIONS.items()
            for f in dataclasses.fields(cls) if f.type in ("int", "float")]


def test_every_number_has_a_range_that_holds_its_default() -> None:
    fields = _numeric_fields()
    assert len(fields) >= 15
    for section, f in fields:
        low, high = f.metadata["range"]
        assert low <= f.default <= high, f"{section}.{f.name}"


def test_shipped_config_shows_each_range() -> None:
    text = (ROOT / "config" / "assistant.toml").read_text(encoding="utf-8")
    shown = dict(re.findall(r"^(\w+) = [^#\n]*# \[([\d.]+-[\d.]+)\]", text, re.M))
    for section, f in _numeric_fields():
        if f.metadata["range"][0] == f.metadata["range"][1]:
            continue
        low, high = f.metadata["range"]
        assert shown.get(f.name) == f"{low:g}-{high:g}", f"{section}.{f.name}"


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[webex]\npoll_interval_seconds = 0\n", "webex.poll_interval_seconds", "from 0.2 to 60"),
        ("[webex]\npoll_interval_seconds = 0.05\n", "webex.poll_interval_seconds", "from 0.2"),
        ("[webex]\nread_timeout_seconds = nan\n", "webex.read_timeout_seconds", "not nan"),
        ("[webex]\nconnect_timeout_seconds = inf\n", "webex.connect_timeout_seconds", "not inf"),
        ("[webex]\nread_timeout_seconds = 1e308\n", "webex.read_timeout_seconds", "to 300"),
        ("[webex]\nread_timeout_seconds = -1\n", "webex.read_timeout_seconds", "from 0.1"),
        ("[webex]\nmax_retry_after_seconds = -inf\n", "webex.max_retry_after_seconds", "not -inf"),
        ("[auth]\nrefresh_margin_seconds = nan\n", "auth.refresh_margin_seconds", "not nan"),
        ("[speech]\nmax_utterance_seconds = 0\n", "speech.max_utterance_seconds", "from 1"),
        ("[speech]\ntrailing_silence_ms = 0\n", "speech.trailing_silence_ms", "whole number"),
        ("[audio]\nretry_seconds = 0\n", "audio.retry_seconds", "from 0.2"),
        ("[audio]\nsample_rate_hz = 8000\n", "audio.sample_rate_hz", "equal to 16000"),
        ("[voice]\nsynth_timeout_seconds = 0\n", "voice.synth_timeout_seconds", "from 1"),
        ("[voice]\nrate_wpm = 100000\n", "voice.rate_wpm", "from 80 to 450"),
        ("[voice]\nvolume = nan\n", "voice.volume", "from 0 to 2"),
        ("[dialog]\nquestion_timeout_seconds = inf\n", "dialog.question_timeout_seconds", "to 120"),
        ("[dialog]\nreprompts = 1000000\n", "dialog.reprompts", "from 0 to 10"),
    ],
)
def test_numbers_out_of_range_are_refused(tmp_path: Path, text: str, key: str,
                                          expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        config.from_file(path)
    assert info.value.key == key and expected in info.value.expected


def test_the_lowest_and_highest_values_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text("[webex]\npoll_interval_seconds = 0.2\nmax_retry_after_seconds = 0\n"
                    "[dialog]\nfollow_up_seconds = 0\n[voice]\nrate_wpm = 450\n")
    settings = config.from_file(path)
    assert settings.webex.poll_interval_seconds == 0.2 and settings.voice.rate_wpm == 450


def test_a_config_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[dialog]\nwake_phrase = "h\u00e9 webex"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        config.from_file(path)
    assert info.value.key == "(encoding)" and "UTF-8" in info.value.expected
    assert "0xe9" in info.value.expected


def test_a_config_path_that_is_a_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config.from_file(tmp_path)
    assert "directory" in info.value.expected


@pytest.mark.parametrize("token", ["caf\u00e9-token", "tok en", "tok\x1b[2Jen", "t\u200bok"])
def test_a_token_that_cannot_go_in_a_header_is_refused(token: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.load(None, environ={"WEBEX_ACCESS_TOKEN": token, "HOME": "/nonexistent"})
    assert info.value.key == "WEBEX_ACCESS_TOKEN" and "printable ASCII" in info.value.expected
    assert token.strip() not in str(info.value)  # the token is never shown


@pytest.mark.parametrize(
    "text",
    ["[webex]\npoll_interval_seconds = 0\n", "[webex]\nread_timeout_seconds = nan\n",
     "[webex]\nconnect_timeout_seconds = 1e308\n"],
)
def test_cli_exits_2_on_a_number_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["--config", str(path), "calls"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "webex." in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_exits_2_on_a_config_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b"[dialog]\nwake_phrase = \"\xff\"\n")
    assert main(["--config", str(path), "calls"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "UTF-8" in err


def test_cli_exits_2_on_a_non_ascii_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("WEBEX_ACCESS_TOKEN", "emulator-t\u00f8ken")
    assert main(["--webex-url", "http://127.0.0.1:9", "calls"]) == 2
    err = capsys.readouterr().err
    assert "WEBEX_ACCESS_TOKEN" in err and "t\u00f8ken" not in err


def test_a_user_config_that_is_a_directory_is_named_not_ignored(tmp_path: Path) -> None:
    folder = tmp_path / config.APP_DIR_NAME / "assistant.toml"
    folder.mkdir(parents=True)
    with pytest.raises(ConfigError) as info:
        config.load(None, environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert info.value.path == str(folder) and "directory" in info.value.expected
