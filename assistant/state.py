"""What the assistant remembers between runs: whether the person said "stop listening", and how
many calls it has announced (``verbosity = "auto"`` is verbose for the first ones).

A small JSON file in the user's state folder (``paths.state_file``). Losing it is harmless (the defaults come back), so
a damaged file is logged and replaced, never fatal; it is written atomically.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_BYTES = 64 * 1024


@dataclass
class Remembered:
    sleeping: bool = False
    calls_announced: int = 0


class StateFile:
    """Load once, ``save`` after every change. ``path`` None keeps everything in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.value = self._load()

    def _load(self) -> Remembered:
        if self.path is None or not self.path.exists():
            return Remembered()
        try:
            if self.path.stat().st_size > MAX_BYTES:
                raise ValueError("too large")
            data = json.loads(self.path.read_text("utf-8"))
            return Remembered(
                sleeping=data.get("sleeping") is True,
                calls_announced=max(0, min(10**6, int(data.get("calls_announced", 0)))),
            )
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("state file %s is unusable (%s); starting afresh", self.path, exc)
            return Remembered()

    def save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".state-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(asdict(self.value), out)
            os.replace(temporary, self.path)
        except OSError as exc:  # remembering is a comfort, not a duty: say it in the log only
            log.warning("could not save %s: %s", self.path, exc)
