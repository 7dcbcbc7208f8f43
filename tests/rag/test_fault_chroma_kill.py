"""Chroma killed (SIGKILL) under load, and brought back, while a real `policyqa serve` keeps running.

`policyqa serve` runs against a `chroma run` server (POLICYQA_CHROMA_URL) with a short
POLICYQA_CHROMA_TIMEOUT_S. Concurrent clients send /v1/answer without pause (evals.load); in the
middle, the Chroma process is SIGKILLed (no shutdown of any kind), left down for a few seconds,
then started again on the same path and port. The test proves that

* every request gets an HTTP response before the client's timeout (nothing hangs), and the
  only statuses are 200 and 503;
* every request made while Chroma is down is a 503 with the error shape
  {"error": {"code": "store_unavailable", "message": ...}};
* after the restart the same server process answers again (no restart of the app), from the
  data Chroma had before it was killed.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest
from test_api_serve import ServeProcess, serve_env

from core.settings import Settings
from evals.load import Sample, run_load
from ingest.pipeline import Ingestor
from rag.service import PolicyQA

pytestmark = pytest.mark.slow

CHROMA_TIMEOUT_S = 1.0
CLIENT_TIMEOUT_S = 10.0  # far above what any request may take; a request that needs it has hung
CLIENTS = 6
HEALTHY_S, OUTAGE_S, AFTER_S = 4.0, 5.0, 10.0
RECOVERY_BOUND_S = 5.0  # after Chroma answers its heartbeat again, answers resume within this
DOC_ID = "grid-memo"
PAGES = [
    "送電網の強靱化に関する検討メモ\n\n本メモは、災害時の送電網の強靱化策をまとめたものである。",
    "地域間連系線の容量を2030年度までに1.5倍に増強する。変電所の浸水対策は優先度の高い順に実施する。",
    "蓄電池の導入\n\n系統用蓄電池を2030年度までに累計で2.4GW導入する。導入費用の一部を補助する。",
]
QUESTIONS = [
    "地域間連系線の容量はどこまで増強しますか",
    "系統用蓄電池の導入目標は？",
    "変電所の浸水対策はどう進めますか",
]


def test_chroma_sigkill_under_load_gives_503s_then_recovers(chroma_server, embedder, make_pdf, tmp_path):
    corpus = tmp_path / "corpus"
    make_pdf(corpus / f"{DOC_ID}.pdf", PAGES, title="送電網メモ")
    settings = Settings(data_dir=tmp_path / "ingest-data", corpus_dir=corpus, chroma_url=chroma_server.url)
    service = PolicyQA(settings, embedder=embedder)
    assert Ingestor(settings, service.store, service.embedder, service.tokenizer).run().ok

    workdir = tmp_path / "serve"
    workdir.mkdir()
    server = ServeProcess(
        serve_env(
            workdir / "data",
            corpus,
            POLICYQA_CHROMA_URL=chroma_server.url,
            POLICYQA_CHROMA_TIMEOUT_S=str(CHROMA_TIMEOUT_S),
        ),
        workdir,
    )
    try:
        server.start()
        pid = server.proc.pid
        with server.client() as c:
            assert c.get("/readyz").status_code == 200
            assert (
                c.post("/v1/answer", json={"question": QUESTIONS[0]}).json()["citations"][0]["doc_id"]
                == DOC_ID
            )

        stop = threading.Event()
        outcome: dict = {}
        loader = threading.Thread(
            target=lambda: outcome.setdefault(
                "result",
                run_load(
                    server.url,
                    QUESTIONS,
                    clients=CLIENTS,
                    seconds=HEALTHY_S + OUTAGE_S + AFTER_S + 120,
                    timeout_s=CLIENT_TIMEOUT_S,
                    keep_bodies=True,
                    stop=stop,
                ),
            ),
            daemon=True,
        )
        loader.start()
        try:
            time.sleep(HEALTHY_S)
            killed_at = time.monotonic()
            os.kill(chroma_server.proc.pid, signal.SIGKILL)
            chroma_server.proc.wait(10)
            chroma_server.proc = None
            time.sleep(OUTAGE_S)
            restart_at = time.monotonic()
            chroma_server.start()  # same path, same port; returns once the heartbeat answers
            up_at = time.monotonic()
            time.sleep(AFTER_S)
        finally:
            stop.set()
            loader.join(CLIENT_TIMEOUT_S + 30)
        assert not loader.is_alive(), "the load generator did not stop"
        result = outcome["result"]
        samples: list[Sample] = result.samples

        # Nothing hung, nothing but 200 and 503.
        assert all(s.status is not None for s in samples), [s.error for s in samples if s.status is None][:5]
        assert {s.status for s in samples} <= {200, 503}, result.statuses
        assert max(s.ms for s in samples) < CLIENT_TIMEOUT_S * 1000

        before = [s for s in samples if s.started + s.ms / 1000 < killed_at]
        down = [s for s in samples if s.started > killed_at + 0.5 and s.started + s.ms / 1000 < restart_at]
        after = [s for s in samples if s.started > up_at + RECOVERY_BOUND_S]
        assert before and all(s.status == 200 for s in before), result.statuses
        assert len(down) >= CLIENTS, f"only {len(down)} requests during the outage"
        for s in down:
            assert s.status == 503, (s.status, s.body)
            assert set(s.body) == {"error"} and set(s.body["error"]) >= {"code", "message"}, s.body
            assert (
                s.body["error"]["code"] == "store_unavailable"
                and "chroma" in s.body["error"]["message"].lower()
            )
        unavailable = [s.ms for s in samples if s.status == 503]
        assert max(unavailable) < (3 * CHROMA_TIMEOUT_S + 2) * 1000, f"slow 503: {max(unavailable):.0f} ms"
        assert after, "no requests after the restart"
        assert all(s.status == 200 for s in after), [(s.status, s.body) for s in after if s.status != 200][:3]
        assert all(any(c["doc_id"] == DOC_ID for c in s.body["citations"]) for s in after)
        first_ok = min(s.started + s.ms / 1000 for s in samples if s.started > up_at and s.status == 200)
        print(
            f"\n{result.requests} requests: {result.statuses}; {len(down)} during the outage "
            f"(503 p95 {sorted(unavailable)[int(0.95 * (len(unavailable) - 1))]:.0f} ms); first 200 "
            f"{first_ok - up_at:.2f} s after Chroma was back"
        )

        # The same process, still serving: ready, and answering from the data Chroma had before.
        assert server.proc.poll() is None and server.proc.pid == pid
        ready = httpx.get(f"{server.url}/readyz", timeout=CLIENT_TIMEOUT_S)
        assert ready.status_code == 200 and ready.json()["documents"] == 1, ready.text
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
