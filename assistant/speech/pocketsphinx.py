"""PocketSphinx engine: the wheel's embedded US English model, a strict JSGF grammar compiled
from the templates, and two measured rejection gates.

1. Garbage path: the grammar is "any command, or any sequence of phones" (weight
   ``GARBAGE_WEIGHT``, word insertion penalty ``WIP``). Off-domain speech fits the phone loop
   better than any command and decodes to garbage, so it is rejected.
2. Score gate: the utterance is also decoded by a free phone loop (the model's phone LM). Speech
   that was a command fits the grammar almost as well as the best phone sequence; speech forced
   onto a command does not. The log-likelihood gap per frame of speech (×1e4) must be at least
   ``REJECT_BELOW``. The phone loop decodes on the other core while the grammar decodes
   (``assistant.speech.native``).

Every transcript is then re-checked by the template language. Search settings, also measured:
the lattice best-path pass is off (it returned paths that never reach the grammar's final state
and cost 30× the time); beams are wider than the defaults and 16 Gaussians are scored per
senone instead of 4. Figures: bench/accuracy.py.
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from importlib import resources

import numpy as np

from assistant.config import Recognition
from assistant.audio_io import duration_ms
from assistant.errors import ModelError
from assistant.intents import CommandLanguage
from assistant.speech.base import Recognizer, SpeechEngine, Stopwatch, Transcript, judge
from assistant.speech.grammar import (
    DECOY_PREFIX,
    GARBAGE_PREFIX,
    decoy_sentences,
    garbage_words,
    to_jsgf,
    to_spotting_jsgf,
)
from assistant.speech.fsg import Fsg, without_dead_ends, without_nulls
from assistant.speech.native import NativeDecoder
from assistant.speech.spotting import Gate, frame_levels_db, noisy

log = logging.getLogger(__name__)

# Pronunciations the bundled CMU dictionary lacks, plus common variants ("ARPAbet" phones).
EXTRA_PRONUNCIATIONS: dict[str, list[str]] = {
    "webex": ["W EH B EH K S"],
    "unmute": ["AH N M Y UW T"],
    "answer": ["AA N S ER", "AA N S AH"],
}
REJECT_BELOW = -74.0  # log-likelihood gap per speech frame (×1e4), measured (docs/templates.md)
# Each garbage phone is a "word", so the garbage path pays the word insertion penalty once per
# phone and the grammar pays it once per word. With a harsh penalty (0.01) a long off-domain
# sentence cost the garbage path so much that it was forced onto a command; a mild penalty with a
# smaller fixed garbage weight favours garbage on long speech and commands on short speech.
GARBAGE_WEIGHT = 1e-25
WIP = 0.1
TOPN = 16  # Gaussians scored per senone (default 4): 6 more of 120 right at 12 dB, ~65 ms more
PHONES = ["AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH"]
FILLERS = ("<sil>", "<s>", "</s>", "(NULL)", "SIL")
# Spotting (assistant.speech.pocketsphinx_spot): the garbage around a command is a loop of 15
# broad phones, not all 39. Measured on 90 commands in babble: as accurate (29/30 clean, 21/30
# at 12 dB, 18/30 at 6 dB against 28, 23, 14) at less than half the decode time, and fewer
# command words lost to garbage at the edges. Beams 1e-60: same accuracy as 1e-80, 2.5x faster.
# The word beam sets the memory: every word exit it keeps (each garbage phone is a word) stays in
# the search's history until the next utterance, one entry per null transition out of the state
# the word ends in, and with talk around, the utterance is held open and decoded again at every
# peek: 6.5 s of babble, +150 MB (`assistant listen` in chatter: 200 MB median, 372 MB at most;
# since the grammars lost their null transitions into dead ends, ``fsg.without_dead_ends``, 66 MB
# for the same decode, and 175 / 259 MB). 1e-25 held 41 MB and decoded in 0.75 s instead of 1.30, as many
# commands right on corpus seeds 1-3, but it let more talk through: the spotting pass took "please
# close the door when you leave" (tests/test_speech_spotting.py) for "please put the phone on
# hold", and through the endpointer 1 of 90 office sentences in babble. Not kept
# (docs/templates.md, "The spotting search's word beam").
SPOTTING_PHONES = ["AH", "IY", "AA", "UW", "S", "F", "N", "M", "T", "K", "L", "R", "ER", "SH", "AY"]
SPOTTING_BEAMS = {"beam": 1e-60, "pbeam": 1e-60, "wbeam": 1e-40}
STRICT_BEAMS = {"beam": 1e-80, "pbeam": 1e-80, "wbeam": 1e-60}  # the strict grammar's
# The spotting searches in the strict pass's decoder (``new_spotting_decoder``): one acoustic
# model and one dictionary in memory instead of two; the same decodes (docs/templates.md).
SHARE_DECODER = True
# The spotting grammars as PocketSphinx compiles them, null transitions kept: the spotting gate
# (assistant/data/spotting_gate.json) was fitted on their decodes (docs/templates.md). Only the
# null transitions into states no word leaves are dropped (``fsg.without_dead_ends``): the same
# words, frames and scores on 432 decodes of corpus seeds 1 and 2, in 40 % of the history.
SPOTTING_NULLS = True
# The assistant's own wording as decoys (``decoys=True``, spot mode, off by default): its
# sentences compete with the commands in both the strict and the spotting grammar
# (grammar.decoy_sentences), so that hearing itself is no command; their slots ({caller}) are
# garbage, so they also soak up some ordinary talk. Measured (bench/accuracy.py, corpus seed 1,
# the gate refitted with decoys on seed 0: bench/decoy_gate.json; same run as spot without):
# prompts accepted 0/48 against 2/48, off-domain 2/144 against 3/144, commands 94/192 against
# 95/192, but 1.9x the CPU per utterance (the strict decode 2.8x). With decoys in the strict
# grammar only for short sentences without slots, the cost was ~15 % and the gain gone (4/144
# off-domain, 1/48 prompts). Homophones of commands ("Unmuted." / "unmute it", "Sent to
# voicemail." / "send to voicemail") are beyond any acoustic gate: reword them.
# Weight, on 10 short confirmations and their commands, 12 voices, clean and 12 dB babble (60
# each): no decoys, 35 confirmations accepted and 47 commands; weight 1, 12 and 42; 1e-3, 12, 46.
OWN_WORDING = ("messages.toml", "failures.toml")
DECOY_WEIGHT = 1e-3
# The peek's grammars: in ``peek_jsgf`` a command may stop before any of its words, its device
# or the rest of its device's name, in this word pronounced as silence ("spotting_peek": at the
# device only; the spotting pass runs when the strict one found garbage). A
# peek taken in a pause inside a command ("answer on my ...", "send the call ...") then decodes
# as unfinished instead of as the command that fits the pause best ("... on my app", "end the
# call"); spot_endpointing.COMMIT_AFTER_QUIET_MS has the figures. Peeks only: in the final
# decision it lost 3 of 192 commands in bench/accuracy.py and removed no wrong one.
UNSAID = "zz_unsaid"
UNSAID_PHONES = "SIL"
# A second peek search, "peek_carried": the peek grammar with the carrier words ("okay, answer
# on my headset"), decoded only when the plain peek is not a command. Without it a carried
# command could not be complete in a peek: it waited for the final decode or was missed.
# bench/commit_replay.py --carried, seed 11: quiet 18 -> 25 of 54 right, babble 12 dB 8 -> 20.
# The carriers in the one peek grammar did as well, but every peek took 12 % longer, and the
# quiet room's latency is that decode (make bench: p50 215 -> 261 ms) (docs/templates.md).
# Its cost is memory: `assistant listen` steady RSS 135 -> 148 MB (bench/footprint.py).
PEEK_CARRIERS = True
# "commands" (the final decode's grammar, with carriers but no UNSAID) as the second search
# instead saves those 12 MB, but a peek early in a hesitation is then complete: 12 dB babble
# before "please answer on my ... computer" was taken for "who is it" (commit_replay --stress
# --case-seed 12); with UNSAID it was "so who is" unfinished. Right commands +5 of 648 over
# --stress and --carried, seeds 11 and 12, wrong +1; --talk the same (docs/templates.md).
CARRIED_PEEK_GRAMMAR = "peek_carried"
# Spot mode: WebRTC noise suppression level of what the decoders hear when the room's noise is
# steady (assistant.speech.denoise, spotting.steady); 0 = off. Level 2 through the live
# endpointer in pink and white noise: 207 -> 243 of 324 commands, wrong 14 -> 11; babble and
# quiet rooms unchanged (docs/templates.md).
NOISE_SUPPRESSION = 2
# Spot mode: the language's negating phrases ("don't", "do not"; Carriers.negating) in every
# grammar before a command, as decoy words, so that "don't hang up" is heard as said and not
# acted on. Without them, 8 of 12 such sentences said plainly were acted on ("don't take it" as
# "so take it", "don't hang up" as talk then "hang up"); docs/templates.md has the figures.
NEGATING = True
DITHER = 8.0  # std of the noise added to input; exact digital silence breaks feature normalisation


def _decoder(**config: object) -> object:
    """A decoder with an empty dictionary: the words it needs are added with ``add_word``
    (``cmu_pronunciations``). The bundled 135,000-word dictionary took 22 MB in every decoder,
    and the spot recogniser has two (three before its passes shared one: ``SHARE_DECODER``).

    Built through PocketSphinx's C interface (``native.NativeDecoder.build``), which lets the
    assistant's other threads run while it decodes (the binding holds the GIL: why, and what it
    cost live, in ``native``); where that cannot load, the binding's decoder."""
    try:
        native = NativeDecoder.build(**_DECODER_DEFAULTS, **config)
    except RuntimeError as exc:  # the C interface refused: the binding still works
        log.warning("decoding holds the other threads up: %s", exc)
        native = None
    except ImportError:  # pragma: no cover - a dependency of the package
        native = None  # binding_decoder says what is missing
    return native if native is not None else binding_decoder(**config)


