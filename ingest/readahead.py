"""Reading PDFs in worker processes while the ingest process embeds and writes.

Extracting text costs about as much CPU as embedding it (pypdf is pure Python), so a
sequential ingest leaves a core idle most of the time. Workers read the next files while the
ingest process embeds the current one; results come back in input order.

A reader process is also a fence around a hostile file: it may map at most
``Limits.memory_mb``, and a watchdog ends it when one file keeps it busy past
``Limits.seconds`` (plus a grace for the checks between pages to speak first). The file that
killed it is reported (``extraction_timeout``, or ``unreadable``), a fresh pool reads the others.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ingest.limits import UNLIMITED, Limits
from ingest.pdf import PdfDocument, PdfProblem, read_pdf

Extracted = tuple[PdfDocument | PdfProblem, float]  # the document or why not, and seconds spent
Reader = Callable[[Path, Limits], PdfDocument]  # raises PdfProblem for a file it cannot read
WATCHDOG_GRACE_S = 2.0  # the checks between pages report a slow file before the watchdog ends it
MAX_DEATHS_IN_A_ROW = 3  # then the readers themselves are broken: the rest is read here
BACKGROUND_NICE = 10  # added to the nice value of processes that work for a server's upload
_MIB = 1024 * 1024


def read_timed(path: Path, limits: Limits = UNLIMITED, reader: Reader = read_pdf) -> Extracted:
    """Never raises for a bad file: the problem travels back as a value."""
    started = time.perf_counter()
    try:
        document: PdfDocument | PdfProblem = reader(path, limits)
    except PdfProblem as problem:
        document = problem
    except MemoryError:  # past a reader process's memory limit
        document = PdfProblem(
            "out_of_memory",
            f"{path.name}: reading the PDF needs more memory than a reader may use "
            "(POLICYQA_EXTRACT_MEMORY_MB)",
        )
    return document, time.perf_counter() - started


def _read_guarded(path: Path, limits: Limits, reader: Reader) -> Extracted:
    """``read_timed`` in a reader process, which a watchdog ends if the file holds it too long
    (a single PDFium call cannot be interrupted any other way)."""
    watchdog = None
    if limits.seconds is not None:
        watchdog = threading.Timer(limits.seconds + WATCHDOG_GRACE_S, os._exit, (75,))
        watchdog.daemon = True
        watchdog.start()
    try:
        return read_timed(path, limits, reader)
    finally:
        if watchdog is not None:
            watchdog.cancel()


def _start_reader(parent: int, memory_mb: int | None, nice: int) -> None:
    """Runs first in each reader process: bound its memory, lower its priority if it reads for a
    server, and leave with the parent."""
    if nice:
        os.nice(nice)
    if memory_mb:
        wanted = memory_mb * _MIB
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    exit_with(parent)


def exit_with(parent: int) -> None:
    """A reader holds both ends of its own task pipe, so it would wait for tasks forever if the
    ingest process were killed: it leaves when its parent does."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class _Readers:
    """A pool of reader processes, replaced by a fresh one when a reader dies."""

    def __init__(self, workers: int, limits: Limits, reader: Reader, nice: int = 0):
        self.workers, self.limits, self.reader, self.nice = workers, limits, reader, nice
        self.pool: ProcessPoolExecutor | None = None
        self.off = False  # no reader can be started here: read in this process
        self.deaths_in_a_row = 0

    def submit(self, path: Path) -> Future[Extracted] | None:
        if self.off:
            return None
        try:
            if self.pool is None:
                self.pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_reader,
                    initargs=(os.getpid(), self.limits.memory_mb, self.nice),
                )
            return self.pool.submit(_read_guarded, path, self.limits, self.reader)
        except BrokenProcessPool:  # a reader died; the file it died on replaces the pool, then this
            return None  # file is submitted again
        except OSError:  # no reader can be started here
            self.off = True
            return None

    def died(self) -> None:
        self.deaths_in_a_row += 1
        self.close(wait=False)
        if self.deaths_in_a_row >= MAX_DEATHS_IN_A_ROW:
            self.off = True

    def close(self, wait: bool = True) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=True)
            self.pool = None


def _death(path: Path, limits: Limits, waited: float) -> PdfProblem:
    if limits.seconds is not None and waited >= limits.seconds:
        return PdfProblem(
            "extraction_timeout",
            f"{path.name}: reading the PDF took longer than the limit of {limits.seconds:g} s "
            "(POLICYQA_EXTRACT_TIMEOUT_S); its reader process was ended",
        )
    return PdfProblem(
        "unreadable", f"{path.name}: the PDF reader process died while reading this file (out of memory?)"
    )


def read_ahead(
    paths: Sequence[Path],
    workers: int,
    limits: Limits = UNLIMITED,
    reader: Reader = read_pdf,
    *,
    background: bool = False,
) -> Iterator[Extracted]:
    """``read_timed`` of each path, in order. With ``workers`` >= 1 and more than one file, up to
    ``2 * workers`` files are read ahead in spawned processes (not forked: the ingest process
    holds threads of Chroma and the embedder, which a fork would copy mid-flight). ``background``
    (a server's upload) reads even a single file in a reader process, at a lower CPU priority:
    the reading then shares neither the server's interpreter lock nor its priority, and the file
    is read within the memory limit."""
    if workers < 1 or (len(paths) < 2 and not background):
        for path in paths:
            yield read_timed(path, limits, reader)
        return
    readers = _Readers(workers, limits, reader, BACKGROUND_NICE if background else 0)
    try:
        queue = iter(paths)
        pending: deque[tuple[Path, Future[Extracted] | None, float]] = deque()
        for path in queue:
            pending.append((path, readers.submit(path), time.monotonic()))
            if len(pending) >= 2 * workers:
                break
        while pending:
            path, future, since = pending.popleft()
            if future is None:
                yield read_timed(path, limits, reader)
            else:
                try:
                    result = future.result()
                    readers.deaths_in_a_row = 0
                except BrokenProcessPool:
                    # The reader died on this file (killed, out of memory, or ended by its
                    # watchdog): report it; a fresh pool reads the files queued behind it.
                    result = (_death(path, limits, time.monotonic() - since), 0.0)
                    readers.died()
                    now = time.monotonic()
                    pending = deque(
                        (p, f, t) if f is not None and _succeeded(f) else (p, readers.submit(p), now)
                        for p, f, t in pending
                    )
                yield result
            following = next(queue, None)
            if following is not None:
                pending.append((following, readers.submit(following), time.monotonic()))
    finally:
        readers.close()


def _succeeded(future: Future[Extracted]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
