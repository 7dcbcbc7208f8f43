"""A vector index that a killed process left unreadable is rebuilt from the records it indexes.

The damage is made the way a SIGKILL during Chroma's rewrite of its HNSW files leaves it: the
pickled id map empty (killed right after the file was created) or a data file cut short. The
index holds more records than Chroma keeps in its log after a sync, so the vectors of most of
them exist only in the damaged files: without a rebuild they would be gone."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import chromadb
import pytest
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.errors import InternalError
from test_store import FAKE, _settings, _write

from core.errors import IndexDamaged
from core.store import DocumentWrite, Store, repair
from core.store.chroma import SYNC_THRESHOLD
from core.text import embedding_text

QUESTION = "洋上風力の導入目標"


def _titled(write: DocumentWrite, heading: str) -> DocumentWrite:
    """Chunks with a heading, embedded as ingest embeds them (heading and text)."""
    metas = [replace(m, heading=heading) for m in write.metadatas]
    return replace(
        write, metadatas=metas, vectors=FAKE.embed([embedding_text(heading, t) for t in write.texts])
    )


def _large_index(tmp_path: Path) -> tuple[Store, int]:
    """Two documents, more chunks than Chroma keeps in its log once it has synced its vectors."""
    pages = [f"第{n}節では洋上風力の導入を進める。蓄電池の生産を第{n}段階で拡大する。" for n in range(120)]
    store = Store(_settings(tmp_path), FAKE.name, FAKE.dimension, FAKE.embed)
    store.write_documents(
        [_titled(_write("energy", "g1", pages), "エネルギー基本計画"), _write("chips", "g2", pages[:5])]
    )
    total = sum(r.chunks for r in store.snapshot().documents.values())
    assert total > 2 * SYNC_THRESHOLD and len(pages) > SYNC_THRESHOLD  # both collections have synced
    return store, total


def _answers(store: Store, n: int) -> list[tuple[str, float]]:
    """The nearest chunks with their similarities (sorted: equal scores come in any order)."""
    return sorted((cid, round(s, 5)) for cid, s in store.nearest(FAKE.embed([QUESTION])[0], n))


def _vector_folder(store: Store, suffix: str) -> Path:
    with store.db.calls():
        collection = store.db.registry if suffix == "registry" else store.db.chunks
        folder = repair.vector_folder(store.settings.chroma_path, str(collection.id))
    assert folder is not None and (folder / "index_metadata.pickle").is_file()
    return folder


def _logged_records(store: Store) -> int:
    with sqlite3.connect(store.settings.chroma_path / "chroma.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM embeddings_queue").fetchone()[0])


def _empty_id_map(folder: Path) -> None:
    """Killed right after the id map's file was created: Chroma cannot open the index."""
    (folder / "index_metadata.pickle").write_bytes(b"")
    plain = chromadb.PersistentClient(path=str(folder.parent))
    with pytest.raises(InternalError, match="pickle"):
        for collection in plain.list_collections():
            collection.get(limit=1)
    SharedSystemClient.clear_system_cache()


def _cut_data_file(folder: Path) -> None:
    """Killed after the header was written, before the elements it counts: Chroma opens the index,
    and the first query reads past the end of its data (and crashes the process)."""
    data = folder / "data_level0.bin"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 3])
    assert not repair.files_whole(folder)


@pytest.mark.parametrize("damage", [_empty_id_map, _cut_data_file])
def test_a_damaged_chunk_vector_index_is_rebuilt_with_the_same_vectors(tmp_path: Path, damage) -> None:
    store, total = _large_index(tmp_path)
    before, documents = _answers(store, total), store.snapshot().documents
    folder = _vector_folder(store, "chunks")
    store.close()
    assert _logged_records(store) < total, "the log still holds every vector: nothing would be lost"
    assert repair.files_whole(folder)
    damage(folder)

    reopened = Store(store.settings, FAKE.name, FAKE.dimension, FAKE.embed)
    try:
        assert reopened.snapshot().documents == documents
        assert _answers(reopened, total) == before  # every chunk, with the vector ingest gave it
        assert not repair.marker(store.settings.chroma_path, "policyqa-chunks").exists()
    finally:
        reopened.close()


def test_a_damaged_registry_vector_index_is_rebuilt(tmp_path: Path) -> None:
    store, total = _large_index(tmp_path)
    before, documents = _answers(store, 10), store.snapshot().documents
    folder = _vector_folder(store, "registry")
    store.close()
    _empty_id_map(folder)

    reopened = Store(store.settings, FAKE.name, FAKE.dimension)  # registry vectors need no embedder
    try:
        assert reopened.snapshot().documents == documents
        assert _answers(reopened, 10) == before
        assert len(reopened.page_texts("energy", list(range(1, 121)))) == 120
    finally:
        reopened.close()


def test_without_an_embedder_the_damage_is_reported_and_left_for_one_that_has_it(tmp_path: Path) -> None:
    store, total = _large_index(tmp_path)
    before = _answers(store, total)
    folder = _vector_folder(store, "chunks")
    store.close()
    _empty_id_map(folder)

    blind = Store(store.settings, FAKE.name, FAKE.dimension)
    with pytest.raises(IndexDamaged, match="policyqa ingest"):
        blind.snapshot()
    blind.close()
    assert (folder / "index_metadata.pickle").stat().st_size == 0, "nothing was touched"

    reopened = Store(store.settings, FAKE.name, FAKE.dimension, FAKE.embed)
    try:
        assert _answers(reopened, total) == before
    finally:
        reopened.close()


def test_a_rebuild_killed_after_removing_the_damaged_files_is_finished_by_the_next_open(
    tmp_path: Path,
) -> None:
    store, total = _large_index(tmp_path)
    before = _answers(store, total)
    with store.db.calls():
        collection_id = str(store.db.chunks.id)
    store.close()
    # What a rebuild killed between removing the files and writing the vectors back leaves: the
    # marker, and an index Chroma reads without complaint but that lacks most vectors.
    repair.remove_vector_index(store.settings.chroma_path, "policyqa-chunks", collection_id)

    reopened = Store(store.settings, FAKE.name, FAKE.dimension, FAKE.embed)
    try:
        assert _answers(reopened, total) == before
    finally:
        reopened.close()


def test_damage_met_after_opening_is_reported_and_the_next_call_rebuilds(tmp_path: Path) -> None:
    store, _total = _large_index(tmp_path)
    with pytest.raises(IndexDamaged, match="rebuilt on the next call"):
        with store.db.calls():
            raise InternalError(
                "Error sending backfill request to compactor: Failed to apply logs to the hnsw segment writer"
            )
    assert store.db.client is None
    try:
        assert store.snapshot().documents
    finally:
        store.close()


def test_only_vector_index_errors_count_as_damage() -> None:
    assert repair.is_damage(InternalError("Error constructing hnsw segment reader"))
    assert repair.is_damage(InternalError("Error deserializing pickle file: EOF while parsing"))
    assert not repair.is_damage(InternalError("database is locked"))
    assert not repair.is_damage(ValueError("hnsw"))