_DECODER_DEFAULTS: dict[str, object] = {"loglevel": "FATAL", "bestpath": False, "dict": None}


def binding_decoder(**config: object) -> object:
    """``_decoder``'s decoder through the Cython binding (which holds the GIL while it decodes)."""
    try:
        from pocketsphinx import Decoder
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ModelError("pocketsphinx is not installed", spoken="The speech engine is missing.") from exc
    return Decoder(**_DECODER_DEFAULTS, **config)


def release(decoder: object, searches: Iterable[str] = ("",)) -> None:
    """Empty each search's memory of the last utterance: PocketSphinx keeps its word history
    until the next utterance starts, and with the garbage loops that history grows with the
    utterance (an 8 s one held 90 MB in the strict grammar and 154 MB in the spotting one,
    before either lost null transitions: ``fsg``).
    An empty utterance leaves the cepstral mean as it was."""
    for search in searches:
        if search:
            decoder.activate_search(search)  # type: ignore[attr-defined]
        decoder.start_utt()  # type: ignore[attr-defined]
        decoder.end_utt()  # type: ignore[attr-defined]


def decode_whole(decoder: object, pcm: bytes) -> None:
    """Decode ``pcm`` as one whole utterance in the active search, its features computed afresh.

    PocketSphinx's feature extraction keeps state from one utterance to the next: the same clip
    decoded twice in a row gave a phone-loop log-likelihood of -0.142, then -0.220, so what was
    heard depended on what had been heard before it (a loud cough, the last command). After
    ``reinit_feat`` (0.07 ms) the first figure comes back every time. Measured with
    bench/accuracy.py (seed 1, spot and strict, 768 decodes): the same outcome for every clip;
    4 rejected clips were rejected with another text."""
    decoder.reinit_feat()  # type: ignore[attr-defined]
    decoder.start_utt()  # type: ignore[attr-defined]
    decoder.process_raw(pcm, False, True)  # type: ignore[attr-defined]
    decoder.end_utt()  # type: ignore[attr-defined]


