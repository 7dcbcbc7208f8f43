"""POST /v1/answer, /v1/answer/stream and /v1/search: thin shells over ``PolicyQA``."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from core.errors import LlmNotConfigured, PolicyQAError
from policyqa.api.dependencies import ServiceDep, SettingsDep
from policyqa.api.errors import domain_error_body, error_body
from policyqa.api.schemas import (
    EXAMPLE_DOC,
    AnswerRequest,
    SearchRequest,
    SearchResponse,
    error_responses,
    json_error_responses,
)
from rag import links
from rag.answer import Answer, Source
from rag.followups import Turn
from rag.service import PolicyQA

log = logging.getLogger("policyqa.api")

router = APIRouter(tags=["answers"])

ANSWER_EXAMPLES = {
    "japanese": {
        "summary": "A question in Japanese",
        "value": {"question": "特定重要物資はいくつ指定されていますか"},
    },
    "scoped": {
        "summary": "Only one document, fewer sources",
        "value": {
            "question": "経済安全保障推進法はいつ成立しましたか",
            "top_k": 3,
            "documents": [EXAMPLE_DOC],
        },
    },
    "english": {
        "summary": "A question in English",
        "value": {"question": "How many specified critical products are designated?", "mode": "extractive"},
    },
}

SEARCH_EXAMPLES = {
    "keywords": {"summary": "Keywords", "value": {"query": "半導体 サプライチェーン", "top_k": 5}},
    "scoped": {
        "summary": "Only one document",
        "value": {"query": "特定重要物資", "documents": [EXAMPLE_DOC]},
    },
}


ANSWER_EXAMPLE = {
    "question": "特定重要物資はいくつ指定されていますか",
    "answer": "- 12の特定重要物資※を指定。\n※経産省関係では、半導体、蓄電池、クラウド、…の9つ（令和6年4月現在） "
    "〔経済安全保障に関する官民連携アクション p.16〕",
    "abstained": False,
    "mode": "extractive",
    "citations": [
        {
            "doc_id": EXAMPLE_DOC,
            "doc_title": "経済安全保障に関する官民連携アクション",
            "doc_date": "2025-03-16",
            "page": 16,
            "quote": "- 12の特定重要物資※を指定。…",
            "score": 0.8636,
            "url": f"/v1/documents/{EXAMPLE_DOC}/pdf#page=16",
        }
    ],
    "sources": [
        {
            "doc_id": EXAMPLE_DOC,
            "doc_title": "経済安全保障に関する官民連携アクション",
            "page": 16,
            "score": 0.032522,
            "text": "経済安全保障に関する産業・技術基盤の強化（基本的考え方）…",
            "chunk_id": f"{EXAMPLE_DOC}:f9a9096695960cd50c6b:34",
        }
    ],
    "timings_ms": {"dense_ms": 11.8, "keyword_ms": 4.1, "compose_ms": 52.3, "total_ms": 70.6},
    "confidence": 0.7132,
    "notice": None,
}


def pdf_url(request: Request, doc_id: str, page: int | None = None) -> str:
    """Where this API serves a document's PDF (root-relative; under the proxy's root path if one is set)."""
    base = request.scope.get("root_path", "")
    return links.pdf_url(doc_id, base=base) if page is None else links.citation_url(doc_id, page, base=base)


def checked_answer_request(
    body: Annotated[AnswerRequest, Body(openapi_examples=ANSWER_EXAMPLES)],
    service: ServiceDep,
    settings: SettingsDep,
) -> AnswerRequest:
    """Reject what would fail later, before any work (and before an event stream starts)."""
    if body.mode == "llm" and not settings.llm_enabled:
        raise LlmNotConfigured(
            "mode 'llm' needs an LLM endpoint: set POLICYQA_LLM_BASE_URL and "
            "POLICYQA_LLM_MODEL, or ask with mode 'extractive'"
        )
    service.store.snapshot()  # an unreachable index is a 503 now, not an error event mid-stream
    service.check_documents(body.documents)
    return body


CheckedAnswerRequest = Annotated[AnswerRequest, Depends(checked_answer_request)]


def _answer(service: PolicyQA, request: Request, body: AnswerRequest) -> Answer:
    history = [Turn(t.question, t.answer) for t in body.history]
    result = service.answer(
        body.question, top_k=body.top_k, documents=body.documents or None, mode=body.mode, history=history
    )
    for citation in result.citations:
        citation.url = pdf_url(request, citation.doc_id, citation.page)
    return result


@router.post(
    "/answer",
    response_model=Answer,
    responses={
        200: {"content": {"application/json": {"example": ANSWER_EXAMPLE}}},
        **error_responses(400, 404, 413, 422, 503),
    },
    summary="Answer a question with page citations",
)
def answer(request: Request, body: CheckedAnswerRequest, service: ServiceDep) -> Answer:
    """Retrieve passages, compose an answer quoting them, and cite each document page.

    When the evidence is too weak the answer says so (`abstained: true`, no citations) instead of
    guessing. Each citation's `url` opens the PDF at the cited page.
    """
    return _answer(service, request, body)


@router.post(
    "/answer/stream",
    response_class=EventSourceResponse,
    responses=json_error_responses(400, 404, 413, 422, 503),
    summary="Answer a question, as Server-Sent Events",
)
async def answer_stream(
    request: Request, body: CheckedAnswerRequest, service: ServiceDep
) -> AsyncIterator[ServerSentEvent]:
    """The same answer as `POST /v1/answer`, delivered as a `text/event-stream`.

    Events, in order:

    * `token` (only in LLM mode, once the LLM module streams): `{"text": "..."}` pieces of the answer
      as they are generated. Not emitted today; clients must ignore events they do not know.
    * `answer`: the complete Answer object (same JSON as `POST /v1/answer`), always sent once.
    * `done`: `{"total_ms": ...}`; the stream ends after it.
    * `error`: `{"error": {"code", "message"}}` instead of `answer` when answering failed after the
      stream had started (e.g. the index became unreachable); the stream ends after it.

    Invalid requests (validation, unknown documents, index unreachable at the start) get the usual
    JSON error response with a 4xx/5xx status instead of a stream.
    """
    started = time.perf_counter()
    try:
        result = await run_in_threadpool(_answer, service, request, body)
    except PolicyQAError as exc:
        yield ServerSentEvent(event="error", data=domain_error_body(exc))
        return
    except Exception:
        log.exception("answer stream failed")
        yield ServerSentEvent(event="error", data=error_body("internal_error", "internal server error"))
        return
    yield ServerSentEvent(event="answer", data=result)
    yield ServerSentEvent(event="done", data={"total_ms": round((time.perf_counter() - started) * 1000, 2)})


@router.post(
    "/search",
    response_model=SearchResponse,
    responses=error_responses(400, 404, 413, 422, 503),
    summary="Ranked passages for a query (no answer)",
)
def search(
    body: Annotated[SearchRequest, Body(openapi_examples=SEARCH_EXAMPLES)], service: ServiceDep
) -> SearchResponse:
    """The ranked chunks behind an answer: the same JSON as `policyqa search --json`."""
    hits = service.search(body.query, top_k=body.top_k, documents=body.documents or None)
    return SearchResponse(query=body.query, sources=[Source.of(h) for h in hits])
