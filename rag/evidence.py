"""What an answer is made of: quoted passages of retrieved pages.

The composer scores a page's units, and the list chooser reads the same pages; both hand back
``Evidence`` whose quote is an exact substring of the page text, so every citation can be checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.text import Unit


@dataclass(frozen=True)
class Evidence:
    """One quoted passage of a page, as it appears in the answer."""

    doc_id: str
    doc_title: str
    doc_date: str
    page: int
    start: int
    end: int
    quote: str  # exactly page_text[start:end]
    lines: tuple[str, ...]  # how it is shown: one unit, or a header and list items
    score: float
    is_list: bool = False


@dataclass
class Page:
    """A retrieved page as the composer reads it: its text, split into units, and where its chunks ranked."""

    doc_id: str
    doc_title: str
    doc_date: str
    page: int
    text: str
    rank: int  # 1 = page of the best chunk
    chunk_spans: list[tuple[int, int, int]]  # (start, end, chunk rank)
    units: list[Unit] = field(default_factory=list)


def one_line(text: str) -> str:
    """A quoted span as it is shown: its line breaks (a wrapped sentence, a two-line item) joined."""
    return re.sub(r"\s*\n\s*", " ", text).strip()
