"""Endpointing while other people talk: end on the person's voice, not on the room's silence.

In a quiet room the plain energy endpointer (``endpointing.Listener``) works. With colleagues
talking, the room is never silent, so an utterance never ended. Here:

- the noise floor follows the room all the time (a low percentile of the last 3 s of frame
  levels), so steady chatter raises it instead of holding an utterance open;
- the person is the loudest voice (closest to the microphone): within an utterance, a frame
  belongs to them when it is within ``FOREGROUND_DB`` of the loudest part so far;
- a louder voice that starts inside an utterance that background talk opened restarts the
  utterance just before it, so the command is not glued to seconds of chatter;
- when the person's voice has been gone for ``PEEK_AFTER_MS``, the recogniser is asked what it
  has (``peek``, as if the voice had been gone ``PEEK_AS_IF_MS``; a peek taken before the voice
  came back is dropped). A complete, accepted command that cannot grow ("answer on my desk
  phone", "decline") ends the utterance once the voice has been gone ``COMMIT_AFTER_QUIET_MS``
  in a quiet room, ``COMMIT_AFTER_MS`` with talk around. A pause inside a command is safe: the
  peek's grammar lets a command stop there ("unfinished", ``pocketsphinx.UNSAID``), and every
  word of a command must have been said (``pocketsphinx_spot.WORD_BELOW_DB``). Anything
  else ("answer": "on my headset" may follow after a pause) waits up to ``PAUSE_MS`` for more,
  and an unfinished command, or one whose last word was squeezed into the pause ("answer the
  call on my ... app"), up to ``SQUEEZED_PAUSE_MS``; it is then decided on the whole utterance,
  never on that peek. With talk around, the last complete command a peek heard is kept for
  when the whole utterance is rejected (``KEEP_LAST_COMPLETE``): the room's voices keep
  cutting the commit wait short.
  ``trailing_silence_ms`` is for the plain endpointer only;
- ``max_utterance_seconds`` stays the hard limit. In a quiet room, the rest of talk that ran
  into it (the utterance right after the cut) is never a command (``TALK_GOES_ON``).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
from collections.abc import Iterable, Iterator
import numpy as np

from assistant.audio_io import SAMPLE_RATE_HZ, duration_ms
from assistant.config import SpeechSettings
from assistant.intents import Intent
from assistant.speech.base import Recognizer, Transcript
from assistant.speech.spotting import STEADY_WITHIN_DB

log = logging.getLogger(__name__)

FLOOR_WINDOW_FRAMES = 150  # 3 s of 20 ms frames
FLOOR_PERCENTILE = 10
START_ABOVE_FLOOR_DB = 9.0  # speech starts this far above the floor ...
MIN_START_DB = 46.0  # ... and above an absolute level (RMS 200)
START_FRAMES = 2  # for this many frames in a row
FOREGROUND_DB = 12.0  # the person's voice: within this of the utterance's loudest part
RESTART_ABOVE_DB = 8.0  # a voice this much louder than the utterance so far restarts it
PRE_ROLL_FRAMES = 15  # 300 ms kept before the start
SMOOTH_FRAMES = 5  # levels are smoothed over 100 ms
# The person's voice gone PEEK_AFTER_MS: ask the recogniser what it has, as if the voice had
# been gone PEEK_AS_IF_MS (a frame of the room at its floor, repeated, is added to the audio).
# The decode then overlaps the commit wait below (frames queue meanwhile), and sees what a later
# peek would: a peek on 100 ms of quiet alone took "answer on my ... desk phone" for "answer on
# my app" (bench/commit_replay.py): the "every word was said" check
# (``pocketsphinx_spot.WORD_BELOW_DB``) needs quiet to judge, and the voice's last 100 ms are
# not quiet yet (its decay, the smoothing of levels). 40 ms, not 100: the decode (about 150 ms)
# then ends near COMMIT_AFTER_QUIET_MS; the same outcomes on the cases below. 20 ms, not 40:
# the peek's decode (185 ms p50 for "answer on my desk phone", its grammar with UNSAID) ends
# after the 200 ms commit wait, so the quiet room's latency is the decode's: starting it 20 ms
# sooner took bench/commit_replay.py's simulated end of speech -> commit (model_ms, rtf 0.1)
# p50 from 236 to 216 ms (tuning cases), 334 -> 312 (--holdout), 304 -> 286 (--stress), every
# case the same transcript (17, 16 and 108 in a quiet room); --talk in a quiet room: 2 -> 1 of
# 90 sentences taken for a command.
# Only in a quiet room (the floor QUIET_ROOM_DB under the voice): with talk around, an utterance
# has many short dips, and peeking at each of them live in 12 dB babble kept the 2 shared cores
# so busy that the listener fell seconds behind (11 of 20 calls missed against 0 at 200 ms).
PEEK_AFTER_MS = 20
PEEK_AFTER_NOISY_MS = 200
PEEK_AS_IF_MS = 200
QUIET_ROOM_DB = 40.0
ROOM_WITHIN_DB = 3.0  # a frame this close to the floor is the room's own sound
# ... and act on a complete command only if the voice stays gone this long (with talk around;
# in a quiet room COMMIT_AFTER_QUIET_MS, below). Measured live in
# 12 dB babble with the commit at 200 ms: 1 of 20 "answer on my desk phone" was answered on
# the app, cut short inside the command. In bench/commit_replay.py, 250 ms took 2 more of 48
# babble commands for another command than 350 ms did (cut short: "hold the phone", "mute me").
# The peek's decode (136 ms p50 for "answer on my desk phone": assistant.speech.native) runs
# inside this wait.
COMMIT_AFTER_MS = 350
# In a quiet room: shorter, because the peek's grammar lets a command stop before any of its
# words, its device or the rest of the device's name (``pocketsphinx.UNSAID``). A peek in
# "answer on my ... desk phone", "answer on my desk ... phone" or "send the call ... to
# voicemail" then decodes as unfinished, and the utterance is held open as for a squeezed
# command, instead of acting on what fits the pause best (before UNSAID, a commit at 200 ms
# answered the first on the headset, espeak en-us+f2, and took the last for "end the call",
# en-us+f4). bench/commit_replay.py, right / wrong / missed, peek at 40 ms:
#
#   cases                                    200 ms   350 ms   350 ms without UNSAID
#   tuning (--rooms quiet)                   17/0/0   17/0/0   17/0/0 (200 ms: 15/2/0)
#   held out (--holdout)                     13/1/2   12/1/3   10/2/4
#   18 voice groups (--stress): hesitations  47/2/5   48/2/4   43/6/5
#                               plain        49/0/5   48/1/5   48/1/5
#
# (peek at 100 ms for 350.) The wrong ones at 200 ms are devices misheard after the whole
# command had been said. With talk around, the dips inside words are many: COMMIT_AFTER_MS
# stays. There UNSAID took the tuning cases from 11/1/5 to 12/0/5, held out from 4/5/7 to
# 3/1/12, --stress from 57/17/34 to 59/8/41 (59/10/39 without "spotting_peek").
COMMIT_AFTER_QUIET_MS = 200
# In a quiet room no command is acted on until COMMIT_AFTER_QUIET_MS after the last frame at the
# voice's level, though the smoothed level may have fallen long before: (1) inside a word, a
# stop and a soft "s" ("head|set", SVOX Pico, bench/commit_replay.py --voices unseen) were a
# dip that the smoothing stretched past COMMIT_AFTER_QUIET_MS, and the peek in it ("please
# answer on my ... hed" heard as "... on my app") was acted on; (2) in "repeat that ... joke at
# the party tonight" (espeak en-gb-x-gbcwmd+steph, commit_replay --led) "joke" was 40 ms at the
# voice's level among softer frames, too short for the smoothed level to see, and "repeat that"
# was acted on while the sentence went on. (1) alone was first held only while the loud frames
# went on; counting the wait from the last one (5 December), quiet room, corpus voices: --led
# 2 -> 1 acted on, --talk 0 -> 0, --stress case for case (end of speech -> commit p50
# unchanged), --carried 28 -> 27 right ("so answer on my headset ... now" is judged whole, with
# "now", and fails PLEASE_FIT_BELOW); held out (--voices unseen): --led 4 -> 3, the rest case
# for case. Only the commit waits: taking the voice as back from its first loud frame on
# (tried) also peeked again after every such frame, 4.7 -> 7.9 peeks a command, and the
# modelled end of speech -> commit went from 286 to 409 ms p50 in a quiet room.
BACK_UNSMOOTHED = True
PAUSE_MS = 900  # longest pause inside a command ("answer on my ... headset")
# A command whose last word took at most this many 10 ms frames per phone (3 is the fewest a
# phone can take) is not acted on early: that word was squeezed into the end of the audio. Cut
# at a pause, "answer on my ... desk phone" and "answer the call on my ... headset" decoded as
# "... on my app" with "app" in 6 frames (bench/commit_replay.py); the last words of the
# commands acted on there took 7.8 or more. 5, not 3.5: hesitations ("answer on the ...
# reception phone") peeked as "answer on the app" with "app" at 4.5 (same tool: 2 of 17
# commands in the quiet room acted on with the wrong device at 3.5, none at 5; in 12 dB babble
# 3 against 1. Checked on --holdout, 16 hesitations in 8 other voices: wrong 3 -> 2 quiet,
# 7 -> 6 babble, with the last-word check of pocketsphinx_spot.LAST_WORD_BELOW_DB).
SQUEEZED_FRAMES_PER_PHONE = 5.0
# ... and a command whose last word began less than this long before the person's voice went
# (``heard_ms``: where the word starts in the peeked audio, ``last_start_ms`` from
# pocketsphinx_spot, against how long the voice had been gone, the room's padding included) is
# squeezed too: the word is mostly the room's sound. With babble 20 dB down, the 600 ms pause
# of "answer on my ... desk phone" peeked as "answer on my app" with "app" long enough (7 and 13
# frames per phone) and only 24 dB under the loudest word (LAST_WORD_BELOW_DB is for quiet), but
# begun 70 and 80 ms before the voice went. The last words of the 152 commands committed rightly
# from a peek in the same replays began 110 ms ("it" of "resume it") to seconds before: 100
# lies between (two examples; not a fitted value). A right command caught by it is not lost,
# only decided later, on the whole utterance. bench/commit_replay.py --continuous, seeds 3-6
# (docs/templates.md); --stress, --holdout and --talk unchanged case for case.
LAST_WORD_HEARD_MS = 100.0
# A pause after such a squeezed command may be a hesitation before the device's name ("answer
# the call on my ... headset" peeked as "answer the call on my app"): the utterance is held
# open this long, and then decided on the whole audio, not on the squeezed peek.
SQUEEZED_PAUSE_MS = 1500
# With talk around, the room's voices keep "bringing the voice back" inside the commit wait, so
# an accepted, complete command that a peek found may never be acted on, and the whole
# utterance, decided at its end with all the talk in it, is then rejected. Keep it: when the
# utterance ends (pause, hard limit) and its own decision is not an accepted command, the last
# accepted peek decides instead, if it was complete (an accepted peek that is not, "answer",
# clears it). Noisy rooms only: in a quiet room a voice that comes back is the person going on
# ("decline the call ... no, answer it"). bench/commit_replay.py in 12 dB babble, right / wrong /
# missed, without -> with: --stress (108 commands, 18 voice groups) 58/7/43 -> 60/7/41; tuning
# cases 12/0/5 and --holdout 3/1/12 unchanged. Through the same listener (/tmp script, not
# committed): the 16 commands of bench/latency.py --voices other, two babble seeds, 29/0/3 both;
# 6 dB babble 0/0/16 both; off-domain sentences of the corpus, one each in rotating voices,
# taken for a command 3 of 79 at 12 dB and 1 of 47 at 20 dB, both.
KEEP_LAST_COMPLETE = True
# ... unless a voice this much louder than any before the peek came after it: the person is the
# loudest voice, so what was heard before them was the room (a peek on the babble before the
# command, "resume it", kept while the command itself was rejected whole).
KEEP_UNLESS_LOUDER_DB = 3.0
# ... and unless a later peek of the same utterance reads the start of that command as a command
# not yet finished (the same first word): the person was still saying it. In 12 dB babble,
# en-gb-x-rp+f4's "answer the call using the desk phone" was peeked as "answer the call using
# headset" (kept), then, the voice back, as the unfinished "answer the call using the cisco",
# and the whole rejected: the kept command answered on the headset (live, `bench/latency.py
# --voices other`: "answer the call using app"). Replayed (the 16 commands of --voices other,
# babble seeds 7-11, 80 cases): right / wrong / missed 68 / 4 / 8 -> 68 / 3 / 9. The same case
# for case on --stress (108) and --carried (54) in 12 dB babble, and --continuous, 12 and
# 20 dB (80 commands each); any unfinished later peek (tried) did the same on those 80.
KEEP_UNLESS_UNFINISHED = True
# ... and, when the utterance ends at a pause, unless the voice, back after that peek, was heard
# this long (its frames added up): the room's voices bring it back in blips; the person saying
# more is longer. (Not at the hard limit: talk that runs into it is the room's, and the part
# before the dip is still the kept command's: CARRY_AT_LIMIT.) In 12 dB babble,
# en-gb-x-rp+f4's "pick up on the ... desk phone" was peeked in its pause as "do not answer it"
# (kept), then "desk phone" was said and the whole rejected: the kept command declined the call.
# Measured first at any end of the utterance (the same 80 cases as above): right / wrong /
# missed 68 / 3 / 9 -> 68 / 2 / 10, the same at 250 ms; --stress and --carried in 12 dB babble
# and --continuous at 20 dB the same case for case; --continuous at 12 dB 41 / 5 / 34 ->
# 41 / 4 / 35 of 80. Then left out at the hard limit, and measured with the rule below
# (docs/templates.md, "Colleagues' commands"). Not fitted: about one short word.
KEEP_UNLESS_VOICE_MS: float | None = 400.0
# With colleagues talking (the room's last 3 s, once 1 s of it was heard, rise and fall more than
# steady noise or silence: spotting.STEADY_WITHIN_DB),
# a command is acted on only when the voice that said it (the utterance's loudest, smoothed over
# 100 ms) is at least this far above the room's floor before the utterance began (its 10th
# percentile: the quiet between the colleagues' words). The person is the loudest voice, the
# closest to the microphone. Replayed, the 16 commands of `bench/latency.py --voices other` in
# 12 dB babble (seeds 7-16): colleagues' talk was acted on before the command 5 times ("please
# decline it", "decline it", "hold the phone" twice, "um who is it"), 9.0 to 16.1 dB above the
# floor; the 139 commands understood there were 18.4 dB above it or more (20 dB babble: 26.4 or
# more). 17 lies between (chosen on those 160 cases). Right / wrong / missed there: 139 / 8 / 13
# (before the two KEEP rules above) -> 144 / 1 / 15. Held out: --stress in 12 dB babble 65 / 5 / 38
# -> 66 / 4 / 38 ("mute my microphone" had been taken from the babble before it as "repeat
# that"), 6 dB babble 3 / 4 / 101 -> 3 / 3 / 102; in steady noise it does not apply (a fan is
# nobody talking): before the exemption, --stress in 12 dB pink noise lost 14 of 80 commands
# (their peaks 12 to 17 dB over the noise); with it, 80 / 3 / 25 as before. The rule costs any
# command said less than 17 dB over a talking room (6 dB babble is that: already 3 of 108).
COMMAND_ABOVE_FLOOR_DB: float | None = 17.0
# Talk that runs into the hard limit in a quiet room is somebody talking on, not a command: the
# utterance that follows it before the voice has paused for PAUSE_MS is its continuation, and
# never a command. Cut at the limit, the rest of a long sentence was taken for one
# (/tmp probe, the assistant's sentences that quote commands, one voice per group, quiet room:
# 6 of 113 accepted, e.g. "... hang up, hold, resume, mute or unmute" -> "unmute", "... say
# answer, answer on a device, or decline" -> "decline"). The same holds for the person talking
# on a call, where "mute" and "hold" are commands. Quiet: the floor before the utterance began
# (six seconds of talk raise the floor to the talk's own level). Not with talk around: there the
# limit cuts utterances the room held open, with the person's command possibly across the cut.
# So it never lasts: it covers the one utterance after the cut (and the ones after a dip that
# ended one of them early), and ends at a louder voice (the person, over the talk). A first
# version that held until a 900 ms pause stayed on for good when office chatter started in a
# quiet room (its first 6 s were "talk in a quiet room", and chatter never pauses): make bench
# live, 12 dB babble, 5 of 20 calls answered (18 before).
TALK_GOES_ON = True
# With talk around, the room holds an utterance open until the hard limit, and the person's
# command often starts inside it: the limit then cut the command in two, and the whole
# utterance, decided at the cut, was taken for the half that had been said ("answer the call on
# my ... app" -> "answer", "send the call to voicemail" -> "answer"). Now, in a noisy room, the
# audio since the voice came back after a dip of PEEK_AFTER_NOISY_MS (where a peek already
# judged what came before) is carried into a fresh utterance: from the earliest such dip in the
# last CARRY_MAX_MS, so that a pause inside the command ("answer on my ... lobby phone") does
# not leave its first half behind (carried from the last dip, the device alone went on); what
# came before is decided by the last complete command a peek heard (KEEP_LAST_COMPLETE), or is
# no command, without decoding the 6 s again; audio up to a kept command is never carried (it
# was decided again 360 ms later). No such dip: decided whole, as before. Measured with
# bench/commit_replay.py --continuous (commands at random times in minutes of babble): 12 dB,
# 160 commands, right / wrong / missed 80/31/49 -> 92/13/55, false actions 5 -> 1; figures in
# docs/templates.md.
CARRY_AT_LIMIT = True
CARRY_MAX_MS = 4000
CARRY_PRE_ROLL_FRAMES = 10  # 200 ms of the dip go with it
# A gap in the sound (the microphone is deaf while the assistant speaks) used to throw the
# utterance away. When the person had finished a command and a peek had heard it, complete,
# the assistant starting to speak inside the commit wait (its reminder "Still ringing: ...",
# any sentence) lost the command: live, in a `-vv` run of bench/latency.py, "answer on my desk
# phone" was recognised from audio heard before the reminder began, and dropped. Now that
# command is kept and acted on when the gap ends (after the assistant's sentence). Anything
# else, an unfinished or growing command, a squeezed one, is still thrown away.
KEEP_AT_GAP = True
# With talk around, the hard limit can cut an utterance while the voice is heard and there is no
# dip in the last CARRY_MAX_MS to carry from (the room held it open and the person started inside
# it). Decided whole at the cut, the command being said across it was taken for what had been said
# so far, with a device squeezed into the last 70 ms ("please answer on my ... reception phone"
# -> "please answer on my app", "answer on the reception phone" -> "answer on the app"), or cut
# short ("take the call on the lobby phone" -> "take the call"). Now the last CARRY_MAX_MS go on
# as a fresh utterance, as at a dip (what came before: KEEP_LAST_COMPLETE, or no command). Only
# with the voice heard at the cut (gone less than PEEK_AFTER_NOISY_MS): after that, a peek has
# judged the audio. bench/commit_replay.py --continuous, 160 commands per room, right / wrong /
# missed and false actions, before -> after (with LAST_WORD_HEARD_MS):
#   babble 20 dB: 110/20/30, 5 -> 112/12/36, 2       babble 12 dB: 91/15/54, 1 -> 91/11/58, 0
# Only on the squeezed decodes at the cut (decoded whole first): 112/15/33, 3 and 91/14/55, 1.
# Held out (--first-seed 7 --seeds 2, 80 commands per room): 20 dB 56/9/15, 4 -> 59/5/16, 2;
# 12 dB 41/14/25, 1 -> 42/12/26, 0 (docs/templates.md).
CARRY_VOICE_AT_LIMIT = True
# A hesitation inside a command ("answer on my ... desk phone"):
# - The voice went after the first half and did not come back before the utterance ended (the
#   pause outlasted SQUEEZED_PAUSE_MS). Decided whole as a command, it was fitted with the
#   shortest device, "app": "answer on my ... (2 s)" answered on the app. Now the whole, when
#   decided after a squeezed or unfinished peek, loses the words that came after the voice went
#   (``WHOLE_HEARD``): a last word begun less than LAST_WORD_HEARD_MS before (as for a peek),
#   or whatever follows the words of an unfinished peek that stopped as the voice went (one
#   that stopped earlier took a short device that was said, "app", for the stop). What is left
#   is the command if it is one ("decline it", "it" begun as the voice went: "decline"), else
#   nothing is. (Deciding the whole as a peek, where a command may stop before its device, also
#   lost plain commands the peeks took for the start of a longer one: "take it" as "take it on".)
# - A bare device name that begins within JOIN_WITHIN_MS of the voice going then completes that
#   first half (``JOIN_UNFINISHED``); otherwise it is no command unless the assistant asked
#   "Which phone?". Anything decided in between, or a gap (the assistant spoke), forgets it.
#   Nothing is said to the person meanwhile (the first half has no text).
# - The voice came back after a peek that found the first half unfinished, and the whole is
#   rejected (with talk around, the room fills the pause): what came after that peek is decided
#   on its own, and a bare device name there completes the first half (``JOIN_INSIDE``).
# - No device came within JOIN_WITHIN_MS, or what came is no command: the transcript that ends
#   the wait says what was left unfinished (``Transcript.left_unfinished``), and the dialog asks
#   "Which device?" while a call rings (nothing is left silent).
# - While a first half waits for its device, another command is not acted on
#   (``WAIT_FOR_DEVICE``): said alone after a pause, the device was often decoded as a short
#   command ("app" as "hang up", "answer", "repeat"; "headset" as "pick up"). It ends the wait as
#   no command (the dialog asks for the device). Acted on as before: the same command with a
#   device (said again from the start), and cancel.
# - In a quiet room, only a first half the strict pass found is held (``QUIET_HALVES_STRICT``).
#   There the person's words are all the utterance has, and the strict pass (the peek's grammar,
#   which must explain the whole utterance) found every one of the person's first halves: 47 of
#   47 in bench/commit_replay.py --stress --pauses 1500,2000,2500,3000 --rooms quiet. The 6 of
#   90 office sentences that made the assistant ask "Which device?" there (--talk --rooms quiet:
#   "the kitchen sink is blocked" as "pick up using desk …") were all the spotting pass's, which
#   finds a command's start anywhere inside talk. With talk around, the person's first half is
#   inside the room's sound, and the spotting pass's halves are held as before.
WHOLE_HEARD = True
JOIN_UNFINISHED = True
JOIN_WITHIN_MS = 4000.0
JOIN_INSIDE = True
WAIT_FOR_DEVICE = True
QUIET_HALVES_STRICT = True


def percentile(values: Iterable[float], q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) by a partial sort: 4 against 45 us
    for the floor's 150 levels, asked for every 20 ms (in silence, 13 % of the listening
    process's CPU went to it: py-spy on bench/footprint.py)."""
    x = np.fromiter(values, dtype=np.float64)
    rank = q / 100.0 * (len(x) - 1)
    low = int(rank)
    if low + 1 >= len(x):
        return float(np.partition(x, low)[low])
    part = np.partition(x, (low, low + 1))
    return float(part[low] + (part[low + 1] - part[low]) * (rank - low))


