"""The Chroma index: chunks with their vectors, and a registry that says which version is live.

Chroma is the single source of truth. Two collections:

* ``<prefix>-chunks``: one record per chunk (text, vector, doc/page/span metadata, keyword
  tokens), tagged with the *generation* (``gen``) of the document version it belongs to.
* ``<prefix>-registry``: one ``doc:<id>`` record per document naming its live generation,
  ``page:<gen>:<n>`` records holding page texts, ``pending:``/``retired:`` markers for
  generations being written or dropped, and a ``state`` record whose revision changes with
  every commit.

A new document version is written under a new generation while readers keep
seeing the old one; a single atomic upsert of the doc record (with a new
revision) makes it live; old generations are deleted afterwards. A process
killed at any moment therefore leaves every document at its previous or its
new version, never in between, and the next run removes the leftovers.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np

from core.errors import StoreUnavailable
from core.pace import Pace, step
from core.settings import Settings
from core.store.chroma import BATCH as _BATCH
from core.store.chroma import Chroma
from core.store.records import (
    REGISTRY_VECTOR,
    STATE_ID,
    ChunkMeta,
    DocumentRecord,
    DocumentWrite,
    RegistryEntry,
    RegistrySnapshot,
    StoredChunk,
    document_record,
    generation_of,
    marker_record,
    page_id,
    page_record,
    state_record,
    tombstone_record,
)
from core.store.repair import Embed

log = logging.getLogger(__name__)


def _hidden_filter(snap: RegistrySnapshot) -> dict[str, Any] | None:
    return {"gen": {"$nin": sorted(snap.hidden_gens)}} if snap.hidden_gens else None


def _where(*clauses: dict[str, Any] | None) -> dict[str, Any] | None:
    present = [c for c in clauses if c]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"$and": present}


class Store:
    """Thread-safe access to the two collections, for one embedder."""

    def __init__(self, settings: Settings, embedder_name: str, dimension: int, embed: Embed | None = None):
        """``embed`` (the embedder's) lets a damaged vector index of the chunks be rebuilt here."""
        self.settings = settings
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.db = Chroma(settings, embedder_name, dimension, embed)
        self.db.on_open = self._opened
        self._snapshot: RegistrySnapshot | None = None
        self._own_revisions: deque[str] = deque(maxlen=256)
        self._open_revision: str | None = None
        self._crowded: str | None = None  # a revision whose hidden chunks crowd out the live ones

    @contextmanager
    def _calls(self, *, serialised: bool = True) -> Iterator[None]:
        """One guarded use of the collections; a failed call drops the cached registry view.
        ``serialised=False`` for writes of records no reader can see yet (see ``Chroma.calls``)."""
        try:
            with self.db.calls(serialised=serialised):
                yield
        except StoreUnavailable:
            self._snapshot = None
            raise

    def _opened(self) -> None:
        self._open_revision = self._read_revision()

    def ping(self) -> None:
        self.db.ping()

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ registry
    def snapshot(self) -> RegistrySnapshot:
        """The live registry, re-read only when its revision changed (one small read per call)."""
        with self._calls():
            revision = self._read_revision()
            if self._snapshot is not None and self._snapshot.revision == revision:
                return self._snapshot
            if (
                not self.db.is_server
                and revision != self._open_revision
                and revision not in self._own_revisions
            ):
                self.db.reopen_embedded()
            self._snapshot = self._read_registry(revision)
            return self._snapshot

    def _read_revision(self) -> str:
        got = self.db.registry.get(ids=[STATE_ID], include=["metadatas"])
        return got["metadatas"][0]["revision"] if got["ids"] else ""

    def _read_registry(self, revision: str) -> RegistrySnapshot:
        docs: dict[str, DocumentRecord] = {}
        marked: set[str] = set()
        for kind in ("doc", "pending", "retired"):
            for meta in self.db.get_all(self.db.registry, {"kind": kind}, include=["metadatas"]):
                if kind == "doc":
                    if meta.get("gen"):
                        record = DocumentRecord.from_metadata(meta)
                        docs[record.doc_id] = record
                else:
                    marked.add(meta["gen"])
        live = {d.gen for d in docs.values()}
        return RegistrySnapshot(revision=revision, documents=docs, hidden_gens=frozenset(marked - live))

    def _commit(
        self, records: list[RegistryEntry], *, revision: str | None = None, pace: Pace | None = None
    ) -> None:
        """Registry records plus a fresh revision (or ``revision``, chosen ahead). Up to ``_BATCH``
        records go in one atomic upsert with the revision; longer lists (page records) go on in
        further upserts, ``pace``d ones readers do not wait for: nothing names those live yet."""
        revision = revision or uuid.uuid4().hex
        records = [state_record(revision), *records]
        first = _BATCH if pace is None else pace.records
        with self._calls():
            self._upsert_registry(records[:first])
        self._own_revisions.append(revision)
        self._snapshot = None
        rest = records[first:]
        size = _BATCH if pace is None else pace.records
        for i in range(0, len(rest), size):
            with step(pace), self._calls(serialised=False):
                self._upsert_registry(rest[i : i + size])

    def _upsert_registry(self, batch: list[RegistryEntry]) -> None:
        self.db.registry.upsert(
            ids=[r[0] for r in batch],
            metadatas=[r[1] for r in batch],
            documents=[r[2] for r in batch],
            embeddings=[REGISTRY_VECTOR] * len(batch),
        )

    # ------------------------------------------------------------------ reads
    def nearest(
        self,
        vector: np.ndarray,
        n: int,
        doc_ids: Sequence[str] | None = None,
        snap: RegistrySnapshot | None = None,
    ) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the nearest chunks, hidden generations excluded.

        Ids only: fetching the texts and metadata of 40 hits costs three times the vector search,
        and the caller usually holds them already (the keyword index keeps every live chunk)."""
        snap = snap or self.snapshot()
        if not snap.documents:
            return []
        if doc_ids:
            return self._nearest(vector, n, _where(_hidden_filter(snap), {"doc_id": {"$in": list(doc_ids)}}))
        if not snap.hidden_gens:
            return self._nearest(vector, n, None)
        # Generations being written (an upload) or dropped are hidden. A filter costs Chroma about a
        # millisecond per 400 chunks it lets through (measured: 50 ms at 20,000), a query without one
        # ~2 ms even for four times the hits: ask for more, drop the hidden ones, and filter only
        # when they crowd the live ones out (then the live chunks are few, and the filter cheap;
        # later queries of the same revision then filter straight away).
        if self._crowded != snap.revision:
            hits = self._nearest(vector, 4 * n, None)
            live = [(cid, s) for cid, s in hits if generation_of(cid) not in snap.hidden_gens]
            if len(live) >= n or len(hits) < 4 * n:
                return live[:n]
            self._crowded = snap.revision
        live_gens = sorted({d.gen for d in snap.documents.values()} - snap.hidden_gens)
        return self._nearest(vector, n, {"gen": {"$in": live_gens}}) if live_gens else []

    def _nearest(self, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        with self._calls():
            got = self.db.chunks.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
                n_results=n,
                where=where,
                include=["distances"],
            )
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(got["ids"][0], got["distances"][0])]

    def chunks_by_id(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        if not ids:
            return {}
        with self._calls():
            got = self.db.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            cid: StoredChunk(cid, text, ChunkMeta.from_metadata(meta))
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
        }

    def chunks_of_generation(self, gen: str) -> list[StoredChunk]:
        with self._calls():
            items = list(self.db.get_all(self.db.chunks, {"gen": gen}, include=["documents", "metadatas"]))
        return [StoredChunk(i["id"], i["document"], ChunkMeta.from_metadata(i)) for i in items]

    def page_texts(self, doc_id: str, pages: Sequence[int], gen: str | None = None) -> dict[int, str]:
        """Page texts of the live version, or of generation ``gen`` (the one some retrieved chunks
        came from: their quotes must come from the same version even if it was replaced since)."""
        if gen is None:
            record = self.snapshot().documents.get(doc_id)
            if record is None:
                return {}
            gen = record.gen
        return {
            page: text for (_doc, page), text in self.pages_of_generations({(doc_id, gen): pages}).items()
        }

    def pages_of_generations(
        self, wanted: dict[tuple[str, str], Sequence[int]]
    ) -> dict[tuple[str, int], str]:
        """Page texts for (doc_id, generation) -> page numbers, in one read: an answer quotes
        pages of several documents, each read costs a round trip."""
        ids = [page_id(gen, p) for (_doc_id, gen), pages in wanted.items() for p in pages]
        if not ids:
            return {}
        with self._calls():
            got = self.db.registry.get(ids=ids, include=["documents", "metadatas"])
        return {(m["doc_id"], int(m["page"])): d for d, m in zip(got["documents"], got["metadatas"])}

    # ------------------------------------------------------------------ writes
    def write_lock(self, *, wait: bool = True) -> AbstractContextManager[bool]:
        """One writer at a time on this machine (see ``core.store.locks.WriteLock``)."""
        return self.db.write_lock(wait=wait)

    def write_documents(
        self,
        documents: Sequence[DocumentWrite],
        *,
        pace: Pace | None = None,
        before_commit: Callable[[RegistrySnapshot], None] | None = None,
    ) -> None:
        """Write new generations of some documents invisibly, then make them all live in one atomic step.

        The pending markers go in the same upsert as the first page records, before any chunk:
        whatever a crash leaves of these generations is marked, and the next ``collect_garbage``
        removes it. Readers never see it either way (only the final commit names them live), so
        only that commit is serialised with their reads. Each Chroma write has a fixed cost that
        grows with the collection (~0.2 s at 20,000 chunks), so several documents share three
        writes (markers with pages, chunks, the commit); the caller's ``collect_garbage`` removes
        spent markers and replaced generations once per ingest run.

        With a ``pace`` (a background upload) pages and chunks go in small calls with a rest after
        each, so that requests served by this process get the interpreter in between.
        ``before_commit`` gets the registry as it will be after the commit: what readers derive
        from it (the keyword index) can be built ahead, and the switch is instant."""
        if len({d.record.doc_id for d in documents}) != len(documents):
            raise ValueError("one document id twice in one write")
        if 2 * len(documents) + 1 > _BATCH:  # the commit (records, retired markers, revision) is one upsert
            raise ValueError(f"at most {(_BATCH - 1) // 2} documents per write")
        if not documents:
            return
        snap = self.snapshot()
        staged = [marker_record("pending", d.record.gen, d.record.doc_id) for d in documents] + [
            page_record(d.record.gen, d.record.doc_id, n, text)
            for d in documents
            for n, text in enumerate(d.pages, start=1)
        ]
        self._commit(staged, pace=pace)  # readers learn of the pending generations: hidden
        ids = [i for d in documents for i in d.ids]
        texts = [t for d in documents for t in d.texts]
        metadatas = [m.to_metadata() for d in documents for m in d.metadatas]
        vectors = np.vstack(
            [np.asarray(d.vectors, dtype=np.float32).reshape(len(d.ids), -1) for d in documents if d.ids]
            or [np.zeros((0, self.dimension), dtype=np.float32)]
        )
        size = _BATCH if pace is None else pace.records
        for i in range(0, len(ids), size):
            with step(pace), self._calls(serialised=False):
                self.db.chunks.upsert(
                    ids=ids[i : i + size],
                    documents=texts[i : i + size],
                    metadatas=metadatas[i : i + size],
                    embeddings=vectors[i : i + size],
                )
        commit = [document_record(d.record) for d in documents]
        retired: set[str] = set()
        for d in documents:
            previous = snap.documents.get(d.record.doc_id)
            if previous is not None and previous.gen != d.record.gen:
                commit.append(marker_record("retired", previous.gen, d.record.doc_id))
                retired.add(previous.gen)
        revision = uuid.uuid4().hex
        if before_commit is not None:
            pending = self.snapshot()
            live = {**pending.documents, **{d.record.doc_id: d.record for d in documents}}
            gens = {r.gen for r in live.values()}
            before_commit(RegistrySnapshot(revision, live, frozenset((pending.hidden_gens | retired) - gens)))
        self._commit(commit, revision=revision)

    def update_record(self, record: DocumentRecord) -> bool:
        """Change a live document's metadata (e.g. its file moved) without rewriting its chunks.

        Only applies while ``record.gen`` is still the live generation, so it can never resurrect
        or replace content; returns whether it applied."""
        current = self.snapshot().documents.get(record.doc_id)
        if current is None or current.gen != record.gen:
            return False
        self._commit([document_record(record)])
        return True

    def delete_document(self, doc_id: str, pace: Pace | None = None) -> bool:
        """Gone from readers at once (one commit); its records are then deleted, ``pace``d when
        requests share the process."""
        record = self.snapshot().documents.get(doc_id)
        if record is None:
            return False
        self._commit([tombstone_record(doc_id), marker_record("retired", record.gen, doc_id)])
        self.collect_garbage(pace)
        return True

    def collect_garbage(self, pace: Pace | None = None) -> int:
        """Delete generations that are marked pending/retired and are not live, then the markers;
        returns how many generations went. Batched: one delete per kind of record, whatever the
        count; with a ``pace``, ``pace.records`` records per delete (they are hidden from readers)."""
        snap = self.snapshot()
        live = {d.gen for d in snap.documents.values()}
        with self._calls():
            registry = self.db.registry
            markers = [
                m
                for kind in ("pending", "retired")
                for m in self.db.get_all(registry, {"kind": kind}, ["metadatas"])
            ]
            docs = self.db.get_all(registry, {"kind": "doc"}, include=["metadatas"])
            tombstones = [m["id"] for m in docs if not m.get("gen")]
        dead = sorted({m["gen"] for m in markers} - live)
        for i in range(0, len(dead), _BATCH):
            gens = dead[i : i + _BATCH]
            self._delete(self.db.chunks, {"gen": {"$in": gens}}, pace)
            self._delete(self.db.registry, {"$and": [{"kind": "page"}, {"gen": {"$in": gens}}]}, pace)
        spent = [m["id"] for m in markers] + tombstones
        with self._calls():
            for i in range(0, len(spent), _BATCH):
                self.db.registry.delete(ids=spent[i : i + _BATCH])
            removed = len(dead) + self._sweep_unclaimed_chunks(snap)
            if spent:
                self._commit([])
        return removed

    def _delete(self, collection: Any, where: dict[str, Any], pace: Pace | None) -> None:
        """Delete the records of dead generations: in one call, or paced in small ones."""
        if pace is None:
            with self._calls(serialised=False):
                collection.delete(where=where)
            return
        with self._calls():
            ids = [item["id"] for item in self.db.get_all(collection, where, include=[])]
        for i in range(0, len(ids), pace.records):
            with step(pace), self._calls(serialised=False):
                collection.delete(ids=ids[i : i + pace.records])

    def _sweep_unclaimed_chunks(self, snap: RegistrySnapshot) -> int:
        """Delete chunks no live document claims and no marker names (left by a reset killed between
        its two collection drops, or by older versions); a cheap count decides whether to look."""
        expected = sum(d.chunks for d in snap.documents.values())
        if self.db.chunks.count() == expected:
            return 0
        live = {(d.doc_id, d.gen) for d in snap.documents.values()}
        stray = {
            (m["doc_id"], m["gen"])
            for m in self.db.get_all(self.db.chunks, None, include=["metadatas"])
            if (m.get("doc_id"), m.get("gen")) not in live
        }
        for doc_id, gen in sorted(stray):
            log.info("removing unclaimed chunks of %s generation %s", doc_id, gen)
            self.db.chunks.delete(where={"$and": [{"doc_id": doc_id}, {"gen": gen}]})
        return len(stray)

    def reset(self) -> None:
        """Drop both collections (used to switch embedders); see ``Chroma.drop_collections``."""
        self.db.drop_collections()
        self._snapshot = None
        self._open_revision = None
