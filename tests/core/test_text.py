"""The matching form and the sentence units: every quote is an exact slice of its page."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import has_japanese, normalize, split_units, title_of

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
    assert [u.text for u in units] == [
        "見出し",
        "第一文です。",
        "第二文です！",
        "第三文",
        "・箇条の一。",
        "続き。",
        "最後の段落",
    ]
    for unit in units:
        assert page[unit.start : unit.end] == unit.text
    assert [u.paragraph for u in units] == [0, 1, 1, 1, 1, 1, 2]
    assert [u.line for u in units] == [0, 1, 1, 1, 2, 2, 3]
    # Only the first sentence of a bullet line carries the bullet.
    assert [u.is_list_item for u in units] == [False, False, False, False, True, False, False]


def test_a_sentence_end_inside_brackets_ends_no_sentence() -> None:
    page = "申請書（以下「申請書」という。）を提出する。「本当か。」と問う。次の文。"
    assert [u.text for u in split_units(page)] == [
        "申請書（以下「申請書」という。）を提出する。",
        "「本当か。」と問う。",
        "次の文。",
    ]
    stray = "（注" + "あ" * 250 + "。次の文。"  # a bracket never closed does not swallow the line
    assert split_units(stray)[-1].text == "次の文。"


def test_split_units_keeps_leading_sentence_ends() -> None:
    """A line that starts with "。" (or is only "？") must not lose those characters."""
    page = "。。続く文\n？"
    units = split_units(page)
    assert [u.text for u in units] == ["。。", "続く文", "？"]
    assert all(page[u.start : u.end] == u.text for u in units)


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
        assert page[unit.start : unit.end] == unit.text
        assert unit.text and unit.text == unit.text.strip()
        assert "\n" not in unit.text
        covered.update(range(unit.start, unit.end))
    assert {i for i, ch in enumerate(page) if not ch.isspace()} <= covered
