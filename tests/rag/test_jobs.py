"""Upload jobs: a bounded queue in front of one worker, and what a job keeps while it waits."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from core.errors import Kind, UploadQueueFull, UploadRejected
from core.settings import Settings
from ingest.report import FileResult, IngestReport
from rag.jobs import Jobs
from rag.service import PolicyQA

PAGES = ["港湾物流メモ\n\n港湾の荷役能力を点検した。", "備蓄の方針\n\n燃料の備蓄を九十日分とする。"]


def _done(job=None, doc_id: str = "x") -> tuple[IngestReport, FileResult]:
    result = FileResult(path=f"/x/{doc_id}.pdf", doc_id=doc_id, status="added", pages=1, chunks=1)
    return IngestReport(files=[result]), result


class Gate:
    """Work that waits until the test opens the gate, and says when it started."""

    def __init__(self) -> None:
        self.started, self.open = threading.Event(), threading.Event()

    def __call__(self, job=None) -> tuple[IngestReport, FileResult]:
        self.started.set()
        assert self.open.wait(30)
        return _done()


def test_a_full_queue_refuses_the_next_job_and_keeps_nothing_of_it() -> None:
    jobs = Jobs(capacity=2)
    gate = Gate()
    released: list[str] = []
    running = jobs.submit("a", gate, lambda: released.append("a"))
    assert gate.started.wait(10) and running.status == "running"
    waiting = [jobs.submit(d, _done, lambda d=d: released.append(d)) for d in ("b", "c")]
    assert [jobs.position(j) for j in waiting] == [1, 2] and jobs.position(running) is None
    with pytest.raises(UploadQueueFull) as caught:
        jobs.submit("d", _done, lambda: released.append("d"))
    assert (caught.value.code, caught.value.kind, caught.value.retry_after_s) == (
        "upload_queue_full",
        Kind.BUSY,
        30,
    )
    assert "POLICYQA_UPLOAD_QUEUE" in caught.value.message
    gate.open.set()
    assert all(j.wait(10) for j in (running, *waiting))
    assert [j.status for j in (running, *waiting)] == ["succeeded"] * 3
    assert released == ["a", "b", "c"]  # the refused job's release is its caller's
    jobs.close()


def test_a_queue_of_none_takes_one_job_at_a_time() -> None:
    jobs = Jobs(capacity=0)
    gate = Gate()
    first = jobs.submit("a", gate, lambda: None)
    with pytest.raises(UploadQueueFull):  # refused whether or not the worker has taken the first yet
        jobs.submit("b", _done, lambda: None)
    gate.open.set()
    assert first.wait(10)
    assert jobs.submit("c", _done, lambda: None).wait(10)
    jobs.close()


def test_jobs_run_one_at_a_time_in_order() -> None:
    jobs = Jobs(capacity=10)
    spans: list[tuple[str, float, float]] = []

    def work(name: str):
        def run(job) -> tuple[IngestReport, FileResult]:
            start = time.perf_counter()
            time.sleep(0.05)
            spans.append((name, start, time.perf_counter()))
            return _done(job, name)

        return run

    submitted = [jobs.submit(n, work(n), lambda: None) for n in "abcde"]
    assert all(j.wait(10) for j in submitted)
    assert [name for name, _, _ in spans] == list("abcde")
    assert all(spans[i][2] <= spans[i + 1][1] for i in range(len(spans) - 1)), spans
    for job in submitted:
        assert job.created_at <= (job.started_at or "") <= (job.finished_at or "")
        assert job.result is not None and job.result.doc_id == job.doc_id
    jobs.close()


def test_a_failing_job_keeps_its_error_and_the_worker_goes_on() -> None:
    jobs = Jobs(capacity=4)

    def rejected(job) -> tuple[IngestReport, FileResult]:
        raise UploadRejected("x.pdf is encrypted", code="encrypted")

    def broken(job) -> tuple[IngestReport, FileResult]:
        raise RuntimeError("a bug")

    released: list[str] = []
    failed = jobs.submit("x", rejected, lambda: released.append("x"))
    crashed = jobs.submit("y", broken, lambda: released.append("y"))
    fine = jobs.submit("z", _done, lambda: released.append("z"))
    assert all(j.wait(10) for j in (failed, crashed, fine))
    assert failed.status == "failed" and failed.error is not None and failed.error.code == "encrypted"
    assert crashed.status == "failed" and crashed.error is not None and crashed.error.code == "internal_error"
    assert "a bug" not in crashed.error.message  # details go to the log, not to clients
    assert fine.status == "succeeded" and released == ["x", "y", "z"]
    assert jobs.get(failed.id) is failed and jobs.get("nope") is None
    jobs.close()


def test_closing_drops_the_waiting_jobs_and_refuses_new_ones() -> None:
    jobs = Jobs(capacity=4)
    gate = Gate()
    released: list[str] = []
    running = jobs.submit("a", gate, lambda: released.append("a"))
    assert gate.started.wait(10)
    waiting = jobs.submit("b", _done, lambda: released.append("b"))
    threading.Timer(0.2, gate.open.set).start()
    jobs.close(timeout_s=10)
    assert running.status == "succeeded"
    assert waiting.status == "failed" and waiting.error is not None and waiting.error.code == "shutting_down"
    assert sorted(released) == ["a", "b"]
    with pytest.raises(Exception) as caught:
        jobs.submit("c", _done, lambda: None)
    assert getattr(caught.value, "code", None) == "shutting_down"


# ---------------------------------------------------------------------------- in the service


@pytest.fixture
def service(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    service = PolicyQA(
        Settings(data_dir=tmp_path / "data", corpus_dir=corpus, upload_queue=2), embedder=FakeEmbedder()
    )
    yield service
    service.close()


def _staged_files(service: PolicyQA) -> list[str]:
    root = service.uploads.staging_root
    return sorted(p.name for p in root.rglob("*.pdf")) if root.exists() else []


def test_a_waiting_jobs_file_survives_the_sweep(service, make_pdf, tmp_path, monkeypatch):
    """Every ingest, delete and upload sweeps staging folders no living upload holds; a job waiting
    in the queue holds its folder's lock, so its file is still there when its turn comes."""
    gate = Gate()
    real = service.uploads.ingest_staged

    def slow_first(staged, **kwargs):
        if staged.doc_id == "first":
            gate()
        return real(staged, **kwargs)

    monkeypatch.setattr(service.uploads, "ingest_staged", slow_first)
    first = service.submit_upload(io.BytesIO(make_pdf(tmp_path / "a.pdf", PAGES).read_bytes()), "first")
    assert gate.started.wait(10)
    other = make_pdf(tmp_path / "b.pdf", [PAGES[0], "別の版の本文である。"])
    second = service.submit_upload(io.BytesIO(other.read_bytes()), "second")
    assert second.status == "queued" and _staged_files(service) == ["first.pdf", "second.pdf"]
    assert service.ingest().ok  # an ingest (empty corpus) sweeps first
    assert service.uploads.sweep() == []
    assert _staged_files(service) == ["first.pdf", "second.pdf"]
    gate.open.set()
    assert first.wait(30) and second.wait(30)
    assert (first.status, second.status) == ("succeeded", "succeeded"), (first.error, second.error)
    assert sorted(service.documents()) == ["first", "second"]
    assert _staged_files(service) == []  # each job removed its staging folder


