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
