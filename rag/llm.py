"""Optional answers written by an LLM behind any OpenAI-compatible endpoint (Ollama, vLLM,
llama.cpp server, OpenAI), grounded in the same retrieved chunks.

The model sees numbered sources and must cite them as [n]. Every marker in the
reply is checked against the sources it was given: valid ones become doc/page
citations, invalid ones are removed and reported. If the endpoint fails, times
out or cites nothing, the extractive answer is returned instead, saying why.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.settings import Settings
from rag.answer import Answer, Citation
from rag.retrieval import RankedChunk

if TYPE_CHECKING:
    from rag.service import PolicyQA

log = logging.getLogger(__name__)

_MARKER = re.compile(r"[\[［]\s*(\d{1,3})\s*[\]］]")

SYSTEM_PROMPT = (
    "You answer questions about Japanese government policy documents using only the numbered sources "
    "given. Answer in the language of the question, briefly. After every sentence, cite the sources it "
    "comes from as [n]. If the sources do not answer the question, say so and cite nothing. Never use "
    "knowledge that is not in the sources."
)


def build_messages(question: str, sources: Sequence[RankedChunk]) -> list[Any]:
    from llama_index.core.llms import ChatMessage, MessageRole

    numbered = "\n\n".join(
        f"[{i}] {c.doc_title} p.{c.page}\n{c.text}" for i, c in enumerate(sources, start=1)
    )
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=SYSTEM_PROMPT),
        ChatMessage(role=MessageRole.USER, content=f"Sources:\n\n{numbered}\n\nQuestion: {question}"),
    ]


def check_markers(reply: str, n_sources: int) -> tuple[str, list[int], list[str]]:
    """(reply without invalid markers, valid source numbers in order of first use, invalid markers)."""
    valid: list[int] = []
    invalid: list[str] = []

    def keep_or_drop(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if 1 <= number <= n_sources:
            if number not in valid:
                valid.append(number)
            return f"[{number}]"
        invalid.append(match.group(0))
        return ""

    cleaned = _MARKER.sub(keep_or_drop, reply)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip(), valid, invalid


def make_llm(settings: Settings) -> Any:
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        model=settings.llm_model,
        api_base=settings.llm_base_url,
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "unused",
        is_chat_model=True,
        timeout=settings.llm_timeout_s,
        max_retries=0,
        temperature=0.0,
        context_window=32768,
    )


def llm_answer(service: PolicyQA, question: str, ranked: Sequence[RankedChunk], extractive: Answer) -> Answer:
    """The LLM's answer with checked citations, or the extractive one with a notice."""
    settings = service.settings
    if not settings.llm_enabled:
        return extractive.model_copy(
            update={
                "notice": "LLM mode requested but no LLM endpoint is configured "
                "(POLICYQA_LLM_BASE_URL, POLICYQA_LLM_MODEL)"
            }
        )
    sources = list(ranked)
    started = time.perf_counter()
    try:
        reply = service.llm().chat(build_messages(question, sources)).message.content or ""
    except Exception as exc:  # noqa: BLE001 - any endpoint failure falls back, with the reason
        log.warning("LLM endpoint failed: %s", exc)
        return extractive.model_copy(
            update={"notice": f"LLM endpoint failed ({type(exc).__name__}); showing the extractive answer"}
        )
    elapsed = (time.perf_counter() - started) * 1000
    text, valid, invalid = check_markers(reply, len(sources))
    if not valid:
        return extractive.model_copy(
            update={
                "notice": "LLM reply cited no valid source; showing the extractive answer"
                + (f" (dropped markers: {' '.join(invalid)})" if invalid else "")
            }
        )
    citations = [
        Citation.of(sources[n - 1], quote=sources[n - 1].text, score=sources[n - 1].score, digits=6)
        for n in valid
    ]
    notice = f"dropped citation markers not matching any source: {' '.join(invalid)}" if invalid else None
    return extractive.model_copy(
        update={
            "answer": text,
            "mode": "llm",
            "citations": citations,
            "notice": notice,
            "timings_ms": {**extractive.timings_ms, "llm_ms": elapsed},
        }
    )
