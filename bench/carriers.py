"""Commands wrapped in the person's own words, in a quiet room: "okay, answer on my headset",
"um, decline", "could you put the call on hold please", "hang up thanks".

    .venv/bin/python bench/carriers.py [--groups 3] [--seed 21] [--modes spot,naive] [--dump F]

Every command phrasing of tests/speech_corpus.py, each said by voices of ``--groups`` voice
groups drawn at random, once plainly and once with carrier words (one of ``CARRIERS`` in
turn), in the corpus's faint noise floor with 1 s of it before and after. Per mode and form:
commands understood (intent and device right), wrong accepts, rejected; and, of the carried
clips, per carrier and per voice group.
Not part of ``make bench`` (about 4 minutes): it measures what the corpus does not say, a
person talking around their own command.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import speech_corpus as corpus  # noqa: E402
from accuracy import _engine, understood  # noqa: E402
from commit_replay import CARRIERS, voice_groups  # noqa: E402


def cases(groups: int, seed: int) -> list[dict[str, Any]]:
    """Each command in ``groups`` random voice groups, plain and with its carrier words."""
    rng = np.random.default_rng(seed)
    by_group = voice_groups()
    names = sorted(by_group)
    out = []
    for k, (text, intent, device) in enumerate(corpus.commands()):
        before, after = CARRIERS[k % len(CARRIERS)]
        for g in rng.choice(len(names), groups, replace=False):
            voices = by_group[names[int(g)]]
            spk = voices[int(rng.integers(len(voices)))]
            wrapped = " ".join(w for w in (before, text, after) if w)
            for form, said in (("plain", text), ("carried", wrapped)):
                out.append({"said": said, "form": form, "carrier": f"{before} ... {after}".strip(),
                            "intent": intent, "device": device, "speaker": spk,
                            "group": spk.group})
    return out


def _judge(job: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    mode, case = job
    speech = corpus.synthesize(case["speaker"], case["said"])
    pcm = corpus.mix(speech, bytes((2000 + len(speech) // 32) * 32), None, 1000)
    t = _engine(mode).transcribe_pcm(pcm)
    right = t.accepted and understood(t, case["intent"], case["device"])
    return {"mode": mode, "form": case["form"], "carrier": case["carrier"],
            "group": case["group"], "said": case["said"], "heard": t.text,
            "accepted": t.accepted, "right": right,
            "path": "strict" if (t.details or {}).get("strict") else
                    "spotted" if t.details else ""}


def summary(results: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if key == "form" or r["form"] == "carried":  # per carrier or voice: carried clips only
            cells[(r["mode"], r[key])].append(r)
    return [{"mode": m, key: k, "commands": len(v), "right": sum(r["right"] for r in v),
             "wrong": sum(r["accepted"] and not r["right"] for r in v),
             "rejected": sum(not r["accepted"] for r in v),
             "right_by_spotting": sum(r["right"] and r["path"] == "spotted" for r in v)}
            for (m, k), v in sorted(cells.items())]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=3, help="voice groups per command")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--modes", default="spot,naive")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dump", metavar="FILE", help="every clip's result (JSON lines)")
    args = parser.parse_args()
    jobs = [(mode, c) for c in cases(args.groups, args.seed) for mode in args.modes.split(",")]
    with get_context("fork").Pool(args.workers) as pool:
        results = pool.map(_judge, jobs, chunksize=4)
    if args.dump:
        Path(args.dump).write_text("".join(json.dumps(r) + "\n" for r in results))
    print(f"{len(jobs) // len(args.modes.split(','))} clips per mode, seed {args.seed}, "
          f"{args.groups} voice groups per command, quiet room")
    report(results)
    return 0


def report(results: list[dict[str, Any]]) -> None:
    for key in ("form", "carrier", "group"):
        print(f"\n{'mode':6} {key:28} {'clips':>5} {'right':>6} {'wrong':>6} {'rejected':>8} "
              f"{'right by spotting':>17}")
        for row in summary(results, key):
            print(f"{row['mode']:6} {row[key]:28} {row['commands']:5} {row['right']:6} "
                  f"{row['wrong']:6} {row['rejected']:8} {row['right_by_spotting']:17}")


if __name__ == "__main__":
    sys.exit(main())
