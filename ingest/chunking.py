"""Pages to chunks: page-bound, split at sentence and list boundaries, titled for context."""

from __future__ import annotations

from dataclasses import dataclass

from core.text import Unit, embedding_text, split_units, title_of
from ingest.layout import HEADING_MAX_CHARS, cap_heading

CHUNKER_VERSION = "layout-v5"  # bump when chunk boundaries change, so re-ingest rebuilds


@dataclass(frozen=True)
class Chunk:
    page: int  # 1-based physical page
    index: int  # position within the document
    start: int  # character span in the page text
    end: int
    text: str  # exactly page_text[start:end]
    heading: str  # the page's title line

    @property
    def embedding_text(self) -> str:
        return embedding_text(self.heading, self.text)


def _pieces(units: list[Unit], max_chars: int) -> list[tuple[int, int]]:
    """Spans to pack: units, with any over-long unit cut into windows."""
    spans: list[tuple[int, int]] = []
    for unit in units:
        start = unit.start
        while unit.end - start > max_chars:
            spans.append((start, start + max_chars))
            start += max_chars
        spans.append((start, unit.end))
    return spans


def chunk_page(
    page_text: str,
    page: int,
    *,
    target_chars: int,
    overlap_chars: int,
    first_index: int = 0,
    heading: str | None = None,
    heading_chars: int = HEADING_MAX_CHARS,
) -> list[Chunk]:
    """Greedy packing of whole units up to ``target_chars``; the next chunk repeats trailing
    units worth at most ``overlap_chars`` so a fact on a boundary is whole in one chunk.
    ``heading`` is the page's title (its largest text); without one, its first line. Every chunk
    carries it, cut to ``heading_chars``: a page that is one long line must not repeat that line
    in each of its chunks."""
    heading = cap_heading(heading if heading is not None else title_of(page_text), heading_chars)
    spans = _pieces(split_units(page_text), max(target_chars, 40) * 2)
    chunks: list[Chunk] = []
    i = 0
    while i < len(spans):
        j = i
        start = spans[i][0]
        while j + 1 < len(spans) and spans[j + 1][1] - start <= target_chars:
            j += 1
        end = spans[j][1]
        chunks.append(Chunk(page, first_index + len(chunks), start, end, page_text[start:end], heading))
        if j + 1 >= len(spans):
            break
        # Step back over trailing units for the overlap, but only as far as the next chunk can still
        # reach the unit after this one: otherwise it would be a copy of this chunk's tail.
        k = j + 1
        reach = spans[j + 1][1]
        while (
            k - 1 > i and end - spans[k - 1][0] <= overlap_chars and reach - spans[k - 1][0] <= target_chars
        ):
            k -= 1
        i = k
    return chunks


def chunk_document(
    pages: list[str],
    *,
    target_chars: int,
    overlap_chars: int,
    headings: list[str] | None = None,
    heading_chars: int = HEADING_MAX_CHARS,
) -> list[Chunk]:
    """Chunks of every page, numbered through the document; no chunk spans two pages, so every
    chunk cites exactly one page."""
    chunks: list[Chunk] = []
    for number, text in enumerate(pages, start=1):
        heading = headings[number - 1] if headings else None
        chunks.extend(
            chunk_page(
                text,
                number,
                target_chars=target_chars,
                overlap_chars=overlap_chars,
                first_index=len(chunks),
                heading=heading,
                heading_chars=heading_chars,
            )
        )
    return chunks
