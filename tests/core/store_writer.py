"""A process that does nothing but write chunks through the store, 50 at a time, until it is
killed: every call makes embedded Chroma sync its vector index (``SYNC_THRESHOLD``), so a kill
at a random moment often lands inside that rewrite. Used by test_store_kill_during_sync.py.

Usage: python store_writer.py DATA_DIR FIRST_BATCH_NUMBER; prints ``ready`` once the store is open."""

from __future__ import annotations

import sys
from pathlib import Path

from fakes import FakeEmbedder

from core.settings import Settings
from core.store import Store

BATCH = 50


def main(data_dir: Path, first: int) -> None:
    embedder = FakeEmbedder()
    store = Store(
        Settings(data_dir=data_dir, corpus_dir=data_dir / "corpus"), embedder.name, embedder.dimension
    )
    store.snapshot()
    print("ready", flush=True)
    for n in range(first, first + 10**6):
        texts = [f"第{n}回の記録{i}では蓄電池の生産を拡大する。" for i in range(BATCH)]
        with store.db.calls():
            store.db.chunks.upsert(
                ids=[f"rec-{n}-{i}" for i in range(BATCH)],
                documents=texts,
                metadatas=[{"doc_id": "records", "gen": "g1", "page": 1} for _ in texts],
                embeddings=embedder.embed(texts),
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
