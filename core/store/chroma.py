"""The connection to Chroma: the two collections, and every failure translated into a domain error.

A server that does not answer becomes ``StoreUnavailable`` (and the next call reconnects); an
embedded index whose disk is full or read-only becomes ``StorageFailure``; an index built with
another embedder becomes ``EmbedderMismatch``. Nothing above this module sees a Chroma exception.
An embedded index whose vector files a killed process left unreadable is rebuilt when it is
opened (``core.store.repair``).

Embedded Chroma writes to its files as soon as it opens them, so it cannot open an index in a
read-only folder. Such an index is copied to a private temporary folder and answered from there:
reads work as before (from the index as it was at start-up), and every write is refused first by
the read-only data folder itself (the write lock lives there).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from core.errors import EmbedderMismatch, IndexDamaged, StorageFailure, StoreUnavailable
from core.settings import Settings
from core.store import repair
from core.store.locks import WriteLock

log = logging.getLogger(__name__)

BATCH = 1000  # records per Chroma call
# Embedded Chroma replays every write not yet synced to its vector index on each further write, so
# a call's cost grows with the records since the last sync (a 50-record call: ~60 ms just after
# a sync, ~400 ms at the default threshold of 1,000). Background uploads write in small calls;
# syncing every 100 records keeps each of them short and costs the large batches of
# `policyqa ingest` about 3 % (measured: 12.5 s instead of 12.1 s for 12,000 chunks).
SYNC_THRESHOLD = 100


class Chroma:
    """The chunk and registry collections of one index, for one embedder; calls are serialised."""

    def __init__(
        self, settings: Settings, embedder_name: str, dimension: int, embed: repair.Embed | None = None
    ) -> None:
        self.settings = settings
        self.embed = embed  # to rebuild a damaged vector index of the chunks
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.lock = threading.RLock()
        self.client: Any = None
        self.chunks: Any = None
        self.registry: Any = None
        self.on_open: Callable[[], None] = lambda: None  # the store re-reads its revision on every (re)open
        self.copy: Path | None = None  # where a read-only index is answered from
        self.write_lock = WriteLock(settings.data_dir)  # one writer; also held to rebuild vectors

    @property
    def is_server(self) -> bool:
        return bool(self.settings.chroma_url)

    def connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.is_server:
            url = urlparse(self.settings.chroma_url or "")
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
        return chromadb.PersistentClient(path=str(self._embedded_path()), settings=chroma_settings)

    def _embedded_path(self) -> Path:
        path = self.settings.chroma_path
        if self.copy is not None:
            return self.copy
        if path.is_dir() and not writable(path):
            _remove_orphan_copies()
            folder = Path(tempfile.mkdtemp(prefix=f"{_COPY_PREFIX}{os.getpid()}-"))
            atexit.register(shutil.rmtree, folder, True)  # a server ended by a signal skips this
            shutil.copytree(path, folder / "chroma")
            self.copy = folder / "chroma"
            log.warning(
                "the index folder %s is read-only: answering from a copy of it made now (%s); "
                "ingest, upload and delete are unavailable, and later changes are seen after a restart",
                path,
                folder,
            )
            return self.copy
        path.mkdir(parents=True, exist_ok=True)
        return path

    def open(self) -> None:
        client = self.client or self.connect()
        chunks, registry = self._collections(client)
        if not self.is_server and _tune((chunks, registry)):
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()  # the new setting applies to a new client only
            client = self.connect()
            chunks, registry = self._collections(client)
        if not self.is_server:
            damaged = [c.name for c in (chunks, registry) if not self._vectors_readable(c)]
            if damaged:
                client = self._rebuild(client, damaged)
                chunks, registry = self._collections(client)
        self.client, self.chunks, self.registry = client, chunks, registry
        self.on_open()

    def _vectors_readable(self, collection: Any) -> bool:
        path = self._embedded_path()
        return not repair.marker(path, collection.name).exists() and repair.is_readable(path, collection)

    def _rebuild(self, client: Any, names: list[str]) -> Any:
        """Rebuild the named collections' vector indexes; the client to go on with."""
        from chromadb.api.shared_system_client import SharedSystemClient

        path = self._embedded_path()
        prefix = f"{self.settings.collection}-"
        vectors = {name: repair.vectors_of(name.removeprefix(prefix), self.embed, path) for name in names}
        # A read-only index is rebuilt in its private copy, where no other process writes.
        with self.write_lock(wait=False) if self.copy is None else contextlib.nullcontext(True) as mine:
            if not mine:
                raise IndexDamaged(
                    f"the vector index of {', '.join(names)} under {path} is damaged and another "
                    "process is writing to the index; it is rebuilt when that process opens it, or "
                    "by the next `policyqa ingest`"
                )
            ids = {name: str(client.get_collection(name).id) for name in names}
            with contextlib.suppress(Exception):
                client.close()
            SharedSystemClient.clear_system_cache()
            for name in names:
                repair.remove_vector_index(path, name, ids[name])
            client = self.connect()
            for name in names:
                repair.write_vectors_again(path, client.get_collection(name), vectors[name], BATCH)
        return client

    def _collections(self, client: Any) -> tuple[Any, Any]:
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
        return chunks, registry

    def reopen_embedded(self) -> None:
        """Embedded Chroma keeps its vector index in memory; another process's writes are only
        seen after reopening it from disk."""
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        self.client = None
        self.open()

    @contextmanager
    def calls(self, *, serialised: bool = True) -> Iterator[None]:
        """Map every connection failure to StoreUnavailable and reconnect on the next call.

        Calls are serialised with each other; ``serialised=False`` is for a writer's records that
        no reader can see yet (a new generation's chunks and pages): readers need not wait for them
        (opening the connection is still serialised)."""
        with self.lock if serialised else contextlib.nullcontext():
            try:
                if self.client is None or self.chunks is None:
                    with self.lock:
                        self.open()
                yield
            except (EmbedderMismatch, StoreUnavailable):
                raise
            except Exception as exc:  # noqa: BLE001 - chromadb/httpx raise many kinds on outages
                if not self.is_server and repair.is_damage(exc):
                    self.client = self.chunks = self.registry = None  # the next call opens and rebuilds it
                    raise IndexDamaged(
                        f"the vector index under {self.settings.chroma_path} became unreadable "
                        f"({exc}); it is rebuilt on the next call"
                    ) from exc
                if self.is_server and _looks_like_outage(exc):
                    # Keep the client (its HTTP session has our timeout and reconnects by itself; a new
                    # client would start without one) but fetch the collections again next time.
                    self.chunks = self.registry = None
                    raise StoreUnavailable(
                        f"Chroma server at {self.settings.chroma_url} is unreachable: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                problem = None if self.is_server else _storage_problem(exc, self.settings.chroma_path)
                if problem:
                    raise StorageFailure(
                        f"the index under {self.settings.chroma_path} cannot be written: {problem} "
                        f"({type(exc).__name__}: {exc}); free some space or make the folder "
                        "writable, then run again"
                    ) from exc
                raise

    def ping(self) -> None:
        with self.calls():
            self.client.heartbeat()

    @staticmethod
    def get_all(
        collection: Any, where: dict[str, Any] | None, include: list[str]
    ) -> Iterator[dict[str, Any]]:
        """Every record matching ``where``, read in batches."""
        offset = 0
        while True:
            got = collection.get(where=where, include=include, limit=BATCH, offset=offset)
            if not got["ids"]:
                return
            for i, _id in enumerate(got["ids"]):
                item: dict[str, Any] = {"id": _id}
                if got.get("metadatas") is not None:
                    item.update(got["metadatas"][i] or {})
                if got.get("documents") is not None:
                    item["document"] = got["documents"][i]
                yield item
            if len(got["ids"]) < BATCH:
                return
            offset += BATCH

    def drop_collections(self) -> None:
        """Drop both collections (used to switch embedders).

        The registry goes first: killed in between, what is left is chunks that no document
        claims (the next reset or re-ingest replaces them), never documents whose chunks are
        gone, which a re-ingest with the same embedder would skip as unchanged."""
        with self.lock:
            client = self.connect()
            for suffix in ("registry", "chunks"):
                try:
                    client.delete_collection(f"{self.settings.collection}-{suffix}")
                except Exception:  # noqa: BLE001 - absent is fine
                    pass
            self.client = self.chunks = self.registry = None

    def close(self) -> None:
        """Close the embedded client so other processes see a quiet index (best effort)."""
        from chromadb.api.shared_system_client import SharedSystemClient

        with self.lock:
            if self.client is not None:
                with contextlib.suppress(Exception):  # the files stay consistent either way
                    self.client.close()
            self.client = self.chunks = self.registry = None
            SharedSystemClient.clear_system_cache()
            if self.copy is not None:
                shutil.rmtree(self.copy.parent, ignore_errors=True)
                self.copy = None


def _tune(collections: tuple[Any, ...]) -> bool:
    """Set ``SYNC_THRESHOLD`` on collections that lack it; whether any changed (a change applies
    to clients opened after it)."""
    changed = False
    for collection in collections:
        hnsw = (getattr(collection, "configuration_json", None) or {}).get("hnsw") or {}
        if hnsw and hnsw.get("sync_threshold") != SYNC_THRESHOLD:
            collection.modify(configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}})
            changed = True
    return changed


_COPY_PREFIX = "policyqa-read-only-index-"


def _remove_orphan_copies() -> None:
    """Copies of read-only indexes whose process is gone (killed, or ended by a signal, which
    skips ``atexit``): ``<tmp>/policyqa-read-only-index-<pid>-<random>``."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_COPY_PREFIX}*"):
        pid = folder.name.removeprefix(_COPY_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's living process
            pass


def writable(folder: Path) -> bool:
    """Can this process create files in ``folder`` and write its index file? (A read-only mount
    says no even to root, whom permission bits do not stop.)"""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    index = folder / "chroma.sqlite3"
    return not index.exists() or os.access(index, os.W_OK)


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
