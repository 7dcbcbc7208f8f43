"""The index's records: documents, chunks and the registry entries that say which version is live.

Record ids are built here and nowhere else: ``doc:<doc_id>`` names a document's live
generation, ``page:<gen>:<n>`` holds a page text, ``pending:<gen>`` / ``retired:<gen>`` mark
generations being written or dropped, ``state`` carries the revision that changes on every commit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

STATE_ID = "state"

RegistryEntry = tuple[str, dict[str, Any], str]  # (record id, metadata, document text)


def chunk_id(doc_id: str, gen: str, index: int) -> str:
    return f"{doc_id}:{gen}:{index}"


def generation_of(chunk_id: str) -> str:
    """The generation in a chunk id (document ids hold no ':')."""
    return chunk_id.rsplit(":", 2)[-2]


def page_id(gen: str, page: int) -> str:
    return f"page:{gen}:{page}"


def state_record(revision: str) -> RegistryEntry:
    return STATE_ID, {"kind": "state", "revision": revision}, ""


def page_record(gen: str, doc_id: str, page: int, text: str) -> RegistryEntry:
    return page_id(gen, page), {"kind": "page", "gen": gen, "doc_id": doc_id, "page": page}, text


def marker_record(kind: Literal["pending", "retired"], gen: str, doc_id: str) -> RegistryEntry:
    return f"{kind}:{gen}", {"kind": kind, "gen": gen, "doc_id": doc_id}, ""


REGISTRY_VECTOR = [0.0]  # registry records carry no meaning in vector space


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
    metadatas: list[ChunkMeta]
    vectors: np.ndarray


@dataclass(frozen=True)
class ChunkMeta:
    """What the chunks collection stores next to each chunk's text and vector: the one schema that
    ingest writes and retrieval reads."""

    doc_id: str
    gen: str
    doc_title: str
    doc_date: str
    page: int
    chunk: int
    start: int
    end: int
    sha256: str
    ingested_at: str
    tokens: str  # the keyword tokens, space separated (the keyword index is rebuilt from them)
    heading: str = ""  # the title line embedded with the chunk (a damaged vector index is rebuilt from it)

    def to_metadata(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> ChunkMeta:
        return cls(
            doc_id=str(meta["doc_id"]),
            gen=str(meta.get("gen", "")),
            doc_title=str(meta.get("doc_title", "")),
            doc_date=str(meta.get("doc_date", "")),
            page=int(meta["page"]),
            chunk=int(meta.get("chunk", 0)),
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", 0)),
            sha256=str(meta.get("sha256", "")),
            ingested_at=str(meta.get("ingested_at", "")),
            tokens=str(meta.get("tokens", "")),
            heading=str(meta.get("heading", "")),
        )


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    meta: ChunkMeta
    similarity: float = 0.0

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id

    @property
    def page(self) -> int:
        return self.meta.page

    @property
    def gen(self) -> str:
        return self.meta.gen


def document_record(record: DocumentRecord) -> RegistryEntry:
    return f"doc:{record.doc_id}", {"kind": "doc", **asdict(record)}, ""


def tombstone_record(doc_id: str) -> RegistryEntry:
    """A deleted document: its doc record without a generation (removed by the next collection)."""
    return f"doc:{doc_id}", {"kind": "doc", "doc_id": doc_id, "gen": ""}, ""
