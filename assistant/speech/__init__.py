"""Speech in: engines behind one contract, chosen by ``create_engine``.

Engine choice: the configured one → Vosk when a model is installed → PocketSphinx (embedded
US English model) with a one-line notice. Heavy engines are imported lazily.
"""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.config import Engine, SpeechSettings
from assistant.errors import ModelError
from assistant.intents import CommandLanguage
from assistant.speech.base import Recognizer, SpeechEngine, Transcript

log = logging.getLogger(__name__)

__all__ = ["Recognizer", "SpeechEngine", "Transcript", "create_engine", "vosk_model_dir"]


def vosk_model_dir(settings: SpeechSettings) -> Path | None:
    """The Vosk model to use for the settings' language, or None when none is installed."""
    from assistant.models_catalogue import Catalogue

    if settings.language == "ko" and not settings.model:
        from assistant.speech.vosk import korean_model_dir

        try:
            return korean_model_dir()
        except ModelError:
            return None
    catalogue = Catalogue.load(settings.models_dir)
    if settings.model and Path(settings.model).expanduser().is_dir():
        return Path(settings.model).expanduser()
    name = settings.model or catalogue.default_for(settings.language)
    if name is None:
        return None
    path = catalogue.installed_path(name)
    return path


def create_engine(settings: SpeechSettings, language: CommandLanguage) -> SpeechEngine:
    """The engine the settings ask for; ModelError when its model is missing."""
    if settings.engine == Engine.POCKETSPHINX:
        from assistant.speech.pocketsphinx import PocketSphinxEngine

        return PocketSphinxEngine(language, recognition=settings.recognition,
                                  noise_suppression=settings.noise_suppression)
    model = vosk_model_dir(settings)
    if settings.engine == Engine.VOSK:
        if model is None:
            raise ModelError(
                f"no Vosk model installed for language {settings.language!r} "
                "(run: assistant models list, then assistant models download NAME)",
                spoken="The Vosk speech model is not installed.",
            )
        from assistant.speech.vosk import VoskEngine

        return VoskEngine(model, language)
    if model is not None:
        from assistant.speech.vosk import VoskEngine

        return VoskEngine(model, language)
    from assistant.speech.pocketsphinx import PocketSphinxEngine

    log.warning("no Vosk model installed: using the embedded PocketSphinx recogniser")
    return PocketSphinxEngine(language, recognition=settings.recognition,
                              noise_suppression=settings.noise_suppression)