def frame_db(frame: bytes) -> float:
    x = np.frombuffer(frame[: len(frame) // 2 * 2], dtype=np.int16).astype(np.float64)
    return float(10.0 * np.log10(np.mean(x**2) + 1.0)) if len(x) else 0.0


class SpottingListener:
    """Frames in, transcripts out; same contract as ``endpointing.Listener``."""

    def __init__(self, recognizer: Recognizer, settings: SpeechSettings,
                 growing: set[str] | None = None) -> None:
        self.recognizer = recognizer
        self.settings = settings
        language = getattr(getattr(recognizer, "engine", None), "language", None)
        if growing is None:
            growing = _growing_commands(language.sentences()) if language is not None else set()
        self.growing = growing  # commands that are the start of a longer command
        self.language = language
        self._first_half = ""  # JOIN_UNFINISHED: the unfinished command an utterance ended with,
        self._first_half_ms = 0.0  # how long ago the voice went after it, and the pause until
        self._first_half_pause: float | None = None  # a voice was heard again
        self._levels: collections.deque[float] = collections.deque(maxlen=FLOOR_WINDOW_FRAMES)
        self._floor: float | None = None  # floor_db of the levels as they are
        self._room = b""  # a recent frame of the room at its floor (nobody close talking)
        self._talk = False  # TALK_GOES_ON: the next utterance may go on with talk
        self._gone_ms = 0.0  # how long the voice has been gone since the last utterance ended
        self._continues = False  # this utterance goes on with that talk
        self._floor_at_start = 0.0
        self._talking_at_start = False  # COMMAND_ABOVE_FLOOR_DB
        self._talk_peak_db = 0.0  # the loudest of the talk that was cut
        self.reset()

    @property
    def quiet_room(self) -> bool:
        """The room's floor is QUIET_ROOM_DB under the utterance's voice: nobody else talking."""
        return self.floor_db <= self._peak_db - QUIET_ROOM_DB

    @property
    def floor_db(self) -> float:
        """The room's level (once per frame: it is asked for on every frame, in silence too)."""
        if self._floor is None:
            self._floor = percentile(self._levels, FLOOR_PERCENTILE) if self._levels else 0.0
        return self._floor

    @property
    def hearing(self) -> bool:
        """An utterance is under way: a voice louder than the room is being heard."""
        return self._in_speech

    def reset(self) -> None:
        self.recognizer.reset()
        self._recent: collections.deque[tuple[bytes, float]] = collections.deque(
            maxlen=PRE_ROLL_FRAMES)
        self._frames: list[bytes] = []  # the utterance's audio, as the recogniser got it
        self._back_at: list[int] = []  # CARRY_AT_LIMIT: where the voice came back after dips
        self._smooth: collections.deque[float] = collections.deque(maxlen=SMOOTH_FRAMES)
        self._in_speech = False
        self._loud = 0
        self._peak_db = 0.0
        self._speech_ms = 0.0
        self._quiet_ms = 0.0
        self._since_loud_ms = 0.0  # BACK_UNSMOOTHED
        self._peeked: Transcript | None = None
        self._complete_peek: Transcript | None = None  # KEEP_LAST_COMPLETE
        self._kept_peak_db = 0.0  # the utterance's loudest level when it was kept
        self._voice_after_kept_ms = 0.0  # KEEP_UNLESS_VOICE_MS
        self._rest_from: int | None = None  # JOIN_INSIDE: the voice back after an unfinished peek
        self._rest_after = ""  # ... which heard this

    def feed(self, frame: bytes) -> Transcript | None:
        """One frame in; a Transcript when an utterance has ended."""
        if not frame:  # a gap in the sound (the assistant spoke, the microphone went away)
            self._first_half = ""
            kept = self._peeked if KEEP_AT_GAP and self._in_speech and not self._continues else None
            if kept is not None:
                kept = self._from_the_room(kept, self._peak_db)
            self.reset()
            self._talk = False
            if kept is not None and kept.accepted and self._complete(kept):
                log.debug("utterance ended: a gap; the complete command heard before it is kept")
                return kept
            return None  # a fresh start
        ms = len(frame) / 2 / SAMPLE_RATE_HZ * 1000
        self._first_half_ms += ms
        level = frame_db(frame)
        self._levels.append(level)
        self._floor = None
        self._smooth.append(level)
        floor = self.floor_db
        if level <= floor + ROOM_WITHIN_DB:
            self._room = frame
        smooth = float(np.mean(self._smooth))
        if not self._in_speech:
            self._gone_ms += ms
            self._wait_for_start(frame, level, smooth)
            if (self._first_half and self._first_half_pause is None
                    and self._first_half_ms > JOIN_WITHIN_MS):  # no voice came to complete it
                return self._left(Transcript("", False, None, None, 0.0, 0.0), self._first_half)
            return None
        if smooth > self._peak_db + RESTART_ABOVE_DB:
            self._restart()
        if self._continues and smooth > self._talk_peak_db + RESTART_ABOVE_DB:
            self._continues = False  # a voice louder than the talk: the person, over it
        self._peak_db = max(self._peak_db, smooth)
        if self._complete_peek is not None and smooth > self._kept_peak_db + KEEP_UNLESS_LOUDER_DB:
            self._complete_peek = None  # a louder voice came after it: that was the room
        self.recognizer.accept(frame)
        self._frames.append(frame)
        self._recent.append((frame, level))
        self._speech_ms += ms
        voice_db = max(self._peak_db - FOREGROUND_DB, floor + 3.0)
        foreground = smooth >= voice_db
        # since the last frame at the voice's level, smoothed or not (BACK_UNSMOOTHED)
        self._since_loud_ms = 0.0 if level >= voice_db else self._since_loud_ms + ms
        if foreground and self._quiet_ms >= PEEK_AFTER_NOISY_MS:
            self._back_at.append(max(0, len(self._frames) - 1 - CARRY_PRE_ROLL_FRAMES))
        self._quiet_ms = 0.0 if foreground else self._quiet_ms + ms
        if foreground and self._complete_peek is not None:
            self._voice_after_kept_ms += ms
        if foreground:  # the voice is back: what was heard so far is stale
            if self._peeked is not None and self._peeked.unfinished:
                self._rest_from = max(0, len(self._frames) - 1 - CARRY_PRE_ROLL_FRAMES)
                self._rest_after = self._peeked.unfinished
            self._peeked = None
        if self._speech_ms >= self.settings.max_utterance_seconds * 1000:
            quiet = self._floor_at_start <= self._peak_db - QUIET_ROOM_DB
            back = [i for i in self._back_at if (len(self._frames) - i) * 20.0 <= CARRY_MAX_MS]
            if CARRY_AT_LIMIT and not quiet and back and back[0] > 0:
                return self._carry(self._frames[back[0] :])
            if (CARRY_AT_LIMIT and CARRY_VOICE_AT_LIMIT and not quiet
                    and self._quiet_ms < PEEK_AFTER_NOISY_MS):
                return self._carry(self._frames[-int(CARRY_MAX_MS / 20) :])
            self._talk = TALK_GOES_ON and quiet
            self._talk_peak_db = self._peak_db
            return self._finish("maximum length")
        if self._quiet_ms >= PAUSE_MS and not (
                self._squeezed(self._peeked) and self._quiet_ms < SQUEEZED_PAUSE_MS):
            return self._finish("pause")
        quiet_room = self.quiet_room
        if self._peeked is None and self._quiet_ms >= (
                PEEK_AFTER_MS if quiet_room else PEEK_AFTER_NOISY_MS):
            self._peeked = self._peek()
            if not quiet_room and self._peeked.accepted:  # a later command replaces it
                complete = self._complete(self._peeked)
                self._complete_peek = self._peeked if complete else None
                self._kept_peak_db = self._peak_db
                self._voice_after_kept_ms = 0.0
                if complete:  # carried at the limit, the audio up to here would be heard twice
                    self._back_at = []
            elif (not quiet_room and self._complete_peek is not None
                  and self._reread(self._complete_peek, self._peeked)):
                log.debug("%r read again as the unfinished %r: not kept",
                          self._complete_peek.text, self._peeked.unfinished)
                self._complete_peek = None
        if (self._peeked is not None
                and self._quiet_ms >= (COMMIT_AFTER_QUIET_MS if quiet_room else COMMIT_AFTER_MS)
                and self._peeked.accepted and self._complete(self._peeked)
                and not (BACK_UNSMOOTHED and quiet_room
                         and self._since_loud_ms < COMMIT_AFTER_QUIET_MS)):
            return self._finish("complete command", self._peeked)
        return None

    def _wait_for_start(self, frame: bytes, level: float, smooth: float) -> None:
        self._recent.append((frame, level))
        loud = level >= max(self.floor_db + START_ABOVE_FLOOR_DB, MIN_START_DB)
        self._loud = self._loud + 1 if loud else 0
        if self._loud < START_FRAMES:
            return
        self._in_speech = True
        if self._first_half and self._first_half_pause is None:
            self._first_half_pause = self._first_half_ms
        self._peak_db = smooth
        self._floor_at_start = self.floor_db  # 6 s of talk raise the floor: the room before it
        self._talking_at_start = self._talking_room()
        self._continues = self._talk and self._gone_ms < PAUSE_MS
        self._talk = False  # only a continuation cut short by a dip passes it on (_finish)
        self._begin([pre for pre, _ in self._recent])

    def _restart(self) -> None:
        """A louder voice started: drop what came before it (but the pre-roll)."""
        log.debug("louder voice: utterance restarted")
        self.recognizer.reset()
        self._begin([pre for pre, _ in self._recent])
        self._back_at = []
        self._peeked = None
        self._complete_peek = None
        self._rest_from = None

    def _begin(self, frames: list[bytes]) -> None:
        """The utterance so far is ``frames`` (the recogniser was reset)."""
        for frame in frames:
            self.recognizer.accept(frame)
        self._frames = list(frames)
        self._speech_ms = len(frames) * 20.0

    def _carry(self, carried: list[bytes]) -> Transcript:
        """The hard limit in a noisy room (``CARRY_AT_LIMIT``): what came before ``carried``
        (from a dip where the voice came back) was judged by the peek at that dip; ``carried``
        goes on as a fresh utterance."""
        before_ms = (len(self._frames) - len(carried)) * 20.0
        transcript = self._complete_peek if KEEP_LAST_COMPLETE else None
        log.debug("utterance ended: maximum length; %.0f ms carried into the next one; before "
                  "it: %r", len(carried) * 20.0, transcript.text if transcript else None)
        if transcript is None:
            transcript = Transcript("", False, None, None, 0.0, before_ms)
        transcript = self._from_the_room(transcript, self._kept_peak_db)
        peak, smooth, recent = self._peak_db, self._smooth, self._recent
        self.reset()
        self._smooth, self._recent = smooth, recent
        self._in_speech = True
        self._peak_db = peak  # the same room and voices: louder than this is someone closer
        self._floor_at_start = self.floor_db
        self._talking_at_start = self._talking_room()
        self._continues = False
        self._begin(carried)
        return transcript

    def _peek(self) -> Transcript:
        peek = getattr(self.recognizer, "peek", None)
        if peek is None:
            return Transcript("", False, None, None, 0.0, 0.0)
        room, missing = self._room, _bytes(PEEK_AS_IF_MS - self._quiet_ms)
        pad = (room * (missing // len(room) + 1))[:missing] if room and missing > 0 else b""
        return self._heard(peek(pad), duration_ms(pad))

    def _heard(self, transcript: Transcript, pad_ms: float) -> Transcript:
        """``transcript`` with ``details["heard_ms"]``: how long its last word had been heard
        when the voice went (``LAST_WORD_HEARD_MS``); ``pad_ms`` of the room were added."""
        details = transcript.details or {}
        gone = self._quiet_ms + pad_ms  # the voice went this long before the end
        if "last_start_ms" in details:
            details = details | {"heard_ms": details["last_start_ms"] - gone}
        if "unsaid_start_ms" in details:  # an unfinished command: where it stopped
            details = details | {"unsaid_heard_ms": details["unsaid_start_ms"] - gone}
        transcript.details = details or transcript.details
        return transcript

    def _as_said(self, transcript: Transcript, peeked: Transcript) -> Transcript:
        """The whole, decided after ``peeked`` (squeezed or unfinished), without the words that
        came after the voice went (``WHOLE_HEARD``): what is left, if it is a command ("decline
        it" with "it" begun as the voice went: "decline"), or no command."""
        if self._said_on(transcript, peeked):
            said = peeked.unfinished.split()
        elif self._began_after_voice(transcript):
            said = transcript.text.split()[:-1]
        else:
            return transcript
        log.debug("%r: words after the voice went; said: %r", transcript.text, " ".join(said))
        return self._as_command(" ".join(said), transcript) or Transcript(
            "", False, None, transcript.confidence, transcript.decode_ms, transcript.audio_ms)

    def _as_command(self, text: str, heard: Transcript,
                    details: dict[str, float] | None = None) -> Transcript | None:
        """``text`` as an accepted command, with ``heard``'s measures; None if it is none."""
        command = self.language.parse(text) if text and self.language is not None else None
        if command is None:
            return None
        return Transcript(text, True, command, heard.confidence, heard.decode_ms, heard.audio_ms,
                          details=details if details is not None else heard.details)

    @staticmethod
    def _said_on(transcript: Transcript, peeked: Transcript) -> bool:
        """``transcript`` is the words of ``peeked``, an unfinished command that stopped as the
        voice went (not before: a short last word, "app", can be taken for the stop), and more:
        more than the voice said."""
        stopped = (peeked.details or {}).get("unsaid_heard_ms", math.inf)
        return (bool(peeked.unfinished) and stopped < LAST_WORD_HEARD_MS
                and transcript.text.startswith(f"{peeked.unfinished} "))

    @staticmethod
    def _began_after_voice(transcript: Transcript) -> bool:
        return (transcript.details or {}).get("heard_ms", math.inf) < LAST_WORD_HEARD_MS

    def _completed(self, transcript: Transcript, why: str) -> Transcript:
        """``transcript``, or the first half of a command completed by a bare device name in it
        or after it (``JOIN_UNFINISHED``, ``JOIN_INSIDE``); remembers an unfinished end."""
        halves = [(self._first_half, self._first_half_pause)] if self._first_half else []
        self._first_half = ""
        if (not transcript.accepted and JOIN_UNFINISHED and JOIN_INSIDE and self._rest_after
                and self._rest_from is not None and not transcript.unfinished):
            self.recognizer.reset()  # the whole may have been decided by a peek: still buffered
            for frame in self._frames[self._rest_from :]:  # what came after the unfinished peek
                self.recognizer.accept(frame)
            rest = self.recognizer.final()
            log.debug("rejected whole; after its unfinished %r: %r", self._rest_after, rest.text)
            joined = self._joined(rest, [(self._rest_after, 0.0), *halves])
            if joined is not rest:  # a bare device name that completes nothing stays unheard
                return joined
        if not transcript.accepted:
            unfinished = transcript.unfinished or (self._peeked.unfinished if why == "pause"
                                                   and self._peeked is not None else "")
            found = transcript if transcript.unfinished else self._peeked
            if (QUIET_HALVES_STRICT and found is not None and (found.details or {}).get("spotting")
                    and self.quiet_room):
                log.debug("a quiet room's first half %r from the spotting pass: not held", unfinished)
                unfinished = ""
            if unfinished and JOIN_UNFINISHED:  # the voice went inside a command: its first half
                self._first_half, self._first_half_ms = unfinished, self._quiet_ms
                self._first_half_pause = None
                # no text: the person may be finding the device's name, nothing is said to them
                return Transcript("", False, None, transcript.confidence, transcript.decode_ms,
                                  transcript.audio_ms, details=transcript.details,
                                  unfinished=unfinished)
        joined = self._joined(transcript, halves)
        if joined is transcript and joined.command is not None and self._waits(joined, halves):
            log.debug("%r while %r waits for its device: not acted on", joined.text, halves[0][0])
            joined = dataclasses.replace(joined, accepted=False, command=None)
        if joined.command is not None:
            return joined
        return self._left(joined, halves[0][0] if halves else "")

    def _waits(self, transcript: Transcript, halves: list[tuple[str, float | None]]) -> bool:
        """``WAIT_FOR_DEVICE``: ``transcript``, a command, came while the first of ``halves``
        waits for its device, and is neither that command with a device nor cancel."""
        if not (WAIT_FOR_DEVICE and halves and self.language is not None
                and transcript.command is not None):
            return False
        first, pause = halves[0]
        wanted = self.language.device_intent(first)
        command = transcript.command
        return (pause is not None and pause <= JOIN_WITHIN_MS and wanted is not None
                and not (command.intent is wanted and command.device is not None)
                and command.intent is not Intent.CANCEL)

    def _left(self, transcript: Transcript, first: str) -> Transcript:
        """``transcript``, no command, ends the wait for the rest of ``first`` (if any): it says
        so (``Transcript.left_unfinished``), and the dialog asks for the rest."""
        self._first_half = ""
        if not first:
            return transcript
        log.debug("the unfinished %r was left so", first)
        return dataclasses.replace(transcript, left_unfinished=first)

    def _joined(self, transcript: Transcript, halves: list[tuple[str, float | None]]) -> Transcript:
        """``transcript``, a bare device name, completing the first of ``halves`` (first half,
        pause before the device) it can; else ``transcript`` itself."""
        if not (JOIN_UNFINISHED and transcript.accepted and transcript.device_only):
            return transcript
        for first, pause in halves:
            if pause is None or pause > JOIN_WITHIN_MS:
                continue
            for rest in (transcript.text, transcript.device_only):
                joined = self._as_command(f"{first} {rest}", transcript,
                                          dict(transcript.details or {}) | {"joined_after_ms": pause})
                if joined is not None:
                    log.debug("%r completes the unfinished %r (a pause of %.0f ms)", rest, first,
                              pause)
                    return joined
        return transcript

    def _from_the_room(self, transcript: Transcript, peak_db: float) -> Transcript:
        """``COMMAND_ABOVE_FLOOR_DB``: ``transcript``, or, in a talking room, when it is accepted
        but the voice that said it (``peak_db``) was not that far above the room's floor before
        the utterance began, no command, and no text (the room's talk is not answered)."""
        if (COMMAND_ABOVE_FLOOR_DB is None or not transcript.accepted or not self._talking_at_start
                or peak_db - self._floor_at_start >= COMMAND_ABOVE_FLOOR_DB):
            return transcript
        log.debug("%r: %.1f dB above the room, a voice in the room", transcript.text,
                  peak_db - self._floor_at_start)
        return Transcript("", False, None, transcript.confidence, transcript.decode_ms,
                          transcript.audio_ms, left_unfinished=transcript.left_unfinished)

    def _talking_room(self) -> bool:
        """The room's last 3 s (the floor's window; at least 1 s of it heard, or the room is not
        known) rise and fall as talk does, unlike steady noise or silence: their quiet frames
        (2nd to 20th percentile) spread more than ``spotting.STEADY_WITHIN_DB``."""
        levels = list(self._levels)
        return len(levels) >= 50 and (percentile(levels, 20) - percentile(levels, 2)
                                      > STEADY_WITHIN_DB)

    def _talked_on(self, why: str) -> bool:
        """``KEEP_UNLESS_VOICE_MS``: the utterance ended at a pause, and after the peek that
        heard the kept command the voice was back this long."""
        return (why == "pause" and KEEP_UNLESS_VOICE_MS is not None
                and self._voice_after_kept_ms >= KEEP_UNLESS_VOICE_MS)

    @staticmethod
    def _reread(kept: Transcript, later: Transcript) -> bool:
        """``KEEP_UNLESS_UNFINISHED``: ``later``, a peek of the same utterance after the one
        that found ``kept``, reads it as the start of a command that is not finished."""
        return bool(KEEP_UNLESS_UNFINISHED and later.unfinished
                    and later.unfinished.split()[0] == kept.text.split()[0])

    def _complete(self, transcript: Transcript) -> bool:
        return (transcript.command is not None and transcript.text not in self.growing
                and not self._squeezed(transcript))

    @staticmethod
    def _squeezed(transcript: Transcript | None) -> bool:
        """An accepted command whose last word was squeezed into the end of the audio: said
        in a pause inside a command, the grammar fills the pause with a short device. Or a
        command the recogniser found unfinished: it stopped before a word or its device."""
        if transcript is not None and (transcript.details or {}).get("unfinished"):
            return True
        if transcript is None or not transcript.accepted:
            return False
        rate = (transcript.details or {}).get("last_word_rate", math.inf)
        return rate <= SQUEEZED_FRAMES_PER_PHONE or SpottingListener._began_after_voice(transcript)

    def _finish(self, why: str, transcript: Transcript | None = None) -> Transcript:
        log.debug("utterance ended: %s", why)
        if transcript is None:
            # a squeezed peek is stale: the whole utterance, with the quiet after it, decides
            peeked = self._peeked
            if peeked is None or not self._squeezed(peeked):
                transcript = self.recognizer.final() if peeked is None else peeked
            else:
                transcript = self._heard(self.recognizer.final(), 0.0)
                if WHOLE_HEARD and transcript.accepted:
                    transcript = self._as_said(transcript, peeked)
            if (not transcript.accepted and self._complete_peek is not None and KEEP_LAST_COMPLETE
                    and self._talked_on(why)):
                log.debug("utterance rejected whole; %r, heard in it, not kept: the voice went on "
                          "for %.0f ms after it", self._complete_peek.text, self._voice_after_kept_ms)
            elif not transcript.accepted and self._complete_peek is not None and KEEP_LAST_COMPLETE:
                log.debug("utterance rejected whole: the last complete command heard in it")
                transcript = self._complete_peek
        transcript = self._completed(transcript, why)
        transcript = self._from_the_room(transcript, self._peak_db)
        if self._continues:
            log.debug("not a command: %r goes on with talk that ran into the hard limit",
                      transcript.text)
            transcript = Transcript("", False, None, None, transcript.decode_ms,
                                    transcript.audio_ms, left_unfinished=transcript.left_unfinished)
        self._gone_ms = self._quiet_ms
        if why == "complete command":  # a dip in the talk: what follows it may still be talk
            self._talk = self._continues
        self.reset()
        return transcript

    def flush(self) -> Transcript | None:
        """End of input: the utterance in progress, if any."""
        return self._finish("end of input") if self._in_speech else None

    def listen(self, frames: Iterable[bytes]) -> Iterator[Transcript]:
        from assistant.speech.endpointing import listen

        return listen(self, frames)


def _bytes(ms: float) -> int:
    """Bytes of ``ms`` of 16-bit mono audio (whole samples)."""
    return int(ms * SAMPLE_RATE_HZ / 1000) * 2


def _growing_commands(sentences: Iterable[str]) -> set[str]:
    """Commands that are a word-prefix of a longer command ("answer", "answer the call")."""
    complete = set(sentences)
    out: set[str] = set()
    for sentence in complete:
        words = sentence.split()
        out.update(" ".join(words[:i]) for i in range(1, len(words)) if " ".join(words[:i]) in complete)
    return out
