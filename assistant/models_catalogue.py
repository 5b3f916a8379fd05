"""Speech model catalogue (package data ``assistant/data/catalogue.toml``): list, download, locate.

Models are unpacked into the models folder (``assistant.paths.models_dir``: the checkout's
``models/``, or ``$XDG_DATA_HOME/webex-voice-assistant/models`` when installed; ``[speech]
models_dir`` overrides it). A ``catalogue.toml`` in that folder replaces the shipped one.

Download: streamed with a progress bar on stderr into ``MODELS/.partial-NAME.zip``, checked
(sha256 when the catalogue has one, else the size against ``size_bytes`` or ``approx_mb``
±25 %), unpacked into ``MODELS/.partial-NAME/`` and renamed into place in one step, so a
half-downloaded or corrupt model never appears under ``MODELS/NAME``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO

import httpx

from assistant import paths
from assistant.config import utf8_expectation
from assistant.errors import ConfigError, ModelError

log = logging.getLogger(__name__)

CATALOGUE_FILE_NAME = "catalogue.toml"


def shipped_catalogue() -> Traversable:
    """The catalogue that ships inside the package."""
    return resources.files("assistant").joinpath("data", CATALOGUE_FILE_NAME)


@dataclass(frozen=True)
class ModelEntry:
    name: str
    language: str
    engine: str
    url: str
    size_bytes: int
    approx_mb: float
    sha256: str
    licence: str
    default: bool = False


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a model's folder name inside models/ (it is joined onto that path),
    or None."""
    if not _NAME.fullmatch(name):
        return ("expected a plain name: letters, digits, '.', '_', '+', '-', "
                "starting with a letter or digit, no '/'")
    if ".." in name:
        return "expected a plain name without '..'"
    return None


def _entry(raw: object, where: str, key: str) -> ModelEntry:
    """One [[model]] table, every field checked: the name becomes a path, the rest is shown."""
    if not isinstance(raw, dict):
        raise ConfigError(where, key, "a [[model]] table")
    for field_name in ("name", "language", "url"):
        if not isinstance(raw.get(field_name), str) or not raw[field_name]:
            raise ConfigError(where, f"{key}.{field_name}", "a non-empty string")
    problem = name_problem(raw["name"])
    if problem:
        raise ConfigError(where, f"{key}.name", problem)
    if not raw["url"].startswith(("https://", "http://")):
        raise ConfigError(where, f"{key}.url", "an http(s):// address")
    for field_name in ("engine", "sha256", "licence"):
        if not isinstance(raw.get(field_name, ""), str):
            raise ConfigError(where, f"{key}.{field_name}", "a string")
    size, approx = raw.get("size_bytes", 0), raw.get("approx_mb", 0)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ConfigError(where, f"{key}.size_bytes", "a whole number of bytes, zero or more")
    if (isinstance(approx, bool) or not isinstance(approx, (int, float))
            or not 0 <= approx < 1e6):  # NaN fails too
        raise ConfigError(where, f"{key}.approx_mb", "a number of megabytes from 0 to 1000000")
    if not isinstance(raw.get("default", False), bool):
        raise ConfigError(where, f"{key}.default", "true or false")
    return ModelEntry(
        name=raw["name"], language=raw["language"], engine=raw.get("engine", "vosk"),
        url=raw["url"], size_bytes=size, approx_mb=float(approx), sha256=raw.get("sha256", ""),
        licence=raw.get("licence", ""), default=raw.get("default", False),
    )


