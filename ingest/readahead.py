"""Reading PDFs in worker processes while the ingest process embeds and writes.

Extracting text costs about as much CPU as embedding it (pypdf is pure Python), so a
sequential ingest leaves a core idle most of the time. Workers read the next files while the
ingest process embeds the current one; results come back in input order."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ingest.pdf import PdfDocument, PdfProblem, read_pdf

Extracted = tuple[PdfDocument | PdfProblem, float]  # the document or why not, and seconds spent


def read_timed(path: Path) -> Extracted:
    """Never raises for a bad file: the problem travels back as a value."""
    started = time.perf_counter()
    try:
        document: PdfDocument | PdfProblem = read_pdf(path)
    except PdfProblem as problem:
        document = problem
    return document, time.perf_counter() - started


def _exit_with(parent: int) -> None:
    """Runs first in each reader process. A reader holds both ends of its own task pipe, so it
    would wait for tasks forever if the ingest process were killed: it leaves when its parent does."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def read_ahead(paths: Sequence[Path], workers: int) -> Iterator[Extracted]:
    """``read_timed`` of each path, in order. With ``workers`` >= 1 and more than one file, up to
    ``2 * workers`` files are read ahead in spawned processes (not forked: the ingest process
    holds threads of Chroma and the embedder, which a fork would copy mid-flight)."""
    if workers < 1 or len(paths) < 2:
        for path in paths:
            yield read_timed(path)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_exit_with, initargs=(os.getpid(),)
    ) as pool:
        broken = False

        def submit(path: Path) -> Future[Extracted] | None:
            nonlocal broken
            if not broken:
                try:
                    return pool.submit(read_timed, path)
                except (BrokenProcessPool, OSError):  # a dead reader, or none can be started here
                    broken = True
            return None

        queue = iter(paths)
        pending: deque[tuple[Path, Future[Extracted] | None]] = deque()
        for path in queue:
            pending.append((path, submit(path)))
            if len(pending) >= 2 * workers:
                break
        while pending:
            path, future = pending.popleft()
            if future is None:
                yield read_timed(path)
            else:
                try:
                    result = future.result()
                except BrokenProcessPool:
                    if broken:  # queued behind the file that killed the reader: read it here
                        result = read_timed(path)
                    else:
                        # A reader died (killed, out of memory) on this file: report it, read the
                        # rest in this process.
                        broken = True
                        result = (
                            PdfProblem(
                                "unreadable",
                                f"{path.name}: the PDF reader process died while "
                                "reading this file (out of memory?)",
                            ),
                            0.0,
                        )
                yield result
            following = next(queue, None)
            if following is not None:
                pending.append((following, submit(following)))
