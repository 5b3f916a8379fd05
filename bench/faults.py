"""Faults while ``listen`` runs: from the moment a part breaks to the moment the person is told.

    .venv/bin/python bench/faults.py [--trials 10]

Issue 10 asks that killing the microphone, the call poller or speech synthesis while the
assistant runs is said aloud (or toned) within 2 s, and that the part comes back. This runs the
real session in process (the emulator on loopback, the real recogniser and voice; no speaker
here, so the voice reports what it plays as events) and, per trial:

- microphone: the capture generator raises → the "Listening stopped …" sentence starts;
  back = the microphone is opened again;
- poller: the poller thread dies → the "Watching for calls stopped …" sentence starts;
  back = a call rung afterwards is announced;
- synthesis: the synthesizer fails for the next announcement → the voice's error (the error
  tone is queued at that moment); back = the next sentence is spoken.

Reported: p50 / p95 / max seconds to the sentence or tone, and how many trials came back.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from assistant.calls import CallWatcher  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.events import EventLog  # noqa: E402
from assistant.session import open_session  # noqa: E402
from assistant.webex.emulator import Emulator  # noqa: E402

FRAME = bytes(640)
LIMIT_SECONDS = 2.0


class Killed(BaseException):
    """Ends a thread the way a crash would (not caught by the parts' own ``except Exception``)."""


class Microphone:
    def __init__(self) -> None:
        self.break_now = threading.Event()
        self.opened = 0
        self._closed = threading.Event()

    def frames(self) -> Iterator[bytes]:
        self.opened += 1
        while not self._closed.wait(0.02):
            if self.break_now.is_set():
                self.break_now.clear()
                raise RuntimeError("capture broke")
            yield FRAME

    def close(self) -> None:
        self._closed.set()


class Run:
    def __init__(self, emulator: Emulator, folder: Path) -> None:
        self.records: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        events = EventLog()
        events.subscribe(self._record)
        self.microphone = Microphone()
        self.stop = threading.Event()
        settings = Settings().replace("webex", url=emulator.url, access_token=emulator.token,
                                      poll_interval_seconds=1.0)
        settings = settings.replace("voice", fallback_wav=str(folder / "speech.wav"))
        self.voice: Any = None

        def run() -> None:
            with open_session(settings, None, lambda v, d, n: self.microphone, events) as session:
                self.voice = session.voice
                session.run(self.stop)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        self.wait(lambda r: r["event"] == "ready", 60)

    def _record(self, record: dict[str, Any]) -> None:
        record = dict(record, mono=time.monotonic())
        with self.lock:
            self.records.append(record)

    def wait(self, match: Any, seconds: float, after: float = 0.0) -> dict[str, Any] | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                found = [r for r in self.records if r["mono"] >= after and match(r)]
            if found:
                return found[0]
            time.sleep(0.01)
        return None

    def close(self) -> None:
        self.stop.set()
        self.thread.join(20)


def _said(start: str) -> Any:
    return lambda r: r["event"] == "speaking" and str(r.get("text", "")).startswith(start)


def microphone_trial(run: Run) -> tuple[float | None, bool]:
    opened = run.microphone.opened
    started = time.monotonic()
    run.microphone.break_now.set()
    told = run.wait(_said("Listening stopped"), 10, started)
    deadline = time.monotonic() + 10
    while run.microphone.opened == opened and time.monotonic() < deadline:
        time.sleep(0.01)
    return (told["mono"] - started if told else None), run.microphone.opened > opened


def poller_trial(run: Run, emulator: Emulator, kill: threading.Event, number: int) -> tuple[float | None, bool]:
    started = time.monotonic()
    kill.set()
    told = run.wait(_said("Watching for calls stopped"), 10, started)
    caller = f"Poller Test {number}"
    emulator.ring(name=caller)
    back = run.wait(_said(f"Call from {caller}"), 15, started) is not None
    _end_all(emulator)
    return (told["mono"] - started if told else None), back


def synthesis_trial(run: Run, emulator: Emulator, number: int) -> tuple[float | None, bool]:
    synth = run.voice._synth  # the one place the bench reaches inside: a broken synthesizer
    working = synth.to_file

    def broken(text: str, path: Path) -> None:
        raise RuntimeError("synthesizer broke")

    synth.to_file = broken
    started = time.monotonic()
    emulator.ring(name=f"Synthesis Test {number}")
    rang = run.wait(lambda r: r["event"] == "ringing", 10, started)
    told = run.wait(lambda r: r["event"] == "error" and r.get("source") == "voice", 10, started)
    synth.to_file = working
    _end_all(emulator)
    back = run.wait(_said("The call from"), 15, started) is not None  # "… stopped ringing"
    if rang is None or told is None:
        return None, back
    return told["mono"] - rang["mono"], back


def _end_all(emulator: Emulator) -> None:
    for call in emulator.calls():
        if call.get("state") not in ("disconnected",):
            try:
                emulator.end_call(call["id"])
            except Exception:  # noqa: BLE001 - already gone
                pass


def summary(times: list[float | None], back: list[bool]) -> dict[str, Any]:
    told = sorted(t for t in times if t is not None)
    row: dict[str, Any] = {"trials": len(times), "told": len(told), "came_back": sum(back),
                           "within_2s": sum(t <= LIMIT_SECONDS for t in told)}
    if told:
        row.update(p50_s=round(statistics.median(told), 3),
                   p95_s=round(told[min(len(told) - 1, int(0.95 * len(told)))], 3),
                   max_s=round(told[-1], 3))
    return row


def run(trials: int = 10) -> dict[str, Any]:
    kill = threading.Event()

    class KillablePoller(CallWatcher):
        def poll_once(self) -> Any:
            if kill.is_set():
                kill.clear()
                raise Killed()
            return super().poll_once()

    import assistant.loop as loop

    loop.CallWatcher = KillablePoller  # type: ignore[misc]
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as folder, Emulator() as emulator:
            for name in ("microphone", "poller", "synthesis"):
                times: list[float | None] = []
                back: list[bool] = []
                for number in range(trials):
                    # a fresh session per trial: a part that fails again within 30 s is restarted
                    # with a growing pause and said once, which is not what is measured here
                    session = Run(emulator, Path(folder))
                    try:
                        time.sleep(0.5)
                        if name == "microphone":
                            told, ok = microphone_trial(session)
                        elif name == "poller":
                            told, ok = poller_trial(session, emulator, kill, number)
                        else:
                            told, ok = synthesis_trial(session, emulator, number)
                    finally:
                        session.close()
                        _end_all(emulator)
                    times.append(told)
                    back.append(ok)
                results[name] = summary(times, back)
    finally:
        loop.CallWatcher = CallWatcher  # type: ignore[misc]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    results = run(args.trials)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