class BindingPhoneLoop:
    """The phone loop through the Cython binding, where the C interface cannot load: the same
    interface as ``native.NativeDecoder``, but it decodes only after the grammar."""

    def __init__(self, decoder: object) -> None:
        self.decoder = decoder

    def log_likelihood(self, pcm: bytes) -> float:
        decode_whole(self.decoder, pcm)
        return _path_score(self.decoder)[1]

    def start_utt(self) -> None:
        self.decoder.start_utt()  # type: ignore[attr-defined]

    def end_utt(self) -> None:
        self.decoder.end_utt()  # type: ignore[attr-defined]

    def lookup_word(self, word: str) -> str | None:
        phones = self.decoder.lookup_word(word)  # type: ignore[attr-defined]
        return str(phones) if phones is not None else None

    def seg(self) -> list[object]:
        return list(self.decoder.seg())  # type: ignore[attr-defined]


def _malloc_trim() -> object | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: the allocator keeps what it keeps
        return None


_TRIM = _malloc_trim()


def give_back_memory() -> None:
    """Return freed heap pages to the system: glibc keeps them, so the process's memory would
    stay at its largest utterance. Takes 0.1 to 12 ms."""
    if _TRIM is not None:
        _TRIM(0)  # type: ignore[operator]


_CMU: dict[str, list[str]] = {}  # word -> its pronunciations in the CMU dictionary ([] if none)


