"""Page layout from character geometry: lines, paragraphs, table rows, page furniture, titles.

A PDF holds positioned glyphs, not paragraphs. Text extractors either break a line at every visual
wrap (so a slide's bullets and a report's sentences look alike) or guess paragraphs from blank
lines that real PDFs rarely have. Here paragraphs are rebuilt from what the page shows: where each
character sits, how tall it is, where a line starts and ends compared with its neighbours.

Everything below ``Segment`` is pure: it works on plain coordinates (PDF points, y grows
upwards), so each rule is tested on hand-made segments without a PDF.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from core.text import CELL_SEPARATOR

_SENTENCE_END = "。！？!?．"
# A line that starts a new item: bullets, numbered and bracketed headings, notes.
ITEM_START = re.compile(
    r"^\s*(?:[・\-－–—‐●○◆◇■□▪▶►✓✔※*＊•◎☆★〇]"
    r"|[①-⑳㉑-㉟]|[（(]\s*[0-9０-９一二三四五六七八九十ａ-ｚa-zア-ン]{1,3}\s*[)）]"
    r"|[0-9０-９]{1,2}\s*[.．、]\s*(?=\D)|第\s*[0-9０-９一二三四五六七八九十百]+\s*[章節条部款]"
    r"|【|〔|［|\[|[（(]?注\s*[0-9０-９]*[)）]?|[ア-ン]\s+"
    r"|[0-9０-９]+-[0-9０-９]+\s)"
)
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-‐－—–]\s*)?(?:p\.?\s*)?[0-9０-９ivxIVX]{1,4}(?:\s*[/／]\s*[0-9０-９]{1,4})?"
    r"(?:\s*[-‐－—–])?\s*$"
)
_DIGITS = re.compile(r"[0-9０-９]+")
_KANA_ONLY = re.compile(r"^[\u3040-\u30ff\s]+$")


@dataclass
class Segment:
    """A run of characters on one baseline with no wide gap: a line of a paragraph, or a cell's line."""

    text: str
    x0: float
    y0: float  # bottom
    x1: float
    y1: float  # top
    height: float  # the median character height: the font size, near enough
    text_x0: float | None = None  # where the text after a leading bullet starts (hanging indent)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def middle(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass
class Block:
    """A paragraph (or a table row): lines joined because the page shows them as one unit."""

    lines: list[Segment] = field(default_factory=list)
    text: str = ""

    @property
    def x0(self) -> float:
        return min(s.x0 for s in self.lines)

    @property
    def x1(self) -> float:
        return max(s.x1 for s in self.lines)

    @property
    def y1(self) -> float:
        return max(s.y1 for s in self.lines)

    @property
    def y0(self) -> float:
        return min(s.y0 for s in self.lines)

    @property
    def height(self) -> float:
        return max(s.height for s in self.lines)


@dataclass(frozen=True)
class PageLayout:
    """One page: its paragraphs in reading order, its title, and what was set aside as furniture."""

    blocks: list[str]
    title: str
    furniture: list[str]


# --- furniture: what is on every page but is not the page's content ----------------------------


def _band_key(text: str) -> str:
    """Running headers and footers repeat with another page number: compare them without digits."""
    return _DIGITS.sub("0", re.sub(r"\s+", "", text))


def in_margin_band(seg: Segment, page_height: float, share: float = 0.09) -> bool:
    return seg.y0 >= page_height * (1 - share) or seg.y1 <= page_height * share


def repeated_band_keys(pages: Sequence[tuple[Sequence[Segment], float]]) -> set[str]:
    """Keys of header/footer lines that recur on enough pages to be furniture rather than content.

    A line counts when it sits in the top or bottom band of its page and its digit-free form is
    found on at least a quarter of the pages (and on three at least): a running title, a
    "令和6年版 防災白書 233" footer, a slide deck's navigation tabs."""
    counts: Counter[str] = Counter()
    for segments, height in pages:
        counts.update({_band_key(s.text) for s in segments if in_margin_band(s, height) and s.text.strip()})
    needed = max(3, len(pages) / 4)
    return {key for key, n in counts.items() if n >= needed}


def _is_vertical_run(run: list[Segment]) -> bool:
    return len(run) >= 2 and all(len(s.text.strip()) <= 2 for s in run)


def split_vertical_text(segments: list[Segment]) -> tuple[list[Segment], list[Segment]]:
    """Vertical text (a side tab 「第3部」, a rotated label) arrives one character a segment,
    stacked at one x. Such runs are set aside: they are navigation, not sentences."""
    kept: list[Segment] = []
    vertical: list[Segment] = []
    run: list[Segment] = []

    def flush() -> None:
        (vertical if _is_vertical_run(run) else kept).extend(run)
        run.clear()

    for seg in segments:
        tall = seg.y1 - seg.y0 > 2.2 * max(seg.width, 1.0) and len(seg.text.strip()) >= 2
        if tall:  # a whole vertical word in one segment
            flush()
            vertical.append(seg)
            continue
        if (
            run
            and len(seg.text.strip()) <= 2
            and abs(seg.x0 - run[-1].x0) <= 0.6 * seg.height
            and 0 <= run[-1].y0 - seg.y1 <= 1.5 * seg.height
        ):
            run.append(seg)
            continue
        flush()
        run.append(seg)
    flush()
    kept.sort(key=segments.index)
    return kept, vertical


