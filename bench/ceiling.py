"""How far the acoustic model can go: the bench's commands decoded with an oracle cut.

    .venv/bin/python bench/ceiling.py [--conditions clean,babble12] [--voices unseen] [--json FILE]

The commands of bench/accuracy.py (tests/speech_corpus.py, the same seed and clips) decoded
two ways by two recognisers: the whole clip, as the bench does, and the clip cut to the
command's own span with 300 ms either side (where the corpus put the words: an oracle cut no
endpointer can make). ``naive`` is the strict command grammar with no rejection at all, so
its figure on the oracle cut is what this acoustic model hears when it is told where the
command is and may only choose among the commands: a ceiling that no endpointer, spotting
search, gate or threshold can lift. ``spot`` is the shipped recogniser. Per condition and per
voice family: commands understood (intent and device right) and, for ``naive``, commands
taken for another one (what a gate would have to catch). About 7 minutes for the six
conditions on the 2-core machine (192 clips, four decodes each); ``make bench-ceiling``.
``--voices unseen``: the same sentences and conditions said by the voices no setting was chosen
on (MBROLA, SVOX Pico: scripts/unseen-voices.sh installs them), whole clips too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import accuracy  # noqa: E402
import speech_corpus as corpus  # noqa: E402

from assistant.audio_io import SAMPLE_RATE_HZ  # noqa: E402

AROUND_MS = 300
MODES = ("naive", "spot")


def oracle_cut(item: corpus.Item, around_ms: int = AROUND_MS) -> bytes:
    """``item``'s audio from ``around_ms`` before the command's first word to as long after
    its last (16-bit mono samples)."""
    start = max(0, (item.start_ms - around_ms) * SAMPLE_RATE_HZ // 1000) * 2
    end = (item.end_ms + around_ms) * SAMPLE_RATE_HZ // 1000 * 2
    cut: bytes = item.pcm[start:end]
    return cut


def measure(conditions: tuple[str, ...], unseen: bool = False) -> list[dict[str, Any]]:
    """One row per command clip: condition, family, and per mode and way whether the command
    was understood and whether another command was accepted instead."""
    items = corpus.build(kinds=("command",), conditions=conditions,
                         per_condition=accuracy.FULL["command"], seed=accuracy.SEED,
                         voices=corpus.unseen_speakers() if unseen else None)
    rows = []
    for item in items:
        row: dict[str, Any] = {"condition": item.condition, "family": item.family,
                               "group": item.group, "said": item.text}
        for mode in MODES:
            engine = accuracy._engine(mode)
            for way, pcm in (("whole", item.pcm), ("cut", oracle_cut(item))):
                t = engine.transcribe_pcm(pcm)
                right = accuracy.understood(t, item.intent, item.device)
                row[f"{mode}_{way}"] = right
                row[f"{mode}_{way}_wrong"] = bool(t.accepted and t.command is not None
                                                  and not right)
                row[f"{mode}_{way}_heard"] = t.text
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict[str, Any]], by: str) -> str:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[by]].append(row)
    head = (f"| {by} | commands | naive, whole clip | naive, oracle cut (ceiling) | "
            "naive, oracle cut: another command | spot, whole clip (shipped) | spot, oracle cut |")
    lines = [head, "|" + "---|" * 7]
    for name, group in groups.items():
        n = len(group)

        def pct(key: str) -> str:
            return f"{100 * sum(r[key] for r in group) / n:.1f} %"

        lines.append(f"| {name} | {n} | {pct('naive_whole')} | **{pct('naive_cut')}** | "
                     f"{pct('naive_cut_wrong')} | {pct('spot_whole')} | {pct('spot_cut')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conditions", default=",".join(corpus.CONDITIONS))
    parser.add_argument("--voices", choices=("corpus", "unseen"), default="corpus")
    parser.add_argument("--json", type=Path, help="write the per-clip rows here")
    args = parser.parse_args()
    if args.voices == "unseen" and not corpus.unseen_speakers():
        parser.error("no held-out voices installed: run scripts/unseen-voices.sh")
    rows = measure(tuple(args.conditions.split(",")), unseen=args.voices == "unseen")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(table(rows, "condition"))
    print()
    print(table(rows, "family"))


if __name__ == "__main__":
    main()
