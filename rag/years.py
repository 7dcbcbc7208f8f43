"""The years a text names, whatever calendar it writes them in.

Japanese documents date their figures by era and fiscal year (令和6年度予算額, 平成25年3月8日);
staff and English readers ask by the Western year ("FY2024", 「2024年度の予算」). A question that names
a year asks about that year: the 令和5年度 row of a budget table does not answer "FY2024", and pages
that name no such year do not answer it (「2024年にまとめた要綱では…」 asked of a 2023 draft). Both
spellings are read here as one number, the Western year (a fiscal year as the year it starts in,
the way 令和6年度 is 2024年度).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from core.text import normalize
from rag.evidence import Evidence

Named = TypeVar("Named", bound=Hashable)

_ERA_START = {"令和": 2018, "平成": 1988, "昭和": 1925}
_ERA_YEAR = re.compile(r"(令和|平成|昭和)(元|\d{1,2})年")
_WESTERN_YEAR = re.compile(r"(?<![\d.,])((?:19|20)\d{2})(?![\d.,]|%|万|億|兆|円|人|件|社|か所|カ所|ヶ所)")
# A slide's 「24年9月1日施行」: a two-digit year, read as one only when a month follows it.
_SHORT_YEAR = re.compile(r"(?<![\d.,])(?<!令和)(?<!平成)(?<!昭和)(\d{2})年\d{1,2}月")


def years_named(text: str) -> frozenset[int]:
    """The Western years of every year the text names: 令和6年度 → 2024, FY2024 → 2024."""
    text = normalize(text)
    years = {
        _ERA_START[era] + (1 if number == "元" else int(number)) for era, number in _ERA_YEAR.findall(text)
    }
    years.update(int(y) for y in _WESTERN_YEAR.findall(text))
    years.update(2000 + int(y) for y in _SHORT_YEAR.findall(text))
    return frozenset(years)


_ERA_MONTH = re.compile(r"(令和|平成|昭和)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月")
_WESTERN_MONTH = re.compile(r"(?<![\d.,])((?:19|20)?\d{2})\s*年\s*(\d{1,2})\s*月")
_ENGLISH_MONTHS = (
    "january february march april may june july august september october november december".split()
)
_ENGLISH_MONTH = re.compile(r"\b(" + "|".join(_ENGLISH_MONTHS) + r")\s+(?:\d{1,2},?\s+)?((?:19|20)\d{2})\b")


def months_named(text: str) -> frozenset[int]:
    """Every month of a year the text names, as year * 100 + month: 2025年4月, 令和6年1月, 24年9月
    (a slide's two-digit year) and "April 2025" are 202504, 202401, 202409, 202504."""
    text = normalize(text, keep_spaces=True)
    months = {
        (_ERA_START[era] + (1 if number == "元" else int(number))) * 100 + int(month)
        for era, number, month in _ERA_MONTH.findall(text)
    }
    for year, month in _WESTERN_MONTH.findall(text):
        months.add((int(year) if len(year) == 4 else 2000 + int(year)) * 100 + int(month))
    for name, year in _ENGLISH_MONTH.findall(text.lower()):
        months.add(int(year) * 100 + _ENGLISH_MONTHS.index(name) + 1)
    return frozenset(m for m in months if 1 <= m % 100 <= 12)


def quoted_pages_name(
    evidence: Sequence[Evidence],
    page_text: Callable[[str, int], str | None],
    wanted: frozenset[Named],
    named: Callable[[str], frozenset[Named]],
) -> bool:
    """Does a page the answer quotes name one of the wanted years (months, ordinals, editions:
    ``named`` reads them from a text)? Its title or a table header may carry the year for the
    figure quoted below it, so the whole page counts, not only the quoted lines."""
    cited = {(e.doc_id, e.page) for e in evidence}
    return any(wanted & named(page_text(doc, page) or "") for doc, page in cited)


# A line that is a date and nothing else: 「平成２５年３月８日」, 「（令和6年4月）」, 「令和４年11月版」.
# On a document's first page it is the date the document was issued.
_DATE_LINE = re.compile(
    r"[(（]?(?:(?:令和|平成|昭和)(?:元|\d{1,2})|(?:19|20)\d{2})年\d{1,2}月(?:\d{1,2}日)?"
    r"(?:付け?|現在|版|策定|公表|改定|改訂)?[)）]?"
)


def is_date_line(text: str) -> bool:
    return _DATE_LINE.fullmatch(normalize(text)) is not None
