"""Single keys from the terminal running ``assistant listen``: speech is never the only way.

``a`` answers on the preferred device, ``1``–``9`` answer on the listed devices, ``d`` declines,
``r`` repeats, ``h`` gives help, ``s`` sleeps or wakes (``Dialog.on_key``). A foot switch or a
hotkey that types one of these keys works the same way. On a terminal the keys act at once (no
Enter); from a pipe, one key per character.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from collections.abc import Iterator
from typing import TextIO

log = logging.getLogger(__name__)

KEYS = frozenset("ad123456789rhs")
POLL_SECONDS = 0.1


@contextlib.contextmanager
def _cbreak(fd: int) -> Iterator[None]:
    """Keys without Enter and without echo, restored on the way out."""
    import termios
    import tty

    try:
        saved = termios.tcgetattr(fd)
    except termios.error:  # not a terminal after all
        yield
        return
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def read_keys(stream: TextIO, stop: threading.Event) -> Iterator[str]:
    """The known keys typed on ``stream`` until ``stop`` or end of input."""
    fd = stream.fileno()
    context = _cbreak(fd) if os.isatty(fd) else contextlib.nullcontext()
    with context:
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], POLL_SECONDS)
            if not ready:
                continue
            data = os.read(fd, 64)
            if not data:
                return  # end of input: keys are done, the rest of the assistant goes on
            for char in data.decode("utf-8", "replace").lower():
                if char in KEYS:
                    yield char
                elif not char.isspace():
                    log.info("key %r does nothing (keys: a, 1-9, d, r, h, s)", char)
