"""Where the sign-in lives: a JSON file readable by its owner only (mode 0600), or the OS keyring
when the ``keyring`` package is installed and ``[auth] use_keyring = true``.

The file is always written whole and atomically: a temporary file in the same directory, mode
0600 before any content, then ``os.replace``. A crash leaves the old store or the new one, never
half of either. A store that other users can read is refused, with the command that fixes it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeGuard

from assistant import paths
from assistant.config import AuthSettings, token_problem
from assistant.errors import AuthError, ConfigError
from assistant.messages import english

log = logging.getLogger(__name__)

STORE_FILE_NAME = paths.TOKEN_FILE_NAME
MAX_STORE_BYTES = 1 << 20  # a sign-in is under 2 kB; a bigger file is not one
KEYRING_SERVICE = "webex-voice-assistant"
KEYRING_USER = "webex-tokens"
# spoken sentences (the catalogue's [auth]), said in the person's language by Messages.render
DAMAGED = english().text("auth.store_damaged")
READABLE = english().text("auth.store_readable")
BAD_TOKEN = english().text("auth.store_bad_token")
STORE_KEY = "auth.token_store"


@dataclass(frozen=True)
class TokenRecord:
    """One sign-in. Times are unix seconds (the store outlives the process). Secrets stay out of
    ``repr`` so a record in a log line or a traceback shows no token."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    refresh_expires_at: float | None = None
    scope: str = ""

    def __post_init__(self) -> None:
        """A token goes into an HTTP header: printable ASCII only, checked here, where every
        record is made (the store, a token reply), instead of failing deep inside httpx."""
        for name in ("access_token", "refresh_token"):
            problem = token_problem(getattr(self, name))
            if problem:
                raise AuthError(f"the {name} is not a usable token ({problem})", BAD_TOKEN)

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "refresh_expires_at": self.refresh_expires_at,
            "scope": self.scope,
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> TokenRecord:
        def bad(what: str) -> AuthError:
            return AuthError(f"token store {where}: {what}", DAMAGED)

        if not isinstance(data, dict):
            raise bad("not a JSON object")
        for key in ("access_token", "refresh_token"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise bad(f"{key} missing")
            problem = token_problem(data[key])
            if problem:
                raise AuthError(f"token store {where}: {key} is not a usable token ({problem})",
                                BAD_TOKEN)
        expires = data.get("expires_at")
        if not _is_time(expires):
            raise bad("expires_at is not a number")
        refresh_expires = data.get("refresh_expires_at")
        if refresh_expires is not None and not _is_time(refresh_expires):
            raise bad("refresh_expires_at is not a number")
        scope = data.get("scope", "")
        return cls(
            data["access_token"],
            data["refresh_token"],
            float(expires),
            None if refresh_expires is None else float(refresh_expires),
            scope if isinstance(scope, str) else "",
        )


def _is_time(value: Any) -> TypeGuard[float]:
    """A unix time: a finite number (json reads NaN and Infinity too)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value)


class TokenStore(Protocol):
    where: str  # for messages: a path or "the system keyring"

    def load(self) -> TokenRecord | None:
        """The stored sign-in, or None when there is none."""

    def save(self, record: TokenRecord) -> None:
        """Replace the stored sign-in, atomically."""

    def delete(self) -> bool:
        """Remove the stored sign-in; True if there was one."""


def store_path(auth: AuthSettings, environ: Mapping[str, str] | None = None) -> Path:
    """``[auth] token_store``, else ``<user state dir>/tokens.json`` (or the old
    ``<user config dir>/tokens.json`` when a sign-in is stored there: ``paths.token_store``)."""
    if auth.token_store:
        return Path(auth.token_store).expanduser()
    return paths.token_store(environ if environ is not None else {})


class FileStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def _not_a_file(self) -> ConfigError:
        return ConfigError(str(self.path), STORE_KEY, "a token file, but it is a directory")

    def _bad_folder(self) -> ConfigError:
        return ConfigError(str(self.path), STORE_KEY, "a file inside a folder, but "
                           f"{self.path.parent} is not a folder")

    def check_path(self) -> None:
        """Refuse a store path that can never hold the sign-in (a directory, or a path under a
        file) before anyone signs in, not after."""
        if self.path.is_dir():
            raise self._not_a_file()
        parent = next((p for p in self.path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise self._bad_folder()

    def load(self) -> TokenRecord | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            raise self._bad_folder() from None
        except OSError as exc:
            raise AuthError(f"token store {self.path}: {exc.strerror}", DAMAGED) from None
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise self._not_a_file()
            self._check_private(info)
            raw = _read_at_most(fd, MAX_STORE_BYTES)
        finally:
            os.close(fd)
        if raw is None:
            raise AuthError(f"token store {self.path}: larger than {MAX_STORE_BYTES} bytes",
                            DAMAGED)
        try:
            data = json.loads(raw)
        except ValueError:  # UnicodeDecodeError included
            raise AuthError(f"token store {self.path}: not valid JSON (UTF-8)", DAMAGED) from None
        return TokenRecord.from_json(data, str(self.path))

    def _check_private(self, info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise AuthError(f"token store {self.path}: not a regular file", DAMAGED)
        if info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise AuthError(
                f"token store {self.path} has mode {mode:o}: other users can read it. "
                f"Fix it with: chmod 600 {self.path}",
                english().text("auth.store_readable_fix", path=str(self.path)),
            )
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise AuthError(
                f"token store {self.path} belongs to another user (uid {info.st_uid}). "
                f"Remove it (assistant logout) and sign in again.",
                english().text("auth.store_other_user"),
            )

    def save(self, record: TokenRecord) -> None:
        self.check_path()
        try:
            self._save(record)
        except IsADirectoryError:
            raise self._not_a_file() from None
        except (NotADirectoryError, FileExistsError):
            raise self._bad_folder() from None
        except OSError as exc:
            raise AuthError(f"cannot store the sign-in in {self.path}: {exc.strerror}",
                            english().text("auth.cannot_store")) from None

    def _save(self, record: TokenRecord) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = json.dumps(record.to_json(), indent=2).encode() + b"\n"
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tokens-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)  # before any content (mkstemp already uses 0600; be explicit)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(directory)
        log.info("saved the Webex sign-in to %s", self.path)

    def delete(self) -> bool:
        self.check_path()
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except IsADirectoryError:
            raise self._not_a_file() from None
        except NotADirectoryError:
            raise self._bad_folder() from None
        except OSError as exc:
            raise AuthError(f"cannot remove the sign-in {self.path}: {exc.strerror}",
                            english().text("auth.cannot_remove")) from None
        log.info("removed the Webex sign-in from %s", self.path)
        return True


def _read_at_most(fd: int, limit: int) -> bytes | None:
    """The file's bytes, or None when it is larger than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return None


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class KeyringStore:
    """The sign-in as one JSON secret in the OS keyring (``keyring`` package, when installed)."""

    where = "the system keyring"

    def __init__(self, keyring: Any) -> None:
        self._keyring = keyring

    def load(self) -> TokenRecord | None:
        try:
            text = self._keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
        except Exception as exc:  # noqa: BLE001 (keyring backends raise their own types)
            raise AuthError(f"keyring: {type(exc).__name__}", DAMAGED) from None
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            raise AuthError("keyring: the stored sign-in is not valid JSON", DAMAGED) from None
        return TokenRecord.from_json(data, self.where)

    def save(self, record: TokenRecord) -> None:
        self._keyring.set_password(KEYRING_SERVICE, KEYRING_USER, json.dumps(record.to_json()))

    def delete(self) -> bool:
        if self._keyring.get_password(KEYRING_SERVICE, KEYRING_USER) is None:
            return False
        self._keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
        return True


def _usable_keyring() -> Any | None:
    try:
        import keyring  # optional: not a dependency
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
        if getattr(backend, "priority", 0) <= 0:  # the "fail" backend: no keyring service
            return None
    except Exception:  # noqa: BLE001 (a broken keyring means: use the file)
        return None
    return keyring


def open_store(auth: AuthSettings, environ: Mapping[str, str] | None = None) -> TokenStore:
    """The keyring when asked for and available, else the file store."""
    if auth.use_keyring:
        keyring = _usable_keyring()
        if keyring is not None:
            return KeyringStore(keyring)
        log.warning("use_keyring is set but no OS keyring is available: using the token file")
    store = FileStore(store_path(auth, environ))
    store.check_path()
    return store
