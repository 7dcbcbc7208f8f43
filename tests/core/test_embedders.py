"""Embedder details the ingest relies on."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import FakeEmbedder

from core.embedders import threads_limited


def test_threads_limited_lowers_and_restores_the_thread_count(embedder) -> None:
    backend = embedder._model._model
    before = backend.threads
    vector = embedder.embed(["経済安全保障"])
    with threads_limited(embedder, 1):
        assert backend.threads == 1
        same = embedder.embed(["経済安全保障"])  # fewer threads, same numbers
    assert backend.threads == before
    assert np.allclose(vector, same, atol=1e-5)


def test_embedders_without_the_method_run_as_they_are() -> None:
    class Plain:
        name, dimension = "plain", 2

        def embed(self, texts):
            return np.full((len(texts), 2), np.sqrt(0.5), dtype=np.float32)

    plain = Plain()
    with threads_limited(plain, 1):
        vectors = plain.embed(["経済安全保障"])
    assert vectors.shape == (1, 2)
    assert vars(plain) == {}, "nothing was set on the embedder"
    with pytest.raises(RuntimeError, match="inside"), threads_limited(plain, 1):
        raise RuntimeError("raised inside the block")  # not swallowed


def test_the_fake_embedder_keeps_the_embedder_contract() -> None:
    """The unit tests' stand-in (tests/fakes.py) must behave like a real embedder where they rely on it."""
    fake = FakeEmbedder()
    assert isinstance(fake.name, str) and fake.name and fake.dimension == 64
    vectors = fake.embed(["経済安全保障", "経済安全保障推進法", "洋上風力", "a"])
    assert vectors.dtype == np.float32 and vectors.shape == (4, 64)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(FakeEmbedder().embed(["経済安全保障"])[0], vectors[0]), "same text, same vector"
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2], "shared characters are closer"
    assert fake.embed([]).shape == (0, 64)
    assert FakeEmbedder(aliases={"storage battery": "蓄電池"}).embed(["storage battery"])[0] == pytest.approx(
        fake.embed(["蓄電池"])[0]
    )
