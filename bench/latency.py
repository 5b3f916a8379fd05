"""Latency of the whole loop, measured in real time through the PulseAudio virtual microphone.

For each recognition mode (``[speech] recognition``) and room (quiet, or office babble 12 dB
below the command, playing into the microphone for the whole run), each trial: a call rings at
the emulator, ``assistant listen`` announces it, "answer on my desk phone" (rotating through
four espeak-ng voices) is played into the virtual microphone, and we record whether and where
the call was answered (the emulator's request log) and, from the end of the spoken command
(the last voiced sample leaving paplay), the time to

* the answer request arriving at the emulator,
* the first sound from the virtual speaker after it (the "done" tone that starts the
  confirmation), and
* the ``speaking`` event of the spoken confirmation.

    .venv/bin/python bench/latency.py [--trials 20] [--modes spot,naive] [--rooms quiet,babble12]
                                      [--voices other]

``--voices other`` (not part of ``make bench``): instead of the four espeak-ng voices, whose
"answer on my desk phone" the commit settings were tuned on, four voices the live benchmark
never used, with four wordings that name the desk phone, rotating: festival's ked (in no corpus
of this project), espeak-ng en-us+Mike and en-gb-x-rp+f4 (voice and variant pairs no corpus
has) and flite's rms (in the tuning corpus, never live).

``--pause SECONDS`` (not part of ``make bench``): the command starts this long after the
announcement (default 0.8). With ``--pause 9.6`` it is being said when the reminder "Still
ringing: Dana Smith." falls due (``reannounce_seconds``, 10 s after the announcement and the
0.5 s of deafness after it): the reminder must wait for the person, not cut the command.

``--rooms pink12`` (not part of ``make bench``): a fan's pink noise 12 dB below the command
instead of babble. ``--suppress LEVEL`` sets ``[speech] noise_suppression`` (the default: the
assistant's).

Prints one line per trial, then p50/p95/max per (mode, room) and a JSON document
(``--json FILE`` writes it to a file). Timings on a shared machine are reported, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

from fixtures_audio import Pulse, read_wav, start_pulse, stop_pulse, write_wav  # noqa: E402
from fixtures_loop import EmulatorProcess, ListenProcess  # noqa: E402

COMMAND = "answer on my desk phone"
RIGHT_DEVICE = "Cisco 8865 (Desk phone)"
VOICES = ("en-us", "en-us+m3", "en-us+f2", "en-gb")
# --voices other: (family, voice) for tests/speech_corpus.synthesize, and the wordings
OTHER_VOICES = (("festival", "ked_diphone"), ("espeak", "en-us+Mike"),
                ("espeak", "en-gb-x-rp+f4"), ("flite", "rms"))
OTHER_COMMANDS = ("answer on my desk phone", "pick up on the desk phone",
                  "take it on my desk phone", "answer the call using the desk phone")
ROOMS: dict[str, float | None] = {"quiet": None, "babble12": 12.0, "babble6": 6.0,
                                  "pink12": 12.0}  # pink: a fan (as in commit_replay's rooms)
# Faster call polling than the default (1 s) only shortens the wait for each ring; no
# follow-up window, so the next call can ring as soon as a trial is measured.
BENCH_CONFIG: dict[str, dict[str, Any]] = {
    "webex": {"poll_interval_seconds": 0.25}, "dialog": {"follow_up_seconds": 0.0},
}
PAUSE_BEFORE_COMMAND_SECONDS = 0.8  # after the announcement ends (the mic is deaf for 0.5 s)


# ------------------------------------------------------------------ the live set-up (footprint too)


def stats(values: list[float]) -> dict[str, float] | None:
    """p50/p95 (nearest rank), max and mean, or None without values."""
    if not values:
        return None
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)

    return {"n": len(ordered), "p50": rank(50), "p95": rank(95), "max": round(ordered[-1], 1),
            "mean": round(sum(ordered) / len(ordered), 1)}


def active_power(samples: np.ndarray, rate: int = 16000) -> float:
    """Mean power of the 20 ms frames within 35 dB of the loudest (tests/speech_corpus.py's)."""
    x, n = samples.astype(np.float64), rate // 50
    frames = x[: len(x) // n * n].reshape(-1, n)
    p = np.mean(frames**2, axis=1)
    return float(np.mean(p[p > p.max() * 10**-3.5])) if len(p) and p.max() > 0 else 0.0


def speech_end_seconds(path: Path) -> float:
    """Offset of the last voiced 10 ms in a WAV (where the person stops talking)."""
    samples, rate = read_wav(path)
    frame = rate // 100
    x = samples.astype(np.float64)
    energy = [np.sqrt(np.mean(x[i : i + frame] ** 2)) for i in range(0, len(x), frame)]
    threshold = max(energy) * 0.05
    return (max(i for i, e in enumerate(energy) if e > threshold) + 1) / 100


def command_wavs(work: Path, text: str, voices: tuple[str, ...]) -> dict[str, tuple[Path, float]]:
    """The command in each espeak-ng voice: its WAV and where its speech ends (seconds)."""
    wavs = {}
    for voice in voices:
        path = work / f"command-{voice.replace('+', '_')}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(path), text], check=True)
        wavs[voice] = (path, speech_end_seconds(path))
    return wavs


def other_wavs(work: Path) -> dict[str, tuple[Path, float]]:
    """``--voices other``: each wording in each voice (keys "voice|wording"), in the order the
    trials take them: every voice says the first wording, then every voice the second, ..."""
    from speech_corpus import Speaker, synthesize

    wavs = {}
    for text in OTHER_COMMANDS:
        for family, voice in OTHER_VOICES:
            speaker = Speaker(f"{family}:{voice}", family, f"{family}:{voice}", voice, *(
                (50, 160, 0) if family == "espeak" else ()))
            path = work / f"command-{voice.replace('+', '_')}-{len(wavs)}.wav"
            pcm = np.frombuffer(synthesize(speaker, text), np.int16)
            write_wav(path, np.concatenate([np.zeros(1600, np.int16), pcm,
                                            np.zeros(1600, np.int16)]), 16000)
            wavs[f"{voice}|{text}"] = (path, speech_end_seconds(path))
    return wavs


def babble_for(work: Path, commands: list[Path], snr_db: float,
               seconds: int = 60, kind: str = "babble") -> tuple[np.ndarray, str]:
    """Office babble (tests/speech_corpus.py; ``kind`` "pink": a fan's pink noise) at ``snr_db``
    below the commands, and a label.

    As in speech_corpus.mix: the active speech power of the command (the mean over the voices)
    against the mean power of the babble.
    """
    from speech_corpus import babble, pink

    made = pink(seconds * 1000, seed=7) if kind == "pink" else babble(seconds * 1000, seed=7,
                                                                     talkers=3)
    noise = np.frombuffer(made, np.int16).astype(np.float64)
    speech = float(np.mean([active_power(*read_wav(c)) for c in commands]))
    gain = np.sqrt(speech / 10 ** (snr_db / 10) / float(np.mean(noise**2)))
    scaled = np.clip(np.round(noise * gain), -32768, 32767).astype(np.int16)
    write_wav(work / f"{kind}-{snr_db:g}dB.wav", scaled, 16000)
    source = ("tests/speech_corpus.pink (seed 7" if kind == "pink" else
              "tests/speech_corpus.babble (3 talkers, seed 7")
    return scaled, (f"{source}, {seconds} s looped), "
                    f"{snr_db:g} dB below the command's active speech power")


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A scratch directory, removed afterwards; kept (and named) when something failed."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    except BaseException:
        print(f"{prefix.rstrip('-')}: the work files are kept in {path}", file=sys.stderr)
        raise
    shutil.rmtree(path, ignore_errors=True)


def _pacat(pulse: Pulse, *args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["pacat", "--raw", "--format=s16le", "--rate=16000", "--channels=1",
                             *args], env=pulse.env, **kwargs)


class BabblePlayer:
    """Plays ``samples`` (16 kHz int16) into the virtual microphone, looping, until ``stop()``."""

    def __init__(self, pulse: Pulse, samples: np.ndarray) -> None:
        self._proc = _pacat(pulse, "--playback", "--device=vmic", "--latency-msec=50",
                            stdin=subprocess.PIPE)
        self._data = samples.astype("<i2").tobytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, name="babble", daemon=True)

    def start(self) -> BabblePlayer:
        self._thread.start()
        return self

    def _feed(self) -> None:
        assert self._proc.stdin is not None
        step = 3200  # 100 ms; pacat blocks when its buffer is full, which paces us
        try:
            while not self._stop.is_set():
                for i in range(0, len(self._data), step):
                    if self._stop.is_set():
                        break
                    self._proc.stdin.write(self._data[i : i + step])
        except (OSError, ValueError):  # stopped: pacat has gone
            pass

    def stop(self) -> None:
        self._stop.set()
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._thread.join(timeout=5)


class Monitor:
    """Levels of what a null sink plays (``vspk``: the assistant; ``vmic``: the microphone),
    10 ms at a time, each stamped with the wall-clock time it was played."""

    CHUNK_BYTES = 320  # 10 ms
    LOUD_RMS = 200.0

    def __init__(self, pulse: Pulse, sink: str) -> None:
        self._proc = _pacat(pulse, "--record", f"--device={sink}.monitor", "--latency-msec=10",
                            stdout=subprocess.PIPE)
        self.levels: list[tuple[float, float]] = []  # (start of the 10 ms, RMS)
        self._thread = threading.Thread(target=self._read, name=f"monitor-{sink}", daemon=True)

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while chunk := self._proc.stdout.read(self.CHUNK_BYTES):
            x = np.frombuffer(chunk[: len(chunk) - len(chunk) % 2], np.int16).astype(np.float64)
            rms = float(np.sqrt(np.mean(x**2))) if len(x) else 0.0
            self.levels.append((time.time() - 0.010, rms))

    def first_onset(self, since: float, until: float) -> float | None:
        """When sound starts after ``since`` (after any sound already playing then)."""
        quiet_seen = False
        for t, rms in list(self.levels):
            if t < since or t > until:
                continue
            if rms <= self.LOUD_RMS:
                quiet_seen = True
            elif quiet_seen:
                return t
        return None

    def last_sound(self, since: float, until: float) -> float | None:
        """The end of the last loud 10 ms between ``since`` and ``until``."""
        loud = [t for t, rms in list(self.levels) if since <= t <= until and rms > self.LOUD_RMS]
        return loud[-1] + 0.010 if loud else None

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._thread.join(timeout=5)


def _toml(config: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]  # JSON scalars are TOML
    return "\n".join(lines) + "\n"


class LiveSession:
    """A private PulseAudio, the emulator and ``assistant listen`` with ``config``, until exit."""

    def __init__(self, work: Path, config: dict[str, dict[str, Any]]) -> None:
        self.work = work
        (work / "runtime").mkdir(parents=True)
        (work / "assistant.toml").write_text(_toml(config), encoding="utf-8")
        self._endpoints: dict[str, str] = {}  # id -> name

    def __enter__(self) -> LiveSession:
        self.pulse = start_pulse(self.work / "runtime")
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    code = ROOT  # the assistant that runs (another checkout for a before/after)
    global_args: tuple[str, ...] = ()
    listen_args: tuple[str, ...] = ()
    keys_on_stdin = False

    def _start(self) -> None:
        emulator = subprocess.Popen([sys.executable, "-m", "assistant", "emulator", "--port", "0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    cwd=ROOT)
        self._emulator_process = emulator
        assert emulator.stdout is not None
        self.emulator = EmulatorProcess(emulator.stdout.readline().strip().rsplit(" ", 1)[1],
                                        emulator)
        env = {**self.pulse.env, "WEBEX_ACCESS_TOKEN": "emulator-token",
               "XDG_CONFIG_HOME": str(self.work / "cfg")}
        if self.code != ROOT:
            env["PYTHONPATH"] = str(self.code)
        events, log = self.work / "events.jsonl", self.work / "listen.log"
        self.started_at = time.time()
        with open(log, "wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "assistant", *self.global_args, "--config",
                 str(self.work / "assistant.toml"), "--webex-url", self.emulator.url, "listen",
                 "--events", str(events), *self.listen_args],
                env=env, stdin=subprocess.PIPE if self.keys_on_stdin else None,
                stdout=subprocess.DEVNULL, stderr=stderr, cwd=self.code,
            )
        self.listen = ListenProcess(proc, events, log)
        self.ready = self.listen.wait_for("ready", timeout=120)

    def play_into_mic(self, wav: Path) -> None:
        subprocess.run(["paplay", "--device=vmic", str(wav)], env=self.pulse.env, check=True,
                       timeout=60)

    def endpoint_names(self) -> dict[str, str]:
        """The emulator's answer endpoints, id -> name."""
        if not self._endpoints:
            response = httpx.get(self.emulator.url + "/v1/telephony/config/people/me/settings/"
                                 "availablePreferredAnswerEndpoints",
                                 headers={"Authorization": "Bearer emulator-token"}, timeout=10)
            self._endpoints = {e["id"]: e["name"] for e in response.json()["endpoints"]}
        return self._endpoints

    def __exit__(self, *exc: object) -> None:
        listen: ListenProcess | None = getattr(self, "listen", None)
        if listen is not None and listen.process.poll() is None:
            listen.process.send_signal(2)  # Ctrl-C: the clean path
            try:
                listen.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                listen.process.kill()
                listen.process.wait()
        emulator: subprocess.Popen[str] | None = getattr(self, "_emulator_process", None)
        if emulator is not None:
            emulator.terminate()
            emulator.wait(timeout=10)
        stop_pulse(self.pulse)


# ------------------------------------------------------------------ trials


def _events_after(session: LiveSession, since: float, name: str, prefix: str = "") -> list[Any]:
    return [r for r in session.listen.read() if r["t"] >= since and r["event"] == name
            and str(r.get("text", "")).startswith(prefix)]


def _wait_event(session: LiveSession, since: float, name: str, prefix: str,
                timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and session.listen.process.poll() is None:
        found = _events_after(session, since, name, prefix)
        if found:
            return dict(found[0])
        time.sleep(0.03)
    return None


def run_trial(session: LiveSession, number: int, voice: str, wav: tuple[Path, float],
              speaker: Monitor, mic: Monitor | None, timeout: float,
              pause: float = PAUSE_BEFORE_COMMAND_SECONDS) -> dict[str, Any]:
    """One call: ring, wait for the announcement, ``pause``, say the command, see what
    happened (and whether the assistant spoke over the command: ``talked_over``)."""
    trial: dict[str, Any] = {"trial": number, "voice": voice, "outcome": "missed",
                             "answered": False, "early": False}
    ring_t = time.time()
    call_id = session.emulator.ring(name="Dana Smith")
    if _wait_event(session, ring_t, "spoken", "Call from", 30) is None:
        trial["error"] = "no announcement"
        return _end_call(session, call_id, trial)
    time.sleep(pause)
    started = time.time()
    session.play_into_mic(wav[0])
    end_of_speech = started + wav[1]
    if mic is not None:  # quiet room: where the command really ended, heard at the microphone
        heard_end = mic.last_sound(started, time.time())
        if heard_end is not None:
            trial["command_end_bias_ms"] = round((heard_end - end_of_speech) * 1000, 1)
    _wait_event(session, ring_t, "action", "", end_of_speech + timeout - time.time())
    ours = [r for r in session.emulator.requests() if r["method"] == "POST"
            and r["path"].startswith("/v1/telephony/calls/")
            and (r.get("json") or {}).get("callId") == call_id]
    heard = _events_after(session, ring_t, "heard")
    trial["heard"] = [r["text"] for r in heard]
    trial["heard_accepted"] = [bool(r.get("accepted")) for r in heard]  # a miss: gate or dialog
    trial["talked_over"] = any(started <= r["t"] < end_of_speech
                               for r in _events_after(session, ring_t, "speaking"))
    if not ours:
        return _end_call(session, call_id, trial)
    first = ours[0]
    action_name = first["path"].rsplit("/", 1)[1]
    endpoint = session.endpoint_names().get((first.get("json") or {}).get("endpointId") or "")
    trial.update(action=action_name, endpoint=endpoint, status=first["status"],
                 early=first["t"] < started, answered=action_name == "answer"
                 and 200 <= int(first["status"]) < 300)
    if action_name != "answer":
        trial["outcome"] = "other_action"
    elif endpoint != RIGHT_DEVICE:
        trial["outcome"] = "wrong_device"  # whether Webex accepted it or not
    elif trial["answered"] and not trial["early"]:
        trial["outcome"] = "right"
    trial["to_request_ms"] = round((first["t"] - end_of_speech) * 1000, 1)
    if trial["outcome"] != "right":  # wrong, refused, or before the command (then a miss)
        return _end_call(session, call_id, trial)
    speaking = _wait_event(session, first["t"] - 0.05, "speaking", "The call was answered", 5)
    if speaking is not None:
        trial["to_speaking_ms"] = round((speaking["t"] - end_of_speech) * 1000, 1)
    time.sleep(0.15)  # the tone's first samples reach the speaker monitor
    sound = speaker.first_onset(first["t"], first["t"] + 5)
    if sound is not None:
        trial["to_first_audio_ms"] = round((sound - end_of_speech) * 1000, 1)
    return _end_call(session, call_id, trial)


def _end_call(session: LiveSession, call_id: str, trial: dict[str, Any]) -> dict[str, Any]:
    try:
        session.emulator.control("POST", f"/_emulator/calls/{call_id}/end", {"reason": "remote"})
    except httpx.HTTPStatusError:
        pass  # already gone (declined, or ended by the assistant)
    time.sleep(0.4)  # the assistant's next poll sees it gone before the next call rings
    return trial


OUTCOMES = ("right", "wrong_device", "other_action", "missed")


def summarize(mode: str, room: str, trials: list[dict[str, Any]]) -> dict[str, Any]:
    right = [t for t in trials if t["outcome"] == "right"]
    row: dict[str, Any] = {"mode": mode, "room": room, "trials": len(trials),
                           "answered": sum(t["answered"] for t in trials),
                           "acted_early": sum(t["early"] for t in trials),
                           "talked_over": sum(bool(t.get("talked_over")) for t in trials)}
    row.update({o: sum(t["outcome"] == o for t in trials) for o in OUTCOMES})
    for key in ("to_request_ms", "to_first_audio_ms", "to_speaking_ms"):
        row[key] = stats([t[key] for t in right if key in t])
    return row


def run(modes: list[str], rooms: list[str], trials: int, engine: str = "pocketsphinx",
        timeout: float = 7.0, other: bool = False, suppress: int | None = None,
        pause: float = PAUSE_BEFORE_COMMAND_SECONDS) -> dict[str, Any]:
    """Every (mode, room): ``trials`` trials; the JSON-able results. ``other``: the voices and
    wordings of ``--voices other``; ``suppress``: ``[speech] noise_suppression`` (None: the
    default)."""
    with workdir("latency-") as work:
        return _run(work, modes, rooms, trials, engine, timeout, other, suppress, pause)


def _run(work: Path, modes: list[str], rooms: list[str], trials: int, engine: str,
         timeout: float, other: bool = False, suppress: int | None = None,
         pause: float = PAUSE_BEFORE_COMMAND_SECONDS) -> dict[str, Any]:
    wavs = other_wavs(work) if other else command_wavs(work, COMMAND, VOICES)
    order = list(wavs)  # trial n takes the n-th (mod len) in the order they were made
    babbles = {room: babble_for(work, [w[0] for w in wavs.values()], snr,
                                kind="pink" if room.startswith("pink") else "babble")
               for room, snr in ((r, ROOMS[r]) for r in rooms) if snr is not None}
    rows, all_trials = [], []
    for mode in modes:
        config: dict[str, dict[str, Any]] = {
            "speech": {"engine": engine, "recognition": mode}, **BENCH_CONFIG,
        }
        if suppress is not None:
            config["speech"]["noise_suppression"] = suppress
        with LiveSession(work / mode, config) as session:
            for room in rooms:
                snr = ROOMS[room]
                player = None
                if snr is not None:
                    player = BabblePlayer(session.pulse, babbles[room][0]).start()
                mic = None if snr is not None else Monitor(session.pulse, "vmic").start()
                speaker = Monitor(session.pulse, "vspk").start()
                done: list[dict[str, Any]] = []
                try:
                    for number in range(trials):
                        voice = order[number % len(order)]
                        trial = run_trial(session, number + 1, voice, wavs[voice], speaker, mic,
                                          timeout, pause)
                        done.append({"mode": mode, "room": room, **trial})
                        print(_trial_line(done[-1]), flush=True)
                finally:
                    for part in (player, mic, speaker):
                        if part is not None:
                            part.stop()
                rows.append(summarize(mode, room, done))
                all_trials += done
    biases = [t["command_end_bias_ms"] for t in all_trials if "command_end_bias_ms" in t]
    return {"engine": engine, "noise_suppression": suppress,
            "command": " / ".join(OTHER_COMMANDS) if other else COMMAND,
            "voices": [v for _, v in OTHER_VOICES] if other else list(VOICES),
            "voice_source": "voices the live benchmark never used (festival, espeak-ng, flite)"
            if other else "espeak-ng voices", "right_device":
            RIGHT_DEVICE, "trials_per_room": trials, "timeout_seconds": timeout,
            "pause_before_command_seconds": pause,
            "rooms": {r: ROOMS[r] for r in rooms}, "babble_source":
            "; ".join(label for _, label in babbles.values()),
            "command_end_bias_ms": stats(biases), "rows": rows, "trials": all_trials}


def _trial_line(t: dict[str, Any]) -> str:
    outcome = t["outcome"].replace("_", " ")
    if t["outcome"] != "right" and "action" in t:
        outcome += f": {t['action']} on {t['endpoint']} ({t['status']})"
    if "error" in t:
        outcome += f" ({t['error']})"
    times = "  ".join(f"{k[3:-3]} {t[k]:.0f} ms" for k in
                      ("to_request_ms", "to_first_audio_ms", "to_speaking_ms") if k in t)
    notes = " before the command" if t["early"] else ""
    notes += " (spoke over the command)" if t.get("talked_over") else ""
    return (f"{t['mode']:<6} {t['room']:<9} #{t['trial']:<3} {t['voice']:<9} {outcome}{notes}"
            f"  {times}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="per (mode, room); default 20")
    parser.add_argument("--modes", default="spot,naive", help="comma-separated recognition modes")
    parser.add_argument("--rooms", default="quiet,babble12",
                        help="comma-separated: " + ",".join(ROOMS))
    parser.add_argument("--engine", default="pocketsphinx")
    parser.add_argument("--timeout", type=float, default=7.0,
                        help="seconds after the command before a trial counts as missed")
    parser.add_argument("--voices", choices=("bench", "other"), default="bench",
                        help="other: voices and wordings the live benchmark never used")
    parser.add_argument("--json", metavar="FILE", help="write the results here too")
    parser.add_argument("--code", metavar="DIR", type=Path,
                        help="run the assistant from this copy of the project (a before/after)")
    parser.add_argument("--suppress", type=int, metavar="LEVEL",
                        help="[speech] noise_suppression (default: the assistant's default)")
    parser.add_argument("--pause", type=float, default=PAUSE_BEFORE_COMMAND_SECONDS,
                        help="seconds from the announcement to the command (9.6: the reminder "
                             f"falls due while it is said; default {PAUSE_BEFORE_COMMAND_SECONDS})")
    args = parser.parse_args()
    if args.code is not None:
        LiveSession.code = args.code.resolve()
    rooms = args.rooms.split(",")
    unknown = [r for r in rooms if r not in ROOMS]
    if unknown:
        parser.error(f"unknown room {unknown[0]!r}; known: {', '.join(ROOMS)}")
    results = run(args.modes.split(","), rooms, args.trials, args.engine, args.timeout,
                  args.voices == "other", args.suppress, args.pause)
    from report import latency_section

    print("\n".join(latency_section(results)))
    text = json.dumps(results)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
