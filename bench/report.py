"""bench/results.json → bench/results.md, and the README's region between the bench markers.

    .venv/bin/python bench/report.py [--results bench/results.json] [--no-readme]

Tables: recognition accuracy per engine and condition with every mode side by side (the last
mode is the baseline, ``naive``), live latency and answered counts per mode and room, and the
footprint per mode; a header says on what machine, when and at which commit.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
README = BENCH.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f} %"


def _ms(stat: dict[str, float] | None) -> str:
    return "–" if not stat else f"{stat['p50']:.0f} / {stat['p95']:.0f} / {stat['max']:.0f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def header(results: dict[str, Any]) -> list[str]:
    meta = results.get("meta", {})
    machine = meta.get("machine", {})
    took = meta.get("durations_seconds", {})
    parts = ", ".join(f"{k} {v / 60:.1f}" for k, v in took.items() if k != "total")
    load = machine.get("load_at_start")
    arguments = meta.get("arguments", ["--quick"] if meta.get("quick") else [])
    command = ("make bench" if not arguments else "make bench-all" if arguments == ["--all"]
               else " ".join(["bench/run.py", *arguments]))
    return [
        f"Measured by `{command}` on "
        f"{meta.get('date', '?')} at commit `{meta.get('commit', '?')}`: "
        f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores"
        + (f", load {load:.2f} at the start" if load is not None else "")
        + (f"; took {took['total'] / 60:.1f} min ({parts})" if "total" in took else "") + ". "
        "The machine is shared: timings are reported as measured, never asserted.",
        "",
    ]


def _failed(part: dict[str, Any] | None, name: str) -> list[str] | None:
    if part is None or part.get("skipped"):
        return [f"*{name}: not run.*", ""]
    if "error" in part:
        return [f"*{name}: failed: {part['error']}*", ""]
    return None


CONDITIONS = ("clean", "pink20", "white12", "babble20", "babble12", "babble6")


def _mode_table(rows: list[dict[str, Any]], axis: str, order: list[str]) -> list[str]:
    """One line per (engine, ``axis`` value), each cell the modes side by side."""
    groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in rows:
        key = (str(r.get("engine", "?")), str(r.get(axis, r.get("noise", "?"))))
        groups.setdefault(key, {})[str(r.get("mode", "–"))] = r

    def cells(by_mode: dict[str, dict[str, Any]], fmt: Callable[[dict[str, Any]], str]) -> str:
        return " · ".join(fmt(by_mode[m]) if m in by_mode else "–" for m in order)

    def rank(key: tuple[str, str]) -> tuple[str, int]:
        return key[0], CONDITIONS.index(key[1]) if key[1] in CONDITIONS else len(CONDITIONS)

    table = []
    for key in sorted(groups, key=rank):
        by_mode = groups[key]
        first = next(iter(by_mode.values()))
        prompts = "prompts" in first
        table.append([
            *key, f"{first.get('commands', '?')} / {first.get('off_domain', '?')}"
            + (f" / {first['prompts']}" if prompts else ""),
            cells(by_mode, lambda r: _pct(r.get("intent_device_accuracy"))),
            cells(by_mode, lambda r: _pct(r.get("acceptance"))),
            cells(by_mode, lambda r: str(r.get("wrong_accepts", "–"))),
            cells(by_mode, lambda r: _pct(r.get("false_accept_rate"))),
            cells(by_mode, lambda r: str(r.get("prompts_accepted", "–"))),
        ])
    return _table(["engine", axis, "commands / off-domain / prompts", "intent + device right",
                   "commands accepted", "wrong accepts", "off-domain accepted",
                   "prompts accepted"], table)


def accuracy_section(part: dict[str, Any] | None, modes: list[str]) -> list[str]:
    failed = _failed(part, "Recognition accuracy")
    if failed or part is None:
        return failed or []
    rows: list[dict[str, Any]] = part.get("rows", [])
    seen = [str(r.get("mode", "–")) for r in rows]
    extra = [m for m in dict.fromkeys(seen) if m not in modes]  # "strict" (0.1) rides along
    order = [m for m in modes[:-1] if m in seen] + extra + [m for m in modes[-1:] if m in seen]
    if order == ["–"]:
        title = "in the default recognition mode (no modes in these results)"
    else:
        title = "each cell " + " · ".join(f"`{m}`" for m in order)
        title += (f" (`{order[-1]}` is the baseline" + (", `strict` is version 0.1)"
                  if "strict" in extra else ")")) if len(order) > 1 else ""
    corpus = part.get("corpus", {})
    source = (f"{corpus['clips']} clips of tests/speech_corpus.py (seed {corpus.get('seed')}, "
              f"{corpus.get('voices')} voices)" if "clips" in corpus else "synthesized clips")
    rtf = part.get("decode_rtf_median", {})
    lines = [f"**Recognition** on {source}, {title}."
             + (f" {part['note']}." if part.get("note") else "")
             + (" Median decode time / audio time: "
                + ", ".join(f"`{m}` {v:.3f}" for m, v in rtf.items()) + "." if rtf else ""), "",
             *_mode_table(rows, "condition", order), ""]
    if part.get("by_family"):
        lines += ["By voice family (all conditions):", "",
                  *_mode_table(part["by_family"], "family", order), ""]
    return lines


def latency_section(part: dict[str, Any] | None) -> list[str]:
    failed = _failed(part, "Live latency")
    if failed or part is None:
        return failed or []
    table = [[
        f"`{r['mode']}`", r["room"], f"{r['right']} / {r['trials']}",
        str(r["wrong_device"]), str(r["other_action"]), str(r["missed"]), str(r["acted_early"]),
        _ms(r["to_request_ms"]), _ms(r["to_first_audio_ms"]), _ms(r["to_speaking_ms"]),
    ] for r in part["rows"]]
    bias = part.get("command_end_bias_ms")
    return [
        f"**Live loop** through the PulseAudio virtual microphone: \"{part['command']}\" in "
        f"{len(part['voices'])} {part.get('voice_source', 'espeak-ng voices')} "
        f"({', '.join(part['voices'])}), "
        f"{part['trials_per_room']} calls per mode and room"
        + (f"; babble: {part['babble_source']}. " if part.get("babble_source") else ". ") +
        f"A call not acted on within {part['timeout_seconds']:g} s of the command is missed. "
        "Times in ms from the end of the spoken command, p50 / p95 / max over the calls "
        "answered on the right device:", "",
        *_table(["mode", "room", "answered on the desk phone", "wrong device", "other action",
                 "missed", "acted before the command", "→ answer request",
                 "→ first sound (tone)", "→ confirmation starts"], table), "",
        *([f"Check of the assumed end of the command (paplay started + the WAV's last voiced "
           f"10 ms) against where the microphone heard it end, quiet room: {round(bias['p50']):+d} "
           f"ms p50, {round(bias['max']):+d} ms max.", ""] if bias else []),
    ]


def _settling(row: dict[str, Any]) -> str:
    value = row.get("cpu_percent_settling")  # results from before it was measured have none
    return f"{value:.1f} %" if value is not None else "–"


def _rss_apart(row: dict[str, Any]) -> str:
    if "rss_babble_mb" not in row:  # a run from before these were measured
        return "–"
    return (f"{row['rss_silence_mb']:.0f} / {row['rss_babble_mb']:.0f} MB, "
            f"{row['rss_babble_max_mb']:.0f} MB")


def footprint_section(part: dict[str, Any] | None) -> list[str]:
    failed = _failed(part, "Footprint")
    if failed or part is None:
        return failed or []
    table = []
    for r in part["rows"]:
        decode = r.get("decode", {})
        rtf = (f"{decode['rtf']:.3f} ({decode['median_decode_ms']:.0f} ms per clip)"
               if "rtf" in decode else f"failed: {decode.get('error', '?')[:60]}")
        table.append([f"`{r['mode']}`", f"{r['ready_seconds']:.2f} s",
                      f"{r['peak_rss_mb']:.0f} / {r['steady_rss_mb']:.0f} MB",
                      _rss_apart(r),
                      _settling(r), f"{r['cpu_percent_silence']:.1f} %",
                      f"{r['cpu_percent_babble']:.1f} %", rtf])
    return [
        f"**Footprint** of `assistant listen` (`listen_mode = \"always\"`, so the recogniser "
        f"hears everything), CPU of one core over {part['listen_seconds']:g} s each, after the "
        f"first 10 s from ready (start-up work: the voice prepares its fixed sentences); decode "
        f"speed from `assistant transcribe` over {len(part.get('clips', []))} clips:", "",
        *_table(["mode", "start → ready", "RSS peak / steady",
                 "RSS silence / babble (median), babble max", "CPU, first 10 s",
                 "CPU, silence", "CPU, babble", "decode time / audio time"], table), "",
    ]


def faults_section(part: dict[str, Any] | None) -> list[str]:
    failed = _failed(part, "Faults")
    if failed or part is None:
        return failed or []
    what = {"microphone": "microphone capture fails", "poller": "call poller thread dies",
            "synthesis": "speech synthesis fails"}
    table = [[what.get(name, name), f"{row['told']} / {row['trials']}",
              f"{row.get('p50_s', float('nan')):.2f} / {row.get('p95_s', float('nan')):.2f} / "
              f"{row.get('max_s', float('nan')):.2f} s", f"{row['came_back']} / {row['trials']}"]
             for name, row in part.items()]
    return [
        "**Faults while listening** (`bench/faults.py`, in process, a fresh session per trial): "
        "from the fault to the spoken sentence (or, for synthesis, the error tone):", "",
        *_table(["fault", "said or toned", "p50 / p95 / max", "part came back"], table), "",
    ]


def announce_section(part: dict[str, Any] | None) -> list[str]:
    failed = _failed(part, "Announcement")
    if failed or part is None:
        return failed or []
    table = []
    for r in part["rows"]:
        name, after = r.get("name_ms"), r.get("name_after_poll_ms")
        cut = r.get("cut_ms")
        table.append([f"`{r['code']}`", r["scenario"], str(r["trials"]),
                      f"{name['p50']:.0f} / {name['p95']:.0f} ms" if name else "–",
                      f"{after['p50']:.0f} ms" if after else "–",
                      f"{cut['p50']:.0f} ms" if cut else "–", str(r["errors"])])
    return [
        f"**Announcement** (`bench/announce.py`): ring at Webex → the caller's name heard at the "
        f"virtual speaker, poll every {part['poll_interval_seconds']:g} s, rings spread over the "
        "poll cycle; `speaking`: the ring arrives while a long sentence plays (cut: how long "
        "until it stops):", "",
        *_table(["code", "scenario", "trials", "name from ring p50 / p95", "name after the poll",
                 "sentence cut", "errors"], table), "",
    ]


def selfhear_section(part: dict[str, Any] | None) -> list[str]:
    failed = _failed(part, "Own voice")
    if failed or part is None:
        return failed or []
    return [
        f"**Own voice** (`bench/selfhear.py`): {part['cycles']} ring cycles with the virtual "
        f"speaker looped into the microphone: commands heard {part['heard']}, actions "
        f"{part['actions']}, call-control requests {part['call_control_posts']} "
        f"({part['seconds']:g} s).", "",
    ]


def _from(results: dict[str, Any], name: str) -> list[str]:
    """Where a part carried over from an earlier run was measured."""
    origin = results.get("meta", {}).get("carried", {}).get(name)
    if not origin:
        return []
    return [f"*(Not run by this `make bench`: measured by `make bench-all` on {origin['date']} "
            f"at commit `{origin['commit']}`.)*", ""]


def render(results: dict[str, Any]) -> str:
    modes = results.get("meta", {}).get("modes", [])
    lines = header(results)
    lines += accuracy_section(results.get("accuracy"), modes)
    lines += latency_section(results.get("latency"))
    lines += footprint_section(results.get("footprint"))
    for name, section in (("announce", announce_section), ("faults", faults_section),
                          ("selfhear", selfhear_section)):
        lines += section(results.get(name)) + _from(results, name)
    return "\n".join(lines).rstrip() + "\n"


def update_readme(body: str, readme: Path = README) -> bool:
    """Replaces what is between the markers; False (README untouched) when they are missing."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return False
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    readme.write_text(f"{before}{START}\n{body}{END}{after}", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(BENCH / "results.json"))
    parser.add_argument("--no-readme", action="store_true", help="only write results.md")
    args = parser.parse_args(argv)
    path = Path(args.results)
    body = render(json.loads(path.read_text(encoding="utf-8")))
    path.with_suffix(".md").write_text("# Benchmark results\n\n" + body, encoding="utf-8")
    print(f"report: wrote {path.with_suffix('.md')}", file=sys.stderr)
    if not args.no_readme:
        if update_readme(body):
            print(f"report: updated {README.name} between {START} and {END}", file=sys.stderr)
        else:
            print(f"report: {README.name} has no {START} … {END} region; left alone",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
