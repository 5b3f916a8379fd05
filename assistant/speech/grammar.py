"""Recogniser grammars compiled from the command templates.

- ``to_jsgf``: a JSGF grammar for PocketSphinx, compiled structurally from the hassil
  expressions (alternatives, optionals, expansion rules and the ``{device}`` list), so it accepts
  exactly the template language.
- ``vosk_phrases``: the phrase list for Vosk's grammar mode (every sampled sentence). Vosk turns
  it into a bigram model, so transcripts are always re-checked with ``CommandLanguage``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    Sequence,
    TextChunk,
)

from assistant.intents import DEVICE_ONLY, Carriers, CommandLanguage, normalize

_RULE_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def _rule(name: str) -> str:
    return "<" + _RULE_CHARS.sub("_", name) + ">"


def _expr(expr: Expression) -> str:
    """One hassil expression as a JSGF expansion ('' when it matches nothing to say)."""
    if isinstance(expr, TextChunk):
        return " ".join(normalize(expr.text).split())
    if isinstance(expr, ListReference):
        return _rule("list_" + expr.list_name)
    if isinstance(expr, RuleReference):
        return _rule("rule_" + expr.rule_name)
    if isinstance(expr, Alternative):
        items = [_expr(i) for i in expr.items]
        spoken = [i for i in items if i]
        optional = expr.is_optional or len(spoken) < len(items)
        if not spoken:
            return ""
        body = " | ".join(spoken)
        return f"[ {body} ]" if optional else f"( {body} )"
    if isinstance(expr, Permutation):
        orders = []
        for first, rest in expr.iterate_permutations():
            orders.append(" ".join(p for p in (_expr(first), _expr(rest)) if p))
        return "( " + " | ".join(orders) + " )"
    if isinstance(expr, (Sequence, Group)):
        parts = [p for p in (_expr(i) for i in expr.items) if p]
        return "( " + " ".join(parts) + " )" if parts else ""
    raise TypeError(f"unsupported template expression {expr!r}")


def generic_phrase(phrase: str, phrases: list[str]) -> bool:
    """True for a type word that ends two or more other device phrases ("phone" of "desk phone",
    "lobby phone"): it is what made "Which phone?" necessary, so it is no answer to it. Measured:
    as a bare reply in the grammar, "the phone" swallowed noisy "pick up" and "who is calling"."""
    return sum(p != phrase and p.endswith(" " + phrase) for p in phrases) >= 2


# A carrier word's weight against none (JSGF ``[x]`` would weigh them alike: PocketSphinx
# shares each rule's probability among its alternatives, so every plain command would pay
# for the carriers' chance; measured, plain commands went to the garbage path).
CARRIER_WEIGHT = 0.1
GARBAGE_PREFIX = "ph_"  # garbage "words": one phone each (see garbage_words)
DECOY_PREFIX = "dc_"  # decoy words: the assistant's own sentences (see decoy_sentences)
SLOT = "{}"  # a {placeholder} inside a decoy sentence (a caller's name, a device list)
_SLOT_WORD = "zzslotzz"
_PLACEHOLDER = re.compile(r"\{\w+\}")
_SENTENCE_END = re.compile(r"(?<=[.?!:;])\s+")


def garbage_words(phones: Iterable[str]) -> dict[str, str]:
    """Pseudo-words of one phone each, for a phone-loop garbage path: {"ph_aa": "AA", ...}."""
    return {GARBAGE_PREFIX + p.lower(): p for p in phones}


def decoy_sentences(templates: Iterable[str]) -> list[str]:
    """Every sentence of ``templates`` (the assistant's own wording, with ``{placeholders}``) in
    grammar form, a placeholder as ``SLOT``: "Call from {caller}." -> "call from {}"."""
    out: list[str] = []
    for template in templates:
        text = _PLACEHOLDER.sub(f" {_SLOT_WORD} ", template).replace("-", " ").replace("_", " ")
        for sentence in _SENTENCE_END.split(text.strip()):
            words = normalize(sentence).replace(_SLOT_WORD, SLOT).split()
            phrase = " ".join(words)
            if any(w != SLOT for w in words) and phrase not in out:
                out.append(phrase)
    return out


def _decoy_rules(
    language: CommandLanguage, decoys: Iterable[str], known: Callable[[str], bool],
    slot: Iterable[str] = (),
) -> list[str]:
    """``<decoy>``: the decoy sentences that are not commands themselves, as decoy words
    (``DECOY_PREFIX``); a slot or a word without a pronunciation is ``<slot>+``, a loop of the
    ``slot`` garbage words (``<garbage>`` when none are given)."""
    slot = list(slot)
    loop = "<slot>+" if slot else "<garbage>+"
    alternatives = []
    for sentence in decoys:
        if language.parse(sentence.replace(SLOT, "").strip()):
            continue
        parts: list[str] = []
        for word in sentence.split():
            part = DECOY_PREFIX + word if word != SLOT and known(word) else loop
            if not (part == loop and parts and parts[-1] == part):
                parts.append(part)
        if any(p != loop for p in parts):
            alternatives.append(" ".join(parts))
    if not alternatives:
        return []
    rules = ["<decoy> = " + " | ".join(alternatives) + ";"]
    return rules + (["<slot> = " + " | ".join(slot) + ";"] if slot else [])


def _unsaid_devices(phrases: list[str], unsaid: str) -> list[str]:
    """``unsaid`` alone and after each start of a device phrase that is no phrase itself
    ("desk" of "desk phone"): the device was not said, or not all of it."""
    out = [unsaid]
    for phrase in phrases:
        words = phrase.split()
        for i in range(1, len(words)):
            start = " ".join(words[:i])
            if start not in phrases and f"{start} {unsaid}" not in out:
                out.append(f"{start} {unsaid}")
    return out


def _rules(
    language: CommandLanguage, name: str, device_only: bool, unusable: Iterable[str],
    unsaid: str | None = None,
) -> tuple[list[str], list[str]]:
    """(JSGF lines without the public rule, the intent rule names). ``unsaid``: a word that
    may stand in a command for its device (``to_jsgf``)."""
    lines = ["#JSGF V1.0;", f"grammar {name};"]
    intent_rules = []
    for intent_name, expressions in language.intent_sentences().items():
        if intent_name == DEVICE_ONLY and not device_only:
            continue
        alternatives = [e for e in (_expr(x) for x in expressions) if e]
        if intent_name == DEVICE_ONLY:
            alternatives = [a.replace(_rule("list_device"), _rule("list_reply")) for a in alternatives]
        rule = _rule("intent_" + intent_name)
        intent_rules.append(rule)
        lines.append(f"{rule} = " + " | ".join(alternatives) + ";")
    for rule_name, expression in language.expansion_rules().items():
        lines.append(f"{_rule('rule_' + rule_name)} = {_expr(expression) or '<NULL>'};")
    bad = set(unusable)
    phrases = [p for p in language.device_phrases() if not bad & set(p.split())] or ["<VOID>"]
    devices = phrases + _unsaid_devices(phrases, unsaid) if unsaid else phrases
    lines.append(f"{_rule('list_device')} = " + " | ".join(devices) + ";")
    replies = [p for p in phrases if not generic_phrase(p, phrases)] or ["<VOID>"]
    lines.append(f"{_rule('list_reply')} = " + " | ".join(replies) + ";")
    return lines, intent_rules


def to_jsgf(
    language: CommandLanguage,
    name: str = "commands",
    device_only: bool = True,
    garbage: Iterable[str] = (),
    garbage_weight: float = 1e-20,
    unusable: Iterable[str] = (),
    decoys: Iterable[str] = (),
    known: Callable[[str], bool] = lambda word: True,
    decoy_weight: float = 1.0,
    slot: Iterable[str] = (),
    unsaid: str | None = None,
    carriers: bool = True,
    negating: bool = False,
) -> str:
    """The whole command language as one JSGF grammar with the public rule ``<utterance>``.

    With ``garbage`` (pseudo-words of one phone each), ``<utterance>`` also allows any phone
    sequence at weight ``garbage_weight``: speech that is not a command then decodes to garbage
    instead of being forced onto the nearest command. Device phrases with a word from
    ``unusable`` (no pronunciation) are left out. With ``decoys`` (sentences of
    ``decoy_sentences``; needs ``garbage``) the assistant's own sentences compete as ``<decoy>``:
    a path through a decoy word is not a command. ``known`` says which words have a
    pronunciation; ``slot``: the garbage words for a decoy's slots (default: ``garbage``).

    With ``unsaid`` (a word pronounced as silence; needs ``garbage``) a command may also stop
    before any of its words, its device, or the rest of its device's name: a command not
    finished yet then decodes as unfinished (a path through ``unsaid``) instead of being forced
    onto the command that fits best ("send the call ..." as "end the call").

    With ``garbage`` and ``carriers``, a command may have the language's carrier words around
    it ("okay, answer on my headset", "hang up, thanks"; ``Carriers``). With ``garbage`` and
    ``negating``, a command may follow one of the language's negating phrases as decoy words
    ("don't hang up": no command; ``known`` says which have a pronunciation).
    """
    lines, intent_rules = _rules(language, name, device_only, unusable, unsaid)
    garbage = list(garbage)
    if not garbage:
        lines.append("public <utterance> = " + " | ".join(intent_rules) + ";")
        return "\n".join(lines) + "\n"
    if unsaid:
        lines += _unfinished_commands(language, unsaid)
        device_rule = _rule("intent_" + DEVICE_ONLY)
        replies = [device_rule] if device_rule in intent_rules else []
        intent_rules = ["<to_device> <list_device>", "<unfinished>"] + replies
    lines += _carrier_rules(language.carriers if carriers else Carriers(), unusable,
                            intent_rules, _negating(language, known) if negating else [])
    lines.append("<garbage> = " + " | ".join(garbage) + ";")
    decoy = _decoy_rules(language, decoys, known, slot)
    lines += decoy
    either = f"/1/ <command> | /{decoy_weight:g}/ <decoy>" if decoy else "/1/ <command>"
    lines.append(f"public <utterance> = {either} | /{garbage_weight:g}/ <garbage>+;")
    return "\n".join(lines) + "\n"


def _negating(language: CommandLanguage, known: Callable[[str], bool]) -> list[str]:
    """The language's negating phrases (``Carriers.negating``) as decoy words, those whose
    every word has a pronunciation (``known``): "don't" -> "dc_don't"."""
    return [" ".join(DECOY_PREFIX + w for w in p.split())
            for p in language.carriers.negating if all(known(w) for w in p.split())]


def _carrier_rules(carriers: Carriers, unusable: Iterable[str],
                   intent_rules: list[str], negating: Iterable[str] = ()) -> list[str]:
    """``<command>``: one of the intent rules, maybe with one of ``carriers``' phrases before
    it and one after it ("okay, answer on my headset", "hang up, thanks"); phrases with an
    ``unusable`` word are left out. Each carrier weighs ``CARRIER_WEIGHT`` against none.
    ``negating`` (decoy words, ``_negating``) may stand where a carrier before it does
    ("don't hang up"), at the same weight: a path through one is no command.

    One copy of the commands between optional carriers. As PocketSphinx compiles it, that cost
    plain commands (12 of 282 lost: the first word's left context was no longer only silence,
    and after the last word no silence could follow), so the carriers were once written as
    four copies of the commands (20 MB); the grammar is now rid of its null transitions before
    the decoder sees it (``fsg.without_nulls``), and a command said alone starts and ends as it
    does without carriers (bench/carriers.py: the same transcripts as the four copies)."""
    bad = set(unusable)
    before, after = ([p for p in phrases if not bad & set(p.split())]
                     for phrases in (carriers.before, carriers.after))
    negating = list(negating)
    command = "( " + " | ".join(intent_rules) + " )"
    opening = [f"/{CARRIER_WEIGHT:g}/ <{rule}>" for rule, phrases
               in (("carrier_before", before), ("negating", negating)) if phrases]
    if opening:
        command = "( /1/ <NULL> | " + " | ".join(opening) + f" ) {command}"
    if after:
        command += f" ( /1/ <NULL> | /{CARRIER_WEIGHT:g}/ <carrier_after> )"
    lines = [f"<command> = {command};"]
    lines += [f"<carrier_{side}> = " + " | ".join(phrases) + ";"
              for side, phrases in (("before", before), ("after", after)) if phrases]
    return lines + (["<negating> = " + " | ".join(negating) + ";"] if negating else [])


_Tree = dict[str, "_Tree"]  # word -> the tree after it; the key "" marks where a phrase ends


def _tree(phrases: Iterable[list[str]]) -> _Tree:
    """The phrases' words as a tree."""
    tree: _Tree = {}
    for words in phrases:
        node = tree
        for word in words:
            node = node.setdefault(word, {})
        node[""] = {}
    return tree


def _expand(node: _Tree, unsaid: str | None, top: bool = True) -> str:
    """A tree as a JSGF expansion; where no phrase ends, ``unsaid`` may stand for the rest."""
    options = [f"{word} {_expand(after, unsaid, False)}".strip()
               for word, after in sorted(node.items()) if word]
    if "" in node:
        return "[ " + " | ".join(options) + " ]" if options else ""
    if unsaid and not top:
        options.append(unsaid)
    return "( " + " | ".join(options) + " )" if options else ""


def _unfinished_commands(language: CommandLanguage, unsaid: str) -> list[str]:
    """JSGF lines for ``<command>``: every command of ``language``, or any start of one followed
    by ``unsaid``. The commands' words are written as trees, with one ``<list_device>`` after
    all the ways to lead up to a device, so that the grammar stays as small as the plain one
    (a device list after each way tripled the decode time)."""
    devices = sorted(language.device_phrases(), key=len, reverse=True)
    to_device: list[list[str]] = []
    others: list[list[str]] = []
    for sentence in language.sentences(device_only=False):  # replies: <intent_device_only>
        words = sentence.split()
        device = next((d for d in devices if sentence.endswith(" " + d)), None)
        if device is None:
            others.append(words)
        else:
            to_device.append(words[: len(words) - len(device.split())])
    rest = _tree(others)
    for words in to_device:  # each way to a device, stopped before it
        node = rest
        for word in words:
            node = node.setdefault(word, {})
    return [f"<to_device> = {_expand(_tree(to_device), None)};",
            f"<unfinished> = {_expand(rest, unsaid)};"]


def to_spotting_jsgf(
    language: CommandLanguage, garbage: Iterable[str], name: str = "spotting",
    unusable: Iterable[str] = (), decoys: Iterable[str] = (),
    known: Callable[[str], bool] = lambda word: True, decoy_weight: float = 1.0,
    unsaid: str | None = None, negating: bool = False,
) -> str:
    """Any sound, then one command, then any sound; or, alone, a bare device reply.

    ``garbage`` (phone pseudo-words) absorbs the talk and noise around the command. A bare
    device reply ("the desk phone") must be the whole utterance: spotted inside talk, device
    names are everywhere ("my headset battery is low"). ``decoys``: as for ``to_jsgf``; a decoy
    sentence may take the command's place. ``unsaid``: a word pronounced as silence that may
    take the place of a device, or of the rest of a device's name (``to_jsgf``).
    ``negating``: the command may follow a negating phrase, as decoy words (``to_jsgf``).
    """
    lines, intent_rules = _rules(language, name, True, unusable, unsaid)
    device_rule = _rule("intent_" + DEVICE_ONLY)
    commands = [r for r in intent_rules if r != device_rule]
    lines.append("<command> = " + " | ".join(commands) + ";")
    lines.append("<garbage> = " + " | ".join(garbage) + ";")
    reply = f" | {device_rule}" if device_rule in intent_rules else ""
    decoy = _decoy_rules(language, decoys, known)
    lines += decoy
    middle = f"( /1/ <command> | /{decoy_weight:g}/ <decoy> )" if decoy else "<command>"
    undone = _negating(language, known) if negating else []
    if undone:
        lines.append("<negating> = " + " | ".join(undone) + ";")
        middle = f"( /1/ <NULL> | /{CARRIER_WEIGHT:g}/ <negating> ) {middle}"
    lines.append(f"public <utterance> = [ <garbage>+ ] {middle} [ <garbage>+ ]{reply};")
    return "\n".join(lines) + "\n"


def vosk_phrases(language: CommandLanguage, extra: Iterable[str] = ()) -> list[str]:
    """Vosk grammar phrases: every sentence of the language, then ``extra`` (e.g. "[unk]")."""
    return language.sentences() + list(extra)


def grammar_words(language: CommandLanguage) -> set[str]:
    """Every word a recogniser must know to hear the whole language."""
    return set(language.words)
