"""Queries running while a document is being replaced never see half of it.

A document (``toggle``) exists in two versions: A (6 pages) and B (8 pages). Every sentence of
version A carries the marker word VERALPHA and every sentence of B the marker VERBRAVO, so
every chunk, page text and quote says which version it comes from. An ingester replaces the
document A -> B -> A -> ... while reader threads query it without pause:

* ``search`` restricted to the document (top_k large enough for all its chunks) must return
  chunks of one version only, and exactly as many distinct chunks as that version has when it
  is queried alone (so neither a mix nor a partly written or partly deleted version);
* ``answer`` restricted to the document must cite and quote one version only, the same one as
  its sources.

Three deployments: ``server`` (a real `chroma run`; the ingester is a separate process, as with
`policyqa ingest` next to `policyqa serve`), ``embedded`` (one process; the ingester is a thread
sharing the service's store) and ``uploaded`` (one process; each replacement is an upload job, as
through the API: paced writes that readers do not wait for, the keyword index built before the
commit, and a third reader searching all documents, whose dense leg leaves out the hidden chunks
of the version being written without a Chroma filter).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import DECK_TEXT

from core.settings import Settings
from ingest.pipeline import Ingestor
from rag.service import PolicyQA

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DOC = "toggle"
MARKERS = {"A": "VERALPHA", "B": "VERBRAVO"}
PAGES = {"A": 6, "B": 8}
QUERY = "VERALPHA VERBRAVO 経済安全保障 半導体 サプライチェーン"
QUESTION = "半導体のサプライチェーン強靱化のための取組は？ VERALPHA VERBRAVO"
FLIPS = 12
DEADLINE_S = 240
TOP_K = 50


def version_pages(version: str) -> list[str]:
    """Deck pages 9.. with the version's marker in every sentence and every line."""
    source = [p for p in re.split(r"\n?\f\n?", DECK_TEXT.read_text(encoding="utf-8")) if p.strip()]
    marker = MARKERS[version]
    pages = []
    for text in source[8 : 8 + PAGES[version]]:
        lines = []
        for line in text.split("\n"):
            if line.strip():
                line = re.sub(r"。(?!$)", f"（{marker}）。", line.strip()) + f" {marker}"
            lines.append(line)
        pages.append("\n".join(lines)[:900])
    return pages


def markers_in(text: str) -> set[str]:
    return {v for v, m in MARKERS.items() if m.lower() in text.lower()}


class Observations:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.problems: list[str] = []
        self.seen: Counter[str] = Counter()
        self.queries = 0

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 20:
                self.problems.append(text)


def check_search(service: PolicyQA, expected: dict[str, int], obs: Observations) -> None:
    hits = service.search(QUERY, top_k=TOP_K, documents=[DOC])
    versions: Counter[str] = Counter()
    for hit in hits:
        found = markers_in(hit.text)
        if len(found) != 1:
            obs.problem(f"a chunk with markers {found}: {hit.chunk_id}")
        versions.update(found)
    ids = {h.chunk_id for h in hits}
    gens = {cid.split(":")[1] for cid in ids}
    with obs.lock:
        obs.queries += 1
        obs.seen.update(versions.keys())
    if len(versions) != 1 or len(gens) != 1:
        obs.problem(f"search mixed versions {dict(versions)} / generations {gens}")
        return
    (version,) = versions
    if len(ids) != expected[version]:
        obs.problem(f"search saw {len(ids)} chunks of version {version}, which has {expected[version]}")


def check_answer(service: PolicyQA, obs: Observations) -> None:
    result = service.answer(QUESTION, top_k=TOP_K, documents=[DOC])
    source_versions = set().union(*(markers_in(s.text) for s in result.sources)) if result.sources else set()
    quote_versions = (
        set().union(*(markers_in(c.quote) for c in result.citations)) if result.citations else set()
    )
    with obs.lock:
        obs.queries += 1
    if len(source_versions) != 1:
        obs.problem(f"answer sources from versions {source_versions}")
    if result.citations and quote_versions != source_versions:
        obs.problem(f"answer quotes version(s) {quote_versions} but its sources are {source_versions}")
    if len(markers_in(result.answer)) > 1:
        obs.problem("an answer text quoting both versions")


def check_search_everywhere(service: PolicyQA, obs: Observations) -> None:
    """Unrestricted: the document's chunks among the others' are still of one generation."""
    hits = [h for h in service.search(QUERY, top_k=TOP_K) if h.doc_id == DOC]
    gens = {h.chunk_id.split(":")[1] for h in hits}
    versions = set().union(*(markers_in(h.text) for h in hits)) if hits else set()
    with obs.lock:
        obs.queries += 1
    if len(gens) > 1 or len(versions) > 1:
        obs.problem(f"an unrestricted search mixed versions {versions} / generations {gens}")


