"""English questions against Japanese pages: English words mapped to Japanese index terms.

BM25 cannot match "semiconductor" to 半導体. The multilingual embedder can:
each Japanese term of the keyword index is embedded once, and each content
word (and word pair) of an English question is mapped to its nearest Japanese
term when they are close enough. The keyword leg then searches for those terms.
Term vectors are cached in memory and on disk, so only new terms cost time.

A word has several senses and the nearest term is often the wrong one (work → 工作, disaster →
惨事). The pages the question is about say which sense is meant: given the words of the pages the
embedder ranks first for the whole question (``context``), a word maps to the nearest of those
words when one is close enough, and to the nearest term of the whole index only otherwise.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np

from core.embedders import Embedder
from core.text import normalize
from core.tokenize import ENGLISH_STOPWORDS

log = logging.getLogger(__name__)

MIN_SIMILARITY = 0.75  # chosen on the eval set's English questions (evals/README.md)
# Looser for a term of the question's own pages: their being about the question is evidence too.
# Chosen on the tune parts (docs/quality.md): 0.50-0.65 measured, 0.55 best.
MIN_CONTEXT_SIMILARITY = 0.55
_WORD = re.compile(r"[a-z][a-z\-]+")


def translatable(term: str) -> bool:
    return len(term) >= 2 and not term.isascii() and not term.isdigit()


class TermTranslator:
    def __init__(
        self, embedder: Embedder, cache_path: Path | None = None, *, min_similarity: float = MIN_SIMILARITY
    ):
        self._embedder = embedder
        self._cache_path = cache_path
        self._min_similarity = min_similarity
        self._vectors: dict[str, np.ndarray] = {}
        self._terms: list[str] = []
        self._position: dict[str, int] = {}
        self._matrix = np.zeros((0, embedder.dimension), dtype=np.float32)
        self._lock = threading.Lock()
        self._load_cache()

    def _load_cache(self) -> None:
        if self._cache_path is None or not self._cache_path.exists():
            return
        try:
            with np.load(self._cache_path, allow_pickle=False) as data:
                terms, vectors = list(data["terms"]), data["vectors"]
            if vectors.shape[1:] == (self._embedder.dimension,):
                self._vectors = dict(zip(terms, vectors))
        except Exception as exc:  # noqa: BLE001 - a bad cache is rebuilt, never fatal
            log.warning("ignoring unreadable term cache %s: %s", self._cache_path, exc)

    def _save_cache(self) -> None:
        if self._cache_path is None:
            return
        try:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._cache_path.with_suffix(".tmp.npz")
            terms = list(self._vectors)
            np.savez(tmp, terms=np.array(terms), vectors=np.stack([self._vectors[t] for t in terms]))
            tmp.replace(self._cache_path)
        except OSError as exc:
            log.warning("cannot write term cache %s: %s", self._cache_path, exc)

    def update(self, vocabulary: Iterable[str]) -> None:
        """Make the searchable terms exactly this vocabulary, embedding the ones not seen before."""
        terms = sorted(t for t in set(vocabulary) if translatable(t))
        with self._lock:
            missing = [t for t in terms if t not in self._vectors]
            if missing:
                for term, vector in zip(missing, self._embedder.embed(missing)):
                    self._vectors[term] = vector
                self._save_cache()
            self._terms = terms
            self._position = {t: i for i, t in enumerate(terms)}
            self._matrix = (
                np.stack([self._vectors[t] for t in terms])
                if terms
                else np.zeros((0, self._embedder.dimension), dtype=np.float32)
            )

    def learn(self, vocabulary: Iterable[str], batch: int = 16) -> None:
        """Embed the new terms of a vocabulary that is about to be searched (an upload before its
        commit), a few at a time: the ``update`` of the first English question after the commit
        then embeds nothing, and a question embedded meanwhile waits for one small call at most."""
        with self._lock:
            missing = sorted(t for t in set(vocabulary) if translatable(t) and t not in self._vectors)
        if not missing:
            return
        for i in range(0, len(missing), batch):
            part = missing[i : i + batch]
            vectors = self._embedder.embed(part)
            with self._lock:
                self._vectors.update(zip(part, vectors))
        with self._lock:
            self._save_cache()

    def translate(self, question: str, context: Collection[str] = ()) -> list[str]:
        """Japanese index terms for the English content words and word pairs of the question."""
        return [term for _, term in self.translate_phrases(question, context)]

    def translate_phrases(self, question: str, context: Collection[str] = ()) -> list[tuple[str, str]]:
        """``(phrase, term)``: each English content word or word pair with the Japanese index term
        it maps to (only those that map). ``context``: the words of the pages the question is
        about; a close enough one of them wins over a nearer term from elsewhere."""
        words = [
            w
            for w in _WORD.findall(normalize(question, keep_spaces=True))
            if w not in ENGLISH_STOPWORDS and len(w) > 2
        ]
        phrases = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
        with self._lock:
            terms, matrix, position = self._terms, self._matrix, self._position
        if not phrases or not terms:
            return []
        similarity = self._embedder.embed(phrases) @ matrix.T
        best = similarity.argmax(axis=1)
        local = np.array(sorted({position[t] for t in context if t in position}), dtype=np.intp)
        pairs = []
        for i, j in enumerate(best):
            k = local[similarity[i, local].argmax()] if len(local) else None
            if k is not None and similarity[i, k] >= MIN_CONTEXT_SIMILARITY:
                pairs.append((phrases[i], terms[k]))
            elif similarity[i, j] >= self._min_similarity:
                pairs.append((phrases[i], terms[j]))
        return pairs
