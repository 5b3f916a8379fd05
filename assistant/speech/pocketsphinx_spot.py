"""PocketSphinx command spotting: the command is found inside whatever sound surrounds it, then
verified on its own span (``assistant.speech.spotting``).

The utterance is trimmed and, with talk around it, cut to its loudest stretch (``focus``). Then:

1. the recogniser of version 0.1 (strict grammar: one whole command or garbage, and its score
   gate against a free phone loop) judges it. Measured on 480 items of the tuning corpus:
   with the trim and focus it understands 30/40 clean and 19/40 babble-12 dB commands, against
   23/40 and 0/40 on the raw utterance, with fewer false accepts (6/240 against 9/240);
   A bare device reply it accepts is checked like a spotted one (below);
2. when that rejects it, the spotting grammar (any sound, a command, any sound) looks for a
   command inside, and the gate (``spotting.Gate``) judges the spotted span. The command's words
   and the phone loop are compared over the frames the command took; that, its timing and its
   loudness against its surroundings feed the gate.

With ``PocketSphinxEngine(decoys=True)`` (off by default: twice the CPU; figures in
``pocketsphinx.OWN_WORDING``), both grammars also hold the assistant's own sentences as decoys
(``grammar.decoy_sentences``): when the best path goes through a decoy, the utterance is
rejected before any gate.
"""

from __future__ import annotations

import itertools
import logging
import math
import re

import numpy as np

from assistant.audio_io import duration_ms
from assistant.intents import Command
from assistant.speech.base import Recognizer, Stopwatch, Transcript, judge
from assistant.speech.grammar import DECOY_PREFIX, GARBAGE_PREFIX
from assistant.speech.pocketsphinx import (
    FILLERS,
    UNSAID,
    PocketSphinxEngine,
    PocketSphinxRecognizer,
    decode_whole,
    dither,
    give_back_memory,
    release,
)
from assistant.speech.denoise import FRAME_BYTES, suppress
from assistant.speech.spot_endpointing import QUIET_ROOM_DB
from assistant.speech.spotting import (
    Segment,
    mean_db,
    features,
    fit,
    focus,
    frame_levels_db,
    steady,
    trim_span,
)

log = logging.getLogger(__name__)

