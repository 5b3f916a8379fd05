"""Footprint of ``assistant listen`` per recognition mode: start-up, memory, CPU, decode speed.

    .venv/bin/python bench/footprint.py [--modes spot,naive] [--seconds 60] [--json FILE]

Per mode (``[speech] recognition``), with the emulator and a private PulseAudio (bench/latency.py's
live set-up):

* ``ready_seconds``: from starting the process to its ``ready`` event;
* memory from /proc/<pid>/status: ``peak_rss_mb`` (VmHWM, at the end), ``steady_rss_mb``
  (median VmRSS while listening, silence and babble together: the figure reported before
  2026-12-03), and VmRSS while listening to silence and to babble apart (``rss_silence_mb``,
  ``rss_babble_mb``: median; ``rss_babble_max_mb``). In babble the room holds the utterance
  open and every peek decodes it again: the spotting search's word history grows with it
  (``pocketsphinx.SPOTTING_BEAMS``), so the median of both together hid what chatter costs;
* ``cpu_percent`` of one core (utime + stime from /proc/<pid>/stat): ``cpu_percent_settling``
  over the first ``SETTLE_SECONDS`` after ``ready`` (the voice prepares its fixed sentences
  then: measured at 8.2 % in the first 10 s against 3.5 % and 3.0 % in the next two), then
  while listening ``--seconds`` to silence (idle) and ``--seconds`` to office babble.
  ``[dialog] listen_mode = "always"`` so the recogniser hears everything: in the default ``ringing`` mode it only decodes while a
  call rings, and the figure is the cost of listening while it does;
* the decode real-time factor: ``assistant transcribe --json`` over a handful of clips,
  sum(decode_ms) / sum(audio_ms) and the median per clip.

Timings on a shared machine are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import (  # noqa: E402
    COMMAND,
    ROOT,
    BabblePlayer,
    LiveSession,
    babble_for,
    command_wavs,
    workdir,
)

from assistant.audio_io import read_wav_16k  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CLIP_VOICES = ("en-us", "en-us+m3", "en-us+f2", "en-gb")
OFF_DOMAIN = ("let me answer that email later", "the phone in the kitchen is ringing")
BABBLE_SNR_DB = 12.0
SETTLE_SECONDS = 10.0  # after ready, before the idle figure: start-up work, reported apart


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process and its waited-for children so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS  # utime stime cu cs


def memory_kb(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in status)
                if k in ("VmRSS", "VmHWM")}


def listen_for(pid: int, seconds: float, rss_samples: list[int]) -> float:
    """CPU % of one core over ``seconds`` of listening (sampling VmRSS four times a second:
    a peek's decode holds its memory for about a second)."""
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    while (left := seconds - (time.monotonic() - start)) > 0:
        time.sleep(min(0.25, left))
        rss_samples.append(memory_kb(pid)["VmRSS"])
    return round(100 * (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start), 1)


def make_clips(work: Path, commands: list[Path], babble: np.ndarray) -> list[Path]:
    """The command in four voices, the same in babble (12 dB), and two off-domain sentences."""
    from fixtures_audio import write_wav
    from speech_corpus import mix

    clips = list(commands)
    for i, path in enumerate(commands):
        speech = read_wav_16k(path)
        noise = babble[i * 64000 : i * 64000 + len(speech) // 2 + 32000].tobytes()
        mixed = np.frombuffer(mix(speech, noise, BABBLE_SNR_DB, offset_ms=1000), np.int16)
        clips.append(write_wav(work / f"babble-{path.name}", mixed, 16000))
    for i, text in enumerate(OFF_DOMAIN):
        clips.append(work / f"off-domain-{i}.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(clips[-1]), text], check=True)
    return clips


def decode_speed(config: Path, clips: list[Path]) -> dict[str, Any]:
    """``assistant transcribe`` over the clips; no token, so it stays offline (default devices)."""
    env = {k: v for k, v in os.environ.items() if k != "WEBEX_ACCESS_TOKEN"}
    env["XDG_CONFIG_HOME"] = str(config.parent / "cfg")  # not the user's stored sign-in
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "--config", str(config), "--webex-url",
         "http://127.0.0.1:9", "transcribe", "--json", *map(str, clips)],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=env,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    rows = [r for r in rows if "decode_ms" in r]
    if not rows:
        return {"error": done.stderr.strip()[-500:] or f"exit {done.returncode}"}
    decode, audio = sum(r["decode_ms"] for r in rows), sum(r["audio_ms"] for r in rows)
    return {"clips": len(rows), "rtf": round(decode / audio, 3),
            "median_decode_ms": round(statistics.median(r["decode_ms"] for r in rows), 1),
            "median_rtf": round(statistics.median(r["decode_ms"] / r["audio_ms"] for r in rows), 3)}


def measure_mode(work: Path, mode: str, engine: str, seconds: float, babble: np.ndarray,
                 clips: list[Path]) -> dict[str, Any]:
    config = {"speech": {"engine": engine, "recognition": mode},
              "dialog": {"listen_mode": "always"}}
    rss: dict[str, list[int]] = {"silence": [], "babble": []}
    with LiveSession(work / mode, config) as session:
        pid = session.listen.process.pid
        ready_seconds = session.ready["t"] - session.started_at
        settling_cpu = listen_for(pid, SETTLE_SECONDS, [])  # start-up: not the steady RSS
        silence_cpu = listen_for(pid, seconds, rss["silence"])
        player, babble_start = BabblePlayer(session.pulse, babble).start(), time.time()
        try:
            babble_cpu = listen_for(pid, seconds, rss["babble"])
        finally:
            player.stop()
        heard = sum(r["event"] == "heard" and r["t"] >= babble_start
                    for r in session.listen.read())
        peak_kb = memory_kb(pid)["VmHWM"]
        settings = session.work / "assistant.toml"
        row = {
            "mode": mode,
            "ready_seconds": round(ready_seconds, 2),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "steady_rss_mb": round(statistics.median(rss["silence"] + rss["babble"]) / 1024, 1),
            "rss_silence_mb": round(statistics.median(rss["silence"]) / 1024, 1),
            "rss_babble_mb": round(statistics.median(rss["babble"]) / 1024, 1),
            "rss_babble_max_mb": round(max(rss["babble"]) / 1024, 1),
            "cpu_percent_settling": settling_cpu,
            "cpu_percent_silence": silence_cpu,
            "cpu_percent_babble": babble_cpu,
            "heard_in_babble": heard,  # utterances the recogniser returned text for
            "listen_seconds": seconds,
        }
    row["decode"] = decode_speed(settings, clips)
    return row


def run(modes: list[str], seconds: float = 60.0, engine: str = "pocketsphinx") -> dict[str, Any]:
    """Every mode's footprint; the JSON-able results."""
    with workdir("footprint-") as work:
        commands = [path for path, _ in command_wavs(work, COMMAND, CLIP_VOICES).values()]
        babble, source = babble_for(work, commands, BABBLE_SNR_DB)
        clips = make_clips(work, commands, babble)
        rows = []
        for mode in modes:
            rows.append(measure_mode(work, mode, engine, seconds, babble, clips))
            print(json.dumps(rows[-1]), flush=True)
    return {"engine": engine, "listen_seconds": seconds, "babble": source,
            "clips": [c.name for c in clips], "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="spot,naive", help="comma-separated recognition modes")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="listening time for each CPU figure (silence, babble); default 60")
    parser.add_argument("--engine", default="pocketsphinx")
    parser.add_argument("--json", metavar="FILE", help="write the results here too")
    args = parser.parse_args()
    results = run(args.modes.split(","), args.seconds, args.engine)
    text = json.dumps(results)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
