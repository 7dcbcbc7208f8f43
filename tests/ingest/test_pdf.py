"""Opening PDFs as a reader does, and reading real government PDFs in reading order.

The real PDFs (tests/data/real-pdfs/, licences in its SOURCES.md) are what users drop in; the
reference pages (tests/data/reference-pages/) were checked by eye against the rendered pages.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from evals.extraction import load_references, score_page
from ingest.pdf import PdfDocument, PdfProblem, read_pdf, reads_like_title

DATA = Path(__file__).resolve().parents[1] / "data"
REAL = DATA / "real-pdfs"
REFERENCES = load_references(DATA / "reference-pages")
PAGES = [p.name for p in REAL.glob("*.pdf")]


def _encrypt(source: Path, target: Path, *, user: str, algorithm: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(str(source)))
    writer.encrypt(user_password=user, owner_password="owner-secret", algorithm=algorithm)
    with open(target, "wb") as fh:
        writer.write(fh)
    return target


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_owner_password_only_files_open_like_in_a_reader(tmp_path: Path, make_pdf, algorithm: str) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", ["編集制限付きの資料\n\n特定重要物資の安定供給を確保する。"])
    locked = _encrypt(plain, tmp_path / "locked.pdf", user="", algorithm=algorithm)
    assert PdfReader(str(locked)).is_encrypted
    assert "特定重要物資の安定供給を確保する。" in read_pdf(locked).pages[0]


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_a_file_that_needs_a_password_to_open_is_reported_as_password_protected(
    tmp_path: Path, make_pdf, algorithm: str
) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", ["秘密の資料"])
    locked = _encrypt(plain, tmp_path / "secret.pdf", user="open-me", algorithm=algorithm)
    with pytest.raises(PdfProblem) as problem:
        read_pdf(locked)
    assert problem.value.code == "encrypted"
    assert "password-protected" in problem.value.message and "secret.pdf" in problem.value.message


@cache
def _read(path: Path) -> PdfDocument:
    """Each real PDF is read once per test process; the tests below only look at the result."""
    return read_pdf(path)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_real_government_pdf_is_read(name: str) -> None:
    document = _read(REAL / name)
    assert len(document.pages) == len(PdfReader(str(REAL / name)).pages)
    assert sum(len(p) for p in document.pages) > 500
    assert document.first_page_title and len(document.first_page_title) <= 81
    text = "\n".join(document.pages)
    assert "\ufffd" not in text and not any("\ue000" <= c <= "\uf8ff" for c in text)  # no private-use bullets
    assert not any("\u2e80" <= c <= "\u2fdf" for c in text)  # no radical look-alikes


def test_titles_come_from_the_largest_text_not_from_labels() -> None:
    assert (
        _read(REAL / "cao-ai-regulation-approach-2024-05.pdf").first_page_title
        == "「AI 制度に関する考え方」について"
    )  # the cover's first line is 「資料２－１」
    assert _read(REAL / "mic-meti-ai-guidelines-annex-overview-2024.pdf").first_page_title.startswith(
        "AI事業者ガイドライン案"
    )


def test_a_cover_whose_largest_text_is_a_label_is_titled_by_the_line_after_it() -> None:
    """「事務連絡」 and 「法制審議会第１９８回会議配布資料民１－３」 say what kind of paper it is; the
    title follows, past the date, the addressee and the issuing office."""
    assert _read(REAL / "mhlw-cell-tissue-mf-filing-guidance-2013.pdf").first_page_title.startswith(
        "細胞・組織加工医薬品等の製造に関連するものに係る原薬等登録原簿登録申請書"
    )
    assert (
        _read(REAL / "moj-bill-of-lading-interim-draft-overview-2023.pdf").first_page_title
        == "船荷証券に関する規定等の見直しに関する中間試案（概要）"
    )


def test_a_line_naming_which_part_of_the_paper_the_file_is_joins_the_title() -> None:
    """The MLETR table and the explanation share the cover title; 「（参考資料）MLETR 対照表」 under
    it says which one this file is."""
    assert (
        _read(REAL / "moj-mletr-comparison-table-2023.pdf").first_page_title
        == "船荷証券に関する規定等の見直しに関する中間試案の補足説明 （参考資料）MLETR 対照表"
    )
    assert (
        _read(REAL / "moj-bill-of-lading-interim-draft-explanation-2023.pdf").first_page_title
        == "船荷証券に関する規定等の見直しに関する中間試案の補足説明"
    )


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ("令和6年度の防災に関する計画", True),
        ("平成２５年３月８日", False),
        ("（令和6年4月）", False),
        ("各都道府県衛生主管部（局）薬務主管課御中", False),
        ("厚生労働省医薬食品局審査管理課", False),
        ("資料２－１", False),
        ("記", False),
    ],
)
def test_what_reads_like_a_title(line: str, title: bool) -> None:
    assert reads_like_title(line) is title


def test_margin_line_numbers_headers_and_side_tabs_stay_out_of_the_page_text() -> None:
    regulation = _read(REAL / "cao-ai-regulation-approach-2024-05.pdf").pages[3]
    assert regulation.startswith("２．多様なリスクへの対応と各国における制度整備の検討状況")
    assert "リスクへの対応の一般的なアプローチ" in regulation  # a sentence that wrapped across a line number
    white_paper = _read(REAL / "cao-disaster-white-paper-2024-part3.pdf").pages[9]
    assert "令和6年版防災白書" not in white_paper.replace(" ", "")
    assert "防災R6_3-1.indd" not in white_paper  # the printer's slug in the bleed
    assert "令和6年度予算額 | 100百万円" in white_paper  # label and amount: one row


def _pages(doc: str) -> list[str]:
    path = REAL / f"{doc}.pdf"
    if not path.exists():
        path = DATA.parents[1] / "corpus" / f"{doc}.pdf"
    return _read(path).pages


def _extracted(reference) -> str:
    return _pages(reference.doc)[reference.page - 1]


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda r: f"{r.doc}-p{r.page}")
def test_reference_pages_are_read_whole_and_in_reading_order(reference) -> None:
    """Every page checked by eye: its lines are found, in the order a reader reads them. The
    floors are what the worst layouts reach today (slides whose boxes a reader takes in another
    order, a table inside a slide); docs/extraction.md has the per-layout table."""
    score = score_page(reference, _extracted(reference))
    assert score.content >= 0.7, score
    assert score.order >= 0.8, score


def test_reference_pages_on_average() -> None:
    scores = [score_page(r, _extracted(r)) for r in REFERENCES]
    assert sum(s.content for s in scores) / len(scores) >= 0.95
    assert sum(s.order for s in scores) / len(scores) >= 0.95
    assert sum(s.furniture_leaked for s in scores) / len(scores) <= 0.15


def test_the_reference_set_spans_the_layouts_of_real_pdfs() -> None:
    layouts = {r.layout for r in REFERENCES}
    assert len(REFERENCES) >= 25
    assert {"two-column", "slide", "table", "line-numbered", "footnotes", "figure"} <= layouts


def test_a_page_long_line_makes_no_page_long_title_or_heading(tmp_path: Path) -> None:
    """A hostile page of one 5,000-character line: titles and chunk headings stay short."""
    from reportlab.pdfgen import canvas

    from ingest.chunking import chunk_document

    path = tmp_path / "one-line.pdf"
    pdf = canvas.Canvas(str(path), invariant=1)
    pdf.setFont("Helvetica", 4)
    pdf.drawString(10, 800, "word " * 1000)
    pdf.save()
    document = read_pdf(path)
    assert len(document.first_page_title) <= 81
    chunks = chunk_document(document.pages, target_chars=360, overlap_chars=60, headings=document.headings)
    assert len(chunks) > 5 and all(len(c.heading) <= 81 for c in chunks)
    assert sum(len(c.embedding_text) for c in chunks) < 2 * len(document.pages[0])
