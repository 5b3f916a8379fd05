"""Endpointing on real recognisers: utterances end on trailing silence, early on a stable command,
and a gap (b"") throws away the utterance in progress."""

from __future__ import annotations

import numpy as np
from fixtures_speech import synthesize

from assistant.audio_io import FRAME_BYTES, frames
from assistant.config import SpeechSettings
from assistant.speech.endpointing import Listener, command_prefixes
from assistant.speech.pocketsphinx import PocketSphinxEngine
from assistant.speech.vosk import VoskEngine


def _silence(ms: int, level: float = 30.0) -> bytes:
    rng = np.random.default_rng(ms)
    return np.round(rng.normal(0, level, 16 * ms)).astype(np.int16).tobytes()


def test_two_utterances_in_one_stream(pocketsphinx_engine: PocketSphinxEngine) -> None:
    stream = (_silence(500) + synthesize("answer on my headset") + _silence(600)
              + synthesize("decline the call") + _silence(600))
    listener = Listener(pocketsphinx_engine.recognizer(), SpeechSettings())
    heard = list(listener.listen(frames(stream)))
    assert [(t.command.intent.value, t.command.device) for t in heard if t.command] == [
        ("answer", "headset"), ("decline", None)]
    assert all(t.accepted for t in heard)


def test_trailing_silence_setting_decides_the_end(pocketsphinx_engine: PocketSphinxEngine) -> None:
    speech = synthesize("put the call on hold", pad_ms=0)
    stream = _silence(300) + speech + _silence(1000)
    ends = {}
    for trailing in (200, 800):
        listener = Listener(pocketsphinx_engine.recognizer(), SpeechSettings(trailing_silence_ms=trailing))
        for i, frame in enumerate(frames(stream)):
            if listener.feed(frame) is not None:
                ends[trailing] = i
                break
    speech_frames = len(speech) // FRAME_BYTES  # espeak-ng ends its audio with some silence
    assert 15 + speech_frames // 2 < ends[200] < ends[800]
    assert ends[800] - ends[200] >= (800 - 200) // 20 - 2


def test_gap_resets_the_utterance(pocketsphinx_engine: PocketSphinxEngine) -> None:
    first_half = synthesize("let me answer that email later", pad_ms=0)[: 16000]
    stream = frames(_silence(300) + first_half) + [b""] + frames(
        _silence(300) + synthesize("what devices do i have") + _silence(600))
    listener = Listener(pocketsphinx_engine.recognizer(), SpeechSettings())
    heard = list(listener.listen(stream))
    assert len(heard) == 1 and heard[0].command is not None
    assert heard[0].command.intent.value == "devices"


def test_early_commit_on_a_stable_complete_command(vosk_ko_engine: VoskEngine) -> None:
    speech = synthesize("전화 거절 해", "ko", 140, pad_ms=0)
    stream = _silence(300) + speech + _silence(3000)
    settings = SpeechSettings(trailing_silence_ms=2000, stable_partial_frames=3)
    listener = Listener(vosk_ko_engine.recognizer(), settings)
    for i, frame in enumerate(frames(stream)):
        transcript = listener.feed(frame)
        if transcript is not None:
            break
    else:
        raise AssertionError("no utterance")
    speech_end_frame = (len(_silence(300)) + len(speech)) // FRAME_BYTES
    assert transcript.accepted and transcript.command is not None
    assert i < speech_end_frame + 2000 // 20  # before the trailing silence could end it


def test_prefixes_of_longer_commands_are_not_committed_early() -> None:
    prefixes = command_prefixes(["answer", "answer on my headset", "pick up"])
    assert "answer" in prefixes and "answer on my" in prefixes and "pick up" not in prefixes
