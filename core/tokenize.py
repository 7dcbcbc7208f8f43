"""Japanese (and English) tokens for keyword search.

SudachiPy in mode C gives whole compounds (経済安全保障推進法 stays findable as
one term); the mode-A parts of a compound are added too, so a query naming only
a part still matches. Tokens are normalised forms; particles, auxiliaries,
symbols and white space are dropped. A separate pass keeps numbers with their
units and ASCII identifiers whole (``2nm``, ``55条の8``, ``ppr-9087``), which the
morphological analyser would split. ASCII words keep their spelling: Sudachi
would turn ``What`` into ``ホワット``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from core.text import has_japanese, normalize

TOKENIZER_VERSION = "sudachi-c+a-v3"

_DROP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:[\-./][a-z0-9]+)*")
_NUMBER_WITH_UNIT = re.compile(
    r"\d+(?:[.,]\d+)*(?:%|[a-z]+|(?:条の\d+)|[条兆億万千円年月日社人件倍ヶカ所種類項目点割]+)"
)
_MAX_SUDACHI_BYTES = 40_000  # Sudachi rejects input over ~49 KB

ENGLISH_STOPWORDS = frozenset(
    """
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
how i if in into is it its itself just me more most my no nor not now of off on once only or other our out over
own same she should so some such than that the their them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your japan japanese
does did tell give list name please much many
""".split()
)


# Function words Sudachi tags as content words; they only add noise to questions. について and における
# come out as the verbs つく and おく in their normalised form.
JAPANESE_STOPWORDS = frozenset(
    """
