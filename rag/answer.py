"""What an answer is: the ``Answer`` with its citations and sources, and the one way each is built.

Every shell returns these models (the API's JSON, ``policyqa ask --json``, the chat, the evals),
so the shape of a citation or a source is defined here once.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, Field

from rag.retrieval import RankedChunk

ABSTAIN_JA = "資料中に該当する記述が見つかりませんでした。"
ABSTAIN_EN = "No passage in the documents answers this question."


class CitedPage(Protocol):
    """Anything that names a document page: a retrieved chunk, a piece of composed evidence."""

    @property
    def doc_id(self) -> str: ...
    @property
    def doc_title(self) -> str: ...
    @property
    def doc_date(self) -> str: ...
    @property
    def page(self) -> int: ...


class Citation(BaseModel):
    doc_id: str
    doc_title: str
    doc_date: str
    page: int = Field(description="1-based physical page of the PDF")
    quote: str = Field(description="Exact text of the cited page")
    score: float
    url: str | None = Field(None, description="Link that opens the PDF at the cited page")

    @classmethod
    def of(cls, cited: CitedPage, *, quote: str, score: float, digits: int = 4) -> Citation:
        return cls(
            doc_id=cited.doc_id,
            doc_title=cited.doc_title,
            doc_date=cited.doc_date,
            page=cited.page,
            quote=quote,
            score=round(score, digits),
        )


class Source(BaseModel):
    """A retrieved passage: what an answer was drawn from, and what ``/v1/search`` returns."""

    doc_id: str
    doc_title: str
    page: int = Field(description="1-based physical page of the PDF")
    score: float = Field(description="Fused reciprocal-rank score (higher is better)")
    text: str
    chunk_id: str

    @classmethod
    def of(cls, chunk: RankedChunk) -> Source:
        return cls(
            doc_id=chunk.doc_id,
            doc_title=chunk.doc_title,
            page=chunk.page,
            score=round(chunk.score, 6),
            text=chunk.text,
            chunk_id=chunk.chunk_id,
        )


class Answer(BaseModel):
    question: str
    answer: str
    abstained: bool
    mode: Literal["extractive", "llm"]
    citations: list[Citation]
    sources: list[Source]
    timings_ms: dict[str, float]
    confidence: float = Field(
        description="Evidence strength in [0, 1]; the service abstains below a threshold"
    )
    understood_as: str | None = Field(
        None,
        description="Set when the question was read as a follow-up: the question as it was asked of the "
        "documents, with the conversation's topic",
    )
    notice: str | None = Field(
        None,
        description="Set when the answer differs from what was asked, e.g. an LLM "
        "failure that fell back to the extractive answer",
    )


def marker(title: str, page: int) -> str:
    """The inline citation after a quoted passage: 〔title p.N〕."""
    return f"〔{title} p.{page}〕"
