"""Preparing a document (chunks, tokens, vectors) in a helper process gives what preparing it in
the ingest process gives; only a server's large uploads go there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder

import ingest.preparing
from core.pace import BACKGROUND
from core.settings import Settings
from core.tokenize import Tokenizer
from ingest.pdf import PdfDocument
from ingest.preparing import Preparation, prepare

PAGES = [
    "港湾物流の強靱化に関する検討メモ\n本メモは、災害に備えた港湾物流の強靱化策をまとめたものである。",
    "緊急物資の保管は、複数の港湾に分散して設ける備蓄倉庫で行う。備蓄倉庫の点検は年二回とする。",
] * 6
DOCUMENT = PdfDocument(PAGES, [p.split("\n")[0] for p in PAGES], "港湾物流メモ")


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path)


def test_small_documents_and_fake_embedders_stay_in_process(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    with Preparation(settings, Tokenizer(), FakeEmbedder(), BACKGROUND) as preparation:
        assert not preparation._offloaded(DOCUMENT)  # the helper could not load a fake embedder
        monkeypatch.setattr(ingest.preparing, "OFFLOAD_MIN_CHARS", 10)
        assert not preparation._offloaded(DOCUMENT)
        chunks, tokens, vectors, _ = preparation(DOCUMENT)
        assert preparation._pool is None and len(chunks) == len(tokens) == len(vectors) > 0


@pytest.mark.slow
def test_a_large_upload_is_prepared_in_a_helper_exactly_as_here(tmp_path, embedder, monkeypatch):
    settings = _settings(tmp_path)
    tokenizer = Tokenizer()
    monkeypatch.setattr(ingest.preparing, "OFFLOAD_MIN_CHARS", 10)
    monkeypatch.setattr(ingest.preparing, "prepare", lambda *a, **k: pytest.fail("prepared in this process"))
    with Preparation(settings, tokenizer, embedder, BACKGROUND) as preparation:
        assert preparation._offloaded(DOCUMENT)
        chunks, tokens, vectors, timings = preparation(DOCUMENT)  # the helper's own module is unpatched
    monkeypatch.undo()
    here = prepare(DOCUMENT, preparation._chunking(), tokenizer, embedder)
    assert chunks == here[0] and tokens == here[1]
    assert np.allclose(vectors, here[2], atol=1e-5)
    assert set(timings) == {"chunk_tokenize", "embed"}
    unpaced = Preparation(settings, tokenizer, embedder, None)
    assert not unpaced._offloaded(DOCUMENT)  # `policyqa ingest` prepares in its own process
