"""The ordinals a text names: 「熊本第2工場」, 「第198回会議」, 「第二次補正予算」.

A question about the second plant is not answered by pages about the first: a page that answers
it writes 第2 (or 第二). Like a year, an ordinal the question names and no quoted page writes means
the pages are about something else. The same holds for an edition (第1.1版, version 1.1).
"""

from __future__ import annotations

import re

from core.text import normalize

_KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ORDINAL = re.compile(r"第\s*(\d{1,4}|[一二三四五六七八九十]{1,3})(?![.\d])")
# 「第1.1版」, "version 1.1", "ver. 2.0": a document's edition. 第1.1版 is no first anything.
_VERSION = re.compile(
    r"第?\s*(\d{1,2}(?:\.\d{1,2})+)\s*版|\b(?:version|ver\.?|v)\s*(\d{1,2}(?:\.\d{1,2})+)(?![.\d])"
)


def kanji_number(raw: str) -> int | None:
    """一 … 九十九 as a number; None for anything else."""
    if not raw or any(ch not in _KANJI_DIGITS and ch != "十" for ch in raw):
        return None
    if "十" not in raw:
        return _KANJI_DIGITS.get(raw) if len(raw) == 1 else None
    tens, _, ones = raw.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_KANJI_DIGITS[tens] if tens else 1) * 10 + (_KANJI_DIGITS[ones] if ones else 0)


def ordinals_named(text: str) -> frozenset[int]:
    """第2 → 2, 第二 → 2, 第198 → 198."""
    found = set()
    for raw in _ORDINAL.findall(normalize(text)):
        number = int(raw) if raw.isdigit() else kanji_number(raw)
        if number is not None:
            found.add(number)
    return frozenset(found)


def versions_named(text: str) -> frozenset[str]:
    """「第1.1版」 → 1.1, "version 2.0" → 2.0. A question about version 1.1 is not answered by the
    pages of version 1.0: like an ordinal, a version no quoted page writes means other pages."""
    return frozenset(a or b for a, b in _VERSION.findall(normalize(text, keep_spaces=True)))
