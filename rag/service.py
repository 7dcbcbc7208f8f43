"""The answering service: one ``PolicyQA`` per process, offering every use case the shells need.

It loads the embedder, tokenizer and index once; the CLI, the HTTP API, the chat and the evals
call its methods (ingest, upload, delete, documents, search, answer, readiness, warm-up) and
never wire the parts themselves. Its methods are thread-safe. Uploads are ingested by a
background worker (``rag.jobs``), paced so that answers keep their latency meanwhile.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, Concatenate, Literal, ParamSpec, TypeVar

import numpy as np

from core.embedders import Embedder, load_embedder
from core.errors import EmbedderMismatch, StoreUnavailable, UnknownDocuments, UnknownJob
from core.pace import BACKGROUND, InFlight
from core.settings import Settings
from core.store import DocumentRecord, RegistrySnapshot, Store
from core.text import has_japanese
from core.tokenize import Tokenizer
from ingest.pipeline import Background, Ingestor, ProgressFn
from ingest.report import FileResult, IngestReport
from rag.answer import ABSTAIN_EN, ABSTAIN_JA, Answer, Citation, Source, marker
from rag.crosslingual import TermTranslator
from rag.extractive import Composition, ExtractiveComposer
from rag.followups import Turn, resolve, understood
from rag.jobs import Job, Jobs
from rag.keyword_switch import SwitchingKeywordIndex
from rag.memo import Memo
from rag.retrieval import HybridRetriever, RankedChunk
from rag.uploads import Uploads

log = logging.getLogger(__name__)

COMPOSE_CHUNKS = 20
LINE_MEMO_SIZE = 20_000  # entries; a line's vector is 2 KiB, so at most ~40 MiB
WARM_UP_TEXT = "経済安全保障"


P = ParamSpec("P")
R = TypeVar("R")


def _serving(method: Callable[Concatenate[PolicyQA, P], R]) -> Callable[Concatenate[PolicyQA, P], R]:
    """Counted as a request in flight while it runs: background work rests meanwhile (core.pace)."""

    @functools.wraps(method)
    def counted(self: PolicyQA, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.in_flight:
            return method(self, *args, **kwargs)

    return counted


class PolicyQA:
    """Everything a process needs to answer: settings, store, embedder, tokenizer, retriever."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.embedder = embedder or load_embedder(
            settings.embedder, threads=settings.embed_threads, batch=settings.embed_batch
        )
        self.tokenizer = Tokenizer()
        self.store = Store(settings, self.embedder.name, self.embedder.dimension, self.embedder.embed)
        cache = settings.data_dir / "cache" / f"terms-{_slug(self.embedder.name)}.npz"
        self.retriever = HybridRetriever(
            self.store,
            self.embedder,
            self.tokenizer,
            candidates=settings.candidates,
            translator=TermTranslator(self.embedder, cache),
        )
        # Uploads commit while requests are answered: their keyword index is built before the commit.
        self.keyword = SwitchingKeywordIndex(self.store)
        self.retriever.keyword = self.keyword
        # Page lines recur across questions (the same pages answer many): remember their tokens and vectors.
        self._line_tokens: Memo[str, tuple[str, ...]] = Memo(LINE_MEMO_SIZE)
        self._line_vectors: Memo[str, np.ndarray] = Memo(LINE_MEMO_SIZE)
        self.composer = ExtractiveComposer(
            self._tokens_of_line,
            self.retriever.query_groups,
            self.retriever.keyword.idf,
            self._unit_similarity,
            known=self.retriever.keyword.knows,
            names=self.tokenizer.proper_noun_groups,
            document_holds=self.retriever.keyword.document_holds,
        )
        self._llm = None
        self.uploads = Uploads(settings, self.store, self._ingest)
        self.jobs = Jobs(settings.upload_queue)
        self.in_flight = InFlight()  # answers and searches: background work rests while there are any
        self.pace = replace(BACKGROUND, busy=self.in_flight.busy)

    # -------------------------------------------------------------- the index
    def ingest(
        self,
        paths: Sequence[Path] | None = None,
        *,
        prune: bool = False,
        reset: bool = False,
        progress: ProgressFn | None = None,
        allow_duplicates: bool = False,
    ) -> IngestReport:
        """Ingest PDFs (default: the corpus folder); ``reset`` first drops the whole index. A copy of
        a live document is reported as a duplicate and skipped unless ``allow_duplicates``."""
        with self.uploads.exclusive():
            if reset:
                self.store.reset()
            return self._ingest(paths, prune=prune, progress=progress, allow_duplicates=allow_duplicates)

    def _ingest(
        self,
        paths: Sequence[Path] | None,
        *,
        prune: bool = False,
        progress: ProgressFn | None = None,
        allow_duplicates: bool = False,
        background: Background | None = None,
    ) -> IngestReport:
        ingestor = Ingestor(self.settings, self.store, self.embedder, self.tokenizer, background)
        return ingestor.run(
            list(paths) if paths else None, prune=prune, progress=progress, allow_duplicates=allow_duplicates
        )

    def submit_upload(self, stream: BinaryIO, doc_id: str, *, allow_duplicate: bool = False) -> Job:
        """Stage one PDF and queue its ingest; returns the job at once. What needs no ingest is
        refused here (size, not a PDF, empty, a copy of a live document unless ``allow_duplicate``,
        a full queue); what the ingest finds (encrypted, corrupt, no text, past a limit) fails the
        job with the same error. On any rejection the index and the uploads folder stay as they were."""
        staged = self.uploads.stage(stream, doc_id, allow_duplicate=allow_duplicate)

        def work(job: Job) -> tuple[IngestReport, FileResult]:
            background = Background(self.pace, self._before_commit, job.set_phase)
            return self.uploads.ingest_staged(staged, allow_duplicate=allow_duplicate, background=background)

        try:
            return self.jobs.submit(doc_id, work, staged.release)
        except BaseException:
            staged.release()
            raise

    def upload(
        self, stream: BinaryIO, doc_id: str, *, allow_duplicate: bool = False
    ) -> tuple[IngestReport, FileResult]:
        """``submit_upload`` and wait for its job: the result, or the job's error raised here."""
        job = self.submit_upload(stream, doc_id, allow_duplicate=allow_duplicate)
        job.wait()
        if job.error is not None:
            raise job.error
        assert job.report is not None and job.result is not None
        return job.report, job.result

    def job(self, job_id: str) -> Job:
        found = self.jobs.get(job_id)
        if found is None:
            raise UnknownJob(f"no upload job {job_id!r} in this server (jobs are forgotten at a restart)")
        return found

    def _before_commit(self, snap: RegistrySnapshot) -> None:
        """An upload's next keyword index and new term vectors, built before its commit so that the
        first requests after it wait for neither."""
        state = self.keyword.prepare(snap)
        translator = self.retriever.translator
        if translator is not None and state.bm25 is not None:
            translator.learn(state.bm25.vocab_dict, self.pace.texts)

    def delete_document(self, doc_id: str) -> tuple[bool, bool]:
        """(deleted, file_removed): the PDF goes too when it was uploaded. Its records are deleted
        in paced steps (see ``core.pace``): a delete is served beside answers."""
        return self.uploads.delete(doc_id, self.pace)

    def readiness(self) -> RegistrySnapshot:
        """The live registry when this process can answer now; raises the reason otherwise."""
        self.store.ping()
        snapshot = self.store.snapshot()
        self.retriever.keyword.refresh()
        return snapshot

    def warm_up(self) -> None:
        """Load what the first request would otherwise wait for; an unreachable index is logged, not
        raised, so a server still comes up (its readiness probe says what is wrong)."""
        started = time.perf_counter()
        self.retriever.query_vector(WARM_UP_TEXT)  # the embedder loads its model on first use
        self.tokenizer.query_tokens(WARM_UP_TEXT)
        try:
            self.retriever.keyword.refresh()
            self.uploads.sweep_if_idle()  # what an upload killed mid-way left behind
        except (StoreUnavailable, EmbedderMismatch) as exc:
            log.warning("starting without the index (readiness stays 503 until this is fixed): %s", exc)
        except Exception:  # the process must come up; readiness reports what is wrong
            log.exception("starting without the index (readiness stays 503 until this is fixed)")
        log.info("warm-up done in %.0f ms", (time.perf_counter() - started) * 1000)

    def close(self) -> None:
        """Stop the upload worker (waiting jobs fail with ``shutting_down``) and let go of the index
        connection (other processes then see a quiet embedded index)."""
        self.jobs.close()
        self.store.close()

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
    @_serving
    def search(
        self,
        query: str,
        *,
        top_k: int | None = None,
        documents: Sequence[str] | None = None,
        legs: str = "hybrid",
        timings: dict[str, float] | None = None,
        focus: str | None = None,
    ) -> list[RankedChunk]:
        doc_ids = self.check_documents(documents)
        return self.retriever.retrieve(
            query,
            top_k=top_k or self.settings.top_k,
            doc_ids=doc_ids,
            legs=legs,
            timings=timings,
            focus=focus,
        )

    # -------------------------------------------------------------- answer
    @_serving
    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        documents: Sequence[str] | None = None,
        mode: Literal["extractive", "llm"] | None = None,
        legs: str = "hybrid",
        history: Sequence[Turn] = (),
    ) -> Answer:
        """Retrieve, compose a cited answer, or abstain when the evidence is weak.

        ``history`` is the conversation so far, oldest first: a follow-up that leans on it is asked
        together with the conversation's topic, and the answer says so (``understood_as``)."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        question = question.strip()
        resolution = resolve(question, history)
        query = resolution.query
        top_k = top_k or self.settings.top_k
        # The composer reads more than it returns: a list asked for may sit on a page ranked just below top_k.
        ranked = self.search(
            query,
            top_k=max(top_k, COMPOSE_CHUNKS),
            documents=documents,
            legs=legs,
            timings=timings,
            focus=question if resolution.topic else None,  # what a follow-up asks decides its pages' rank
        )
        t = time.perf_counter()
        pages = self._page_loader(ranked)
        # A follow-up's pages are found with the conversation's topic; its lines are chosen by what
        # it asks: the topic's own words would pull back the lines that answered the last turn.
        composition = self.composer.compose(
            question if resolution.topic else query, ranked, pages, topic=resolution.topic
        )
        timings["compose_ms"] = (time.perf_counter() - t) * 1000
        sources = [Source.of(c) for c in ranked[:top_k]]
        english = not has_japanese(question)
        threshold = self.settings.abstain_below_english if english else self.settings.abstain_below
        if not composition.evidence or composition.confidence < threshold:
            result = Answer(
                question=question,
                answer=ABSTAIN_EN if english else ABSTAIN_JA,
                abstained=True,
                mode="extractive",
                citations=[],
                sources=sources,
                timings_ms=timings,
                confidence=round(composition.confidence, 4),
            )
        else:
            result = self._extractive_answer(question, composition, sources, timings)
            wanted = mode or ("llm" if self.settings.llm_enabled else "extractive")
            if wanted == "llm":
                from rag.llm import llm_answer

                result = llm_answer(self, query, ranked[:top_k], result)
        if resolution.topic is not None:
            note = understood(resolution.topic, question)
            result = result.model_copy(update={"answer": f"{note}{result.answer}", "understood_as": query})
        result.timings_ms["total_ms"] = (time.perf_counter() - started) * 1000
        result.timings_ms = {k: round(v, 2) for k, v in result.timings_ms.items()}
        return result

    def _page_loader(self, ranked: Sequence[RankedChunk]) -> Callable[[str, int], str | None]:
        # Pages of the generation the chunks came from: a document replaced since the retrieval
        # must not lend the answer quotes from its new version.
        wanted: dict[tuple[str, str], set[int]] = {}
        for chunk in ranked:
            wanted.setdefault((chunk.doc_id, chunk.gen), set()).add(chunk.page)
        texts = self.store.pages_of_generations({key: sorted(pages) for key, pages in wanted.items()})
        return lambda doc_id, page: texts.get((doc_id, page))

    @staticmethod
    def _extractive_answer(
        question: str, composition: Composition, sources: list[Source], timings: dict[str, float]
    ) -> Answer:
        lines: list[str] = []
        citations: list[Citation] = []
        for ev in composition.evidence:
            cite = marker(ev.doc_title, ev.page)
            if len(ev.lines) == 1:
                lines.append(f"{ev.lines[0]} {cite}")
            else:
                lines.extend(ev.lines[:-1])
                lines.append(f"{ev.lines[-1]} {cite}")
            citations.append(Citation.of(ev, quote=ev.quote, score=ev.score))
        return Answer(
            question=question,
            answer="\n".join(lines),
            abstained=False,
            mode="extractive",
            citations=citations,
            sources=sources,
            timings_ms=timings,
            confidence=round(composition.confidence, 4),
        )

    def llm(self) -> Any:
        """The LLM client, made on first use (only when LLM mode is used)."""
        if self._llm is None:
            from rag.llm import make_llm

            self._llm = make_llm(self.settings)
        return self._llm

    def _tokens_of_line(self, text: str) -> tuple[str, ...]:
        return self._line_tokens(text, lambda t: tuple(self.tokenizer.tokens(t)))

    def _unit_similarity(self, question: str, texts: list[str]) -> list[float]:
        vectors = np.vstack(
            self._line_vectors.many(texts, lambda missing: list(self.embedder.embed(missing)))
        )
        return [float(v) for v in vectors @ self.retriever.query_vector(question)]


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name)[-60:]


_default_service: PolicyQA | None = None


def answer(
    question: str,
    *,
    top_k: int | None = None,
    documents: Sequence[str] | None = None,
    mode: Literal["extractive", "llm"] | None = None,
) -> Answer:
    """Library entry point: a process-wide service configured from the environment on first use."""
    global _default_service
    if _default_service is None:
        _default_service = PolicyQA(Settings())
    return _default_service.answer(question, top_k=top_k, documents=documents, mode=mode)
