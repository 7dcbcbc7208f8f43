"""SIGKILL a process while embedded Chroma syncs its vector index, many times over: the next
store to open the index rebuilds what the kill damaged, and no record is lost or left without
its vector.

Half the kills land at a random moment of the writing (measured: about one in ten of those
damages the index), half at the moment Chroma rewrites the index's id map (nearly all of those
do): Chroma then cannot open the index (``Error deserializing pickle file``, ``Failed to apply
logs to the hnsw segment writer``), or its header counts more elements than its files hold and
the first query crashes the process. Without the rebuild (``core/store/repair.py``) the test
fails at the first such kill. The writer's records build on each other's wreckage; after every
kill a fresh store must hold at least the records of the kill before, each with its vector, and
answer queries."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from core.settings import Settings
from core.store import Store

pytestmark = pytest.mark.slow

SEED = 20250316
TRIALS = 20
TESTS = Path(__file__).resolve().parents[1]
WRITER = Path(__file__).with_name("store_writer.py")


def _id_map_rewritten(chroma: Path, deadline: float) -> None:
    """Return as soon as the largest id map (``index_metadata.pickle``) of the index is being
    rewritten: Chroma truncates it, then writes it again, in one sync."""
    maps = sorted(chroma.glob("*/index_metadata.pickle"), key=lambda p: p.stat().st_size)
    if not maps:
        return
    largest, last = maps[-1], maps[-1].stat().st_size
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            size = largest.stat().st_size
            if size < last:
                return
            last = size


def _write_until_killed(data: Path, first: int, seconds: float, *, in_id_map: bool) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS)])}
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(data), str(first)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    time.sleep(seconds)
    if in_id_map:
        _id_map_rewritten(data / "chroma", time.monotonic() + 5)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)


def test_a_kill_during_the_vector_sync_never_loses_a_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(SEED)
    data = tmp_path / "data"
    embedder = FakeEmbedder()
    settings = Settings(data_dir=data, corpus_dir=data / "corpus")
    records = 0
    for trial in range(TRIALS):
        # A random moment, or the moment Chroma rewrites the id map of its vector index.
        _write_until_killed(data, 1000 * trial, rng.uniform(0.05, 1.5), in_id_map=trial % 2 == 1)
        store = Store(settings, embedder.name, embedder.dimension, embedder.embed)
        try:
            store.snapshot()
            with store.db.calls():
                now = store.db.chunks.count()
                assert now >= records, (
                    f"trial {trial}: {records - now} records written before the kill are gone"
                )
                for offset in range(0, now, 5000):  # Chroma fails the read of a record without a vector
                    got = store.db.chunks.get(include=["embeddings"], limit=5000, offset=offset)
                    assert len(got["embeddings"]) == min(5000, now - offset)
                hits = store.db.chunks.query(query_embeddings=embedder.embed(["第1回の記録"]), n_results=10)
                assert len(hits["ids"][0]) == 10
        finally:
            store.close()
        records = now
    rebuilt = sum("rebuilding the vector index" in r.getMessage() for r in caplog.records)
    print(f"\n{TRIALS} kills, {rebuilt} vector indexes rebuilt, {records} records")
    assert rebuilt >= 1, "no kill damaged the vector index: the test did not reach the rebuild"
