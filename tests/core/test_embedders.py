"""Embedder details the ingest relies on."""

from __future__ import annotations

import numpy as np

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

    with threads_limited(Plain(), 1):
        pass
