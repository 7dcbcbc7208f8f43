"""Score PDF text extractors against hand-checked reference pages: content, reading order, furniture.

``python -m evals.extraction`` prints the side-by-side table in ``docs/extraction.md``. A reference
page (``tests/data/reference-pages/<doc>-p<N>.txt``) holds the lines a reader sees, in the order
they are read, and the page furniture (running headers, page numbers, side tabs, margin line
numbers) that should not be in the text. Lines are compared by their 6-character shingles after
NFKC and whitespace removal, so a line broken or re-spaced by an extractor still counts, while
text from another column spliced into it does not.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from ingest.text import standard_characters

SHINGLE = 6
FOUND_SHARE = 0.8  # a reference line counts as found when this share of its shingles is in the text


@dataclass(frozen=True)
class ReferencePage:
    doc: str
    page: int
    layout: str
    title: str
    body: list[str]
    furniture: list[str]


def load_reference(path: Path) -> ReferencePage:
    meta: dict[str, str] = {}
    sections: dict[str, list[str]] = {"title": [], "body": [], "furniture": []}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") and ":" in line and current is None:
            key, value = line[2:].split(":", 1)
            meta[key.strip()] = value.strip()
        elif line.startswith("== "):
            current = line[3:].strip()
        elif current in sections and line.strip():
            sections[current].append(line.strip())
    return ReferencePage(meta["doc"], int(meta["page"]), meta.get("layout", ""),
                         (sections["title"] or [""])[0], sections["body"], sections["furniture"])


def load_references(folder: Path) -> list[ReferencePage]:
    return sorted((load_reference(p) for p in folder.glob("*.txt")), key=lambda r: (r.doc, r.page))


def comparable(text: str) -> str:
    """What two renderings of the same words share: NFKC, standard kanji, no spaces, bullets or
    cell separators."""
    text = unicodedata.normalize("NFKC", standard_characters(text))
    return re.sub(r"[\s|・•\ue000-\uf8ff]+", "", text)


def _shingles(text: str) -> list[str]:
    return [text[i:i + SHINGLE] for i in range(max(1, len(text) - SHINGLE + 1))]


@dataclass(frozen=True)
class PageScore:
    content: float  # share of reference lines found
    order: float  # share of consecutive found lines that appear in reading order
    furniture_leaked: float  # share of checkable furniture lines still in the text


def score_page(reference: ReferencePage, extracted: str) -> PageScore:
    text = comparable(extracted)
    positions: list[float] = []
    found = 0
    for line in reference.body:
        shingles = _shingles(comparable(line))
        present = [s for s in shingles if s in text]
        if len(present) >= FOUND_SHARE * len(shingles):
            found += 1
            # Where the line is: its shingles that occur once on the page (a repeated label such as
            # 「令和6年度予算額」 says nothing about order).
            unique = [text.find(s) for s in present if text.count(s) == 1]
            if unique:
                positions.append(statistics.median(unique))
    ordered = sum(1 for a, b in pairwise(positions) if b > a)
    order = ordered / (len(positions) - 1) if len(positions) > 1 else 1.0
    return PageScore(found / max(len(reference.body), 1), order, _leaked(reference.furniture, extracted))


def _leaked(furniture: list[str], extracted: str) -> float:
    """Furniture that can be told apart from content: line-number columns (a run of bare numbers
    at the start of lines) and header, footer or tab text of four characters or more."""
    checks = 0
    leaked = 0
    lines = extracted.splitlines()
    for item in furniture:
        if item.startswith("LINE-NUMBERS"):
            checks += 1
            numbered = sum(1 for line in lines if re.match(r"^\s*\d{1,2}(?:\s|$)", line))
            leaked += numbered >= 5
        elif len(comparable(item)) >= 4:
            checks += 1
            leaked += comparable(item) in comparable(extracted)
    return leaked / checks if checks else 0.0


# --- the extractors ------------------------------------------------------------------------------

Extractor = Callable[[Path, int], str]


def _pypdf(mode: str) -> Extractor:
    def extract(path: Path, page: int) -> str:
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        if reader.is_encrypted:
            reader.decrypt("")
        if mode == "layout":
            return reader.pages[page - 1].extract_text(extraction_mode="layout")
        return reader.pages[page - 1].extract_text()

    return extract


def _pdfium_plain(path: Path, page: int) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        return document[page - 1].get_textpage().get_text_range()
    finally:
        document.close()


def _pdfminer(path: Path, page: int) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(str(path), page_numbers=[page - 1])


def _pdftotext(layout: bool) -> Extractor:
    def extract(path: Path, page: int) -> str:
        args = ["pdftotext", "-q", "-f", str(page), "-l", str(page), *(["-layout"] if layout else []), str(path), "-"]
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout

    return extract


_LAYOUT_CACHE: dict[Path, list[str]] = {}


def _policyqa(path: Path, page: int) -> str:
    """The product's extraction: PDFium characters, paragraphs rebuilt from geometry, furniture removed."""
    from ingest.pdf import read_pdf

    if path not in _LAYOUT_CACHE:
        _LAYOUT_CACHE[path] = read_pdf(path).pages
    return _LAYOUT_CACHE[path][page - 1]