def test_a_running_job_says_what_it_is_doing(service, make_pdf, tmp_path, monkeypatch):
    import rag.jobs

    phases: list[str] = []
    real = rag.jobs.Job.set_phase
    monkeypatch.setattr(
        rag.jobs.Job, "set_phase", lambda job, phase: (phases.append(phase), real(job, phase))
    )
    job = service.submit_upload(io.BytesIO(make_pdf(tmp_path / "a.pdf", PAGES).read_bytes()), "memo")
    assert job.wait(30) and job.status == "succeeded", job.error
    assert phases == ["reading", "preparing", "writing", "switching"] and job.phase is None


def test_a_job_fails_with_the_code_the_ingest_found(service, make_pdf, tmp_path):
    locked = make_pdf(tmp_path / "locked.pdf", ["秘密の資料\n\n内容は非公開である。"], password="pw")
    job = service.submit_upload(io.BytesIO(locked.read_bytes()), "locked")
    assert job.wait(30) and job.status == "failed"
    assert job.error is not None and (job.error.code, job.error.kind) == ("encrypted", Kind.INVALID)
    assert service.documents() == {} and _staged_files(service) == []
    assert not (service.settings.uploads_dir / "locked.pdf").exists()


def test_what_the_bytes_show_is_refused_before_any_job(service):
    with pytest.raises(UploadRejected) as caught:
        service.submit_upload(io.BytesIO(b"just text"), "notes")
    assert caught.value.code == "not_pdf"
    with pytest.raises(UploadRejected) as caught:
        service.submit_upload(io.BytesIO(b""), "empty")
    assert caught.value.code == "empty_file"
    assert service.jobs.get("anything") is None and _staged_files(service) == []
