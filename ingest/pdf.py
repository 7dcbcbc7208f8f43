"""PDF files to page texts, with a specific, user-facing reason for every file we cannot read."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError

from ingest.text import clean_page_text, title_of

# pypdf logs (and recovers from) every oddity it meets; a file it cannot recover from becomes a
# PdfProblem with its own message, so its log lines are only noise on the ingest output.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)

_TAIL_BYTES = 2048  # a complete PDF ends with %%EOF; producers may append a little junk after it
_OBJECT_RE = re.compile(rb"\d+\s+\d+\s+obj\b")  # "12 0 obj": the start of a real PDF object


class PdfProblem(Exception):
    """A file that cannot be ingested; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self):  # raised in an extraction worker process, re-raised in the ingest process
        return (PdfProblem, (self.code, self.message))


@dataclass(frozen=True)
class PdfDocument:
    pages: list[str]  # cleaned text; index 0 is physical page 1
    metadata_title: str | None

    @property
    def first_page_title(self) -> str:
        return next((title_of(p) for p in self.pages if p.strip()), "")


_PLACEHOLDER_TITLES = {"untitled", "untitled document", "no title", "title", "document", "unknown", "anonymous",
                       "無題", "無題のドキュメント", "powerpoint プレゼンテーション", "powerpoint presentation",
                       "スライド 1", "slide 1"}
_APP_PREFIX = re.compile(r"^microsoft (?:word|powerpoint|excel) - ", re.IGNORECASE)
_FILE_SUFFIX = re.compile(r"\.(?:docx?|pptx?|xlsx?|pdf|txt|rtf|odt|odp|indd)$", re.IGNORECASE)


def useful_title(raw: str) -> str | None:
    """The PDF's Title entry, unless it is a producer's placeholder.

    Tools fill the field with "untitled" (reportlab), "Microsoft Word - 報告書.docx" or a file
    name; such a title would hide the first page's real heading, which is the fallback."""
    title = " ".join(raw.split())
    title = _FILE_SUFFIX.sub("", _APP_PREFIX.sub("", title)).strip()
    if not title or title.lower() in _PLACEHOLDER_TITLES:
        return None
    return title


def _extract(page) -> str:
    """Layout mode keeps paragraph gaps as blank lines; fall back to plain mode where it fails."""
    try:
        return page.extract_text(extraction_mode="layout")
    except Exception:  # noqa: BLE001 - pypdf raises many types on odd layouts
        return page.extract_text() or ""


def read_pdf(path: Path) -> PdfDocument:
    """Read every page; raise PdfProblem for encrypted, corrupt, truncated, empty or image-only files.

    Any exception from the parser becomes a PdfProblem: the caller skips the file and goes on
    with the others, so a parser surprise on one file never aborts a whole ingest run."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - _TAIL_BYTES))
        tail = fh.read()
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
                meta_title = useful_title(str(reader.metadata.title))
        except Exception:  # noqa: BLE001 - broken info dictionaries are common and harmless
            meta_title = None
    except PdfProblem:
        raise
    except FileNotDecryptedError:
        raise PdfProblem("encrypted", f"{path.name}: the PDF is encrypted and needs a password") from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises anything on damaged files; one bad file must not
        # stop the run (LimitReachedError, zlib.error, struct.error... are all seen on real damage).
        if b"%%EOF" not in tail and _OBJECT_RE.search(head):  # began as a real PDF, stops mid-way
            raise PdfProblem("truncated", f"{path.name}: the PDF is truncated (it stops before its end marker); "
                             "copy or download it again") from None
        raise PdfProblem("corrupt", f"{path.name}: corrupt PDF that cannot be read "
                         f"({type(exc).__name__}: {str(exc)[:200]})") from None
    if not any(p.strip() for p in pages):
        raise PdfProblem("no_text", f"{path.name}: no extractable text on any of its {count} pages "
                         "(a scanned PDF?); run OCR first, e.g. ocrmypdf")
    return PdfDocument(pages=pages, metadata_title=meta_title)
