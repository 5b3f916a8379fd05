"""Text from outside (caller names, Webex messages, device names) made safe to print and speak.

Webex, a scenario file or a token server can send anything: escape sequences that clear the
terminal or forge a line, newlines, or a message thousands of characters long. Every such
string passes through ``clean`` before it is printed, logged as a line, or spoken.
"""

from __future__ import annotations

import re
import unicodedata

NAME_LIMIT = 80  # a caller or device name
MESSAGE_LIMIT = 200  # a sentence from Webex, spoken after our own

_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-_])")
_SPACE = re.compile(r"\s+")


def clean(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """One printable line of at most ``limit`` characters (cut at a word, with "…")."""
    if text is None:
        return ""
    value = _ESCAPE.sub("", str(text))
    value = "".join(
        " " if ch.isspace() else ch
        for ch in value
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    value = _SPACE.sub(" ", value).strip()
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"
