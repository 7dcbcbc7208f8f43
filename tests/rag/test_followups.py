"""Follow-up resolution: which questions lean on the conversation, and what they are asked with.

The examples are made up for these tests (none comes from an eval set)."""

from __future__ import annotations

import pytest

from rag.followups import Resolution, Turn, changes_subject, leans_on_context, resolve, topic_of, understood


@pytest.mark.parametrize(
    "question",
    [
        "そのうち経産省の所管は？",
        "それはいつ決まった？",
        "その中で一番大きいのは？",
        "いつ？",
        "予算は？",
        "じゃあ対象は？",
        "When?",
        "Which of them is the largest?",
        "And how much did it cost?",
        "What about Korea?",
    ],
)
def test_questions_that_lean_on_the_conversation(question: str) -> None:
    assert leans_on_context(question)


@pytest.mark.parametrize(
    "question",
    [
        "半導体の安定供給確保のための取組方針を教えてください",
        "蓄電池の国内製造基盤の強化に向けた支援策は何か",
        "What support does the government give to domestic battery manufacturing?",
        "話は変わりますが、重要鉱物の備蓄制度はどうなっていますか",
        "By the way, what is the budget of the rare earth stockpile programme?",
    ],
)
def test_questions_that_stand_on_their_own(question: str) -> None:
    assert not leans_on_context(question)


def test_subject_changes_are_recognised_at_the_start_only() -> None:
    assert changes_subject("ところで、海底ケーブルの敷設計画は？")
    assert changes_subject("Separately: how many ports are covered?")
    assert not changes_subject("海底ケーブルについて、ところで何が課題か")


def test_the_topic_is_what_a_question_asks_about() -> None:
    assert topic_of("海底ケーブルの敷設計画ってどうなってる？") == "海底ケーブルの敷設計画"
    assert topic_of("重要鉱物の備蓄制度について教えて") == "重要鉱物の備蓄制度"
    assert topic_of("蓄電池の補助金は？") == "蓄電池の補助金"
    assert topic_of("特定重要物資にはどんなものがある？") == "特定重要物資"
    assert topic_of("事前報告の対象技術を全部教えて") == "事前報告の対象技術", "全部 asks for the whole list"
    assert topic_of("特定重要物資をすべて挙げて") == "特定重要物資"
    assert topic_of("What is the rare earth stockpile programme?") == "the rare earth stockpile programme"


def test_a_follow_up_is_asked_with_the_topic_of_the_question_that_set_it() -> None:
    history = [Turn("海底ケーブルの敷設計画ってどうなってる？", "…"), Turn("予算は？", "…")]
    resolution = resolve("担当は？", history)
    assert resolution == Resolution("海底ケーブルの敷設計画 担当は？", "海底ケーブルの敷設計画")
    assert resolution.is_follow_up
    assert understood(resolution.topic or "", "担当は？") == "（海底ケーブルの敷設計画について）"


def test_a_question_that_stands_alone_is_not_changed_by_history() -> None:
    history = [Turn("海底ケーブルの敷設計画ってどうなってる？", "…")]
    question = "蓄電池の国内製造基盤の強化に向けた支援策は何か"
    assert resolve(question, history) == Resolution(question)
    assert resolve("予算は？") == Resolution("予算は？")  # no conversation: nothing to lean on


def test_a_subject_change_sets_the_new_topic_and_loses_its_marker() -> None:
    history = [Turn("海底ケーブルの敷設計画ってどうなってる？", "…")]
    switched = "ところで、重要鉱物の備蓄制度について教えて"
    assert resolve(switched, history) == Resolution("重要鉱物の備蓄制度について教えて")
    later = resolve("いつから？", [*history, Turn(switched, "…")])
    assert later.topic == "重要鉱物の備蓄制度"


def test_a_short_standalone_question_in_between_does_not_replace_the_topic() -> None:
    history = [Turn("What is the rare earth stockpile programme?", "…"), Turn("Who runs the stockpile?", "…")]
    assert resolve("When did it start?", history).topic == "the rare earth stockpile programme"


def test_english_notes_say_what_the_follow_up_was_about() -> None:
    assert (
        understood("the rare earth stockpile programme", "When?")
        == "(About: the rare earth stockpile programme)"
    )
