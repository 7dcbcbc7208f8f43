"""The answering service on the bundled deck: the product's acceptance questions, and properties
that must hold for every answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.text import normalize
from rag.answer import ABSTAIN_EN, ABSTAIN_JA

DATASET = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "econsec-deck.jsonl"

TWELVE_MATERIALS = [
    "半導体",
    "蓄電池",
    "クラウドプログラム",
    "永久磁石",
    "工作機械・産業用ロボット",
    "航空機部品",
    "重要鉱物",
    "可燃性天然ガス",
    "電子部品（コンデンサ・高周波フィルタ）",
    "抗菌性物質製剤",
    "船舶部品",
    "肥料",
]


def contains_all(text: str, facts: list[str]) -> list[str]:
    """The facts missing from text, compared as FORMAT.md says (NFKC, whitespace removed)."""
    body = normalize(text)
    return [f for f in facts if normalize(f) not in body]


def cited_pages(answer) -> set[int]:
    return {c.page for c in answer.citations}


def test_twelve_specified_critical_materials(deck_service):
    answer = deck_service.answer("特定重要物資として指定された12の物資は何ですか")
    assert not answer.abstained
    assert contains_all(answer.answer, TWELVE_MATERIALS) == []
    assert cited_pages(answer) & {16, 19}


def test_five_technologies_added_to_prior_reporting(deck_service):
    answer = deck_service.answer("外為法に基づく事前報告の対象に今般追加された5つの技術は？")
    assert (
        contains_all(
            answer.answer,
            ["磁気センサー", "スポンジチタン", "正負極バインダ", "固体電解質", "セパレータ製造装置"],
        )
        == []
    )
    assert 55 in cited_pages(answer)


def test_jasm_ten_year_effect_comes_first(deck_service):
    answer = deck_service.answer("JASMの熊本進出による10年間の経済波及効果は？")
    assert "4兆2,900億円" in answer.answer
    assert 9 in cited_pages(answer)
    assert "4兆2,900億円" in answer.answer.splitlines()[0], (
        "the line holding the asked-for amount comes first"
    )


def test_english_question_on_japanese_deck(deck_service):
    answer = deck_service.answer("What share of global iodine production does Japan have?")
    assert not answer.abstained
    assert "30%" in normalize(answer.answer)
    assert 41 in cited_pages(answer)


@pytest.mark.parametrize("question, message", [("2026年度の診療報酬改定の改定率は？", ABSTAIN_JA)])
def test_out_of_corpus_question_abstains(deck_service, question, message):
    answer = deck_service.answer(question)
    assert answer.abstained and answer.answer == message and answer.citations == []
    assert answer.sources, "what was searched is still shown"


def test_english_abstention_is_english(deck_service):
    """An off-topic English question abstains in English. (Near-domain English questions are harder:
    their abstention accuracy is measured per language by `policyqa eval`.)"""
    answer = deck_service.answer("How do I bake sourdough bread at home?")
    assert answer.abstained and answer.answer == ABSTAIN_EN


def _dataset() -> list[dict]:
    return [
        json.loads(line)
        for line in DATASET.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("//")
    ]


@pytest.mark.slow
def test_every_quote_is_on_its_cited_page(deck_service):
    """General property over every question of the eval set: a quote is an exact substring of the page
    it cites, each citation's marker is in the answer, and every shown line is page text."""
    for row in _dataset():
        answer = deck_service.answer(row["question"])
        for citation in answer.citations:
            page = deck_service.page_text(citation.doc_id, citation.page)
            assert page is not None and citation.quote in page, (row["id"], citation)
            assert f"{citation.doc_title} p.{citation.page}" in answer.answer
        if not answer.abstained:
            quotes = normalize("".join(c.quote for c in answer.citations))
            for line in answer.answer.splitlines():
                body = line.split("〔")[0].lstrip("・")
                assert normalize(body) in quotes, (row["id"], line)


def test_answer_json_shape(deck_service):
    data = deck_service.answer("量子技術への日本政府の投資額はどれくらい？").model_dump()
    assert {"question", "answer", "abstained", "mode", "citations", "sources", "timings_ms"} <= set(data)
    assert data["mode"] == "extractive"
    assert {"doc_id", "doc_title", "doc_date", "page", "quote", "score"} <= set(data["citations"][0])
    assert {"doc_id", "doc_title", "page", "score", "text", "chunk_id"} <= set(data["sources"][0])
    assert data["citations"][0]["doc_date"] == "2025-03-16"
    assert data["timings_ms"]["total_ms"] > 0


def test_document_filter_and_unknown_document(deck_service):
    from core.errors import UnknownDocuments

    doc = next(iter(deck_service.documents()))
    answer = deck_service.answer("半導体の基本戦略は？", documents=[doc])
    assert {s.doc_id for s in answer.sources} == {doc}
    with pytest.raises(UnknownDocuments):
        deck_service.answer("半導体の基本戦略は？", documents=["no-such-document"])
