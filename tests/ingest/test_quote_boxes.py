"""Placing a citation's quote on its PDF page, for the viewer to mark."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pdf import read_pdf
from ingest.quote_boxes import MIN_LOCATED, quote_boxes

ROOT = Path(__file__).resolve().parents[2]
DECK = ROOT / "corpus" / "econsec-public-private-action-2025-03-16.pdf"
AI_PAPER = ROOT / "tests" / "data" / "real-pdfs" / "cao-ai-regulation-approach-2024-05.pdf"


def _paragraph(path: Path, page: int, contains: str) -> str:
    text = read_pdf(path).pages[page - 1]
    return next(p for p in text.split("\n") if contains in p)


def test_a_quoted_paragraph_is_placed_inside_its_page() -> None:
    quote = _paragraph(AI_PAPER, 3, "リスクへの対応については")
    found = quote_boxes(AI_PAPER, 3, quote)
    assert found.located == 1.0
    assert found.boxes, "a located quote is marked"
    for left, bottom, right, top in found.boxes:
        assert 0 <= left < right <= found.page_width and 0 <= bottom < top <= found.page_height
    # the paragraph wraps over several printed lines, each between margin line numbers
    assert len(found.boxes) >= 3


def test_a_later_paragraph_is_marked_below_an_earlier_one() -> None:
    first = quote_boxes(AI_PAPER, 3, _paragraph(AI_PAPER, 3, "このため、AI については"))
    later = quote_boxes(AI_PAPER, 3, _paragraph(AI_PAPER, 3, "上記のような国内外の議論"))
    assert first.boxes and later.boxes
    assert max(b[3] for b in later.boxes) < min(b[1] for b in first.boxes) + 1  # PDF y grows upwards


def test_a_quote_that_is_not_on_the_page_is_not_marked() -> None:
    found = quote_boxes(DECK, 19, "この文章はどのページにも書かれていない。まったく別の内容である。")
    assert found.boxes == [] and found.located < MIN_LOCATED


def test_a_quote_from_another_page_is_not_marked_on_this_one() -> None:
    quote = _paragraph(AI_PAPER, 3, "リスクへの対応については")
    assert quote_boxes(AI_PAPER, 4, quote).boxes == []


def test_slide_text_with_bullets_is_placed() -> None:
    page = read_pdf(DECK).pages[18]
    quote = "\n".join(line for line in page.split("\n") if line.strip())[:120]
    assert quote_boxes(DECK, 19, quote).located >= MIN_LOCATED


def test_a_page_the_pdf_does_not_have_is_an_error() -> None:
    with pytest.raises(IndexError):
        quote_boxes(DECK, 65, "半導体")
