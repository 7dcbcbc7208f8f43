"""PDF files to page texts, with a specific, user-facing reason for every file we cannot read."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader

from core.text import title_of
from ingest.cleanup import clean_line
from ingest.layout import ITEM_START, PageLayout, Segment, cap_heading, lay_out, repeated_band_keys
from ingest.limits import UNLIMITED, Limits

# pypdf (only asked why PDFium cannot open a file) logs every oddity it meets; the PdfProblem
# carries the reason, so its log lines are only noise on the ingest output.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)

_TAIL_BYTES = 16384  # a complete PDF ends with %%EOF; producers may append a little junk after it
_OBJECT_RE = re.compile(rb"\d+\s+\d+\s+obj\b")  # "12 0 obj": the start of a real PDF object
_TITLE_MAX_CHARS = 300  # a metadata title is a title, not a payload


class PdfProblem(Exception):
    """A file that cannot be ingested; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(
        self,
    ) -> tuple[
        type[PdfProblem], tuple[str, str]
    ]:  # raised in an extraction worker process, re-raised in the ingest process
        return (PdfProblem, (self.code, self.message))


@dataclass(frozen=True)
class PdfDocument:
    pages: list[str]  # cleaned text, one paragraph or table row a line; index 0 is physical page 1
    headings: list[str]  # each page's title: its largest text, else its first line
    metadata_title: str | None

    @property
    def first_page_title(self) -> str:
        """The largest text of the first page with text: a cover's or a slide's real title, where
        its first line is often a label such as 「資料１－１」. When that text is itself a label
        (「事務連絡」, 「法制審議会第198回会議配布資料民1-3」), the first line after it that reads
        like a title, past the date, the addressee and the issuing office."""
        for heading, page in zip(self.headings, self.pages):
            if not page.strip():
                continue
            title = heading or cap_heading(title_of(page))
            lines = [line.strip() for line in page.split("\n") if line.strip()]
            after = lines[next((i + 1 for i, line in enumerate(lines) if title.rstrip("…") in line), 0) :]
            if is_label(title):
                return next((cap_heading(line) for line in after if reads_like_title(line)), title)
            if after and len(after[0]) <= _PART_CHARS and _PART.match(after[0]):
                # 「…中間試案の補足説明」 over 「（参考資料）MLETR 対照表」: this paper is the part
                return cap_heading(f"{title} {after[0]}")
            return title
        return ""


# Labels a cover carries above its title: the kind of paper, its number in a meeting's papers.
_LABEL = re.compile(
    r"^(?:事務連絡|(?:参考|配布)?資料[\s0-9０-９\-－ー‐・の]*|別添[\s0-9０-９]*|別紙[\s0-9０-９]*|.*配布資料\S*)$"
)
# A line under the title naming which part of the paper this file is: its annex, its overview.
_PART = re.compile(r"^[（(【]?(?:参考資料|別添|別紙|付属資料|概要)")
_PART_CHARS = 40
_DATE_LINE = re.compile(
    r"^[（(]?(?:令和|平成|昭和)?[0-9０-９元]+年(?:[0-9０-９]+月(?:[0-9０-９]+日)?)?[）)]?$"
)
_ISSUER_END = ("省", "庁", "局", "課", "室", "部", "チーム", "御中", "殿")


def is_label(line: str) -> bool:
    return bool(_LABEL.match(line.strip()))


def reads_like_title(line: str) -> bool:
    """Not a label, a date, an addressee or an issuing office, and not a sentence."""
    line = line.strip()
    return (
        4 <= len(line) <= 150
        and not is_label(line)
        and not _DATE_LINE.match(line)
        and not line.endswith(("。", *_ISSUER_END))
        and line != "記"
    )


_PLACEHOLDER_TITLES = {
    "untitled",
    "untitled document",
    "no title",
    "title",
    "document",
    "unknown",
    "anonymous",
    "無題",
    "無題のドキュメント",
    "powerpoint プレゼンテーション",
    "powerpoint presentation",
    "スライド 1",
    "slide 1",
}
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
    return title if len(title) <= _TITLE_MAX_CHARS else title[:_TITLE_MAX_CHARS].rstrip() + "…"


