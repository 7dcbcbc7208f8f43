"""PDF extraction speed: the synthetic corpus serially vs two processes, and the real PDFs
with the product's reader vs pypdf's layout mode."""

from __future__ import annotations

import time
from pathlib import Path

# ============================================================================ extraction profile


def _read_pages(path: str) -> int:
    from ingest.pdf import read_pdf

    return len(read_pdf(Path(path)).pages)


def extract_profile(corpus: Path, documents: int, workers: int = 2) -> dict:
    """ingest.pdf.read_pdf over the first ``documents`` PDFs: one process vs a pool of ``workers``."""
    from concurrent.futures import ProcessPoolExecutor

    pdfs = [str(p) for p in sorted(corpus.glob("*.pdf"))[:documents]]
    t = time.perf_counter()
    pages = sum(_read_pages(p) for p in pdfs)
    serial = time.perf_counter() - t
    t = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parallel_pages = sum(pool.map(_read_pages, pdfs, timeout=max(60.0, serial * 4)))
    parallel = time.perf_counter() - t
    assert parallel_pages == pages
    return {
        "documents": len(pdfs),
        "pages": pages,
        "serial_s": round(serial, 2),
        "serial_ms_per_page": round(serial * 1000 / max(pages, 1), 2),
        "workers": workers,
        "parallel_s": round(parallel, 2),
        "speedup": round(serial / parallel, 2) if parallel else None,
    }


REAL_PDFS = Path(__file__).resolve().parents[2] / "tests" / "data" / "real-pdfs"


def real_pdf_extraction(folder: Path = REAL_PDFS) -> dict | None:
    """Extraction speed on real government PDFs (slides, two-column pages, tables), where text
    layout costs more than on the synthetic corpus: the product's reader against pypdf's layout
    mode, the extractor it replaced, in the same run."""
    from pypdf import PdfReader

    pdfs = sorted(folder.glob("*.pdf"))
    if not pdfs:
        return None
    t = time.perf_counter()
    pages = sum(_read_pages(str(p)) for p in pdfs)
    product_s = time.perf_counter() - t
    t = time.perf_counter()
    for pdf in pdfs:
        reader = PdfReader(str(pdf))
        if reader.is_encrypted:
            reader.decrypt("")
        for page in reader.pages:
            page.extract_text(extraction_mode="layout")
    pypdf_s = time.perf_counter() - t
    return {
        "documents": len(pdfs),
        "pages": pages,
        "product_pages_per_s": round(pages / product_s, 1),
        "pypdf_layout_pages_per_s": round(pages / pypdf_s, 1),
        "speedup": round(pypdf_s / product_s, 2),
    }


def format_real_pdf_extraction(entry: dict | None) -> str:
    if not entry:
        return "real-PDF extraction: not measured (no tests/data/real-pdfs here)"
    return (
        f"real-PDF extraction ({entry['documents']} PDFs, {entry['pages']} pages): "
        f"{entry['product_pages_per_s']} pages/s (pypdf layout mode: {entry['pypdf_layout_pages_per_s']} pages/s, "
        f"{entry['speedup']}x slower)"
    )
