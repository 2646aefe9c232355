"""Where a long answer may be cut into parts: between grapheme clusters, what a reader
sees as one character, so no part ends in half an emoji or a letter without its accent.

A small rule set after Unicode's extended grapheme clusters (UAX #29), for what answers
hold: CR LF; combining marks, variation selectors, skin-tone modifiers and tag characters
stay with what comes before them (é, ❤️, 👍🏽, 🏴󠁧󠁢󠁳󠁣󠁴󠁿); nothing is cut after a zero-width
joiner (👨‍👩‍👧‍👦); regional indicators pair up into flags (🇩🇪🇫🇷). Left out, as chat text
rarely holds them: decomposed Hangul jamo and prepended concatenation marks.
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"


def _extends(char: str) -> bool:
    """Whether ``char`` belongs to the cluster before it (UAX #29 Extend, SpacingMark, ZWJ)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")  # marks; variation selectors are Mn
        or char in "\u200c\u200d"  # zero-width non-joiner and joiner
        or 0x1F3FB <= code <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tags (subdivision flags)
        or code in (0xFF9E, 0xFF9F)  # halfwidth katakana sound marks
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def is_boundary(text: str, index: int) -> bool:
    """Whether ``text`` may be cut before ``text[index]``."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if before == "\r" and after == "\n":
        return False
    if _extends(after) or before == ZWJ:
        return False
    if _regional(before) and _regional(after):
        run = 0  # regional indicators pair from the start of their run: cut after an even number
        while index - run - 1 >= 0 and _regional(text[index - run - 1]):
            run += 1
        return run % 2 == 0
    return True


def cut_before(text: str, index: int) -> int:
    """The last place at or before ``index`` where ``text`` may be cut. If one cluster
    reaches back to the start (hundreds of stacked marks), ``index`` itself: a part must
    stay within its limit and hold something."""
    cut = index
    while cut > 0 and not is_boundary(text, cut):
        cut -= 1
    return cut if cut > 0 else index
