"""Rebuilding a damaged vector index of embedded Chroma from the records it indexes.

Embedded Chroma keeps a collection's records (ids, texts, metadata) in SQLite, which survives
any crash, and their vectors in an HNSW index that it rewrites in place every few hundred records
(hnswlib's files, then a pickled id map), after which it purges its write-ahead log. A process
killed during that rewrite leaves files the next reader cannot load (``Error deserializing
pickle file``, ``Failed to apply logs to the hnsw segment writer``), and the vectors behind them
exist nowhere else. They are derived data, though: the damaged index is removed, Chroma starts an
empty one (replaying what is left of its log), and every record is written again with a vector
computed from the record itself. A marker file says a rebuild is under way, so one that is
killed too is finished by the next process that opens the index.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import IndexDamaged
from core.store.records import REGISTRY_VECTOR
from core.text import embedding_text

log = logging.getLogger(__name__)

Embed = Callable[[list[str]], np.ndarray]
Vectors = Callable[[list[str], list[dict[str, Any]]], Sequence[Any] | np.ndarray]  # texts, metadatas

_DAMAGE_WORDS = ("hnsw", "pickle file")


def is_damage(exc: BaseException) -> bool:
    """Does this Chroma error say the vector index's files cannot be read or applied?"""
    from chromadb.errors import InternalError

    return isinstance(exc, InternalError) and any(word in str(exc).lower() for word in _DAMAGE_WORDS)


def marker(chroma_path: Path, name: str) -> Path:
    return chroma_path / f"{name}.rebuilding"


def is_readable(chroma_path: Path, collection: Any) -> bool:
    """Can Chroma load the collection's vector index? Its files are checked first (a short file
    crashes the process that queries it), then read (every read first applies the log to them)."""
    folder = vector_folder(chroma_path, str(collection.id))
    if folder is not None and not files_whole(folder):
        log.warning("the vector index of %s is cut short: %s", collection.name, folder)
        return False
    try:
        collection.get(limit=1, include=[])
    except Exception as exc:  # noqa: BLE001 - only damage is answered here; the rest surfaces later
        if is_damage(exc):
            log.warning("the vector index of %s cannot be read: %s", collection.name, exc)
            return False
    return True


# hnswlib's header.bin (persistence version 1): version, offsetLevel0, max_elements,
# cur_element_count, size_data_per_element, label_offset, offsetData, maxlevel, enterpoint_node,
# maxM, maxM0, M, mult, ef_construction.
_HEADER = struct.Struct("<iQQQQQQiIQQQdQ")


def files_whole(folder: Path) -> bool:
    """Do the HNSW files hold every element their header counts? Chroma writes the header first
    and the elements after it, in place; a kill in between leaves a header that promises more
    than the files hold, and hnswlib then reads past them (a query crashes the process). Files
    of another format than the one known here are not judged."""
    if not (folder / "header.bin").exists():
        return True  # nothing persisted yet: Chroma starts from its log
    try:
        header, links = (folder / "header.bin").read_bytes(), (folder / "link_lists.bin").read_bytes()
        data, length = ((folder / name).stat().st_size for name in ("data_level0.bin", "length.bin"))
    except OSError:
        return False
    if len(header) != _HEADER.size:
        return len(header) > _HEADER.size  # cut short, or a layout not known here
    version, _, max_elements, count, element_size, *_ = _HEADER.unpack(header)
    if version != 1:
        return True
    if count > max_elements or data < count * element_size or length < 4 * count:
        return False
    offset = 0
    for _ in range(count):  # each element: a uint32 size, then that many bytes of upper-level links
        if offset + 4 > len(links):
            return False
        offset += 4 + int.from_bytes(links[offset : offset + 4], "little")
    return offset <= len(links)


def vector_folder(chroma_path: Path, collection_id: str) -> Path | None:
    """The folder of a collection's HNSW index: ``<chroma>/<vector segment id>``, the segment
    being the collection's one with scope VECTOR in Chroma's own catalogue."""
    with sqlite3.connect(f"file:{chroma_path / 'chroma.sqlite3'}?mode=ro", uri=True) as db:
        row = db.execute(
            "SELECT id FROM segments WHERE collection = ? AND scope = 'VECTOR'", (collection_id,)
        ).fetchone()
    return chroma_path / row[0] if row else None


def remove_vector_index(chroma_path: Path, name: str, collection_id: str) -> None:
    """Mark the rebuild as started, then delete the collection's HNSW files (no client may have
    them open)."""
    marker(chroma_path, name).touch()
    folder = vector_folder(chroma_path, collection_id)
    if folder is not None and folder.is_dir():
        shutil.rmtree(folder)


def write_vectors_again(chroma_path: Path, collection: Any, vectors: Vectors, batch: int) -> int:
    """Upsert every record with a vector computed from its text and metadata; the number written.
    Only then is the marker removed: the index is whole again."""
    ids = collection.get(include=[])["ids"]
    log.warning("rebuilding the vector index of %s: %d records", collection.name, len(ids))
    for start in range(0, len(ids), batch):
        got = collection.get(ids=ids[start : start + batch], include=["documents", "metadatas"])
        texts = [t or "" for t in got["documents"]]
        metadatas = [m or {} for m in got["metadatas"]]
        collection.upsert(
            ids=got["ids"], documents=texts, metadatas=metadatas, embeddings=vectors(texts, metadatas)
        )
        log.info("rebuilt %d of %d vectors of %s", min(start + batch, len(ids)), len(ids), collection.name)
    marker(chroma_path, collection.name).unlink(missing_ok=True)
    return len(ids)


def vectors_of(
    collection: str, embed: Callable[[list[str]], np.ndarray] | None, chroma_path: Path
) -> Vectors:
    """How the records of a collection (by suffix) get their vectors again: the registry's are
    constant; a chunk's is its embedding text (heading and text) embedded again."""
    if collection == "registry":
        return lambda texts, _metadatas: [REGISTRY_VECTOR] * len(texts)
    if embed is None:
        raise IndexDamaged(
            f"the vector index of the chunks under {chroma_path} is damaged and this process has "
            "no embedder to rebuild it; run `policyqa ingest`"
        )
    return lambda texts, metadatas: np.asarray(
        embed([embedding_text(str(m.get("heading", "")), t) for t, m in zip(texts, metadatas, strict=True)]),
        dtype=np.float32,
    )
