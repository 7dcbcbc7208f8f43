"""What a question asks for: a count of things, a figure, a date, or a list.

The composer puts first the line that gives the asked-for kind of fact, and answers a list
question with the whole list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.text import has_japanese, normalize
from rag.lists import OUTLINE_RE
from rag.ordinals import kanji_number, ordinals_named, versions_named
from rag.years import months_named, years_named

MAX_LIST_ITEMS = 20

DIGIT_RE = re.compile(r"\d")
DATE_RE = re.compile(
    r"\d{4}年|\d{1,2}月|令和|平成|\d{4}/\d{1,2}|\d{4}-\d{2}|(?<![\d/])\d{1,2}/\d{1,2}(?![\d/])"
)
_EN_NUM = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_COUNT_JA = re.compile(r"(\d{1,2}|[一二三四五六七八九十]{1,2})(?:つ|個|品目|種類|項目|分野|件|点|の)")
_COUNT_EN = re.compile(
    r"\b(\d{1,2}|" + "|".join(_EN_NUM) + r")\s+(?:[a-z\-]+\s+){0,2}?"
    r"(?:items|technologies|materials|goods|products|areas|fields|measures|points|pillars|"
    r"cases|sectors|elements|minerals|steps|categories|types|kinds|things)\b"
)
_WANT_NUMBER = re.compile(
    r"いくら|何円|金額|規模|効果|どのくらい|どれくらい|どの程度|何%|何％|割合|シェア|比率|何人|何社|何件|何倍|何兆|何億|"
    r"何万|何年(?:間|遅れ|後|前|ぶり|分)|いくつ|何か所|何カ所|何ヶ所|何基|何台|何本|何nm|予算|額|数は|人数|件数|"
    r"how much|how many|what share|percentage|percent|amount|number of|how large|how big|what size|budget|cost"
)
# 「何年遅れ」「何年間」 ask a length of time (「何日付与」 a number of days), and a sentence-opening
# "When the government shares …," is no question about a date: only "when was / when did …" is.
_WANT_DATE = re.compile(
    r"いつ|何年(?!間|遅れ|後|前|ぶり|分)|何月|時期|年月日|日付(?!与)|日にち|"
    r"\bwhen (?:was|were|is|are|did|does|do|will|would|has|have|can|should|must)\b|what year|what date|which year"
)
# Lists asked without a count: 「どんなものがある？」「何が含まれる？」, "what kinds of …".
_WANT_LIST = re.compile(
    r"一覧|列挙|挙げ|すべて|全て|全部|which .* are|what are the|list|name the|name all|"
    r"(?:どんな|どのような|どういった)(?:もの|こと)?[^。？?]{0,12}(?:ある|あり|入って|含ま|載って|挙が)|"
    r"何がある|何が含ま|章立て|目次|what (?:kinds|types|sorts) of|what .+ are there|what chapters"
)

# "When was this notice issued?", 「この事務連絡っていつ出た？」: the date the document itself bears. A
# Japanese question names the kind of document (要領, 白書 …) its title also names; an English one
# names a document next to the verb ("the notice … issued", not "the guidelines …, and when was it").
_ISSUE_VERB_JA = re.compile(
    r"発出|公表|公開|策定|作成|発行|発表|取りまとめ|とりまとめ|まとめられ|出され|出た|出し"
)
DOCUMENT_KINDS = (
    "事務連絡",
    "通知",
    "通達",
    "白書",
    "報告書",
    "ガイドライン",
    "試案",
    "概要",
    "要領",
    "指針",
    "考え方",
    "規則",
    "補足説明",
    "対照表",
    "資料",
)
_DOCUMENT_EN = r"\b(?:notice|document|paper|report|guidelines?|deck|white paper|draft|overview|annex|material|slides|circular)\b"
_ISSUED_EN = re.compile(
    _DOCUMENT_EN + r"[^?.,;]{0,80}?\b(?:issued|published|released|dated|put out|compiled|drawn up)\b|"
    r"\b(?:issued|published|released)\s+(?:the|this|that)\b[^?.,;]{0,40}?" + _DOCUMENT_EN
)
ANY_DOCUMENT = "*"

_WANT_SOURCE = re.compile(r"出典|出所|引用元|情報源|source|credit|cited from")


@dataclass(frozen=True)
class QuestionIntent:
    count: int | None
    wants_number: bool
    wants_date: bool
    wants_list: bool
    english: bool
    wants_source: bool = False  # where something comes from: source attributions are the answer
    unit: str | None = None  # 「何トン？」「何社？」「何GW？」: the unit the asked-for figure comes in
    years: frozenset[int] = frozenset()  # 「令和6年度の予算」, "in FY2024": the years the question is about
    months: frozenset[int] = frozenset()  # 「2025年4月に始めた規制」: year * 100 + month
    ordinals: frozenset[int] = frozenset()  # 「熊本第2工場」: the ordinals the question names
    versions: frozenset[str] = frozenset()  # 「第1.1版では何が変わった？」: the editions it names
    asked_noun: str | None = None  # 「どの様式で出す？」: the answer names a 様式
    # 「この要領はいつ出た？」: the kinds of document whose own date is asked ({ANY_DOCUMENT} in English)
    issued_document: frozenset[str] = frozenset()


def question_intent(question: str) -> QuestionIntent:
    q = normalize(question, keep_spaces=True)
    count = None
    m = _COUNT_JA.search(q)
    if m:
        raw = m.group(1)
        count = int(raw) if raw.isdigit() else kanji_number(raw)
    m_en = _COUNT_EN.search(q)
    if count is None and m_en:
        raw = m_en.group(1)
        count = int(raw) if raw.isdigit() else _EN_NUM[raw]
    if count is not None and not (2 <= count <= MAX_LIST_ITEMS):
        count = None
    # "10年間" or "12月" are not list sizes
    if count is not None and re.search(rf"{count}\s*(?:年|月|日|%|円|億|兆|万|nm)", q):
        count = None
    wants_date = bool(_WANT_DATE.search(q))
    return QuestionIntent(
        count=count,
        wants_number=bool(_WANT_NUMBER.search(q)),
        wants_date=wants_date,
        wants_list=count is not None or bool(_WANT_LIST.search(q)),
        english=not has_japanese(question),
        wants_source=bool(_WANT_SOURCE.search(q)),
        unit=asked_unit(q),
        years=years_named(question),
        months=months_named(question),
        ordinals=ordinals_named(question),
        versions=versions_named(question),
        asked_noun=asked_noun(q),
        issued_document=issued_document(q) if wants_date else frozenset(),
    )


def issued_document(question: str) -> frozenset[str]:
    """The kinds of document a question asks the issue date of: 「…作成要領の事務連絡っていつ出た？」 →
    要領, 事務連絡; "When was this notice issued?" → {ANY_DOCUMENT}."""
    if _ISSUED_EN.search(question):
        return frozenset({ANY_DOCUMENT})
    if not _ISSUE_VERB_JA.search(question):
        return frozenset()
    return frozenset(kind for kind in DOCUMENT_KINDS if kind in question)


# 何 + a counter or unit: 何トン, 何GW, 何%, 何社, 何か国, 何週間. Not 何か (something), 何て, 何の…
_ASKED_UNIT = re.compile(
    r"何\s*(か国|カ国|ヶ国|か所|カ所|ヶ所|箇所|週間|時間|か月|カ月|ヶ月|[a-z%]+|[ァ-ヴ][ァ-ヴー]*"
    r"|[社件人名日条位回歳秒枚倍円個台基本種品点戸棟校隻株局頭冊号割])"
)
_COUNTRIES = r"(?:か国|カ国|ヶ国)"
_GENERIC_COUNTERS = frozenset("件個種点品")
# What follows a number that counts no things: a date or time (年, 月, 日, 時), times (回), a rate
# (倍, %), money (円), people (人, 名), an age, a length of time, a reference (号, 条, 項, 版, 次, 位).
_NOT_A_COUNT = r"(?!年|月|日|時|回|倍|%|円|人|名|歳|分(?!野)|秒|週|か月|カ月|ヶ月|号|条|項|版|次|位)"
# Counters a document may use for the same things: companies are counted as 社 or 事業者, people as 人 or 名.
_SAME_COUNT = {
    "社": r"(?:社|者|企業|事業者|団体)",
    "人": r"(?:人|名)",
    "名": r"(?:人|名)",
    "%": r"(?:%|割|分の)",  # a share is written as 30%, 3割 or 3分の1
}
_PLACES = r"(?:か所|カ所|ヶ所|箇所)"
_MONTHS = r"(?:か月|カ月|ヶ月)"
MONEY = "円"
_ASKED_MONEY = re.compile(
    r"いくら|金額|総額|予算|費用|手数料|料金|価格|"
    r"\b(?:budget|budgets|budgeted|cost|costs|fee|fees|price|funding|allocation|allocated|appropriation)\b|"
    r"\bfines?\b(?!-)"  # "the maximum fine": an amount (not "fine-tuning")
)
_CURRENCY = r"(?:円|ドル|ユーロ|ポンド|ウォン|元)"


# 「どの様式で」「どの法律に基づいて」: the word after どの is the kind of thing the answer names. Not
# どの程度 / どのくらい / どのよう (how much, how), which ask a quantity or a manner.
_WHICH_NOUN = re.compile(r"どの\s*([^\sをにでがはのとへやもか、。？?（）()「」]{1,8})")
_NOT_A_NOUN = ("程度", "くらい", "ぐらい", "位", "よう", "様に", "様な", "辺")


def asked_noun(question: str) -> str | None:
    """The kind of thing a 「どの…」 question asks for: 「どの様式で出せばいい？」 → 様式."""
    m = _WHICH_NOUN.search(question)
    if m is None or m.group(1) == "様" or m.group(1).startswith(_NOT_A_NOUN):
        return None
    return m.group(1)


# "How many tonnes / companies / people …": English asks the same units by the counted noun.
_ASKED_UNIT_EN = (
    (re.compile(r"\bhow many (?:million |billion |thousand )?(?:tonnes|tons)\b"), "トン"),
    (re.compile(r"\bhow many (?:companies|firms|businesses|enterprises)\b"), "社"),
    (re.compile(r"\bhow many (?:people|persons|workers|employees|staff|jobs|deaths|victims)\b"), "人"),
    (re.compile(r"\bhow many (?:countries|nations)\b"), "か国"),
    (re.compile(r"\bhow many (?:days)\b"), "日"),
    (re.compile(r"\bhow many (?:hours)\b"), "時間"),
    (re.compile(r"\bhow many (?:weeks)\b"), "週間"),
    (re.compile(r"\bhow many (?:months)\b"), "か月"),
    (re.compile(r"\bhow many (?:times)\b"), "回"),
    (
        re.compile(
            r"\b(?:what|which) (?:share|percentage|percent|proportion|fraction)\b|\bas a (?:share|percentage)\b"
        ),
        "%",
    ),
    # Any other counted noun ("how many disputes", "how many priority fields") asks for a count.
    (re.compile(r"\bhow many (?!(?:does|did|is|was|has)\b)(?:[a-z-]+ ){0,2}[a-z-]+s\b"), "件"),
)


def asked_unit(question: str) -> str | None:
    """The unit a 「何＋単位」 question asks its figure in (in the matching form), if any; 円 for a
    question that asks an amount of money (いくら, 手数料, "what is the budget"), which a line in
    any currency answers."""
    m = _ASKED_UNIT.search(normalize(question))
    if m:
        return m.group(1)
    english = normalize(question, keep_spaces=True)
    for pattern, unit in _ASKED_UNIT_EN:
        if pattern.search(english):
            return unit
    return MONEY if _ASKED_MONEY.search(normalize(question, keep_spaces=True)) else None


def states_unit(text: str, unit: str) -> bool:
    """Does the text give a figure in ``unit``: 「約1,700人」「30%」「5技術」 for 人, %, 技術 …"""
    pattern = re.escape(unit)
    if unit in _GENERIC_COUNTERS:  # 「何件？」 is answered by 「5技術」 or 「12物資」: any counted figure,
        pattern = _NOT_A_COUNT  # but not a date, a time, a number of times, an amount or a reference
    elif unit in _SAME_COUNT:
        pattern = _SAME_COUNT[unit]
    elif unit in ("か国", "カ国", "ヶ国"):
        pattern = _COUNTRIES
    elif unit in ("か月", "カ月", "ヶ月"):
        pattern = _MONTHS
    elif unit in ("か所", "カ所", "ヶ所", "箇所"):
        pattern = _PLACES
    elif unit == MONEY:
        pattern = _CURRENCY
    number = r"(?:\d[\d,.]*|[一二三四五六七八九十百千]+)(?![\d,.])\s*(?:万|億|兆|千|百)*\s*"
    if unit in _GENERIC_COUNTERS:  # not an identifier's digit (G7, M6.5) nor the 一 of 一定, 一部
        number = r"(?<![a-z\d])(?:\d[\d,.]*|[二三四五六七八九十百千][一二三四五六七八九十百千]*)(?![\d,.])"
    elif unit == "日":  # 「何日？」 asks a number of days: the 8日 of 「3月8日」 is a date, not days
        number = r"(?<![月\d,.])" + number
    # An item's outline mark (②, (3)) is no figure: 「②発行場面の規律」 counts nothing.
    lines = (normalize(OUTLINE_RE.sub("", line)) for line in text.split("\n"))
    return any(re.search(number + pattern, line) for line in lines)


_NUMERAL = r"(?<![\d一二三四五六七八九十百千])(\d{1,2}|[一二三四五六七八九十]{1,2})"
_COUNTER = r"(?:つ|個|品目|種類|項目|分野|件|点|物資|技術|事業)"


def stated_count(subject: str, text: str) -> int | None:
    """How many members a text says ``subject`` has: 「12の特定重要物資を指定」, 「特定重要物資（12物資）」.

    A question 「特定重要物資は何？」 asks for the members without saying how many there are; when
    the documents say it, the answer is that many items, just as if the question had named the
    number. The subject must stand written in full right after (or before) the number, so a
    count of something else on the same line does not count."""
    subject = normalize(subject)
    if len(subject) < 2:
        return None
    text = normalize(text)
    name = re.escape(subject)
    m = re.search(rf"{_NUMERAL}{_COUNTER}?の{name}", text) or re.search(
        rf"{name}[(（]?{_NUMERAL}{_COUNTER}", text
    )
    if not m:
        return None
    raw = m.group(1)
    count = int(raw) if raw.isdigit() else kanji_number(raw)
    return count if count is not None and 2 <= count <= MAX_LIST_ITEMS else None


def holds_asked_type(text: str, intent: QuestionIntent) -> bool:
    return bool(
        (intent.wants_number and DIGIT_RE.search(text))
        or (intent.wants_date and DATE_RE.search(text))
        or (intent.unit is not None and DIGIT_RE.search(text) and states_unit(text, intent.unit))
        or (intent.asked_noun is not None and intent.asked_noun in normalize(text))
    )


_NUMBER_RE = re.compile(r"\d[\d,，.]*")


def gives_asked_type(text: str, intent: QuestionIntent, question: str) -> bool:
    """Does the text state a figure or date the question does not already contain? An outline
    mark 「（33）」 or the 「令和6年度」 the question itself names is no answer to "how much"."""
    text = normalize(text, keep_case=True, keep_spaces=True)
    text = "\n".join(OUTLINE_RE.sub("", line) for line in text.split("\n"))
    asked = set(_NUMBER_RE.findall(normalize(question, keep_case=True, keep_spaces=True)))
    new_numbers = [n for n in _NUMBER_RE.findall(text) if n not in asked]
    if intent.wants_date and DATE_RE.search(text) and new_numbers:
        return True
    if intent.unit is not None:  # 「何トン？」「いくら？」: only a figure in that unit (any currency) answers
        return bool(new_numbers) and states_unit(text, intent.unit)
    return intent.wants_number and bool(new_numbers)
