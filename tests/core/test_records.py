"""Record ids and registry records: the names the store and the retrieval agree on."""

from __future__ import annotations

from dataclasses import asdict, replace

import pytest

from core.store.records import (
    STATE_ID,
    ChunkMeta,
    DocumentRecord,
    RegistrySnapshot,
    chunk_id,
    document_record,
    marker_record,
    page_id,
    page_record,
    state_record,
    tombstone_record,
)

RECORD = DocumentRecord(
    doc_id="moj-mletr-2023",
    gen="0123456789abcdef0123",
    title="電子船荷証券に関する比較表",
    date="2023-08-01",
    publisher="法務省",
    sha256="ab" * 32,
    pages=12,
    chunks=40,
    ingested_at="2025-01-01T00:00:00+00:00",
    source_path="/corpus/moj-mletr-2023.pdf",
)

META = ChunkMeta(
    doc_id="moj-mletr-2023",
    gen="0123456789abcdef0123",
    doc_title="電子船荷証券に関する比較表",
    doc_date="2023-08-01",
    page=3,
    chunk=7,
    start=120,
    end=480,
    sha256="ab" * 32,
    ingested_at="2025-01-01T00:00:00+00:00",
    tokens="電子 船荷 証券 mletr",
)


def test_ids_name_the_document_generation_and_position() -> None:
    assert chunk_id("deck", "g1", 0) == "deck:g1:0"
    assert chunk_id("deck", "g1", 12) != chunk_id("deck", "g2", 12), "generations never share an id"
    assert page_id("g1", 5) == "page:g1:5"
    assert page_id("g1", 5) != page_id("g2", 5)


def test_state_and_page_records() -> None:
    assert state_record("rev-1") == (STATE_ID, {"kind": "state", "revision": "rev-1"}, "")
    rid, meta, text = page_record("g1", "deck", 4, "四頁目の本文")
    assert rid == page_id("g1", 4)
    assert meta == {"kind": "page", "gen": "g1", "doc_id": "deck", "page": 4}
    assert text == "四頁目の本文"


@pytest.mark.parametrize("kind", ["pending", "retired"])
def test_marker_records_name_a_generation(kind: str) -> None:
    rid, meta, text = marker_record(kind, "g1", "deck")
    assert rid == f"{kind}:g1"
    assert meta == {"kind": kind, "gen": "g1", "doc_id": "deck"}
    assert text == ""
    other = "retired" if kind == "pending" else "pending"
    assert marker_record(other, "g1", "deck")[0] != rid, "both markers of one generation can coexist"


def test_document_record_round_trips_through_its_registry_metadata() -> None:
    rid, meta, text = document_record(RECORD)
    assert rid == "doc:moj-mletr-2023" and text == ""
    assert meta["kind"] == "doc"
    assert meta == {"kind": "doc", **asdict(RECORD)}
    assert DocumentRecord.from_metadata(meta) == RECORD


def test_a_new_generation_replaces_the_doc_record_under_the_same_id() -> None:
    newer = replace(RECORD, gen="fedcba9876543210fedc", pages=13)
    assert document_record(newer)[0] == document_record(RECORD)[0]
    assert document_record(newer)[1]["gen"] == "fedcba9876543210fedc"


def test_tombstone_replaces_the_doc_record_without_a_generation() -> None:
    rid, meta, text = tombstone_record("moj-mletr-2023")
    assert rid == document_record(RECORD)[0], "the tombstone overwrites the live doc record"
    assert meta == {"kind": "doc", "doc_id": "moj-mletr-2023", "gen": ""}
    assert not meta["gen"], "readers skip doc records without a generation"
    assert text == ""


def test_document_record_from_metadata_ignores_unknown_keys_and_defaults_missing_ones() -> None:
    meta = {
        "kind": "doc",
        "doc_id": "deck",
        "gen": "g1",
        "title": "官民連携",
        "written_by_a_newer_version": True,
    }
    record = DocumentRecord.from_metadata(meta)
    assert record == DocumentRecord(doc_id="deck", gen="g1", title="官民連携")
    assert record.language == "ja" and record.pages == 0


def test_chunk_meta_round_trips_through_chroma_metadata() -> None:
    meta = META.to_metadata()
    assert meta["doc_id"] == "moj-mletr-2023" and meta["page"] == 3 and meta["tokens"] == META.tokens
    assert all(isinstance(v, str | int) for v in meta.values()), "Chroma stores scalars only"
    assert ChunkMeta.from_metadata(meta) == META
    # What Chroma hands back carries the record id too (see Chroma.get_all): ignored.
    assert ChunkMeta.from_metadata({"id": "moj-mletr-2023:g:7", **meta}) == META


def test_chunk_meta_from_older_metadata_fills_defaults_and_coerces_types() -> None:
    meta = ChunkMeta.from_metadata({"doc_id": "deck", "page": "5"})
    assert meta == ChunkMeta(
        doc_id="deck",
        gen="",
        doc_title="",
        doc_date="",
        page=5,
        chunk=0,
        start=0,
        end=0,
        sha256="",
        ingested_at="",
        tokens="",
    )
    with pytest.raises(KeyError):
        ChunkMeta.from_metadata({"doc_id": "deck"})  # a chunk without a page cannot be cited


def test_snapshot_is_live_only_for_the_live_generation() -> None:
    snap = RegistrySnapshot(
        revision="r1", documents={RECORD.doc_id: RECORD}, hidden_gens=frozenset({"old-gen"})
    )
    assert snap.is_live(RECORD.doc_id, RECORD.gen)
    assert not snap.is_live(RECORD.doc_id, "old-gen")
    assert not snap.is_live(RECORD.doc_id, "")
    assert not snap.is_live("other-doc", RECORD.gen)
    assert not RegistrySnapshot(revision="").is_live(RECORD.doc_id, RECORD.gen)
