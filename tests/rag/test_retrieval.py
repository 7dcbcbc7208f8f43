"""Hybrid retrieval: Japanese tokens, identifiers and numbers findable, fusion ranks exposed,
duplicates collapsed, and the keyword index following the collection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.tokenize import Tokenizer
from rag.retrieval import FUSION_WEIGHTS, RRF_K, SENSE_CHUNKS
from rag.service import PolicyQA


def test_tokens_drop_particles_and_fold_width():
    tokens = Tokenizer().tokens("ＪＡＳＭの熊本進出による１０年間の経済波及効果は？")
    assert "jasm" in tokens and "熊本" in tokens and "10年" in tokens
    assert not {"の", "は", "による", "？"} & set(tokens)


def test_identifiers_and_numbers_with_units_stay_whole():
    tokens = Tokenizer().tokens("外為法55条の8に基づき、2nm世代とPPR-9087を報告。2022年12月")
    assert {"55条の8", "2nm", "ppr-9087", "2022年", "12月"} <= set(tokens)
    assert "12" not in tokens, "a month is not the bare number 12"


def test_english_query_terms_are_not_katakana_noise():
    tokenizer = Tokenizer()
    assert tokenizer.query_tokens("What does the Rapidus project produce?") == [
        "rapidus",
        "project",
        "produce",
    ]
    assert "ホワット" not in tokenizer.loanwords("What share of global production?")
    assert "シェア" in tokenizer.loanwords("What share of global production?")


def test_english_words_are_mapped_among_the_words_of_the_pages_nearest_the_question(
    deck_service, monkeypatch
):
    """The senses an English question means are the ones its nearest pages use (rag/crosslingual.py)."""
    retriever = deck_service.retriever
    seen: list[set[str]] = []
    translate = retriever.translator.translate_phrases
    monkeypatch.setattr(
        retriever.translator,
        "translate_phrases",
        lambda question, context=(): seen.append(set(context)) or translate(question, context),
    )
    question = "Which supply chain risks does the deck name for semiconductors?"
    retriever.query_groups(question)
    state = retriever.keyword.refresh()
    nearest = {(c.doc_id, c.page) for c in retriever.dense(question, SENSE_CHUNKS)}
    expected = set().union(*(state.page_tokens[page] for page in nearest))
    assert len(nearest) > 1 and seen == [expected]


def test_hybrid_ranks_and_duplicate_slides(deck_service):
    hits = deck_service.search("先端半導体製造の一極集中リスク", top_k=8)
    pages = [h.page for h in hits]
    assert pages[0] in (7, 33)
    assert not {7, 33} <= set(pages), "the repeated slide is shown once"
    assert any(dup_page in (7, 33) for h in hits for _, dup_page in h.duplicate_pages)
    # The top hit is found by both legs, and the exposed ranks are the ones its fused score came
    # from, raised by how much of the question its page holds.
    assert hits[0].dense_rank is not None and hits[0].keyword_rank is not None
    assert hits[0].dense_similarity is not None and hits[0].keyword_score > 0
    weights = FUSION_WEIGHTS["ja"]
    for h in hits:
        expected = sum(
            weights[leg] / (RRF_K + rank)
            for leg, rank in (("dense", h.dense_rank), ("keyword", h.keyword_rank))
            if rank is not None
        ) * (1 + h.page_coverage)
        assert 0 <= h.page_coverage <= 1
        assert h.score == pytest.approx(expected), h
    assert hits[0].page_coverage > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_keyword_leg_finds_exact_identifiers(settings, embedder, make_pdf):
    from ingest.pipeline import Ingestor

    make_pdf(
        settings.corpus_dir / "ids.pdf",
        [
            "表紙\n\n識別子の資料",
            "規程\n\n外為法55条の8に基づく報告。型番PPR-9087は対象外。",
            "別紙\n\n2nm世代の先端ロジック半導体について。",
        ],
    )
    service = PolicyQA(settings, embedder=embedder)
    assert Ingestor(settings, service.store, embedder, service.tokenizer).run().ok
    assert service.search("PPR-9087", legs="keyword")[0].page == 2
    assert service.search("55条の8", legs="keyword")[0].page == 2
    assert service.search("2nm", legs="keyword")[0].page == 3


@pytest.mark.slow  # a second process ingests
def test_keyword_index_follows_another_process(settings, embedder, make_pdf):
    """Chroma is the source of truth: an ingest by another process shows up in this one's
    keyword and dense results without a restart."""
    from ingest.pipeline import Ingestor

    make_pdf(settings.corpus_dir / "first.pdf", ["第一の資料\n\n最初の文書には蓄電池の記述がある。"])
    service = PolicyQA(settings, embedder=embedder)
    assert Ingestor(settings, service.store, embedder, service.tokenizer).run().ok
    assert service.search("ペロブスカイト", legs="keyword") == []

    make_pdf(
        settings.corpus_dir / "second.pdf", ["第二の資料\n\nペロブスカイト太陽電池の量産計画について述べる。"]
    )
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(settings.data_dir),
        "POLICYQA_CORPUS_DIR": str(settings.corpus_dir),
    }
    cli = Path(sys.executable).with_name("policyqa")
    subprocess.run([str(cli), "ingest"], env=env, check=True, capture_output=True, timeout=300)

    assert [h.doc_id for h in service.search("ペロブスカイト", legs="keyword")][:1] == ["second"]
    assert "second" in {h.doc_id for h in service.search("ペロブスカイト太陽電池の量産", legs="dense")}


def _ranked(chunk_id: str, text: str, page: int):
    from rag.retrieval import RankedChunk

    return RankedChunk(
        chunk_id=chunk_id,
        doc_id="d",
        doc_title="t",
        doc_date="",
        page=page,
        text=text,
        start=0,
        end=len(text),
        score=1.0 / page,
    )


def test_collapse_keeps_the_best_ranked_of_near_duplicates_and_stops_at_the_limit():
    from rag.retrieval import collapse_duplicates

    base = "特定重要物資として、半導体、蓄電池、重要鉱物など12の物資を指定し、安定供給の確保に取り組む。" * 3
    variant = base.replace("12の物資", "１２の物資")  # one word differs, widths differ: still the same slide
    other = "経済安全保障推進法は、サプライチェーン強靱化と基幹インフラの安全性確保を柱とする法律である。" * 3
    third = "先端的な重要技術の研究開発を官民で進め、特許出願の非公開制度を設けた。" * 3
    ranked = [_ranked("a", base, 1), _ranked("b", variant, 2), _ranked("c", other, 3), _ranked("d", third, 4)]

    kept = collapse_duplicates(ranked)
    assert [c.chunk_id for c in kept] == ["a", "c", "d"]
    assert kept[0].duplicate_pages == (("d", 2),)
    assert [c.chunk_id for c in collapse_duplicates(ranked, limit=2)] == ["a", "c"]


def test_a_focus_decides_which_part_of_the_query_a_page_must_hold(deck_service):
    """A follow-up is searched with its conversation's topic, but its pages rank by what it asks."""
    from rag.coverage import Coverage

    retriever = deck_service.retriever
    query, focus = "特定重要物資 経済産業省 所管", "経済産業省 所管"
    hits = deck_service.search(query, top_k=8, focus=focus)
    pages = retriever.keyword.refresh().page_tokens
    asked = Coverage(retriever.query_groups(focus), retriever.keyword.idf)
    whole = Coverage(retriever.query_groups(query), retriever.keyword.idf)
    for h in hits:
        assert h.page_coverage == pytest.approx(asked(pages[(h.doc_id, h.page)]))
    assert any(asked(pages[(h.doc_id, h.page)]) != whole(pages[(h.doc_id, h.page)]) for h in hits)


def test_the_keyword_index_says_which_words_a_document_holds(deck_service):
    keyword = deck_service.retriever.keyword
    state = keyword.refresh()
    doc_id = next(iter(state.doc_tokens))
    first_page = next(key for key in state.page_tokens if key[0] == doc_id)
    word = next(iter(state.page_tokens[first_page]))
    assert keyword.document_holds(doc_id, word)
    assert not keyword.document_holds(doc_id, "北海道千歳"), "a word on none of its pages"
    assert not keyword.document_holds("no-such-document", word)
