"""Questions the documents cannot answer because they never name the thing asked for.

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
from collections.abc import Callable, Sequence

from core.text import has_japanese
from rag.followups import topic_of
from rag.intent import QuestionIntent

# Words for parts of a document: a question names them, a page shows them without writing them.
DOCUMENT_PARTS = frozenset(
    {"グラフ", "図", "表", "図表", "チャート", "スライド", "ページ", "資料", "写真", "イラスト"}
)
_PHRASE_SEPARATOR = re.compile(r"の|における|に関する|についての|による")


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