def cmu_pronunciations(words: Iterable[str]) -> dict[str, list[str]]:
    """The bundled CMU dictionary's pronunciations of ``words``, alternates in its order
    ("answer", then "answer(2)", ...); a word it lacks maps to []. The file is scanned once per
    batch of new words, and only these words are kept."""
    wanted = {w for w in words if w not in _CMU}
    if wanted:
        from pocketsphinx import get_model_path

        found: dict[str, list[str]] = {w: [] for w in wanted}
        with open(get_model_path("en-us/cmudict-en-us.dict"), encoding="utf-8") as lines:
            for line in lines:
                head, _, phones = line.partition(" ")
                base = head.split("(", 1)[0]
                if base in found:
                    found[base].append(phones.split("#", 1)[0].strip())
        _CMU.update(found)
    return {w: _CMU[w] for w in words}


def _path_score(decoder: object) -> tuple[str, float, int]:
    """(text, acoustic log-likelihood, speech frames) of the decoder's last utterance."""
    hyp = decoder.hyp()  # type: ignore[attr-defined]
    if hyp is None:
        return "", 0.0, 0
    total, speech = 0.0, 0
    for seg in decoder.seg():  # type: ignore[attr-defined]
        total += math.log(max(seg.ascore, 1e-300))
        if seg.word not in FILLERS and not seg.word.startswith("+"):
            speech += seg.end_frame - seg.start_frame + 1
    return str(hyp.hypstr), total, speech


class PocketSphinxRecognizer(Recognizer):
    """Buffers the utterance and decodes it whole at ``final()``.

    Measured: streaming decode (live cepstral mean normalisation) turned most noisy commands
    into "go to sleep"; whole-utterance normalisation does not. Measured again in 2026-11 on
    corpus seed 1 (clean and pink 20 dB, 120 commands, the strict pass alone): streamed in
    20 ms chunks (live normalisation, its mean carried from clip to clip) it understood 77
    against 91 whole. So ``partial()`` is always empty. Instead the phone loop decodes beside
    the grammar (``native``), and the spot endpointer runs its decode inside the commit wait
    (``spot_endpointing``).
    """

    def __init__(self, engine: PocketSphinxEngine, decoys: bool = False,
                 peeks: bool = False) -> None:
        self.engine = engine
        self.grammar = engine.new_grammar_decoder(decoys, peeks)
        self.phones = engine.new_phone_loop()
        self._buffer = bytearray()
        # The phone loop's score of the last audio it decoded: a second search on the same
        # audio (the spot pass's "peek_carried") compares its grammar with the same phone loop.
        # Measured (commit_replay --stress, quiet and babble 12 dB): 684 -> 649 phone-loop
        # decodes (5 %); most second searches follow a garbage peek, which had no phone loop
        # to reuse.
        self._phones_heard: tuple[bytes, float] | None = None

    def accept(self, frame: bytes) -> None:
        self._buffer += frame

    def partial(self) -> str:
        return ""

    def _decode(self, decoder: object, pcm: bytes) -> tuple[str, float, int]:
        decode_whole(decoder, pcm)
        return _path_score(decoder)

    def final(self, search: str = "commands") -> Transcript:
        """The transcript of the buffered audio; ``search``: "peek" for the grammar in which a
        command may stop before any of its words or its device (``PocketSphinxEngine.peek_jsgf``,
        with ``peeks``): a transcript that does is rejected, with ``details["unfinished"]``."""
        pcm = bytes(self._buffer)
        self.reset()
        if self.grammar.current_search() != search:  # type: ignore[attr-defined]
            self.grammar.activate_search(search)  # type: ignore[attr-defined]
        audio_ms = duration_ms(pcm)
        if len(pcm) < 3200:  # under 0.1 s: nothing to decode
            return Transcript("", False, None, None, 0.0, audio_ms)
        watch = Stopwatch()
        with watch:
            pcm = dither(pcm)
            naive = self.engine.recognition is Recognition.NAIVE
            # In a quiet room the phone loop decodes on the other core while the grammar decodes
            # here: the person waits for this decode. With talk around, most utterances are
            # garbage and need no phone loop, and both cores are busy: it waits for the grammar.
            heard, self._phones_heard = self._phones_heard, None  # kept again once scored
            side, phone_ll = None, None
            if heard is not None and heard[0] == pcm:
                phone_ll = heard[1]  # and the loop's segments are still this audio's
            elif isinstance(self.phones, NativeDecoder) and not naive and not noisy(
                    frame_levels_db(pcm)):
                side = self.phones.start(pcm)
            try:
                text, grammar_ll, speech_frames = self._decode(self.grammar, pcm)
            finally:
                if side is not None:
                    phone_ll = side.result()
            unfinished = UNSAID in text.split()
            said = " ".join(text.split()[: text.split().index(UNSAID)]) if unfinished else ""
            if unfinished or any(w.startswith((GARBAGE_PREFIX, DECOY_PREFIX)) for w in text.split()):
                text = ""  # unfinished, the garbage path or one of the assistant's own sentences
            if phone_ll is None and text and not naive:
                phone_ll = self.phones.log_likelihood(pcm)
            if phone_ll is not None:
                self._phones_heard = (pcm, phone_ll)
            phone_ll = phone_ll or 0.0
        score = (grammar_ll - phone_ll) / max(speech_frames, 1) * 1e4 if text else -math.inf
        confident = score >= self.engine.reject_below or (
            self.engine.recognition is Recognition.NAIVE and bool(text))
        accepted, command, device_only = judge(self.engine.language, text, confident)
        if command is not None and self.engine.swallowed(text):
            log.debug("pocketsphinx: %r may be another command's end after %r", command.text,
                      self.engine.language.carriers.opening(text))
            accepted, command = False, None
        margin = max(-50.0, min(50.0, (score - self.engine.reject_below) / 10)) if text else -50.0
        confidence = round(1.0 / (1.0 + math.exp(-margin)), 3)
        log.debug("pocketsphinx: %r score %.1f accepted %s", text, score, accepted)
        transcript = Transcript(text, accepted, command, confidence, watch.ms, audio_ms, device_only,
                                details={"unfinished": 1.0} if unfinished else None,
                                unfinished=said)
        transcript.score = score  # type: ignore[attr-defined]  # for bench/accuracy.py
        return transcript

    def reset(self) -> None:
        self._buffer = bytearray()

    def release(self) -> None:
        release(self.grammar)
        self.forget_phones()
        give_back_memory()

    def forget_phones(self) -> None:
        """Empty the phone loop's memory of the last utterance (its score is forgotten too)."""
        self._phones_heard = None
        release(self.phones)


