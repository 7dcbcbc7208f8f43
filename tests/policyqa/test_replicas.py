"""Chroma server mode end to end: one `chroma run` server, one ingest process, two API replicas.

* `policyqa ingest` (a separate process) loads the deck into the server;
* two `policyqa serve` processes, each with its own data folder, serve from that server and give
  identical answers;
* a PDF uploaded through replica A is answered from by replica B on B's next request after A's
  upload job has finished: every
  request reads the registry revision (one small Chroma read), so there is no cache to expire.
  The measured propagation time is printed (run with -s) and bounded by PROPAGATION_BOUND_S;
* a delete through B disappears from A just as fast.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPUS, DECK_ID, DECK_PDF
from test_api_serve import ServeProcess, serve_env, tail
from uploading import upload_and_wait

pytestmark = pytest.mark.slow

TOKEN = "replica-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUESTIONS = [
    "特定重要物資はいくつ指定されていますか",
    "経済安全保障推進法はいつ成立しましたか",
    "半導体のサプライチェーン強靱化のための取組は？",
    "How many specified critical products are designated?",
    "2026年度の診療報酬改定の改定率は？",  # out of corpus: both must abstain alike
]
NEW_ID = "water-supply-memo"
NEW_PAGES = [
    "上水道の耐震化に関する検討メモ\n\n本メモは、上水道施設の耐震化の進め方をまとめたものである。",
    "浄水場の耐震化率を2030年度までに85%へ引き上げる。配水池の耐震化は優先度の高い順に実施する。",
]
NEW_Q = "浄水場の耐震化率の目標は？"
PROPAGATION_BOUND_S = 5.0


def comparable(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def cites(answer: dict, doc_id: str) -> bool:
    return any(c["doc_id"] == doc_id for c in answer["citations"])


def test_two_replicas_share_one_chroma_server(chroma_server, make_pdf, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DECK_PDF, corpus / DECK_PDF.name)
    shutil.copy(CORPUS / "manifest.toml", corpus / "manifest.toml")
    shared = {
        "POLICYQA_CHROMA_URL": chroma_server.url,
        "POLICYQA_ADMIN_TOKEN": TOKEN,
        "POLICYQA_CHROMA_TIMEOUT_S": "10",
    }

    # one process ingests ...
    ingest_dir = tmp_path / "ingest"
    ingest_dir.mkdir()
    ingest = subprocess.run(
        [str(Path(sys.executable).with_name("policyqa")), "ingest", "--json"],
        env=serve_env(ingest_dir / "data", corpus, **shared),
        cwd=ingest_dir,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    assert [f["status"] for f in json.loads(ingest.stdout)["files"]] == ["added"]
    assert not (ingest_dir / "data" / "chroma").exists()  # the index lives on the server only

    # ... two others serve, each with its own data folder
    replicas = []
    for name in ("a", "b"):
        workdir = tmp_path / f"replica-{name}"
        workdir.mkdir()
        replicas.append(ServeProcess(serve_env(workdir / "data", corpus, **shared), workdir, name=name))
    try:
        for replica in replicas:
            replica.launch()
        for replica in replicas:
            replica.wait_until_up()
        a, b = (r.client() for r in replicas)
        with a, b:
            for c in (a, b):
                ready = c.get("/readyz")
                assert ready.status_code == 200 and ready.json()["documents"] == 1, ready.text
            assert a.get("/readyz").json()["revision"] == b.get("/readyz").json()["revision"]

            for question in QUESTIONS:
                from_a = a.post("/v1/answer", json={"question": question})
                from_b = b.post("/v1/answer", json={"question": question})
                assert from_a.status_code == from_b.status_code == 200, (from_a.text, from_b.text)
                assert comparable(from_a.json()) == comparable(from_b.json()), question
            assert not a.post("/v1/answer", json={"question": QUESTIONS[0]}).json()["abstained"]
            assert a.get("/v1/documents").json() == b.get("/v1/documents").json()

            # the new document is unknown to both
            assert not cites(b.post("/v1/answer", json={"question": NEW_Q}).json(), NEW_ID)

            pdf = make_pdf(tmp_path / "upload" / "memo.pdf", NEW_PAGES, title="上水道メモ")
            job = upload_and_wait(a, pdf, headers=AUTH, doc_id=NEW_ID)
            assert job["status"] == "succeeded" and job["result"]["status"] == "added", job
            uploaded_at = time.perf_counter()

            polls = 0
            while True:
                polls += 1
                answer = b.post("/v1/answer", json={"question": NEW_Q}).json()
                if cites(answer, NEW_ID):
                    break
                assert time.perf_counter() - uploaded_at < PROPAGATION_BOUND_S, (
                    f"replica B did not see the upload within {PROPAGATION_BOUND_S} s:\n{tail(replicas[1].log)}"
                )
                time.sleep(0.05)
            propagation = time.perf_counter() - uploaded_at
            print(f"\nupload on A answered by B after {propagation * 1000:.0f} ms ({polls} request(s))")
            assert polls == 1, "B should answer from the upload on its very next request"
            assert answer["citations"][0]["doc_id"] == NEW_ID and answer["citations"][0]["page"] == 2
            assert comparable(answer) == comparable(a.post("/v1/answer", json={"question": NEW_Q}).json())
            assert b.get(f"/v1/documents/{NEW_ID}/pages/2").json()["text"].startswith("浄水場の耐震化率")

            # The index records the absolute path of A's copy. Both replicas run on this one machine, so
            # B can read it too; replicas on separate hosts need the uploads folder on shared storage
            # (docs/deployment.md), else B answers 404 file_missing (tested in test_api_routes.py).
            upload_path = job["files"][0]["path"]
            assert upload_path.startswith(str(replicas[0].workdir / "data" / "uploads"))
            assert a.get(f"/v1/documents/{NEW_ID}/pdf").content == pdf.read_bytes()
            assert b.get(f"/v1/documents/{NEW_ID}/pdf").content == pdf.read_bytes()
            assert b.get(f"/v1/documents/{DECK_ID}/pdf").status_code == 200

            # a delete through B is gone from A at once (B leaves A's file alone: not in B's uploads folder)
            deleted = b.delete(f"/v1/documents/{NEW_ID}", headers=AUTH)
            assert deleted.status_code == 200 and deleted.json()["file_removed"] is False
            assert Path(upload_path).exists()
            assert a.get(f"/v1/documents/{NEW_ID}").status_code == 404
            assert not cites(a.post("/v1/answer", json={"question": NEW_Q}).json(), NEW_ID)
            assert a.get("/readyz").json()["documents"] == b.get("/readyz").json()["documents"] == 1
    finally:
        for replica in replicas:
            replica.stop()
    for replica in replicas:
        assert "Traceback" not in replica.log.read_text(errors="replace"), tail(replica.log)