def extractors() -> dict[str, Extractor]:
    found = {
        "policyqa (pypdfium2 + geometry)": _policyqa,
        "pypdfium2 plain": _pdfium_plain,
        "pypdf plain": _pypdf("plain"),
        "pypdf layout": _pypdf("layout"),
        "pdfminer.six": _pdfminer,
    }
    if shutil.which("pdftotext"):
        found["pdftotext (poppler)"] = _pdftotext(False)
        found["pdftotext -layout"] = _pdftotext(True)
    return found


def whole_document_speed(extract: Extractor, pdfs: list[Path]) -> float:
    """Pages per second over whole documents (the cost an ingest pays)."""
    from pypdf import PdfReader

    pages = 0
    started = time.perf_counter()
    for pdf in pdfs:
        reader = PdfReader(str(pdf))
        if reader.is_encrypted:
            reader.decrypt("")
        count = len(reader.pages)
        if extract is _policyqa:
            _LAYOUT_CACHE.pop(pdf, None)
            extract(pdf, 1)
        else:
            for n in range(1, count + 1):
                extract(pdf, n)
        pages += count
    return pages / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=Path, default=Path("tests/data/reference-pages"))
    parser.add_argument("--pdfs", type=Path, nargs="+",
                        default=[Path("tests/data/real-pdfs"), Path("corpus")])
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    references = load_references(args.references)
    files = {p.stem: p for folder in args.pdfs for p in folder.glob("*.pdf")}
    kinds = sorted({r.layout for r in references})
    print(f"{len(references)} reference pages from {len(files)} PDFs; layouts: {', '.join(kinds)}\n")
    header = "| extractor | content | order | furniture leaked | " + " | ".join(f"content/order: {k}" for k in kinds)
    header += " | pages/s |" if not args.no_speed else " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, extract in extractors().items():
        scores: list[tuple[ReferencePage, PageScore]] = []
        for ref in references:
            try:
                text = extract(files[ref.doc], ref.page)
            except Exception as exc:  # noqa: BLE001 - an extractor that fails on a page scores 0 there
                text = f"<failed: {type(exc).__name__}>"
            scores.append((ref, score_page(ref, text)))
        row = [name, _mean([s.content for _, s in scores]), _mean([s.order for _, s in scores]),
               _mean([s.furniture_leaked for _, s in scores])]
        cells = [f"{v:.2f}" if isinstance(v, float) else v for v in row]
        for kind in kinds:
            of_kind = [s for r, s in scores if r.layout == kind]
            cells.append(f"{_mean([s.content for s in of_kind]):.2f} / {_mean([s.order for s in of_kind]):.2f}")
        if not args.no_speed:
            cells.append(f"{whole_document_speed(extract, sorted(files.values())):.0f}")
        print("| " + " | ".join(cells) + " |", flush=True)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


if __name__ == "__main__":
    main()
