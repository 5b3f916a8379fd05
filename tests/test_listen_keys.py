"""Never speech-only: ``assistant listen`` run as the person runs it, with no microphone and no
speaker, against the emulator process. Keys act on the ringing call and every spoken sentence
also appears as a plain line of text on stdout."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from fixtures_loop import EmulatorProcess


def _lines(stream: object, out: queue.Queue[str]) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        out.put(raw.decode("utf-8", "replace").rstrip("\n"))


def _wait_line(lines: queue.Queue[str], seen: list[str], start: str, seconds: float = 30.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(line)
        if line.startswith(start):
            return line
    raise AssertionError(f"no line starting {start!r}; stdout: {seen}")


def test_keys_answer_a_ringing_call_and_every_sentence_is_a_text_line(
    emulator_process: EmulatorProcess, headless: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, config = headless
    events = tmp_path / "events.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--config", str(config), "--webex-url",
         emulator_process.url, "listen", "--keys", "on", "--events", str(events)],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        _wait_line(lines, seen, "The microphone", 120)  # no microphone here: said, and printed
        emulator_process.ring(name="Dana Smith")
        _wait_line(lines, seen, "Call from Dana Smith.")
        process.stdin.write(b"2")  # the second listed device
        process.stdin.flush()
        _wait_line(lines, seen, "The call was answered. Your")
        answers = emulator_process.requests("/calls/answer")
        assert len(answers) == 1 and answers[0]["status"] == 204
        assert "endpointId" in answers[0]["json"]
        process.stdin.write(b"h")
        process.stdin.flush()
        assert "Keys: a answers" in _wait_line(lines, seen, "You're on a call.")
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=15)
        reader.join(5)
        process.stdin.close()
        process.stdout.close()
    assert code == 0
    while not lines.empty():
        seen.append(lines.get())
    records = [json.loads(line) for line in events.read_text().splitlines()]
    spoken = [r["text"] for r in records if r["event"] == "speaking"]
    assert len(spoken) >= 4 and all(text in seen for text in spoken)  # every one, as a line
    assert not any("\x1b" in line for line in seen)
