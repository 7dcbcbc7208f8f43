"""SIGKILL at seeded random moments of real `policyqa ingest` processes, many times over.

Three small generated PDFs are ingested once; then every trial changes some of them (a new
version of a document, or a new document) and starts `policyqa ingest`, which is killed with
SIGKILL at a random moment: either a random delay after the process starts (start-up, reading,
embedding, writing) or a random delay after it first wrote to the index, or first wrote page
records, or first wrote chunks (inside the crash-safe write path). Trials build on each other's wreckage: nothing is cleaned up in between.

After every kill a fresh reader (a new embedded Chroma client on the files the killed process
left) must see a consistent index: every registered document's live generation has exactly its
recorded chunks and they are exactly the chunks of one version of the file (the one live before
the run or the one the run was writing; never a mix), chunks of other generations are marked
for removal, and no query returns a chunk of a generation that is not live.

Finally a normal run completes and leaves nothing behind: the chunk total equals the sum of the
live documents' chunk counts and no pending/retired markers remain.

The kill helpers are shared with the smaller crash test in test_pipeline.py.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from ingest_helpers import IngestEnv, sha256_of
from test_pipeline import _check_view, _close, _expected_chunks, _fresh_view, _ingest_cli, _run_and_kill

from core.settings import Settings

pytestmark = pytest.mark.slow

SEED = 20250316
TRIALS = 24
REPO = Path(__file__).resolve().parents[2]
QUERY = "計画の第5章の予算はいくらですか"
TOPICS = {"kill-grid": "送電網", "kill-port": "港湾", "kill-seed": "種苗", "kill-late": "防災"}


def pages_of(doc_id: str, version: int) -> list[str]:
    """12 pages; every page names the document's version, so a chunk tells which version it is from."""
    topic = TOPICS[doc_id]
    return [
        f"{topic}整備計画 第{n}章（第{version}版）\n\n"
        + f"{topic}整備計画の第{n}章では、第{version}版の予算を{n * 13 + version}億円とする。" * 3
        + f"\n\n{topic}担当の第{n}課が第{version}版の進捗を毎年{(n % 12) + 1}月に評価する。" * 3
        for n in range(1, 13)
    ]


class Versions:
    """Every file version written, so a stored document can be matched against exactly one of them."""

    def __init__(self, make_pdf, corpus: Path, settings: Settings):
        self.make_pdf, self.corpus, self.settings = make_pdf, corpus, settings
        self.version: dict[str, int] = {}
        self.expected: dict[str, list[str]] = {}  # sha256 of a file version -> its chunk texts

    def write(self, doc_id: str) -> str:
        self.version[doc_id] = self.version.get(doc_id, 0) + 1
        path = self.make_pdf(self.corpus / f"{doc_id}.pdf", pages_of(doc_id, self.version[doc_id]))
        sha = sha256_of(path)
        self.expected[sha] = _expected_chunks(self.settings, path)[1]
        return sha


def stored_versions(view: dict, versions: Versions) -> dict[str, str]:
    """doc_id -> sha256 of the file version whose chunks are live, checking they are exactly those."""
    live: dict[str, str] = {}
    for doc_id, record in view["docs"].items():
        assert record.sha256 in versions.expected, f"{doc_id}: a version that was never written"
        mine = sorted(
            (c for c in view["raw"] if c["doc_id"] == doc_id and c["gen"] == record.gen),
            key=lambda c: c["chunk"],
        )
        assert [c["document"] for c in mine] == versions.expected[record.sha256], (
            f"{doc_id}: the live chunks are not exactly one version of the file"
        )
        live[doc_id] = record.sha256
    return live