def own_wording() -> list[str]:
    """Every sentence template the assistant speaks (``OWN_WORDING``), placeholders and all."""
    out: list[str] = []
    for name in OWN_WORDING:
        catalogue = tomllib.loads(resources.files("assistant").joinpath("data", name).read_text("utf-8"))
        for section in catalogue.values():
            out += [str(v) for v in section.values()] if isinstance(section, dict) else [str(section)]
    return out


def dither(pcm: bytes) -> bytes:
    rng = np.random.default_rng(len(pcm))
    x = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype=np.int16).astype(np.float64)
    x += rng.normal(0.0, DITHER, len(x))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()


class PocketSphinxEngine(SpeechEngine):
    name = "pocketsphinx"

    def __init__(self, language: CommandLanguage, reject_below: float = REJECT_BELOW,
                 recognition: Recognition = Recognition.SPOT, gate: Gate | None = None,
                 decoys: bool = False, decoy_weight: float | None = None,
                 noise_suppression: int = NOISE_SUPPRESSION) -> None:
        super().__init__(language)
        self.recognition = recognition
        self.noise_suppression = noise_suppression  # spot mode: pocketsphinx_spot, denoise
        if language.language != "en":
            raise ModelError(
                f"PocketSphinx has only an English model, not {language.language!r}",
                spoken="The embedded recogniser only understands English.",
            )
        self.reject_below = reject_below
        cmu_pronunciations(language.spoken_words | EXTRA_PRONUNCIATIONS.keys())  # one scan
        self._missing = [w for w in sorted(language.spoken_words) if not self._knows(w)]
        if self._missing:
            log.warning("pocketsphinx cannot hear: %s", ", ".join(self._missing))
        self.garbage = garbage_words(PHONES)
        if recognition is Recognition.NAIVE:
            self.jsgf = to_jsgf(language, unusable=self._missing)
        else:
            self.jsgf = to_jsgf(language, garbage=self.garbage, garbage_weight=GARBAGE_WEIGHT,
                                unusable=self._missing)
        # Decoys (spot mode only): the assistant's own sentences, each word as DECOY_PREFIX+word.
        self.decoy_words: dict[str, str] = {}
        decoy_list: list[str] = []
        as_decoys: set[str] = set()  # words said only as decoys
        if decoys and recognition is Recognition.SPOT:
            decoy_list = decoy_sentences(own_wording())
            as_decoys = {w for d in decoy_list for w in d.split()}
            cmu_pronunciations(as_decoys)
        negating = NEGATING and recognition is Recognition.SPOT
        if negating:
            as_decoys |= language.carriers.negating_words
        for word in as_decoys:
            phones = self._pronunciation(word)
            if phones:
                self.decoy_words[DECOY_PREFIX + word] = phones
        known = lambda word: DECOY_PREFIX + word in self.decoy_words  # noqa: E731
        weight = DECOY_WEIGHT if decoy_weight is None else decoy_weight
        self.decoy_jsgf = to_jsgf(language, garbage=self.garbage, garbage_weight=GARBAGE_WEIGHT,
                                  unusable=self._missing, decoys=decoy_list, known=known,
                                  decoy_weight=weight, negating=negating)
        self.peek_jsgf = to_jsgf(language, name="peek", garbage=self.garbage,
                                 garbage_weight=GARBAGE_WEIGHT, unusable=self._missing,
                                 decoys=decoy_list, known=known, decoy_weight=weight,
                                 unsaid=UNSAID, carriers=False, negating=negating)
        self.peek_carried_jsgf = to_jsgf(
            language, name="peek_carried", garbage=self.garbage, garbage_weight=GARBAGE_WEIGHT,
            unusable=self._missing, decoys=decoy_list, known=known, decoy_weight=weight,
            unsaid=UNSAID, negating=negating) if (PEEK_CARRIERS and language.carriers.words
                               and CARRIED_PEEK_GRAMMAR == "peek_carried") else None
        # The peek's second search, for a command in the person's own words (None: none).
        self.carried_peek_search = (CARRIED_PEEK_GRAMMAR if PEEK_CARRIERS
                                    and language.carriers.words else None)
        self.spotting_jsgf, self.spotting_peek_jsgf = (
            to_spotting_jsgf(language, garbage_words(SPOTTING_PHONES), name=name,
                             unusable=self._missing, decoys=decoy_list, known=known,
                             decoy_weight=weight, unsaid=unsaid, negating=negating)
            for name, unsaid in (("spotting", None), ("spotting_peek", UNSAID)))
        self.gate = gate or (Gate.load() if recognition is Recognition.SPOT else None)
        self._swallowing = self._swallowing_ends() if language.carriers.before else set()

    def _phones(self, sentence: str) -> tuple[str, ...]:
        return tuple(p for w in sentence.split() for p in (self._pronunciation(w) or "").split())

    def _swallowing_ends(self) -> set[str]:
        """The commands that are, in phones, the end of a command with another meaning, or
        end with one, where the carrier word before them may have taken or given the
        difference ("okay answer the call" for "do not answer the call", "um mute" for
        "unmute", "hey unmute" for "hey mute"; measured, bench/carriers.py): at most twice the
        longest carrier's phones."""
        language = self.language
        most = 2 * max(len(self._phones(p)) for p in language.carriers.before)
        meaning = {s: (what, self._phones(s))
                   for s, what in language.sentences_with_intents(device_only=False).items()}
        whole: dict[tuple[str, ...], set[str]] = {}
        ends: dict[tuple[str, ...], set[str]] = {}
        for what, phones in meaning.values():
            whole.setdefault(phones, set()).add(what)
            for cut in range(1, min(most, len(phones) - 1) + 1):
                ends.setdefault(phones[cut:], set()).add(what)
        out = set()
        for sentence, (what, phones) in meaning.items():
            others = set(ends.get(phones, ()))
            for cut in range(1, min(most, len(phones) - 1) + 1):
                others |= whole.get(phones[cut:], set())
            if others - {what}:
                out.add(sentence)
        return out

    def swallowed(self, text: str) -> bool:
        """A carrier word, then a command that may be the end of another command
        (``_swallowing_ends``): not to be trusted."""
        if self.language.carriers.opening(text) is None:
            return False
        return self.language.carriers.strip(text) in self._swallowing  # no "thanks" after it

    @staticmethod
    def _knows(word: str) -> bool:
        return word in EXTRA_PRONUNCIATIONS or bool(cmu_pronunciations([word])[word])

    @staticmethod
    def _pronunciation(word: str) -> str | None:
        if word in EXTRA_PRONUNCIATIONS:
            return EXTRA_PRONUNCIATIONS[word][0]
        prons = cmu_pronunciations([word])[word]
        return prons[0] if prons else None

    def _add_words(self, decoder: object) -> None:
        """The grammar's words (the carrier words too): the CMU dictionary's pronunciations,
        then ours."""
        for word, prons in sorted(cmu_pronunciations(self.language.spoken_words).items()):
            for i, phones in enumerate(prons):
                decoder.add_word(word if i == 0 else f"{word}({i + 1})", phones, False)  # type: ignore[attr-defined]
        for word, prons in EXTRA_PRONUNCIATIONS.items():
            known = len(cmu_pronunciations([word])[word])
            for i, phones in enumerate(prons, start=known):
                name = word if i == 0 else f"{word}({i + 1})"
                decoder.add_word(name, phones, True)  # type: ignore[attr-defined]
        for word, phones in self.decoy_words.items():
            decoder.add_word(word, phones, True)  # type: ignore[attr-defined]

    def new_grammar_decoder(self, decoys: bool = False, peeks: bool = False) -> object:
        """The strict grammar (with the decoy sentences when ``decoys``), active; with ``peeks``
        also the searches "peek" (``peek_jsgf``, the same decoys) and "peek_carried"
        (``peek_carried_jsgf``: the same with the carrier words)."""
        decoder = _decoder(lm=None, wip=WIP, topn=TOPN, **STRICT_BEAMS)
        if peeks:
            decoder.add_word(UNSAID, UNSAID_PHONES, False)  # type: ignore[attr-defined]
            self._with_grammar(decoder, self.peek_jsgf, "peek")
            if self.peek_carried_jsgf:
                self._with_grammar(decoder, self.peek_carried_jsgf, "peek_carried")
        return self._with_grammar(decoder, self.decoy_jsgf if decoys else self.jsgf)

    def new_spotting_decoder(self, onto: object | None = None) -> object:
        """A decoder with three searches, chosen per utterance with ``activate_search``:
        "spotting" (any sound, a command, any sound), "spotting_peek" (the same, where a command
        may stop before its device: ``UNSAID``) and "phones" (a free phone loop with the model's
        phone language model).

        ``onto``: the strict pass's decoder (``new_grammar_decoder``, wider beams), to which the
        searches are added with the spotting beams, so that both passes share one copy of the
        acoustic model and the words (``SHARE_DECODER``). A search reads its beams once, when it
        is added, and both passes decode one after the other, never at once. Where that decoder
        came through the binding (no C interface to set its beams), a decoder of its own."""
        from pocketsphinx import get_model_path

        if SHARE_DECODER and isinstance(onto, NativeDecoder):
            decoder: object = onto
            for name, value in SPOTTING_BEAMS.items():
                onto.set_float(name, value)
        else:
            decoder = _decoder(lm=None, wip=WIP, topn=TOPN, **SPOTTING_BEAMS)
        if decoder.lookup_word(UNSAID) is None:  # type: ignore[attr-defined]
            decoder.add_word(UNSAID, UNSAID_PHONES, False)  # type: ignore[attr-defined]
        self._with_grammar(decoder, self.spotting_peek_jsgf, "spotting_peek", nulls=SPOTTING_NULLS)
        self._with_grammar(decoder, self.spotting_jsgf, "spotting", nulls=SPOTTING_NULLS)
        decoder.add_allphone_file("phones", get_model_path("en-us/en-us-phone.lm.bin"))  # type: ignore[attr-defined]
        return decoder

    def _with_grammar(self, decoder: object, jsgf: str, name: str = "commands",
                      nulls: bool = False) -> object:
        """``decoder`` with the words (commands, ours, decoys, garbage phones) and ``jsgf`` as
        the search ``name``, active: without null transitions (``add_grammar``), or with
        ``nulls`` as PocketSphinx compiles it (the spotting pass's gate was fitted on that) less
        those into join-only states, which changes no decode (``fsg.without_dead_ends``)."""
        if decoder.lookup_word(GARBAGE_PREFIX + PHONES[0].lower()) is None:  # type: ignore[attr-defined]
            self._add_words(decoder)  # once per decoder, whatever number of searches it has
            for word, phone in self.garbage.items():
                decoder.add_word(word, phone, False)  # type: ignore[attr-defined]
        if self._missing:  # a grammar word without a pronunciation would fail the whole grammar
            jsgf = _drop_words(jsgf, self._missing)
        try:
            add_grammar(decoder, name, jsgf, without_dead_ends if nulls else without_nulls)
        except (OSError, ValueError) as exc:  # no temporary file, or a weight too small to
            # write: the grammar as compiled, in more memory (a bad JSGF fails below)
            log.warning("grammar %s kept as compiled: %s", name, exc)
            decoder.add_jsgf_string(name, jsgf)  # type: ignore[attr-defined]
        decoder.activate_search(name)  # type: ignore[attr-defined]
        return decoder

    def new_phone_decoder(self) -> object:
        from pocketsphinx import get_model_path

        return _decoder(lm=None, allphone=get_model_path("en-us/en-us-phone.lm.bin"), topn=TOPN)

    def new_phone_loop(self) -> NativeDecoder | BindingPhoneLoop:
        """The strict pass's phone loop: driven through the C interface so that it decodes
        beside the grammar (``native``), or, where that cannot load, ``new_phone_decoder``."""
        from pocketsphinx import get_model_path

        config = {"hmm": get_model_path("en-us/en-us"), "loglevel": "FATAL", "bestpath": False,
                  "allphone": get_model_path("en-us/en-us-phone.lm.bin"), "topn": TOPN}
        try:
            native = NativeDecoder.load(json.dumps(config))
        except RuntimeError as exc:  # the C interface refused: the binding still works
            log.warning("phone loop decodes after the grammar: %s", exc)
            native = None
        return native or BindingPhoneLoop(self.new_phone_decoder())

    def recognizer(self) -> Recognizer:
        if self.recognition is Recognition.SPOT:
            from assistant.speech.pocketsphinx_spot import SpottingRecognizer

            return SpottingRecognizer(self)
        return PocketSphinxRecognizer(self)

    def phone_count(self, decoder: object, word: str) -> int:
        """Phones in the pronunciation of ``word`` (3 when unknown)."""
        phones = decoder.lookup_word(word)  # type: ignore[attr-defined]
        return len(str(phones).split()) if phones else 3

    def missing_words(self, words: Iterable[str]) -> list[str]:
        phrases = [phrase.lower().split() for phrase in words]
        cmu_pronunciations({word for phrase in phrases for word in phrase})
        out = []
        for phrase in phrases:
            for word in phrase:
                if not self._knows(word) and word not in out:
                    out.append(word)
        return out


