"""Reading PDFs ahead in worker processes: same results, same order, problems as values."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from ingest_helpers import DOC_PAGES, MakePdf, write_bad_files

from ingest.pdf import PdfDocument, PdfProblem
from ingest.readahead import read_ahead


def _corpus(make_pdf: MakePdf, folder: Path) -> list[Path]:
    good = [make_pdf(folder / f"{doc_id}.pdf", pages) for doc_id, pages in DOC_PAGES.items()]
    bad = write_bad_files(make_pdf, folder / "bad")
    return [good[0], bad["encrypted"], good[1], bad["truncated"], good[2], bad["corrupt"]]


def _outcome(item) -> tuple:
    document, seconds = item
    if isinstance(document, PdfProblem) and "reader process died" in document.message:
        assert seconds == 0.0, "nothing was read"
    else:
        assert seconds > 0, "the time spent reading the file"
    if isinstance(document, PdfProblem):
        return ("problem", document.code, document.message)
    assert isinstance(document, PdfDocument)
    return ("pages", tuple(document.pages), document.metadata_title)


def _read_timed(paths: list[Path], workers: int) -> list[tuple]:
    """Outcomes of ``read_ahead``, checking that each file's seconds are its own reading time:
    one reader reads one file after another, so together they fit in the whole run's wall time."""
    started = time.perf_counter()
    items = list(read_ahead(paths, workers=workers))
    wall = time.perf_counter() - started
    seconds = [s for _, s in items]
    assert sum(seconds) <= wall, (seconds, wall)
    return [_outcome(item) for item in items]


def test_workers_read_the_same_as_the_ingest_process_in_input_order(
    tmp_path: Path, make_pdf: MakePdf
) -> None:
    paths = _corpus(make_pdf, tmp_path)
    here = _read_timed(paths, workers=0)
    ahead = _read_timed(paths, workers=1)
    assert ahead == here
    assert [o[0] for o in here] == ["pages", "problem", "pages", "problem", "pages", "problem"]
    assert [o[1] for o in here if o[0] == "problem"] == ["encrypted", "truncated", "corrupt"]


def test_a_dead_reader_process_fails_one_file_and_the_rest_is_read(tmp_path: Path, make_pdf: MakePdf) -> None:
    # Pages that differ (a line on every page's top would be a running header, and left out).
    pages = [f"{'春夏秋冬'[k % 4]}の{'東西南北'[k // 4 % 4]}に関する頁である。" for k in range(39)]
    paths = [
        make_pdf(tmp_path / f"doc-{n}.pdf", [f"資料{n}の本文\n\n第{n}章の内容である。", *pages])
        for n in range(8)
    ]
    reading = read_ahead(paths, workers=1)
    results = [_outcome(next(reading))]
    for child in multiprocessing.active_children():  # the reader process, mid-way through the files
        child.kill()
    results += [_outcome(item) for item in reading]

    assert len(results) == len(paths)
    failed = [r for r in results if r[0] == "problem"]
    assert len(failed) == 1  # the file being read when it died
    assert all(r[1] == "unreadable" and "reader process died" in r[2] for r in failed), failed
    assert results[-1][0] == "pages"  # files after the crash are read by a fresh reader process
    assert all(r[1][0].startswith(f"資料{n}") for n, r in enumerate(results) if r[0] == "pages")


def test_where_no_reader_process_can_start_the_files_are_read_here(
    tmp_path: Path, make_pdf: MakePdf, monkeypatch
) -> None:
    from concurrent.futures import ProcessPoolExecutor

    def refuse(*_args, **_kwargs):
        raise OSError("process creation is not allowed here")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", refuse)
    paths = [make_pdf(tmp_path / f"doc-{n}.pdf", [f"資料{n}の本文"]) for n in range(3)]
    results = [_outcome(item) for item in read_ahead(paths, workers=1)]
    assert [r[1][0].startswith(f"資料{n}") for n, r in enumerate(results)] == [True] * 3


def test_readers_exit_when_the_ingest_process_is_killed(tmp_path: Path, make_pdf: MakePdf) -> None:
    import signal
    import subprocess
    import sys
    import time

    from test_pipeline import REPO, _children, _running

    paths = [make_pdf(tmp_path / f"doc-{n}.pdf", [f"資料{n}の本文"] * 20) for n in range(6)]
    script = (
        "import sys, time\nfrom pathlib import Path\nfrom ingest.readahead import read_ahead\n"
        "for _ in read_ahead([Path(p) for p in sys.argv[1:]], 1):\n    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, *map(str, paths)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        readers: list[int] = []
        while not readers and time.monotonic() < deadline:
            time.sleep(0.1)
            readers = _children(proc.pid)
        assert readers, "no reader process started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in readers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in readers if _running(pid)], "reader processes outlived the killed ingest"
    finally:
        if proc.poll() is None:
            proc.kill()