def test_sigkill_at_random_moments_never_leaves_a_half_written_document(
    tmp_path: Path, make_pdf, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    data, corpus = tmp_path / "data", tmp_path / "corpus"
    corpus.mkdir()
    chroma = data / "chroma"
    env_vars = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(data),
        "POLICYQA_CORPUS_DIR": str(corpus),
        "PYTHONPATH": str(REPO),
    }
    for name in ("POLICYQA_CHROMA_URL", "POLICYQA_EMBEDDER", "POLICYQA_COLLECTION"):
        env_vars.pop(name, None)
    settings = Settings(data_dir=data, corpus_dir=corpus)
    versions = Versions(make_pdf, corpus, settings)
    current = {doc_id: versions.write(doc_id) for doc_id in ("kill-grid", "kill-port", "kill-seed")}
    base = IngestEnv(settings, embedder)
    assert base.run().ok
    _close(base.store)
    live = stored_versions(_fresh_view(settings, embedder, [QUERY]), versions)
    assert live == current

    # How long an ordinary update run takes on this machine: a kill "after the start" is drawn
    # within it, so the kills land inside runs whether the machine is fast or slow.
    current["kill-grid"] = versions.write("kill-grid")
    timed = time.monotonic()
    _ingest_cli(env_vars)
    run_seconds = time.monotonic() - timed
    live = stored_versions(_fresh_view(settings, embedder, [QUERY]), versions)
    assert live == current

    kills = interrupted_updates = 0
    plan = []
    for trial in range(TRIALS):
        # Change one or two documents (and add a fourth one part-way), so every run has writing to do.
        changed = rng.sample(sorted(current), rng.choice([1, 1, 2]))
        if trial == TRIALS // 3:
            changed.append("kill-late")
        for doc_id in changed:
            current[doc_id] = versions.write(doc_id)
        # None: a delay after the start; otherwise a delay after the run's first write of that stage
        # (any write, the page records of a new generation, its chunks).
        stage = rng.choice([None, None, "any", "pages", "chunks", "chunks"])
        delay = rng.uniform(0.05, 0.95) * run_seconds if stage is None else rng.uniform(0.0, 0.6)
        killed = _run_and_kill(env_vars, chroma, delay, stage)
        kills += killed
        plan.append((trial, stage or "start", round(delay, 2), killed))

        view = _fresh_view(settings, embedder, [QUERY, f"{TOPICS[changed[0]]}整備計画の第7章"])
        _check_view(view)
        now = stored_versions(view, versions)
        for doc_id, sha in now.items():
            assert sha in (live.get(doc_id), current[doc_id]), (
                f"trial {trial}: {doc_id} is at neither its previous nor its new version"
            )
        assert set(live) <= set(now), f"trial {trial}: a document disappeared"
        interrupted_updates += sum(1 for d in changed if d in now and now[d] != current[d])
        live = now

    rebuilds = sum("rebuilding the vector index" in r.getMessage() for r in caplog.records)
    print(
        f"\nan update run takes {run_seconds:.1f} s; {kills}/{TRIALS} runs killed before finishing, "
        f"{interrupted_updates} updates interrupted, {rebuilds} vector indexes rebuilt after a kill; "
        f"plan: {plan}"
    )
    assert kills >= TRIALS // 2, f"only {kills} kills landed before the runs finished: {plan}"
    assert interrupted_updates >= 3, f"only {interrupted_updates} updates were interrupted: {plan}"

    report = _ingest_cli(env_vars)  # an ordinary run finishes what the killed ones started
    assert report["summary"]["failed"] == 0
    view = _fresh_view(settings, embedder, [QUERY])
    _check_view(view)
    assert stored_versions(view, versions) == current
    assert not view["hidden"]
    assert len(view["raw"]) == sum(r.chunks for r in view["docs"].values()), "leftover chunks"
    reader = IngestEnv(settings, embedder)
    try:
        markers = [i for i in reader.registry_ids() if i.startswith(("pending:", "retired:"))]
        assert markers == [], f"markers left behind: {markers}"
        assert reader.chunk_total() == sum(r.chunks for r in reader.store.snapshot().documents.values())
    finally:
        _close(reader.store)
    print(f"{TRIALS} trials in {time.monotonic() - started:.0f} s")
