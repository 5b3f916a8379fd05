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
suppression cost commands (level 1: 3 of 92 in 12 dB babble on corpus seed 0). A peek (the
endpointer's early decode) is suppressed only from a second of sound on
(``pocketsphinx_spot.SUPPRESS_PEEKS_FROM_MS``): the start of a command in babble can look steady.

The level is ``[speech] noise_suppression``, 2 by default (0 = off). Through the live endpointer
(``bench/commit_replay.py --stress``, 18 voice groups, pink 20 and 12 dB, white 12 dB), against
none in the same run: 207 -> 243 of 324 commands, wrong 14 -> 11; levels 1 and 3 gave 226 and
246, but 3 lost commands in pink 20 dB. Babble and quiet rooms: the same outcomes, case for
case. Voice-activity detectors were measured too and are not used: the other people in an
office are speech as well. bench/frontends.py, docs/templates.md.
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