為る 有る 居る 成る 何 如何 よる 因る 関する 対する 於く 等 事 物 此れ 其れ どう どの どれ いつ どこ 誰 為 様 下さる 御
頂く 致す 出来る 教える 知る 言う 云う 其の 此の 何故 なぜ ください 思う 付く 行く 来る 見る 有り
つく おく
""".split()
)


_dictionary: Any = None
_dictionary_lock = threading.Lock()


def _sudachi_dictionary() -> Any:
    """The Sudachi dictionary, loaded once per process (~100 MB and ~0.5 s each time otherwise) and
    shared by every tokenizer: the dictionary may be shared between threads, its tokenizers may not."""
    global _dictionary
    with _dictionary_lock:
        if _dictionary is None:
            from sudachipy import Dictionary

            _dictionary = Dictionary(dict="core")
        return _dictionary


class Tokenizer:
    """Thread-safe wrapper: one Sudachi tokenizer per thread over the process's one dictionary."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _sudachi(self) -> Any:
        tok = getattr(self._local, "tok", None)
        if tok is None:
            tok = self._local.tok = _sudachi_dictionary().tokenizer()
        return tok

    def tokens(self, text: str) -> list[str]:
        """Tokens of Japanese or mixed text, for both indexing and querying."""
        return [term for group in self.term_groups(text) for term in group]

    def term_groups(self, text: str) -> list[tuple[str, ...]]:
        """The tokens grouped by the word they come from: a compound first, then its parts
        (経済安全保障推進法, 経済, 安全, 保障, 推進, 法); identifiers and numbers stand alone."""
        text = normalize(text, keep_spaces=True)
        return [group for _, group in self._word_groups(text)] + _identifier_groups(text)

    def proper_noun_groups(self, text: str) -> list[tuple[str, ...]]:
        """The groups (see ``term_groups``) of the Japanese proper nouns: places, people, named
        things (北海道, 千歳, 能登半島地震), the words Sudachi's dictionary knows as names."""
        text = normalize(text, keep_spaces=True)
        return [group for pos, group in self._word_groups(text) if pos[1] == "固有名詞"]

    def _word_groups(self, text: str) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(part of speech, group) of each Japanese content word of normalised text."""
        from sudachipy import SplitMode

        sudachi = self._sudachi()
        for piece in _pieces(text):
            for m in sudachi.tokenize(piece, SplitMode.C):
                pos = m.part_of_speech()
                if pos[0] in _DROP_POS:
                    continue
                surface = m.surface().strip()
                if not surface:
                    continue
                if surface.isascii():
                    continue  # the identifier pass keeps ASCII words and numbers whole
                form = m.normalized_form()
                if form in JAPANESE_STOPWORDS:
                    continue
                parts = m.split(SplitMode.A)
                if len(parts) > 1:
                    yield (
                        pos,
                        (form,)
                        + tuple(
                            p.normalized_form()
                            for p in parts
                            if p.part_of_speech()[0] not in _DROP_POS
                            and p.surface().strip()
                            and p.normalized_form() not in JAPANESE_STOPWORDS
                        ),
                    )
                else:
                    yield pos, (form,)

    def query_term_groups(self, text: str) -> list[tuple[str, ...]]:
        """``query_tokens``, grouped by the word they come from (see ``term_groups``)."""
        if has_japanese(text):
            return self.term_groups(text)
        return [(token,) for token in self.query_tokens(text)]

    def query_tokens(self, text: str) -> list[str]:
        """English questions only contribute ASCII words that are not stop words (names, acronyms,
        numbers); Japanese and mixed questions are tokenised like the documents."""
        if has_japanese(text):
            return self.tokens(text)
        return [
            t
            for t in _identifier_tokens(normalize(text, keep_spaces=True))
            if t not in ENGLISH_STOPWORDS and len(t) > 1
        ]

    def loanwords(self, text: str) -> list[str]:
        """Katakana readings Sudachi gives English words (share → シェア): Japanese writes many
        loanwords that way, so these match pages an English word alone cannot."""
        from sudachipy import SplitMode

        out = []
        for piece in _pieces(normalize(text, keep_spaces=True)):
            for m in self._sudachi().tokenize(piece, SplitMode.C):
                surface = m.surface().strip()
                if (
                    surface.isascii()
                    and surface.isalpha()
                    and surface not in ENGLISH_STOPWORDS
                    and len(surface) > 2
                    and _KATAKANA.match(m.normalized_form())
                ):
                    out.append(m.normalized_form())
        return out


_KATAKANA = re.compile(r"^[\u30a0-\u30ff]+$")


def _after_digit_group_comma(text: str, start: int) -> bool:
    return start >= 2 and text[start - 1] == "," and text[start - 2].isdigit()


def _identifier_tokens(normalized: str) -> list[str]:
    return [token for group in _identifier_groups(normalized) for token in group]


def _identifier_groups(normalized: str) -> list[tuple[str, ...]]:
    """ASCII words and numbers with their unit, each with its parts (``ppr-9087``, ``ppr``, ``9087``)."""
    groups: list[tuple[str, ...]] = []
    with_unit = {m.start(): m.group(0) for m in _NUMBER_WITH_UNIT.finditer(normalized)}
    for m in _ASCII_WORD.finditer(normalized):
        word = m.group(0)
        if word.isdigit() and (len(word) < 2 or m.start() in with_unit):
            continue  # "12月" is a month, not the "12" of "12の物資": keep numbers with their unit
        if word.isdigit() and _after_digit_group_comma(normalized, m.start()):
            continue  # the "000" of "1,000億円" is no number of its own
        parts = re.split(r"[\-./]", word)
        groups.append((word, *(p for p in parts if len(p) > 1)) if len(parts) > 1 else (word,))
    seen = {token for group in groups for token in group}
    groups += [(unit,) for unit in with_unit.values() if unit not in seen]
    return groups


def _pieces(text: str) -> list[str]:
    """Feed Sudachi line by line, cutting any monster line below its input limit."""
    out = []
    for line in text.split("\n"):
        while len(line.encode("utf-8")) > _MAX_SUDACHI_BYTES:
            out.append(line[:10_000])
            line = line[10_000:]
        if line.strip():
            out.append(line)
    return out
