"""Ring at Webex → first audio of the announcement, through the PulseAudio virtual speaker.

``assistant listen`` runs against the emulator with the default 1 s poll (single keys on
standard input, nothing said into the microphone). Each trial rings a call with a new caller
name and records what the virtual speaker plays, 10 ms at a time, stamped with the wall clock:

* ``idle``: nothing is playing when the call rings;
* ``speaking``: the assistant is saying a long sentence (help, asked for with the ``h`` key) when
  the poll sees the call: the new ring must cut it (a confirmation is too short to be sure the
  1 s poll sees the call while it is still being spoken).

Per trial, from the ring (the control request to the emulator), in ms: ``poll`` (the ``ringing``
event: the poll saw the call), ``tone`` (first sound after the poll), ``name`` (first speech of
the announcement: speech-like audio that starts after the poll, after any sentence that was
already playing ended), ``speaking`` (the ``speaking`` event of the announcement), and for
``speaking`` ``cut`` (from the poll to the end of that sentence's audio). ``name`` is what the
issue's "Done when" is about (p50 ≤ 1000 ms). Trials ring at evenly spread points of the
1 s poll cycle (timed from the assistant's own List Calls requests at the emulator), so the
0-1 s wait for the poll is sampled evenly rather than by luck.

    .venv/bin/python bench/announce.py [--trials 20] [--scenarios idle,speaking]
                                       [--baseline REV] [--json FILE]

``--baseline REV`` runs the same trials, in the same run, with the assistant as it was at git
revision REV (extracted with ``git archive`` into a temporary folder; the emulator is always
today's). Prints one line per trial, then p50/p95/max per (code, scenario) and a JSON document.
Timings on a shared machine are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(BENCH)]

from latency import LiveSession, stats, workdir  # noqa: E402

NAMES = ("Dana Smith", "Lee Wong", "Maria Garcia", "Tom Baker", "Priya Patel", "Sam Jones",
         "Alex Kim", "Nora Hill", "Omar Aziz", "Eva Stone", "Ian Ford", "Lena Berg",
         "Raj Mehta", "Kate Moss", "Juan Ortiz", "Amy Chen", "Ben Cole", "Zoe Hart",
         "Leo Brandt", "Ada Lowe")
SCENARIOS = ("idle", "speaking")
RATE_HZ = 16000
CHUNK = RATE_HZ // 100  # 10 ms
LOUD_RMS = 200.0
# Earcons are one or two sine tones: in a 20 ms window, 6 FFT bins hold >= 98 % of their energy;
# speech spreads over many harmonics and formants (espeak-ng: 6 bins hold 13-96 %, median 70 %).
TONE_PEAK_SHARE = 0.97
EVENT_SLACK_SECONDS = 0.02  # the speaker's 10 ms chunks are stamped when read


class Speaker:
    """Everything the virtual speaker plays, 10 ms chunks stamped with the wall-clock time."""

    def __init__(self, env: dict[str, str]) -> None:
        self._proc = subprocess.Popen(
            ["pacat", "--record", "--raw", "--format=s16le", f"--rate={RATE_HZ}", "--channels=1",
             "--device=vspk.monitor", "--latency-msec=10"], env=env, stdout=subprocess.PIPE)
        self.chunks: list[tuple[float, np.ndarray]] = []
        self._thread = threading.Thread(target=self._read, name="speaker", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while data := self._proc.stdout.read(CHUNK * 2):
            samples = np.frombuffer(data[: len(data) - len(data) % 2], np.int16)
            self.chunks.append((time.time() - len(samples) / RATE_HZ, samples))

    def windows(self, since: float, until: float) -> list[tuple[float, str]]:
        """(start, "quiet" | "tone" | "speech") per 10 ms chunk, classified over 20 ms."""
        chunks = [(t, s) for t, s in list(self.chunks) if since <= t <= until]
        out = []
        for i, (t, samples) in enumerate(chunks):
            pair = np.concatenate([samples] + [s for _, s in chunks[i + 1 : i + 2]])
            out.append((t, classify(pair)))
        return out

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._thread.join(timeout=5)


def classify(samples: np.ndarray) -> str:
    x = samples.astype(np.float64)
    if len(x) == 0 or np.sqrt(np.mean(x**2)) <= LOUD_RMS:
        return "quiet"
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    return "tone" if np.sort(power)[-6:].sum() >= TONE_PEAK_SHARE * power.sum() else "speech"


def onsets(windows: list[tuple[float, str]], poll: float, speaking: float) -> dict[str, float]:
    """When a sentence still playing at the poll ended ("cut"), the first sound after the poll
    ("tone"), and the first speech of the announcement ("name": 3 of 4 chunks speech, not
    before its ``speaking`` event, which the voice sends before the samples go out)."""
    found: dict[str, float] = {}
    before = [k for t, k in windows if poll - 0.3 <= t < poll]  # pauses between words: < 0.3 s
    after = [(t, k) for t, k in windows if t >= poll]
    kinds = [k for _, k in after]
    start = 0
    if "speech" in before:  # its end: the first 50 ms without speech after the poll
        start = next((i for i in range(len(kinds)) if "speech" not in kinds[i : i + 5]),
                     len(kinds))
        if start < len(kinds):
            found["cut"] = after[start][0]
    for i in range(start, len(kinds)):
        if "tone" not in found and kinds[i] != "quiet":
            found["tone"] = after[i][0]
        if (kinds[i] == "speech" and after[i][0] >= speaking - EVENT_SLACK_SECONDS
                and kinds[i : i + 4].count("speech") >= 3):
            found["name"] = after[i][0]
            break
    return found


class AnnounceSession(LiveSession):
    """LiveSession with keys on standard input, running the assistant from ``code``."""

    global_args = ("-v",)
    listen_args = ("--keys", "on")
    keys_on_stdin = True

    def __init__(self, work: Path, code: Path) -> None:
        super().__init__(work, {"voice": {}})
        self.code = code

    def _start(self) -> None:
        super()._start()
        _wait(self, self.started_at, "spoken", lambda r: True, 20)  # "Connected to Webex" etc.
        time.sleep(1.0)

    def key(self, key: str) -> None:
        stdin = self.listen.process.stdin
        assert stdin is not None
        stdin.write(key.encode() + b"\n")
        stdin.flush()


def _wait(session: LiveSession, since: float, name: str, where: Any,
          timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and session.listen.process.poll() is None:
        for record in session.listen.read():
            if record["t"] >= since and record["event"] == name and where(record):
                return dict(record)
        time.sleep(0.02)
    return None


def _settle(session: AnnounceSession, speaker: Speaker, seconds: float = 0.8,
            timeout: float = 20.0) -> None:
    """Until the speaker has been quiet for ``seconds``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = time.time()
        recent = [k for _, k in speaker.windows(now - seconds, now)]
        if len(recent) >= seconds * 90 and all(k == "quiet" for k in recent):
            return
        time.sleep(0.1)


