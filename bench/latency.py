"""Latency of the whole loop, measured in real time through the PulseAudio virtual microphone.

For each trial: a call rings at the emulator, ``assistant listen`` announces it, the person's
"answer on my desk phone" is played into the virtual microphone, and we measure from the end
of the spoken command (the last voiced sample leaving paplay) to

* the answer request arriving at the emulator (its request log), and
* the spoken confirmation starting (its ``speaking`` event; the short "done" earcon plays
  just before it).

    .venv/bin/python bench/latency.py [--trials 20] [--engine pocketsphinx]

Prints p50/p95 per measure and a JSON line with all figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fixtures_audio import start_pulse, stop_pulse
from fixtures_loop import EmulatorProcess, ListenProcess

COMMAND = "answer on my desk phone"


def speech_end_seconds(path: Path) -> float:
    """Offset of the last voiced 10 ms in a WAV (where the person stops talking)."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(float)
    frame = rate // 100
    energy = [np.sqrt(np.mean(samples[i : i + frame] ** 2)) for i in range(0, len(samples), frame)]
    threshold = max(energy) * 0.05
    last = max(i for i, e in enumerate(energy) if e > threshold)
    return (last + 1) / 100


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--engine", default="pocketsphinx")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="latency-"))
    (work / "runtime").mkdir()
    pulse = start_pulse(work / "runtime")
    command_wav = work / "command.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(command_wav), COMMAND], check=True)
    spoken_end = speech_end_seconds(command_wav)
    config = work / "assistant.toml"
    config.write_text("[dialog]\nfollow_up_seconds = 0.5\n[audio]\n")
    emulator_proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "emulator", "--port", "0"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert emulator_proc.stdout is not None
    url = emulator_proc.stdout.readline().strip().rsplit(" ", 1)[1]
    emulator = EmulatorProcess(url, emulator_proc)
    events = work / "events.jsonl"
    env = {**pulse.env, "WEBEX_ACCESS_TOKEN": "emulator-token", "XDG_CONFIG_HOME": str(work / "cfg")}
    with open(work / "listen.log", "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "--config", str(config), "--webex-url", url,
             "listen", "--engine", args.engine, "--events", str(events)],
            env=env, stderr=stderr, cwd=ROOT,
        )
    listen = ListenProcess(proc, events, work / "listen.log")
    to_request: list[float] = []
    to_speech: list[float] = []
    misses = 0
    try:
        listen.wait_for("ready", timeout=120)
        for trial in range(args.trials):
            call_id = emulator.ring(name="Dana Smith")
            listen.wait_for("spoken", lambda r: r["text"].startswith("Call from"))
            time.sleep(0.8)
            started = time.time()
            subprocess.run(["paplay", "--device=vmic", str(command_wav)], env=pulse.env, check=True)
            end_of_speech = started + spoken_end
            try:
                speaking = listen.wait_for(
                    "speaking", lambda r: r["text"].startswith("Answered"), timeout=15
                )
            except AssertionError:
                misses += 1
                emulator.control("POST", f"/_emulator/calls/{call_id}/end", {"reason": "remote"})
                continue
            answers = [r for r in emulator.requests("/calls/answer") if r["json"].get("callId") == call_id]
            to_request.append((answers[0]["t"] - end_of_speech) * 1000)
            to_speech.append((speaking["t"] - end_of_speech) * 1000)
            listen.wait_for("spoken", lambda r: r["text"].startswith("Answered"))
            emulator.control("POST", f"/_emulator/calls/{call_id}/end", {"reason": "remote"})
            listen.wait_for("idle", timeout=15)
            print(f"trial {trial + 1}: request {to_request[-1]:.0f} ms, speech {to_speech[-1]:.0f} ms",
                  flush=True)
    finally:
        proc.send_signal(2)
        proc.wait(timeout=15)
        emulator_proc.terminate()
        emulator_proc.wait(timeout=10)
        stop_pulse(pulse)
    figures = {
        "engine": args.engine,
        "trials": args.trials,
        "missed": misses,
        "to_request_ms": {"p50": percentile(to_request, 50), "p95": percentile(to_request, 95),
                          "mean": statistics.fmean(to_request)} if to_request else None,
        "to_confirmation_ms": {"p50": percentile(to_speech, 50), "p95": percentile(to_speech, 95)}
        if to_speech else None,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
