"""Where a quoted passage sits on its PDF page: the character boxes to highlight in the viewer.

A quote is an exact slice of the page text the ingest built, which reorders and cleans what the
PDF holds (columns joined, look-alike kanji mapped, furniture dropped). So it is looked up in the
page's own characters, in their matching form (NFKC, standard kanji, no white space), line by
line: a quote that spans two columns or a page break of the text layer is still found. When less
than ``MIN_LOCATED`` of its characters can be placed, nothing is highlighted: marking the wrong
sentence is worse than marking none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pypdfium2.raw as pdfium_c

from core.text import normalize, standard_characters
from ingest.pdf import open_pdf

MIN_LOCATED = 0.8
MIN_PIECE = 4  # matching-form characters; shorter quote lines are located with their neighbours
MAX_SKIPPED_DIGITS = 3
_LEAD_MARK = re.compile(r"^\s*[・\-－–—]\s*")  # bullets the ingest writes for symbol-font ones


_PRIVATE_USE, _PRIVATE_USE_END = "\ue000", "\uf8ff"  # symbol-font bullets; the page text has none


@dataclass(frozen=True)
class QuoteBoxes:
    """Rectangles in PDF user space (points, origin at the bottom left), one per located line."""

    page_width: float
    page_height: float
    boxes: list[tuple[float, float, float, float]]
    located: float  # share of the quote's characters found on the page


def _matching_chars(textpage: object) -> tuple[str, list[tuple[float, float, float, float]]]:
    """The page's characters in matching form, each with its box (a character that NFKC expands
    keeps its box for every character it becomes)."""
    handle = textpage.raw  # type: ignore[attr-defined]
    text = textpage.get_text_range()  # type: ignore[attr-defined]
    box = pdfium_c.FS_RECTF()
    chars: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []
    for index, char in enumerate(text):
        if (
            char.isspace()
            or _PRIVATE_USE <= char <= _PRIVATE_USE_END
            or pdfium_c.FPDFText_IsGenerated(handle, index) == 1
        ):
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(handle, index, box):
            continue
        for folded in normalize(standard_characters(char), keep_case=True):
            chars.append(folded)
            boxes.append((box.left, box.bottom, box.right, box.top))
    return "".join(chars), boxes


def _pieces(quote: str) -> list[str]:
    """The quote's lines (and table cells) in matching form, without the bullets and cell marks
    the ingest wrote in; short pieces join the next so each piece is distinctive."""
    pieces: list[str] = []
    carry = ""
    cells = [cell for line in quote.split("\n") for cell in line.split(" | ")]
    for cell in cells:
        carry += normalize(standard_characters(_LEAD_MARK.sub("", cell)), keep_case=True)
        if len(carry) >= MIN_PIECE:
            pieces.append(carry)
            carry = ""
    if carry:
        if pieces:
            pieces[-1] += carry
        else:
            pieces.append(carry)
    return pieces


def _align(haystack: str, piece: str, at: int) -> list[int] | None:
    """The haystack positions of ``piece`` read from ``at``, stepping over short runs of digits
    the page text does not have (margin line numbers between the wrapped lines of a sentence)."""
    positions: list[int] = []
    i, j, skipped = 0, at, 0
    while i < len(piece):
        if j >= len(haystack):
            return None
        if haystack[j] == piece[i]:
            positions.append(j)
            i, j, skipped = i + 1, j + 1, 0
        elif haystack[j].isdigit() and skipped < MAX_SKIPPED_DIGITS:
            j, skipped = j + 1, skipped + 1
        else:
            return None
    return positions


def _find(haystack: str, piece: str, start: int) -> list[int] | None:
    """Where ``piece`` is on the page, preferring the first place at or after ``start``."""
    anchor = piece[:MIN_PIECE]
    for origin in (start, 0):
        at = haystack.find(anchor, origin)
        while at >= 0:
            positions = _align(haystack, piece, at)
            if positions:
                return positions
            at = haystack.find(anchor, at + 1)
    return None


def _line_rects(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Merge consecutive character boxes into one rectangle per line of text."""
    rects: list[list[float]] = []
    for left, bottom, right, top in boxes:
        if rects:
            last = rects[-1]
            height = max(last[3] - last[1], top - bottom, 1.0)
            same_line = (
                abs((bottom + top) / 2 - (last[1] + last[3]) / 2) < height / 2 and left >= last[0] - height
            )
            if same_line:
                last[0], last[1] = min(last[0], left), min(last[1], bottom)
                last[2], last[3] = max(last[2], right), max(last[3], top)
                continue
        rects.append([left, bottom, right, top])
    return [(round(a, 2), round(b, 2), round(c, 2), round(d, 2)) for a, b, c, d in rects]


def quote_boxes(path: Path, page: int, quote: str) -> QuoteBoxes:
    """The rectangles of ``quote`` on 1-based ``page`` of the PDF at ``path``; none when it cannot
    be placed confidently. Raises ``IndexError`` for a page the PDF does not have."""
    pdf = open_pdf(path)
    try:
        if not 1 <= page <= len(pdf):
            raise IndexError(f"{path.name} has pages 1-{len(pdf)}, not {page}")
        pdf_page = pdf[page - 1]
        width, height = pdf_page.get_size()
        textpage = pdf_page.get_textpage()
        haystack, char_boxes = _matching_chars(textpage)
    finally:
        pdf.close()
    pieces = _pieces(quote)
    total = sum(len(p) for p in pieces)
    found: list[tuple[float, float, float, float]] = []
    located = 0
    start = 0
    for piece in pieces:
        positions = _find(haystack, piece, start)  # a later line may sit earlier (another column)
        if positions is None:
            continue
        located += len(piece)
        found.extend(char_boxes[p] for p in positions)
        start = positions[-1] + 1
    share = located / total if total else 0.0
    boxes = _line_rects(found) if share >= MIN_LOCATED else []
    return QuoteBoxes(round(width, 2), round(height, 2), boxes, round(share, 3))
