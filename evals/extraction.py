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
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from core.text import normalize, standard_characters

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
    return ReferencePage(
        meta["doc"],
        int(meta["page"]),
        meta.get("layout", ""),
        (sections["title"] or [""])[0],
        sections["body"],
        sections["furniture"],
    )


def load_references(folder: Path) -> list[ReferencePage]:
    return sorted((load_reference(p) for p in folder.glob("*.txt")), key=lambda r: (r.doc, r.page))


def comparable(text: str) -> str:
    """What two renderings of the same words share: NFKC, standard kanji, no spaces, bullets or
    cell separators."""
    text = normalize(standard_characters(text), keep_case=True, keep_spaces=True)
    return re.sub(r"[\s|・•\ue000-\uf8ff]+", "", text)


def _shingles(text: str) -> list[str]:
    return [text[i : i + SHINGLE] for i in range(max(1, len(text) - SHINGLE + 1))]


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


# --- the extractors: each reads a whole document, as an ingest does --------------------------------

Extractor = Callable[[Path], list[str]]


def _pypdf(mode: str) -> Extractor:
    def extract(path: Path) -> list[str]:
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        if reader.is_encrypted:
            reader.decrypt("")
        if mode == "layout":
            return [page.extract_text(extraction_mode="layout") for page in reader.pages]
        return [page.extract_text() for page in reader.pages]

    return extract


def _pdfium_plain(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def _pdfminer(path: Path) -> list[str]:
    from pdfminer.high_level import extract_text
    from pdfminer.pdfpage import PDFPage

    with open(path, "rb") as fh:
        count = sum(1 for _ in PDFPage.get_pages(fh))
    return [extract_text(str(path), page_numbers=[n]) for n in range(count)]


def _pdftotext(layout: bool) -> Extractor:
    def extract(path: Path) -> list[str]:
        args = ["pdftotext", "-q", *(["-layout"] if layout else []), str(path), "-"]
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.split("\f")

    return extract


def _policyqa(path: Path) -> list[str]:
    """The product's extraction: PDFium characters, paragraphs rebuilt from geometry, furniture removed."""
    from ingest.pdf import read_pdf

    return read_pdf(path).pages


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=Path, default=Path("tests/data/reference-pages"))
    parser.add_argument(
        "--pdfs", type=Path, nargs="+", default=[Path("tests/data/real-pdfs"), Path("corpus")]
    )
    args = parser.parse_args()
    references = load_references(args.references)
    files = {p.stem: p for folder in args.pdfs for p in folder.glob("*.pdf")}
    kinds = sorted({r.layout for r in references})
    print(
        f"{len(references)} reference pages from {len(files)} PDFs; layouts: {', '.join(kinds)}; "
        "pages/s over every page of those PDFs\n"
    )
    header = "| extractor | content | order | furniture leaked | " + " | ".join(kinds) + " | pages/s |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, extract in extractors().items():
        texts: dict[str, list[str]] = {}
        pages = 0
        started = time.perf_counter()
        for doc, path in sorted(files.items()):
            try:
                texts[doc] = extract(path)
            except Exception as exc:  # noqa: BLE001 - an extractor that fails on a file scores 0 there
                texts[doc] = [f"<failed: {type(exc).__name__}>"]
            pages += len(texts[doc])
        speed = pages / (time.perf_counter() - started)
        scores = [
            (ref, score_page(ref, (texts[ref.doc] + [""] * ref.page)[ref.page - 1])) for ref in references
        ]
        cells = [name] + [
            f"{_mean(v):.2f}"
            for v in (
                [s.content for _, s in scores],
                [s.order for _, s in scores],
                [s.furniture_leaked for _, s in scores],
            )
        ]
        for kind in kinds:
            of_kind = [s for r, s in scores if r.layout == kind]
            cells.append(
                f"{_mean([s.content for s in of_kind]):.2f} / {_mean([s.order for s in of_kind]):.2f}"
            )
        cells.append(f"{speed:.0f}")
        print("| " + " | ".join(cells) + " |", flush=True)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


if __name__ == "__main__":
    main()
