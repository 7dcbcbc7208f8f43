"""Build the bundled slide deck PDF from its page-separated source text.

The deck ships as text (``corpus/src/*.txt``, pages separated by form-feed
lines) so that every page of the PDF can be checked against what it should
say. This script turns that text into a landscape slide PDF with a real,
extractable text layer in an embedded Japanese TrueType font: the first line
of each page is the slide title, the rest is the body, and the body font
shrinks until the page fits, so no page ever spills onto the next one.
``**emphasis**`` in the source is drawn in colour, as the slides do.

Usage: python corpus/build_deck.py [SOURCE.txt] [OUT.pdf]
Needs the ``build`` extra (reportlab, and the IPAex Gothic font shipped by
japanize-matplotlib or Debian's fonts-ipaexfont).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Frame, Paragraph

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE / "src" / "econsec-public-private-action-2025-03-16.txt"
DEFAULT_OUT = HERE / "econsec-public-private-action-2025-03-16.pdf"
FONT_NAME = "IPAexGothic"
BODY_SIZES = (14, 13, 12, 11, 10, 9, 8, 7.5, 7, 6.5, 6, 5.5, 5, 4.5, 4)
MARGIN = 36
TITLE_SIZE = 20
EMPHASIS_COLOUR = "#b00020"


def find_japanese_font() -> Path:
    """Locate IPAex Gothic: a TrueType (not PostScript-outline) CJK font reportlab can embed."""
    candidates = [
        Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
        Path("/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf"),
    ]
    try:
        import japanize_matplotlib

        candidates.insert(0, Path(japanize_matplotlib.__file__).parent / "fonts" / "ipaexg.ttf")
    except ImportError:
        pass
    for path in candidates:
        if path.exists():
            return path
    raise SystemExit(
        "IPAex Gothic not found: pip install japanize-matplotlib, or apt-get install fonts-ipaexfont"
    )


def split_pages(text: str) -> list[str]:
    """Pages are separated by lines holding only a form feed."""
    return re.split(r"\n?\f\n?", text)


def to_markup(block: str) -> str:
    """One source paragraph as reportlab markup: explicit line breaks kept, emphasis coloured."""
    lines = []
    for line in block.split("\n"):
        line = escape(line.replace("\t", " "))
        lines.append(re.sub(r"\*\*(.+?)\*\*", rf'<font color="{EMPHASIS_COLOUR}">\1</font>', line))
    return "<br/>".join(lines)


def draw_page(pdf: canvas.Canvas, page_text: str, width: float, height: float) -> None:
    lines = page_text.split("\n")
    title, body = lines[0], "\n".join(lines[1:]).strip("\n")
    blocks = [b for b in re.split(r"\n\s*\n", body) if b.strip()]

    title_style = ParagraphStyle(
        "title", fontName=FONT_NAME, fontSize=TITLE_SIZE, leading=TITLE_SIZE * 1.25, wordWrap="CJK"
    )
    title_para = Paragraph(to_markup(title), title_style)
    _, title_height = title_para.wrap(width - 2 * MARGIN, height)
    title_para.drawOn(pdf, MARGIN, height - MARGIN - title_height)

    frame_height = height - 2 * MARGIN - title_height - 12
    inner_width = width - 2 * MARGIN - 12  # Frame pads 6pt on each side
    for size in BODY_SIZES:
        style = ParagraphStyle(
            "body",
            fontName=FONT_NAME,
            fontSize=size,
            leading=size * 1.25,
            spaceAfter=size * 0.9,
            wordWrap="CJK",
        )
        paragraphs = [Paragraph(to_markup(b), style) for b in blocks]
        needed = sum(p.wrap(inner_width, height)[1] + style.spaceAfter for p in paragraphs)
        if needed <= frame_height - 12:
            break
    frame = Frame(MARGIN, MARGIN, width - 2 * MARGIN, frame_height)
    frame.addFromList(paragraphs, pdf)
    if paragraphs:
        raise SystemExit(f"page does not fit even at {BODY_SIZES[-1]}pt: {title!r}")


def build(source: Path, out: Path) -> int:
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(find_japanese_font())))
    pages = split_pages(source.read_text(encoding="utf-8"))
    width, height = landscape(A4)
    pdf = canvas.Canvas(str(out), pagesize=(width, height), invariant=1)
    pdf.setTitle(pages[0].split("\n")[0])
    pdf.setAuthor("経済産業省")
    for page_text in pages:
        draw_page(pdf, page_text, width, height)
        pdf.showPage()
    pdf.save()
    return len(pages)


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_OUT
    print(f"{dst}: {build(src, dst)} pages")
