"""The bundled deck: its text layer says exactly what its source says, page by page.

The deck is the corpus every demo and evaluation runs on, so a page whose
extracted text drifted from the source (a lost line, a page spilled onto the
next) would silently break citations. The source text is the reference.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from ingest.pdf import PdfDocument, read_pdf

REPO = Path(__file__).resolve().parents[2]
DECK_PDF = REPO / "corpus" / "econsec-public-private-action-2025-03-16.pdf"
DECK_TEXT = REPO / "corpus" / "src" / "econsec-public-private-action-2025-03-16.txt"
PAGES = 64


def _source_pages() -> list[str]:
    """The source split the way corpus/build_deck.py splits it."""
    return re.split(r"\n?\f\n?", DECK_TEXT.read_text(encoding="utf-8"))


def _visible(text: str) -> str:
    """Whitespace-insensitive form; ``**`` marks emphasis in the source and is drawn as colour."""
    return re.sub(r"\s+", "", text.replace("**", ""))


@pytest.fixture(scope="module")
def deck() -> PdfDocument:
    return read_pdf(DECK_PDF)


def test_source_has_one_text_per_page() -> None:
    assert len(_source_pages()) == PAGES


@pytest.mark.parametrize("page", range(1, PAGES + 1))
def test_page_text_matches_source(deck: PdfDocument, page: int) -> None:
    extracted = deck.pages[page - 1]
    expected = _source_pages()[page - 1]
    assert _visible(expected), "a source page is empty"
    assert _visible(extracted) == _visible(expected)


def test_deck_metadata_and_first_title(deck: PdfDocument) -> None:
    assert len(deck.pages) == PAGES
    assert deck.metadata_title == "経済安全保障に関する官民連携アクション"
    assert deck.first_page_title == "経済安全保障に関する官民連携アクション"


def test_pages_are_landscape() -> None:
    reader = PdfReader(str(DECK_PDF))
    assert len(reader.pages) == PAGES
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        if page.rotation % 180:
            width, height = height, width
        assert width > height


def test_every_font_that_shows_text_is_embedded() -> None:
    """A text layer in a non-embedded CJK font renders as tofu on machines without that font."""
    reader = PdfReader(str(DECK_PDF))
    text_fonts: set[str] = set()
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        current = None
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = str(operands[0])
            elif operator in (b"Tj", b"TJ", b"'", b'"'):
                assert current is not None
                font = fonts[current].get_object()
                descriptor = font.get("/FontDescriptor")
                if descriptor is None and font.get("/DescendantFonts"):
                    descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
                assert descriptor is not None, f"font {font.get('/BaseFont')} has no descriptor"
                assert "/FontFile2" in descriptor.get_object(), (
                    f"font {font.get('/BaseFont')} is not embedded"
                )
                text_fonts.add(str(font["/BaseFont"]))
    assert text_fonts and all(name.endswith("+IPAexGothic") for name in text_fonts)


@pytest.mark.slow
def test_build_script_rebuilds_the_same_bytes(tmp_path: Path) -> None:
    """The PDF is reproducible from its source (reportlab invariant mode), so the text is the truth."""
    out = tmp_path / "deck.pdf"
    done = subprocess.run(
        [sys.executable, str(REPO / "corpus" / "build_deck.py"), str(DECK_TEXT), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{PAGES} pages" in done.stdout
    assert out.read_bytes() == DECK_PDF.read_bytes()
