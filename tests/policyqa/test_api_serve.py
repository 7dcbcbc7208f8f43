"""The API as deployed: a real `policyqa serve` process (uvicorn) on a free loopback port.

The server runs over a copy of the session's ingested deck. Besides the basic flow (health,
readiness, an answer whose citation links download the PDF) this checks that an upload is
answered at once (202 and a job) and ingested in the background: the server keeps answering while
a 93-page PDF is ingested. The latency of answers during a much larger upload is measured by
``test_upload_latency.py``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import DECK_ID, DECK_PDF
from uploading import FINISHED, post_upload

from evals.load import ServeProcess as BenchServeProcess
from evals.load import serve_env

LONG_PDF = Path(__file__).resolve().parents[1] / "data" / "real-pdfs" / "mhlw-model-work-rules-2022.pdf"

pytestmark = pytest.mark.slow

TOKEN = "serve-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MATERIALS_Q = "特定重要物資はいくつ指定されていますか"
STARTUP_TIMEOUT_S = 180


def tail(path: Path, n: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""


class ServeProcess(BenchServeProcess):
    """The benchmark's `policyqa serve` process, with the tests' start-up limit and an HTTP client."""

    def start(self, path: str = "/healthz", timeout_s: float = STARTUP_TIMEOUT_S) -> ServeProcess:
        return super().start(path, timeout_s)

    def wait_until_up(self) -> ServeProcess:
        self.wait_until("/healthz", STARTUP_TIMEOUT_S)
        return self

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


@pytest.fixture(scope="module")
def server(deck_settings, tmp_path_factory) -> Iterator[ServeProcess]:
    base = tmp_path_factory.mktemp("serve")
    data = base / "data"
    shutil.copytree(deck_settings.data_dir, data)
    proc = ServeProcess(serve_env(data, deck_settings.corpus_dir, POLICYQA_ADMIN_TOKEN=TOKEN), base).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_health_readiness_and_docs(server):
    with server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["documents"] == 1
        assert c.get("/docs").status_code == 200
        assert c.get("/openapi.json").json()["info"]["title"] == "policyqa"
        assert c.get("/ui/").status_code == 200
        missing = c.get("/v1/missing")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_answer_citation_links_download_the_pdf(server):
    with server.client() as c:
        response = c.post("/v1/answer", json={"question": MATERIALS_Q})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert not answer["abstained"] and "12" in answer["answer"]
        assert answer["citations"]
        assert any(cite["page"] == 16 for cite in answer["citations"])
        for cite in answer["citations"]:
            assert cite["url"] == f"/v1/documents/{cite['doc_id']}/pdf#page={cite['page']}"
            pdf = c.get(cite["url"])  # httpx drops the #fragment, as browsers do
            assert pdf.status_code == 200
            assert pdf.headers["content-type"] == "application/pdf"
            assert pdf.headers["content-disposition"].startswith("inline")
            assert pdf.content == DECK_PDF.read_bytes()


def test_the_server_keeps_answering_while_an_upload_is_ingested(server):
    """The upload's request returns once the file is saved; a background worker ingests the 93-page
    real government PDF (several seconds of CPU on two cores) while the server keeps serving. Were
    the ingest in the request path or on the event loop, the probes would wait for all of it."""
    health, reads = [], []
    with server.client() as c:
        started = time.perf_counter()
        accepted = post_upload(c, LONG_PDF, headers=AUTH, filename="rules.pdf", doc_id="deck-copy")
        accepted_s = time.perf_counter() - started
        assert accepted.status_code == 202, accepted.text
        while True:
            job = c.get(accepted.headers["location"], headers=AUTH).json()
            if job["status"] in FINISHED:
                break
            t = time.perf_counter()
            assert c.get("/healthz").status_code == 200
            health.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert c.get(f"/v1/documents/{DECK_ID}").status_code == 200
            reads.append(time.perf_counter() - t)
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    assert job["status"] == "succeeded", job
    assert job["document"]["pages"] == 93 and job["result"]["status"] == "added"
    print(
        f"\nupload accepted in {accepted_s * 1000:.0f} ms, ingested after {seconds:.1f} s; during it "
        f"/healthz max {max(health) * 1000:.0f} ms, document reads max {max(reads) * 1000:.0f} ms "
        f"({len(health)} probes)"
    )
    assert accepted_s < 5.0, "the request waited for more than saving the file"
    assert seconds > 2.0, "the upload was too quick to overlap with the probes"
    assert len(health) >= 5
    # Python threads share the GIL with the ingest, so probes slow down a little, but never by the ingest
    assert max(health) < min(2.0, seconds / 3), health
    assert max(reads) < min(2.5, seconds / 2), reads
    with server.client() as c:
        assert {d["doc_id"] for d in c.get("/v1/documents").json()} == {DECK_ID, "deck-copy"}
        assert c.delete("/v1/documents/deck-copy", headers=AUTH).json()["file_removed"] is True
