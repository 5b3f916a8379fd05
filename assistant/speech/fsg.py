"""Finite-state grammars without null transitions, for PocketSphinx.

PocketSphinx compiles a JSGF grammar into a finite-state grammar (FSG) full of null
transitions (every rule, alternative and optional part is joined by them) and then closes them
transitively: the strict grammar had 1,192 word transitions and 16,304 null ones. The decoder
builds a tree of phone HMMs for every state, so the grammar's memory and decode time went on
states that exist only to join rules. A word after a null transition also takes, as the left
context of its first phone, the last phones of every word that can reach it, however far back:
a command that may follow "okay" was decoded worse when said alone.

``without_nulls`` rewrites the grammar with the same sentences and the same best-path weights
but no null transition: each state gets, directly, the word transitions its null transitions
led to (weights multiplied along the best null path), a word that could end the sentence
through null transitions also goes straight to the final state, and states no sentence passes
through are dropped. Measured (docs/templates.md): the strict grammar's search 22 -> 5 MB;
with the carriers as one copy of the commands instead of four (``grammar._carrier_rules``),
engine and recogniser 117 -> 93 MB, decode time per second of audio 0.177 -> 0.111 s.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from dataclasses import dataclass

_HEADER = re.compile(r"^(NUM_STATES|START_STATE|FINAL_STATE)\s+(\d+)\s*$", re.M)


@dataclass(frozen=True)
class Fsg:
    """A grammar in PocketSphinx's FSG text format; a transition's word None is a null one.
    Probabilities are as the file has them (PocketSphinx's, raised to 1 / language weight:
    products and maxima are unchanged by that)."""

    name: str
    states: int
    start: int
    final: int
    transitions: tuple[tuple[int, int, float, str | None], ...]

    @classmethod
    def parse(cls, text: str) -> Fsg:
        header = dict(_HEADER.findall(text))
        if set(header) != {"NUM_STATES", "START_STATE", "FINAL_STATE"}:
            raise ValueError("not a finite-state grammar: NUM_STATES, START_STATE or FINAL_STATE missing")
        begin = re.search(r"^FSG_BEGIN\s*(\S*)", text, re.M)
        transitions = []
        for line in text.splitlines():
            parts = line.split()
            if parts and parts[0] in ("TRANSITION", "T"):
                prob = float(parts[3])
                if not prob > 0:  # a weight written too small to read back as a number
                    raise ValueError(f"transition without a probability: {line!r}")
                word = parts[4] if len(parts) > 4 else None
                transitions.append((int(parts[1]), int(parts[2]), prob, word))
        return cls(begin.group(1) if begin else "grammar", int(header["NUM_STATES"]),
                   int(header["START_STATE"]), int(header["FINAL_STATE"]), tuple(transitions))

    def text(self) -> str:
        lines = [f"FSG_BEGIN {self.name}", f"NUM_STATES {self.states}",
                 f"START_STATE {self.start}", f"FINAL_STATE {self.final}"]
        lines += [f"TRANSITION {a} {b} {p:.9g}" + (f" {w}" if w is not None else "")
                  for a, b, p, w in self.transitions]
        return "\n".join(lines + ["FSG_END"]) + "\n"


def _null_closure(nulls: dict[int, dict[int, float]], state: int) -> dict[int, float]:
    """Every state that ``state`` reaches through null transitions (itself included), with the
    best product of probabilities on the way, as a cost (-log)."""
    best = {state: 0.0}
    heap = [(0.0, state)]
    while heap:
        cost, at = heapq.heappop(heap)
        if cost > best[at]:
            continue
        for to, prob in nulls.get(at, {}).items():
            c = cost - math.log(prob)
            if c < best.get(to, math.inf):
                best[to] = c
                heapq.heappush(heap, (c, to))
    return best


def without_nulls(fsg: Fsg) -> Fsg:
    """``fsg`` with the same sentences and best-path weights and no null transition (see the
    module's docstring). The empty sentence, if the grammar has one, is left out: the FSG
    format cannot say it without a null transition, and no recogniser wants it."""
    nulls: dict[int, dict[int, float]] = defaultdict(dict)
    words: dict[int, list[tuple[int, float, str]]] = defaultdict(list)
    for a, b, p, w in fsg.transitions:
        if w is None:
            if a != b and p > nulls[a].get(b, 0.0):
                nulls[a][b] = p
        else:
            words[a].append((b, p, w))
    closures: dict[int, dict[int, float]] = {}

    def closure(state: int) -> dict[int, float]:
        if state not in closures:
            closures[state] = _null_closure(nulls, state)
        return closures[state]

    out: dict[tuple[int, int, str], float] = {}

    def add(a: int, b: int, w: str, p: float) -> None:
        if p > out.get((a, b, w), 0.0):
            out[(a, b, w)] = p

    todo, seen = [fsg.start], {fsg.start}
    while todo:
        state = todo.pop()
        for via, cost in closure(state).items():
            for to, prob, word in words.get(via, ()):
                p = prob * math.exp(-cost)
                add(state, to, word, p)
                to_final = closure(to).get(fsg.final)
                if to != fsg.final and to_final is not None:
                    add(state, fsg.final, word, p * math.exp(-to_final))
                if to not in seen:
                    seen.add(to)
                    todo.append(to)
    into: dict[int, set[int]] = defaultdict(set)
    for a, b, _ in out:
        into[b].add(a)
    live, todo = {fsg.final}, [fsg.final]  # the states from which the sentence can end
    while todo:
        for a in into[todo.pop()] - live:
            live.add(a)
            todo.append(a)
    kept = sorted({fsg.start, fsg.final} | {a for a, b, _ in out if a in live and b in live})
    number = {state: i for i, state in enumerate(kept)}
    transitions = tuple((number[a], number[b], p, w) for (a, b, w), p in sorted(out.items())
                        if a in live and b in live)
    return Fsg(fsg.name, len(kept), number[fsg.start], number[fsg.final], transitions)


def without_dead_ends(fsg: Fsg) -> Fsg:
    """``fsg`` without the null transitions into states that only join rules: no word leaves
    them and the sentence does not end there. The grammar keeps its other null transitions
    (already closed: PocketSphinx closes them when it compiles a grammar and again when it reads
    one), so every path that passed through such a state has a direct null transition past it.

    Why: PocketSphinx's grammar search records, for every word that ends in a frame, one history
    entry per null transition out of its state, and keeps them until the next utterance. In the
    spotting grammar each garbage phone ended in a state with 146 null transitions, 78 of them
    into join-only states: 6.5 s of babble held 163 MB. Without them 66 MB, the decode a third
    faster, and the same words, times and scores (docs/templates.md, "Null transitions into
    join-only states"). The search adds a silence loop to every state, so a path could also
    rest in a join-only state; it gains nothing over resting in the state after it."""
    leaves = {a for a, _, _, w in fsg.transitions if w is not None}
    kept = tuple(t for t in fsg.transitions
                 if t[3] is not None or t[1] in leaves or t[1] == fsg.final)
    return Fsg(fsg.name, fsg.states, fsg.start, fsg.final, kept)
