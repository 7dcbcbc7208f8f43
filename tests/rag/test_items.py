"""Which numbered item a line stands under."""

from __future__ import annotations

from core.text import split_units
from rag.items import item_span, only_other_items_hold

PAGE = "（1）防災拠点\n① 維持管理\n予算額 | 136百万円\n（2）道の駅\n防災機能強化を図る。"


def test_an_item_runs_to_the_next_number_of_its_kind_and_keeps_its_sub_points() -> None:
    units = split_units(PAGE)
    assert item_span(units, 0) == (0, PAGE.index("（2）"))  # its ① sub-point does not end item （1）
    assert item_span(split_units("前文\n（1）項目"), 0) is None  # nothing numbered before it


def test_a_figure_counts_against_the_asked_item_only_when_it_stands_under_another() -> None:
    units = split_units(PAGE)
    row = (PAGE.index("予算額"), PAGE.index("（2）") - 1)
    assert only_other_items_hold(units, PAGE.index("（2）"), [row])
    assert not only_other_items_hold(units, 0, [row])  # asked about （1）: its own row
    assert not only_other_items_hold(units, PAGE.index("（2）"), [])  # no figure: other checks decide