def strip_line_numbers(segments: list[Segment]) -> tuple[list[Segment], list[str]]:
    """Margin line numbers (1, 2, 3 … down the left edge of a Word page) are cut off the lines they
    sit beside. They are recognised as a column: many segments beginning with a bare number at one
    x, left of the text, counting upwards down the page."""
    pattern = re.compile(r"^([0-9０-９]{1,3})(?:\s+|$)")
    numbered = [
        (s, int(m.group(1).translate(_FULLWIDTH_DIGITS))) for s in segments if (m := pattern.match(s.text))
    ]
    if len(numbered) < 8:
        return segments, []
    xs = [s.x0 for s, _ in numbered]
    column = statistics.median(xs)
    in_column = [(s, n) for s, n in numbered if abs(s.x0 - column) <= 6]
    values = [n for _, n in in_column]
    rising = sum(1 for a, b in pairwise(values) if b == a + 1)
    if len(in_column) < 8 or rising < 0.6 * (len(in_column) - 1):
        return segments, []
    body_left = [s.x0 for s in segments if not pattern.match(s.text)]
    if body_left and column > min(body_left) + 1:  # numbers must stand left of the text
        return segments, []
    cut = {id(s) for s, _ in in_column}
    kept: list[Segment] = []
    for seg in segments:
        if id(seg) not in cut:
            kept.append(seg)
            continue
        rest = pattern.sub("", seg.text, count=1)
        if rest.strip():
            width_per_char = seg.width / max(len(seg.text), 1)
            kept.append(
                Segment(
                    rest,
                    seg.x0 + width_per_char * (len(seg.text) - len(rest)),
                    seg.y0,
                    seg.x1,
                    seg.y1,
                    seg.height,
                    seg.text_x0,
                )
            )
    return kept, [f"LINE-NUMBERS {values[0]}-{values[-1]}"]


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def drop_furigana(segments: list[Segment]) -> tuple[list[Segment], list[Segment]]:
    """Ruby (small kana set just above a word) would land in the middle of the sentence; a
    kana-only segment under two thirds of its neighbours' height, right above one, is dropped."""
    if not segments:
        return segments, []
    body = statistics.median(s.height for s in segments)
    kept, dropped = [], []
    for seg in segments:
        small = seg.height < 0.67 * body and _KANA_ONLY.match(seg.text) is not None
        if small and any(
            0 <= o.y0 - seg.y1 <= 0.4 * body or abs(o.y1 - seg.y0) <= 0.5 * body
            for o in segments
            if o is not seg and o.height >= 0.8 * body and o.x0 - body <= seg.x0 <= o.x1
        ):
            dropped.append(seg)
        else:
            kept.append(seg)
    return kept, dropped


# --- paragraphs and rows -------------------------------------------------------------------------


def _continues(block: Block, nxt: Segment) -> bool:
    """Is ``nxt`` the next visual line of the paragraph ``block`` (a wrap), not a new unit?"""
    prev = block.lines[-1]
    if prev.text.rstrip().endswith(tuple(_SENTENCE_END)) or ITEM_START.match(nxt.text):
        return False
    if _is_label(block.text) and 0 <= prev.y0 - nxt.y1 <= 0.9 * prev.height and nxt.x0 <= prev.x1:
        return True  # 「バイオ：」 above its value: a record, read as one line
    em = max(prev.height, nxt.height, 1.0)
    if not 0.8 <= nxt.height / max(prev.height, 0.1) <= 1.25:
        return False
    gap = prev.y0 - nxt.y1  # positive when nxt is below prev
    if gap < -0.35 * em or gap > 0.9 * em:
        return False
    first = block.lines[0]
    lefts = [first.x0] + [s.x0 for s in block.lines[1:]]
    if first.text_x0 is not None:
        lefts.append(first.text_x0)
    # Wrapped lines start under the paragraph's first line, under its text after a bullet or a
    # number (hanging indent), or up to a few characters left of an indented first line.
    starts_in_place = any(abs(nxt.x0 - x) <= 0.7 * em for x in lefts) or (
        len(block.lines) == 1 and -2.5 * em <= nxt.x0 - first.x0 <= 2.5 * em
    )
    if not starts_in_place:
        return False
    right = max(block.x1, nxt.x1)
    return prev.x1 >= right - 1.2 * em  # the previous line ran to the edge: it wrapped


def _is_label(text: str) -> bool:
    return len(text) <= 12 and text.rstrip().endswith(("：", ":"))


