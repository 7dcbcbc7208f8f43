"""Places, people and other names a question asks about, and whether the quoted documents name them.

「ラピダスの北海道千歳工場に対する政府支援の累計額は？」 asked of a deck that never writes 北海道 or
千歳: its pages about Rapidus match well, and the composer would quote them, but a question about a
place, a person or a named event that the quoted documents never mention is about something they
do not cover. Like a year no quoted page names (rag/years.py), such a name means no answer.

The whole document counts, not only the quoted page: a document about 能登半島地震 need not repeat
the name on every page. Only the names the morphological dictionary knows as proper nouns are
checked; 経産省 and 経済産業省 are common nouns to it, and abbreviations like that are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from core.text import normalize
from rag.coverage import TermGroup

_ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{1,}(?![A-Za-z0-9])")

# Era names are proper nouns to the dictionary; the years they date are rag/years.py's to check.
ERA_NAMES = frozenset({"令和", "平成", "昭和"})


def names_no_document_holds(
    names: Sequence[TermGroup], doc_ids: Iterable[str], holds: Callable[[str, str], bool]
) -> list[str]:
    """The names (a proper noun's group: the word, then its parts) that none of the documents
    holds, either whole or by all of its parts (東京都 by 東京 and 都)."""
    docs = list(dict.fromkeys(doc_ids))
    missing = []
    for group in names:
        if not group or group[0] in ERA_NAMES:
            continue
        parts = group[1:]
        if not any(
            holds(doc, group[0]) or (parts and all(holds(doc, part) for part in parts)) for doc in docs
        ):
            missing.append(group[0])
    return missing


def acronyms(question: str) -> list[TermGroup]:
    """Names written in capitals (AISI, SUMCO, MLETR), as index tokens (lower case). Checked only
    where the index knows them: MHLW asked of pages that write 厚生労働省 says nothing."""
    found = _ACRONYM.findall(normalize(question, keep_case=True, keep_spaces=True))
    return [(word.lower(),) for word in dict.fromkeys(found)]