_ALTERNATE = re.compile(r"\(\d+\)$")  # "answer(2)": the second pronunciation of "answer"
MIN_PCM_BYTES = 3200  # under 0.1 s: nothing to decode
# The strict pass on the spotted span: when the gate rejects a spotted command that the room's
# talk came just before, the strict pass decodes the command's own span again (with
# SPAN_MARGIN_FRAMES of 10 ms either side) and, when it accepts the same command word for word,
# so is the command. In babble of real people (bench/real_speech.py) the strict pass heard
# garbage where that talk was in the focused audio, and the gate, which counts the talk before
# against a command, was unsure (0.40-0.72): --stress in 12 dB real babble 61 / 3 / 44 ->
# 69 / 4 / 35. Only when the talk before is the room's: the span SPAN_BEFORE_DB louder than the
# 300 ms before it (the person's own "um" or "don't" is as loud as the command) and the garbage
# before the command SPAN_LEAD_FROM of the audio or more; without those two, three hesitations
# went to the wrong device (docs/templates.md).
SPAN_RECHECK = True
SPAN_MARGIN_FRAMES = 10
SPAN_BEFORE_DB = 6.0
SPAN_LEAD_FROM = 0.15
# A negating phrase the spotting pass heard before a command ("don't", pocketsphinx.NEGATING)
# this much quieter than the command's words is the room's talk, not the person's: garbage.
NEGATION_BELOW_DB = 6.0
# ... and "don't answer" is a command (decline): its "don't" must be the person's too. Held-out
# voices in babble (bench/commit_replay.py --voices unseen) had "answer the call" declined as
# "don't answer the call": the room's talk at the start of the audio taken for "don't", 6 dB
# under the command, squeezed to 2.8 frames per phone (a cut-off word), or in real babble 1.3 s
# of talk at 31.8 frames per phone. A command heard through such a "don't" (NEGATION_BELOW_DB
# quieter than the command's other words, or its frames per phone outside NEGATING_FRAMES) is
# not acted on either way, nor is another command spotted in its place ("answer it" for "do
# not answer"): taking "don't" away would answer a call the person may have
# declined, and keeping it declines one they wanted; they are asked again.
NEGATING_FRAMES = (4.0, 20.0)
# ... or one that fits its frames WORD_FIT_BELOW worse than the phone loop, as a carrier word
# that took talk (the same threshold, not tuned again): held-out voices in babble had "where
# are the spare batteries" declined as "don't answer it", its "don't" at -9.1.
NEGATION_FIT = True
# ... and a command the spotting pass found after words of the person's own that it could not
# place (garbage before it, OWN_LEAD_FROM of the audio or more, and the 300 ms before the
# command not SPAN_BEFORE_DB quieter than it: the same voice, no pause) is not acted on: those
# words may undo it. SVOX Pico's British "don't" (phones T EH UW T) is no "don't" to the US
# model: "don't put it on hold" was spotted as garbage + "put it on hold" and held the call
# (bench/commit_replay.py --negated --voices unseen, quiet room: 4 of 54 acted on).
OWN_WORDS_BEFORE = True
OWN_LEAD_FROM = 0.05
# OWN_WORDS_AFTER: so is one followed by such words, with the same two thresholds, not tuned
# again (garbage after it OWN_LEAD_FROM of the audio or more, the 300 ms after it not
# SPAN_BEFORE_DB quieter): the command was the start of a sentence ("send them to the front
# desk when they arrive" decoded whole as "send them to voicemail" and the rest garbage; "mute
# your phone in the cinema" as "mute the phone"). In a quiet room only (the room's quietest
# frames spot_endpointing.QUIET_ROOM_DB under the command, as the endpointer judges a room):
# with talk around, what follows the command as loud may be the room's (12 dB babble: "answer
# on my ... computer" lost, a colleague's word 3.4 dB under it). Off until 5 December: on whole
# clips it took the person's own "... okay" and "... thank you" that the strict pass missed for
# talk (3 of 16). Through the listener, which acts on a command at the dip before such words,
# it costs less than it saves (bench/commit_replay.py, quiet room, off -> on): held-out voices
# (MBROLA, Pico) --led 11 -> 5 of 54 talk acted on, --talk 5 -> 3 of 90, --carried 29 -> 28 of 54
# right; corpus voices --led 3 -> 2, --carried 21 -> 21 right (1 wrong -> 0); commands with
# thanks or okay after them, 4 test voices, 16 -> 14 of 20 (docs/templates.md, "The start of a
# sentence"). A command said by a colleague, or a sentence that begins like one, cannot be told
# from the person's own command followed by talk; neither is acted on.
OWN_WORDS_AFTER = True
# A peek is noise suppressed only when the trimmed utterance is at least this long:
# the start of a command in babble can look steady (4 of 300 early peeks, none from 70 % of a
# command on), and a peek can commit. From 1 s: 2 of 542 peeks in babble suppressed, outcomes
# unchanged; in steady noise most peeks are, and commit there (docs/templates.md).
SUPPRESS_PEEKS_FROM_MS = 1000.0
# A peek that heard no command empties its search's history at once (PocketSphinx keeps it
# until that search's next utterance), and gives the memory back to the system: the final
# decode's search ("spotting") no longer adds its own beside it, and between peeks the process
# shrinks (bench/footprint.py, 12 dB babble: RSS median 177 -> 168 MB with the history
# emptied, 159 MB with the memory given back; at most 258 -> 208 MB). Emptying 6.5 s of
# babble's history takes about 35 ms, which the next peek's decode no longer spends; an
# accepted peek, which may commit, is left alone.
RELEASE_REJECTED_PEEKS = True
# Rejected candidates under this confidence are not reported as heard text at all, so they do
# not make the assistant say "Sorry, I didn't catch that. Say answer, ..." (5 s, deaf meanwhile:
# a command begun then is lost). At 0.05, room talk alone was reported about once a minute live
# ("who is calling me" in "who is calling the shots on this project"), and 47 % of the corpus's
# office sentences were. Rejected items reported, corpus seed 0 (tuning) / seed 1 (held out):
#   0.05: commands 166 / 59, office sentences 164 of 348 / 65 of 144
#   0.2:  commands  84 / 31, office sentences  47 of 348 / 15 of 144
# and in 4 minutes of babble alone (4 seeds) 3 → 1. Chosen leave-one-voice-group-out on seed
# 0, counting a "Sorry" said to talk 1.5 times as costly as one missing after a command that
# was not understood (the first loses the next command; after the second the reminder still
# comes): 0.15-0.25 per fold, 0.2 in 10 of 18; with equal costs, 0.1 (docs/templates.md).
REPORT_ABOVE = 0.2
# A bare device reply must stand alone: this much louder than the 300 ms on either side. The
# strict grammar's bare replies are checked here too ("the phone in reception keeps ringing"
# decoded whole as "the phone in reception area").
REPLY_ALONE_DB = 6.0
# Every word of a command must have been said: a word this far under the loudest word of the
# command is silence the grammar filled in. Measured: "answer on my" cut at a pause before
# "headset" decoded as "answer on my app", the "app" 41 dB under "on" (silence).
WORD_BELOW_DB = 25.0
# ... and the last word's typical (median) frame this far under the loudest word's is a pause
# the grammar filled in with a device: a word's mean level is carried by its few loudest frames,
# which can be the decay of the word before it. Measured with bench/commit_replay.py --holdout
# (hesitations like "pick up on the ... webex app" in 8 voices never used for tuning, quiet
# room): the devices acted on in the pause ("pick up on the app", "take it on my phone") were
# 44.6 to 48.3 dB under; the last words of the commands acted on rightly at most 20.2.
LAST_WORD_BELOW_DB = 30.0
# ... and the last word, of two phones or more, may not be stretched over more than this many
# 10 ms frames per phone: the grammar laid a short word over longer speech. Measured: "so answer on my
# headset now" (en-us+f2, quiet room) peeked as "please answer on webex app", "app" over 84
# frames (42 per phone), and acted on: the wrong device. The last words of the 68 commands
# accepted rightly on corpus seed 3 (every condition) took 5.7 to 24.5 frames per phone (median
# 13.3); 36 leaves half as much again for a slow speaker.
STRETCHED_FRAMES_PER_PHONE = 36.0
# ... or over more than this many when the person's own words follow it ("hang up, thanks"):
# a word that does not end the sentence is not drawn out like a last one. Measured with "okay"
# among them (carriers.after): flite kal's "put it on hold for a minute while i check" heard
# whole as "put it on hold okay", "hold" over 21.5 frames per phone, and acted on. The last
# command words before such words, in every command the strict pass heard with them on the
# corpus voices (bench/commit_replay.py --carried, quiet room), took 7.0 to 13.0.
STRETCHED_BEFORE_CARRIER = 18.0
# ... and in a quiet room no word of the command, inside it too, may hold more than
# STRETCHED_FRAMES_PER_PHONE frames per phone of the voice (frames within VOICED_WITHIN_DB of
# the utterance's loudest): talk forced onto a short word. "ignore the warnings in the build
# log" (en-us+f2) was heard whole as "ignore the call", "the" over 1.14 s at the voice's level
# (57 frames per phone), and acted on. A hesitation's pause inside a command is quiet there,
# and not counted (with talk around it is not: VOICED_STRETCH is for a quiet room only).
VOICED_STRETCH = True
VOICED_WITHIN_DB = 25.0
# ... and every silence the strict grammar put around or between the words must have been quiet:
# a silence of at least SILENCE_MIN_FRAMES whose loud frames (90th percentile) come within this of
# the command's loudest frame was speech the grammar could not explain ("turn off the lights in
# the kitchen" -> "turn off the tones" + a silence as loud as the words). Such an utterance goes
# on to the spotting pass and its gate. Chosen by leave-one-voice-group-out on corpus seed 0
# (720 clips, commands right minus 3 x (wrong + false accepts); 10.5 in 17 of 18 folds), held
# out there: right 192 -> 189 of 384, wrong 23 -> 17, off-domain accepted 6 -> 2 of 288. On
# seed 1 (bench/accuracy.py): right 96 -> 94 of 192, wrong 9 -> 6, off-domain 2 -> 1 of 144.
# Noise 12 dB under the voice put the silences of commands accepted rightly 11.4 to 14.5 dB
# under (white and babble, both seeds): with louder noise the spotting pass decides more often.
SILENCE_BELOW_DB = 10.5
SILENCE_MIN_FRAMES = 10
# ... and the strict grammar must not have forced talk onto a command: a word of the command
# that fits its own frames this much worse than the free phone loop does over the same frames
# (log-likelihood per frame, x1e3), while a word of three or more phones is squeezed under
# SQUEEZED_FRAMES frames per phone, was talk. "please send the report to the team" decoded
# whole as "please take the call on computer" ("the" -10.3 over "send the"), "please call me
# when you land" as "please take on the computer" ("take" -15.1 in 10 frames). Such an
# utterance goes on to the spotting pass and its gate. The strict pass's one threshold
# (pocketsphinx.REJECT_BELOW) is on the whole utterance, where the other words hide one forced
# word. Chosen by leave-one-voice-group-out on corpus seeds 0-2 (3,948 clips; a false accept
# as costly as a lost command): -8 and 5.5 in 15 of 18 folds; held out there the strict pass
# lost 3 of 732 commands it understood and 8 of 34 office sentences and 1 of 67 wrong
# commands it accepted (docs/templates.md, "Talk forced onto a command").
WORD_FIT_BELOW = -8.0
SQUEEZED_FRAMES = 5.5
# ... or when FORCED_WORDS of its words fit worse than WORD_FIT_BELOW, squeezed or not: talk
# that begins like a command and goes on ("pick up some milk on the way home"), the strict
# grammar explaining the rest as a device ("pick up on the lobby phone": "up" -8.4, "lobby"
# -9.3; MBROLA, held out, bench/commit_replay.py --led --voices unseen). On the corpus's voices
# (--stress, quiet and 12 dB babble) no right command the strict pass accepted had two such
# words, 14 had one; not tuned further. Held out: --led 17 -> 14 of 108, --talk 10 -> 9 of 180,
# --stress in both voice sets the same case for case (docs/templates.md, "Talk that begins like
# a command").
FORCED_WORDS = 2
# ... and "please" must not carry the rest of the command: office sentences that begin with
# "please" were accepted as "please <a command>", the one word fitting and the others forced
# ("please sign the birthday card" as "please answer it on app"). The words of the command other
# than POLITE ones must fit their frames (first to last) no worse than PLEASE_FIT_BELOW against
# the phone loop (per frame, x1e3), or the utterance goes on to the spotting pass and its gate.
# Chosen by leave-one-voice-group-out on the 130 clips of corpus seeds 0-2 heard as "please
# ...", judged through the whole recogniser (-4.5 in 17 of 18 folds): held out there, office
# sentences accepted 23 -> 5, right commands 90 -> 83, wrong 10 -> 7. Seed 3, held out: office
# sentences 13 -> 7 of 705, right commands 259 -> 255 of 376 (docs/templates.md, '"Please"
# carrying a sentence'). The person's own words around a command (intents.Carriers: "okay",
# "thanks") are held to the same, with the same two thresholds, not tuned again: the command's
# words must fit no worse than PLEASE_FIT_BELOW, and no carrier word worse than WORD_FIT_BELOW
# (one that took talk: "he declined to comment on the rumours" as "hey decline the call thank
# you"; "ok nothing was done", the assistant's own, as "okay answer on my phone").
# The spotting pass's commands are held to PLEASE_FIT_BELOW too, with one of the words other
# than "please" fitting worse than WORD_FIT_BELOW (PLEASE_SPOTTED_WORD; neither tuned again):
# talk the strict pass rejected by it was spotted and acted on ("please send the report to the
# team" as "please send the call to voicemail", "voicemail" at -8.1 and -9.9). Without the one
# word, the check took right commands said in noise, whose every word fits worse ("please
# answer" in pink noise, -7.2): on corpus seeds 0 and 2 (every "please" sentence in every
# condition, 3 voices each), right commands 168 -> 183 of 324 with it, office sentences acted
# on 8 -> 8 of 288. Its cost, held out: MBROLA's "please sign the birthday card" is acted on as
# "please answer the call" ("answer" -7.8) in a quiet room (docs/templates.md, '"Please" on the
# spotting pass').
# With the person's own words only before the command ("hey", "um", "okay", "so") and no
# "please", the command's words are held to CARRIED_BEFORE_FIT_BELOW instead: at
# PLEASE_FIT_BELOW, right commands heard whole were rejected ("um what devices do i have" at
# -5.3, "hey answer the call on my desk phone" at -5.4). Words after a command keep
# PLEASE_FIT_BELOW: looser there, talk went through ("take it easy this weekend" -> "take it
# using desk phone thanks"). Chosen on the corpus voices (bench/commit_replay.py --carried,
# --led, --talk, --stress; quiet room and 12 dB babble): the right commands it let through fit
# -4.5 to -5.6 but one (-6.4), the one piece of talk it let through -6.3 ("the kitchen sink is
# blocked" -> "okay take using desk phone", babble), a false action costing more than a lost
# command. Quiet room, right carried commands 20 -> 28 of 54 (-inf: 29). Held out and in
# babble: docs/templates.md, "Words before a command".
POLITE = frozenset({"please"})
PLEASE_FIT_BELOW = -4.5
CARRIED_BEFORE_FIT_BELOW = -6.0
PLEASE_SPOTTED_WORD = True
# The spotting pass may call talk silence: its grammar charges garbage for talk and nothing for
# silence, so a sentence's middle or end can go to "<sil>" at full speech level ("webex needs a
# confirmation before it can do that" spotted as "webex <2.4 s of sil> app", a bare device;
# "please answer on my headset" as "please <sil> answer"). A pause of at least PAUSE_MIN_FRAMES
# between the words of a spotted command, or anywhere around a spotted bare device reply (which
# stands alone), whose loud frames (90th percentile) come within PAUSE_BELOW_DB of the loudest
# word's frame, was speech: the candidate is rejected, and not reported as heard. A person's
# hesitation is quiet, or has only the room in it: office babble 12 dB under the voice put
# spotted hesitations' pauses 6.7 to 25.9 dB under (the one at 6.7, 41 frames, is kept by the
# length). Chosen by leave-one-voice-group-out (grid 10-100 frames x 0-16 dB; a false accept as
# costly as a lost command) on every spotting-pass accept of corpus seeds 0 and 2, of the
# assistant's sentences, office sentences and commands said plainly, and of hesitations in
# babble 12 and 6 dB and pink 12 dB: 60 and 7 in 16 of 18 folds; held out there, false accepts
# 32 -> 12 for 1 of 39 right commands. Held out, another draw of the assistant's sentences:
# 10 -> 2 of 376 accepted (docs/templates.md, "Talk the spotting pass called a pause").
PAUSE_MIN_FRAMES = 60
PAUSE_BELOW_DB = 7.0


