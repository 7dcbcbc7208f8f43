"""Finding chunks: dense (Chroma), keyword (BM25 over Japanese tokens, rag/keyword.py), fused by
reciprocal rank."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.embedders import Embedder
from core.store import RegistrySnapshot, Store, StoredChunk
from core.text import has_japanese
from core.tokenize import Tokenizer
from rag.abbreviations import with_other_forms
from rag.coverage import Coverage, TermGroup, flatten
from rag.crosslingual import TermTranslator
from rag.keyword import KeywordIndex, KeywordState
from rag.memo import Memo

RRF_K = 10
# An English question's words are mapped to Japanese among the words of the pages of this many
# chunks the dense leg ranks first (rag/crosslingual.py; chosen on the tune parts: 5, 10, 20).
SENSE_CHUNKS = 20
CONSISTENT_READ_ATTEMPTS = 5  # retrieval re-reads when a commit lands mid-way (see HybridRetriever.retrieve)
# Leg weights in the fusion, by question language (measured on the eval set, see evals/README.md):
# Japanese questions share exact terms with the pages, so the keyword leg leads; against Japanese
# pages an English question has only names and acronyms to match, so the multilingual dense leg leads.
FUSION_WEIGHTS = {"ja": {"dense": 0.35, "keyword": 1.0}, "en": {"dense": 1.0, "keyword": 0.3}}


@dataclass(frozen=True)
class RankedChunk:
    """One retrieved chunk with where each leg ranked it (1-based; None = not found by that leg)."""

    chunk_id: str
    doc_id: str
    doc_title: str
    doc_date: str
    page: int
    text: str
    start: int
    end: int
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None
    dense_similarity: float | None = None
    keyword_score: float | None = None
    page_coverage: float = 0.0  # share of the question its page holds (rag/coverage.py)
    duplicate_pages: tuple[tuple[str, int], ...] = ()
    gen: str = ""  # the document generation the chunk belongs to (its page texts are stored under it)


class HybridRetriever:
    """Dense + keyword, fused by reciprocal rank; near-duplicate chunks (repeated slides) collapsed."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        tokenizer: Tokenizer,
        *,
        candidates: int = 40,
        translator: TermTranslator | None = None,
    ):
        self.store = store
        self.translator = translator
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.keyword = KeywordIndex(store)
        self.candidates = candidates
        self._vectors: Memo[str, np.ndarray] = Memo(512)
        self._english_terms: Memo[tuple[str | None, str], tuple[TermGroup, ...]] = Memo(512)
        self._translated_revision: str | None = None

    def forget_query_vectors(self) -> None:
        """Empty the question-vector cache (a benchmark times each question's embedding too)."""
        self._vectors.clear()

    def query_vector(self, text: str) -> np.ndarray:
        """Questions are embedded once per request however many steps use them (and repeats are free)."""
        return self._vectors(text, lambda t: self.embedder.embed([t])[0])

    def dense(
        self,
        question: str,
        n: int,
        doc_ids: Sequence[str] | None = None,
        snap: RegistrySnapshot | None = None,
    ) -> list[StoredChunk]:
        """Nearest live chunks. Their texts come from the keyword index, which holds every live
        chunk; only chunks it does not know yet (a commit since its refresh) are read from the store."""
        snap = snap or self.store.snapshot()
        hits = self.store.nearest(self.query_vector(question), n, doc_ids, snap)
        known = self.keyword.refresh(snap).by_id
        missing = [cid for cid, _ in hits if cid not in known]
        fetched = self.store.chunks_by_id(missing)
        out = []
        for cid, similarity in hits:
            chunk = known.get(cid) or fetched.get(cid)
            if chunk is not None and snap.is_live(chunk.doc_id, chunk.gen):
                out.append(replace(chunk, similarity=similarity))
        return out

    def keyword_search(
        self,
        question: str,
        n: int,
        doc_ids: Sequence[str] | None = None,
        snap: RegistrySnapshot | None = None,
    ) -> list[tuple[StoredChunk, float]]:
        return self.keyword.search(self.query_terms(question), n, doc_ids, snap)

    def query_terms(self, question: str) -> list[str]:
        """Keyword-leg terms; an English question also gets the Japanese terms its words map to."""
        return flatten(self.query_groups(question))

    def query_groups(self, question: str) -> list[TermGroup]:
        """The question's terms grouped by the word they come from (see rag/coverage.py)."""
        if has_japanese(question):
            return with_other_forms(self.tokenizer.query_term_groups(question), self.tokenizer.term_groups)
        if self.translator is None:
            return self.tokenizer.query_term_groups(question)
        state = self.keyword.refresh()
        if self._translated_revision != state.revision:
            self.translator.update(state.bm25.vocab_dict if state.bm25 is not None else ())
            self._translated_revision = state.revision
        # Retrieval and composition both ask; translating twice would double the question's cost.
        return list(
            self._english_terms(
                (state.revision, question),
                lambda key: self._english_groups(key[1], self._words_of_nearest_pages(key[1], state)),
            )
        )

    def _words_of_nearest_pages(self, question: str, state: KeywordState) -> set[str]:
        """The index terms of the pages the dense leg ranks first: they tell which sense of an
        English word the question means (rag/crosslingual.py)."""
        words: set[str] = set()
        for chunk in self.dense(question, SENSE_CHUNKS):
            words.update(state.page_tokens.get((chunk.doc_id, chunk.page), ()))
        return words

    def _english_groups(self, question: str, context: Collection[str] = ()) -> tuple[TermGroup, ...]:
        """One group per English word: the word, then the Japanese it stands for on the pages (its
        katakana loanword, the index terms it or a word pair holding it maps to). A page then
        covers "capital" by holding 資本, not by holding the English word, which it never does."""
        pairs = self.translator.translate_phrases(question, context) if self.translator else []
        groups = []
        for word in self.tokenizer.query_tokens(question):
            japanese = self.tokenizer.loanwords(word) + [
                term for phrase, term in pairs if word in phrase.split()
            ]
            groups.append((word, *dict.fromkeys(t for t in japanese if t != word)))
        return tuple(groups)

    def retrieve(
        self,
        question: str,
        *,
        top_k: int = 8,
        doc_ids: Sequence[str] | None = None,
        legs: str = "hybrid",
        timings: dict[str, float] | None = None,
        focus: str | None = None,
    ) -> list[RankedChunk]:
        """``legs``: "hybrid" (the product), "dense" or "keyword" (baselines and diagnostics).
        ``focus``: the part of ``question`` a page must hold to rank higher (a follow-up's own
        words, when ``question`` also carries the conversation's topic); default all of it."""
        timings = timings if timings is not None else {}
        for _attempt in range(CONSISTENT_READ_ATTEMPTS):
            snap = self.store.snapshot()
            dense: list[StoredChunk] = []
            keyword: list[tuple[StoredChunk, float]] = []
            if legs in ("hybrid", "dense"):
                t = time.perf_counter()
                dense = self.dense(question, self.candidates, doc_ids, snap)
                timings["dense_ms"] = (time.perf_counter() - t) * 1000
            if legs in ("hybrid", "keyword"):
                t = time.perf_counter()
                keyword = self.keyword_search(question, self.candidates, doc_ids, snap)
                timings["keyword_ms"] = (time.perf_counter() - t) * 1000
            # Each leg reads the registry on its own: a commit in between (a document replaced by
            # another thread or process) would leave the legs and ``snap`` disagreeing on which
            # generation is live, and the document would drop out of this result. Read again until
            # one registry state covered all the reads.
            if self.store.snapshot().revision == snap.revision:
                break
        weights = FUSION_WEIGHTS["ja" if has_japanese(question) else "en"]
        fused: dict[str, dict[str, Any]] = {}
        for rank, chunk in enumerate(dense, start=1):
            entry = fused.setdefault(chunk.chunk_id, {"chunk": chunk, "score": 0.0})
            entry.update(dense_rank=rank, dense_similarity=chunk.similarity)
            entry["score"] += weights["dense"] / (RRF_K + rank)
        for rank, (chunk, score) in enumerate(keyword, start=1):
            entry = fused.setdefault(chunk.chunk_id, {"chunk": chunk, "score": 0.0})
            entry.update(keyword_rank=rank, keyword_score=score)
            entry["score"] += weights["keyword"] / (RRF_K + rank)
        if legs == "hybrid":
            # Page-level evidence next to the chunk's: a chunk counts for more on a page that holds
            # more of the question (a factor between 1 and 2, no constant to tune).
            coverage = self.keyword.page_coverage(
                Coverage(self.query_groups(focus or question), self.keyword.idf)
            )
            for entry in fused.values():
                chunk = entry["chunk"]
                entry["page_coverage"] = coverage(chunk.doc_id, chunk.page)
                entry["score"] *= 1.0 + entry["page_coverage"]
        ordered = sorted(fused.values(), key=lambda e: (-e["score"], e.get("dense_rank") or 10**9))
        ranked: list[RankedChunk] = []
        for entry in ordered:
            chunk = entry["chunk"]
            record = snap.documents.get(chunk.doc_id)
            if record is None or record.gen != chunk.gen:
                continue
            ranked.append(
                RankedChunk(
                    chunk_id=chunk.chunk_id,
                    doc_id=chunk.doc_id,
                    doc_title=record.title,
                    doc_date=record.date,
                    page=chunk.page,
                    text=chunk.text,
                    start=chunk.meta.start,
                    end=chunk.meta.end or len(chunk.text),
                    score=entry["score"],
                    dense_rank=entry.get("dense_rank"),
                    keyword_rank=entry.get("keyword_rank"),
                    dense_similarity=entry.get("dense_similarity"),
                    keyword_score=entry.get("keyword_score"),
                    page_coverage=entry.get("page_coverage", 0.0),
                    gen=record.gen,
                )
            )
        return collapse_duplicates(ranked, limit=top_k)


