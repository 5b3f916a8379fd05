"""``make bench``: recognition accuracy, live latency and footprint, every recognition mode side by
side in one run, into bench/results.json, bench/results.md and the README's bench region.

    .venv/bin/python bench/run.py [--all] [--quick] [--modes spot,naive] [--skip-accuracy]
                                  [--skip-latency] [--skip-footprint] [--skip-faults]
                                  [--skip-announce] [--skip-selfhear]

``make bench`` runs the recognition parts (accuracy, latency, footprint: 15 to 18 minutes on
the 2-core machine, as fast or slow as the hour is); ``make bench-all`` (``--all``) also
version 0.1's recognition (``strict``) beside them and the dialog's parts (faults,
announcement, own voice: about 18 minutes more). A dialog part not run is carried over from
the previous results file with the date and commit it was measured at (``carried``), so the
README's table stays whole; a ``--quick`` run's parts are never carried.

The parts run one after the other (the machine has two cores); a part that fails is recorded
as failed and the others still run (exit 1). ``--quick`` is a smoke run of a few minutes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

PARTS = ("accuracy", "latency", "footprint", "faults", "announce", "selfhear")
DIALOG_PARTS = ("faults", "announce", "selfhear")  # only with --all (make bench-all)
ANNOUNCE_BASELINE = "0c816e0"  # the voice before issue 11's changes, run beside today's
BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH)]

import report  # noqa: E402


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "load_at_start": round(os.getloadavg()[0], 2),
            "python": platform.python_version(), "system": platform.platform()}


def commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
        return done.stdout.strip()

    sha = git("rev-parse", "--short=10", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{sha}+uncommitted changes" if dirty else sha


def accuracy(modes: list[str], quick: bool, with_strict: bool) -> dict[str, Any]:
    """Every clip through every mode; with ``with_strict`` version 0.1 ("strict") rides along,
    before the baseline. Not in ``make bench``: it costs 40 % of the part's decoding (three
    and a half minutes in a slow hour), and it is neither the default nor the baseline."""
    import accuracy as bench_accuracy

    order = modes[:-1] + (["strict"] if with_strict and "strict" not in modes else []) + modes[-1:]
    result: dict[str, Any] = bench_accuracy.run(order, quick=quick)
    return result


def latency(modes: list[str], trials: int, rooms: list[str]) -> dict[str, Any]:
    import latency as bench_latency

    result: dict[str, Any] = bench_latency.run(modes, rooms, trials)
    return result


def footprint(modes: list[str], seconds: float) -> dict[str, Any]:
    import footprint as bench_footprint

    return bench_footprint.run(modes, seconds)


def faults(trials: int) -> dict[str, Any]:
    import faults as bench_faults

    result: dict[str, Any] = bench_faults.run(trials)
    return result


def measured_as(argv: list[str]) -> list[str]:
    """The arguments that change what is measured (not where results go)."""
    kept, skip_next = [], False
    for arg in argv:
        if skip_next or arg in ("--no-readme",) or arg.startswith("--out="):
            skip_next = False
            continue
        skip_next = arg == "--out"
        if not skip_next:
            kept.append(arg)
    return kept


def carried(previous: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """``name``'s results from a previous run and where they were measured (date, commit); None
    when there are none worth carrying (not run, failed, or a smoke run)."""
    part = previous.get(name)
    meta = previous.get("meta", {})
    origin = meta.get("carried", {}).get(name)
    if not isinstance(part, dict) or part.get("skipped") or "error" in part:
        return None
    if origin is None and meta.get("quick"):
        return None
    return part, origin or {"date": meta.get("date", "?"), "commit": meta.get("commit", "?")}


def timed(name: str, part: Callable[[], dict[str, Any]], took: dict[str, float]) -> dict[str, Any]:
    print(f"bench: {name} …", file=sys.stderr, flush=True)
    start = time.monotonic()
    try:
        result = part()
    except Exception as exc:  # recorded in the results; the other parts still run
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    took[name] = round(time.monotonic() - start, 1)
    print(f"bench: {name} took {took[name] / 60:.1f} min", file=sys.stderr, flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: a few minutes")
    parser.add_argument("--modes", default="spot,naive",
                        help="recognition modes, the baseline last (default spot,naive)")
    parser.add_argument("--trials", type=int, help="live calls per mode and room (20; quick 2)")
    parser.add_argument("--rooms", default="quiet,babble12")
    parser.add_argument("--seconds", type=float,
                        help="footprint: listening time per CPU figure (20; quick 10)")
    parser.add_argument("--all", action="store_true",
                        help="also version 0.1 (strict) in accuracy, and the dialog's parts: "
                        + ", ".join(DIALOG_PARTS))
    for part in PARTS:
        parser.add_argument(f"--skip-{part}", action="store_true")
    parser.add_argument("--out", default=str(BENCH / "results.json"))
    parser.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    args = parser.parse_args()
    modes = args.modes.split(",")
    trials = args.trials or (2 if args.quick else 20)
    # 20 s, not footprint.py's 60: the live calls already take ~13 of the 20 minutes
    seconds = args.seconds or (10.0 if args.quick else 20.0)

    took: dict[str, float] = {}
    meta: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(), "machine": machine(), "modes": modes, "quick": args.quick,
        "arguments": measured_as(sys.argv[1:]),
        "durations_seconds": took,
    }
    results: dict[str, Any] = {"meta": meta}
    start = time.monotonic()
    skipped = {"skipped": True}
    for part in DIALOG_PARTS:  # not run without --all: what the last full run measured
        setattr(args, f"skip_{part}", getattr(args, f"skip_{part}") or not args.all)
    try:
        previous = json.loads(Path(args.out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    results["accuracy"] = skipped if args.skip_accuracy else timed(
        "accuracy", lambda: accuracy(modes, args.quick, args.all), took)
    results["latency"] = skipped if args.skip_latency else timed(
        "latency", lambda: latency(modes, trials, args.rooms.split(",")), took)
    results["footprint"] = skipped if args.skip_footprint else timed(
        "footprint", lambda: footprint(modes, seconds), took)
    results["faults"] = skipped if args.skip_faults else timed(
        "faults", lambda: faults(3 if args.quick else 10), took)
    results["announce"] = skipped if args.skip_announce else timed(
        "announce", lambda: __import__("announce").run(trials, baseline=ANNOUNCE_BASELINE), took)
    results["selfhear"] = skipped if args.skip_selfhear else timed(
        "selfhear", lambda: __import__("selfhear").run(3 if args.quick else 20), took)
    took["total"] = round(time.monotonic() - start, 1)
    if not args.quick:  # a recognition part skipped stays "not run": its figures go with the header
        for part in DIALOG_PARTS:
            earlier = carried(previous, part) if results[part] is skipped else None
            if earlier is not None:
                results[part] = earlier[0]
                meta.setdefault("carried", {})[part] = earlier[1]

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"bench: wrote {out} ({took['total'] / 60:.1f} min)", file=sys.stderr)
    report.main(["--results", str(out)] + (["--no-readme"] if args.no_readme else []))
    print(report.render(results))
    failed = [name for name in PARTS if "error" in results[name]]
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
