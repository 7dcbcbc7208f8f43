"""Page clean-up after extraction: every rule pinned by a real example, and idempotent."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import standard_characters
from ingest.cleanup import clean_line

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
    assert (
        clean_line("令和6年度予算額\x08 127百万円") == "令和6年度予算額127百万円"
    )  # a backspace in the text layer
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
