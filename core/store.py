"""The Chroma index: chunks with their vectors, and a registry that says which version is live.

Chroma is the single source of truth. Two collections:

* ``<prefix>-chunks``: one record per chunk (text, vector, doc/page/span metadata,
  keyword tokens), tagged with the *generation* (``gen``) of the document
  version it belongs to.
* ``<prefix>-registry``: one ``doc:<id>`` record per document naming its live
  generation, ``page:<gen>:<n>`` records holding page texts, ``pending:``/``retired:``
  markers for generations being written or dropped, and a ``state`` record
  whose revision changes with every commit.

A new document version is written under a new generation while readers keep
seeing the old one; a single atomic upsert of the doc record (with a new
revision) makes it live; old generations are deleted afterwards. A process
killed at any moment therefore leaves every document at its previous or its
new version, never in between, and the next run removes the leftovers.
"""

from __future__ import annotations

import fcntl
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from core.errors import EmbedderMismatch, StorageFailure, StoreUnavailable
from core.settings import Settings

log = logging.getLogger(__name__)

_DUMMY_VECTOR = [0.0]  # registry records carry no meaning in vector space
_BATCH = 1000


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    gen: str
    title: str
    date: str = ""
    publisher: str = ""
    language: str = "ja"
    landing_page: str = ""
    licence: str = ""
    sha256: str = ""
    pages: int = 0
    chunks: int = 0
    ingested_at: str = ""
    source_path: str = ""

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> DocumentRecord:
        return cls(**{k: meta[k] for k in cls.__dataclass_fields__ if k in meta})


@dataclass(frozen=True)
class RegistrySnapshot:
    revision: str
    documents: dict[str, DocumentRecord] = field(default_factory=dict)
    hidden_gens: frozenset[str] = frozenset()

    def is_live(self, doc_id: str, gen: str) -> bool:
        record = self.documents.get(doc_id)
        return record is not None and record.gen == gen


@dataclass(frozen=True)
class DocumentWrite:
    """One document's new generation: its record, page texts, and chunks with their vectors."""

    record: DocumentRecord
    pages: list[str]
    ids: list[str]
    texts: list[str]
    metadatas: list[dict]
    vectors: np.ndarray


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    doc_id: str
    page: int
    text: str
    metadata: dict[str, Any]
    similarity: float = 0.0


def _where(*clauses: dict | None) -> dict | None:
    present = [c for c in clauses if c]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"$and": present}


