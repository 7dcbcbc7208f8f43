"""Questions the quoted evidence does not answer, however well its lines match.

``why_unanswered`` gathers the checks: a figure in the asked unit, a date, the asked item's own
figure, the year, the ordinal and the names the question gives must be on the quoted lines or
pages. The rest of this docstring is about the one check that reads the whole index: a thing the
documents never name.

「経済安全保障推進法に違反した場合の罰則ってどうなってる？」 asks for 罰則. Pages about the law match
it well, and the composer would quote them; but a corpus that never writes 罰則 holds no answer.
The asked-for thing is the head of the question's topic: the last phrase of 「…の罰則は？」 or
「…した場合の罰則って…」. When none of its words occurs anywhere in the index, the question is
refused whatever the pages' match.

Two kinds of question are left alone, because their head names the form of the answer rather than
its content: one that says how many items it wants (「3つのステップは？」: documents number their
steps instead of calling them steps), one that asks a date (「…の日付は？」: documents write the date,
not the word), and one about a part of the document itself (「…のグラフは何のデータに基づいている？」).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from core.text import Unit, has_japanese
from rag.coverage import TermGroup
from rag.evidence import Evidence
from rag.followups import topic_of
from rag.intent import QuestionIntent, gives_asked_type, states_unit
from rag.items import figure_of_another_item
from rag.names import acronyms, names_no_document_holds
from rag.ordinals import ordinals_named, versions_named
from rag.years import months_named, quoted_pages_name, years_named

# Words for parts of a document: a question names them, a page shows them without writing them.
DOCUMENT_PARTS = frozenset(
    {"グラフ", "図", "表", "図表", "チャート", "スライド", "ページ", "資料", "写真", "イラスト"}
)
_PHRASE_SEPARATOR = re.compile(r"(?<!も)の|における|に関する|についての|による")


def asked_thing(question: str) -> str:
    """The head of what a Japanese question asks about: 「…推進法の罰則」 → 「罰則」."""
    return _PHRASE_SEPARATOR.split(topic_of(question))[-1].strip(" 、,「」『』")


def unknown_asked_thing(
    question: str,
    intent: QuestionIntent,
    tokens: Callable[[str], Sequence[str]],
    known: Callable[[str], bool],
) -> str | None:
    """The asked-for thing when the index never mentions it (so nothing can answer), else None."""
    if not has_japanese(question) or intent.count is not None or intent.wants_date:
        return None
    thing = asked_thing(question)
    words = list(tokens(thing))
    if not words or any(w in DOCUMENT_PARTS for w in words):
        return None
    return thing if not any(known(w) for w in words) else None


@dataclass(frozen=True)
class IndexWords:
    """What the index tells about words, for the checks below: a line's tokens, whether any page
    holds a token, a question's proper nouns, whether a document holds a token."""

    tokens: Callable[[str], Sequence[str]]
    known: Callable[[str], bool] | None = None
    names: Callable[[str], Sequence[TermGroup]] | None = None
    document_holds: Callable[[str, str], bool] | None = None


def why_unanswered(
    question: str,
    intent: QuestionIntent,
    evidence: Sequence[Evidence],
    page_units: Mapping[tuple[str, int], Sequence[Unit]],
    page_text: Callable[[str, int], str | None],
    words: IndexWords,
    topic: str | None = None,
) -> str | None:
    """Why the quoted evidence, however well it matches, does not answer the question; None when
    nothing says so. Each reason is a kind of thing the question asks that no quoted line or page
    gives. ``topic``: set for a follow-up (see rag/followups.py)."""
    if intent.unit is not None and not any(states_unit(e.quote, intent.unit) for e in evidence):
        return f"no figure in {intent.unit}"  # 「何トン？」 answered by lines that give no tonnes
    dates_only = replace(intent, wants_number=False, unit=None)
    if intent.wants_date and not any(gives_asked_type(e.quote, dates_only, question) for e in evidence):
        return "no date"  # 「施行日はいつ？」 answered by lines that give no date
    asks_figure = intent.wants_number or intent.wants_date or intent.unit is not None
    if asks_figure and figure_of_another_item(
        evidence, page_units, lambda text: gives_asked_type(text, intent, question)
    ):
        return "the figure of another item"  # the budget row quoted stands under the previous item
    if intent.years and not quoted_pages_name(evidence, page_text, intent.years, years_named):
        return "pages of other years"  # "FY2024 budget" asked of pages of other years only
    if intent.months and not quoted_pages_name(evidence, page_text, intent.months, months_named):
        return "pages of other months"  # 「2025年4月に始めた規制」 asked of pages that end in 2024
    if intent.ordinals and not quoted_pages_name(evidence, page_text, intent.ordinals, ordinals_named):
        return "pages of other ordinals"  # 「熊本第2工場はいつ稼働？」 asked of pages about the first plant
    if intent.versions and not quoted_pages_name(evidence, page_text, intent.versions, versions_named):
        return "pages of other editions"  # 「第1.1版では何が変わった？」 asked of the pages of 第1.0版
    if words.names is not None and words.document_holds is not None:
        named = list(words.names(question))
        if words.known is not None and has_japanese(question):
            named += [group for group in acronyms(question) if words.known(group[0])]
        missing = names_no_document_holds(named, (e.doc_id for e in evidence), words.document_holds)
        if missing:
            return "documents that never name " + "・".join(missing)  # 「北海道千歳工場への支援額」
    # 「…の罰則は？」 where no document ever writes 罰則. Not for a follow-up: its few words of its
    # own (「担当は？」) are often not the documents' words, and its topic carries the question.
    if topic is None and words.known is not None:
        thing = unknown_asked_thing(question, intent, words.tokens, words.known)
        if thing is not None:
            return f"nothing in the documents is a {thing}"
    return None
