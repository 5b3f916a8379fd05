"""The assistant never takes its own confirmations for commands (issue 9).

Short confirmations are the risk: "Declined." was heard as "decline", "Unmuted." as "unmute
it", "Answered on your lobby phone." as "answer on the lobby phone". No acoustic gate can tell
a sentence from the command it sounds like, so the wording itself must not sound like one.
Here every confirmation of the English catalogue, said by two espeak-ng voices in a quiet room,
goes through the default engine (PocketSphinx, recognition ``spot``), and nothing may be
accepted. ``bench/prompts.py`` does the same for every sentence
the assistant can say, with more voices (some held out from the rewording).
"""

from __future__ import annotations

import pytest
import speech_corpus as corpus

from assistant.config import Recognition
from assistant.devices import DeviceDirectory
from assistant.emulator.scenario import Scenario
from assistant.intents import CommandLanguage
from assistant.messages import english
from assistant.speech.pocketsphinx import PocketSphinxEngine
from assistant.webex.models import Endpoint

# Two of the voices bench/prompts.py tunes on: a US voice and the one that heard most commands.
VOICES = [
    corpus.Speaker("espeak:en-us:p50:s160:g0", "espeak", "espeak:en-us", "en-us", 50, 160, 0),
    corpus.Speaker("espeak:en-us+f2:p50:s175:g0", "espeak", "espeak:en-us+f2", "en-us+f2", 50,
                   175, 0),
]
# The confirmations that sounded like their command, said right after it (so the likeliest to be
# heard back), and two more short ones; {device} as the dialog names the default scenario's
# devices. A subset, to keep the suite fast: bench/prompts.py says every sentence.
CONFIRMATIONS = [
    ("outcome.answer", {}),
    ("outcome.answer_on", {"device": "lobby phone"}),
    ("outcome.decline", {}),
    ("outcome.voicemail", {}),
    ("outcome.hangup", {}),
    ("outcome.resume", {}),
    ("outcome.mute", {}),
    ("outcome.unmute", {}),
    ("prompt.cancelled", {}),
    ("prompt.awake", {}),
]


@pytest.fixture(scope="module")
def live_engine() -> PocketSphinxEngine:
    """The live default: PocketSphinx in spot mode, with the default scenario's device names."""
    endpoints = [Endpoint(e.id, e.type, e.name) for e in Scenario.default().endpoints]
    directory = DeviceDirectory.build(endpoints, {"headset": "Webex Desktop Application"})
    return PocketSphinxEngine(CommandLanguage.load("en", directory.names),
                              recognition=Recognition.SPOT)


def heard(engine: PocketSphinxEngine, speaker: corpus.Speaker, text: str) -> str | None:
    """What the engine accepted of ``text`` said in a quiet room (None: nothing). One decode of
    the whole clip, as the live endpointer's final(); bench/prompts.py uses the endpointer."""
    speech = corpus.synthesize(speaker, text)
    transcript = engine.transcribe_pcm(corpus.mix(speech, bytes(len(speech) + 32000), None, 500))
    return transcript.text if transcript.accepted else None


def test_confirmations_are_never_taken_for_commands(live_engine: PocketSphinxEngine) -> None:
    messages = english()
    accepted = []
    for key, values in CONFIRMATIONS:
        text = messages.text(key, **values)
        for speaker in VOICES:
            if (got := heard(live_engine, speaker, text)) is not None:
                accepted.append(f"{key} {text!r} [{speaker.voice}] -> {got}")
    assert accepted == []


def test_the_same_engine_hears_the_commands_they_confirm(live_engine: PocketSphinxEngine) -> None:
    # The test above could pass with a deaf engine: commands these sentences confirm are heard
    # by the same engine, voices and room (and the old wording was: bench/prompts.py).
    commands = [("decline", VOICES[0]), ("answer on my lobby phone", VOICES[1])]
    assert [c for c, s in commands if heard(live_engine, s, c) != c] == []
