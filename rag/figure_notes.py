"""Lines that stand beside a figure instead of saying something: source attributions
(出典：（株）東芝, (出所) WTO, Source: …) and image captions (【ペロブスカイト太陽電池イメージ】,
(千葉県で…製造している様子)).

Slides carry many of them, and they share the words of the slide's topic, so they score like
content. Shown as an answer (a list of photo credits for "what are the 12 materials?") they only
bury it; the composer keeps them out unless the question asks where something comes from
(QuestionIntent.wants_source).
"""

from __future__ import annotations

import re

from core.text import normalize

_OPEN, _CLOSE = r"[(（【\[〔]", r"[)）】\]〕]"
_ATTRIBUTION_RE = re.compile(
    rf"^[・•\-–\s]*{_OPEN}?\s*(?:資料)?(?:出典|出所|写真提供|画像提供|source|sources|photo)\s*(?:{_CLOSE}|[:：]|$)",
    re.IGNORECASE,
)
_CAPTION_RE = re.compile(rf"(?:イメージ図?|様子|写真)\s*{_CLOSE}?$")
CAPTION_CHARS = 40  # longer lines ending in イメージ are sentences about an image, not its label


def is_figure_note(line: str) -> bool:
    text = normalize(line, keep_spaces=True).strip()
    if _ATTRIBUTION_RE.match(text):
        return True
    return len(text) <= CAPTION_CHARS and bool(_CAPTION_RE.search(text))
