"""Which numbered item of a page a line stands under.

White papers and plans list their measures as numbered items, each with its own figures:

    （20）基幹的広域防災拠点の管理等 … 令和6年度予算額 | 136百万円
    （21）「道の駅」の防災機能の強化 … (no budget row)

A figure belongs to the item it stands under, never to the next one. 「道の駅の防災機能強化の予算は？」
matches item (21) best and the budget row of (20) well (令和6年度, 予算額); quoting both reads as
an answer the page does not give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from core.text import Unit
from rag.evidence import Evidence
from rag.lists import outline_number


def item_span(units: Sequence[Unit], offset: int) -> tuple[int, int] | None:
    """The span of the numbered item holding ``offset``: from its number to the next number of the
    same kind (a （1） item's ①② sub-points stay inside it). None when no number precedes it."""
    heads: list[tuple[int, str]] = []
    for unit in units:
        number = outline_number(unit.text)
        if number is not None:
            heads.append((unit.start, number[0]))
    before = [(start, kind) for start, kind in heads if start <= offset]
    if not before:
        return None
    start, kind = before[-1]
    later = [s for s, k in heads if s > start and k == kind]
    end = later[0] if later else (units[-1].end if units else start)
    return start, end


def only_other_items_hold(units: Sequence[Unit], asked_at: int, holding: Sequence[tuple[int, int]]) -> bool:
    """Do all the spans that hold the asked-for figure lie in numbered items other than the one at
    ``asked_at``, on the same page? False when the page has no numbered item there, or when no span
    holds the figure: other checks judge those."""
    asked = item_span(units, asked_at)
    if asked is None or not holding:
        return False
    return all(end <= asked[0] or start >= asked[1] for start, end in holding)


def figure_of_another_item(
    evidence: Sequence[Evidence],
    page_units: Mapping[tuple[str, int], Sequence[Unit]],
    gives: Callable[[str], bool],
) -> bool:
    """Is every quoted figure (``gives``: the quote states what is asked) from another numbered item
    of the page the first quote stands on? A figure on another page is left alone: no item
    structure tells whose it is."""
    if not evidence or gives(evidence[0].quote):
        return False
    top = evidence[0]
    holding = [e for e in evidence if gives(e.quote)]
    if any((e.doc_id, e.page) != (top.doc_id, top.page) for e in holding):
        return False
    units = page_units.get((top.doc_id, top.page), ())
    return only_other_items_hold(units, top.start, [(e.start, e.end) for e in holding])
