"""Model catalogue: download over real HTTP (a loopback server), checks, atomic unpack."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from assistant.cli import main
from assistant.errors import ConfigError, ModelError
from assistant.models_catalogue import Catalogue


def _model_zip(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{name}/am/final.mdl", b"acoustic model bytes" * 100)
        zf.writestr(f"{name}/conf/model.conf", b"--sample-frequency=16000\n")
    return buf.getvalue()


class _Files(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def file_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    files: ClassVar[dict[str, bytes]] = {}
    handler = type("Handler", (_Files,), {"files": files})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _catalogue(tmp_path: Path, url: str, sha256: str = "", approx_mb: float = 0) -> Catalogue:
    (tmp_path / "catalogue.toml").write_text(
        "[[model]]\n"
        'name = "tiny-model"\nlanguage = "en"\nengine = "vosk"\n'
        f'url = "{url}"\nsha256 = "{sha256}"\napprox_mb = {approx_mb}\n'
        'licence = "Apache-2.0"\ndefault = true\n',
        encoding="utf-8",
    )
    return Catalogue.load(tmp_path)


def test_download_checks_and_unpacks(tmp_path: Path, file_server: tuple[str, dict[str, bytes]]) -> None:
    base, files = file_server
    body = _model_zip("tiny-model")
    files["/tiny.zip"] = body
    catalogue = _catalogue(tmp_path, base + "/tiny.zip", hashlib.sha256(body).hexdigest())
    progress = io.StringIO()
    path = catalogue.download("tiny-model", progress=progress)
    assert path == tmp_path / "tiny-model"
    assert (path / "am" / "final.mdl").is_file()
    assert catalogue.installed_path("tiny-model") == path
    assert catalogue.default_for("en") == "tiny-model"
    assert "#" in progress.getvalue()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalogue.toml", "tiny-model"]


def test_checksum_mismatch_leaves_nothing(tmp_path: Path, file_server: tuple[str, dict[str, bytes]]) -> None:
    base, files = file_server
    files["/tiny.zip"] = _model_zip("tiny-model")
    catalogue = _catalogue(tmp_path, base + "/tiny.zip", "0" * 64)
    with pytest.raises(ModelError, match="checksum"):
        catalogue.download("tiny-model", progress=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalogue.toml"]


def test_size_is_checked_without_a_checksum(tmp_path: Path, file_server: tuple[str, dict[str, bytes]]) -> None:
    base, files = file_server
    files["/tiny.zip"] = _model_zip("tiny-model")
    catalogue = _catalogue(tmp_path, base + "/tiny.zip", approx_mb=40)
    with pytest.raises(ModelError, match="about 40 MB"):
        catalogue.download("tiny-model", progress=None)
    assert catalogue.installed_path("tiny-model") is None


def test_corrupt_zip_and_missing_file(tmp_path: Path, file_server: tuple[str, dict[str, bytes]]) -> None:
    base, files = file_server
    files["/bad.zip"] = b"this is not a zip file"
    catalogue = _catalogue(tmp_path, base + "/bad.zip")
    with pytest.raises(ModelError, match="not a valid zip"):
        catalogue.download("tiny-model", progress=None)
    catalogue = _catalogue(tmp_path, base + "/missing.zip")
    with pytest.raises(ModelError, match="HTTP 404"):
        catalogue.download("tiny-model", progress=None)
    with pytest.raises(ModelError, match="unknown model"):
        catalogue.path("no-such-model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalogue.toml"]


def test_shipped_catalogue_has_the_small_english_model() -> None:
    catalogue = Catalogue.load()
    entry = catalogue.get("vosk-model-small-en-us-0.15")
    assert entry.url == "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
    assert entry.licence == "Apache-2.0" and entry.approx_mb == 40
    assert catalogue.default_for("en") == entry.name


def test_models_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text(f'[speech]\nmodels_dir = "{tmp_path}"\n', encoding="utf-8")
    assert main(["--config", str(config), "models", "list"]) == 0
    assert "vosk-model-small-en-us-0.15" in capsys.readouterr().out
    assert main(["--config", str(config), "models", "path", "vosk-model-small-en-us-0.15"]) == 1
    captured = capsys.readouterr()
    assert captured.out.strip() == str(tmp_path / "vosk-model-small-en-us-0.15")
    assert "not installed" in captured.err
    assert main(["--config", str(config), "models", "path", "nonsense"]) == 1


@pytest.mark.parametrize("name", ["../evil", "../../etc", "a/b", "/etc", "..", "a..b", ".hidden",
                                  "x\x1b[2J"])
def test_model_names_that_would_leave_models_are_bad_usage(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text(f'[speech]\nmodels_dir = "{tmp_path / "models"}"\n', encoding="utf-8")
    for action in ("download", "path"):
        with pytest.raises(SystemExit) as info:
            main(["--config", str(config), "models", action, name])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "expected a plain name" in err and "Traceback" not in err
    assert not (tmp_path / "models").exists()  # nothing was built from the name


def test_the_catalogue_refuses_a_bad_name_before_building_a_path(tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path, {})
    for name in ("../evil", "a/b"):
        with pytest.raises(ModelError, match="plain name"):
            catalogue.path(name)
        with pytest.raises(ModelError, match="plain name"):
            catalogue.download(name, progress=None)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("entry", "key", "expected"),
    [
        ('name = "../../outside"\nlanguage = "en"\nurl = "https://x.invalid/m.zip"\n',
         "model[0].name", "plain name"),
        ('name = "sub/dir"\nlanguage = "en"\nurl = "https://x.invalid/m.zip"\n',
         "model[0].name", "no '/'"),
        ('language = "en"\nurl = "https://x.invalid/m.zip"\n', "model[0].name", "non-empty"),
        ('name = "m"\nlanguage = "en"\nurl = "file:///etc/passwd"\n', "model[0].url", "http"),
        ('name = "m"\nlanguage = "en"\nurl = "https://x.invalid/m.zip"\napprox_mb = nan\n',
         "model[0].approx_mb", "megabytes"),
        ('name = "m"\nlanguage = "en"\nurl = "https://x.invalid/m.zip"\nsize_bytes = "big"\n',
         "model[0].size_bytes", "whole number"),
    ],
)
def test_a_bad_catalogue_entry_is_named(tmp_path: Path, entry: str, key: str,
                                        expected: str) -> None:
    (tmp_path / "catalogue.toml").write_text("[[model]]\n" + entry, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Catalogue.load(tmp_path)
    assert info.value.key == key and expected in info.value.expected
    assert info.value.path == str(tmp_path / "catalogue.toml")


def test_a_bad_catalogue_is_bad_configuration(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "catalogue.toml").write_bytes(b'[[model]]\nname = "\xff"\n')
    config = tmp_path / "assistant.toml"
    config.write_text(f'[speech]\nmodels_dir = "{tmp_path}"\n', encoding="utf-8")
    assert main(["--config", str(config), "models", "list"]) == 2
    err = capsys.readouterr().err
    assert "catalogue.toml: (encoding): expected UTF-8" in err and "Traceback" not in err


def test_a_models_dir_that_is_a_file_is_bad_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "models"
    plain.write_text("not a folder")
    config = tmp_path / "assistant.toml"
    config.write_text(f'[speech]\nmodels_dir = "{plain}"\n', encoding="utf-8")
    assert main(["--config", str(config), "models", "download", "vosk-model-small-en-us-0.15"]) == 2
    err = capsys.readouterr().err
    assert f"{plain}: speech.models_dir: expected a folder" in err and "Traceback" not in err
