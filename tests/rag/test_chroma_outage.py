"""The API over a real `chroma run` server that goes away and comes back.

While Chroma is down (stopped, or hung without answering) every endpoint that needs the index
answers 503 in the error shape within about POLICYQA_CHROMA_TIMEOUT_S, /healthz stays 200, and
once Chroma is back (same path and port) answers resume on the next request, without restarting
the app. An app (and a `policyqa serve` process) can also start while Chroma is down.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from fastapi.testclient import TestClient
from test_api_serve import ServeProcess, serve_env

from core.settings import Settings
from ingest.pipeline import Ingestor
from policyqa.api import create_app
from rag.service import PolicyQA

pytestmark = pytest.mark.slow

TIMEOUT_S = 1.0
DOC_ID = "grid-memo"
PAGES = [
    "送電網の強靱化に関する検討メモ\n\n本メモは、災害時の送電網の強靱化策をまとめたものである。",
    "地域間連系線の容量を2030年度までに1.5倍に増強する。変電所の浸水対策は優先度の高い順に実施する。",
]
QUESTION = "地域間連系線の容量はどこまで増強しますか"


def assert_unavailable(response, started: float, limit_s: float) -> None:
    elapsed = time.perf_counter() - started
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert set(response.json()) == {"error"} and error["code"] == "store_unavailable"
    assert "chroma" in error["message"].lower()
    assert elapsed < limit_s, f"took {elapsed:.2f} s"


def calls(c: TestClient):
    """Every kind of request that needs the index."""
    yield "answer", lambda: c.post("/v1/answer", json={"question": QUESTION})
    yield "stream", lambda: c.post("/v1/answer/stream", json={"question": QUESTION})
    yield "search", lambda: c.post("/v1/search", json={"query": "連系線"})
    yield "documents", lambda: c.get("/v1/documents")
    yield "document", lambda: c.get(f"/v1/documents/{DOC_ID}")
    yield "page", lambda: c.get(f"/v1/documents/{DOC_ID}/pages/2")
    yield "pdf", lambda: c.get(f"/v1/documents/{DOC_ID}/pdf")
    yield "readyz", lambda: c.get("/readyz")


@pytest.fixture
def served(chroma_server, embedder, make_pdf, tmp_path):
    corpus = tmp_path / "corpus"
    make_pdf(corpus / f"{DOC_ID}.pdf", PAGES, title="送電網メモ")
    settings = Settings(
        data_dir=tmp_path / "data",
        corpus_dir=corpus,
        chroma_url=chroma_server.url,
        chroma_timeout_s=TIMEOUT_S,
    )
    service = PolicyQA(settings, embedder=embedder)
    report = Ingestor(settings, service.store, service.embedder, service.tokenizer).run()
    assert report.ok, report.to_dict()
    with TestClient(create_app(settings, service)) as c:
        yield c


def answers_from_the_memo(c: TestClient) -> bool:
    response = c.post("/v1/answer", json={"question": QUESTION})
    assert response.status_code == 200, response.text
    return any(cite["doc_id"] == DOC_ID and cite["page"] == 2 for cite in response.json()["citations"])


def test_stopped_chroma_gives_503_and_answers_resume_when_it_is_back(served, chroma_server):
    c = served
    assert answers_from_the_memo(c)
    chroma_server.stop()
    for _name, call in calls(c):
        started = time.perf_counter()
        assert_unavailable(call(), started, limit_s=TIMEOUT_S + 1.0)
    assert c.get("/healthz").json() == {"status": "ok"}  # liveness does not depend on Chroma

    chroma_server.start()  # same path, same port
    started = time.perf_counter()
    assert answers_from_the_memo(c)  # the very first request after the restart
    print(f"\nfirst answer after Chroma came back: {(time.perf_counter() - started) * 1000:.0f} ms")
    assert c.get("/readyz").json()["documents"] == 1
    for name, call in calls(c):
        assert call().status_code == 200, name


def test_hung_chroma_times_out_instead_of_hanging(served, chroma_server):
    """A server that accepts connections but never answers (SIGSTOP) must not hang requests."""
    c = served
    assert answers_from_the_memo(c)
    os.kill(chroma_server.proc.pid, signal.SIGSTOP)
    try:
        for _ in range(2):  # the second request reconnects: that must be bounded too
            for name in ("answer", "readyz"):
                call = dict(calls(c))[name]
                started = time.perf_counter()
                assert_unavailable(call(), started, limit_s=3 * TIMEOUT_S + 1.5)
    finally:
        os.kill(chroma_server.proc.pid, signal.SIGCONT)
    assert answers_from_the_memo(c)
    assert c.get("/readyz").status_code == 200


def test_stream_reports_an_outage_before_streaming(served, chroma_server):
    chroma_server.stop()
    response = served.post("/v1/answer/stream", json={"question": QUESTION})
    assert response.status_code == 503 and response.headers["content-type"].startswith("application/json")
    chroma_server.start()
    response = served.post("/v1/answer/stream", json={"question": QUESTION})
    assert response.status_code == 200 and "event: answer" in response.text


def test_the_app_starts_while_chroma_is_down(chroma_server, embedder, tmp_path):
    chroma_server.stop()
    settings = Settings(
        data_dir=tmp_path / "data",
        corpus_dir=tmp_path,
        chroma_url=chroma_server.url,
        chroma_timeout_s=TIMEOUT_S,
    )
    started = time.perf_counter()
    app = create_app(settings, PolicyQA(settings, embedder=embedder))
    assert time.perf_counter() - started < 30
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        assert_unavailable(c.get("/readyz"), time.perf_counter(), limit_s=TIMEOUT_S + 1.0)
        chroma_server.start()
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["documents"] == 0
        assert c.post("/v1/answer", json={"question": QUESTION}).json()["abstained"] is True


def test_a_serve_process_starts_while_chroma_is_down(chroma_server, tmp_path):
    """The same through `policyqa serve`: it comes up not ready, and is ready once Chroma is."""
    chroma_server.stop()
    workdir = tmp_path / "replica"
    workdir.mkdir()
    env = serve_env(
        workdir / "data",
        tmp_path,
        POLICYQA_CHROMA_URL=chroma_server.url,
        POLICYQA_CHROMA_TIMEOUT_S=str(TIMEOUT_S),
    )
    replica = ServeProcess(env, workdir, name="cold")
    try:
        replica.start()
        with replica.client() as c:
            not_ready = c.get("/readyz")
            assert not_ready.status_code == 503 and not_ready.json()["error"]["code"] == "store_unavailable"
            assert c.post("/v1/answer", json={"question": QUESTION}).status_code == 503
            chroma_server.start()
            ready = c.get("/readyz")
            assert ready.status_code == 200 and ready.json()["documents"] == 0, ready.text
            empty = c.post("/v1/answer", json={"question": QUESTION})
            assert empty.status_code == 200 and empty.json()["abstained"] is True
    finally:
        replica.stop()
    assert "starting without the index" in replica.log.read_text(errors="replace")
