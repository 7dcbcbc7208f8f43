"""Page clean-up, matching form, sentence units and chunking.

Every quote the service shows is a slice of the cleaned page text, and every chunk is
found again by its span; these tests pin the rules that make that true.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import Chunk, chunk_document, chunk_page
from ingest.text import clean_line, has_japanese, normalize, split_units, standard_characters, title_of

# ---------------------------------------------------------------------------- clean_line
# Each rule with an example taken from a real government PDF (tests/data/real-pdfs/).


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("国⺠の安全", "国民の安全"),  # CJK Radicals Supplement: NFKC leaves ⺠ alone
        ("経済成⻑と⻄日本", "経済成長と西日本"),
        ("⽣成 AI の利⽤が拡⼤", "生成 AI の利用が拡大"),  # Kangxi Radicals
        ("⺟子手帳", "母子手帳"),
    ],
)
def test_clean_line_maps_radical_lookalikes_to_kanji(raw: str, expected: str) -> None:
    assert clean_line(raw) == expected
    assert standard_characters(raw) == expected


def test_clean_line_turns_symbol_font_bullets_into_the_japanese_bullet() -> None:
    assert clean_line("\uf06c 本編での各主体・定義等を具体化する") == "・本編での各主体・定義等を具体化する"
    assert clean_line("\uf0fc電子化された船荷証券の名称") == "・電子化された船荷証券の名称"
    assert clean_line("対象\uf0a7範囲") == "対象範囲"  # decoration inside a line is dropped


def test_clean_line_removes_letter_spacing_and_spaces_around_numbers_in_japanese() -> None:
    assert clean_line("事 務 連 絡") == "事務連絡"
    assert clean_line("令和 6 年 5 月") == "令和6年5月"
    assert clean_line("（2023 年 12 月）") == "（2023年12月）"
    # Latin words keep their spaces, also next to Japanese text (how Word sets 「AI 制度」).
    assert clean_line("「AI 制度に関する考え方」") == "「AI 制度に関する考え方」"
    assert clean_line("Chip War  by Chris Miller") == "Chip War by Chris Miller"


def test_clean_line_drops_inline_ruby_and_layout_padding() -> None:
    assert clean_line("未来を切り拓(ひら)く") == "未来を切り拓く"
    assert clean_line("強靱（きょうじん）化") == "強靱（きょうじん）化"  # a reading the author wrote
    assert clean_line("令和6年度予算額\x08 127百万円") == "令和6年度予算額127百万円"  # a backspace in the text layer
    assert clean_line("令和5年度予算額 100\u3000\u3000\u3000") == "令和5年度予算額100"


_RAW_ALPHABET = "あいう経済安全保障カタナ。、！？・●①（）(1)ABC 12\t\u3000⺠⻑⽣\uf06c"


# Property tests are derandomised (the same examples every run) and keep no example database:
# a CI failure reproduces locally, and no .hypothesis folder appears in the repository.
@given(st.text(alphabet=_RAW_ALPHABET, max_size=300))
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_clean_line_is_idempotent_and_keeps_every_character_of_the_text(raw: str) -> None:
    cleaned = clean_line(raw)
    assert clean_line(cleaned) == cleaned
    kept = re.sub(r"[\s\ue000-\uf8ff・]", "", standard_characters(raw))
    assert re.sub(r"[\s・]", "", cleaned) == kept


# ---------------------------------------------------------------------------- normalize & friends


def test_normalize_folds_width_case_and_whitespace() -> None:
    assert normalize("ＧＸ　推進法 ２０２３年") == "gx推進法2023年"
    assert normalize("ｻﾌﾟﾗｲﾁｪｰﾝ") == "サプライチェーン"  # half-width katakana to full width
    assert normalize("Ｅｃｏｎｏｍｉｃ Security") == "economicsecurity"
    assert normalize("経済安全保障") == "経済安全保障"


def test_has_japanese_and_title_of() -> None:
    assert has_japanese("What is 経済安全保障?")
    assert not has_japanese("What is economic security?")
    assert title_of("\n\n  官民連携の方向性  \n本文") == "官民連携の方向性"
    assert title_of("  \n") == ""


# ---------------------------------------------------------------------------- split_units


def test_split_units_sentences_lines_paragraphs_and_bullets() -> None:
    page = "見出し\n\n第一文です。第二文です！ 第三文\n・箇条の一。続き。\n\n最後の段落"
    units = split_units(page)
    assert [u.text for u in units] == ["見出し", "第一文です。", "第二文です！", "第三文", "・箇条の一。", "続き。",
                                       "最後の段落"]
    for unit in units:
        assert page[unit.start:unit.end] == unit.text
    assert [u.paragraph for u in units] == [0, 1, 1, 1, 1, 1, 2]
    assert [u.line for u in units] == [0, 1, 1, 1, 2, 2, 3]
    # Only the first sentence of a bullet line carries the bullet.
    assert [u.is_list_item for u in units] == [False, False, False, False, True, False, False]


def test_a_sentence_end_inside_brackets_ends_no_sentence() -> None:
    page = "申請書（以下「申請書」という。）を提出する。「本当か。」と問う。次の文。"
    assert [u.text for u in split_units(page)] == ["申請書（以下「申請書」という。）を提出する。", "「本当か。」と問う。",
                                                   "次の文。"]
    stray = "（注" + "あ" * 250 + "。次の文。"  # a bracket never closed does not swallow the line
    assert split_units(stray)[-1].text == "次の文。"


def test_split_units_keeps_leading_sentence_ends() -> None:
    """A line that starts with "。" (or is only "？") must not lose those characters."""
    page = "。。続く文\n？"
    units = split_units(page)
    assert [u.text for u in units] == ["。。", "続く文", "？"]
    assert all(page[u.start:u.end] == u.text for u in units)


_PAGE_ALPHABET = "あいうえお経済安全保障半導体カタナABCxyz0123 、。！？!?・●\n\u3000"
_pages = st.text(alphabet=_PAGE_ALPHABET, max_size=1500)


@given(_pages)
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_split_units_spans_are_exact_ordered_and_cover_every_visible_character(page: str) -> None:
    units = split_units(page)
    covered = set()
    for before, after in itertools.pairwise(units):
        assert before.end <= after.start
    for unit in units:
        assert page[unit.start:unit.end] == unit.text
        assert unit.text and unit.text == unit.text.strip()
        assert "\n" not in unit.text
        covered.update(range(unit.start, unit.end))
    assert {i for i, ch in enumerate(page) if not ch.isspace()} <= covered


# ---------------------------------------------------------------------------- chunking


def _sentences(n: int, length: int = 30) -> str:
    """``n`` distinct sentences of exactly ``length`` characters, so expected boundaries are easy to state."""
    return "".join(f"{i:02d}番目の文" + "あ" * (length - 7) + "。" for i in range(n))


def test_chunks_are_exact_slices_titled_by_the_page_heading() -> None:
    page = "官民連携の方向性\n" + _sentences(12)
    chunks = chunk_page(page, 3, target_chars=120, overlap_chars=0)
    assert len(chunks) > 2
    for n, chunk in enumerate(chunks):
        assert chunk.text == page[chunk.start:chunk.end]
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
        assert page[after.start:before.end] == page[after.start:after.start + 30]  # exactly one sentence
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
    assert "".join(page[c.start:c.end] for c in chunks if c.start >= 0)[:200] == page[:200]
    assert chunks[0].start == 0 and chunks[-1].end == len(page)


def test_chunks_never_cross_pages_and_are_numbered_through_the_document() -> None:
    pages = ["一頁目\n" + _sentences(5), "", "三頁目\n" + _sentences(7)]
    chunks = chunk_document(pages, target_chars=100, overlap_chars=30)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert {c.page for c in chunks} == {1, 3}  # the empty page has no chunk
    for chunk in chunks:
        assert chunk.text == pages[chunk.page - 1][chunk.start:chunk.end]
        assert chunk.heading == ("一頁目" if chunk.page == 1 else "三頁目")


def _check_chunks(page: str, chunks: list[Chunk], target: int, overlap: int) -> None:
    covered: set[int] = set()
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(page)
        assert chunk.text == page[chunk.start:chunk.end]
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
@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_chunk_spans_property(page: str, target: int, overlap: int) -> None:
    chunks = chunk_page(page, 7, target_chars=target, overlap_chars=overlap, first_index=5)
    assert [c.index for c in chunks] == list(range(5, 5 + len(chunks)))
    assert all(c.page == 7 for c in chunks)
    _check_chunks(page, chunks, target, overlap)
