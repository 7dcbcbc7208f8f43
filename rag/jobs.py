"""Uploads ingested in the background: a registry of jobs and one worker thread per service.

The request of an upload does the quick checks and stages the file (``rag.uploads.Uploads.stage``),
hands it to a job and returns; the worker ingests one job at a time, in the order they came,
paced so that the requests the process serves meanwhile keep their latency (``core.pace``). At
most ``upload_queue`` jobs wait behind the running one: one more is refused (``UploadQueueFull``)
rather than queued without bound, since each waiting job holds a staged file of up to
``max_upload_mb``.

Jobs live in this process's memory only: a restart forgets them (their ids then answer
``unknown_job``), and the last ``KEEP_FINISHED`` finished ones are remembered. An upload whose
process was killed left a staging folder whose lock the kernel released, which the next sweep
removes (``rag.uploads``); a waiting job keeps its folder's lock, so no sweep takes its file.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from core.errors import Kind, PolicyQAError, UploadQueueFull
from ingest.report import FileResult, IngestReport

log = logging.getLogger(__name__)

KEEP_FINISHED = 1000
Status = Literal["queued", "running", "succeeded", "failed"]
Work = Callable[["Job"], tuple[IngestReport, FileResult]]  # given its job, to report its phase


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Job:
    """One upload's way through the queue. ``result``/``report`` once it succeeded, ``error`` (a
    domain error with its code, as the request would have raised it) once it failed."""

    id: str
    doc_id: str
    status: Status = "queued"
    phase: str | None = None  # while running: reading, preparing, writing, switching
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    report: IngestReport | None = None
    result: FileResult | None = None
    error: PolicyQAError | None = None
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    def set_phase(self, phase: str) -> None:
        self.phase = phase

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")

    def wait(self, timeout_s: float | None = None) -> bool:
        """Whether the job finished within ``timeout_s``."""
        return self._done.wait(timeout_s)


@dataclass
class _Entry:
    job: Job
    work: Work
    release: Callable[[], None]  # always called once: after the work, or when the job is dropped


class Jobs:
    """The registry and its worker (started with the first job)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._waiting: deque[_Entry] = deque()
        self._running: Job | None = None
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False

    def submit(self, doc_id: str, work: Work, release: Callable[[], None]) -> Job:
        """Queue ``work``; ``UploadQueueFull`` when ``capacity`` jobs already wait behind a running one
        (the caller keeps ``release`` then)."""
        with self._cond:
            # Waiting behind a running job, or behind the first of them (taken as soon as the worker wakes).
            waiting = len(self._waiting) - (self._running is None)
            if self._closed:
                raise PolicyQAError(
                    "the server is shutting down; send the upload again once it is back",
                    code="shutting_down",
                    kind=Kind.UNAVAILABLE,
                )
            if waiting >= self.capacity:
                raise UploadQueueFull(
                    f"{self.capacity} upload(s) already wait for the one being ingested "
                    "(POLICYQA_UPLOAD_QUEUE); send this one again when one of them has finished"
                )
            job = Job(uuid.uuid4().hex, doc_id)
            self._jobs[job.id] = job
            self._waiting.append(_Entry(job, work, release))
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="policyqa-uploads", daemon=True)
                self._worker.start()
            self._cond.notify_all()
            return job

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def position(self, job: Job) -> int | None:
        """1 for the next job to run, None unless waiting."""
        with self._cond:
            for n, entry in enumerate(self._waiting, start=1):
                if entry.job is job:
                    return n
        return None

    def close(self, timeout_s: float = 30.0) -> None:
        """Refuse new jobs, drop the waiting ones (failed: ``shutting_down``) and give the running
        one ``timeout_s`` to finish; a job cut short by the process's end is recovered like any
        interrupted ingest."""
        with self._cond:
            self._closed = True
            dropped = list(self._waiting)
            self._waiting.clear()
            self._cond.notify_all()
            worker = self._worker
        for entry in dropped:
            error = PolicyQAError(
                "the server stopped before this upload was ingested; upload it again",
                code="shutting_down",
            )
            self._finish(entry, None, error)
        if worker is not None:
            worker.join(timeout_s)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if not self._waiting:
                    return
                entry = self._waiting.popleft()
                self._running = entry.job
                entry.job.started_at = _now()
                entry.job.status = "running"
            try:
                done: tuple[IngestReport, FileResult] | None = entry.work(entry.job)
                error = None
            except PolicyQAError as exc:
                done, error = None, exc
            except Exception:  # noqa: BLE001 - a bug must fail its job, not the worker
                log.exception("upload job %s (%s) failed", entry.job.id, entry.job.doc_id)
                done, error = (
                    None,
                    PolicyQAError(
                        "the upload failed unexpectedly; the details are in the server log",
                        code="internal_error",
                    ),
                )
            self._finish(entry, done, error)

    def _finish(
        self, entry: _Entry, done: tuple[IngestReport, FileResult] | None, error: PolicyQAError | None
    ) -> None:
        try:
            entry.release()
        except Exception:  # noqa: BLE001 - a staging folder left behind is swept later
            log.exception("cannot release the staged file of upload job %s", entry.job.id)
        job = entry.job
        with self._cond:
            if done is not None:
                job.report, job.result = done
            job.error = error
            job.finished_at = _now()
            job.phase = None
            job.status = "failed" if error is not None else "succeeded"
            if self._running is job:
                self._running = None
            finished = [j for j in self._jobs.values() if j.finished]
            for old in finished[: max(0, len(finished) - KEEP_FINISHED)]:
                del self._jobs[old.id]
        job._done.set()
        if error is not None:
            log.info("upload job %s (%s) failed: %s", job.id, job.doc_id, error.code)
        elif job.result is not None:
            log.info("upload job %s (%s): %s", job.id, job.doc_id, job.result.status)
