"""Choosing the list that answers a "what are the (N) ..." question among every retrieved page's lists.

``rag.lists`` finds the candidates on a page; this module scores them against the question (its
coverage of the header and the items, the asked-for size, how much they read like an enumeration).
"""

from __future__ import annotations

from collections.abc import Callable

from core.text import BULLET_RE, normalize
from rag.evidence import Evidence, Page, one_line
from rag.figure_notes import is_figure_note
from rag.intent import QuestionIntent
from rag.lists import Span, enumeration_quality, introduced_items, list_candidates

LIST_MIN_SCORE = 0.3
MIN_ENUMERATION_QUALITY = 0.6


def best_list(pages: list[Page], coverage: Callable[[str], float], intent: QuestionIntent) -> Evidence | None:
    """The list that best answers a "what are the (N) ..." question, searched on every retrieved
    page: an outline (①②③… in order, wherever they stand on the page) or a run of short items.
    Its header (the line introducing it) and its items must match the question; a list of the
    asked-for size wins. An unnumbered run longer than asked for is cut after the line that
    introduces the asked-for items."""
    best: tuple[float, Evidence] | None = None
    for page in pages:
        for candidate in list_candidates(page.text):
            header, items = candidate.header, candidate.items
            if not intent.wants_source:
                items = [item for item in items if not is_figure_note(item[2])]
                if header and is_figure_note(header[2]):
                    header = None
            if len(items) < 2:
                continue
            if intent.count is not None and len(items) < intent.count:
                continue
            if intent.count is not None and not candidate.numbered and len(items) > intent.count:
                # the run may hold several lists: start after its best-matching line
                run = ([header] if header else []) + items
                covered = [coverage(t) for _, _, t in run]
                anchor = max(range(len(run) - intent.count), key=lambda i: covered[i])
                header, items = run[anchor], run[anchor + 1 : anchor + 1 + intent.count]
            head_cov = coverage(header[2]) if header else 0.0
            body_cov = coverage(" ".join(t for _, _, t in items))
            score = head_cov + 0.5 * body_cov + 0.2 / page.rank
            if intent.count is not None:
                score += 0.3 if len(items) == intent.count else 0.1
            if not candidate.numbered:
                quality = enumeration_quality(items)
                if quality < MIN_ENUMERATION_QUALITY:
                    continue
                score *= quality
            if best is None or score > best[0]:
                best = (score, _list_evidence(page, header, items, score))
    if best is None or best[0] < LIST_MIN_SCORE:
        return None
    return best[1]


def list_headed_by(page: Page, line_start: int, intent: QuestionIntent) -> Evidence | None:
    """The list a page's line introduces, when that line is the header of one: 「EVの電動化に必要な鉱物
    を教えて」 does not say it wants a list, but its best line 「自動車電動化で必要となる鉱物」 heads
    ①②, and the items are the answer. A line announcing bullets further down (「以下の事業を実施す
    る。」, each item followed by its description and budget rows) heads them too."""
    for candidate in list_candidates(page.text):
        header = candidate.header
        if header is None or not header[0] <= line_start < header[1]:
            continue
        items = [item for item in candidate.items if intent.wants_source or not is_figure_note(item[2])]
        if len(items) < 2 or not (
            candidate.numbered or enumeration_quality(items) >= MIN_ENUMERATION_QUALITY
        ):
            continue
        return _list_evidence(page, header, items, 0.0)
    announced = introduced_items(page.text, line_start)
    if announced is not None and announced.header is not None:
        return _list_evidence(page, announced.header, announced.items, 0.0)
    return None


def _list_evidence(page: Page, header: Span | None, items: list[Span], score: float) -> Evidence:
    start = (header or items[0])[0]
    end = items[-1][1]
    lines = ((one_line(header[2]),) if header else ()) + tuple(
        one_line(t) if BULLET_RE.match(t) else "・" + one_line(t) for _, _, t in items
    )
    return Evidence(
        page.doc_id,
        page.doc_title,
        page.doc_date,
        page.page,
        start,
        end,
        page.text[start:end],
        lines,
        score,
        is_list=True,
    )


def with_list(evidence: list[Evidence], block: Evidence, at: int) -> list[Evidence]:
    """The list placed at ``at``, and the passages it already holds left out."""
    inside = normalize(block.quote)
    kept = [e for e in evidence if normalize(e.quote) not in inside]
    kept.insert(min(at, len(kept)), block)
    return kept