def _segments(textpage: Any) -> list[Segment]:
    """The page's characters, in content order, cut into segments wherever PDFium ends a line,
    the baseline moves, the text steps back, or a gap wider than a character opens (the next
    cell of a table, the next box of a slide)."""
    text = textpage.get_text_range()
    handle = textpage.raw
    box = pdfium_c.FS_RECTF()
    out: list[Segment] = []
    chars: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []

    def close() -> None:
        if boxes and "".join(chars).strip():
            heights = sorted(t - b for _, b, _, t in boxes)
            out.append(
                Segment(
                    "".join(chars).strip(),
                    min(b[0] for b in boxes),
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                    heights[len(heights) // 2],
                    _text_start(chars, boxes),
                )
            )
        chars.clear()
        boxes.clear()

    for index, char in enumerate(text):
        if char in "\r\n":
            close()
            continue
        if pdfium_c.FPDFText_IsGenerated(handle, index) == 1 or char.isspace():
            if chars:
                chars.append(" ")
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(handle, index, box):
            continue
        left, bottom, right, top = box.left, box.bottom, box.right, box.top
        if boxes and _breaks(boxes[-1], (left, bottom, right, top)):
            close()
        chars.append(char)
        boxes.append((left, bottom, right, top))
    close()
    return out


def _breaks(last: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    """Does ``box`` start a new segment after ``last``? A footnote mark or exponent (a smaller
    glyph, raised or lowered, right beside its word) stays in the line it belongs to."""
    height, last_height = box[3] - box[1], last[3] - last[1]
    big = max(height, last_height, 0.5)
    if box[0] < last[2] - 0.6 * big or box[0] - last[2] > 1.2 * big:
        return True
    small = min(height, last_height) < 0.75 * big
    if small:  # superscript or subscript: it must overlap the line's vertical extent
        return box[1] > last[3] or box[3] < last[1]
    return abs((box[3] + box[1]) / 2 - (last[3] + last[1]) / 2) > 0.5 * big


def _text_start(chars: list[str], boxes: list[tuple[float, float, float, float]]) -> float | None:
    """Where a bulleted or numbered line's text begins (after 「・」, 「（3）」, 「①」), so its
    wrapped lines, hanging under the text rather than the mark, are known to continue it."""
    text = "".join(chars)
    mark = ITEM_START.match(text)
    if mark is None:
        return None
    visible = sum(1 for c in text[: mark.end()] if not c.isspace())
    return boxes[visible][0] if 0 < visible < len(boxes) else None


def _metadata_title(document: pdfium.PdfDocument) -> str | None:
    try:
        return useful_title(document.get_metadata_dict().get("Title", ""))
    except Exception:  # noqa: BLE001 - broken info dictionaries are common and harmless
        return None


def open_pdf(path: Path) -> pdfium.PdfDocument:
    """PDFium opens owner-password-only files (RC4, AES-128, AES-256) as a reader does; a file
    that needs a password to be opened at all is reported as such, not as corrupt."""
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        _explain_unopenable(path)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise _password_protected(path, "a password needed to open it") from None
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise _password_protected(path, "a scheme that cannot be opened") from None
        raise


def _password_protected(path: Path, how: str) -> PdfProblem:
    return PdfProblem(
        "encrypted",
        f"{path.name}: the PDF is password-protected (encrypted with {how}); "
        "save an unprotected copy and ingest that",
    )


def _explain_unopenable(path: Path) -> None:
    """PDFium opens no file without pages, and says little about why a file fails; pypdf, which
    parses more leniently, tells an empty page tree or a password from real damage."""
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _password_protected(path, "a password needed to open it")
        count = len(reader.pages)
    except PdfProblem:
        raise
    except Exception:  # noqa: BLE001 - pypdf cannot read it either: the caller reports PDFium's reason
        return
    if count == 0:
        raise PdfProblem("no_pages", f"{path.name}: the PDF has no pages")


def read_layout(path: Path, limits: Limits = UNLIMITED) -> list[PageLayout]:
    """Every page as paragraphs in reading order, with running headers, footers, side tabs and
    margin line numbers set aside (repetition across the document's pages tells furniture).
    Raises ``PdfProblem`` as soon as the file passes one of ``limits`` (see ``ingest.limits``)."""
    deadline = limits.deadline()
    document = open_pdf(path)
    try:
        count = len(document)
        if limits.max_pages is not None and count > limits.max_pages:
            raise PdfProblem(
                "too_many_pages",
                f"{path.name}: the PDF has {count:,} pages, more than the limit of "
                f"{limits.max_pages:,} (POLICYQA_MAX_PAGES); split it, or raise the limit",
            )
        pages: list[tuple[list[Segment], float]] = []
        total = 0
        for index in range(count):
            _check_time(path, deadline, limits, index)
            page = document[index]
            textpage = page.get_textpage()
            try:
                chars = textpage.count_chars()
                total += chars
                _check_text(path, index + 1, chars, total, limits)
                pages.append((_segments(textpage), page.get_height()))
            finally:
                textpage.close()
                page.close()
        repeated = repeated_band_keys(pages)
        layouts = []
        for index, (segments, height) in enumerate(pages):
            _check_time(path, deadline, limits, index)
            layouts.append(lay_out(segments, height, repeated))
        return layouts
    finally:
        document.close()


def _check_time(path: Path, deadline: float | None, limits: Limits, page_index: int) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise PdfProblem(
            "extraction_timeout",
            f"{path.name}: reading the PDF took longer than the limit of {limits.seconds:g} s "
            f"(POLICYQA_EXTRACT_TIMEOUT_S; stopped at page {page_index + 1})",
        )


def _check_text(path: Path, number: int, chars: int, total: int, limits: Limits) -> None:
    if limits.max_page_chars is not None and chars > limits.max_page_chars:
        raise PdfProblem(
            "page_text_too_long",
            f"{path.name}: page {number} holds {chars:,} characters, more than the limit of "
            f"{limits.max_page_chars:,} per page (POLICYQA_MAX_PAGE_CHARS)",
        )
    if limits.max_document_chars is not None and total > limits.max_document_chars:
        raise PdfProblem(
            "too_much_text",
            f"{path.name}: the PDF holds more than the limit of {limits.max_document_chars:,} "
            f"characters (POLICYQA_MAX_DOCUMENT_CHARS; passed on page {number})",
        )


def read_pdf(path: Path, limits: Limits = UNLIMITED) -> PdfDocument:
    """Read every page; raise PdfProblem for encrypted, corrupt, truncated, empty or image-only files,
    and for files past one of ``limits``.

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
        raise PdfProblem(
            "not_pdf", f"{path.name}: not a PDF (no %PDF- header); is it another format renamed .pdf?"
        )
    if b"%%EOF" not in tail and _OBJECT_RE.search(head):  # began as a real PDF, stops mid-way
        raise PdfProblem(
            "truncated",
            f"{path.name}: the PDF is truncated (it stops before its end marker); copy or download it again",
        )
    try:
        layouts = read_layout(path, limits)
        if not layouts:
            raise PdfProblem("no_pages", f"{path.name}: the PDF has no pages")
        document = open_pdf(path)
        try:
            meta_title = _metadata_title(document)
        finally:
            document.close()
    except PdfProblem:
        raise
    except MemoryError:
        raise PdfProblem(
            "out_of_memory",
            f"{path.name}: reading the PDF needs more memory than a reader may use "
            "(POLICYQA_EXTRACT_MEMORY_MB)",
        ) from None
    except Exception as exc:  # noqa: BLE001 - a damaged file may fail anywhere; one bad file must not
        # stop the run.
        raise PdfProblem(
            "corrupt",
            f"{path.name}: corrupt PDF that cannot be read ({type(exc).__name__}: {str(exc)[:200]})",
        ) from None
    pages = [page_text(layout) for layout in layouts]
    if not any(p.strip() for p in pages):
        raise PdfProblem(
            "no_text",
            f"{path.name}: no extractable text on any of its {len(pages)} pages "
            "(a scanned PDF?); run OCR first, e.g. ocrmypdf",
        )
    headings = [clean_line(layout.title) for layout in layouts]
    return PdfDocument(pages=pages, headings=headings, metadata_title=meta_title)


def page_text(layout: PageLayout) -> str:
    """The stored page text: one cleaned paragraph a line, a blank line where the page leaves a gap."""
    lines = [clean_line(block) if block else "" for block in layout.blocks]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