def _word_levels(words: list[Segment], levels: np.ndarray) -> list[np.ndarray]:
    """Each segment's frame levels (segments with no frames left out)."""
    spans = [levels[s.start : s.end + 1] for s in words if s.end >= s.start]
    return [x for x in spans if len(x)]


def _last_gap(spans: list[np.ndarray]) -> float:
    """dB by which the last word's median frame is under the loudest word's median frame."""
    medians = [float(np.median(x)) for x in spans]
    return max(medians) - medians[-1] if medians else 0.0


def _from_end_ms(words: list[Segment], first: int, total: int) -> float:
    """How long before the end of the decoded audio (``total`` 10 ms frames) the last of
    ``words`` (decoded from frame ``first`` on) started."""
    return float((total - first - words[-1].start) * 10) if words else 0.0


def _stopped_at(unsaid: list[Segment], first: int, total: int) -> dict[str, float]:
    """Where an unfinished command stopped (its ``UNSAID``), as ``_from_end_ms``."""
    return {"unsaid_start_ms": _from_end_ms(unsaid, first, total)} if unsaid else {}


def _all_said(words: list[Segment], levels: np.ndarray) -> bool:
    spans = _word_levels(words, levels)
    means = [float(10 * np.log10(np.mean(10 ** (x / 10)))) for x in spans]
    return not means or (min(means) >= max(means) - WORD_BELOW_DB
                         and _last_gap(spans) <= LAST_WORD_BELOW_DB)


