"""Years in either calendar read as one number."""

from __future__ import annotations

import pytest

from rag.years import years_named


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("令和6年度予算額 | 872百万円", {2024}),
        ("令和元年度", {2019}),
        ("平成２５年３月８日", {2013}),  # full-width digits of a notice's date line
        ("How much did MEXT budget for quantum research in FY2024?", {2024}),
        ("2021年と2023年の量子技術に対する累計投資額", {2021, 2023}),
        ("「仙台防災枠組2015-2030」", {2015, 2030}),
        ("(24年9月1日施行)", {2024}),  # a slide's two-digit year, followed by its month
    ],
)
def test_years_in_either_calendar(text: str, years: set[int]) -> None:
    assert years_named(text) == years


@pytest.mark.parametrize(
    "text",
    ["約2,500億円", "2000万円", "1000M$", "計2024人", "勤続24年", "R4.11版"],
)
def test_amounts_counts_and_lengths_of_time_are_no_years(text: str) -> None:
    assert years_named(text) == frozenset()


def test_the_months_a_text_names_whatever_the_calendar() -> None:
    from rag.years import months_named

    assert months_named("中国が2025年4月に始めた輸出規制") == {202504}
    assert months_named("令和６年１月１日に発生") == {202401}, "full-width digits, an era"
    assert months_named("（24年9月15日施行）") == {202409}, "a slide's two-digit year"
    assert months_named("announced in January 2025; the 7 February 2025 statement") == {202501, 202502}
    assert months_named("2023年に導入された4,440件、中国製造2025") == set(), "a year alone names no month"
    assert months_named("13月") == set()


def test_a_question_naming_a_month_is_not_answered_from_pages_that_never_name_it() -> None:
    from rag.answerability import IndexWords, why_unanswered
    from rag.evidence import Evidence
    from rag.intent import question_intent

    page = "「アンチモン」「超硬材料」輸出管理措置（24年9月15日施行）"
    evidence = [Evidence("deck", "資料", "", 22, 0, len(page), page, (page,), 1.0)]

    def why(question: str) -> str | None:
        return why_unanswered(
            question, question_intent(question), evidence, {}, lambda doc, p: page, IndexWords(str.split)
        )

    assert why("2025年4月に中国が始めた輸出規制の内容は？") == "pages of other years"
    assert why("2024年4月に中国が始めた輸出規制の内容は？") == "pages of other months"
    assert why("2024年9月に中国が始めた輸出管理の対象は？") is None


@pytest.mark.parametrize("line", ["平成２５年３月８日", "（令和6年4月）", "令和４年11月版", "2025年3月16日"])
def test_a_line_that_is_only_a_date(line: str) -> None:
    from rag.years import is_date_line

    assert is_date_line(line)


@pytest.mark.parametrize("line", ["令和6年度予算額", "2025年3月16日に公表した資料", "第198回会議"])
def test_a_line_with_more_than_a_date(line: str) -> None:
    from rag.years import is_date_line

    assert not is_date_line(line)
