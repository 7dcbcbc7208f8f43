"""Test doubles that stand in for expensive parts of the product.

``FakeEmbedder`` satisfies ``core.embedders.Embedder`` without a model: texts that share
characters get similar vectors, the same text always gets the same vector, and an embed call
costs microseconds. Tests import it as ``from fakes import FakeEmbedder`` (``tests/`` is on
``sys.path`` because ``tests/conftest.py`` lives there).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from core.text import normalize


class FakeEmbedder:
    """Character unigrams and bigrams of the normalised text, hashed (CRC-32, not the salted
    ``hash()``) into ``dimension`` buckets and L2-normalised; an empty text embeds as zeros.

    ``aliases`` maps a text to the text embedded in its place, so a test can make an English word
    land exactly on a Japanese term (``{"semiconductor": "半導体"}``) as a multilingual model would.
    ``calls`` records every batch passed to ``embed``."""

    def __init__(
        self, dimension: int = 64, name: str = "fake-bigrams", aliases: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.dimension = dimension
        self.aliases = dict(aliases or {})
        self.calls: list[list[str]] = []

    def vector(self, text: str) -> np.ndarray:
        text = normalize(self.aliases.get(text, text))
        v = np.zeros(self.dimension, dtype=np.float32)
        for gram in [*text, *(text[i : i + 2] for i in range(len(text) - 1))]:
            v[zlib.crc32(gram.encode("utf-8")) % self.dimension] += 1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts]).astype(np.float32)