def add_grammar(decoder: object, name: str, jsgf: str,
                rewrite: Callable[[Fsg], Fsg] = without_nulls) -> None:
    """``jsgf`` as the search ``name`` of ``decoder`` (not activated), compiled by PocketSphinx
    and then rewritten: by default rid of its null transitions (``fsg.without_nulls``: the same
    sentences and weights in a quarter of the memory); the spotting grammars only of those into
    join-only states (``fsg.without_dead_ends``: the same decodes in less memory). The grammar
    goes to PocketSphinx through a file: its interface reads and writes grammars only that way."""
    with tempfile.TemporaryDirectory(prefix="assistant-grammar-") as tmp:
        path = os.path.join(tmp, "grammar.fsg")
        if isinstance(decoder, NativeDecoder):
            decoder.write_fsg(jsgf, path)
        else:
            decoder.parse_jsgf(jsgf).writefile(path)  # type: ignore[attr-defined]
        with open(path, encoding="utf-8") as f:
            fsg = rewrite(Fsg.parse(f.read()))
        with open(path, "w", encoding="utf-8") as f:
            f.write(fsg.text())
        if isinstance(decoder, NativeDecoder):
            decoder.add_fsg_file(name, path)
        else:
            decoder.add_fsg(name, decoder.read_fsg(path))  # type: ignore[attr-defined]


def _drop_words(jsgf: str, words: list[str]) -> str:
    """Replace unpronounceable words with <VOID> so the rest of the grammar still works."""
    for word in words:
        jsgf = re.sub(rf"(?<![\w<]){re.escape(word)}(?![\w>])", "<VOID>", jsgf)
    return jsgf
