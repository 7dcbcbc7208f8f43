"""Short forms staff type for the names documents write in full, and back.

「パブコメっていつまで？」 asks about 「パブリック・コメント」; 「経産省の予算」 about 経済産業省, which a
slide may in turn write 経産省. The keyword index matches words, not meanings, so a question's
short form (or full form) also searches for the other. The table holds the central government's
own short names and a few words of administrative Japanese, nothing specific to a document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rag.coverage import TermGroup

_PAIRS = {
    "経産省": "経済産業省",
    "厚労省": "厚生労働省",
    "文科省": "文部科学省",
    "国交省": "国土交通省",
    "農水省": "農林水産省",
    "デジ庁": "デジタル庁",
    "規制委": "原子力規制委員会",
    "公取委": "公正取引委員会",
    "パブコメ": "パブリックコメント",
    "経済安保": "経済安全保障",
    "安保": "安全保障",
    "補正": "補正予算",
}
FULL_FORMS = dict(_PAIRS)
SHORT_FORMS = {full: short for short, full in FULL_FORMS.items()}


def with_other_forms(
    groups: Sequence[TermGroup], term_groups: Callable[[str], list[TermGroup]]
) -> list[TermGroup]:
    """Each group whose word has another form gets that form's tokens as alternatives
    (パブコメ → パブコメ, パブリックコメント, パブリック, コメント); the others are kept as they are."""
    out = []
    for group in groups:
        other = (FULL_FORMS.get(group[0]) or SHORT_FORMS.get(group[0])) if group else None
        if other is None:
            out.append(group)
            continue
        extra = [t for g in term_groups(other) for t in g]
        out.append((group[0], *dict.fromkeys(t for t in (*group[1:], *extra) if t != group[0])))
    return out
