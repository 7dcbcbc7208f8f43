"""The Store facade over an embedded Chroma: generations become live in one commit, readers see
only live ones, stale writers are refused, and deleted or replaced versions are collected; a
background writer's calls are small, and readers stay cheap while its generation is hidden."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import FakeEmbedder

from core.errors import EmbedderMismatch
from core.pace import Pace
from core.settings import Settings
from core.store import ChunkMeta, DocumentRecord, DocumentWrite, RegistrySnapshot, Store
from core.store.chroma import SYNC_THRESHOLD
from core.store.records import chunk_id

FAKE = FakeEmbedder()


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus")


def _write(doc_id: str, gen: str, pages: list[str], *, title: str = "") -> DocumentWrite:
    """One chunk per sentence (split at 。), as ingest/pipeline.py builds them."""
    record = DocumentRecord(
        doc_id=doc_id,
        gen=gen,
        title=title or f"{doc_id}の資料",
        sha256=f"sha-{gen}",
        pages=len(pages),
        ingested_at="2025-01-01T00:00:00+00:00",
        source_path=f"/corpus/{doc_id}.pdf",
    )
    ids, texts, metas = [], [], []
    for page_no, page in enumerate(pages, start=1):
        start = 0
        for sentence in filter(None, page.split("。")):
            index = len(ids)
            end = start + len(sentence) + 1
            ids.append(chunk_id(doc_id, gen, index))
            texts.append(sentence + "。")
            metas.append(
                ChunkMeta(
                    doc_id=doc_id,
                    gen=gen,
                    doc_title=record.title,
                    doc_date=record.date,
                    page=page_no,
                    chunk=index,
                    start=start,
                    end=end,
                    sha256=record.sha256,
                    ingested_at=record.ingested_at,
                    tokens=" ".join(sentence),
                )
            )
            start = end
    record = replace(record, chunks=len(ids))
    return DocumentWrite(record, pages, ids, texts, metas, FAKE.embed(texts))


ENERGY = ["蓄電池の国内生産を拡大する。", "再生可能エネルギーの導入を進める。洋上風力を拡大する。"]
ENERGY_V2 = ["蓄電池の国内生産を倍増する。", "水素の供給網を整える。"]
CHIPS = ["先端半導体の製造拠点を整備する。", "半導体人材を育成する。"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(_settings(tmp_path), FAKE.name, FAKE.dimension)
    try:
        yield store
    finally:
        store.close()


def _registry_kinds(store: Store) -> dict[str, int]:
    got = store.db.registry.get(include=["metadatas"])
    kinds: dict[str, int] = {}
    for meta in got["metadatas"]:
        kinds[meta["kind"]] = kinds.get(meta["kind"], 0) + 1
    return kinds


class _FailingChunkWrites:
    """The chunks collection, except that an upsert writes its records and then fails, as a
    process killed right after Chroma stored them would."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def upsert(self, **kwargs: Any) -> None:
        self._real.upsert(**kwargs)
        raise RuntimeError("killed after the chunk write")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


# ---------------------------------------------------------------------------- writes and reads


def test_an_empty_index_has_no_documents(store: Store) -> None:
    snap = store.snapshot()
    assert snap.documents == {} and snap.hidden_gens == frozenset()
    assert store.nearest(FAKE.embed(["蓄電池"])[0], 5) == []
    assert store.page_texts("energy", [1]) == {}


def test_write_documents_makes_them_live_with_their_chunks_and_pages(store: Store) -> None:
    energy, chips = _write("energy", "e1", ENERGY), _write("chips", "c1", CHIPS)
    store.write_documents([energy, chips])

    snap = store.snapshot()
    assert snap.documents == {"energy": energy.record, "chips": chips.record}
    assert snap.hidden_gens == frozenset()
    stored = {c.chunk_id: c for c in store.chunks_of_generation("e1")}
    assert sorted(stored) == sorted(energy.ids)
    first = stored[energy.ids[0]]
    assert (first.text, first.meta) == (energy.texts[0], energy.metadatas[0])
    assert store.chunks_by_id([chips.ids[1]])[chips.ids[1]].text == "半導体人材を育成する。"
    assert store.page_texts("energy", [1, 2]) == {1: ENERGY[0], 2: ENERGY[1]}


