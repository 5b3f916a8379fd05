"""Short earcons generated with numpy: ring, listening, done, error, ack.

Each is a few soft sine tones with raised-cosine edges (no clicks), mono int16. They are kept
short and in a range that does not sound like speech, so they do not trigger the recogniser.
"""

from __future__ import annotations

import numpy as np

RATE_HZ = 22050
AMPLITUDE = 0.35

# name -> tones as (frequency Hz or 0 for silence, seconds); a tuple of frequencies is a chord
_SHAPES: dict[str, list[tuple[float | tuple[float, ...], float]]] = {
    # short, so that the caller's name follows at once (issue 11): 0.27 s, not 0.58 s
    "ring": [((440.0, 480.0), 0.11), (0, 0.05), ((440.0, 480.0), 0.11)],
    "listening": [(660.0, 0.09), (0, 0.03), (880.0, 0.12)],
    "done": [(784.0, 0.09), (0, 0.02), (1046.5, 0.16)],
    "error": [(330.0, 0.16), (0, 0.04), (262.0, 0.24)],
    "ack": [(988.0, 0.06)],  # a command was accepted; Webex has not replied yet
}

NAMES = tuple(_SHAPES)


def _tone(freqs: float | tuple[float, ...], seconds: float, rate: int) -> np.ndarray:
    count = int(rate * seconds)
    if freqs == 0:
        return np.zeros(count)
    t = np.arange(count) / rate
    chord = (freqs,) if isinstance(freqs, float) else freqs
    wave = sum(np.sin(2 * np.pi * f * t) for f in chord) / len(chord)
    edge = min(count // 2, int(rate * 0.012))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, edge))
    envelope = np.ones(count)
    envelope[:edge], envelope[count - edge :] = ramp, ramp[::-1]
    return np.asarray(wave * envelope)


def render(name: str, rate: int = RATE_HZ) -> np.ndarray:
    """The earcon ``name`` as int16 samples at ``rate``; KeyError for an unknown name."""
    shape = _SHAPES[name]
    signal = np.concatenate([_tone(freqs, seconds, rate) for freqs, seconds in shape])
    return np.round(signal * AMPLITUDE * 32767).astype(np.int16)