def _loudest_silence(path: list[Segment], levels: np.ndarray,
                     min_frames: int = SILENCE_MIN_FRAMES) -> float:
    """dB by which the loudest silence of ``path`` (its 90th percentile frame; silences of
    ``min_frames`` or more) is under the loudest frame of its words (``math.inf`` when there
    is no silence to judge)."""
    words = _word_levels([s for s in path if _is_word(s)], levels)
    quiet = _word_levels([s for s in path if not _is_word(s) and s.frames >= min_frames], levels)
    if not words or not quiet:
        return math.inf
    return max(float(np.max(x)) for x in words) - max(float(np.percentile(x, 90)) for x in quiet)


def _talk_in_pause(spotted: list[Segment], levels: np.ndarray, whole: bool) -> bool:
    """``PAUSE_BELOW_DB``: the spotting pass's path ``spotted`` has a pause at speech level
    between its first and last word (``whole``: anywhere in it). Garbage is talk the path
    owned up to (the gate weighs it), not a pause."""
    at = [i for i, s in enumerate(spotted) if _is_word(s)]
    part = spotted if whole else spotted[at[0] : at[-1] + 1] if at else []
    pauses = [s for s in part if not s.word.startswith(GARBAGE_PREFIX)]
    return _loudest_silence(pauses, levels, PAUSE_MIN_FRAMES) < PAUSE_BELOW_DB