def test_a_write_that_dies_before_its_commit_leaves_the_previous_version_live(store: Store) -> None:
    store.write_documents([_write("energy", "e1", ENERGY)])
    before = store.snapshot()

    store.db.chunks = _FailingChunkWrites(store.db.chunks)
    with pytest.raises(RuntimeError, match="killed"):
        store.write_documents([_write("energy", "e2", ENERGY_V2)])
    store.db.chunks = store.db.chunks._real

    snap = store.snapshot()
    assert snap.documents == before.documents, "the new generation was never named live"
    assert "e2" in snap.hidden_gens
    assert store.page_texts("energy", [1]) == {1: ENERGY[0]}
    # Its chunks were written, but readers never get them.
    assert store.chunks_of_generation("e2")
    hits = store.nearest(FAKE.embed([ENERGY_V2[0]])[0], 10)
    assert hits and all(cid.startswith("energy:e1:") for cid, _ in hits)

    assert store.collect_garbage() == 1
    assert store.chunks_of_generation("e2") == []
    assert store.page_texts("energy", [1], gen="e2") == {}
    assert store.snapshot().hidden_gens == frozenset()
    assert store.chunks_of_generation("e1"), "the live version is untouched"


def test_the_revision_changes_with_every_commit_and_only_then(store: Store) -> None:
    revisions = [store.snapshot().revision]
    write = _write("energy", "e1", ENERGY)
    store.write_documents([write])
    revisions.append(store.snapshot().revision)
    assert store.snapshot() is store.snapshot(), "no commit: the cached view is reused"
    assert store.update_record(replace(write.record, source_path="/moved/energy.pdf"))
    revisions.append(store.snapshot().revision)
    assert store.delete_document("energy")
    revisions.append(store.snapshot().revision)
    assert all(revisions[1:]), revisions
    assert len(set(revisions)) == len(revisions), revisions


def test_the_index_outlives_the_store_that_wrote_it(tmp_path: Path) -> None:
    first = Store(_settings(tmp_path), FAKE.name, FAKE.dimension)
    write = _write("energy", "e1", ENERGY)
    first.write_documents([write])
    revision = first.snapshot().revision
    first.close()

    second = Store(_settings(tmp_path), FAKE.name, FAKE.dimension)
    try:
        snap = second.snapshot()
        assert snap.revision == revision and snap.documents == {"energy": write.record}
        assert second.page_texts("energy", [2]) == {2: ENERGY[1]}
    finally:
        second.close()


def test_write_documents_refuses_one_document_twice(store: Store) -> None:
    with pytest.raises(ValueError, match="twice"):
        store.write_documents([_write("energy", "e1", ENERGY), _write("energy", "e2", ENERGY_V2)])
    assert store.snapshot().documents == {}


# ---------------------------------------------------------------------------- nearest


def test_nearest_finds_the_closest_chunk_and_respects_doc_ids(store: Store) -> None:
    energy, chips = _write("energy", "e1", ENERGY), _write("chips", "c1", CHIPS)
    store.write_documents([energy, chips])
    query = FAKE.embed(["先端半導体の製造拠点を整備する。"])[0]

    hits = store.nearest(query, 10)
    assert hits[0][0] == chips.ids[0]
    assert hits[0][1] == pytest.approx(1.0, abs=1e-4), "cosine similarity, not distance"
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert {cid for cid, _ in hits} == set(energy.ids + chips.ids)
    assert len(store.nearest(query, 2)) == 2

    only_energy = store.nearest(query, 10, doc_ids=["energy"])
    assert {cid for cid, _ in only_energy} == set(energy.ids)
    both = store.nearest(query, 10, doc_ids=["energy", "chips"])
    assert {cid for cid, _ in both} == set(energy.ids + chips.ids)


def test_nearest_leaves_out_hidden_generations(store: Store) -> None:
    energy, chips = _write("energy", "e1", ENERGY), _write("chips", "c1", CHIPS)
    store.write_documents([energy, chips])
    live = store.snapshot()
    query = FAKE.embed([CHIPS[0]])[0]

    hiding_chips = RegistrySnapshot(live.revision, live.documents, frozenset({"c1"}))
    assert {cid for cid, _ in store.nearest(query, 10, snap=hiding_chips)} == set(energy.ids)
    hiding_both = RegistrySnapshot(live.revision, live.documents, frozenset({"c1", "e1"}))
    assert store.nearest(query, 10, snap=hiding_both) == []


# ---------------------------------------------------------------------------- page texts


