"""Noise suppression before decoding: WebRTC's (the ``webrtc-noise-gain`` package, as in Home
Assistant's voice pipeline).

Only what the decoders hear is suppressed. Every loudness measure (trim, focus, the gate's
contrast with the surroundings, "was every word said") stays on the audio as the microphone gave
it: suppression changes levels, and those measures were chosen on raw audio. Suppressing the
audio for both lost a third of the commands in 20 dB babble (65.6 % -> 21.9 %, corpus seed 2),
because the room no longer looked noisy and the talk around the command was not cut away.

Each decode suppresses its whole utterance afresh from the first frame, so a transcript depends
only on the utterance, as the decoders' features do (``pocketsphinx.decode_whole``). It costs
about 8 ms per 6 s of audio.

Only steady noise is suppressed (``spotting.steady``: a fan, a hissing microphone); with talk
around, or in a quiet room, the decoders hear the audio as it came. Around office babble,
suppression cost commands (level 1: 3 of 92 in 12 dB babble on corpus seed 0).

The level is ``[speech] noise_suppression``, 0 (off) by default for now: in the one live run with
level 1, in 12 dB babble, one call was answered on the wrong device, and early peeks in babble
can pass the steady check (4 of 300). Level 1 on seeds 2 and 3 against none, same run: pink
20 dB 37 -> 44 of 64 commands, white 12 dB 18 -> 22, every other condition the same cell for
cell; off-domain accepted 1 of 288 both. Voice-activity detectors were measured too and are not
used: the other people in an office are speech as well. bench/frontends.py, docs/templates.md.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

FRAME_BYTES = 320  # 10 ms of 16 kHz 16-bit mono, the only block size WebRTC's processor takes


@cache
def _processor_class() -> Any:
    try:
        from webrtc_noise_gain import AudioProcessor
    except ImportError:  # a dependency of the package; a broken install decodes unsuppressed
        log.warning("webrtc-noise-gain is not installed: noise suppression is off")
        return None
    return AudioProcessor


def suppress(pcm: bytes, level: int) -> bytes:
    """``pcm`` with WebRTC noise suppression at ``level`` (0: returned as is), the same length
    (a last block under 10 ms is kept as it was). No gain control: levels stay comparable."""
    processor_class = _processor_class() if level else None
    if processor_class is None:
        return pcm
    processor = processor_class(0, level)
    whole = len(pcm) // FRAME_BYTES * FRAME_BYTES
    out = [processor.Process10ms(pcm[i : i + FRAME_BYTES]).audio
           for i in range(0, whole, FRAME_BYTES)]
    return b"".join(out) + pcm[whole:]
