"""Chunking: chunks are exact slices of their page, split at unit boundaries, never across pages."""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.text import title_of
from ingest.chunking import Chunk, chunk_document, chunk_page

_PAGE_ALPHABET = "あいうえお経済安全保障半導体カタナABCxyz0123 、。！？!?・●\n\u3000"
_pages = st.text(alphabet=_PAGE_ALPHABET, max_size=1500)

# ---------------------------------------------------------------------------- chunking


def _sentences(n: int, length: int = 30) -> str:
    """``n`` distinct sentences of exactly ``length`` characters, so expected boundaries are easy to state."""
    return "".join(f"{i:02d}番目の文" + "あ" * (length - 7) + "。" for i in range(n))


def test_chunks_are_exact_slices_titled_by_the_page_heading() -> None:
    page = "官民連携の方向性\n" + _sentences(12)
    chunks = chunk_page(page, 3, target_chars=120, overlap_chars=0)
    assert len(chunks) > 2
    for n, chunk in enumerate(chunks):
        assert chunk.text == page[chunk.start : chunk.end]
        assert chunk.page == 3 and chunk.index == n
        assert chunk.heading == "官民連携の方向性"
        assert len(chunk.text) <= 120
    assert chunks[0].embedding_text == chunks[0].text  # already starts with the heading
    assert chunks[1].embedding_text == f"官民連携の方向性\n{chunks[1].text}"


def test_chunks_respect_target_and_split_only_at_unit_boundaries() -> None:
    page = _sentences(20)  # 20 sentences of 30 characters on one line
    assert len(page) == 600
    chunks = chunk_page(page, 1, target_chars=100, overlap_chars=0)
    assert [len(c.text) for c in chunks] == [90] * 6 + [60]  # three whole sentences fit in 100
    assert all(c.text.endswith("。") for c in chunks)
    assert "".join(c.text for c in chunks) == page  # no overlap asked: a partition of the page


def test_overlap_repeats_whole_trailing_sentences() -> None:
    page = _sentences(20)
    chunks = chunk_page(page, 1, target_chars=100, overlap_chars=40)
    for before, after in itertools.pairwise(chunks):
        shared = before.end - after.start
        assert 0 < shared <= 40
        assert page[after.start : before.end] == page[after.start : after.start + 30]  # exactly one sentence
        assert after.end > before.end
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert covered == set(range(len(page)))


def test_overlap_never_produces_a_chunk_contained_in_the_previous_one() -> None:
    """Short sentences followed by one long one: the overlap must not repeat the tail on its own."""
    page = "あ" * 20 + "。" + "い" * 20 + "。" + "う" * 20 + "。" + "え" * 80 + "。"
    chunks = chunk_page(page, 1, target_chars=100, overlap_chars=70)
    assert [(c.start, c.end) for c in chunks] == [(0, 63), (63, 144)]


def test_an_over_long_sentence_is_cut_into_windows() -> None:
    page = "長" * 500 + "。"
    chunks = chunk_page(page, 1, target_chars=100, overlap_chars=20)
    assert all(len(c.text) <= 200 for c in chunks)
    assert "".join(page[c.start : c.end] for c in chunks if c.start >= 0)[:200] == page[:200]
    assert chunks[0].start == 0 and chunks[-1].end == len(page)


def test_chunks_never_cross_pages_and_are_numbered_through_the_document() -> None:
    pages = ["一頁目\n" + _sentences(5), "", "三頁目\n" + _sentences(7)]
    chunks = chunk_document(pages, target_chars=100, overlap_chars=30)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert {c.page for c in chunks} == {1, 3}  # the empty page has no chunk
    for chunk in chunks:
        assert chunk.text == pages[chunk.page - 1][chunk.start : chunk.end]
        assert chunk.heading == ("一頁目" if chunk.page == 1 else "三頁目")


def _check_chunks(page: str, chunks: list[Chunk], target: int, overlap: int) -> None:
    covered: set[int] = set()
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(page)
        assert chunk.text == page[chunk.start : chunk.end]
        assert chunk.heading == title_of(page)
        assert len(chunk.text) <= 2 * max(target, 40)
        if len(chunk.text) > target:  # only a single over-long sentence may exceed the target
            assert "\n" not in chunk.text
            assert not re.search(r"[。！？!?][^。！？!?]", chunk.text)
        covered.update(range(chunk.start, chunk.end))
    for before, after in itertools.pairwise(chunks):
        assert before.start < after.start and before.end < after.end
        assert before.end - after.start <= max(overlap, 0)
    assert {i for i, ch in enumerate(page) if not ch.isspace()} <= covered


@given(page=_pages, target=st.integers(20, 400), overlap=st.integers(0, 150))
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_chunk_spans_property(page: str, target: int, overlap: int) -> None:
    chunks = chunk_page(page, 7, target_chars=target, overlap_chars=overlap, first_index=5)
    assert [c.index for c in chunks] == list(range(5, 5 + len(chunks)))
    assert all(c.page == 7 for c in chunks)
    _check_chunks(page, chunks, target, overlap)


def test_a_page_that_is_one_long_line_is_not_repeated_in_each_chunk() -> None:
    """Its first line is its title, and every chunk carries the title: cut short, or a 50,000-character
    line would be embedded seventy times over."""
    line = "経済安全保障" * 8_334  # about 50,000 characters, no sentence end
    chunks = chunk_document([line], target_chars=360, overlap_chars=60)
    assert len(chunks) > 60
    assert all(len(c.heading) <= 81 for c in chunks)
    assert sum(len(c.embedding_text) for c in chunks) < 1.3 * len(line)
    short = chunk_document([line], target_chars=360, overlap_chars=60, heading_chars=20)
    assert all(len(c.heading) <= 21 for c in short)
