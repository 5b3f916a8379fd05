"""The token store: private (0600) and atomic on disk, refused when others can read it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from assistant import config
from assistant.auth import token_source
from assistant.auth.store import FileStore, TokenRecord, open_store, store_path
from assistant.config import AuthSettings, Settings, WebexSettings
from assistant.errors import AuthError, ConfigError
from assistant.logsetup import redact
from assistant.webex.client import StaticToken

RECORD = TokenRecord("AT-secret-access", "RT-secret-refresh", 2_000_000_000.0, 2_100_000_000.0,
                     "spark:calls_read")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_saved_store_is_private_even_with_a_careless_umask(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "tokens.json"
    old = os.umask(0)  # a umask that would leave new files world-readable
    try:
        FileStore(path).save(RECORD)
    finally:
        os.umask(old)
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert FileStore(path).load() == RECORD


def test_save_replaces_atomically_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = FileStore(path)
    store.save(RECORD)
    inode = path.stat().st_ino
    rotated = TokenRecord("AT-2", "RT-2", 2_000_000_100.0, None, "")
    store.save(rotated)
    assert path.stat().st_ino != inode  # a new file renamed over the old one, not rewritten
    assert store.load() == rotated
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json"]
    assert mode_of(path) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_store_others_can_read_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "tokens.json"
    FileStore(path).save(RECORD)
    path.chmod(mode)
    with pytest.raises(AuthError) as info:
        FileStore(path).load()
    assert f"chmod 600 {path}" in str(info.value)
    assert "chmod 600" in info.value.spoken
    assert RECORD.access_token not in str(info.value) + info.value.spoken


def test_token_source_refuses_a_world_readable_store(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    FileStore(path).save(RECORD)
    path.chmod(0o644)
    settings = Settings(auth=AuthSettings(client_id="c", client_secret="s", token_store=str(path)))
    with pytest.raises(AuthError, match="chmod 600"):
        token_source(settings)


def test_damaged_store_asks_to_sign_in_again(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    FileStore(path).save(RECORD)
    path.write_text('{"access_token": "half')
    with pytest.raises(AuthError) as info:
        FileStore(path).load()
    assert "sign in again" in info.value.spoken
    assert "half" not in str(info.value)


def test_missing_store_loads_as_none_and_delete_reports_it(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "tokens.json")
    assert store.load() is None
    assert store.delete() is False
    store.save(RECORD)
    assert store.delete() is True
    assert not (tmp_path / "tokens.json").exists()


def test_record_repr_hides_the_tokens() -> None:
    text = repr(RECORD)
    assert "AT-secret" not in text and "RT-secret" not in text


def test_store_lives_in_the_user_state_dir(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state")}
    settings = config.load(None, environ=environ)
    expected = tmp_path / "state" / config.APP_DIR_NAME / "tokens.json"
    assert Path(settings.auth.token_store) == expected
    assert store_path(AuthSettings(), environ) == expected
    assert isinstance(open_store(settings.auth), FileStore)


def test_a_sign_in_at_the_old_place_is_still_used(tmp_path: Path) -> None:
    """Before issue 12 the store was <config dir>/tokens.json: an upgrade must not sign out."""
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state")}
    old = tmp_path / "config" / config.APP_DIR_NAME / "tokens.json"
    old.parent.mkdir(parents=True)
    FileStore(old).save(RECORD)
    settings = config.load(None, environ=environ)
    assert Path(settings.auth.token_store) == old
    assert open_store(settings.auth).load() == RECORD


def test_keyring_asked_for_but_missing_falls_back_to_the_file(tmp_path: Path) -> None:
    auth = AuthSettings(token_store=str(tmp_path / "t.json"), use_keyring=True)
    store = open_store(auth)  # the keyring package is not installed here
    assert isinstance(store, FileStore)


def test_access_token_from_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    FileStore(path).save(RECORD)
    settings = Settings(
        webex=WebexSettings(access_token="from-env"), auth=AuthSettings(token_store=str(path))
    )
    source = token_source(settings)
    assert isinstance(source, StaticToken)
    assert source.access_token() == "from-env"


def test_no_sign_in_at_all_says_how_to_get_one(tmp_path: Path) -> None:
    settings = Settings(auth=AuthSettings(token_store=str(tmp_path / "none.json")))
    with pytest.raises(AuthError) as info:
        token_source(settings)
    assert "assistant login" in info.value.spoken
    assert "WEBEX_ACCESS_TOKEN" in info.value.spoken


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer EMUabc-def_ghi", "EMUabc-def_ghi"),
        ("Authorization: Basic ZW11bGF0b3I6c2VjcmV0", "ZW11bGF0b3I6c2VjcmV0"),
        ('{"access_token": "EMUxyz", "expires_in": 1}', "EMUxyz"),
        ("{'refresh_token': 'EMRxyz'}", "EMRxyz"),
        ("grant_type=refresh_token&refresh_token=EMRabc&client_secret=shh", "EMRabc"),
        ("grant_type=refresh_token&refresh_token=EMRabc&client_secret=shh", "shh"),
        ("device_code=DCabc123", "DCabc123"),
        ("TokenRecord(access_token='EMUq')", "EMUq"),
    ],
)
def test_log_redaction_covers_every_token_shape(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_a_store_that_is_a_directory_is_bad_configuration(tmp_path: Path) -> None:
    folder = tmp_path / "tokens.json"
    folder.mkdir()
    with pytest.raises(ConfigError) as info:
        open_store(AuthSettings(token_store=str(folder)))
    assert info.value.key == "auth.token_store" and "directory" in info.value.expected
    store = FileStore(folder)
    for action in (store.load, lambda: store.save(RECORD), store.delete):
        with pytest.raises(ConfigError, match="directory"):
            action()
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_a_store_under_a_file_is_bad_configuration(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    path = tmp_path / "plain" / "tokens.json"
    with pytest.raises(ConfigError) as info:
        open_store(AuthSettings(token_store=str(path)))
    assert "not a folder" in info.value.expected
    for action in (FileStore(path).load, lambda: FileStore(path).save(RECORD)):
        with pytest.raises(ConfigError, match="not a folder"):
            action()


@pytest.mark.parametrize(
    ("field", "value"),
    [("access_token", "AT-caf\u00e9"), ("refresh_token", "RT\u200bx"), ("access_token", "AT x"),
     ("access_token", "AT\r\nX-Injected: 1")],
)
def test_a_stored_token_that_cannot_go_in_a_header_is_refused(
    tmp_path: Path, field: str, value: str
) -> None:
    path = tmp_path / "tokens.json"
    FileStore(path).save(RECORD)
    data = json.loads(path.read_text()) | {field: value}
    path.write_text(json.dumps(data))
    with pytest.raises(AuthError) as info:
        FileStore(path).load()
    assert str(path) in str(info.value) and field in str(info.value)
    assert "sign in again" in info.value.spoken
    assert value not in str(info.value) + info.value.spoken


def test_a_token_record_cannot_hold_an_unusable_token() -> None:
    with pytest.raises(AuthError) as info:
        TokenRecord("t\u00f8ken", "refresh", 1.0)
    assert "t\u00f8ken" not in str(info.value) and "sign in again" in info.value.spoken


@pytest.mark.parametrize("raw", [b'{"access_token": "a", "refresh_token": "r", "expires_at": NaN}',
                                 b'{"access_token": "a", "refresh_token": "r", "expires_at": 1e999}',
                                 b"\xff\xfe{}", b"{" + b" " * (2 << 20) + b"}"])
def test_odd_store_contents_are_damage_not_a_crash(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "tokens.json"
    FileStore(path).save(RECORD)
    path.write_bytes(raw)
    with pytest.raises(AuthError) as info:
        FileStore(path).load()
    assert "sign in again" in info.value.spoken
