"""The answering service: the one ``answer()`` that the CLI, the API, the UI and the evals call.

``PolicyQA`` loads the embedder, tokenizer and index once and is shared by
every caller in a process; its methods are thread-safe.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from ingest.text import has_japanese
from rag.crosslingual import TermTranslator
from rag.embedders import Embedder, load_embedder
from rag.extractive import Composition, Evidence, ExtractiveComposer
from rag.memo import Memo
from rag.retrieval import HybridRetriever, RankedChunk
from rag.settings import Settings
from rag.store import DocumentRecord, Store
from rag.tokenize import Tokenizer

COMPOSE_CHUNKS = 20
LINE_MEMO_SIZE = 20_000  # entries; a line's vector is 2 KiB, so at most ~40 MiB
ABSTAIN_JA = "資料中に該当する記述が見つかりませんでした。"
ABSTAIN_EN = "No passage in the documents answers this question."


class Citation(BaseModel):
    doc_id: str
    doc_title: str
    doc_date: str
    page: int = Field(description="1-based physical page of the PDF")
    quote: str = Field(description="Exact text of the cited page")
    score: float
    url: str | None = Field(None, description="Link that opens the PDF at the cited page")


class Source(BaseModel):
    doc_id: str
    doc_title: str
    page: int
    score: float
    text: str
    chunk_id: str


class Answer(BaseModel):
    question: str
    answer: str
    abstained: bool
    mode: Literal["extractive", "llm"]
    citations: list[Citation]
    sources: list[Source]
    timings_ms: dict[str, float]
    confidence: float = Field(description="Evidence strength in [0, 1]; the service abstains below a threshold")
    notice: str | None = Field(None, description="Set when the answer differs from what was asked, e.g. an LLM "
                                                 "failure that fell back to the extractive answer")


class UnknownDocuments(ValueError):
    def __init__(self, missing: Sequence[str]):
        super().__init__(f"unknown document id(s): {', '.join(missing)}")
        self.missing = list(missing)


def marker(title: str, page: int) -> str:
    return f"〔{title} p.{page}〕"


class PolicyQA:
    """Everything a process needs to answer: settings, store, embedder, tokenizer, retriever."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.embedder = embedder or load_embedder(settings.embedder, threads=settings.embed_threads,
                                                  batch=settings.embed_batch)
        self.tokenizer = Tokenizer()
        self.store = Store(settings, self.embedder.name, self.embedder.dimension)
        cache = settings.data_dir / "cache" / f"terms-{_slug(self.embedder.name)}.npz"
        self.retriever = HybridRetriever(self.store, self.embedder, self.tokenizer,
                                         candidates=settings.candidates, translator=TermTranslator(self.embedder, cache))
        # Page lines recur across questions (the same pages answer many): remember their tokens and vectors.
        self._line_tokens: Memo[str, tuple[str, ...]] = Memo(LINE_MEMO_SIZE)
        self._line_vectors: Memo[str, np.ndarray] = Memo(LINE_MEMO_SIZE)
        self.composer = ExtractiveComposer(self._tokens_of_line, self.retriever.query_terms,
                                           self.retriever.keyword.idf, self._unit_similarity)
        self._llm = None

    # -------------------------------------------------------------- documents
    def documents(self) -> dict[str, DocumentRecord]:
        return dict(sorted(self.store.snapshot().documents.items()))

    def check_documents(self, doc_ids: Sequence[str] | None) -> list[str] | None:
        if not doc_ids:
            return None
        known = self.store.snapshot().documents
        missing = [d for d in doc_ids if d not in known]
        if missing:
            raise UnknownDocuments(missing)
        return list(dict.fromkeys(doc_ids))

    def page_text(self, doc_id: str, page: int) -> str | None:
        return self.store.page_texts(doc_id, [page]).get(page)

    # -------------------------------------------------------------- search
    def search(self, query: str, *, top_k: int | None = None, documents: Sequence[str] | None = None,
               legs: str = "hybrid", timings: dict[str, float] | None = None) -> list[RankedChunk]:
        doc_ids = self.check_documents(documents)
        return self.retriever.retrieve(query, top_k=top_k or self.settings.top_k, doc_ids=doc_ids, legs=legs,
                                       timings=timings)

    # -------------------------------------------------------------- answer
    def answer(self, question: str, *, top_k: int | None = None, documents: Sequence[str] | None = None,
               mode: Literal["extractive", "llm"] | None = None, legs: str = "hybrid") -> Answer:
        """Retrieve, compose a cited answer, or abstain when the evidence is weak."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        question = question.strip()
        top_k = top_k or self.settings.top_k
        # The composer reads more than it returns: a list asked for may sit on a page ranked just below top_k.
        ranked = self.search(question, top_k=max(top_k, COMPOSE_CHUNKS), documents=documents, legs=legs,
                             timings=timings)
        t = time.perf_counter()
        pages = self._page_loader(ranked)
        composition = self.composer.compose(question, ranked, pages)
        timings["compose_ms"] = (time.perf_counter() - t) * 1000
        sources = [Source(**c.as_source()) for c in ranked[:top_k]]
        english = not has_japanese(question)
        threshold = self.settings.abstain_below_english if english else self.settings.abstain_below
        if not composition.evidence or composition.confidence < threshold:
            result = Answer(question=question, answer=ABSTAIN_EN if english else ABSTAIN_JA, abstained=True,
                            mode="extractive", citations=[], sources=sources, timings_ms=timings,
                            confidence=round(composition.confidence, 4))
        else:
            result = self._extractive_answer(question, composition, sources, timings)
            wanted = mode or ("llm" if self.settings.llm_enabled else "extractive")
            if wanted == "llm":
                from rag.llm import llm_answer

                result = llm_answer(self, question, ranked[:top_k], result)
        result.timings_ms["total_ms"] = (time.perf_counter() - started) * 1000
        result.timings_ms = {k: round(v, 2) for k, v in result.timings_ms.items()}
        return result

    def _page_loader(self, ranked: Sequence[RankedChunk]):
        # Pages of the generation the chunks came from: a document replaced since the retrieval
        # must not lend the answer quotes from its new version.
        wanted: dict[tuple[str, str], set[int]] = {}
        for chunk in ranked:
            wanted.setdefault((chunk.doc_id, chunk.gen), set()).add(chunk.page)
        texts = self.store.pages_of_generations({key: sorted(pages) for key, pages in wanted.items()})
        return lambda doc_id, page: texts.get((doc_id, page))

    @staticmethod
    def _extractive_answer(question: str, composition: Composition, sources: list[Source],
                           timings: dict[str, float]) -> Answer:
        lines: list[str] = []
        citations: list[Citation] = []
        for ev in composition.evidence:
            cite = marker(ev.doc_title, ev.page)
            if len(ev.lines) == 1:
                lines.append(f"{ev.lines[0]} {cite}")
            else:
                lines.extend(ev.lines[:-1])
                lines.append(f"{ev.lines[-1]} {cite}")
            citations.append(_citation(ev))
        return Answer(question=question, answer="\n".join(lines), abstained=False, mode="extractive",
                      citations=citations, sources=sources, timings_ms=timings,
                      confidence=round(composition.confidence, 4))

    def llm(self):
        """The LLM client, made on first use (only when LLM mode is used)."""
        if self._llm is None:
            from rag.llm import make_llm

            self._llm = make_llm(self.settings)
        return self._llm

    def _tokens_of_line(self, text: str) -> tuple[str, ...]:
        return self._line_tokens(text, lambda t: tuple(self.tokenizer.tokens(t)))

    def _unit_similarity(self, question: str, texts: list[str]) -> list[float]:
        vectors = np.vstack(self._line_vectors.many(texts, lambda missing: list(self.embedder.embed(missing))))
        return [float(v) for v in vectors @ self.retriever.query_vector(question)]


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name)[-60:]


def _citation(ev: Evidence) -> Citation:
    return Citation(doc_id=ev.doc_id, doc_title=ev.doc_title, doc_date=ev.doc_date, page=ev.page,
                    quote=ev.quote, score=round(ev.score, 4))


_default_service: PolicyQA | None = None


def answer(question: str, *, top_k: int | None = None, documents: Sequence[str] | None = None,
           mode: Literal["extractive", "llm"] | None = None) -> Answer:
    """Library entry point: a process-wide service configured from the environment on first use."""
    global _default_service
    if _default_service is None:
        _default_service = PolicyQA(Settings())
    return _default_service.answer(question, top_k=top_k, documents=documents, mode=mode)