SIGNATURE_BITS = 1 << 16
_MIX = np.uint64(0x9E3779B97F4A7C15)


def shingle_signature(text: str) -> np.ndarray:
    """The text's character 3-grams hashed into a fixed bit set (whitespace and case ignored),
    packed into 64-bit words.

    Two near-identical chunks share almost all bits, and a few hundred 3-grams in 65,536 bits
    rarely collide. Vectorised, this costs a fifth of building sets of 3-gram strings."""
    codes = np.frombuffer("".join(text.split()).lower().encode("utf-32-le"), dtype=np.uint32).astype(
        np.uint64
    )
    bits = np.zeros(SIGNATURE_BITS, dtype=bool)
    if len(codes) >= 3:
        hashed = ((codes[:-2] << np.uint64(42)) ^ (codes[1:-1] << np.uint64(21)) ^ codes[2:]) * _MIX
        bits[(hashed >> np.uint64(48)).astype(np.intp)] = True
    elif len(codes):
        bits[int(codes.sum()) % SIGNATURE_BITS] = True
    return np.packbits(bits).view(np.uint64)


def collapse_duplicates(
    ranked: list[RankedChunk], threshold: float = 0.85, limit: int | None = None
) -> list[RankedChunk]:
    """Keep the best-ranked of chunks whose texts are near-identical; remember where the others were.

    Stops once ``limit`` chunks are kept: comparing the whole candidate list would cost more than
    the retrieval itself, for chunks nobody will see."""
    kept: list[tuple[RankedChunk, np.ndarray, int, list[tuple[str, int]]]] = []
    for chunk in ranked:
        if limit is not None and len(kept) >= limit:
            break
        bits = shingle_signature(chunk.text)
        count = int(np.bitwise_count(bits).sum())
        for _other, other_bits, other_count, duplicates in kept:
            if abs(count - other_count) > 0.3 * max(count, 1):
                continue
            if int(np.bitwise_count(bits & other_bits).sum()) >= threshold * max(1, min(count, other_count)):
                duplicates.append((chunk.doc_id, chunk.page))
                break
        else:
            kept.append((chunk, bits, count, []))
    return [replace(c, duplicate_pages=c.duplicate_pages + tuple(d)) if d else c for c, _, _, d in kept]
