"""The keyword leg: BM25 over the Japanese tokens stored with each chunk at ingest time.

The index is derived from the chunks stored in Chroma and follows the registry: when the
registry revision changes (this process or another one ingested), only the generations that
appeared or disappeared are fetched and the BM25 matrix is rebuilt from cached token lists.
It also answers which words a page or a document holds anywhere (page coverage, names).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import bm25s
import numpy as np

from core.store import RegistrySnapshot, Store, StoredChunk
from rag.coverage import Coverage


@dataclass
class KeywordState:
    """One revision's keyword index, replaced whole and never changed after it is shown, so a
    reader holding it sees one consistent index while the next is built."""

    revision: str | None = None
    chunks: list[StoredChunk] = field(default_factory=list)
    by_id: dict[str, StoredChunk] = field(default_factory=dict)
    by_gen: dict[str, list[StoredChunk]] = field(default_factory=dict)
    bm25: bm25s.BM25 | None = None
    idf: dict[str, float] = field(default_factory=dict)
    doc_index: dict[str, np.ndarray] = field(default_factory=dict)
    page_tokens: dict[tuple[str, int], frozenset[str]] = field(default_factory=dict)
    doc_tokens: dict[str, frozenset[str]] = field(default_factory=dict)


def build_keyword_state(store: Store, snap: RegistrySnapshot, held: KeywordState) -> KeywordState:
    """The keyword index of ``snap``'s live generations; those ``held`` already has are reused,
    only new ones are read from the store."""
    live = {d.gen for d in snap.documents.values()}
    by_gen = {g: c for g, c in held.by_gen.items() if g in live}
    for gen in live - by_gen.keys():
        by_gen[gen] = store.chunks_of_generation(gen)
    chunks = [c for gen in sorted(by_gen) for c in by_gen[gen]]
    new = KeywordState(
        revision=snap.revision, chunks=chunks, by_gen=by_gen, by_id={c.chunk_id: c for c in chunks}
    )
    corpus = [c.meta.tokens.split() for c in chunks]
    if chunks:
        new.bm25 = bm25s.BM25()
        new.bm25.index([toks or [""] for toks in corpus], show_progress=False)
        df = Counter(t for toks in corpus for t in set(toks))
        n = len(corpus)
        new.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        doc_ids = np.array([c.doc_id for c in chunks])
        new.doc_index = {d: np.flatnonzero(doc_ids == d) for d in np.unique(doc_ids)}
        page_tokens: dict[tuple[str, int], set[str]] = {}
        doc_tokens: dict[str, set[str]] = {}
        for chunk, toks in zip(chunks, corpus):
            page_tokens.setdefault((chunk.doc_id, chunk.page), set()).update(toks)
            doc_tokens.setdefault(chunk.doc_id, set()).update(toks)
        new.page_tokens = {key: frozenset(toks) for key, toks in page_tokens.items()}
        new.doc_tokens = {doc: frozenset(toks) for doc, toks in doc_tokens.items()}
    return new


class KeywordIndex:
    """BM25 over the token lists stored with each chunk at ingest time."""

    def __init__(self, store: Store):
        self._store = store
        self._state = KeywordState()
        self._lock = threading.Lock()

    def refresh(self, snap: RegistrySnapshot | None = None) -> KeywordState:
        snap = snap or self._store.snapshot()
        state = self._state
        if state.revision == snap.revision:
            return state
        with self._lock:
            if self._state.revision == snap.revision:
                return self._state
            return self._update(snap)

    def _update(self, snap: RegistrySnapshot) -> KeywordState:
        """Under the lock, for a revision other than the one held: the state to read it with."""
        self._state = build_keyword_state(self._store, snap, held=self._state)
        return self._state

    def knows(self, token: str) -> bool:
        """Does any indexed chunk hold the token?"""
        return token in self._state.idf

    def document_holds(self, doc_id: str, token: str) -> bool:
        """Does any page of the document hold the token?"""
        return token in self._state.doc_tokens.get(doc_id, frozenset())

    def idf(self, token: str) -> float:
        """Rarity of a token in the corpus; unseen tokens count as rare."""
        state = self._state
        return state.idf.get(token, math.log(1 + (len(state.chunks) + 0.5) / 0.5) if state.chunks else 1.0)

    def page_coverage(self, coverage: Coverage) -> Callable[[str, int], float]:
        """How much of the question (``coverage``) a page holds anywhere, by (doc_id, page).

        A chunk is a window; the question's terms are often spread over its page (a table's row
        label above, the figure in a cell below, the heading at the top). The page that holds all
        of them is the likelier answer than a page whose one chunk matches well."""
        page_tokens = self._state.page_tokens
        return lambda doc_id, page: coverage(page_tokens.get((doc_id, page), frozenset()))

    def search(
        self,
        query_tokens: Sequence[str],
        n: int,
        doc_ids: Sequence[str] | None = None,
        snap: RegistrySnapshot | None = None,
    ) -> list[tuple[StoredChunk, float]]:
        state = self.refresh(snap)
        if state.bm25 is None:
            return []
        known = [t for t in query_tokens if t in state.bm25.vocab_dict]
        if not known:
            return []
        mask = None
        if doc_ids:
            mask = np.zeros(len(state.chunks), dtype=np.float32)
            for d in doc_ids:
                if d in state.doc_index:
                    mask[state.doc_index[d]] = 1.0
        scores = np.asarray(state.bm25.get_scores(known, weight_mask=mask))
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(state.chunks[i], float(scores[i])) for i in top if scores[i] > 0]
