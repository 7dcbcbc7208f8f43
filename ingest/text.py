"""Japanese page text: clean-up after PDF extraction, matching form, and line/sentence units.

Displayed and quoted text is the cleaned page text; the normalised form
(NFKC, width folded, lower case) is only ever used to *compare* text, so a
quote is always an exact substring of the page a user opens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Kana, CJK ideographs, CJK punctuation and full-width forms.
_JA = "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60\uff61-\uff9f"
_JA_CHAR = f"[{_JA}]"
_SENTENCE_END = "。！？!?"
_LINE_START_MARK = r"[・\-－–—‐●○◆◇■□▪▶►✓✔※*＊]|[①-⑳]|[（(]?\d+[)）.．]"
BULLET_RE = re.compile(rf"^\s*(?:{_LINE_START_MARK})")
_JA_RE = re.compile(_JA_CHAR)


def has_japanese(text: str) -> bool:
    return _JA_RE.search(text) is not None


def normalize(text: str) -> str:
    """Matching form: NFKC (folds full/half width), lower case, whitespace removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def clean_page_text(raw: str) -> str:
    """Undo what PDF extraction does to Japanese text.

    Extraction breaks a line at every visual wrap, even inside a word
    (``先端半導\\n体``), pads lines with layout spaces and may space out CJK
    characters. A single line break next to a Japanese character is a wrap
    and is joined, unless the first line ends a sentence or the next starts a
    bullet; blank lines (paragraph gaps) are kept as one.
    """
    lines = [line.strip() for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    text = re.sub(rf"(?<={_JA_CHAR})[ \t]+(?={_JA_CHAR})", "", text)
    # A wrap next to a Japanese character (先端半導\n体, 耐久性10\n年, TSMC\n子会社) is joined; between two
    # ASCII words (Economic\nStatecraft) it stays a break, as does one after a sentence end or before a bullet.
    text = re.sub(rf"(?<=\S)(?<![{_SENTENCE_END}])\n(?!{_LINE_START_MARK})(?=\S)",
                  lambda m: "" if _joins(text, m.start()) else "\n", text)
    return text


def _joins(text: str, newline: int) -> bool:
    before, after = text[newline - 1], text[newline + 1]
    return bool(_JA_RE.match(before) or _JA_RE.match(after))


@dataclass(frozen=True)
class Unit:
    """A sentence or a list line of a page, with its character span in the page text."""

    start: int
    end: int
    text: str
    paragraph: int
    line: int
    is_list_item: bool


def split_units(page_text: str) -> list[Unit]:
    """Split a page into lines, and long lines into sentences (。！？), keeping exact spans."""
    units: list[Unit] = []
    paragraph = 0
    line_no = 0
    offset = 0
    for line in page_text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        if not line.strip():
            paragraph += 1
            continue
        is_item = bool(BULLET_RE.match(line))
        # A run of sentence ends with nothing before it (a line starting "。" or a lone "？") is a unit
        # of its own, so no character of the page falls outside every unit (and every chunk).
        for match in re.finditer(rf"[^{_SENTENCE_END}]+[{_SENTENCE_END}]*|[{_SENTENCE_END}]+", line):
            piece = match.group(0)
            if not piece.strip():
                continue
            lead = len(piece) - len(piece.lstrip())
            start = line_start + match.start() + lead
            end = line_start + match.end() - (len(piece) - len(piece.rstrip()))
            units.append(Unit(start, end, page_text[start:end], paragraph, line_no, is_item))
            is_item = False  # only the first sentence of a bullet line carries the bullet
        line_no += 1
    return units


def title_of(page_text: str) -> str:
    """The first non-empty line: on slides and most reports, the page heading."""
    for line in page_text.split("\n"):
        if line.strip():
            return line.strip()
    return ""