def _quieter(negating: list[Segment], command: list[Segment], levels: np.ndarray) -> bool:
    """``NEGATION_BELOW_DB``: the ``negating`` words are that much quieter than the
    ``command``'s (mean level of their frames): the room's talk, not the person's."""
    heard_as = mean_db(np.concatenate(_word_levels(negating, levels) or [np.zeros(0)]))
    said = mean_db(np.concatenate(_word_levels(command, levels) or [np.zeros(0)]))
    return heard_as <= said - NEGATION_BELOW_DB


def _quiet_room(words: list[Segment], room: np.ndarray, offset: int) -> bool:
    """Nobody else is heard: the quietest frames (5th percentile) of ``room`` (the levels of the
    audio the decoded part, from frame ``offset``, was focused from) are
    ``spot_endpointing.QUIET_ROOM_DB`` under the ``words``."""
    span = room[words[0].start + offset : words[-1].end + offset + 1] if words else room[:0]
    return bool(len(span)) and mean_db(span) - float(np.percentile(room, 5)) >= QUIET_ROOM_DB


def _forced(words: list[Segment], loop: list[Segment], phones: dict[str, int]) -> bool:
    """``WORD_FIT_BELOW`` and ``SQUEEZED_FRAMES``: the command ``words`` (their phones per
    word in ``phones``) against the phone loop's path ``loop`` over the same audio."""
    worst = min((fit([w], loop) for w in words), default=0.0)
    squeezed = [w.frames / phones[w.word] for w in words if phones[w.word] >= 3]
    return worst < WORD_FIT_BELOW and min(squeezed, default=math.inf) < SQUEEZED_FRAMES


def _many_forced(words: list[Segment], loop: list[Segment]) -> bool:
    """``FORCED_WORDS``: that many of the command ``words`` fit their frames worse than
    ``WORD_FIT_BELOW`` against the phone loop ``loop`` (0: never)."""
    return FORCED_WORDS > 0 and sum(fit([w], loop) < WORD_FIT_BELOW for w in words) >= FORCED_WORDS


def _stretched(words: list[Segment], phones: dict[str, int], carried: list[Segment]) -> bool:
    """``STRETCHED_FRAMES_PER_PHONE``: the command's last word (``phones`` per word) held far
    longer than a word of its length is said; ``STRETCHED_BEFORE_CARRIER`` when words of the
    person's own (``carried``) follow it. The last only: a word inside a command may take
    in a hesitation's pause ("answer on my ... lobby phone" in babble, rightly heard, was lost
    when every word was checked: bench/commit_replay.py --stress)."""
    last = words[-1] if words else None
    if last is None or phones[last.word] < 2:
        return False
    followed = any(c.start > last.end for c in carried)
    return last.frames / phones[last.word] > (
        STRETCHED_BEFORE_CARRIER if followed else STRETCHED_FRAMES_PER_PHONE)


def _voiced_stretch(words: list[Segment], phones: dict[str, int], levels: np.ndarray) -> bool:
    """A word of ``words`` held over more than ``STRETCHED_FRAMES_PER_PHONE`` frames per phone
    within ``VOICED_WITHIN_DB`` of the loudest (95th percentile) of ``levels``."""
    if not len(levels):
        return False
    loud = levels >= float(np.percentile(levels, 95)) - VOICED_WITHIN_DB
    return any(np.count_nonzero(loud[w.start : w.end + 1]) / max(phones.get(w.word, 3), 1)
               > STRETCHED_FRAMES_PER_PHONE for w in words)


def _carried(words: list[Segment], loop: list[Segment], carriers: list[Segment]) -> bool:
    """``PLEASE_FIT_BELOW``: the words of the command other than its polite ones fit their
    frames this much worse than the phone loop ``loop`` does, with a polite word or the
    person's own words (``carriers``) around them (``CARRIED_BEFORE_FIT_BELOW`` when those
    are all before the command, with no polite word); or one of ``carriers`` fits its frames
    ``WORD_FIT_BELOW`` worse (it took talk: "he declined to comment on the rumours" decoded as
    "hey decline the call thank you")."""
    rest = [w for w in words if w.word not in POLITE]
    around = len(rest) < len(words) or bool(carriers)
    before = (len(rest) == len(words) and bool(rest) and bool(carriers)
              and all(c.start < rest[0].start for c in carriers))
    below = CARRIED_BEFORE_FIT_BELOW if before else PLEASE_FIT_BELOW
    return (around and bool(rest) and fit(rest, loop) < below) or any(
        fit([w], loop) < WORD_FIT_BELOW for w in carriers)


