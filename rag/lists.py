"""Lists on a page: numbered outlines (①②③, (1)(2), 1. 2.) and runs of short or bulleted lines.

A question that asks for several things (「12の物資は何か」, "what are the …") is answered with a
whole list; this module finds the candidates, the composer chooses among them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby

from core.text import BULLET_RE, normalize
from rag.ordinals import kanji_number

SHORT_ITEM = 60  # a paragraph this short, without a sentence end, is a list item
LIST_ITEM_CHARS = 80  # longer marked lines are prose, not the items of an enumeration
ENTRY_CHARS = 30
ITEM_CONTINUATION = 2  # short lines right under a numbered item, in its paragraph, are part of it

OUTLINE_RE = re.compile(
    r"^\s*[【\[「]?\s*(?:(?P<circled>[①-⑳])|[（(](?P<paren>\d{1,2})[)）]|(?P<dot>\d{1,2})(?:[.．]\s*|\s+)(?!\d)"
    r"|第\s*(?P<part>\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?P<kind>章|部|節|編))"
)

Span = tuple[int, int, str]

# 「- ① リチウムイオン電池」: a slide's bullet before an outline number. Read past it when finding a
# list's items only; elsewhere (labels, numbered items) the bullet keeps a line from heading one.
_BULLET_BEFORE_NUMBER = re.compile(r"^\s*[-・•]\s*(?=[①-⑳（(]|\d{1,2}[.．\s])")


@dataclass(frozen=True)
class ListCandidate:
    header: Span | None  # the line introducing the list
    items: list[Span]
    numbered: bool


def enumeration_quality(items: list[Span]) -> float:
    """Share of items that read like entries of an enumeration (short, not sentences): a run of
    mixed headings and prose is a page layout, not a list."""

    def entry(text: str) -> bool:
        norm = normalize(text)
        return len(norm) <= ENTRY_CHARS and not norm.endswith("。")

    return sum(entry(t) for _, _, t in items) / len(items)


def page_lines(text: str) -> list[tuple[int, int, str, int]]:
    """(start, end, text, paragraph) of every non-empty line."""
    out = []
    offset = 0
    paragraph = 0
    for line in text.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            out.append((offset + lead, offset + len(line.rstrip()), line.strip(), paragraph))
        else:
            paragraph += 1
        offset += len(line) + 1
    return out


# 「…以下の事業を実施する。」「絶対的必要記載事項は次のとおりです。」: a line announcing what follows.
_POINTS_FORWARD = re.compile(r"(?:以下|次|下記)の[^。]{0,30}[。：:]$")
INTRODUCED_ITEMS = 15


def points_forward(line: str) -> bool:
    """Does the line announce what follows it: 「以下の事業を実施する。」「次のとおりです。」"""
    return _POINTS_FORWARD.search(normalize(line)) is not None


def introduced_items(text: str, line_start: int) -> ListCandidate | None:
    """The bulleted lines a line announces (「以下の事業を実施する。」), when other lines (each
    item's description and budget rows) stand between them: the bullets, up to the next numbered
    heading or the next announcing line, are the items."""
    lines = page_lines(text)
    at = next((i for i, line in enumerate(lines) if line[0] <= line_start < line[1] + 1), None)
    if at is None or not points_forward(lines[at][2]):
        return None
    following = lines[at + 1 :]
    if following and _LABEL.match(following[0][2]):
        return _labelled_items(lines[at][:3], following, text)
    if not following or not BULLET_RE.match(following[0][2]):
        return None  # 「次の世代の…を開発する。」 announces nothing when no bullet follows
    items: list[Span] = []
    for start, end, line, _ in following:
        if outline_number(line) is not None or points_forward(line):
            break
        if BULLET_RE.match(line) and not line.startswith("※"):  # a ※ note is no item
            items.append((start, end, line))
            if len(items) >= INTRODUCED_ITEMS:
                break
    return ListCandidate(lines[at][:3], items, False) if len(items) >= 2 else None


# 【甲案】【乙案】, 【A案】: a label on a line of its own, heading the text of one alternative.
_LABEL = re.compile(r"^【[^】]{1,12}】$")


def _labelled_items(
    header: Span, following: list[tuple[int, int, str, int]], text: str
) -> ListCandidate | None:
    """「次のいずれかの案によるものとする。」 followed by 【甲案】 and 【乙案】, each over its own text:
    every label with the lines under it (a few at most) is an item, up to the next numbered heading
    (⑵) or announcing line."""
    items: list[Span] = []
    continued = 0
    for start, end, line, _ in following:
        if _LABEL.match(line):
            items.append((start, end, line))
            continued = 0
            continue
        if (
            outline_number(normalize(line)) is not None
            or points_forward(line)
            or continued >= ITEM_CONTINUATION
        ):
            break
        first = items[-1][0]
        items[-1] = (first, end, text[first:end])
        continued += 1
        if len(items) >= INTRODUCED_ITEMS:
            break
    return ListCandidate(header, items, True) if len(items) >= 2 else None


def outline_number(line: str) -> tuple[str, int] | None:
    """('circled'|'paren'|'dot'|'第章'…, n) for a line starting with ①, (1), 1. / 1 or 第1章."""
    m = OUTLINE_RE.match(line)
    if not m:
        return None
    if m.group("circled"):
        return "circled", ord(m.group("circled")) - ord("①") + 1
    if m.group("paren"):
        return "paren", int(m.group("paren"))
    if m.group("part"):  # 第1章, 第二部: a document's chapters and parts are an outline too
        raw = m.group("part")
        number = int(raw) if raw.isdigit() else kanji_number(raw)
        return ("第" + m.group("kind"), number) if number is not None else None
    return "dot", int(m.group("dot"))


def _item_number(line: str) -> tuple[str, int] | None:
    return outline_number(_BULLET_BEFORE_NUMBER.sub("", line, count=1))


def _item_head(line: tuple[int, int, str, int]) -> tuple[Span, bool]:
    """A numbered item as a list shows it: its line, or the first sentence of an item that is a
    whole paragraph (「(3) 第三に経済力である。経済力は、…」 → 「(3) 第三に経済力である。」), and whether
    it was cut so (then no line under it belongs to it)."""
    start, end, text, _ = line
    stop = text.find("。")
    if len(normalize(text)) <= LIST_ITEM_CHARS or stop < 0 or stop == len(text) - 1:
        return (start, end, text), False
    return (start, start + stop + 1, text[: stop + 1]), True


def list_candidates(text: str) -> list[ListCandidate]:
    lines = page_lines(text)
    candidates: list[ListCandidate] = []
    # Outlines: ①, ②, ③ … in order, other lines may stand between them.
    for i, (_, _, line, _) in enumerate(lines):
        number = _item_number(line)
        if number is None or number[1] != 1:
            continue
        style, expected = number[0], 2
        head, cut = _item_head(lines[i])
        items = [head]
        heads = [head[2]]
        paragraph, continued = lines[i][3], ITEM_CONTINUATION if cut else 0
        for later in lines[i + 1 :]:
            n = _item_number(later[2])
            if n == (style, expected):
                head, cut = _item_head(later)
                items.append(head)
                heads.append(head[2])
                expected += 1
                paragraph, continued = later[3], ITEM_CONTINUATION if cut else 0
            elif n == (style, 1):
                break
            elif (
                n is None
                and later[3] == paragraph
                and continued < ITEM_CONTINUATION
                and len(normalize(later[2])) <= LIST_ITEM_CHARS
            ):  # 「① リチウムイオン電池 / リチウム、コバルト…」: the item's own lines go with it
                start = items[-1][0]
                items[-1] = (start, later[1], text[start : later[1]])
                continued += 1
            else:
                paragraph = -1  # other text stands between: nothing more belongs to this item
        if len(items) >= 2 and all(len(normalize(t)) <= LIST_ITEM_CHARS for t in heads):
            candidates.append(ListCandidate(lines[i - 1][:3] if i > 0 else None, items, True))
    # Runs: consecutive short paragraphs, or consecutive marked lines.
    elements: list[tuple[bool, Span]] = []  # (is_item, span)
    for _, group in groupby(lines, key=lambda line: line[3]):
        para = list(group)
        marked = [bool(BULLET_RE.match(t)) for _, _, t, _ in para]
        if sum(marked) >= 2:
            for (s, e, t, _), is_marked in zip(para, marked):
                if is_marked:
                    elements.append((len(normalize(t)) <= LIST_ITEM_CHARS, (s, e, t)))
                elif elements and elements[-1][0] and not outline_number(t):
                    s0 = elements[-1][1][0]
                    elements[-1] = (True, (s0, e, text[s0:e]))  # a wrapped item continues
                else:
                    elements.append((False, (s, e, t)))
        else:
            span = (para[0][0], para[-1][1], text[para[0][0] : para[-1][1]])
            short = len(normalize(span[2])) <= SHORT_ITEM and not span[2].rstrip().endswith("。")
            elements.append((short, span))
    i = 0
    while i < len(elements):
        if not elements[i][0]:
            i += 1
            continue
        j = i
        while j + 1 < len(elements) and elements[j + 1][0]:
            j += 1
        items = [e[1] for e in elements[i : j + 1]]
        if len(items) >= 3:
            header = elements[i - 1][1] if i > 0 else None
            numbered = sum(outline_number(t) is not None for _, _, t in items) >= len(items) * 0.6
            candidates.append(ListCandidate(header, items, numbered))
        i = j + 1
    return candidates