def test_page_texts_of_the_live_version_or_of_a_given_generation(store: Store) -> None:
    store.write_documents([_write("energy", "e1", ENERGY)])
    store.write_documents([_write("energy", "e2", ENERGY_V2)])

    assert store.snapshot().documents["energy"].gen == "e2"
    assert store.page_texts("energy", [1, 2]) == {1: ENERGY_V2[0], 2: ENERGY_V2[1]}
    # Until the collection, quotes of chunks retrieved from the old version still resolve.
    assert store.page_texts("energy", [1, 2], gen="e1") == {1: ENERGY[0], 2: ENERGY[1]}
    assert store.page_texts("energy", [3]) == {}, "a page the document does not have"
    assert store.page_texts("unknown", [1]) == {}
    assert store.pages_of_generations({("energy", "e1"): [2], ("energy", "e2"): [1]}) == {
        ("energy", 2): ENERGY[1],
        ("energy", 1): ENERGY_V2[0],
    }

    assert store.collect_garbage() == 1
    assert store.collect_garbage() == 0, "nothing left to collect"
    assert store.page_texts("energy", [1, 2], gen="e1") == {}
    assert store.chunks_of_generation("e1") == []
    assert store.page_texts("energy", [1]) == {1: ENERGY_V2[0]}


# ---------------------------------------------------------------------------- update, delete, reset


def test_update_record_applies_only_to_the_live_generation(store: Store) -> None:
    old = _write("energy", "e1", ENERGY)
    store.write_documents([old])
    new = _write("energy", "e2", ENERGY_V2)
    store.write_documents([new])
    revision = store.snapshot().revision

    assert not store.update_record(replace(old.record, source_path="/stale/energy.pdf"))
    assert store.snapshot().revision == revision, "a refused update commits nothing"
    assert store.snapshot().documents["energy"] == new.record
    assert not store.update_record(replace(new.record, doc_id="unknown"))

    moved = replace(new.record, source_path="/moved/energy.pdf")
    assert store.update_record(moved)
    assert store.snapshot().documents["energy"] == moved
    assert sorted(c.chunk_id for c in store.chunks_of_generation("e2")) == sorted(new.ids)


def test_delete_document_removes_its_chunks_pages_and_markers(store: Store) -> None:
    energy, chips = _write("energy", "e1", ENERGY), _write("chips", "c1", CHIPS)
    store.write_documents([energy, chips])
    store.collect_garbage()  # the spent pending markers of the write

    assert store.delete_document("energy")
    assert not store.delete_document("energy"), "already gone"
    assert not store.delete_document("unknown")
    store.collect_garbage()

    assert list(store.snapshot().documents) == ["chips"]
    assert store.chunks_of_generation("e1") == []
    assert store.page_texts("energy", [1, 2], gen="e1") == {}
    assert store.db.chunks.count() == len(chips.ids)
    assert _registry_kinds(store) == {"state": 1, "doc": 1, "page": len(CHIPS)}, "no tombstone or marker"
    assert {cid for cid, _ in store.nearest(FAKE.embed([ENERGY[0]])[0], 10)} == set(chips.ids)


def test_reset_drops_everything_and_the_index_can_be_rebuilt(store: Store) -> None:
    store.write_documents([_write("energy", "e1", ENERGY), _write("chips", "c1", CHIPS)])
    store.reset()

    snap = store.snapshot()
    assert snap.documents == {} and snap.revision == ""
    assert store.db.chunks.count() == 0 and store.db.registry.count() == 0
    assert store.page_texts("energy", [1], gen="e1") == {}

    store.write_documents([_write("chips", "c2", CHIPS)])
    assert list(store.snapshot().documents) == ["chips"]
    assert store.db.chunks.count() == len(_write("chips", "c2", CHIPS).ids)


# ---------------------------------------------------------------------------- embedder identity


@pytest.mark.parametrize(
    ("name", "dimension"),
    [("another-embedder", FAKE.dimension), (FAKE.name, FAKE.dimension * 2)],
    ids=["other-name", "other-dimension"],
)
def test_an_index_built_with_another_embedder_is_refused(
    tmp_path: Path, store: Store, name: str, dimension: int
) -> None:
    write = _write("energy", "e1", ENERGY)
    store.write_documents([write])

    other = Store(_settings(tmp_path), name, dimension)
    with pytest.raises(EmbedderMismatch) as caught:
        other.snapshot()
    assert FAKE.name in caught.value.message and str(FAKE.dimension) in caught.value.message
    with pytest.raises(EmbedderMismatch):
        other.nearest(np.zeros(dimension, dtype=np.float32), 3)
    assert store.snapshot().documents == {"energy": write.record}, "the refusal changed nothing"


# ---------------------------------------------------------------------------- beside a background writer
# Paced writes, the registry handed over before the commit, and reads that stay cheap while a new
# generation is written (hidden) into the same collection.

QUICK = Pace(records=2, texts=2, rest=0.0)


class _Abort(Exception):
    pass


def _hide(store: Store, write) -> RegistrySnapshot:
    """Write a generation and stop before its commit (as a process killed there): it stays hidden."""

    def abort(_snap: RegistrySnapshot) -> None:
        raise _Abort

    with pytest.raises(_Abort):
        store.write_documents([write], before_commit=abort)
    snap = store.snapshot()
    assert write.record.gen in snap.hidden_gens
    return snap


