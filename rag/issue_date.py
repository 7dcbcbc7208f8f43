"""The date a document bears: 「この事務連絡っていつ出た？」 asks it, not the dates its text mentions."""

from __future__ import annotations

from collections.abc import Callable

from core.text import normalize, split_units
from rag.evidence import Evidence, Page
from rag.intent import ANY_DOCUMENT
from rag.years import is_date_line

FIRST_PAGE_HEAD = 8  # lines of a first page where its date may stand (title, issuer, date)


def add_issue_date(
    evidence: list[Evidence],
    seen: set[str],
    kinds: frozenset[str],
    page_text: Callable[[str, int], str | None],
    add_unit: Callable[..., bool],
) -> None:
    """「この事務連絡っていつ出た？」: a document's own date stands alone on a line of its first page
    (「平成２５年３月８日」, 「（令和6年4月）」), not among the dates its text mentions. When the
    document first quoted is the kind asked (named in its title or above that line), the line
    goes first."""
    top = evidence[0]
    text = page_text(top.doc_id, 1)
    if text is None:
        return
    units = split_units(text)
    at = next((i for i, unit in enumerate(units[:FIRST_PAGE_HEAD]) if is_date_line(unit.text)), None)
    if at is None:
        return
    named = normalize(top.doc_title + "".join(unit.text for unit in units[:at]))
    if ANY_DOCUMENT not in kinds and not any(kind in named for kind in kinds):
        return
    unit = units[at]
    if not any(_holds(e, top.doc_id, unit.start) for e in evidence):
        page = Page(top.doc_id, top.doc_title, top.doc_date, 1, text, rank=0, chunk_spans=[], units=units)
        add_unit(evidence, seen, page, unit, top.score, span=(unit.start, unit.end))
    at_shown = next((i for i, e in enumerate(evidence) if _holds(e, top.doc_id, unit.start)), None)
    if at_shown is not None:
        evidence.insert(0, evidence.pop(at_shown))


def _holds(e: Evidence, doc_id: str, offset: int) -> bool:
    """Is the first-page offset inside this quoted passage?"""
    return (e.doc_id, e.page) == (doc_id, 1) and e.start <= offset < e.end