def readers(
    service: PolicyQA,
    expected: dict[str, int],
    obs: Observations,
    done: threading.Event,
    count: int = 2,
    kinds: tuple[str, ...] = ("search", "answer", "search", "answer"),
) -> list[threading.Thread]:
    def loop(kind: str) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not done.is_set() and time.monotonic() < deadline:
            try:
                if kind == "search":
                    check_search(service, expected, obs)
                elif kind == "everywhere":
                    check_search_everywhere(service, obs)
                else:
                    check_answer(service, obs)
            except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
                obs.problem(f"{kind} raised {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=loop, args=(k,), daemon=True) for k in kinds[:count]]
    for t in threads:
        t.start()
    return threads


def visible_chunks(service: PolicyQA) -> int:
    hits = service.search(QUERY, top_k=TOP_K, documents=[DOC])
    assert len({tuple(markers_in(h.text)) for h in hits}) == 1
    return len({h.chunk_id for h in hits})


@pytest.fixture
def versions(tmp_path: Path, make_pdf) -> dict[str, Path]:
    folder = tmp_path / "versions"
    return {
        v: make_pdf(folder / f"{DOC}-{v}.pdf", version_pages(v), title=f"切替資料（版{v}）") for v in MARKERS
    }


def prepare(settings: Settings, embedder: Any, versions: dict[str, Path], make_pdf) -> tuple[PolicyQA, dict]:
    """Learn each version's chunk count as a lone reader sees it; leave version A live."""
    corpus = settings.corpus_dir
    make_pdf(
        corpus / "static-memo.pdf", ["港湾整備の検討メモ\n\n港湾の耐震強化岸壁を2030年度までに整備する。"]
    )
    service = PolicyQA(settings, embedder=embedder)
    ingestor = Ingestor(settings, service.store, service.embedder, service.tokenizer)
    expected = {}
    for v in ("B", "A"):
        shutil.copyfile(versions[v], corpus / f"{DOC}.pdf")
        assert ingestor.run().ok
        expected[v] = visible_chunks(service)
        assert expected[v] == service.documents()[DOC].chunks <= 40, "top_k must cover a whole version"
    assert expected["A"] != expected["B"]
    return service, expected


WRITER = r"""
import json, shutil, sys
from pathlib import Path
from ingest.pipeline import Ingestor
from rag.service import PolicyQA
from core.settings import Settings

args = json.loads(sys.argv[1])
settings = Settings(_env_file=None, **args["settings"])
service = PolicyQA(settings)
ingestor = Ingestor(settings, service.store, service.embedder, service.tokenizer)
print(json.dumps({"ready": True}), flush=True)
for i in range(args["flips"]):
    version = "B" if i % 2 == 0 else "A"
    shutil.copyfile(args["versions"][version], Path(settings.corpus_dir) / "toggle.pdf")
    report = ingestor.run()
    statuses = {f.doc_id: f.status for f in report.files}
    print(json.dumps({"flip": i, "version": version, "status": statuses["toggle"]}), flush=True)
"""


def test_queries_never_see_a_half_replaced_document_server(
    chroma_server, tmp_path: Path, embedder, versions, make_pdf
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(
        data_dir=tmp_path / "data",
        corpus_dir=corpus,
        chroma_url=chroma_server.url,
        collection=f"c{uuid.uuid4().hex[:10]}",
    )
    service, expected = prepare(settings, embedder, versions, make_pdf)

    args = {
        "settings": {
            "data_dir": str(tmp_path / "writer-data"),
            "corpus_dir": str(corpus),
            "chroma_url": chroma_server.url,
            "collection": settings.collection,
        },
        "versions": {v: str(p) for v, p in versions.items()},
        "flips": FLIPS,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
    env["PYTHONPATH"] = str(REPO)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, json.dumps(args)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    obs, done = Observations(), threading.Event()
    threads = readers(service, expected, obs, done, count=4)
    try:
        out, err = writer.communicate(timeout=DEADLINE_S)
    finally:
        done.set()
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        for t in threads:
            t.join(30)
    assert writer.returncode == 0, err[-3000:]
    flips = [json.loads(line) for line in out.splitlines() if line.strip()][1:]
    assert [f["status"] for f in flips] == ["updated"] * FLIPS, flips
    report(obs, expected)


def flip_in_process(tmp_path: Path, embedder, versions, make_pdf, replace, kinds: tuple[str, ...]) -> None:
    """FLIPS replacements by ``replace(service, version_pdf) -> status`` in this process while one
    reader per entry of ``kinds`` queries."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    service, expected = prepare(settings, embedder, versions, make_pdf)
    obs, done = Observations(), threading.Event()
    threads = readers(service, expected, obs, done, count=len(kinds), kinds=kinds)
    statuses = []
    try:
        for i in range(FLIPS):
            statuses.append(replace(service, versions["B" if i % 2 == 0 else "A"]))
            time.sleep(0.2)  # let the readers query between two replacements
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert statuses == ["updated"] * FLIPS
    report(obs, expected)


def test_queries_never_see_a_half_replaced_document_embedded(
    tmp_path: Path, embedder, versions, make_pdf
) -> None:
    def ingest(service: PolicyQA, pdf: Path) -> str:
        settings = service.settings
        shutil.copyfile(pdf, settings.corpus_dir / f"{DOC}.pdf")
        report = Ingestor(settings, service.store, service.embedder, service.tokenizer).run()
        return {f.doc_id: f.status for f in report.files}[DOC]

    flip_in_process(tmp_path, embedder, versions, make_pdf, ingest, ("search", "answer") * 2)


def test_queries_never_see_a_half_replaced_document_uploaded(
    tmp_path: Path, embedder, versions, make_pdf
) -> None:
    def upload(service: PolicyQA, pdf: Path) -> str:
        return service.upload(io.BytesIO(pdf.read_bytes()), DOC)[1].status

    kinds = ("search", "answer", "search", "everywhere", "everywhere")
    flip_in_process(tmp_path, embedder, versions, make_pdf, upload, kinds)


def report(obs: Observations, expected: dict[str, int]) -> None:
    print(
        f"\n{obs.queries} queries during {FLIPS} replacements; versions seen: {dict(obs.seen)}; "
        f"chunks per version: {expected}"
    )
    assert not obs.problems, "\n".join(obs.problems)
    assert obs.queries >= 20, "too few queries ran during the replacements to prove anything"
    assert set(obs.seen) == {"A", "B"}, "the readers never saw the document change"