def _join(left: str, right: str) -> str:
    """A wrap inside Japanese text joins without a space; between Latin words it is one space."""
    left, right = left.rstrip(), right.lstrip()
    if (
        left
        and right
        and left[-1].isascii()
        and right[0].isascii()
        and left[-1].isalnum()
        and right[0].isalnum()
    ):
        return f"{left} {right}"
    if left.endswith("-") and right[:1].isascii() and right[:1].islower():
        return left + right  # hyphenated Latin word broken over two lines
    return left + right


def build_blocks(segments: list[Segment]) -> list[Block]:
    blocks: list[Block] = []
    for seg in segments:
        if blocks and _continues(blocks[-1], seg):
            blocks[-1].lines.append(seg)
            blocks[-1].text = _join(blocks[-1].text, seg.text)
        else:
            blocks.append(Block([seg], seg.text.strip()))
    return blocks


def merge_rows(blocks: list[Block]) -> list[Block]:
    """Table cells of one row come one after another, side by side at the same top: they become
    one line, cells separated by " | ", so a row is one quotable, answerable unit."""
    rows: list[Block] = []
    for block in blocks:
        if rows:
            last = rows[-1]
            em = max(last.height, block.height, 1.0)
            cell = last.lines[-1] if "|" in last.text else last
            same_top = abs(block.y1 - last.y1) <= 0.45 * em
            right_of = block.x0 >= cell.x1 - 0.2 * em
            if same_top and right_of:
                # Letter-spaced headings (「事 務 連 絡」) arrive a character at a time: one word.
                spaced = len(block.text) <= 2 and len(cell_text(last)) <= 2 and block.x0 - cell.x1 <= 3 * em
                joiner = " " if spaced else CELL_SEPARATOR
                rows[-1] = Block(last.lines + block.lines, f"{last.text}{joiner}{block.text}")
                continue
        rows.append(block)
    return rows


def cell_text(row: Block) -> str:
    """The last cell of a row being built."""
    return row.text.rsplit(CELL_SEPARATOR, 1)[-1].rsplit(" ", 1)[-1]


def page_title(blocks: list[Block], page_height: float) -> str:
    """A slide's or a page's title is its largest text in the upper part of the page; a page
    set in one size has no such paragraph, and then its first one is its heading if it is short."""
    if not blocks:
        return ""
    body = statistics.median(s.height for b in blocks for s in b.lines)
    upper = [b for b in blocks if b.y1 >= page_height * 0.45 and len(b.text) >= 2]
    if upper:
        biggest = max(upper, key=lambda b: (round(b.height, 1), b.y1))
        if biggest.height >= 1.2 * body:
            return cap_heading(biggest.text)
    first = blocks[0].text.strip()
    # Without a larger line, the first paragraph is a heading only if it reads like one; on a
    # white-paper page it is often the end of a sentence begun on the page before, and as every
    # chunk's heading it would lend them all its words.
    if len(first) <= HEADING_MAX_CHARS // 2 and not first.endswith(("。", "、", "，")):
        return first
    return ""


HEADING_MAX_CHARS = 80  # a heading gives chunks their topic; a page-long "heading" would multiply the page


def cap_heading(text: str, limit: int = HEADING_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def lay_out(segments: list[Segment], page_height: float, repeated: set[str]) -> PageLayout:
    """Segments in content order → paragraphs in reading order, with furniture set aside."""
    furniture: list[str] = []
    kept: list[Segment] = []
    for seg in segments:
        running = in_margin_band(seg, page_height) and (
            _band_key(seg.text) in repeated or _PAGE_NUMBER.match(seg.text) is not None
        )
        slug = seg.y1 <= page_height * 0.018 or seg.y0 >= page_height * 0.982  # printer's slug in the bleed
        if running or slug:
            furniture.append(seg.text.strip())
        else:
            kept.append(seg)
    kept, vertical = split_vertical_text(kept)
    furniture.extend(s.text.strip() for s in vertical)
    kept, numbers = strip_line_numbers(kept)
    furniture.extend(numbers)
    kept, ruby = drop_furigana(kept)
    furniture.extend(s.text for s in ruby)
    blocks = [b for b in merge_rows(build_blocks(kept)) if b.text.strip()]
    return PageLayout(_with_gaps(blocks), page_title(blocks, page_height), [f for f in furniture if f])


def _with_gaps(blocks: list[Block]) -> list[str]:
    """Paragraph texts, with "" where the page leaves a gap or moves to another column or box:
    the passage assembler treats what lies between two gaps as one paragraph."""
    out: list[str] = []
    for prev, block in zip([None, *blocks], blocks):
        if prev is not None:
            em = max(prev.height, block.height, 1.0)
            gap = prev.y0 - block.y1
            if gap > 0.9 * em or gap < -0.5 * em:
                out.append("")
        out.append(block.text)
    return out
