"""Choosing the list that answers a "what are the (N) ..." question among every retrieved page's lists.

``rag.lists`` finds the candidates on a page; this module scores them against the question (its
coverage of the header and the items, the asked-for size, how much they read like an enumeration).
"""

from __future__ import annotations

from collections.abc import Callable

from core.text import BULLET_RE
from rag.evidence import Evidence, Page, one_line
from rag.figure_notes import is_figure_note
from rag.intent import QuestionIntent
from rag.lists import enumeration_quality, list_candidates

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
                start = (header or items[0])[0]
                end = items[-1][1]
                lines = ((one_line(header[2]),) if header else ()) + tuple(
                    one_line(t) if BULLET_RE.match(t) else "・" + one_line(t) for _, _, t in items
                )
                best = (
                    score,
                    Evidence(
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
                    ),
                )
    if best is None or best[0] < LIST_MIN_SCORE:
        return None
    return best[1]
