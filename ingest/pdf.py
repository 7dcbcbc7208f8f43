"""PDF files to page texts, with a specific, user-facing reason for every file we cannot read."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from ingest.text import clean_page_text, title_of

logging.getLogger("pypdf").setLevel(logging.ERROR)


class PdfProblem(Exception):
    """A file that cannot be ingested; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PdfDocument:
    pages: list[str]  # cleaned text; index 0 is physical page 1
    metadata_title: str | None

    @property
    def first_page_title(self) -> str:
        return next((title_of(p) for p in self.pages if p.strip()), "")


def _extract(page) -> str:
    """Layout mode keeps paragraph gaps as blank lines; fall back to plain mode where it fails."""
    try:
        return page.extract_text(extraction_mode="layout")
    except Exception:  # noqa: BLE001 - pypdf raises many types on odd layouts
        return page.extract_text() or ""


def read_pdf(path: Path) -> PdfDocument:
    """Read every page; raise PdfProblem for encrypted, corrupt, empty or image-only files."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if not head:
        raise PdfProblem("empty_file", f"{path.name}: the file is empty (0 bytes)")
    if b"%PDF-" not in head:
        raise PdfProblem("not_pdf", f"{path.name}: not a PDF (no %PDF- header); is it another format renamed .pdf?")
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except Exception:  # noqa: BLE001
                unlocked = 0
            if not unlocked:
                raise PdfProblem("encrypted", f"{path.name}: the PDF is encrypted and needs a password; "
                                 "save an unprotected copy and ingest that")
        count = len(reader.pages)
        if count == 0:
            raise PdfProblem("no_pages", f"{path.name}: the PDF has no pages")
        pages = [clean_page_text(_extract(page)) for page in reader.pages]
        meta_title = None
        try:
            if reader.metadata and reader.metadata.title:
                meta_title = str(reader.metadata.title).strip() or None
        except Exception:  # noqa: BLE001 - broken info dictionaries are common and harmless
            meta_title = None
    except PdfProblem:
        raise
    except FileNotDecryptedError:
        raise PdfProblem("encrypted", f"{path.name}: the PDF is encrypted and needs a password") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
            RecursionError, AssertionError, NotImplementedError, ZeroDivisionError) as exc:
        raise PdfProblem("corrupt", f"{path.name}: corrupt or truncated PDF ({type(exc).__name__}: {exc})") from None
    if not any(p.strip() for p in pages):
        raise PdfProblem("no_text", f"{path.name}: no extractable text on any of its {count} pages "
                         "(a scanned PDF?); run OCR first, e.g. ocrmypdf")
    return PdfDocument(pages=pages, metadata_title=meta_title)