def segments(decoder: object) -> list[Segment]:
    """The decoder's last path; ``ascore`` as a natural log (PocketSphinx gives it scaled
    against the best state of each frame, as a probability)."""
    return [Segment(_ALTERNATE.sub("", s.word), s.start_frame, s.end_frame,
                    math.log(max(float(s.ascore), 1e-300)))
            for s in decoder.seg()]  # type: ignore[attr-defined]


def _is_word(seg: Segment) -> bool:
    return seg.word not in FILLERS and not seg.word.startswith(("+", GARBAGE_PREFIX))


class SpottingRecognizer(Recognizer):
    """Buffers the utterance and decodes it whole at ``final()`` (see PocketSphinxRecognizer)."""

    def __init__(self, engine: PocketSphinxEngine) -> None:
        self.engine = engine
        self.strict = PocketSphinxRecognizer(engine, decoys=True, peeks=True)
        self.decoder = engine.new_spotting_decoder(onto=self.strict.grammar)
        self._phone_counts: dict[str, int] = {}
        self._buffer = bytearray()
        language = engine.language
        self._carrier_words = language.carriers.words - language.words  # "please" is a command's
        self._negating_words = {DECOY_PREFIX + w for w in language.carriers.negating_words}
        self._negation = language.carriers.negating_words - POLITE  # "don't" of "don't answer"

    def accept(self, frame: bytes) -> None:
        self._buffer += frame

    def partial(self) -> str:
        return ""

    def reset(self) -> None:
        self._buffer = bytearray()

    def release(self) -> None:
        release(self.strict.grammar, ("commands", "peek", "peek_carried")
                if self.engine.peek_carried_jsgf else ("commands", "peek"))
        self.strict.forget_phones()
        release(self.decoder, ("spotting", "spotting_peek", "phones"))
        give_back_memory()  # once, for all three

    def peek(self, pad: bytes = b"") -> Transcript:
        """The transcript of the audio so far followed by ``pad``, without ending the
        utterance (``spot_endpointing`` pads an early peek with the room's sound). The strict
        pass may find the command unfinished (it stops before a word or its device): the
        transcript is then rejected with ``details["unfinished"]``. So may the spotting pass."""
        heard = self.decode(bytes(self._buffer) + pad, peek=True)
        if RELEASE_REJECTED_PEEKS and not heard.accepted:  # off the answer's path
            release(self.decoder, ("spotting_peek",))
            give_back_memory()
        return heard

    def _decode(self, search: str, pcm: bytes) -> list[Segment]:
        decoder = self.decoder
        decoder.activate_search(search)  # type: ignore[attr-defined]
        decode_whole(decoder, pcm)
        return segments(decoder) if decoder.hyp() is not None else []  # type: ignore[attr-defined]

    def _phones_of(self, word: str) -> int:
        if word not in self._phone_counts:
            self._phone_counts[word] = self.engine.phone_count(self.decoder, word)
        return self._phone_counts[word]

    def _last_rate(self, words: list[Segment]) -> float:
        """Frames per phone of the last word (3: the fewest a phone can take)."""
        return round(words[-1].frames / max(self._phones_of(words[-1].word), 1), 2) if words else 0.0

    def final(self) -> Transcript:
        pcm = bytes(self._buffer)
        self.reset()
        return self.decode(pcm)

    def _checked(self, strict: Transcript, levels: np.ndarray
                 ) -> tuple[Transcript, list[Segment], Command | None]:
        """The strict pass's transcript after the checks on its path (rejected when one fails),
        the command's words on that path, and the command it heard with the person's own
        words around it (None without them)."""
        # The person's own words around the command (Carriers) are neither the command's
        # words nor silence to the checks below: measured, as silence their loud frames
        # failed SILENCE_BELOW_DB (docs/templates.md).
        whole = segments(self.strict.grammar) if strict.accepted else []
        path = [s for s in whole if s.word not in self._carrier_words]
        said = [s for s in path if _is_word(s)]
        loop = segments(self.strict.phones) if strict.accepted else []
        carried = [s for s in whole if s.word in self._carrier_words]
        # A command heard with the person's own words around it that the checks below
        # reject: the spotting pass may not act on another command instead (measured:
        # "hey put the call on hold" heard rightly, rejected by _carried, then spotted as
        # "pick up the call on app").
        doubted = strict.command if carried else None
        phones = {w.word: self._phones_of(w.word) for w in said}
        # ... and so may a "don't" that may be the room's: not "answer" for "do not answer".
        negated = (strict.accepted and strict.command is not None
                   and self._doubtful_negation(said, levels, phones, loop))
        if negated:
            doubted = strict.command
        if strict.accepted and (not _all_said(said, levels)
                                or _loudest_silence(path, levels) < SILENCE_BELOW_DB
                                or (strict.command is not None and (
                                    _forced(said, loop, phones) or _stretched(said, phones, carried)
                                    or (VOICED_STRETCH and _quiet_room(said, levels, 0)
                                        and _voiced_stretch(said, phones, levels))
                                    or _many_forced(said, loop)
                                    or _carried(said, loop, carried) or negated))):
            strict = Transcript(strict.text, False, None, strict.confidence, 0.0, strict.audio_ms)
        return strict, said, doubted

    def _doubtful_negation(self, words: list[Segment], levels: np.ndarray,
                           phones: dict[str, int], loop: list[Segment]) -> bool:
        """The command ``words`` begin with a negating word ("don't answer") that may be the
        room's talk: ``NEGATION_BELOW_DB`` quieter than the rest, its frames per phone
        outside ``NEGATING_FRAMES``, or fitting its frames ``WORD_FIT_BELOW`` worse than the
        phone loop ``loop`` (as a carrier word that took talk)."""
        lead = list(itertools.takewhile(lambda w: w.word in self._negation, words))
        rest = words[len(lead):]
        if not lead or not rest:
            return False
        low, high = NEGATING_FRAMES
        if not low <= sum(w.frames for w in lead) / max(1, sum(phones[w.word] for w in lead)) <= high:
            return True
        return (_quieter(lead, rest, levels)
                or (NEGATION_FIT and any(fit([w], loop) < WORD_FIT_BELOW for w in lead)))

    def _room_negation(self, spotted: list[Segment], levels: np.ndarray) -> list[Segment]:
        """``spotted`` with a negating phrase before the command ("don't", ``NEGATING``) made
        garbage when it is the room's, not the person's: ``NEGATION_BELOW_DB`` quieter than
        the command's words. Measured in babble of real people: the talk just before a command
        was spotted as "don't" ("say that again", "resume the call" lost)."""
        negating = [s for s in spotted if s.word in self._negating_words]
        said = [s for s in spotted if _is_word(s) and not s.word.startswith(DECOY_PREFIX)]
        if not negating or not said or len(negating) != sum(
                s.word.startswith(DECOY_PREFIX) for s in spotted):
            return spotted
        if not _quieter(negating, said, levels):
            return spotted  # the person's own: not to be done
        return [Segment(GARBAGE_PREFIX + "negating", s.start, s.end, s.ascore)
                if s.word in self._negating_words else s for s in spotted]

    def _span_agrees(self, heard: bytes, words: list[Segment], command: Command,
                     search: str) -> Transcript | None:
        """The strict pass on the spotted command's own span (``SPAN_MARGIN_FRAMES`` either
        side), accepted by its checks and heard as the same command, word for word; else
        None."""
        first = max(0, words[0].start - SPAN_MARGIN_FRAMES) * FRAME_BYTES
        span = heard[first : (words[-1].end + 1 + SPAN_MARGIN_FRAMES) * FRAME_BYTES]
        self.strict.accept(span)
        strict = self.strict.final(search)
        if (strict.details or {}).get("unfinished") or strict.command is None:
            return None
        strict, _, _ = self._checked(strict, frame_levels_db(span))
        if not strict.accepted or strict.command != command:
            return None
        return strict

    def decode(self, pcm: bytes, peek: bool = False) -> Transcript:
        """The transcript of ``pcm`` (the buffer is left alone); ``peek``: see ``peek``."""
        audio_ms = duration_ms(pcm)
        if len(pcm) < MIN_PCM_BYTES:
            return Transcript("", False, None, None, 0.0, audio_ms)
        watch = Stopwatch()
        with watch:
            raw = dither(pcm)
            start, end = trim_span(raw)
            around = raw[start:end]
            pcm, offset = focus(around)
            decoded_from, total = start // FRAME_BYTES + offset, len(raw) // FRAME_BYTES
            levels = frame_levels_db(pcm)
            heard = pcm  # what the decoders hear: the focused audio, steady noise suppressed
            if (self.engine.noise_suppression
                    and (not peek or duration_ms(around) >= SUPPRESS_PEEKS_FROM_MS)
                    and steady(frame_levels_db(around))):
                first = start + offset * FRAME_BYTES  # focus counts 10 ms frames
                heard = suppress(raw, self.engine.noise_suppression)[first : first + len(pcm)]
            # A peek that is not a plain command may be one with the person's own words
            # around it ("um, decline the call": plainly, garbage, or "decline the call" with
            # "um" as a loud silence): a second decode, with the carrier words. (One peek
            # grammar with them took 12 % longer for every peek; docs/templates.md.)
            searches = (["peek", self.engine.carried_peek_search]
                        if peek and self.engine.carried_peek_search
                        else ["peek" if peek else "commands"])
            doubted: Command | None = None
            for search in searches:
                self.strict.accept(heard)
                strict = self.strict.final(search)
                if (strict.details or {}).get("unfinished"):
                    stop = [s for s in segments(self.strict.grammar) if s.word == UNSAID][:1]
                    return Transcript("", False, None, None, watch.ms, audio_ms,
                                      details=dict(strict.details or {}) | _stopped_at(
                                          stop, decoded_from, total), unfinished=strict.unfinished)
                if not strict.accepted and self.engine.swallowed(strict.text):
                    # "um answer the call" may be "don't answer the call": the spotting pass, with
                    # talk allowed before the command, cannot tell them apart either (measured:
                    # it took "um answer the call" for "don't answer the call"). Not acted on.
                    return Transcript(strict.text, False, None, strict.confidence, watch.ms,
                                      audio_ms, details={"swallowed": 1.0})
                strict, said, doubt = self._checked(strict, levels)
                doubted = doubted or doubt  # a doubt of either search holds
                if strict.accepted and strict.command is not None:
                    strict.decode_ms, strict.audio_ms = watch.ms + strict.decode_ms, audio_ms
                    strict.details = {"strict": 1.0, "last_word_rate": self._last_rate(said),
                                      "last_start_ms": _from_end_ms(said, decoded_from, total),
                                      "last_gap": _last_gap(_word_levels(said, levels))}
                    return strict
            # Their histories are read: the spotting pass reuses the memory (each search of a
            # peek held its own until its next utterance; "peek" 7 MB for 6.5 s of babble).
            release(self.strict.grammar, searches)
            spotted = self._decode("spotting_peek" if peek else "spotting", heard)
            if any(s.word == UNSAID for s in spotted):
                at = [s.word for s in spotted].index(UNSAID)
                before = " ".join(s.word for s in spotted[:at] if _is_word(s))
                return Transcript("", False, None, None, watch.ms, audio_ms,
                                  details={"unfinished": 1.0, "spotting": 1.0} | _stopped_at(
                                      spotted[at : at + 1], decoded_from, total),
                                  unfinished=before)
            spotted = self._room_negation(spotted, levels)
            if any(s.word.startswith(DECOY_PREFIX) for s in spotted):
                log.debug("spotted one of the assistant's own sentences, or a command said not "
                          "to be done: %s", " ".join(s.word for s in spotted if _is_word(s)))
                return Transcript("", False, None, None, watch.ms, audio_ms,
                                  details={"decoy": 1.0})
            words = [s for s in spotted if _is_word(s)]
            if not words:
                return Transcript("", False, None, None, watch.ms, audio_ms)
            garbage = [s for s in spotted if s.word.startswith(GARBAGE_PREFIX)]
            lead = sum(s.frames for s in garbage if s.end < words[0].start)
            tail = sum(s.frames for s in garbage if s.start > words[-1].end)
            loop = self._decode("phones", heard)
            phones = {w.word: self._phones_of(w.word) for w in words}
            room = frame_levels_db(around)
            values = features(words, phones, loop, room, lead, tail, offset,
                              len(pcm) // 320)
        text = " ".join(s.word for s in words)
        alone = min(values["before"], values["after"]) >= REPLY_ALONE_DB
        if strict.accepted and alone:  # a bare device reply, standing alone
            strict.decode_ms, strict.audio_ms = watch.ms, audio_ms
            strict.details = values | {"strict": 1.0}
            return strict
        gate = self.engine.gate
        confidence = gate.confidence(values) if gate is not None else 1.0
        confident = gate is None or confidence >= gate.threshold
        accepted, command, device_only = judge(self.engine.language, text,
                                               confident and _all_said(words, levels))
        if device_only is not None and not alone:  # "my headset battery is almost empty"
            accepted, device_only = False, None
        if (accepted and command is not None and _carried(words, loop, [])
                and (not PLEASE_SPOTTED_WORD or any(fit([w], loop) < WORD_FIT_BELOW
                                                    for w in words if w.word not in POLITE))):
            log.debug("spotted %r: 'please' carried talk forced onto a command", text)
            accepted, command = False, None
        if accepted and command is not None and self._doubtful_negation(words, levels, phones, loop):
            log.debug("spotted %r: its 'don't' may be the room's talk", text)
            accepted, command = False, None
        if (OWN_WORDS_BEFORE and accepted and command is not None
                and values["lead"] >= OWN_LEAD_FROM and values["before"] < SPAN_BEFORE_DB):
            log.debug("spotted %r after words of the same voice it could not place", text)
            accepted, command = False, None
        own_after = (OWN_WORDS_AFTER and values["tail"] >= OWN_LEAD_FROM
                     and values["after"] < SPAN_BEFORE_DB and _quiet_room(words, room, offset))
        if own_after and accepted and command is not None:
            log.debug("spotted %r before words of the same voice it could not place", text)
            accepted, command = False, None
        if (accepted and command is not None and doubted is not None
                and (command.intent, command.device) != (doubted.intent, doubted.device)):
            log.debug("spotted %r against %r heard with carrier words", text, strict.text)
            accepted, command = False, None
        if (SPAN_RECHECK and not accepted and confidence >= REPORT_ABOVE
                and values["lead"] >= SPAN_LEAD_FROM and values["before"] >= SPAN_BEFORE_DB
                and doubted is None and not own_after and _all_said(words, levels)):
            spotted_command = self.engine.language.parse(
                self.engine.language.carriers.strip(text))
            if spotted_command is not None:
                with watch:
                    again = self._span_agrees(heard, words, spotted_command,
                                              "peek" if peek else "commands")
                if again is not None:
                    accepted, command = True, spotted_command
                    values["span"] = 1.0
        talk = accepted and _talk_in_pause(spotted, levels, device_only is not None)
        if talk:  # "webex <sil> app": not reported as heard either, it was talk
            accepted, command, device_only = False, None, None
        log.debug("spotted %r confidence %.3f accepted %s talk in a pause %s %s", text, confidence,
                  accepted, talk, values)
        values["confidence"] = confidence
        shown = text if accepted or (confidence >= REPORT_ABOVE and not talk) else ""
        values |= {"spotted": float(len(words)), "last_word_rate": self._last_rate(words),
                   "last_start_ms": _from_end_ms(words, decoded_from, total),
                   "last_gap": _last_gap(_word_levels(words, levels))}
        return Transcript(shown, accepted, command, round(confidence, 3), watch.ms, audio_ms,
                          device_only, details=values)
