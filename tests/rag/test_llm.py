"""LLM mode against a scripted OpenAI-compatible server: markers checked, invalid ones dropped,
citations mapped to doc/page, and the extractive answer on any failure."""

from __future__ import annotations

import pytest
from conftest import free_port
from openai_stub import StubServer

from rag.llm import check_markers
from rag.service import PolicyQA

QUESTION = "JASMの熊本進出による10年間の経済波及効果は？"


def test_check_markers_keeps_valid_drops_invalid():
    text, valid, invalid = check_markers("A [2]。B [9] [1]。C ［2］", 3)
    assert valid == [2, 1]
    assert invalid == ["[9]"]
    assert "[9]" not in text and "[2]" in text and "[1]" in text


@pytest.fixture
def llm_service(deck_settings, embedder):
    with StubServer(free_port()) as stub:
        settings = deck_settings.model_copy(
            update={"llm_base_url": stub.url, "llm_model": "stub-model", "llm_timeout_s": 1.0}
        )
        yield PolicyQA(settings, embedder=embedder), stub


def test_llm_answer_maps_markers_to_pages(llm_service):
    service, stub = llm_service
    stub.script.reply = "10年間の経済波及効果は4兆2,900億円と試算されています [1]。根拠外 [{n_sources}9]。"
    answer = service.answer(QUESTION, mode="llm")
    assert answer.mode == "llm"
    assert "4兆2,900億円" in answer.answer
    assert "[1]" in answer.answer and "9]" not in answer.answer.replace("[1]", "")
    source = answer.sources[0]
    assert [(c.doc_id, c.page) for c in answer.citations] == [(source.doc_id, source.page)]
    page_text = service.page_text(source.doc_id, source.page)
    assert all(c.quote in page_text for c in answer.citations)
    assert answer.notice and "dropped" in answer.notice
    prompt = stub.script.requests[-1]["messages"][-1]["content"]
    assert "[1] " in prompt and QUESTION in prompt


def test_llm_is_default_mode_when_configured(llm_service):
    service, stub = llm_service
    stub.script.reply = "回答 [2]"
    assert service.answer(QUESTION).mode == "llm"
    assert service.answer(QUESTION, mode="extractive").mode == "extractive"


@pytest.mark.parametrize("failure", ["http_error", "timeout", "no_markers"])
def test_llm_failure_falls_back_to_extractive(llm_service, failure):
    service, stub = llm_service
    if failure == "http_error":
        stub.script.status = 500
    elif failure == "timeout":
        stub.script.delay_s = 2.0  # longer than llm_timeout_s
    else:
        stub.script.reply = "根拠を示さない回答 [42]"
    answer = service.answer(QUESTION, mode="llm")
    assert answer.mode == "extractive"
    assert answer.notice and ("failed" in answer.notice or "no valid source" in answer.notice)
    assert "4兆2,900億円" in answer.answer
    assert any(c.page == 9 for c in answer.citations)


def test_llm_mode_without_endpoint_says_so(deck_service):
    answer = deck_service.answer(QUESTION, mode="llm")
    assert answer.mode == "extractive" and "no LLM endpoint" in (answer.notice or "")
