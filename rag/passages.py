"""How much of a page to show for one chosen unit: the unit, its short paragraph, or a heading
with the lines it introduces."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.text import CELL_SEPARATOR, Unit, normalize
from rag.lists import outline_number

RECORD_LINES, RECORD_LINE_CHARS = 6, 90  # a paragraph of a few short lines is shown whole
HEADING_CHARS, HEADING_FOLLOW = 40, 3  # a heading this short brings up to this many following units
# A line that opens by pointing back (「これに伴い、…」「⇒ …との指摘」) says what follows from the line
# before it; alone, it gives a conclusion without its reason.
_POINTS_BACK = re.compile(
    r"^[-・•●◆■□○◇※\s]*(?:⇒|→|これに伴い|これにより|このため|そのため|このように|こうした中|こうした|"
    r"その結果|したがって|従って|以上の|以上から|それにより|それに伴い|これら|上記)"
)

# A line wholly in brackets under another (「令和6年度予算額 | 872百万円」 then
# 「（UNDRR：627百万円、OCHA：72百万円、その他173百万円）」) breaks down or qualifies the line above it.
_ASIDE = re.compile(r"^[（(][^（）()]+[）)]$")

# A sentence that goes on with the same account: 「死因の約4割が「圧死」…。」「また、約1割が「低体温症」…」.
_GOES_ON = re.compile(r"^(?:また|さらに|加えて|このほか|なお|この場合において|この場合)、")


def is_heading(unit: Unit) -> bool:
    text = normalize(unit.text)
    return len(text) <= HEADING_CHARS and not text.endswith(("。", "、"))


def passage(units: Sequence[Unit], unit: Unit) -> tuple[int, int]:
    """The span to show for a unit: a short paragraph is shown whole (a record such as
    場所／内容 lines, or a caption with its source), a line that points back brings the line it
    follows from, and a heading brings the lines it introduces."""
    if unit.line > 0:
        paragraph = [u for u in units if u.paragraph == unit.paragraph]
        if 1 < len(paragraph) <= RECORD_LINES and all(len(u.text) <= RECORD_LINE_CHARS for u in paragraph):
            first = paragraph[0]
            before = [u for u in units if u.end <= first.start]
            if (
                first.is_list_item
                and outline_number(first.text) is None  # （21） heads its own item: no label borrowed
                and before
                and before[-1].line > 0
                and is_heading(before[-1])
                and CELL_SEPARATOR not in before[-1].text  # the previous item's table row is no label
            ):
                first = before[-1]  # the label the bullets describe (信頼できない実体リスト / - 中国版…)
            return first.start, paragraph[-1].end
    aside = bool(_ASIDE.match(normalize(unit.text))) and outline_number(unit.text) is None
    if aside or _POINTS_BACK.match(unit.text):
        before = [u for u in units if u.end <= unit.start]
        # a breakdown qualifies even a short row above it; a conclusion follows from a sentence
        if before and before[-1].line > 0 and (aside or not is_heading(before[-1])):
            line = [u for u in before if u.line == before[-1].line]  # the whole line it follows from
            return line[0].start, unit.end
    if is_heading(unit):
        following = [u for u in units if u.start > unit.start]
        end, added = unit.end, 0
        for nxt in following[:HEADING_FOLLOW]:
            if nxt.paragraph != unit.paragraph and outline_number(nxt.text) is not None:
                break  # the next numbered item begins: it is not what this heading introduces
            end = nxt.end
            added += len(normalize(nxt.text))
            if added >= 30 or not is_heading(nxt):
                break
        return unit.start, end
    following = [u for u in units if u.start >= unit.end]
    if following and following[0].paragraph == unit.paragraph and _GOES_ON.match(following[0].text):
        return unit.start, following[0].end  # 「…が2割。」 then 「また、約1割が…」: the same list goes on
    return unit.start, unit.end
