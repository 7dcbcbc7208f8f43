"""Turning the chat UI's feedback lines into draft eval cases."""

from __future__ import annotations

import json
from pathlib import Path

from rag.answer import ABSTAIN_JA
from rag.feedback import Feedback, record_feedback
from ui.feedback_cases import (
    NOTE_CONFIRM,
    NOTE_CONFIRM_ABSTAIN,
    NOTE_MISSED,
    NOTE_WRONG,
    draft_cases,
    main,
    read_lines,
)

DECK = "econsec-public-private-action-2025-03-16"
REPO = Path(__file__).resolve().parents[2]


def cite(page: int, doc: str = DECK) -> dict:
    return {
        "doc_id": doc,
        "doc_title": "t",
        "doc_date": "2025-03-16",
        "page": page,
        "quote": "q",
        "score": 0.5,
        "url": f"/v1/documents/{doc}/pdf#page={page}",
    }


def line(
    question: str, vote: str, answer: str = "答え", citations=(), time: str = "2026-01-02T03:04:05+00:00"
):
    return {
        "question": question,
        "answer": answer,
        "citations": list(citations),
        "vote": vote,
        "comment": None,
        "time": time,
    }


def dataset_keys() -> set[str]:
    first = (REPO / "evals" / "datasets" / "econsec-deck.jsonl").read_text(encoding="utf-8").splitlines()[0]
    return set(json.loads(first))


def test_upvoted_answer_expects_its_cited_pages():
    [(case, note)] = draft_cases(
        [line("12の物資は？", "up", citations=[cite(19), cite(16), cite(19), cite(2, "b")])]
    )
    assert case == {
        "id": "fb-20260102-001",
        "question": "12の物資は？",
        "lang": "ja",
        "expected": [{"doc": DECK, "pages": [16, 19]}, {"doc": "b", "pages": [2]}],
        "must_include": [],
        "abstain": False,
    }
    assert set(case) == dataset_keys()
    assert note == NOTE_CONFIRM


def test_upvoted_abstention_becomes_an_abstain_case():
    [(case, note)] = draft_cases([line("2026年度の診療報酬改定の改定率は？", "up", answer=ABSTAIN_JA)])
    assert case["abstain"] is True and case["expected"] == [] and note == NOTE_CONFIRM_ABSTAIN


def test_downvotes_leave_expected_for_the_maintainer():
    drafts = draft_cases(
        [line("What is X?", "down", citations=[cite(3)]), line("Yは？", "down", answer=ABSTAIN_JA)]
    )
    (wrong, n1), (missed, n2) = drafts
    assert (
        wrong["lang"] == "en" and wrong["expected"] == [] and wrong["abstain"] is False and n1 == NOTE_WRONG
    )
    assert missed["expected"] == [] and missed["abstain"] is False and n2 == NOTE_MISSED


def test_latest_vote_per_question_wins():
    drafts = draft_cases(
        [
            line("Q1は？", "up", citations=[cite(1)]),
            line("Q2は？", "up", citations=[cite(2)]),
            line("Q1は？", "down", time="2026-01-03T00:00:00+00:00"),
            {"question": "", "vote": "up"},
        ]
    )
    assert [(c["question"], n) for c, n in drafts] == [("Q2は？", NOTE_CONFIRM), ("Q1は？", NOTE_WRONG)]
    assert [c["id"] for c, _ in drafts] == ["fb-20260102-001", "fb-20260103-002"]


def test_command_reads_what_record_feedback_writes(settings, capsys):
    record_feedback(
        settings, Feedback(question="12の物資は？", answer="・半導体", citations=[cite(19)], vote="up")
    )
    with open(settings.feedback_path, "a", encoding="utf-8") as fh:
        fh.write("not json\n")
    assert len(read_lines(settings.feedback_path)) == 1
    assert main([str(settings.feedback_path)]) == 0
    out, err = capsys.readouterr()
    [case] = [json.loads(x) for x in out.splitlines()]
    assert case["expected"] == [{"doc": DECK, "pages": [19]}]
    assert "not JSON" in err and NOTE_CONFIRM in err
    assert main([]) == 2