@dataclass
class Catalogue:
    models_dir: Path
    entries: dict[str, ModelEntry]

    @classmethod
    def load(cls, models_dir: str | Path = "", catalogue: Path | None = None) -> Catalogue:
        """The catalogue for ``models_dir`` (empty: the default folder, ``assistant.paths``):
        ``catalogue`` if given, else the folder's own ``catalogue.toml``, else the shipped one."""
        # config.load resolves models_dir; an empty one comes from code that built its settings
        directory = (Path(models_dir).expanduser() if models_dir
                     else paths.models_dir(os.environ))
        path: Path | Traversable = catalogue or (directory / CATALOGUE_FILE_NAME)
        if catalogue is None and not (directory / CATALOGUE_FILE_NAME).exists():
            path = shipped_catalogue()
        where = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except IsADirectoryError:
            raise ConfigError(where, "(file)", "a model catalogue file, not a directory") from None
        except OSError as exc:
            raise ConfigError(where, "(file)", f"a readable file ({exc.strerror})") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(where, "(encoding)", utf8_expectation(exc)) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(where, "(syntax)", f"valid TOML ({exc})") from None
        models = data.get("model", [])
        if not isinstance(models, list):
            raise ConfigError(where, "model", "[[model]] tables")
        entries = {}
        for n, raw in enumerate(models):
            entry = _entry(raw, where, f"model[{n}]")
            entries[entry.name] = entry
        return cls(directory, entries)

    def get(self, name: str) -> ModelEntry:
        problem = name_problem(name)
        if problem:  # before any path is built from it
            raise ModelError(f"model name {name!r}: {problem}",
                             spoken="That is not a model name.")
        if name not in self.entries:
            raise ModelError(
                f"unknown model {name!r} (known: {', '.join(self.entries) or 'none'})",
                spoken=f"I do not know the model {name}.",
            )
        return self.entries[name]

    def default_for(self, language: str) -> str | None:
        for entry in self.entries.values():
            if entry.language == language and entry.default:
                return entry.name
        return None

    def path(self, name: str) -> Path:
        self.get(name)
        return self.models_dir / name

    def installed_path(self, name: str) -> Path | None:
        path = self.path(name)
        return path if (path / "am").is_dir() or (path / "conf").is_dir() else None

    def download(self, name: str, progress: IO[str] | None = sys.stderr,
                 client: httpx.Client | None = None) -> Path:
        """Download, check and unpack ``name``; returns its directory."""
        entry = self.get(name)
        try:
            self.models_dir.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ConfigError(str(self.models_dir), "speech.models_dir",
                              "a folder for the models, but it is a file") from None
        except OSError as exc:
            raise ModelError(f"{self.models_dir}: cannot create the models folder "
                             f"({exc.strerror})", spoken="The model download failed.") from None
        archive = self.models_dir / f".partial-{name}.zip"
        staging = self.models_dir / f".partial-{name}"
        target = self.models_dir / name
        try:
            digest, size = _fetch(entry.url, archive, progress, client)
            _check(entry, digest, size)
            shutil.rmtree(staging, ignore_errors=True)
            _unpack(archive, staging, name)
            if target.exists():
                shutil.rmtree(target)
            inner = staging / name
            (inner if inner.is_dir() else staging).replace(target)
        finally:
            archive.unlink(missing_ok=True)
            shutil.rmtree(staging, ignore_errors=True)
        if not entry.sha256:
            print(f"{name}: sha256 {digest} (record it in the catalogue, "
                  f"assistant/data/{CATALOGUE_FILE_NAME})", file=progress or sys.stderr)
        return target


def _fetch(url: str, dest: Path, progress: IO[str] | None,
           client: httpx.Client | None) -> tuple[str, int]:
    own = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(30.0), follow_redirects=True)
    sha = hashlib.sha256()
    size = 0
    try:
        with http.stream("GET", url) as response:
            if response.status_code != 200:
                raise ModelError(f"{url}: download failed with HTTP {response.status_code}",
                                 spoken="The model download failed.")
            total = int(response.headers.get("content-length") or 0)
            with dest.open("wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
                    sha.update(chunk)
                    size += len(chunk)
                    _bar(progress, size, total)
    except httpx.HTTPError as exc:
        raise ModelError(f"{url}: download failed ({exc})", spoken="The model download failed.") from None
    finally:
        if own:
            http.close()
    if progress is not None:
        progress.write("\n")
    return sha.hexdigest(), size


def _bar(progress: IO[str] | None, done: int, total: int) -> None:
    if progress is None:
        return
    if total:
        filled = int(30 * done / total)
        progress.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done / 1e6:6.1f}/{total / 1e6:.1f} MB")
    else:
        progress.write(f"\r{done / 1e6:6.1f} MB")
    progress.flush()


def _check(entry: ModelEntry, digest: str, size: int) -> None:
    if entry.sha256 and digest != entry.sha256.lower():
        raise ModelError(f"{entry.name}: checksum mismatch (got {digest}, expected {entry.sha256})",
                         spoken="The downloaded model is corrupt.")
    if entry.size_bytes and size != entry.size_bytes:
        raise ModelError(f"{entry.name}: size {size} bytes, expected {entry.size_bytes}",
                         spoken="The downloaded model is corrupt.")
    unchecked = not entry.sha256 and not entry.size_bytes and entry.approx_mb
    if unchecked and not 0.75 * entry.approx_mb * 1e6 <= size <= 1.25 * entry.approx_mb * 1e6:
        raise ModelError(f"{entry.name}: size {size} bytes, expected about {entry.approx_mb:g} MB",
                         spoken="The downloaded model is corrupt.")


def _unpack(archive: Path, staging: Path, name: str) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise ModelError(f"{name}: unsafe path {member!r} in the archive")
            zf.extractall(staging)
    except zipfile.BadZipFile:
        raise ModelError(f"{name}: the download is not a valid zip file",
                         spoken="The downloaded model is corrupt.") from None
