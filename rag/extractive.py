"""The extractive composer: an answer made only of the documents' own sentences and list lines.

No text is generated. The composer picks, from the pages of the best
retrieved chunks, the units (sentences, bullet lines) that best match the
question, puts the most direct one first (the one holding the asked-for
number, date or name), and gives a whole list when the question asks for one.
Every line carries its citation marker, and every quote is an exact substring
of the cited page's text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from core.text import CELL_SEPARATOR, Unit, normalize, split_units
from rag.answerability import IndexWords, why_unanswered
from rag.confidence import evidence_confidence
from rag.coverage import Coverage, TermGroup
from rag.evidence import Evidence, Page, one_line
from rag.figure_notes import is_figure_note
from rag.followups import topic_of
from rag.intent import (
    QuestionIntent,
    gives_asked_type,
    holds_asked_type,
    question_intent,
    stated_count,
)
from rag.issue_date import add_issue_date
from rag.list_answer import best_list, list_headed_by, with_list
from rag.lists import outline_number, points_forward
from rag.passages import RECORD_LINE_CHARS, RECORD_LINES, is_heading, passage
from rag.retrieval import RankedChunk
from rag.years import years_named

MAX_DIRECT = 3
KEEP_RATIO = 0.6  # further direct lines must score at least this share of the best one
UNITS_TO_EMBED = 12
W_LEX, W_CTX, W_SIM = 0.5, 0.3, 0.6
W_PAGE, W_CHUNK, W_TYPE = 0.2, 0.1, 0.12
W_OTHER_YEAR = 0.12  # a line naming only years the question does not ask about (chosen on tune)


@dataclass
class Composition:
    evidence: list[Evidence]
    confidence: float


@dataclass
class _Candidate:
    page: Page
    unit: Unit
    lex: float  # IDF-weighted share of the question's tokens found in the unit
    ctx: float  # the same, counting the page title as part of the unit
    prior: float
    similarity: float = 0.0
    typed: bool = False  # holds the kind of thing asked for (a date, a number)

    @property
    def base(self) -> float:
        return self._penalised(W_LEX * self.lex + W_CTX * self.ctx + self.prior)

    @property
    def score(self) -> float:
        return self._penalised(W_LEX * self.lex + W_CTX * self.ctx + self.prior + W_SIM * self.similarity)

    def _penalised(self, value: float) -> float:
        if self.unit.line == 0 and not self.typed:  # a page title is context, unless it holds what is asked
            value *= 0.5
        if len(normalize(self.unit.text)) < 6:
            value *= 0.5
        return value


class ExtractiveComposer:
    """Scores units of the top pages against the question and assembles cited evidence."""

    def __init__(
        self,
        tokens: Callable[[str], Sequence[str]],
        query_groups: Callable[[str], list[TermGroup]],
        idf: Callable[[str], float],
        unit_similarity: Callable[[str, list[str]], list[float]] | None = None,
        *,
        known: Callable[[str], bool] | None = None,
        names: Callable[[str], Sequence[TermGroup]] | None = None,
        document_holds: Callable[[str, str], bool] | None = None,
        max_pages: int = 4,
    ):
        self._tokens = tokens
        self._query_groups = query_groups
        self._idf = idf
        self._unit_similarity = unit_similarity
        self._words = IndexWords(tokens, known, names, document_holds)
        self._max_pages = max_pages

    # -------------------------------------------------------------- scoring
    def compose(
        self,
        question: str,
        ranked: Sequence[RankedChunk],
        page_text: Callable[[str, int], str | None],
        *,
        topic: str | None = None,
    ) -> Composition:
        """``topic``: what a follow-up was understood to be about. Its lines are chosen by what it
        asks, unless none of its words is on the pages: 「担当は？」 about N-net is answered by
        「文部科学省においては、…N-netを構築」, which holds the topic, not the word 担当."""
        intent = question_intent(question)
        pages = self._pages(ranked, page_text)
        if not pages:
            return Composition([], 0.0)
        cover = Coverage(self._query_groups(question), self._idf)
        if topic is not None and not any(
            cover(set(self._tokens(unit.text))) for page in pages for unit in page.units
        ):
            # none of the follow-up's own words is on its pages: its topic chooses the lines
            cover = Coverage(self._query_groups(f"{topic} {question}"), self._idf)

        candidates: list[_Candidate] = []
        for page in pages:
            title_tokens = set(self._tokens(page.units[0].text)) if page.units else set()
            # The heading a unit stands under (【甲案】, ⑴ 「支配」の定義); a table's rows stand under its
            # first row, the one naming the columns (業種 | 資本金の額 | 労働者の数).
            label_tokens: set[str] = set()
            in_table = False
            for unit in page.units:
                row = CELL_SEPARATOR in unit.text
                if unit.line > 0 and is_heading(unit) and not (row and in_table):
                    label_tokens = set(self._tokens(unit.text))
                in_table = row
                if is_figure_note(unit.text) and not intent.wants_source:
                    continue
                tokens = set(self._tokens(unit.text))
                lex = cover(tokens)
                ctx = cover(tokens | title_tokens | label_tokens)
                candidates.append(
                    _Candidate(
                        page,
                        unit,
                        lex,
                        ctx,
                        self._prior(unit, page, intent),
                        typed=holds_asked_type(unit.text, intent),
                    )
                )
        if not candidates:
            return Composition([], 0.0)
        candidates.sort(key=lambda c: -c.base)
        self._add_similarity(question, candidates[:UNITS_TO_EMBED])
        candidates.sort(key=lambda c: -c.score)

        best = candidates[0]
        evidence: list[Evidence] = []
        seen: set[str] = set()
        for cand in candidates:
            if len(evidence) >= MAX_DIRECT:
                break
            if evidence and cand.score < KEEP_RATIO * best.score:
                break
            if self._add_unit(evidence, seen, cand.page, cand.unit, cand.score):
                self._add_footnote(evidence, seen, cand.page, cand.unit, cand.score)

        self._complete_asked_type(evidence, seen, candidates, intent, question)
        if intent.issued_document and evidence:
            add_issue_date(evidence, seen, intent.issued_document, page_text, self._add_unit)

        may_state_count = intent.count is None and not (
            intent.wants_number or intent.wants_date or intent.english
        )
        if intent.wants_list or may_state_count:  # only these read every retrieved page
            every_page = self._pages(ranked, page_text, limit=None)
            if may_state_count:
                intent = self._count_from_documents(evidence, seen, every_page, intent, question, best.score)
            if intent.wants_list:
                block = best_list(every_page, lambda text: self._coverage(text, cover), intent)
                if block is not None:
                    evidence = with_list(evidence, block, 1 if evidence else 0)
        if not (intent.wants_list or intent.wants_number or intent.wants_date or intent.unit is not None):
            block = list_headed_by(best.page, best.unit.start, intent)  # its best line heads a list
            if block is not None:
                evidence = with_list(evidence, block, 0)
        if not any(e.is_list for e in evidence):
            evidence = self._with_announced_list(evidence, candidates, intent)

        dense_top = max((c.dense_similarity or 0.0) for c in ranked) if ranked else 0.0
        confidence = evidence_confidence(best.ctx, best.similarity, best.unit.text, dense_top, intent)
        page_units = {(c.page.doc_id, c.page.page): c.page.units for c in candidates}
        if why_unanswered(question, intent, evidence, page_units, page_text, self._words, topic):
            confidence = 0.0  # the best lines match, but none gives what the question asks
        return Composition(evidence, confidence)

    @staticmethod
    def _with_announced_list(
        evidence: list[Evidence], candidates: list[_Candidate], intent: QuestionIntent
    ) -> list[Evidence]:
        """A quoted line that announces what follows (「絶対的必要記載事項は次のとおりです。」) is
        no answer without the items it announces: the first such line is quoted with its list."""
        pages = {(c.page.doc_id, c.page.page): c.page for c in candidates}
        for at, e in enumerate(evidence):
            last = e.quote.rstrip()
            line_start = e.start + last.rfind("\n") + 1
            page = pages.get((e.doc_id, e.page))
            if page is None or not points_forward(last[line_start - e.start :]):
                continue
            block = list_headed_by(page, line_start, intent)
            if block is not None:
                return with_list(evidence, block, at)
        return evidence

    def _pages(
        self,
        ranked: Sequence[RankedChunk],
        page_text: Callable[[str, int], str | None],
        limit: int | None = -1,
    ) -> list[Page]:
        limit = self._max_pages if limit == -1 else limit
        pages: dict[tuple[str, int], Page] = {}
        for rank, chunk in enumerate(ranked, start=1):
            key = (chunk.doc_id, chunk.page)
            if key not in pages:
                if limit is not None and len(pages) >= limit:
                    continue
                text = page_text(chunk.doc_id, chunk.page)
                if text is None:
                    continue
                pages[key] = Page(
                    chunk.doc_id,
                    chunk.doc_title,
                    chunk.doc_date,
                    chunk.page,
                    text,
                    rank=len(pages) + 1,
                    chunk_spans=[],
                    units=split_units(text),
                )
            pages[key].chunk_spans.append((chunk.start, chunk.end, rank))
        return list(pages.values())

    @staticmethod
    def _prior(unit: Unit, page: Page, intent: QuestionIntent) -> float:
        """What we know of a unit before reading it: where it was retrieved, and whether it holds
        the kind of thing asked for (a number, a date)."""
        chunk_rank = min((r for s, e, r in page.chunk_spans if s <= unit.start < e), default=None)
        prior = W_PAGE / page.rank + (W_CHUNK / chunk_rank if chunk_rank else 0.0)
        if holds_asked_type(unit.text, intent):
            prior += W_TYPE
        named = years_named(unit.text) if intent.years else frozenset()
        if named and not named & intent.years:
            prior -= W_OTHER_YEAR  # the 令和5年度 row when 令和6年度 is asked
        return prior

    def _add_similarity(self, question: str, candidates: list[_Candidate]) -> None:
        """The embedder reads the best few units: it catches paraphrase, and it is all an English
        question has against Japanese pages."""
        if self._unit_similarity is None or not candidates:
            return
        sims = self._unit_similarity(question, [c.unit.text for c in candidates])
        for cand, sim in zip(candidates, sims):
            cand.similarity = max(0.0, sim)

    def _coverage(self, text: str, cover: Coverage) -> float:
        return cover(set(self._tokens(text)))

    # -------------------------------------------------------------- assembling
    @staticmethod
    def _add_unit(
        evidence: list[Evidence],
        seen: set[str],
        page: Page,
        unit: Unit,
        score: float,
        span: tuple[int, int] | None = None,
    ) -> bool:
        """Add the unit as its passage (or as ``span``); a passage already shown, or inside one
        shown, is skipped, and one that contains an earlier passage replaces it."""
        start, end = span or passage(page.units, unit)
        quote = page.text[start:end]
        key = normalize(quote)
        if any(key in s for s in seen):
            return False
        for ev in evidence:  # overlapping passages of one page: the first shown is enough
            if (ev.doc_id, ev.page) == (page.doc_id, page.page) and min(end, ev.end) - max(
                start, ev.start
            ) > 0.5 * (end - start):
                return False
        shown = [one_line(line) for line in quote.split("\n") if line.strip()]
        best_line = one_line(page.text[page.text.rfind("\n", 0, unit.start) + 1 : unit.end])
        if not is_figure_note(best_line):  # a caption's credit line is no part of an answer
            shown = [line for line in shown if not is_figure_note(line)] or shown
        direct = next((i for i, line in enumerate(shown) if best_line and best_line in line), 0)
        lines = (shown[direct], *shown[:direct], *shown[direct + 1 :])  # the most direct line first
        new = Evidence(page.doc_id, page.doc_title, page.doc_date, page.page, start, end, quote, lines, score)
        for i, old in enumerate(evidence):
            if normalize(old.quote) in key:
                seen.discard(normalize(old.quote))
                evidence[i] = new
                seen.add(key)
                return True
        seen.add(key)
        evidence.append(new)
        return True

    def _complete_asked_type(
        self,
        evidence: list[Evidence],
        seen: set[str],
        candidates: list[_Candidate],
        intent: QuestionIntent,
        question: str,
    ) -> None:
        """A "how much" or "when" question whose first passage names the thing but not the figure:
        the figure usually stands right after it (an item's 予算額 rows, a record's 日付 line). The
        nearest following unit that holds the asked-for type, before the next numbered item, goes
        first."""
        if not (intent.wants_number or intent.wants_date or intent.unit is not None) or not evidence:
            return
        if gives_asked_type(evidence[0].quote, intent, question):
            return
        top = evidence[0]
        by_unit = {(id(c.page), c.unit.start): c for c in candidates}
        page = next(c.page for c in candidates if (c.page.doc_id, c.page.page) == (top.doc_id, top.page))
        following = [u for u in page.units if u.start >= top.end][:RECORD_LINES]
        for unit in following:
            if outline_number(unit.text) is not None:  # the next item of an outline: another thing's figure
                return
            if gives_asked_type(unit.text, intent, question):
                cand = by_unit.get((id(page), unit.start))
                score = cand.score if cand else top.score
                rows = [u for u in following if u.start >= unit.start and u.paragraph == unit.paragraph]
                end = unit.end
                for row in rows[1:]:  # the record's other rows (令和5年度予算額 under 令和6年度予算額)
                    if len(row.text) > RECORD_LINE_CHARS or outline_number(row.text) is not None:
                        break
                    end = row.end
                shown = next(
                    (
                        i
                        for i, e in enumerate(evidence)
                        if (e.doc_id, e.page) == (page.doc_id, page.page) and e.start <= unit.start < e.end
                    ),
                    None,
                )
                if shown is not None:  # already quoted further down: it answers, so it goes first
                    evidence.insert(0, evidence.pop(shown))
                    return
                before = len(evidence)
                if (
                    self._add_unit(evidence, seen, page, unit, score, span=(unit.start, end))
                    and len(evidence) > before
                ):
                    evidence.insert(0, evidence.pop())
                return

    def _count_from_documents(
        self,
        evidence: list[Evidence],
        seen: set[str],
        pages: list[Page],
        intent: QuestionIntent,
        question: str,
        score: float,
    ) -> QuestionIntent:
        """「特定重要物資は何？」 names no number, but the documents say 「12の特定重要物資を指定」: the
        line that states how many there are answers first, and the list of that many is looked for
        as if the question had asked for twelve. The best-ranked page that states a count wins."""
        subject = topic_of(question)
        for page in pages:
            for unit in page.units:
                count = stated_count(subject, unit.text)
                if count is None:
                    continue
                before = len(evidence)
                if self._add_unit(evidence, seen, page, unit, score) and len(evidence) > before:
                    evidence.insert(0, evidence.pop())
                    self._add_footnote(evidence, seen, page, unit, score * 0.99)
                return replace(intent, count=count, wants_list=True)
        return intent

    def _add_footnote(
        self, evidence: list[Evidence], seen: set[str], page: Page, unit: Unit, score: float
    ) -> None:
        """A line pointing at a footnote (※) is incomplete without the note that follows it."""
        if "※" not in unit.text.lstrip("※"):
            return
        following = [u for u in page.units if u.start > unit.start]
        if following and following[0].text.lstrip().startswith("※"):
            self._add_unit(evidence, seen, page, following[0], score * 0.99)
