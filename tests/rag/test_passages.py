"""How much of a page is shown for one chosen unit."""

from __future__ import annotations

from core.text import split_units
from rag.passages import is_heading, passage


def test_a_unit_of_a_long_paragraph_is_shown_alone() -> None:
    page = "前置きの文。" + "本文の文が続く。" * 12 + "最後の文。"
    units = split_units(page)
    start, end = passage(units, units[1])
    assert page[start:end] == units[1].text


def test_a_short_record_is_shown_whole() -> None:
    page = "概要\n\n場所：熊本県菊陽町\n内容：工場の新設\n時期：2024年"
    units = split_units(page)
    row = next(u for u in units if u.text.startswith("内容"))
    start, end = passage(units, row)
    assert page[start:end] == "場所：熊本県菊陽町\n内容：工場の新設\n時期：2024年"


def test_a_heading_brings_the_lines_it_introduces() -> None:
    page = "重要物資\n半導体、蓄電池、永久磁石などを指定した。\n\n（2）次の項目\n別の話。"
    units = split_units(page)
    assert is_heading(units[0]) and not is_heading(units[1])
    start, end = passage(units, units[0])
    assert page[start:end] == "重要物資\n半導体、蓄電池、永久磁石などを指定した。"


def test_bullets_bring_their_label_but_a_numbered_item_borrows_nothing_from_the_item_above() -> None:
    bullets = "中国の輸出管理\n信頼できない実体リスト\n\n- 中国版のエンティティリスト\n- 2020年に導入"
    units = split_units(bullets)
    start, end = passage(units, units[2])
    assert bullets[start:end].startswith("信頼できない実体リスト")
    items = "（20）基幹的広域防災拠点\n令和5年度予算額 | 122\n\n（21）「道の駅」の防災機能の強化\n防災機能強化を図る。"
    units = split_units(items)
    start, end = passage(units, units[2])
    assert items[start:end].startswith("（21）")
