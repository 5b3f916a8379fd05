"""The ``--events`` stream: JSON lines ``{"t": unix seconds, "event": name, ...}``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

EVENT_NAMES = frozenset(
    ["ready", "ringing", "speaking", "spoken", "listening", "acting", "heard", "key", "action",
     "error", "idle"]
)

Listener = Callable[[dict[str, Any]], None]


class EventLog:
    """Thread-safe event sink: writes JSON lines to a stream and notifies listeners."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.time) -> None:
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"t": round(self._clock(), 3), "event": event, **fields}
        with self._lock:
            if self._stream is not None:
                self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                self._stream.flush()
            for listener in self._listeners:
                listener(record)
        return record

    def __call__(self, event: str, fields: dict[str, Any]) -> None:
        """The ``on_event(name, fields)`` shape voice and audio report through."""
        self.emit(event, **fields)
