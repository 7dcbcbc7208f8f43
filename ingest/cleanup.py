"""Clean-up of a page's rebuilt paragraphs after PDF extraction: readable, quotable text."""

from __future__ import annotations

import re

from core.text import JA_CHAR, standard_characters

_PRIVATE_USE_RE = re.compile("[\ue000-\uf8ff]")
# Control and zero-width characters some producers leave in the text layer (a backspace after
# 「予算額」 in the white paper): invisible on the page, but they break matching and quotes.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff]")
# Ruby that extraction puts inline comes in half-width brackets (切り拓(ひら)く); a reading the
# author wrote into the text is set in full-width ones (強靱（きょうじん）化) and is kept.
_INLINE_RUBY_RE = re.compile(r"(?<=[\u4e00-\u9fff])\([\u3041-\u309f]{1,5}\)(?=[\u3041-\u309f\u4e00-\u9fff])")


def clean_line(text: str) -> str:
    """One rebuilt paragraph of a page, made readable and quotable.

    Symbol-font bullets (Wingdings ``\uf06c``, check marks ``\uf0fc``) arrive as private-use
    characters: at the start of a line they are the bullet ・, elsewhere decoration. Extractors space
    out Japanese (``事 務 連 絡``, ``AI 制度`` is kept: a space between Latin and Japanese is how
    Word sets it; 「令和 6 年」 is 令和6年). Ruby that a PDF typesets inline (``切り拓(ひら)く``) is dropped."""
    text = _CONTROL_RE.sub("", standard_characters(text.replace("\t", " ").replace("\u3000", " ")))
    text = text.strip()
    text = re.sub(r"^(?:[\ue000-\uf8ff]\s*)+", "・", text)
    text = _PRIVATE_USE_RE.sub("", text)
    text = re.sub(rf"(?<={JA_CHAR}) +(?={JA_CHAR})", "", text)
    text = re.sub(rf"(?<={JA_CHAR}) +(?=[0-9])|(?<=[0-9]) +(?={JA_CHAR})", "", text)  # 令和 6 年 → 令和6年
    text = _INLINE_RUBY_RE.sub("", text)
    return re.sub(r" {2,}", " ", text).strip()