def test_a_paced_write_goes_in_small_calls_and_ends_as_an_unpaced_one(store: Store, monkeypatch) -> None:
    calls: list[int] = []
    store.snapshot()  # opens the collections
    real = store.db.chunks.upsert
    monkeypatch.setattr(store.db.chunks, "upsert", lambda **kw: (calls.append(len(kw["ids"])), real(**kw))[1])
    write = _write("energy", "e1", ENERGY)
    store.write_documents([write], pace=QUICK)
    assert calls == [2, 1]  # three chunks, two per call
    assert store.snapshot().documents == {"energy": write.record}
    assert {c.chunk_id for c in store.chunks_of_generation("e1")} == set(write.ids)
    assert store.page_texts("energy", [1, 2]) == {1: ENERGY[0], 2: ENERGY[1]}


def test_before_commit_sees_the_registry_as_it_will_be(store: Store) -> None:
    store.write_documents([_write("energy", "e1", ENERGY), _write("chips", "c1", CHIPS)])
    ahead: list[RegistrySnapshot] = []
    newer = _write("energy", "e2", ENERGY_V2)
    store.write_documents([newer], pace=QUICK, before_commit=ahead.append)
    after = store.snapshot()
    assert [s.revision for s in ahead] == [after.revision]
    assert ahead[0].documents == after.documents and after.documents["energy"] == newer.record
    assert ahead[0].hidden_gens == after.hidden_gens == frozenset({"e1"})  # retired until collected


def test_a_paced_garbage_collection_removes_the_same(store: Store) -> None:
    store.write_documents([_write("energy", "e1", ENERGY)])
    store.write_documents([_write("energy", "e2", ENERGY_V2)])
    assert store.collect_garbage(QUICK) == 1
    assert store.chunks_of_generation("e1") == [] and store.page_texts("energy", [1], gen="e1") == {}
    assert store.snapshot().hidden_gens == frozenset()
    assert store.delete_document("energy", QUICK)
    assert store.chunks_of_generation("e2") == [] and store.snapshot().documents == {}


def _filtered(store: Store, query, n: int, snap: RegistrySnapshot) -> list[tuple[str, float]]:
    """What a query filtered on the hidden generations finds: the answer ``nearest`` must give."""
    return store._nearest(query, n, {"gen": {"$nin": sorted(snap.hidden_gens)}})


def test_nearest_while_a_generation_is_hidden_finds_what_a_filter_finds(store: Store, monkeypatch) -> None:
    store.write_documents([_write("energy", "e1", ENERGY), _write("chips", "c1", CHIPS)])
    other = ["港湾の荷役能力を点検した。", "燃料の備蓄を九十日分とする。倉庫を分散する。"] * 4
    snap = _hide(store, _write("harbour", "h1", other))
    queries: list[object] = []
    real = store._nearest
    monkeypatch.setattr(store, "_nearest", lambda v, n, where: (queries.append(where), real(v, n, where))[1])
    for text in (CHIPS[0], ENERGY[1], other[0]):
        query = FAKE.embed([text])[0]
        queries.clear()
        hits = store.nearest(query, 3, snap=snap)
        assert queries == [None]  # the hidden chunks left enough live ones: no filter
        assert hits == _filtered(store, query, 3, snap)


def test_nearest_filters_when_hidden_copies_crowd_out_the_live_chunks(store: Store, monkeypatch) -> None:
    energy = _write("energy", "e1", ENERGY)
    store.write_documents([energy, _write("chips", "c1", CHIPS)])
    copies = [" ".join(ENERGY) + "。"] * 3  # many near-copies of the live text
    snap = _hide(store, _write("copies", "k1", copies * 6))
    queries: list[object] = []
    real = store._nearest
    monkeypatch.setattr(store, "_nearest", lambda v, n, where: (queries.append(where), real(v, n, where))[1])
    query = FAKE.embed([ENERGY[0]])[0]
    hits = store.nearest(query, 4, snap=snap)
    assert queries == [None, {"gen": {"$in": ["c1", "e1"]}}]
    assert hits == _filtered(store, query, 4, snap)
    assert all(not cid.startswith("copies:") for cid, _ in hits)
    queries.clear()  # later queries of this revision filter straight away
    assert store.nearest(query, 4, snap=snap) == hits and queries == [{"gen": {"$in": ["c1", "e1"]}}]


def test_embedded_collections_sync_often(store: Store) -> None:
    store.snapshot()
    for collection in (store.db.chunks, store.db.registry):
        assert collection.configuration_json["hnsw"]["sync_threshold"] == SYNC_THRESHOLD
