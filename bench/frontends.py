"""Front ends before the recogniser: voice-activity detectors and noise suppression (issue 9).

    .venv/bin/python bench/frontends.py vad [--clips 40]
    .venv/bin/python bench/frontends.py suppress [--levels 0,1,2,3] [--seed 2] [--workers 2]

``vad``: can a detector tell the person at the microphone from the colleagues talking around
them? Commands of the corpus's voices are mixed into office babble (3 other voices) at 12 and
6 dB, with 1.5 s of babble before and 1.5 s after. Frames where the person speaks (within 25 dB
of their loudest frame) are positives; frames of babble alone (before and after the command)
are negatives. Per detector, the area under the ROC curve within each clip, averaged over the
clips: 0.5 is chance, 1 is perfect. Detectors: the frame energy the endpointer uses, WebRTC's
VAD (``webrtcvad-wheels``, modes 0 and 3), the voice flag of WebRTC's audio processor
(``webrtc-noise-gain``), RNNoise's speech probability (``pyrnnoise``) and Silero VAD
(``silero-vad``, which needs torch). A detector whose package is missing is left out:
``pip install webrtcvad-wheels pyrnnoise`` into .venv for the full table.

``suppress``: bench/accuracy.py's spot recogniser on one seed of the corpus, with
``noise_suppression`` at each level (0 is off; ``--gate0``: with the gate fitted before there
was suppression), and level 2 applied the naive way too
(``whole``: the recogniser gets suppressed audio for everything, its loudness measures
included), on the same clips in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import accuracy  # noqa: E402
import speech_corpus as corpus  # noqa: E402

from assistant.speech.denoise import FRAME_BYTES, suppress  # noqa: E402
from assistant.speech.spotting import frame_levels_db  # noqa: E402

Scorer = Callable[[bytes, int], np.ndarray]  # audio, frames -> a score per 10 ms frame


def _energy(pcm: bytes, n: int) -> np.ndarray:
    return frame_levels_db(pcm)[:n]


def _blocks(pcm: bytes, n: int) -> list[bytes]:
    return [pcm[i * FRAME_BYTES:(i + 1) * FRAME_BYTES] for i in range(n)]


def _scorers() -> dict[str, Scorer]:
    scorers: dict[str, Scorer] = {"energy (the endpointer's)": _energy}
    try:
        import webrtcvad

        for mode in (0, 3):
            def vad(pcm: bytes, n: int, mode: int = mode) -> np.ndarray:
                v = webrtcvad.Vad(mode)
                return np.array([v.is_speech(b, 16000) for b in _blocks(pcm, n)], float)
            scorers[f"webrtcvad mode {mode}"] = vad
    except ImportError:
        print("webrtcvad-wheels is not installed: its rows are left out", file=sys.stderr)

    def processor_flag(pcm: bytes, n: int) -> np.ndarray:
        from webrtc_noise_gain import AudioProcessor

        ap = AudioProcessor(0, 2)
        return np.array([ap.Process10ms(b).is_speech for b in _blocks(pcm, n)], float)
    scorers["webrtc-noise-gain voice flag"] = processor_flag
    try:
        from pyrnnoise import RNNoise

        def rnnoise(pcm: bytes, n: int) -> np.ndarray:
            x = np.frombuffer(pcm, dtype=np.int16)
            probs = np.concatenate([np.atleast_1d(p) for p, _ in
                                    RNNoise(16000).denoise_chunk(x[None, :], partial=True)])
            return np.pad(probs, (0, max(0, n - len(probs))))[:n]
        scorers["RNNoise speech probability"] = rnnoise
    except ImportError:
        print("pyrnnoise is not installed: its row is left out", file=sys.stderr)
    try:
        import silero_vad
        import torch

        model = silero_vad.load_silero_vad()

        def silero(pcm: bytes, n: int) -> np.ndarray:
            x = torch.from_numpy(np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768)
            model.reset_states()
            with torch.no_grad():
                p = [float(model(x[i:i + 512], 16000)) for i in range(0, len(x) - 511, 512)]
            return np.interp(np.arange(n) * 160, np.arange(len(p)) * 512 + 256, p)
        scorers["Silero VAD"] = silero
    except ImportError:
        print("silero-vad (with torch) is not installed: its row is left out", file=sys.stderr)
    return scorers


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    greater = (pos[:, None] > neg[None, :]).mean()
    return float(greater + 0.5 * (pos[:, None] == neg[None, :]).mean())


def run_vad(clips: int) -> dict[str, dict[float, float]]:
    rng = np.random.default_rng(11)
    speakers, commands, scorers = corpus.speakers(), corpus.commands(), _scorers()
    aucs: dict[str, dict[float, list[float]]] = {k: {} for k in scorers}
    for snr in (12.0, 6.0):
        for k in range(clips):
            spk = speakers[rng.integers(len(speakers))]
            speech = corpus.synthesize(spk, commands[rng.integers(len(commands))][0])
            said_ms = len(speech) // 32
            noise = corpus.babble(1500 + said_ms + 1500, 900 + k, exclude_group=spk.group)
            mixed = corpus.mix(speech, noise, snr, 1500)
            alone = frame_levels_db(corpus.mix(speech, b"\0\0" * (len(noise) // 2), None, 1500))
            n = len(frame_levels_db(mixed))
            frame, first, last = np.arange(n), 150, 150 + said_ms // 10
            pos = (alone[:n] >= alone.max() - 25) & (frame >= first) & (frame < last)
            neg = (frame < first - 5) | (frame > last + 30)
            for name, score in scorers.items():
                s = score(mixed, n)
                aucs[name].setdefault(snr, []).append(_auc(s[pos], s[neg]))
    return {name: {snr: round(float(np.mean(v)), 3) for snr, v in by.items()}
            for name, by in aucs.items()}


_LEVEL_ENGINES: dict[str, Any] = {}
GATE0 = ""  # --gate0


def _engine(variant: str) -> Any:
    if variant not in _LEVEL_ENGINES:
        from assistant.config import Recognition
        from assistant.intents import CommandLanguage
        from assistant.speech.pocketsphinx import PocketSphinxEngine
        from fixtures_speech import DEVICE_PHRASES

        level = 0 if variant == "whole" else int(variant)
        gate = None
        if level == 0 and GATE0:  # the gate that was fitted without suppression
            from assistant.speech.spotting import Gate

            gate = Gate.from_dict(json.loads(Path(GATE0).read_text()))
        _LEVEL_ENGINES[variant] = PocketSphinxEngine(
            CommandLanguage.load("en", DEVICE_PHRASES), recognition=Recognition.SPOT,
            noise_suppression=level, gate=gate)
    return _LEVEL_ENGINES[variant]


def _judge(job: tuple[str, corpus.Item]) -> dict[str, Any]:
    variant, item = job
    pcm = suppress(item.pcm, 2) if variant == "whole" else item.pcm
    t = _engine(variant).transcribe_pcm(pcm)
    right = bool(item.kind == "command" and (
        (t.command and t.command.intent.value == item.intent and t.command.device == item.device)
        or (t.device_only is not None and item.intent is None and t.device_only == item.device)))
    return {"mode": variant, "kind": item.kind, "condition": item.condition,
            "family": item.family, "group": item.group, "accepted": t.accepted, "right": right}


def run_suppress(levels: list[str], seed: int, workers: int) -> list[dict[str, Any]]:
    items = corpus.build(per_condition=accuracy.FULL, seed=seed, workers=workers)
    jobs = [(variant, item) for item in items for variant in levels]
    with get_context("fork").Pool(workers) as pool:
        results = pool.map(_judge, jobs, chunksize=4)
    return accuracy._rows(results, "condition")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    vad = sub.add_parser("vad")
    vad.add_argument("--clips", type=int, default=40, help="per SNR")
    sup = sub.add_parser("suppress")
    sup.add_argument("--levels", default="0,1,2,3,whole")
    sup.add_argument("--seed", type=int, default=2)
    sup.add_argument("--workers", type=int, default=2)
    sup.add_argument("--gate0", metavar="JSON", default="",
                     help="the gate for level 0 and 'whole' (default: the shipped one), e.g. the "
                     "one fitted before suppression: git show 6c02bf6:assistant/data/spotting_gate.json")
    args = parser.parse_args()
    global GATE0
    GATE0 = getattr(args, "gate0", "")
    if args.what == "vad":
        print(f"{'detector':<32} {'AUC 12 dB':>10} {'AUC 6 dB':>10}")
        for name, by in run_vad(args.clips).items():
            print(f"{name:<32} {by[12.0]:>10.3f} {by[6.0]:>10.3f}")
    else:
        rows = run_suppress(args.levels.split(","), args.seed, args.workers)
        print("mode = noise_suppression level ('whole': level 2 on everything the recogniser "
              "measures)")
        accuracy.print_table(rows, "condition")
    return 0


if __name__ == "__main__":
    sys.exit(main())