def _end_all(session: AnnounceSession) -> None:
    for call in session.emulator.control("GET", "/_emulator/calls"):
        if call.get("state") not in ("disconnected", "missed", "ended"):
            try:
                session.emulator.control("POST", f"/_emulator/calls/{call['id']}/end",
                                         {"reason": "remote"})
            except Exception:  # noqa: BLE001 - already gone
                pass


def _before_poll(session: AnnounceSession, delay: float) -> None:
    """Waits until the assistant's next List Calls request is ``delay`` seconds away (from the
    times of its last requests at the emulator), so that a ring now waits ``delay`` for it."""
    polls = [r["t"] for r in session.emulator.requests("/v1/telephony/calls")
             if r["method"] == "GET"][-6:]
    gaps = sorted(b - a for a, b in zip(polls, polls[1:]))
    interval = gaps[len(gaps) // 2] if gaps else 1.0
    next_poll = polls[-1] + interval if polls else time.time() + delay
    while next_poll - delay < time.time() + 0.02:
        next_poll += interval
    time.sleep(next_poll - delay - time.time())


def run_trial(session: AnnounceSession, speaker: Speaker, scenario: str, name: str,
              poll_delay: float) -> dict[str, Any]:
    trial: dict[str, Any] = {"scenario": scenario, "caller": name,
                             "aimed_poll_ms": round(poll_delay * 1000)}
    if scenario == "speaking":  # help is long: the poll sees the call while it is spoken
        since = time.time()
        session.key("h")
        helping = _wait(session, since, "speaking", lambda r: True, 15)
        if helping is None:
            return {**trial, "error": "no help"}
    _before_poll(session, poll_delay)
    ring_t = time.time()
    session.emulator.ring(name=name)
    ringing = _wait(session, ring_t, "ringing", lambda r: r.get("caller") == name, 10)
    speaking = _wait(session, ring_t, "speaking", lambda r: name in r.get("text", ""), 15)
    if ringing is None or speaking is None:
        return {**trial, "error": "not announced"}
    time.sleep(max(0.0, speaking["t"] + 1.5 - time.time()))
    found = onsets(speaker.windows(ringing["t"] - 0.4, speaking["t"] + 1.5), ringing["t"],
                   speaking["t"])
    # what played from 0.3 s before the ring, 10 ms a letter (quiet, tone, speech; "|": the poll)
    trial["trace"] = "".join(("|" if t <= ringing["t"] < t + 0.01 else "") + k[0]
                             for t, k in speaker.windows(ring_t - 0.3, ringing["t"] + 1.2))
    trial["poll_ms"] = round((ringing["t"] - ring_t) * 1000, 1)
    trial["speaking_ms"] = round((speaking["t"] - ring_t) * 1000, 1)
    for key in ("tone", "name"):
        if key in found:
            trial[f"{key}_ms"] = round((found[key] - ring_t) * 1000, 1)
    if scenario == "speaking":
        spoken = _wait(session, helping["t"], "spoken", lambda r: name not in r.get("text", ""), 5)
        trial["sentence_cut"] = bool(spoken) and spoken.get("completed") is False
        if "cut" in found:
            trial["cut_ms"] = round((found["cut"] - ringing["t"]) * 1000, 1)
    session.key("d")  # declined: the dialog goes back to idle
    time.sleep(0.3)
    _end_all(session)
    _settle(session, speaker)
    return trial


def run_code(label: str, code: Path, work: Path, scenarios: list[str],
             trials: int) -> list[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    # The poll waits 0-1 s after a ring: the trials ring at evenly spread points of its cycle
    # (in a shuffled order), so p50 over them is the p50 over all rings, not a lucky draw.
    delays = [(i + 0.5) / trials for i in range(trials)]
    random.Random(7).shuffle(delays)
    with AnnounceSession(work / label, code) as session:
        speaker = Speaker(session.pulse.env)
        try:
            _settle(session, speaker)
            for scenario in scenarios:
                for number in range(trials):
                    trial = {"code": label, "trial": number + 1,
                             **run_trial(session, speaker, scenario, NAMES[number % len(NAMES)],
                                           delays[number])}
                    done.append(trial)
                    print(_line(trial), flush=True)
        finally:
            speaker.stop()
    return done


KEYS = ("poll_ms", "tone_ms", "name_ms", "speaking_ms", "cut_ms")


def summarize(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for code in dict.fromkeys(t["code"] for t in trials):
        for scenario in dict.fromkeys(t["scenario"] for t in trials):
            mine = [t for t in trials if t["code"] == code and t["scenario"] == scenario]
            row: dict[str, Any] = {"code": code, "scenario": scenario, "trials": len(mine),
                                   "errors": sum("error" in t for t in mine)}
            for key in KEYS:
                row[key] = stats([t[key] for t in mine if key in t])
            row["name_after_poll_ms"] = stats([t["name_ms"] - t["poll_ms"] for t in mine
                                               if "name_ms" in t])
            if scenario == "speaking":
                row["sentence_cut"] = sum(bool(t.get("sentence_cut")) for t in mine)
            rows.append(row)
    return rows


def _line(t: dict[str, Any]) -> str:
    times = "  ".join(f"{k[:-3]} {t[k]:.0f}" for k in KEYS if k in t)
    return f"{t['code']:<9} {t['scenario']:<8} #{t['trial']:<3} {t.get('error', '')}{times}"


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["code      scenario  n   name p50/p95  name-after-poll p50/p95  tone p50  "
             "poll p50  cut p50/p95"]
    for r in rows:
        def f(key: str, both: bool = True) -> str:
            s = r[key]
            return "-" if s is None else (f"{s['p50']:.0f}/{s['p95']:.0f}" if both
                                          else f"{s['p50']:.0f}")
        lines.append(f"{r['code']:<9} {r['scenario']:<9} {r['trials']:<3} "
                     f"{f('name_ms'):<13} {f('name_after_poll_ms'):<24} "
                     f"{f('tone_ms', False):<9} {f('poll_ms', False):<9} {f('cut_ms')}")
    return "\n".join(lines)


def extract(rev: str, into: Path) -> Path:
    """The package as it was at ``rev`` (git archive), for a before/after in one run."""
    archive = subprocess.run(["git", "archive", rev, "assistant", "models", "config"], cwd=ROOT,
                             check=True, capture_output=True, timeout=60).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True, timeout=60)
    return into


def run(trials: int = 20, scenarios: list[str] | None = None,
        baseline: str | None = None) -> dict[str, Any]:
    scenarios = scenarios or list(SCENARIOS)
    with workdir("announce-") as work:
        all_trials: list[dict[str, Any]] = []
        if baseline:
            old = extract(baseline, Path(tempfile.mkdtemp(dir=work, prefix="baseline-")))
            all_trials += run_code(f"@{baseline[:7]}", old, work, scenarios, trials)
        all_trials += run_code("now", ROOT, work, scenarios, trials)
    return {"poll_interval_seconds": 1.0, "trials_per_scenario": trials, "baseline": baseline,
            "rows": summarize(all_trials), "trials": all_trials}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="per scenario; default 20")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--baseline", metavar="REV", help="also measure the code at git REV")
    parser.add_argument("--json", metavar="FILE", help="write the results here too")
    args = parser.parse_args()
    scenarios = args.scenarios.split(",")
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; known: {', '.join(SCENARIOS)}")
    results = run(args.trials, scenarios, args.baseline)
    print(_table(results["rows"]))
    text = json.dumps(results)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(text if not os.isatty(1) else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
