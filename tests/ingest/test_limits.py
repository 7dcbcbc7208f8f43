"""Bounded ingestion: hostile PDFs (thousands of pages on one content stream, a page that is one
50,000-character line, a file that keeps its reader busy, one that wants gigabytes) are each
rejected with their own code within their limit, and the other documents of the run are ingested."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEmbedder
from ingest_helpers import (
    DOC_PAGES,
    ENERGY,
    MakePdf,
    read_memory_limit,
    read_or_hang,
    write_shared_stream_pdf,
)

from core.settings import Settings
from ingest.limits import Limits
from ingest.pdf import PdfDocument, PdfProblem, read_pdf
from ingest.readahead import WATCHDOG_GRACE_S, read_ahead
from rag.service import PolicyQA


def _service(tmp_path: Path, **limits: Any) -> PolicyQA:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, **limits)
    return PolicyQA(settings, embedder=FakeEmbedder())


def _outcomes(report) -> dict[str, tuple[str, str | None]]:
    return {f.doc_id: (f.status, f.error_code) for f in report.files}


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "reader-process"])
def test_hostile_files_are_rejected_each_with_its_code_and_the_rest_is_ingested(
    tmp_path: Path, make_pdf: MakePdf, workers: int
) -> None:
    service = _service(
        tmp_path, max_pages=100, max_page_chars=20_000, max_document_chars=30_000, ingest_workers=workers
    )
    corpus = service.settings.corpus_dir
    make_pdf(corpus / f"{ENERGY}.pdf", DOC_PAGES[ENERGY])
    write_shared_stream_pdf(corpus / "many-pages.pdf", 3000, "The same page, three thousand times")
    write_shared_stream_pdf(corpus / "one-long-line.pdf", 1, "ABCDEFGHIJ" * 5000, font_size=1)
    write_shared_stream_pdf(corpus / "much-text.pdf", 5, "0123456789" * 1000, font_size=1)
    started = time.monotonic()
    report = service.ingest()
    assert time.monotonic() - started < 30
    assert _outcomes(report) == {
        ENERGY: ("added", None),
        "many-pages": ("failed", "too_many_pages"),
        "one-long-line": ("failed", "page_text_too_long"),
        "much-text": ("failed", "too_much_text"),
    }
    messages = {f.doc_id: f.error for f in report.files}
    assert "3,000 pages" in messages["many-pages"] and "POLICYQA_MAX_PAGES" in messages["many-pages"]
    assert "page 1 holds 50,000 characters" in messages["one-long-line"]
    assert "POLICYQA_MAX_DOCUMENT_CHARS" in messages["much-text"]
    assert list(service.documents()) == [ENERGY]
    assert service.search("洋上風力発電の導入目標", top_k=1)[0].doc_id == ENERGY


def test_a_slow_file_stops_at_the_time_limit(tmp_path: Path) -> None:
    many = write_shared_stream_pdf(tmp_path / "slow.pdf", 3000, "Page after page of the same text")
    started = time.monotonic()
    with pytest.raises(PdfProblem) as caught:
        read_pdf(many, Limits(seconds=0.2))
    assert time.monotonic() - started < 2
    assert caught.value.code == "extraction_timeout" and "POLICYQA_EXTRACT_TIMEOUT_S" in caught.value.message


def test_a_reader_stuck_on_one_file_is_ended_and_the_others_are_read(
    tmp_path: Path, make_pdf: MakePdf
) -> None:
    """A call that never returns (here a sleep; on a hostile file a PDFium call) cannot be stopped
    between pages: the reader's watchdog ends the process, and a fresh one reads the rest."""
    paths = [
        make_pdf(tmp_path / "before.pdf", ["前の資料\n\n本文である。"]),
        make_pdf(tmp_path / "hang.pdf", ["止まる資料\n\n本文である。"]),
        make_pdf(tmp_path / "after-1.pdf", ["後の資料一\n\n本文である。"]),
        make_pdf(tmp_path / "after-2.pdf", ["後の資料二\n\n本文である。"]),
    ]
    limit = 3.0  # generous enough for a reader process to start on a loaded machine
    started = time.monotonic()
    results = list(read_ahead(paths, workers=1, limits=Limits(seconds=limit), reader=read_or_hang))
    elapsed = time.monotonic() - started
    assert elapsed < limit + WATCHDOG_GRACE_S + 20, "the stuck file cost more than its limit"
    kinds = [d.code if isinstance(d, PdfProblem) else d.pages[0].split("\n")[0] for d, _ in results]
    assert kinds == ["前の資料", "extraction_timeout", "後の資料一", "後の資料二"]


def test_reader_processes_have_a_memory_limit(tmp_path: Path, make_pdf: MakePdf) -> None:
    paths = [make_pdf(tmp_path / f"{name}.pdf", ["資料\n\n本文。"]) for name in ("a", "hog", "b")]
    results = list(read_ahead(paths, workers=1, limits=Limits(memory_mb=512), reader=read_memory_limit))
    first, hog, last = (d for d, _ in results)
    assert isinstance(first, PdfDocument) and first.pages == [str(512 * 1024 * 1024)]
    assert isinstance(hog, PdfProblem) and hog.code == "out_of_memory"
    assert isinstance(last, PdfDocument) and last.pages == first.pages


def test_an_upload_past_a_limit_is_rejected_as_too_large(tmp_path: Path) -> None:
    import io

    from core.errors import Kind, UploadRejected

    service = _service(tmp_path, max_pages=10)
    many = write_shared_stream_pdf(tmp_path / "many.pdf", 50, "Fifty pages")
    with pytest.raises(UploadRejected) as caught:
        service.upload(io.BytesIO(many.read_bytes()), "many")
    assert (caught.value.code, caught.value.kind) == ("too_many_pages", Kind.TOO_LARGE)
    assert service.documents() == {} and not (service.settings.uploads_dir / "many.pdf").exists()
