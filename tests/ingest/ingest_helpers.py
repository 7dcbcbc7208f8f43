"""Shared pieces of the ingestion tests: a small Japanese corpus with one known fact per page,
bad files of every kind, and an ``IngestEnv`` that looks inside the Chroma collections.

Kept out of conftest.py on purpose: a second conftest module would shadow ``tests/conftest.py``
for anyone importing its constants, and these helpers only concern ingestion.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from core.store import Store
from ingest.pipeline import Ingestor
from ingest.report import IngestReport
from rag.retrieval import RankedChunk
from rag.service import PolicyQA

MakePdf = Callable[..., Path]


@dataclass(frozen=True)
class Fact:
    """A question whose answer is on exactly one page, and a phrase found only on that page."""

    query: str
    doc_id: str
    page: int
    phrase: str


# doc_id -> pages. Topics differ per page so that a fact can only be found on its own page.
ENERGY = "energy-white-paper"
CHIPS = "chip-strategy"
FOOD = "food-security"

DOC_PAGES: dict[str, list[str]] = {
    ENERGY: [
        "エネルギー白書の概要\n\n本書は国内のエネルギー需給の動向と、脱炭素に向けた政策の進捗をまとめたものである。",
        (
            "洋上風力発電の導入目標\n\n洋上風力発電は、2040年までに30GWから45GWの案件を形成することを目標とする。"
            "案件形成を加速するため、政府が調査を主導するセントラル方式を導入する。"
        ),
        (
            "水素とアンモニアの供給\n\n水素の供給量を2030年に年間300万トン、2050年に2000万トン程度に拡大する。"
            "価格差に着目した支援制度を創設した。"
        ),
    ],
    CHIPS: [
        "半導体・デジタル産業戦略\n\n半導体は経済安全保障上の戦略物資であり、国内の製造基盤を強化する。",
        "次世代半導体の量産計画\n\nラピダスは北海道千歳市の工場で、2ナノメートル世代のロジック半導体を2027年に量産する計画である。",
        "半導体人材の育成\n\n半導体人材を10年間で4万人育成することを目指す。九州と東北に産学官の人材育成コンソーシアムを設置した。",
    ],
    FOOD: [
        "食料安全保障の基本方針\n\n平時からの食料安全保障を確立するため、基本法を改正した。",
        "肥料原料の備蓄\n\n肥料原料の備蓄として、りん安と塩化加里の年間需要量の3か月分を保有する。",
    ],
}

FACTS = [
    Fact("洋上風力発電の導入目標は何GWですか", ENERGY, 2, "45GW"),
    Fact("水素の供給量を2030年にどれだけに拡大しますか", ENERGY, 3, "300万トン"),
    Fact("ラピダスはどこで2ナノメートル半導体を量産しますか", CHIPS, 2, "千歳市"),
    Fact("半導体人材を何人育成しますか", CHIPS, 3, "4万人"),
    Fact("肥料原料の備蓄は年間需要量の何か月分ですか", FOOD, 2, "3か月分"),
]

ENERGY_META_TITLE = "エネルギー白書2025"  # drawn into the PDF's info dictionary
FOOD_MANIFEST_TITLE = "食料安全保障強化政策大綱（改訂版）"
MANIFEST = f'''
[[document]]
doc_id = "{FOOD}"
title = "{FOOD_MANIFEST_TITLE}"
publisher = "農林水産省"
date = "2024-06-04"
landing_page = "https://www.maff.go.jp/j/kanbo/anpo/"
licence = "政府標準利用規約（第2.0版）"

[[document]]
doc_id = "not-yet-downloaded"
title = "まだ保存されていない資料"
landing_page = "https://example.org/not-yet-downloaded"
'''


def write_corpus(
    make_pdf: MakePdf, corpus: Path, docs: tuple[str, ...] = (ENERGY, CHIPS, FOOD), manifest: bool = True
) -> dict[str, Path]:
    """The three documents: ENERGY titled in its metadata, CHIPS untitled, FOOD described by the manifest
    (its metadata title must lose against the manifest's)."""
    titles = {ENERGY: ENERGY_META_TITLE, CHIPS: None, FOOD: "メタデータの題名（使われないはず）"}
    paths = {
        doc_id: make_pdf(corpus / f"{doc_id}.pdf", DOC_PAGES[doc_id], title=titles[doc_id]) for doc_id in docs
    }
    if manifest:
        (corpus / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    return paths


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- bad files


def write_bad_files(make_pdf: MakePdf, folder: Path) -> dict[str, Path]:
    """One file per failure kind, keyed by the error code the ingester must give it."""
    from PIL import Image
    from pypdf import PdfWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["encrypted"] = make_pdf(
        folder / "locked.pdf", ["秘密の資料\n\n内容は非公開である。"], password="s3cret"
    )

    rng = random.Random(20250316)
    corrupt = folder / "garbage.pdf"
    corrupt.write_bytes(b"%PDF-1.4\n" + bytes(rng.randrange(256) for _ in range(6000)))
    files["corrupt"] = corrupt

    whole = make_pdf(folder / "whole.tmp", ["途中で切れた資料\n\n" + "本文" * 200] * 3)
    truncated = folder / "cut-in-half.pdf"
    data = whole.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    whole.unlink()
    files["truncated"] = truncated

    zero = folder / "no-pages.pdf"
    with open(zero, "wb") as fh:
        PdfWriter().write(fh)
    files["no_pages"] = zero

    text = folder / "notes.pdf"
    text.write_text("これはPDFではなく、拡張子だけ .pdf のテキストファイルです。\n", encoding="utf-8")
    files["not_pdf"] = text

    png = folder / "picture.png"
    Image.new("RGB", (120, 80), (30, 60, 200)).save(png)
    png_named_pdf = folder / "photo.pdf"
    png_named_pdf.write_bytes(png.read_bytes())
    files["not_pdf_png"] = png_named_pdf

    scanned = folder / "scanned.pdf"
    pdf = canvas.Canvas(str(scanned), pagesize=A4, invariant=1)
    pdf.drawImage(str(png), 100, 400, width=360, height=240)  # page 1: an image only
    pdf.showPage()
    pdf.rect(100, 100, 300, 200, fill=1)  # page 2: drawn shapes only
    pdf.circle(300, 600, 80)
    pdf.showPage()
    pdf.save()
    png.unlink()
    files["no_text"] = scanned

    empty = folder / "empty.pdf"
    empty.write_bytes(b"")
    files["empty_file"] = empty
    return files


def write_shared_stream_pdf(path: Path, pages: int, text: str, font_size: float = 12) -> Path:
    """A PDF whose ``pages`` pages all draw one content stream (``text`` in Helvetica, one line):
    the file stays small however many pages it has, as a hostile file would."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    # One string per 10,000 characters (PDFium reads at most 32,767 of one), all on one line.
    shows = " ".join(f"({escaped[i : i + 10_000]}) Tj" for i in range(0, len(escaped), 10_000))
    stream = f"BT /F1 {font_size} Tf 20 700 Td {shows} ET".encode("latin-1")
    kids = " ".join(f"{5 + n} 0 R" for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    objects += [page] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


# The code each bad file must get, and words its message must contain, so a user knows what to do.
BAD_FILE_EXPECTATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "encrypted": ("encrypted", ("encrypted", "password")),
    "corrupt": ("corrupt", ("corrupt",)),
    "truncated": ("truncated", ("truncated",)),
    "no_pages": ("no_pages", ("no pages",)),
    "not_pdf": ("not_pdf", ("not a PDF",)),
    "not_pdf_png": ("not_pdf", ("not a PDF",)),
    "no_text": ("no_text", ("no extractable text", "OCR")),
    "empty_file": ("empty_file", ("empty",)),
}


# ---------------------------------------------------------------------------- environment


class IngestEnv:
    """One index (embedded or on a server) with the service that reads it and an ingester that writes it.

    Both share one Store, as the CLI and the API do."""

    def __init__(self, settings: Settings, embedder: Any):
        self.settings = settings
        self.corpus = settings.corpus_dir
        self.service = PolicyQA(settings, embedder=embedder)
        self.store: Store = self.service.store

    def run(
        self, paths: list[Path] | None = None, *, prune: bool = False, allow_duplicates: bool = False
    ) -> IngestReport:
        ingestor = Ingestor(self.settings, self.store, self.service.embedder, self.service.tokenizer)
        return ingestor.run(paths, prune=prune, allow_duplicates=allow_duplicates)

    def search(self, query: str, k: int = 5) -> list[RankedChunk]:
        return self.service.search(query, top_k=k)

    def raw_chunks(self) -> list[dict[str, Any]]:
        """Every record in the chunks collection, live or not: what a leak would leave behind."""
        with self.store.db.calls():
            return list(self.store.db.get_all(self.store.db.chunks, None, include=["documents", "metadatas"]))

    def chunk_total(self) -> int:
        with self.store.db.calls():
            return self.store.db.chunks.count()

    def registry_ids(self) -> list[str]:
        with self.store.db.calls():
            return list(self.store.db.registry.get(include=[])["ids"])


def assert_index_consistent(env: IngestEnv) -> None:
    """The invariants every reader relies on: each live document has exactly its recorded chunks,
    every chunk in the collection belongs to a live document (no leftovers), and every chunk's span
    points into the stored page text."""
    snapshot = env.store.snapshot()
    chunks = env.raw_chunks()
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk["doc_id"], []).append(chunk)
    assert set(by_doc) == set(snapshot.documents), "chunks of a document that is not live"
    for doc_id, record in snapshot.documents.items():
        mine = by_doc[doc_id]
        assert {c["gen"] for c in mine} == {record.gen}, f"{doc_id}: chunks of a dead generation remain"
        assert len(mine) == record.chunks, f"{doc_id}: {len(mine)} chunks stored, {record.chunks} recorded"
        assert sorted(c["chunk"] for c in mine) == list(range(record.chunks))
        pages = env.store.page_texts(doc_id, list(range(1, record.pages + 1)))
        assert sorted(pages) == list(range(1, record.pages + 1))
        for c in mine:
            assert c["id"] == f"{doc_id}:{record.gen}:{c['chunk']}"
            assert pages[c["page"]][c["start"] : c["end"]] == c["document"]
    assert env.chunk_total() == sum(r.chunks for r in snapshot.documents.values())
    page_records = [i for i in env.registry_ids() if i.startswith("page:")]
    assert len(page_records) == sum(r.pages for r in snapshot.documents.values()), "page records leaked"


def top_hit(env: IngestEnv, fact: Fact) -> RankedChunk:
    hits = env.search(fact.query)
    assert hits, f"nothing found for {fact.query!r}"
    return hits[0]


# ---------------------------------------------------------------------------- fixtures


# Named fixtures (``name=``) so test modules import them without shadowing warnings.
@pytest.fixture(name="backend")
def backend_fixture() -> str:
    """Which Chroma the shared test bodies run against; test_chroma_server.py overrides it."""
    return "embedded"


@pytest.fixture(name="env")
def env_fixture(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, embedder: Any
) -> Iterator[IngestEnv]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    overrides: dict[str, Any] = {}
    if backend == "server":
        server = request.getfixturevalue("module_chroma_server")
        overrides = {"chroma_url": server.url, "collection": f"t{uuid.uuid4().hex[:12]}"}
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, **overrides)
    yield IngestEnv(settings, embedder)


# ---------------------------------------------------------------------------- readers for worker tests
# Module-level, so a spawned reader process can import them by name.


def read_or_hang(path: Path, limits: Any) -> Any:
    """``read_pdf``, except that a file named ``hang*.pdf`` keeps the reader busy for a minute, as a
    PDFium call stuck on a hostile file would."""
    import time

    from ingest.pdf import read_pdf

    if path.name.startswith("hang"):
        time.sleep(60)
    return read_pdf(path, limits)


def read_memory_limit(path: Path, limits: Any) -> Any:
    """A "document" whose one page is the reader's RLIMIT_AS; ``hog*.pdf`` allocates 2 GB first."""
    import resource

    from ingest.pdf import PdfDocument

    if path.name.startswith("hog"):
        bytearray(2 * 1024**3)
    return PdfDocument([str(resource.getrlimit(resource.RLIMIT_AS)[0])], [""], None)
