"""Japanese text: standard characters, the matching form, and line/sentence units of a page.

Displayed and quoted text is the cleaned page text; the normalised form
(NFKC, width folded, lower case) is only ever used to *compare* text, so a
quote is always an exact substring of the page a user opens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Kana, CJK ideographs, CJK punctuation and full-width forms.
_JA = (
    "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60\uff61-\uff9f"
)
JA_CHAR = f"[{_JA}]"
_SENTENCE_END = "。！？!?"
_LINE_START_MARK = r"[・\-－–—‐●○◆◇■□▪▶►✓✔※*＊]|[①-⑳]|[（(]?\d+[)）.．]"
BULLET_RE = re.compile(rf"^\s*(?:{_LINE_START_MARK})")
CELL_SEPARATOR = " | "  # between the cells of a table row kept as one line
_JA_RE = re.compile(JA_CHAR)
_SPACES_RE = re.compile(r"\s+")


# Look-alikes some PDFs carry instead of kanji: the Kangxi Radicals block (⽣ ⽤ ⼤), which NFKC maps to
# the standard kanji, and the CJK Radicals Supplement (⺠ ⻑ ⻄), which NFKC leaves alone, so 国⺠ would
# never match 国民. Mapped to the unified ideograph they stand for (Unicode's EquivalentUnifiedIdeograph).
_RADICAL_SUPPLEMENT = str.maketrans(
    "⺁⺄⺅⺆⺇⺉⺊⺋⺌⺍⺎⺐⺒⺓⺔⺕⺖⺗⺘⺙⺛⺝⺞⺟⺠⺡⺢⺣⺤⺥⺦⺧⺨⺩⺪⺫⺬⺭⺮⺯⺰⺱⺲⺳⺶⺷⺹⺺⺻⺼⺽⺾⺿⻀⻁⻂⻃⻄⻅⻆⻈⻉⻊⻋⻌⻍⻎⻏⻐⻑⻒⻓⻔⻖⻗⻘⻙⻚⻛⻜⻝⻟⻠⻢⻣⻤⻥⻦⻧⻨⻩⻪⻫⻬⻭⻮⻯⻰⻱⻲⻳",
    "厂乙亻冂几刂卜㔾小小兀尢巳幺彑彐忄心扌攵旡月歺母民氵氺灬爫爫丬牛犭王疋目示礻竹糸纟网罒罓羊羊耂肀聿月臼艹艹艹虎衤西西见角讠贝足车辶辶辶阝钅長镸长门阝雨青韦页风飞食食饣马骨鬼鱼鸟卤麦黄黾斉齐歯齿竜龙龜亀龟",
)
_LOOKALIKE_RE = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf\uf900-\ufaff]")


def standard_characters(text: str) -> str:
    """Radical and compatibility look-alikes become the kanji they depict, so a page reads and
    matches like its neighbours; any other character is left as the PDF has it."""
    text = text.translate(_RADICAL_SUPPLEMENT)
    return _LOOKALIKE_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


def has_japanese(text: str) -> bool:
    return _JA_RE.search(text) is not None


def normalize(text: str, *, keep_case: bool = False, keep_spaces: bool = False) -> str:
    """The matching form, the one text normaliser of the product: NFKC (full/half width folded,
    compatibility characters unified), white space removed, lower case. Tokens keep their spaces
    (word boundaries), the eval's fact check keeps case (FORMAT.md)."""
    text = unicodedata.normalize("NFKC", text)
    if not keep_spaces:
        text = _SPACES_RE.sub("", text)
    return text if keep_case else text.lower()


@dataclass(frozen=True)
class Unit:
    """A sentence or a list line of a page, with its character span in the page text."""

    start: int
    end: int
    text: str
    paragraph: int
    line: int
    is_list_item: bool


def split_units(page_text: str) -> list[Unit]:
    """Split a page into lines, and long lines into sentences (。！？ outside brackets), keeping
    exact spans."""
    units: list[Unit] = []
    paragraph = 0
    line_no = 0
    offset = 0
    for line in page_text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        if not line.strip():
            paragraph += 1
            continue
        is_item = bool(BULLET_RE.match(line))
        # A run of sentence ends with nothing before it (a line starting "。" or a lone "？") is a unit
        # of its own, so no character of the page falls outside every unit (and every chunk).
        for piece_start, piece_end in _sentences(line):
            piece = line[piece_start:piece_end]
            if not piece.strip():
                continue
            lead = len(piece) - len(piece.lstrip())
            start = line_start + piece_start + lead
            end = line_start + piece_end - (len(piece) - len(piece.rstrip()))
            units.append(Unit(start, end, page_text[start:end], paragraph, line_no, is_item))
            is_item = False  # only the first sentence of a bullet line carries the bullet
        line_no += 1
    return units


_OPENING, _CLOSING = "（(「『【〔［", "）)」』】〕］"
_LONGEST_BRACKET = 200


def _sentences(line: str) -> list[tuple[int, int]]:
    """Sentence spans of a line. A 。 inside brackets (「…という。」, （以下「申請書」という。）) ends
    no sentence: the sentence goes on after the closing bracket."""
    spans: list[tuple[int, int]] = []
    depth = 0
    opened = 0
    start = 0
    i = 0
    while i < len(line):
        char = line[i]
        if depth and i - opened > _LONGEST_BRACKET:  # never closed: a stray bracket, not a quotation
            depth = 0
        if char in _OPENING:
            if depth == 0:
                opened = i
            depth += 1
        elif char in _CLOSING:
            depth = max(0, depth - 1)
        elif char in _SENTENCE_END and depth == 0:
            while i + 1 < len(line) and line[i + 1] in _SENTENCE_END:
                i += 1
            spans.append((start, i + 1))
            start = i + 1
        i += 1
    if start < len(line):
        spans.append((start, len(line)))
    return spans


def embedding_text(heading: str, text: str) -> str:
    """What the embedder sees for a chunk: the heading gives a short chunk its topic. Ingest and
    the rebuild of a damaged vector index both embed this, so the two give the same vectors."""
    if heading and not text.startswith(heading):
        return f"{heading}\n{text}"
    return text


def title_of(page_text: str) -> str:
    """The first non-empty line: on slides and most reports, the page heading."""
    for line in page_text.split("\n"):
        if line.strip():
            return line.strip()
    return ""
