"""Uploads in the service: what a killed upload leaves behind is swept at the next start or write,
and a copy of a live document is a duplicate, not a second document."""

from __future__ import annotations

import fcntl
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from core.errors import Kind, UploadRejected
from core.settings import Settings
from rag.service import PolicyQA
from rag.staging import STAGING_GRACE_S

PAGES = ["港湾物流メモ\n\n港湾の荷役能力を点検した。", "備蓄の方針\n\n燃料の備蓄を九十日分とする。"]


@pytest.fixture
def service(tmp_path: Path) -> PolicyQA:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return PolicyQA(Settings(data_dir=tmp_path / "data", corpus_dir=corpus), embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def memo(make_pdf, tmp_path_factory) -> Path:
    return make_pdf(tmp_path_factory.mktemp("memo") / "memo.pdf", PAGES)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def _leave_leftovers(uploads: Path, memo: Path) -> None:
    """What processes killed mid-upload leave: an upload file no document names, a staging folder
    with a half-written file (its lock released by the kernel), one without even a lock file."""
    (uploads / "never-ingested.pdf").write_bytes(memo.read_bytes())
    killed = uploads / ".incoming" / "0123abcd"
    killed.mkdir(parents=True)
    (killed / ".lock").touch()
    (killed / "half.pdf").write_bytes(memo.read_bytes()[:100])
    empty = uploads / ".incoming" / "4567ef01"
    empty.mkdir()
    old = time.time() - STAGING_GRACE_S - 60
    os.utime(empty, (old, old))


def test_restart_sweeps_what_killed_uploads_left_and_keeps_live_documents(service, memo, tmp_path):
    service.upload(io.BytesIO(memo.read_bytes()), "kept")
    uploads = service.settings.uploads_dir
    _leave_leftovers(uploads, memo)
    service.close()

    restarted = PolicyQA(service.settings, embedder=FakeEmbedder())
    restarted.warm_up()
    assert _files(uploads) == [".incoming", "kept.pdf"]
    assert list(restarted.documents()) == ["kept"]
    assert (uploads / "kept.pdf").read_bytes() == memo.read_bytes()


def test_every_ingest_sweeps_too(service, memo):
    service.settings.uploads_dir.mkdir(parents=True)
    _leave_leftovers(service.settings.uploads_dir, memo)
    report = service.ingest()  # an empty corpus: nothing to ingest, but the sweep runs
    assert report.ok
    assert _files(service.settings.uploads_dir) == [".incoming"]


def test_a_staging_folder_in_use_is_not_swept(service, memo):
    """A living upload (another thread or process) holds its folder's lock; a fresh folder with no
    lock file yet may be an upload between its first two steps."""
    busy = service.settings.uploads_dir / ".incoming" / "busy"
    busy.mkdir(parents=True)
    fresh = service.settings.uploads_dir / ".incoming" / "fresh"
    fresh.mkdir()
    with open(busy / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        (busy / "report.pdf").write_bytes(b"%PDF-1.7 partial")
        service.ingest()
        assert busy.is_dir() and (busy / "report.pdf").exists() and fresh.is_dir()
    service.ingest()
    assert not busy.exists() and fresh.is_dir()


def test_a_replacement_killed_before_its_ingest_ended_is_rolled_back(service, memo, make_pdf, tmp_path):
    """Killed after renaming the new version into place: the live document's file is put back."""
    service.upload(io.BytesIO(memo.read_bytes()), "memo")
    target = service.settings.uploads_dir / "memo.pdf"
    killed = service.settings.uploads_dir / ".incoming" / "dead"
    (killed / "previous").mkdir(parents=True)
    (killed / ".lock").touch()
    os.link(target, killed / "previous" / "memo.pdf")
    newer = make_pdf(tmp_path / "v2.pdf", [PAGES[0], "新しい版の本文である。"])
    os.replace(newer, target)  # the new version in place, never ingested
    service.ingest()
    assert target.read_bytes() == memo.read_bytes()
    assert not killed.exists()


def test_upload_of_a_copy_is_a_duplicate_unless_allowed(service, memo):
    service.upload(io.BytesIO(memo.read_bytes()), "first")
    with pytest.raises(UploadRejected) as caught:
        service.upload(io.BytesIO(memo.read_bytes()), "second")
    error = caught.value
    assert (error.code, error.kind) == ("duplicate_document", Kind.CONFLICT)
    assert error.details == {"duplicate_of": "first"} and "'first'" in error.message
    assert list(service.documents()) == ["first"]
    assert _files(service.settings.uploads_dir) == [".incoming", "first.pdf"]

    # The same file under its own id again: unchanged, not a duplicate of itself.
    _, again = service.upload(io.BytesIO(memo.read_bytes()), "first")
    assert again.status == "unchanged"

    _, forced = service.upload(io.BytesIO(memo.read_bytes()), "second", allow_duplicate=True)
    assert forced.status == "added"
    assert list(service.documents()) == ["first", "second"]
    # Both copies live now; re-ingesting either one is still no duplicate.
    _, still = service.upload(io.BytesIO(memo.read_bytes()), "second")
    assert still.status == "unchanged"


def test_folder_ingest_skips_the_second_of_two_identical_files(service, memo, make_pdf):
    corpus = service.settings.corpus_dir
    (corpus / "a-original.pdf").write_bytes(memo.read_bytes())
    (corpus / "b-copy.pdf").write_bytes(memo.read_bytes())
    make_pdf(corpus / "c-other.pdf", ["別の資料\n\n別の内容である。"])
    report = service.ingest()
    status = {f.doc_id: (f.status, f.duplicate_of) for f in report.files}
    assert status == {
        "a-original": ("added", None),
        "b-copy": ("duplicate", "a-original"),
        "c-other": ("added", None),
    }
    assert report.ok and report.summary()["duplicates"] == 1
    assert list(service.documents()) == ["a-original", "c-other"]

    rerun = service.ingest()  # incremental: the original is unchanged, the copy still a duplicate
    assert {f.doc_id: f.status for f in rerun.files} == {
        "a-original": "unchanged",
        "b-copy": "duplicate",
        "c-other": "unchanged",
    }


def test_a_renamed_file_is_no_duplicate_of_its_old_name(service, memo):
    corpus = service.settings.corpus_dir
    (corpus / "old-name.pdf").write_bytes(memo.read_bytes())
    service.ingest()
    (corpus / "old-name.pdf").rename(corpus / "new-name.pdf")
    report = service.ingest(prune=True)
    assert [(f.doc_id, f.status) for f in report.files] == [("new-name", "added")]
    assert report.pruned == ["old-name"] and list(service.documents()) == ["new-name"]


_CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
from fakes import FakeEmbedder
from core.settings import Settings
from rag.service import PolicyQA

class Slow:
    def __init__(self, data):
        self.data, self.sent = data, 0
    def read(self, n=-1):
        if self.sent >= len(self.data):
            time.sleep(60)  # the client stalls; the test kills this process here
        block = self.data[self.sent : self.sent + 4096]
        self.sent += len(block)
        return block

service = PolicyQA(Settings(data_dir={data!r}, corpus_dir={corpus!r}), embedder=FakeEmbedder())
print("uploading", flush=True)
service.upload(Slow(open({pdf!r}, "rb").read()), "killed")
"""


def test_a_sigkilled_upload_leaves_nothing_after_a_restart(service, memo, tmp_path):
    service.upload(io.BytesIO(memo.read_bytes()), "kept")
    service.close()
    code = _CHILD.format(
        tests=str(Path(__file__).parents[1]),
        data=str(service.settings.data_dir),
        corpus=str(service.settings.corpus_dir),
        pdf=str(memo),
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "uploading"
        staged = service.settings.uploads_dir / ".incoming"
        deadline = time.monotonic() + 30
        while not any(p.name == "killed.pdf" for p in staged.rglob("*.pdf")):
            assert time.monotonic() < deadline, "the upload never started writing"
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert any(staged.iterdir())  # the killed process's staging folder is left behind

    restarted = PolicyQA(service.settings, embedder=FakeEmbedder())
    restarted.warm_up()
    assert _files(service.settings.uploads_dir) == [".incoming", "kept.pdf"]
    assert list(restarted.documents()) == ["kept"]


def test_a_disk_that_fills_up_during_an_upload_is_a_storage_failure(service, memo, monkeypatch):
    import builtins
    import errno

    import rag.staging
    from core.errors import StorageFailure

    class FullDisk(io.BufferedWriter):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    def full_disk(path, mode="r"):
        return FullDisk(io.FileIO(path, mode)) if mode == "wb" else builtins.open(path, mode)

    monkeypatch.setattr(rag.staging, "open", full_disk, raising=False)
    with pytest.raises(StorageFailure) as caught:
        service.upload(io.BytesIO(memo.read_bytes()), "full")
    assert "No space left on device" in caught.value.message
    assert str(service.settings.data_dir) not in caught.value.public_message()
    assert _files(service.settings.uploads_dir) == [".incoming"]
    assert service.documents() == {}
