"""Where speech goes when there is no speaker: a WAV file only its owner can reach.

The default file is ``speech.wav`` in a private per-user folder: ``$XDG_RUNTIME_DIR/assistant``
when the runtime folder is ours, else ``<temp>/assistant-<uid>``; the folder is created with
mode 0700 and refused when it is a link or belongs to someone else (a fresh random folder is
used instead). The file itself, default or configured (``voice.fallback_wav``), is opened
without following a link (``O_NOFOLLOW``) and used only if it is a regular file of ours.

Sound is appended: each sentence writes its own samples and patches the 44-byte header, so the
work per sentence does not grow with the file. Past ``max_seconds`` of audio the file becomes
``<name>.previous.wav`` and a new one starts: at most the last two files' worth is kept.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from assistant.errors import VoiceError

log = logging.getLogger(__name__)

RATE_HZ = 22050
MAX_SECONDS = 300.0  # five minutes per file
HEADER_BYTES = 44
SPOKEN_FAILURE = "I cannot write my speech to a file."


def _header(data_bytes: int) -> bytes:
    return (
        b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, RATE_HZ, RATE_HZ * 2, 2, 16)
        + b"data" + struct.pack("<I", data_bytes)
    )


def private_folder(environ: Mapping[str, str] | None = None) -> Path:
    """This user's folder for speech files (mode 0700, ours, not a link); created if needed."""
    environ = os.environ if environ is None else environ
    uid = os.getuid()
    candidates = []
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if runtime and _is_ours(Path(runtime), uid):
        candidates.append(Path(runtime) / "assistant")
    candidates.append(Path(tempfile.gettempdir()) / f"assistant-{uid}")
    for folder in candidates:
        if _make_private(folder, uid):
            return folder
    folder = Path(tempfile.mkdtemp(prefix=f"assistant-{uid}-"))  # random name, 0700, ours
    log.warning("speech folders %s are not private; using %s", ", ".join(map(str, candidates)), folder)
    return folder


def _is_ours(path: Path, uid: int) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == uid


def _make_private(folder: Path, uid: int) -> bool:
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        log.warning("cannot create %s: %s", folder, exc)
        return False
    if not _is_ours(folder, uid):  # a link, a file, or someone else's folder: never used
        log.warning("%s is a link or not this user's folder; not writing speech there", folder)
        return False
    if stat.S_IMODE(os.lstat(folder).st_mode) & 0o077:
        os.chmod(folder, 0o700, follow_symlinks=False)
    return True


class SpeechFile:
    """Appends int16 mono samples at ``RATE_HZ`` to a WAV file; bounded, private, link-proof."""

    def __init__(self, path: Path, max_seconds: float = MAX_SECONDS, private: bool = False) -> None:
        self.path = path
        self.private = private  # the folder must stay this user's, mode 0700, not a link
        self.previous = path.with_name(path.stem + ".previous" + (path.suffix or ".wav"))
        self.max_bytes = int(max_seconds * RATE_HZ) * 2
        self.bytes_written = 0  # everything written, headers included (to check the cost)
        self._dir = -1
        self._fd = -1

    @classmethod
    def open(cls, configured: str, environ: Mapping[str, str] | None = None) -> SpeechFile:
        """The configured file if it can be used safely, else ``speech.wav`` in the private folder."""
        if configured:
            wanted = cls(Path(configured).expanduser())
            try:
                wanted._open()
                return wanted
            except VoiceError as exc:
                log.error("%s; speech goes to the private folder instead", exc)
        speech = cls(private_folder(environ) / "speech.wav", private=True)
        speech._open()
        return speech

    def append(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, dtype="<i2").tobytes()
        if self._fd < 0 or self._replaced():
            self.close()
            self._open()
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # another assistant of the same user may write too
        try:
            size = self._valid_size()
            if size > HEADER_BYTES and size - HEADER_BYTES + len(data) > self.max_bytes:
                os.replace(self.path.name, self.previous.name, src_dir_fd=self._dir, dst_dir_fd=self._dir)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = self._open_file()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
                size = self._valid_size()
            self._write(data, size)
            self._write(_header(size - HEADER_BYTES + len(data))[:HEADER_BYTES], 0)
        except OSError as exc:
            raise VoiceError(f"cannot append speech to {self.path}: {exc}", SPOKEN_FAILURE) from exc
        finally:
            if self._fd >= 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        for fd in (self._fd, self._dir):
            if fd >= 0:
                os.close(fd)
        self._fd = self._dir = -1

    # -- inside -------------------------------------------------------------------------------

    def _open(self) -> None:
        parent = self.path.parent
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            nofollow = os.O_NOFOLLOW if self.private else 0
            self._dir = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | nofollow)
            st = os.fstat(self._dir)
            if self.private and (st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & 0o077):
                raise OSError(f"{parent} is not a private folder of this user")
            self._fd = self._open_file()
        except OSError as exc:
            self.close()
            raise VoiceError(f"cannot use {self.path} for speech: {exc}", SPOKEN_FAILURE) from exc

    def _open_file(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path.name, flags, 0o600, dir_fd=self._dir)  # a link: ELOOP, not followed
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_nlink != 1:
            os.close(fd)
            raise OSError(f"{self.path} is not a plain file of this user")
        return fd

    def _replaced(self) -> bool:
        """Whether the name now means another file (rotated by another writer)."""
        try:
            named = os.stat(self.path.name, dir_fd=self._dir, follow_symlinks=False)
        except OSError:
            return True
        mine = os.fstat(self._fd)
        return (named.st_dev, named.st_ino) != (mine.st_dev, mine.st_ino)

    def _valid_size(self) -> int:
        """The file's size once it starts with our header (an empty or foreign file restarts)."""
        size = os.fstat(self._fd).st_size
        head = os.pread(self._fd, HEADER_BYTES, 0)
        ours = _header(0)
        if size >= HEADER_BYTES and head[:4] + head[8:40] == ours[:4] + ours[8:40]:
            return size - (size - HEADER_BYTES) % 2
        if size:
            log.warning("%s is not a WAV this can append to; starting it again", self.path)
        os.ftruncate(self._fd, 0)
        self._write(_header(0), 0)
        return HEADER_BYTES

    def _write(self, data: bytes, offset: int) -> None:
        view = memoryview(data)
        while view:
            count = os.pwrite(self._fd, view, offset)
            view, offset = view[count:], offset + count
            self.bytes_written += count
