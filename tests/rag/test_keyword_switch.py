"""The keyword index of a serving process: an upload's next state is built before its commit, so no
reader rebuilds it; a reader still on the previous revision gets the previous state."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from core.settings import Settings
from rag.service import PolicyQA

MEMO = ["港湾物流メモ\n\n港湾の荷役能力を点検した。", "備蓄の方針\n\n燃料の備蓄を九十日分とする。"]
PLAN = ["水道計画\n\n浄水場の耐震化率を引き上げる。", "配水池\n\n配水池の耐震化を優先度の高い順に進める。"]


@pytest.fixture
def service(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    service = PolicyQA(Settings(data_dir=tmp_path / "data", corpus_dir=corpus), embedder=FakeEmbedder())
    yield service
    service.close()


def test_readers_take_the_state_built_before_the_commit(service, make_pdf, tmp_path, monkeypatch):
    service.upload(io.BytesIO(make_pdf(tmp_path / "memo.pdf", MEMO).read_bytes()), "memo")
    old = service.store.snapshot()
    old_state = service.keyword.refresh(old)
    service.upload(io.BytesIO(make_pdf(tmp_path / "plan.pdf", PLAN).read_bytes()), "plan")

    def no_reads(gen: str):
        raise AssertionError(f"a reader fetched generation {gen}: the state was not built ahead")

    monkeypatch.setattr(service.store, "chunks_of_generation", no_reads)
    now = service.store.snapshot()
    assert now.revision != old.revision
    state = service.keyword.refresh(now)
    assert state.revision == now.revision and {c.doc_id for c in state.chunks} == {"memo", "plan"}
    assert service.keyword.refresh(old) is old_state  # a reader still on the previous revision
    hits = service.search("浄水場の耐震化率", top_k=3)
    assert hits and hits[0].doc_id == "plan"


def test_a_commit_that_changes_no_live_generation_keeps_the_index(service, make_pdf, tmp_path, monkeypatch):
    service.upload(io.BytesIO(make_pdf(tmp_path / "memo.pdf", MEMO).read_bytes()), "memo")
    before = service.keyword.refresh()
    record = service.store.snapshot().documents["memo"]
    assert service.store.update_record(replace(record, source_path="/moved/memo.pdf"))
    monkeypatch.setattr(service.store, "chunks_of_generation", lambda gen: pytest.fail("rebuilt"))
    after = service.keyword.refresh()
    assert after.revision == service.store.snapshot().revision != before.revision
    assert after.chunks is before.chunks
