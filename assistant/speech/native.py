"""Every PocketSphinx decoder, driven through the library's C interface, not the Cython binding.

The Cython binding holds the GIL for the whole of ``process_raw``. Two consequences:
- two decodes in two threads took as long as one after the other (measured: 0.33 s both ways);
- a decode stopped every other thread of the assistant for its whole length: the sound in and
  out, the dialog's timers, the Webex poller. In office babble the endpointer's peeks decode up
  to 6 s of sound: a 2 ms timer in another thread stalled 1171 ms (/tmp probe, three peeks of
  5 s of babble). Live, in 12 dB babble, the announcement's playback then starved (1.5 s of
  speech took 7 s, with underruns), the reminder "Still ringing" came while the person spoke,
  and the command said under it was lost: 2 of 20 calls missed in bench/latency.py, where the
  same audio replayed in process was understood 40 of 40.

ctypes releases the GIL for every foreign call. So:
- the strict pass's phone loop decodes on the other core while the grammar decodes in the
  calling thread. Measured on "answer on my desk phone" (1.9 s, 4 espeak-ng voices, 5 times
  each, in process): the grammar takes 130 ms and the phone loop 103 ms; the spot recogniser's
  whole decode took 242 ms p50 with one after the other, and 136 ms with them side by side;
- the other threads run during a decode: the same probe's longest stall is 8 ms.

A decoder is built from the same settings as the Cython one (the binding's ``Config`` fills in
the defaults, ``ps_config_parse_json`` reads them): its expanded configuration is identical, and
it gives the same transcripts and scores, bit for bit (tests/test_speech_native.py; 160 decodes
of bench/commit_replay.py's stress set, quiet and 12 dB babble, whole and as peeks). Its
feature extraction starts afresh for each utterance (``ps_reinit_feat``), so a score depends
only on the utterance, not on the ones before it.

When the library or one of its functions cannot be found, ``NativeDecoder.load`` returns None
(and when the library refuses to build it, raises RuntimeError): the engine then builds the
decoders with the Cython binding, and the recogniser decodes the phone loop after the grammar.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import json
import logging
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_P = ctypes.c_void_p
_I32 = ctypes.POINTER(ctypes.c_int32)
# name: (restype, argtypes)
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "ps_config_parse_json": (_P, [_P, ctypes.c_char_p]),
    "ps_config_free": (ctypes.c_int, [_P]),
    "ps_init": (_P, [_P]),
    "ps_free": (ctypes.c_int, [_P]),
    "ps_reinit_feat": (ctypes.c_int, [_P, _P]),
    "ps_start_utt": (ctypes.c_int, [_P]),
    "ps_process_raw": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
                                      ctypes.c_int]),
    "ps_end_utt": (ctypes.c_int, [_P]),
    "ps_get_hyp": (ctypes.c_char_p, [_P, _I32]),
    "ps_seg_iter": (_P, [_P]),
    "ps_seg_next": (_P, [_P]),
    "ps_seg_prob": (ctypes.c_int32, [_P, _I32, _I32, _I32]),
    "ps_get_logmath": (_P, [_P]),
    "logmath_exp": (ctypes.c_double, [_P, ctypes.c_int]),
    "ps_lookup_word": (_P, [_P, ctypes.c_char_p]),
    "ckd_free": (None, [_P]),
    "ps_get_config": (_P, [_P]),
    "ps_config_serialize_json": (ctypes.c_char_p, [_P]),
    "ps_config_set_float": (_P, [_P, ctypes.c_char_p, ctypes.c_double]),
    # the grammar decoders (``NativeDecoder.build``)
    "ps_add_word": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]),
    "ps_add_jsgf_string": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_char_p]),
    "ps_add_allphone_file": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_char_p]),
    "ps_activate_search": (ctypes.c_int, [_P, ctypes.c_char_p]),
    "ps_current_search": (ctypes.c_char_p, [_P]),
    "ps_seg_word": (ctypes.c_char_p, [_P]),
    "ps_seg_frames": (None, [_P, _I32, _I32]),
    # a grammar through a file (``pocketsphinx.add_grammar``: its null transitions removed)
    "jsgf_read_string": (_P, [ctypes.c_char_p, _P, ctypes.c_float]),
    "fsg_model_writefile": (None, [_P, ctypes.c_char_p]),
    "fsg_model_readfile": (_P, [ctypes.c_char_p, _P, ctypes.c_float]),
    "fsg_model_free": (ctypes.c_int, [_P]),
    "ps_add_fsg": (ctypes.c_int, [_P, ctypes.c_char_p, _P]),
}
_LIB: ctypes.CDLL | None = None

# A decode runs without the GIL, so the interpreter could finish (and the library's memory go)
# while a thread is still inside one: a crash at exit, seen once in the tests. At exit, new
# decodes are refused and the ones under way are waited for (up to EXIT_WAIT_SECONDS).
EXIT_WAIT_SECONDS = 30.0
_FLIGHT = threading.Condition()
_in_flight = 0
_closing = False


_depth = threading.local()  # decodes this thread is inside (a phone-loop decode holds two)


@contextlib.contextmanager
def _decoding() -> Iterator[None]:
    global _in_flight
    depth = getattr(_depth, "n", 0)
    with _FLIGHT:
        if _closing and depth == 0:  # one under way may finish
            raise RuntimeError("the recogniser is stopping")
        _in_flight += 1
    _depth.n = depth + 1
    try:
        yield
    finally:
        _depth.n = depth
        with _FLIGHT:
            _in_flight -= 1
            _FLIGHT.notify_all()


@atexit.register
def _wait_for_decodes() -> None:
    global _closing
    with _FLIGHT:
        _closing = True
        _FLIGHT.wait_for(lambda: _in_flight == 0, EXIT_WAIT_SECONDS)


def _library() -> ctypes.CDLL | None:
    """The pocketsphinx wheel's extension module, with the C functions typed; None if any is
    missing."""
    global _LIB
    if _LIB is None:
        try:
            import pocketsphinx

            path = glob.glob(os.path.join(os.path.dirname(pocketsphinx.__file__), "_pocketsphinx*.so"))
            lib = ctypes.CDLL(path[0])
            for name, (restype, argtypes) in _SIGNATURES.items():
                function = getattr(lib, name)
                function.restype, function.argtypes = restype, argtypes
        except (ImportError, IndexError, OSError, AttributeError) as exc:
            log.info("phone loop decodes after the grammar (no C interface: %s)", exc)
            return None
        _LIB = lib
    return _LIB


@dataclass(frozen=True)
class Hypothesis:
    """What ``pocketsphinx.Decoder.hyp`` gives, as far as the recognisers read it."""

    hypstr: str
    score: float


@dataclass(frozen=True)
class Segment:
    """What ``pocketsphinx.Decoder.seg`` gives per word: the same values, computed alike."""

    word: str
    start_frame: int
    end_frame: int
    ascore: float  # logmath_exp of the acoustic score, as the binding's Segment
    lscore: float
    prob: float


class NativeDecoder:
    """One PocketSphinx decoder driven through the C interface: the phone loop, and (``build``)
    every decoder of the recognisers, with the part of the Cython ``Decoder``'s interface they
    use. ctypes releases the GIL for each call, so a decode no longer stops the process's
    other threads (sound in and out, the dialog's timers) for its whole length."""

    def __init__(self, lib: ctypes.CDLL, config_json: str) -> None:
        self._lib = lib
        config = lib.ps_config_parse_json(None, config_json.encode("utf-8"))
        if not config:
            raise RuntimeError("PocketSphinx refused the phone loop's configuration")
        self._ps = lib.ps_init(config)
        lib.ps_config_free(config)  # the decoder keeps its own reference
        if not self._ps:
            raise RuntimeError("PocketSphinx could not build the phone loop")
        self._logmath = lib.ps_get_logmath(self._ps)
        self._busy = threading.Lock()

    @classmethod
    def load(cls, config_json: str) -> NativeDecoder | None:
        lib = _library()
        return cls(lib, config_json) if lib is not None else None

    @classmethod
    def build(cls, **config: object) -> NativeDecoder | None:
        """``pocketsphinx.Decoder(**config)``, through the C interface: the binding's ``Config``
        fills in the defaults exactly as for its own decoder; None without the C interface."""
        from pocketsphinx import Config

        return cls.load(Config(**config).dumps())

    def __del__(self) -> None:
        ps, self._ps = getattr(self, "_ps", None), None
        if ps:
            self._lib.ps_free(ps)

    # the parts of the Cython Decoder's interface that the recognisers use
    def start_utt(self) -> None:
        if self._lib.ps_start_utt(self._ps) < 0:
            raise RuntimeError("Failed to start utterance processing")

    def end_utt(self) -> None:
        with _decoding():  # the search finishes here
            failed = self._lib.ps_end_utt(self._ps) < 0
        if failed:
            raise RuntimeError("Failed to stop utterance processing")

    def config_json(self) -> str:
        """The decoder's whole configuration, model parameters expanded (``Config.dumps``)."""
        text = self._lib.ps_config_serialize_json(self._lib.ps_get_config(self._ps))
        return str(text.decode("utf-8"))

    def set_float(self, name: str, value: float) -> None:
        """Set a number in the decoder's configuration: read by searches added after it (a
        grammar search reads its beams once, when it is added)."""
        if not self._lib.ps_config_set_float(self._lib.ps_get_config(self._ps),
                                             name.encode("utf-8"), float(value)):
            raise KeyError(f"no setting {name}")

    def lookup_word(self, word: str) -> str | None:
        phones = self._lib.ps_lookup_word(self._ps, word.encode("utf-8"))
        if not phones:
            return None
        try:
            return str(ctypes.string_at(phones).decode("utf-8"))
        finally:
            self._lib.ckd_free(phones)  # the library's copy, allocated for the caller

    def add_word(self, word: str, phones: str, update: bool = True) -> None:
        if self._lib.ps_add_word(self._ps, word.encode("utf-8"), phones.encode("utf-8"),
                                 int(update)) < 0:
            raise RuntimeError(f"Failed to add word {word}")

    def add_jsgf_string(self, name: str, jsgf: str) -> None:
        if self._lib.ps_add_jsgf_string(self._ps, name.encode("utf-8"), jsgf.encode("utf-8")) != 0:
            raise ValueError("Failed to parse JSGF in decoder")

    def write_fsg(self, jsgf: str, path: str) -> None:
        """``jsgf`` as PocketSphinx compiles it for ``add_jsgf_string`` (the first public rule,
        this decoder's language weight), written to ``path`` in its FSG format."""
        fsg = self._lib.jsgf_read_string(jsgf.encode("utf-8"), self._logmath, self._lw())
        if not fsg:
            raise ValueError("Failed to parse JSGF in decoder")
        try:
            self._lib.fsg_model_writefile(fsg, path.encode())
        finally:
            self._lib.fsg_model_free(fsg)

    def add_fsg_file(self, name: str, path: str) -> None:
        """The FSG file ``path`` as the search ``name`` (not activated)."""
        fsg = self._lib.fsg_model_readfile(path.encode(), self._logmath, self._lw())
        if not fsg:
            raise ValueError(f"Failed to read the grammar {path}")
        try:
            failed = self._lib.ps_add_fsg(self._ps, name.encode("utf-8"), fsg) != 0
        finally:
            self._lib.fsg_model_free(fsg)  # the search keeps its own reference
        if failed:
            raise ValueError(f"Failed to add the grammar {name}")

    def _lw(self) -> float:
        return float(json.loads(self.config_json())["lw"])

    def add_allphone_file(self, name: str, path: str) -> None:
        if self._lib.ps_add_allphone_file(self._ps, name.encode("utf-8"), path.encode()) != 0:
            raise RuntimeError(f"Failed to set allphone search {name} from {path}")

    def activate_search(self, name: str) -> None:
        if self._lib.ps_activate_search(self._ps, name.encode("utf-8")) != 0:
            raise KeyError(f"Unable to set search {name}")

    def current_search(self) -> str:
        name = self._lib.ps_current_search(self._ps)
        return name.decode("utf-8") if name is not None else ""

    def reinit_feat(self) -> None:
        if self._lib.ps_reinit_feat(self._ps, None) < 0:
            raise RuntimeError("Failed to reinitialize feature extraction")

    def process_raw(self, pcm: bytes, no_search: bool = False, full_utt: bool = False) -> None:
        with _decoding():
            failed = self._lib.ps_process_raw(self._ps, pcm, len(pcm) // 2, int(no_search),
                                              int(full_utt)) < 0
        if failed:
            raise RuntimeError(f"Failed to process {len(pcm) // 2} samples of audio data")

    def hyp(self) -> Hypothesis | None:
        score = ctypes.c_int32()
        text = self._lib.ps_get_hyp(self._ps, ctypes.byref(score))
        if text is None:
            return None
        return Hypothesis(text.decode("utf-8"), self._lib.logmath_exp(self._logmath, score.value))

    def seg(self) -> list[Segment]:
        lib, out = self._lib, []
        ascr, lscr, lback = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
        start, end = ctypes.c_int32(), ctypes.c_int32()
        seg = lib.ps_seg_iter(self._ps)
        while seg:  # to the end: the iterator frees itself there
            word = lib.ps_seg_word(seg).decode("utf-8")
            lib.ps_seg_frames(seg, ctypes.byref(start), ctypes.byref(end))
            prob = lib.ps_seg_prob(seg, ctypes.byref(ascr), ctypes.byref(lscr), ctypes.byref(lback))
            out.append(Segment(word, start.value, end.value,
                               lib.logmath_exp(self._logmath, ascr.value),
                               lib.logmath_exp(self._logmath, lscr.value),
                               lib.logmath_exp(self._logmath, prob)))
            seg = lib.ps_seg_next(seg)
        return out

    def log_likelihood(self, pcm: bytes, entered: threading.Event | None = None) -> float:
        """Acoustic log-likelihood of the best path through ``pcm`` (a whole utterance of
        16 kHz 16-bit audio), 0.0 when there is none: the same sum as
        ``pocketsphinx._path_score``. ``entered`` is set just before the decode proper."""
        with self._busy, _decoding():
            self.reinit_feat()
            self.start_utt()
            if entered is not None:
                entered.set()
            self.process_raw(pcm, False, True)
            self.end_utt()
            if self.hyp() is None:
                return 0.0
            return sum(math.log(max(s.ascore, 1e-300)) for s in self.seg())

    def start(self, pcm: bytes) -> Decode:
        """Decode ``pcm`` in a thread of its own; returns once the decode is under way."""
        return Decode(self, pcm)


class Decode:
    """A phone-loop decode running in its own thread; ``result()`` waits for it."""

    def __init__(self, decoder: NativeDecoder, pcm: bytes) -> None:
        self._value: float | None = None
        self._error: BaseException | None = None
        self._entered = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(decoder, pcm),
                                        name="phone-loop", daemon=True)
        self._thread.start()
        # Wait until the thread is in the C decode (it then holds no GIL), so that the
        # grammar's decode, which holds the GIL, does not keep it from starting.
        self._entered.wait(timeout=1.0)

    def _run(self, decoder: NativeDecoder, pcm: bytes) -> None:
        try:
            self._value = decoder.log_likelihood(pcm, self._entered)
        except BaseException as exc:  # re-raised by result() in the caller's thread
            self._error = exc
        finally:
            self._entered.set()

    def result(self) -> float:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value