class Store:
    """Thread-safe access to the two collections, for one embedder."""

    def __init__(self, settings: Settings, embedder_name: str, dimension: int):
        self.settings = settings
        self.embedder_name = embedder_name
        self.dimension = dimension
        self._lock = threading.RLock()
        self._client = None
        self._chunks = None
        self._registry = None
        self._snapshot: RegistrySnapshot | None = None
        self._own_revisions: deque[str] = deque(maxlen=256)
        self._open_revision: str | None = None

    # ------------------------------------------------------------------ connection
    @property
    def is_server(self) -> bool:
        return bool(self.settings.chroma_url)

    def _connect(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.is_server:
            url = urlparse(self.settings.chroma_url)
            # chromadb.HttpClient() talks to the server before we can bound its timeout: a server that
            # accepts connections but does not answer would hang the constructor forever. Probe first.
            import httpx

            try:
                httpx.get(
                    f"{url.scheme or 'http'}://{url.hostname or '127.0.0.1'}:"
                    f"{url.port or (443 if url.scheme == 'https' else 8000)}/api/v2/heartbeat",
                    timeout=self.settings.chroma_timeout_s,
                ).raise_for_status()
            except httpx.HTTPError as exc:
                raise StoreUnavailable(
                    f"Chroma server at {self.settings.chroma_url} is unreachable: {type(exc).__name__}: {exc}"
                ) from exc
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            session = getattr(getattr(client, "_server", None), "_session", None)
            if session is not None:  # the client waits forever by default; a hung server must not hang us
                import httpx

                session.timeout = httpx.Timeout(self.settings.chroma_timeout_s)
            return client
        self.settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.settings.chroma_path), settings=chroma_settings)

    def _open(self) -> None:
        client = self._client or self._connect()
        name = self.settings.collection
        chunks = client.get_or_create_collection(
            f"{name}-chunks",
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "embedder": self.embedder_name, "dimension": self.dimension},
        )
        meta = chunks.metadata or {}
        if meta.get("embedder") != self.embedder_name or int(meta.get("dimension", -1)) != self.dimension:
            raise EmbedderMismatch(
                f"the index was built with embedder {meta.get('embedder')!r} ({meta.get('dimension')} dims) but "
                f"{self.embedder_name!r} ({self.dimension} dims) is configured; re-ingest with "
                f"`policyqa ingest --reset`, or set POLICYQA_EMBEDDER={meta.get('embedder')}"
            )
        registry = client.get_or_create_collection(f"{name}-registry", embedding_function=None)
        self._client, self._chunks, self._registry = client, chunks, registry
        self._open_revision = self._read_revision()

    def _reopen_embedded(self) -> None:
        """Embedded Chroma keeps its vector index in memory; another process's writes are only
        seen after reopening it from disk."""
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        self._client = None
        self._open()

    @contextmanager
    def _calls(self) -> Iterator[None]:
        """Map every connection failure to StoreUnavailable and reconnect on the next call."""
        with self._lock:
            try:
                if self._client is None or self._chunks is None:
                    self._open()
                yield
            except (EmbedderMismatch, StoreUnavailable):
                raise
            except Exception as exc:  # noqa: BLE001 - chromadb/httpx raise many kinds on outages
                if self.is_server and _looks_like_outage(exc):
                    # Keep the client (its HTTP session has our timeout and reconnects by itself; a new
                    # client would start without one) but fetch the collections again next time.
                    self._chunks = self._registry = None
                    self._snapshot = None
                    raise StoreUnavailable(
                        f"Chroma server at {self.settings.chroma_url} is unreachable: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                problem = None if self.is_server else _storage_problem(exc, self.settings.chroma_path)
                if problem:
                    self._snapshot = None
                    raise StorageFailure(
                        f"the index under {self.settings.chroma_path} cannot be written: {problem} "
                        f"({type(exc).__name__}: {exc}); free some space or make the folder "
                        "writable, then run again"
                    ) from exc
                raise

    def ping(self) -> None:
        with self._calls():
            self._client.heartbeat()

    # ------------------------------------------------------------------ registry
    def snapshot(self) -> RegistrySnapshot:
        """The live registry, re-read only when its revision changed (one small read per call)."""
        with self._calls():
            revision = self._read_revision()
            if self._snapshot is not None and self._snapshot.revision == revision:
                return self._snapshot
            if not self.is_server and revision != self._open_revision and revision not in self._own_revisions:
                self._reopen_embedded()
            self._snapshot = self._read_registry(revision)
            return self._snapshot

    def _read_revision(self) -> str:
        got = self._registry.get(ids=["state"], include=["metadatas"])
        return got["metadatas"][0]["revision"] if got["ids"] else ""

    def _read_registry(self, revision: str) -> RegistrySnapshot:
        docs: dict[str, DocumentRecord] = {}
        marked: set[str] = set()
        for kind in ("doc", "pending", "retired"):
            for meta in self._get_all(self._registry, {"kind": kind}, include=["metadatas"]):
                if kind == "doc":
                    if meta.get("gen"):
                        record = DocumentRecord.from_metadata(meta)
                        docs[record.doc_id] = record
                else:
                    marked.add(meta["gen"])
        live = {d.gen for d in docs.values()}
        return RegistrySnapshot(revision=revision, documents=docs, hidden_gens=frozenset(marked - live))

    @staticmethod
    def _get_all(collection, where: dict, include: list[str]) -> Iterator[dict]:
        offset = 0
        while True:
            got = collection.get(where=where, include=include, limit=_BATCH, offset=offset)
            if not got["ids"]:
                return
            for i, _id in enumerate(got["ids"]):
                item = {"id": _id}
                if got.get("metadatas") is not None:
                    item.update(got["metadatas"][i] or {})
                if got.get("documents") is not None:
                    item["document"] = got["documents"][i]
                yield item
            if len(got["ids"]) < _BATCH:
                return
            offset += _BATCH

    def _commit(self, records: list[tuple[str, dict, str]]) -> None:
        """Registry records plus a fresh revision. Up to ``_BATCH`` records go in one atomic upsert
        together with the revision; longer lists (a document's page records) continue in further
        upserts, which is fine for records that nothing names live yet."""
        revision = uuid.uuid4().hex
        records = [("state", {"kind": "state", "revision": revision}, "")] + records
        for i in range(0, len(records), _BATCH):
            batch = records[i : i + _BATCH]
            self._registry.upsert(
                ids=[r[0] for r in batch],
                metadatas=[r[1] for r in batch],
                documents=[r[2] for r in batch],
                embeddings=[_DUMMY_VECTOR] * len(batch),
            )
        self._own_revisions.append(revision)
        self._snapshot = None

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
        with self._calls():
            where = _where(
                {"gen": {"$nin": sorted(snap.hidden_gens)}} if snap.hidden_gens else None,
                {"doc_id": {"$in": list(doc_ids)}} if doc_ids else None,
            )
            got = self._chunks.query(
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
            got = self._chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            cid: StoredChunk(cid, meta["doc_id"], int(meta["page"]), text, meta)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
        }

    def query(self, vector: np.ndarray, n: int, doc_ids: Sequence[str] | None = None) -> list[StoredChunk]:
        """The nearest live chunks with their texts, in one consistent registry view."""
        snap = self.snapshot()
        hits = self.nearest(vector, n, doc_ids, snap)
        chunks = self.chunks_by_id([cid for cid, _ in hits])
        return [
            replace(chunks[cid], similarity=sim)
            for cid, sim in hits
            if cid in chunks and snap.is_live(chunks[cid].doc_id, chunks[cid].metadata.get("gen", ""))
        ]

    def chunks_of_generation(self, gen: str) -> list[StoredChunk]:
        with self._calls():
            items = list(self._get_all(self._chunks, {"gen": gen}, include=["documents", "metadatas"]))
        return [
            StoredChunk(
                i["id"],
                i["doc_id"],
                int(i["page"]),
                i["document"],
                {k: v for k, v in i.items() if k not in ("id", "document")},
            )
            for i in items
        ]

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
        ids = [f"page:{gen}:{p}" for (_doc_id, gen), pages in wanted.items() for p in pages]
        if not ids:
            return {}
        with self._calls():
            got = self._registry.get(ids=ids, include=["documents", "metadatas"])
        return {(m["doc_id"], int(m["page"])): d for d, m in zip(got["documents"], got["metadatas"])}

    # ------------------------------------------------------------------ writes
    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time on this machine (embedded Chroma cannot take two)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.data_dir / "ingest.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def write_documents(self, documents: Sequence[DocumentWrite]) -> None:
        """Write new generations of some documents invisibly, then make them all live in one atomic step.

        The pending markers go in the same upsert as the first page records, before any chunk:
        whatever a crash leaves of these generations is marked, and the next ``collect_garbage``
        removes it. Readers never see it either way, since only the final commit names them live.
        Each Chroma write has a fixed cost that grows with the collection (~0.2 s at 20,000
        chunks), so several documents share three writes (markers with pages, chunks, the commit);
        spent markers and replaced generations are removed by the caller's ``collect_garbage``,
        once per ingest run."""
        if len({d.record.doc_id for d in documents}) != len(documents):
            raise ValueError("one document id twice in one write")
        if 2 * len(documents) + 1 > _BATCH:  # the commit (records, retired markers, revision) is one upsert
            raise ValueError(f"at most {(_BATCH - 1) // 2} documents per write")
        snap = self.snapshot()
        with self._calls():
            staged: list[tuple[str, dict, str]] = []
            for d in documents:
                gen, doc_id = d.record.gen, d.record.doc_id
                staged.append((f"pending:{gen}", {"kind": "pending", "gen": gen, "doc_id": doc_id}, ""))
                staged += [
                    (f"page:{gen}:{n}", {"kind": "page", "gen": gen, "doc_id": doc_id, "page": n}, text)
                    for n, text in enumerate(d.pages, start=1)
                ]
            if not staged:
                return
            self._commit(staged)  # readers learn of the pending generations: hidden
            ids = [i for d in documents for i in d.ids]
            texts = [t for d in documents for t in d.texts]
            metadatas = [m for d in documents for m in d.metadatas]
            vectors = (
                np.vstack(
                    [
                        np.asarray(d.vectors, dtype=np.float32).reshape(len(d.ids), -1)
                        for d in documents
                        if d.ids
                    ]
                )
                if ids
                else None
            )
            for i in range(0, len(ids), _BATCH):
                self._chunks.upsert(
                    ids=ids[i : i + _BATCH],
                    documents=texts[i : i + _BATCH],
                    metadatas=metadatas[i : i + _BATCH],
                    embeddings=vectors[i : i + _BATCH],
                )
            commit = [(f"doc:{d.record.doc_id}", {"kind": "doc", **asdict(d.record)}, "") for d in documents]
            for d in documents:
                previous = snap.documents.get(d.record.doc_id)
                if previous is not None and previous.gen != d.record.gen:
                    commit.append(
                        (
                            f"retired:{previous.gen}",
                            {"kind": "retired", "gen": previous.gen, "doc_id": d.record.doc_id},
                            "",
                        )
                    )
            self._commit(commit)

    def update_record(self, record: DocumentRecord) -> bool:
        """Change a live document's metadata (e.g. its file moved) without rewriting its chunks.

        Only applies while ``record.gen`` is still the live generation, so it can never resurrect
        or replace content; returns whether it applied."""
        current = self.snapshot().documents.get(record.doc_id)
        if current is None or current.gen != record.gen:
            return False
        with self._calls():
            self._commit([(f"doc:{record.doc_id}", {"kind": "doc", **asdict(record)}, "")])
        return True

    def delete_document(self, doc_id: str) -> bool:
        record = self.snapshot().documents.get(doc_id)
        if record is None:
            return False
        with self._calls():
            self._commit(
                [
                    (f"doc:{doc_id}", {"kind": "doc", "doc_id": doc_id, "gen": ""}, ""),
                    (f"retired:{record.gen}", {"kind": "retired", "gen": record.gen, "doc_id": doc_id}, ""),
                ]
            )
        self.collect_garbage()
        return True

    def collect_garbage(self) -> int:
        """Delete generations that are marked pending/retired and are not live, then the markers;
        returns how many generations went. Batched: one delete per kind of record, whatever the count."""
        snap = self.snapshot()
        live = {d.gen for d in snap.documents.values()}
        with self._calls():
            markers = [
                m
                for kind in ("pending", "retired")
                for m in self._get_all(self._registry, {"kind": kind}, include=["metadatas"])
            ]
            dead = sorted({m["gen"] for m in markers} - live)
            for i in range(0, len(dead), _BATCH):
                gens = dead[i : i + _BATCH]
                self._chunks.delete(where={"gen": {"$in": gens}})
                self._registry.delete(where={"$and": [{"kind": "page"}, {"gen": {"$in": gens}}]})
            tombstones = [
                m["id"]
                for m in self._get_all(self._registry, {"kind": "doc"}, include=["metadatas"])
                if not m.get("gen")
            ]
            spent = [m["id"] for m in markers] + tombstones
            for i in range(0, len(spent), _BATCH):
                self._registry.delete(ids=spent[i : i + _BATCH])
            removed = len(dead) + self._sweep_unclaimed_chunks(snap)
            if spent:
                self._commit([])
        return removed

    def _sweep_unclaimed_chunks(self, snap: RegistrySnapshot) -> int:
        """Delete chunks no live document claims and no marker names (left by a reset killed between
        its two collection drops, or by older versions); a cheap count decides whether to look."""
        expected = sum(d.chunks for d in snap.documents.values())
        if self._chunks.count() == expected:
            return 0
        live = {(d.doc_id, d.gen) for d in snap.documents.values()}
        stray = {
            (m["doc_id"], m["gen"])
            for m in self._get_all(self._chunks, None, include=["metadatas"])
            if (m.get("doc_id"), m.get("gen")) not in live
        }
        for doc_id, gen in sorted(stray):
            log.info("removing unclaimed chunks of %s generation %s", doc_id, gen)
            self._chunks.delete(where={"$and": [{"doc_id": doc_id}, {"gen": gen}]})
        return len(stray)

    def reset(self) -> None:
        """Drop both collections (used to switch embedders).

        The registry goes first: killed in between, what is left is chunks that no document
        claims (the next reset or re-ingest replaces them), never documents whose chunks are
        gone, which a re-ingest with the same embedder would skip as unchanged."""
        with self._lock:
            client = self._connect()
            for suffix in ("registry", "chunks"):
                try:
                    client.delete_collection(f"{self.settings.collection}-{suffix}")
                except Exception:  # noqa: BLE001 - absent is fine
                    pass
            self._client = None
            self._snapshot = None


_LOW_SPACE_BYTES = 16 * 2**20


def _storage_problem(exc: Exception, path: Path) -> str | None:
    """Why the embedded index could not be written (disk full, read-only), or None for other errors.

    SQLite and the OS name the cause; Chroma's Rust core often reports a failed write only as a
    failed compaction or segment update, so for its errors the file system itself is checked."""
    import errno
    import os
    import sqlite3

    from chromadb.errors import ChromaError

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT):
        return os.strerror(exc.errno).lower()
    text = str(exc).lower()
    for words, problem in (
        ("disk is full", "the disk is full"),
        ("no space left", "no space left on the device"),
        ("os error 28", "no space left on the device"),
        ("readonly database", "it is read-only"),
        ("read-only file system", "the file system is read-only"),
        ("os error 30", "the file system is read-only"),
    ):
        if words in text:
            return problem
    if not isinstance(exc, (ChromaError, sqlite3.Error, OSError)):
        return None
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        fs = os.statvfs(probe)
    except OSError:
        return None
    if fs.f_flag & os.ST_RDONLY:
        return "the file system is read-only"
    free = fs.f_bavail * fs.f_frsize
    if free < _LOW_SPACE_BYTES:
        return f"only {free // 1024} KiB are free on its file system"
    return None


def _looks_like_outage(exc: Exception) -> bool:
    import httpx

    if isinstance(exc, (httpx.TransportError, ConnectionError, TimeoutError, OSError)):
        return True
    text = f"{type(exc).__name__} {exc}".lower()
    return any(
        word in text
        for word in ("connect", "timeout", "timed out", "unavailable", "refused", "503", "502", "could not")
    )


def dump_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
