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
