"""Evidence strength: what the abstention threshold reads."""

from __future__ import annotations

from rag.confidence import evidence_confidence
from rag.intent import question_intent


def test_a_japanese_question_is_judged_by_what_its_best_line_holds() -> None:
    intent = question_intent("特定重要物資は何か")
    held = evidence_confidence(0.9, 0.3, "12の特定重要物資を指定。", 0.4, intent)
    missed = evidence_confidence(0.1, 0.3, "供給網を分析する。", 0.4, intent)
    assert 0.0 <= missed < held <= 1.0


def test_an_english_question_is_judged_by_the_embedder_alone() -> None:
    intent = question_intent("What are the specified critical materials?")
    assert evidence_confidence(0.0, 0.5, "特定重要物資", 0.5, intent) == evidence_confidence(
        1.0, 0.5, "特定重要物資", 0.5, intent
    )


def test_a_how_much_question_answered_without_a_number_is_weaker() -> None:
    intent = question_intent("予算はいくら？")
    with_figure = evidence_confidence(0.8, 0.4, "令和6年度予算額 | 756百万円", 0.4, intent)
    without = evidence_confidence(0.8, 0.4, "地域防災力の充実強化を図る。", 0.4, intent)
    assert without < with_figure
