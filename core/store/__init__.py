"""The Chroma index: chunks with their vectors, and a registry that says which version is live.

``Store`` (store.py) is the facade the rest of the product uses; ``chroma.py`` holds the
connection and translates Chroma's failures into domain errors; ``records.py`` defines the
records and their ids.
"""

from core.store.records import ChunkMeta, DocumentRecord, DocumentWrite, RegistrySnapshot, StoredChunk
from core.store.store import Store

__all__ = ["ChunkMeta", "DocumentRecord", "DocumentWrite", "RegistrySnapshot", "Store", "StoredChunk"]
