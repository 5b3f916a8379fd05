"""Synthesized sentences, ready before they are needed.

A sentence is synthesized once: ``SentenceCache`` keeps the fixed phrases given to
``Voice.prepare`` for good and the most recent other sentences (callers repeat) in an LRU.
``Preparer`` is one thread ("voice-prep") that synthesizes into the cache: sentences about to
be spoken first (the newest ``stop`` generation first), then phrases being prepared.
``split_sentences`` cuts "Call from Dana Smith. Say answer, …" so that the name can play while
the rest is synthesized, and so that the fixed instructions are cached on their own.
"""

from __future__ import annotations

import itertools
import logging
import queue
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future

import numpy as np

log = logging.getLogger(__name__)

Audio = tuple[np.ndarray, int]  # int16 mono samples, rate
RECENT_SENTENCES = 64
RECENT_SECONDS = 600.0  # of audio kept for recent sentences (~26 MB at 22050 Hz)
PAUSE_SECONDS = 0.15  # between sentences of one text, where the synthesizer's silence is cut
SILENCE_LEVEL = 150  # int16 amplitude below which a sentence's edges count as silence

_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "jr", "sr", "prof", "mt", "no", "vs", "etc"}
_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; no cut after an abbreviation ("Dr. Lee") or a lone initial."""
    parts: list[str] = []
    for piece in _END.split(text.strip()):
        last = parts[-1].rstrip(".!?").rsplit(" ", 1)[-1] if parts else ""
        if parts and parts[-1].endswith(".") and (last.lower() in _ABBREVIATIONS or len(last) == 1):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return [p for p in parts if p]


def edges_for_joining(samples: np.ndarray, rate: int, first: bool, last: bool) -> np.ndarray:
    """One sentence of several: the synthesizer's silence before it (unless it is the first)
    and after it (unless it is the last) cut, and a short pause after it instead."""
    if first and last:
        return samples
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > SILENCE_LEVEL)[0]
    if len(loud) == 0:
        return samples[:0]
    start = 0 if first else int(loud[0])
    if last:
        return samples[start:]
    pause = np.zeros(int(rate * PAUSE_SECONDS), np.int16)
    return np.concatenate([samples[start : int(loud[-1]) + 1], pause])


class SentenceCache:
    """Prepared phrases, kept for good; other sentences, least recently used out first."""

    def __init__(self, recent: int = RECENT_SENTENCES,
                 recent_seconds: float = RECENT_SECONDS) -> None:
        self._fixed: dict[str, Audio] = {}
        self._recent: OrderedDict[str, Audio] = OrderedDict()
        self._limit, self._limit_seconds = recent, recent_seconds
        self._lock = threading.Lock()

    def get(self, sentence: str) -> Audio | None:
        with self._lock:
            if sentence in self._fixed:
                return self._fixed[sentence]
            found = self._recent.get(sentence)
            if found is not None:
                self._recent.move_to_end(sentence)
            return found

    def put(self, sentence: str, sound: Audio, fixed: bool = False) -> None:
        with self._lock:
            if fixed:
                self._fixed[sentence] = sound
                self._recent.pop(sentence, None)
                return
            if sentence in self._fixed:
                return
            self._recent[sentence] = sound
            self._recent.move_to_end(sentence)
            while len(self._recent) > self._limit or (
                    len(self._recent) > 1 and self._seconds() > self._limit_seconds):
                self._recent.popitem(last=False)

    def _seconds(self) -> float:
        return sum(len(s) / rate for s, rate in self._recent.values())

    def clear(self) -> list[str]:
        """Forgets every sentence; returns the prepared ones (to prepare them again)."""
        with self._lock:
            fixed = list(self._fixed)
            self._fixed.clear()
            self._recent.clear()
            return fixed

    def __contains__(self, sentence: str) -> bool:
        with self._lock:
            return sentence in self._fixed or sentence in self._recent

    def __len__(self) -> int:
        with self._lock:
            return len(self._fixed) + len(self._recent)


class Preparer:
    """One thread synthesizing sentences into ``cache``; ``request`` gives a Future of the sound."""

    URGENT, PREPARE = 0, 1

    def __init__(self, synthesize: Callable[[str], Audio], cache: SentenceCache) -> None:
        self._synthesize = synthesize
        self.cache = cache
        self._jobs: queue.PriorityQueue[tuple[int, int, int, str, bool]] = queue.PriorityQueue()
        self._pending: dict[str, Future[Audio]] = {}
        self._fix: set[str] = set()  # sentences to keep for good once synthesized
        self._lock = threading.Lock()
        self._order = itertools.count()
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._epoch = 0  # reset() counts up: a sound from before it is not cached

    def request(self, sentence: str, generation: int = 0) -> Future[Audio]:
        """The sound of ``sentence``: at once if cached, else synthesized before prepared ones."""
        return self._enqueue(sentence, self.URGENT, -generation, fixed=False)

    def prepare(self, sentences: Iterable[str]) -> None:
        for sentence in sentences:
            self._enqueue(sentence, self.PREPARE, 0, fixed=True)

    def reset(self) -> None:
        """The voice changed: what was synthesized before is dropped, prepared phrases are
        prepared again, and a synthesis in flight is not cached."""
        with self._lock:
            self._epoch += 1
        self.prepare(self.cache.clear())

    def wait_idle(self, timeout_seconds: float) -> bool:
        """True when nothing is left to synthesize (within the timeout)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending, timeout_seconds)

    def close(self, timeout_seconds: float) -> None:
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
            left, self._pending = self._pending, {}
        if thread is not None:
            self._jobs.put((-1, 0, -1, "", False))  # before anything still queued
            thread.join(timeout_seconds)
        for future in left.values():
            if not future.done():
                future.set_exception(RuntimeError("the voice is closed"))

    def _enqueue(self, sentence: str, priority: int, newer: int, fixed: bool) -> Future[Audio]:
        found = self.cache.get(sentence)
        if found is not None:
            if fixed:
                self.cache.put(sentence, found, fixed=True)
            done: Future[Audio] = Future()
            done.set_result(found)
            return done
        with self._lock:
            if self._closed:
                closed: Future[Audio] = Future()
                closed.set_exception(RuntimeError("the voice is closed"))
                return closed
            if fixed:
                self._fix.add(sentence)
            future = self._pending.get(sentence)
            if future is not None and priority == self.PREPARE:
                return future  # already on its way
            if future is None:
                future = self._pending[sentence] = Future()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="voice-prep", daemon=True)
                self._thread.start()
        # a sentence already queued to be prepared is queued again, ahead, when it is wanted now
        self._jobs.put((priority, newer, next(self._order), sentence, fixed))
        return future

    def _run(self) -> None:
        while True:
            priority, _, _, sentence, _ = self._jobs.get()
            if priority < 0:
                return
            with self._lock:
                future, epoch = self._pending.get(sentence), self._epoch
            if future is None:
                continue  # done already (it was queued twice)
            try:
                sound = self._synthesize(sentence)
            except Exception as exc:  # noqa: BLE001 - the speaker decides what to do with it
                if sentence in self._fix:
                    log.warning("voice: could not prepare %r: %s", sentence, exc)
                self._finish(sentence, future, exc)
            else:
                if epoch == self._epoch:
                    self.cache.put(sentence, sound, fixed=sentence in self._fix)
                self._finish(sentence, future, sound)

    def _finish(self, sentence: str, future: Future[Audio], outcome: Audio | Exception) -> None:
        with self._idle:
            self._pending.pop(sentence, None)
            self._fix.discard(sentence)
            self._idle.notify_all()
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
