"""Every HTTP endpoint through FastAPI's TestClient, success and failure.

Read-only tests share one app over the session's ingested deck (no admin token: uploads are
disabled there). Tests that upload, delete or write feedback get their own copy of the deck's
index in a temporary data folder and an admin token. An upload is answered 202 with a job; the
tests poll the job until it is done (``tests/uploading.py``); the jobs themselves (``GET
/v1/jobs/{id}``, 401/403/404, a full queue's 429) have their own section.
"""

from __future__ import annotations

import json
import random
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import DECK_ID
from fastapi.testclient import TestClient
from uploading import finished_job, post_upload

from core.errors import EmbedderMismatch, StorageFailure, StoreUnavailable
from core.settings import Settings
from policyqa.api import create_app
from rag.answer import Source
from rag.followups import Turn
from rag.service import PolicyQA

TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MATERIALS_Q = "特定重要物資はいくつ指定されていますか"
MATERIALS_PAGE = 16
DOC_FIELDS = {
    "doc_id",
    "title",
    "date",
    "publisher",
    "pages",
    "chunks",
    "sha256",
    "ingested_at",
    "landing_page",
    "licence",
}

MEMO_ID = "harbour-memo"
MEMO_PAGES = [
    "港湾物流の強靱化に関する検討メモ\n\n本メモは、災害に備えた港湾物流の強靱化策をまとめたものである。",
    "緊急物資の保管は、複数の港湾に分散して設ける備蓄倉庫で行う。備蓄倉庫の点検は年二回とする。",
]
MEMO_Q = "緊急物資の備蓄倉庫はどのように設けますか"


def assert_error(response, status: int, code: str | None = None, *words: str) -> dict:
    """The one error shape: {"error": {"code", "message"}} with a useful message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    for word in words:
        assert word.lower() in body["error"]["message"].lower(), body
    return body["error"]


def sse_events(text: str) -> list[tuple[str, object]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def without_timings(answer: dict) -> dict:
    answer = dict(answer)
    answer.pop("timings_ms")
    answer["citations"] = [{k: v for k, v in c.items() if k != "url"} for c in answer["citations"]]
    return answer


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def client(deck_settings, deck_service) -> Iterator[TestClient]:
    """The deck, read-only, uploads disabled (no admin token)."""
    assert deck_settings.admin_token is None
    with TestClient(create_app(deck_settings, deck_service)) as c:
        yield c


@dataclass
class Admin:
    client: TestClient
    settings: Settings
    service: PolicyQA

    def upload(
        self, path_or_bytes, filename: str | None = None, doc_id: str | None = None, headers=AUTH, **form
    ):
        """The answer to the POST itself: 202 with a job, or an error found before any ingest."""
        return post_upload(
            self.client, path_or_bytes, headers=headers, filename=filename, doc_id=doc_id, **form
        )

    def job(self, path_or_bytes, filename: str | None = None, doc_id: str | None = None, **form) -> dict:
        """Upload and wait: the finished job (succeeded or failed)."""
        return finished_job(self.client, self.upload(path_or_bytes, filename, doc_id, **form), headers=AUTH)

    def ingested(self, path_or_bytes, filename: str | None = None, doc_id: str | None = None, **form) -> dict:
        """Upload and wait for a job that must succeed; its result (status, pages, chunks)."""
        job = self.job(path_or_bytes, filename, doc_id, **form)
        assert job["status"] == "succeeded" and job["error"] is None, job
        return job["result"]

    def failed(self, path_or_bytes, doc_id: str | None = None) -> dict:
        """Upload and wait for a job that must fail; its error (code, message)."""
        job = self.job(path_or_bytes, doc_id=doc_id)
        assert job["status"] == "failed" and job["result"] is None and job["document"] is None, job
        assert set(job["error"]) <= {"code", "message", "details"} and job["error"]["message"], job
        return job["error"]

    def doc_ids(self) -> list[str]:
        response = self.client.get("/v1/documents")
        assert response.status_code == 200
        return [d["doc_id"] for d in response.json()]

    def upload_folder_files(self) -> list[str]:
        folder = self.settings.uploads_dir
        """Every file under the uploads folder (staged files included, so leftovers show)."""
        return (
            sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
            if folder.exists()
            else []
        )


def _admin_app(deck_settings, embedder, tmp_path: Path, **overrides) -> Admin:
    data = tmp_path / "data"
    shutil.copytree(deck_settings.data_dir, data)
    settings = Settings(data_dir=data, corpus_dir=deck_settings.corpus_dir, admin_token=TOKEN, **overrides)
    service = PolicyQA(settings, embedder=embedder)
    # The admin routes need no chat: leaving Gradio out saves ~0.4 s per test.
    return Admin(TestClient(create_app(settings, service, with_ui=False)), settings, service)


@pytest.fixture
def admin(deck_settings, embedder, tmp_path) -> Iterator[Admin]:
    """A private copy of the deck's index, with an admin token configured."""
    app = _admin_app(deck_settings, embedder, tmp_path)
    with app.client:
        yield app


@pytest.fixture(scope="module")
def memo_pdf(make_pdf, tmp_path_factory) -> Path:
    return make_pdf(tmp_path_factory.mktemp("memo") / "memo.pdf", MEMO_PAGES, title="港湾物流メモ")


@pytest.fixture(scope="module")
def bad_files(make_pdf, tmp_path_factory) -> dict[str, Path]:
    """One file per way an upload can be unusable, keyed by the error code it must get."""
    from PIL import Image
    from pypdf import PdfWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder = tmp_path_factory.mktemp("bad")
    files = {
        "encrypted": make_pdf(folder / "locked.pdf", ["秘密の資料\n\n内容は非公開である。"], password="pw")
    }
    rng = random.Random(7)
    files["corrupt"] = folder / "garbage.pdf"
    files["corrupt"].write_bytes(b"%PDF-1.4\n" + bytes(rng.randrange(256) for _ in range(6000)))
    whole = make_pdf(folder / "whole.bin", ["途中で切れた資料\n\n" + "本文" * 200] * 3).read_bytes()
    files["truncated"] = folder / "half.pdf"
    files["truncated"].write_bytes(whole[: len(whole) // 2])
    files["no_pages"] = folder / "zero.pdf"
    with open(files["no_pages"], "wb") as fh:
        PdfWriter().write(fh)
    files["not_pdf"] = folder / "notes.pdf"
    files["not_pdf"].write_text("これはPDFではありません。\n", encoding="utf-8")
    png = folder / "picture.png"
    Image.new("RGB", (60, 40), (30, 60, 200)).save(png)
    files["not_pdf_png"] = folder / "photo.pdf"
    files["not_pdf_png"].write_bytes(png.read_bytes())
    files["no_text"] = folder / "scanned.pdf"
    pdf = canvas.Canvas(str(files["no_text"]), pagesize=A4, invariant=1)
    pdf.drawImage(str(png), 100, 400, width=360, height=240)
    pdf.showPage()
    pdf.save()
    files["empty_file"] = folder / "empty.pdf"
    files["empty_file"].write_bytes(b"")
    return files


# ---------------------------------------------------------------------------- answer


def test_answer_cites_pages_and_links_to_the_pdf(client):
    response = client.post("/v1/answer", json={"question": MATERIALS_Q})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["abstained"] is False and answer["mode"] == "extractive"
    assert "12" in answer["answer"]
    assert any(c["page"] == MATERIALS_PAGE for c in answer["citations"])
    for citation in answer["citations"]:
        assert (
            citation["url"]
            == f"/v1/documents/{quote(citation['doc_id'], safe='')}/pdf#page={citation['page']}"
        )
    pdf = client.get(answer["citations"][0]["url"].split("#")[0])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_answer_is_exactly_what_the_service_answers(client, deck_service):
    """The API is a thin shell over PolicyQA.answer(): same answer, citations, sources and confidence."""
    for body in (
        {"question": MATERIALS_Q},
        {"question": "経済安全保障推進法はいつ成立しましたか", "top_k": 3, "documents": [DECK_ID]},
    ):
        api = client.post("/v1/answer", json=body).json()
        direct = deck_service.answer(
            body["question"], top_k=body.get("top_k"), documents=body.get("documents")
        )
        assert without_timings(api) == without_timings(direct.model_dump())
    assert len(client.post("/v1/answer", json={"question": MATERIALS_Q, "top_k": 3}).json()["sources"]) <= 3


def test_a_follow_up_is_answered_with_the_conversation_and_says_what_it_was_about(client, deck_service):
    history = [{"question": "特定重要物資は何？", "answer": "…"}]
    api = client.post("/v1/answer", json={"question": "いつ指定された？", "history": history}).json()
    assert api["understood_as"] == "特定重要物資 いつ指定された？"
    assert api["answer"].startswith("（特定重要物資について）")
    direct = deck_service.answer("いつ指定された？", history=[Turn("特定重要物資は何？", "…")])
    assert without_timings(api) == without_timings(direct.model_dump())
    alone = client.post("/v1/answer", json={"question": MATERIALS_Q, "history": history}).json()
    assert alone["understood_as"] is None  # a question that stands on its own is not changed


def test_the_viewer_page_and_pdfjs_are_served_by_the_app(client):
    page = client.get(f"/viewer/?doc={DECK_ID}&page=19&quote=x")
    assert page.status_code == 200 and 'type="module"' in page.text and "cdn" not in page.text.lower()
    for script in ("app.js", "quote.js"):
        assert client.get(f"/viewer/{script}").headers["content-type"].startswith("text/javascript")
    pdfjs = client.get("/viewer/pdfjs/build/pdf.min.mjs")
    assert pdfjs.status_code == 200 and pdfjs.headers["content-type"].startswith("text/javascript")
    assert client.get("/viewer", follow_redirects=False).status_code == 307


def test_answer_abstains_out_of_corpus(client):
    answer = client.post("/v1/answer", json={"question": "2026年度の診療報酬改定の改定率は？"}).json()
    assert answer["abstained"] is True and answer["citations"] == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   \n\t "}, "question"),
        ({"question": "あ" * 2001}, "question"),
        ({"question": 123}, "question"),
        ({"question": None}, "question"),
        ({"question": MATERIALS_Q, "top_k": 0}, "top_k"),
        ({"question": MATERIALS_Q, "top_k": 51}, "top_k"),
        ({"question": MATERIALS_Q, "top_k": "many"}, "top_k"),
        ({"question": MATERIALS_Q, "top_k": 2.5}, "top_k"),
        ({"question": MATERIALS_Q, "documents": DECK_ID}, "documents"),
        ({"question": MATERIALS_Q, "documents": [""]}, "documents"),
        ({"question": MATERIALS_Q, "mode": "poetry"}, "mode"),
        ({"question": MATERIALS_Q, "temperature": 0.2}, "temperature"),
        ({"question": "いつ？", "history": "特定重要物資"}, "history"),
        ({"question": "いつ？", "history": [{"answer": "…"}]}, "history"),
        ({"question": "いつ？", "history": [{"question": "a", "answer": "b", "who": "me"}]}, "history"),
        ({"question": "いつ？", "history": [{"question": "特定重要物資は何？"}] * 11}, "history"),
        (["not", "an", "object"], "body"),
    ],
)
def test_answer_validation_errors(client, body, field):
    error = assert_error(client.post("/v1/answer", json=body), 422, "validation_error")
    assert field in error["message"]
    assert any(field in ".".join(d["loc"]) for d in error["details"])


def test_answer_boundaries_are_accepted(client):
    assert client.post("/v1/answer", json={"question": "あ" * 2000}).status_code == 200
    assert client.post("/v1/answer", json={"question": MATERIALS_Q, "top_k": 50}).status_code == 200
    assert client.post("/v1/answer", json={"question": MATERIALS_Q, "top_k": 1}).status_code == 200
    assert client.post("/v1/answer", json={"question": MATERIALS_Q, "documents": []}).status_code == 200


def test_oversized_json_bodies_are_413(client):
    assert_error(client.post("/v1/answer", json={"question": "あ" * (1024 * 1024)}), 413, "too_large", "1 MB")
    assert_error(
        client.post("/v1/feedback", json={"question": "q", "answer": "x" * (2 * 1024 * 1024), "vote": "up"}),
        413,
        "too_large",
    )


def test_answer_body_must_be_json(client):
    assert_error(
        client.post("/v1/answer", content=b'{"question": ', headers={"content-type": "application/json"}),
        422,
        "validation_error",
        "json",
    )
    assert_error(
        client.post(
            "/v1/answer", content=b"question=x", headers={"content-type": "application/x-www-form-urlencoded"}
        ),
        422,
        "validation_error",
    )


def test_unknown_document_ids_are_404(client):
    for path, key in (("/v1/answer", "question"), ("/v1/search", "query"), ("/v1/answer/stream", "question")):
        error = assert_error(
            client.post(path, json={key: MATERIALS_Q, "documents": [DECK_ID, "no-such-doc"]}),
            404,
            "unknown_document",
            "no-such-doc",
        )
        assert error["details"] == {"missing": ["no-such-doc"]}


def test_llm_mode_without_an_llm_is_refused(client):
    assert_error(
        client.post("/v1/answer", json={"question": MATERIALS_Q, "mode": "llm"}),
        422,
        "llm_not_configured",
        "POLICYQA_LLM_BASE_URL",
    )
    assert client.post("/v1/answer", json={"question": MATERIALS_Q, "mode": "extractive"}).status_code == 200


# ---------------------------------------------------------------------------- stream


def test_answer_stream_sends_the_answer_then_done(client):
    response = client.post("/v1/answer/stream", json={"question": MATERIALS_Q})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert [name for name, _ in events] == ["answer", "done"]
    streamed = events[0][1]
    plain = client.post("/v1/answer", json={"question": MATERIALS_Q}).json()
    assert without_timings(streamed) == without_timings(plain)
    assert [c["url"] for c in streamed["citations"]] == [c["url"] for c in plain["citations"]]
    assert events[1][1]["total_ms"] > 0


def test_answer_stream_rejects_bad_requests_before_streaming(client):
    assert_error(client.post("/v1/answer/stream", json={"question": " "}), 422, "validation_error")
    assert_error(
        client.post("/v1/answer/stream", json={"question": MATERIALS_Q, "mode": "llm"}),
        422,
        "llm_not_configured",
    )


# ---------------------------------------------------------------------------- search


def test_search_has_the_cli_json_shape(client, deck_service):
    response = client.post("/v1/search", json={"query": "特定重要物資", "top_k": 4})
    assert response.status_code == 200
    body = response.json()
    expected = [Source.of(h).model_dump() for h in deck_service.search("特定重要物資", top_k=4)]
    assert body == {"query": "特定重要物資", "sources": expected}
    assert 1 <= len(body["sources"]) <= 4
    assert set(body["sources"][0]) == {"doc_id", "doc_title", "page", "score", "text", "chunk_id"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"query": ""},
        {"query": "  "},
        {"query": "x" * 2001},
        {"query": "半導体", "top_k": 0},
        {"query": "半導体", "top_k": 51},
        {"query": "半導体", "documents": "x"},
    ],
)
def test_search_validation_errors(client, body):
    assert_error(client.post("/v1/search", json=body), 422, "validation_error")


# ---------------------------------------------------------------------------- documents


def test_documents_list_and_detail(client):
    docs = client.get("/v1/documents").json()
    assert [d["doc_id"] for d in docs] == [DECK_ID]
    doc = docs[0]
    assert DOC_FIELDS <= set(doc)
    assert doc["title"] == "経済安全保障に関する官民連携アクション" and doc["date"] == "2025-03-16"
    assert doc["pages"] == 64 and doc["chunks"] > 0 and len(doc["sha256"]) == 64
    assert doc["pdf_url"] == f"/v1/documents/{DECK_ID}/pdf"
    assert client.get(f"/v1/documents/{DECK_ID}").json() == doc
    assert_error(client.get("/v1/documents/no-such-doc"), 404, "unknown_document", "no-such-doc")


def test_page_text(client, deck_service):
    response = client.get(f"/v1/documents/{DECK_ID}/pages/{MATERIALS_PAGE}")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "doc_id": DECK_ID,
        "page": MATERIALS_PAGE,
        "text": deck_service.page_text(DECK_ID, MATERIALS_PAGE),
    }
    assert "12の特定重要物資" in body["text"]
    assert client.get(f"/v1/documents/{DECK_ID}/pages/64").status_code == 200
    for page in (0, 65, -1, 10**9):
        assert_error(client.get(f"/v1/documents/{DECK_ID}/pages/{page}"), 404, "unknown_page", "1-64")
    assert_error(client.get("/v1/documents/no-such-doc/pages/1"), 404, "unknown_document")
    assert_error(client.get(f"/v1/documents/{DECK_ID}/pages/first"), 422, "validation_error", "page")


def test_pdf_is_served_inline(client, deck_settings):
    response = client.get(f"/v1/documents/{DECK_ID}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.content == (deck_settings.corpus_dir / f"{DECK_ID}.pdf").read_bytes()
    assert_error(client.get("/v1/documents/no-such-doc/pdf"), 404, "unknown_document")


def test_head_on_a_pdf_or_page_is_the_get_without_its_body(client, deck_settings):
    size = (deck_settings.corpus_dir / f"{DECK_ID}.pdf").stat().st_size
    pdf = client.head(f"/v1/documents/{DECK_ID}/pdf")
    assert pdf.status_code == 200 and pdf.content == b""
    assert pdf.headers["content-type"] == "application/pdf" and int(pdf.headers["content-length"]) == size
    page = client.head(f"/v1/documents/{DECK_ID}/pages/16")
    assert page.status_code == 200 and page.content == b""
    assert client.head("/v1/documents/no-such-doc/pdf").status_code == 404
    assert "/v1/documents/{doc_id}/pdf" in client.get("/openapi.json").json()["paths"]
    assert "head" not in client.get("/openapi.json").json()["paths"]["/v1/documents/{doc_id}/pdf"]


def test_pdf_of_a_vanished_file_is_404(admin, memo_pdf):
    assert admin.ingested(memo_pdf, doc_id=MEMO_ID)["status"] == "added"
    (admin.settings.uploads_dir / f"{MEMO_ID}.pdf").unlink()
    assert_error(admin.client.get(f"/v1/documents/{MEMO_ID}/pdf"), 404, "file_missing", MEMO_ID)
    assert (
        admin.client.get(f"/v1/documents/{MEMO_ID}/pages/2").status_code == 200
    )  # the text is still indexed


# ---------------------------------------------------------------------------- health, routing, docs


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["documents"] == 1


def test_unknown_route_and_wrong_method_use_the_error_shape(client):
    assert_error(client.get("/v1/nothing-here"), 404, "not_found", "/v1/nothing-here")
    assert_error(client.post("/nope", json={}), 404, "not_found")
    error = client.get("/v1/answer")
    assert_error(error, 405, "method_not_allowed", "POST")
    assert "POST" in error.headers["allow"]
    assert_error(client.put(f"/v1/documents/{DECK_ID}"), 405, "method_not_allowed")


def test_openapi_docs_have_examples_and_error_shapes(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/v1/answer",
        "/v1/answer/stream",
        "/v1/search",
        "/v1/documents",
        "/v1/documents/{doc_id}",
        "/v1/documents/{doc_id}/pages/{page}",
        "/v1/documents/{doc_id}/pdf",
        "/v1/feedback",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
    answer = paths["/v1/answer"]["post"]
    assert "japanese" in answer["requestBody"]["content"]["application/json"]["examples"]
    assert answer["responses"]["200"]["content"]["application/json"]["example"]["citations"][0]["page"] == 16
    assert answer["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorResponse"
    )
    assert "text/event-stream" in paths["/v1/answer/stream"]["post"]["responses"]["200"]["content"]
    upload = paths["/v1/documents"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"202", "401", "403", "409", "413", "415", "422", "429"} <= set(upload["responses"])
    assert "201" not in upload["responses"] and "200" not in upload["responses"]
    assert upload["responses"]["202"]["content"]["application/json"]["example"]["status"] == "queued"
    assert "Location" in upload["responses"]["202"]["headers"]
    assert upload["security"] == [{"AdminToken": []}]
    job = paths["/v1/jobs/{job_id}"]["get"]
    assert job["security"] == [{"AdminToken": []}] and {"200", "401", "403", "404"} <= set(job["responses"])
    examples = job["responses"]["200"]["content"]["application/json"]["examples"]
    assert {e["value"]["status"] for e in examples.values()} == {"queued", "succeeded", "failed"}
    assert "examples" in schema["components"]["schemas"]["AnswerRequest"]


# ---------------------------------------------------------------------------- error mapping


def test_index_outage_and_embedder_mismatch_are_503(client, deck_service, monkeypatch):
    def down(*args, **kwargs):
        raise StoreUnavailable("Chroma server at http://127.0.0.1:9 is unreachable: ConnectError")

    def mismatch(*args, **kwargs):
        raise EmbedderMismatch("the index was built with embedder 'x'")

    monkeypatch.setattr(deck_service.store, "snapshot", down)
    response = client.post("/v1/answer", json={"question": MATERIALS_Q})
    assert_error(response, 503, "store_unavailable", "chroma")
    assert response.headers["retry-after"]
    assert_error(client.get("/readyz"), 503, "store_unavailable")
    assert_error(client.get("/v1/documents"), 503, "store_unavailable")
    monkeypatch.setattr(deck_service.store, "snapshot", mismatch)
    assert_error(client.post("/v1/search", json={"query": "半導体"}), 503, "embedder_mismatch", "embedder")

    def disk_full(*args, **kwargs):
        raise StorageFailure("the index under data/chroma cannot be written: the disk is full")

    monkeypatch.setattr(deck_service.store, "snapshot", disk_full)
    assert_error(client.get(f"/v1/documents/{DECK_ID}"), 503, "storage_failure", "disk is full")


def test_unexpected_errors_are_500_with_the_error_shape(deck_settings, deck_service, monkeypatch):
    """The last-resort handler; no other test may ever see a 500."""
    app = create_app(deck_settings, deck_service)
    monkeypatch.setattr(deck_service, "answer", lambda *a, **k: 1 / 0)
    with TestClient(app, raise_server_exceptions=False) as c:
        error = assert_error(c.post("/v1/answer", json={"question": MATERIALS_Q}), 500, "internal_error")
    assert "ZeroDivision" not in error["message"]  # no internals leak to clients


# ---------------------------------------------------------------------------- admin auth


def test_uploads_and_deletes_are_disabled_without_an_admin_token(client, memo_pdf):
    files = {"file": ("memo.pdf", memo_pdf.read_bytes(), "application/pdf")}
    for headers in ({}, AUTH, {"Authorization": "Bearer "}):
        assert_error(
            client.post("/v1/documents", files=files, headers=headers),
            403,
            "uploads_disabled",
            "POLICYQA_ADMIN_TOKEN",
        )
        assert_error(client.delete(f"/v1/documents/{DECK_ID}", headers=headers), 403, "uploads_disabled")
    assert [d["doc_id"] for d in client.get("/v1/documents").json()] == [DECK_ID]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"X-Admin-Token": TOKEN},
    ],
)
def test_wrong_or_missing_token_is_401(admin, memo_pdf, headers):
    response = admin.upload(memo_pdf, headers=headers)
    assert_error(response, 401, "unauthorized", "Bearer")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error(admin.client.delete(f"/v1/documents/{DECK_ID}", headers=headers), 401, "unauthorized")
    assert admin.doc_ids() == [DECK_ID]
    assert admin.upload_folder_files() == []


# ---------------------------------------------------------------------------- upload


def test_upload_ingests_and_answers_from_the_new_document(admin, memo_pdf):
    accepted = admin.upload(memo_pdf, doc_id=MEMO_ID)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["doc_id"] == MEMO_ID and accepted.json()["status"] in ("queued", "running")
    body = finished_job(admin.client, accepted, headers=AUTH)
    assert body["status"] == "succeeded" and body["job_id"] == accepted.json()["job_id"]
    assert body["result"]["status"] == "added" and body["result"]["pages"] == 2
    assert body["summary"]["added"] == 1 and body["summary"]["failed"] == 0
    assert body["document"]["pages"] == 2 and body["document"]["pdf_url"] == f"/v1/documents/{MEMO_ID}/pdf"
    saved = admin.settings.uploads_dir / f"{MEMO_ID}.pdf"
    assert body["files"][0]["path"] == str(saved.resolve())
    assert saved.read_bytes() == memo_pdf.read_bytes()
    assert admin.upload_folder_files() == [f"{MEMO_ID}.pdf"]  # no staging leftovers
    assert sorted(admin.doc_ids()) == sorted([DECK_ID, MEMO_ID])

    answer = admin.client.post("/v1/answer", json={"question": MEMO_Q}).json()
    assert answer["citations"] and answer["citations"][0]["doc_id"] == MEMO_ID
    assert admin.client.get(answer["citations"][0]["url"].split("#")[0]).content == memo_pdf.read_bytes()
    deck = admin.client.post("/v1/answer", json={"question": MATERIALS_Q}).json()
    assert any(c["doc_id"] == DECK_ID and c["page"] == MATERIALS_PAGE for c in deck["citations"])

    assert admin.ingested(memo_pdf, doc_id=MEMO_ID)["status"] == "unchanged"


def test_upload_of_a_new_version_replaces_the_old(admin, memo_pdf, make_pdf, tmp_path):
    assert admin.ingested(memo_pdf, doc_id=MEMO_ID)["status"] == "added"
    new = make_pdf(tmp_path / "v2.pdf", [MEMO_PAGES[0], "備蓄倉庫の点検は毎月行うこととした。"])
    assert admin.ingested(new, doc_id=MEMO_ID)["status"] == "updated"
    assert (
        admin.client.get(f"/v1/documents/{MEMO_ID}/pages/2").json()["text"].startswith("備蓄倉庫の点検は毎月")
    )
    assert admin.client.get(f"/v1/documents/{MEMO_ID}/pdf").content == new.read_bytes()


def test_uploading_a_corpus_file_again_is_unchanged_and_keeps_no_copy(admin, deck_settings):
    before = admin.client.get(f"/v1/documents/{DECK_ID}").json()
    job = admin.job(deck_settings.corpus_dir / f"{DECK_ID}.pdf")
    assert job["status"] == "succeeded" and job["doc_id"] == DECK_ID, job
    assert job["result"]["status"] == "unchanged"
    assert admin.client.get(f"/v1/documents/{DECK_ID}").json() == before
    assert admin.upload_folder_files() == []  # the live version is the corpus file; no second copy


def test_upload_takes_the_doc_id_from_the_file_name(admin, memo_pdf):
    accepted = admin.upload(memo_pdf, filename="port-memo.v2.PDF")
    assert accepted.status_code == 202 and accepted.json()["doc_id"] == "port-memo.v2"
    assert finished_job(admin.client, accepted, headers=AUTH)["status"] == "succeeded"
    japanese = admin.job(memo_pdf.read_bytes() + b"\n", filename="港湾メモ.pdf")
    assert japanese["status"] == "succeeded", japanese
    assert japanese["doc_id"] == "港湾メモ"
    assert (admin.settings.uploads_dir / "港湾メモ.pdf").exists()
    answer = admin.client.post("/v1/answer", json={"question": MEMO_Q, "documents": ["港湾メモ"]}).json()
    assert answer["citations"][0]["url"] == f"/v1/documents/{quote('港湾メモ', safe='')}/pdf#page=2"
    assert admin.client.get(answer["citations"][0]["url"].split("#")[0]).status_code == 200


def test_upload_of_a_copy_under_another_id_is_a_conflict_unless_allowed(admin, memo_pdf):
    assert admin.ingested(memo_pdf, doc_id=MEMO_ID)["status"] == "added"
    error = assert_error(admin.upload(memo_pdf, doc_id="memo-copy"), 409, "duplicate_document", MEMO_ID)
    assert error["details"] == {"duplicate_of": MEMO_ID}
    assert str(admin.settings.data_dir) not in error["message"]
    assert sorted(admin.doc_ids()) == sorted([DECK_ID, MEMO_ID])
    assert admin.upload_folder_files() == [f"{MEMO_ID}.pdf"]
    forced = admin.ingested(memo_pdf, doc_id="memo-copy", allow_duplicate=True)
    assert forced["status"] == "added"
    assert sorted(admin.doc_ids()) == sorted([DECK_ID, MEMO_ID, "memo-copy"])


BAD_UPLOAD_WORDS = {
    "encrypted": "password",
    "corrupt": "corrupt",
    "truncated": "truncated",
    "no_pages": "no pages",
    "no_text": "OCR",
    "empty_file": "empty",
    "not_pdf": "not a PDF",
    "not_pdf_png": "not a PDF",
}


@pytest.mark.parametrize(
    "kind, status",
    [("empty_file", 422), ("not_pdf", 415), ("not_pdf_png", 415)],
)
def test_uploads_that_are_no_pdf_are_refused_at_once(admin, bad_files, kind, status):
    """What the bytes show as they arrive needs no ingest: the request itself is refused."""
    before = admin.client.get("/v1/documents").json()
    error = assert_error(admin.upload(bad_files[kind], doc_id="bad-upload"), status)
    assert error["code"] == kind.removesuffix("_png")
    assert BAD_UPLOAD_WORDS[kind].lower() in error["message"].lower()
    assert admin.client.get("/v1/documents").json() == before
    assert admin.upload_folder_files() == []


@pytest.mark.parametrize("kind", ["encrypted", "corrupt", "truncated", "no_pages", "no_text"])
def test_bad_uploads_fail_their_job_and_change_nothing(admin, bad_files, kind):
    before = admin.client.get("/v1/documents").json()
    error = admin.failed(bad_files[kind], doc_id="bad-upload")
    assert error["code"] == kind
    assert BAD_UPLOAD_WORDS[kind].lower() in error["message"].lower()
    assert str(admin.settings.data_dir) not in error["message"]
    assert admin.client.get("/v1/documents").json() == before
    assert admin.upload_folder_files() == []
    assert_error(admin.client.get("/v1/documents/bad-upload"), 404, "unknown_document")
    answer = admin.client.post("/v1/answer", json={"question": MATERIALS_Q}).json()
    assert any(c["page"] == MATERIALS_PAGE for c in answer["citations"])


def test_a_bad_new_version_keeps_the_previous_one(admin, memo_pdf, bad_files):
    assert admin.ingested(memo_pdf, doc_id=MEMO_ID)["status"] == "added"
    before = admin.client.get(f"/v1/documents/{MEMO_ID}").json()
    assert admin.failed(bad_files["corrupt"], doc_id=MEMO_ID)["code"] == "corrupt"
    assert admin.client.get(f"/v1/documents/{MEMO_ID}").json() == before
    assert admin.client.get(f"/v1/documents/{MEMO_ID}/pdf").content == memo_pdf.read_bytes()
    assert admin.upload_folder_files() == [f"{MEMO_ID}.pdf"]


def test_upload_size_limit(deck_settings, embedder, tmp_path, memo_pdf):
    app = _admin_app(deck_settings, embedder, tmp_path, max_upload_mb=1)
    with app.client:
        just_over = (
            memo_pdf.read_bytes() + b"\n%" + b"x" * (1024 * 1024)
        )  # file > 1 MB, body within the slack
        assert_error(app.upload(just_over, doc_id="big"), 413, "too_large", "1 MB", "POLICYQA_MAX_UPLOAD_MB")
        far_over = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)  # rejected from its Content-Length, unread
        assert_error(app.upload(far_over, doc_id="huge"), 413, "too_large", "1 MB")

        boundary = "policyqa-test-boundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()

        def chunked():  # no Content-Length: the limit must stop the body while it arrives
            yield head + b"%PDF-1.4\n"
            for _ in range(3 * 16):
                yield b"0" * 65536
            yield f"\r\n--{boundary}--\r\n".encode()

        response = app.client.post(
            "/v1/documents",
            content=chunked(),
            headers={**AUTH, "content-type": f"multipart/form-data; boundary={boundary}"},
        )
        assert_error(response, 413, "too_large", "1 MB")
        assert app.doc_ids() == [DECK_ID]
        assert app.upload_folder_files() == []
        assert app.ingested(memo_pdf, doc_id=MEMO_ID)["status"] == "added"  # under the limit still works


@pytest.mark.parametrize(
    "filename, doc_id, code",
    [
        ("../../x.pdf", None, "unsafe_file_name"),
        ("..\\..\\x.pdf", None, "unsafe_file_name"),
        ("/etc/passwd.pdf", None, "unsafe_file_name"),
        (".hidden.pdf", None, "unsafe_file_name"),
        ("memo.pdf", "../x", "invalid_doc_id"),
        ("memo.pdf", "../../../../tmp/evil", "invalid_doc_id"),
        ("memo.pdf", "a/b", "invalid_doc_id"),
        ("memo.pdf", "..", "invalid_doc_id"),
        ("memo.pdf", ".env", "invalid_doc_id"),
        ("memo.pdf", "bad id with spaces", "invalid_doc_id"),
        ("memo.pdf", "x" * 129, "invalid_doc_id"),
        ("what?.pdf", None, "invalid_doc_id"),
    ],
)
def test_unsafe_names_are_rejected(admin, memo_pdf, tmp_path, filename, doc_id, code):
    error = assert_error(admin.upload(memo_pdf, filename=filename, doc_id=doc_id), 422, code)
    assert "doc_id" in error["message"]
    assert admin.doc_ids() == [DECK_ID]
    assert admin.upload_folder_files() == []
    assert not (admin.settings.data_dir / "x.pdf").exists() and not (tmp_path / "x.pdf").exists()


def test_a_path_in_the_file_name_is_harmless_with_an_explicit_doc_id(admin, memo_pdf):
    assert admin.ingested(memo_pdf, filename="../../x.pdf", doc_id="safe-memo")["status"] == "added"
    assert admin.upload_folder_files() == ["safe-memo.pdf"]


def test_upload_needs_a_file(admin):
    assert_error(
        admin.client.post("/v1/documents", data={"doc_id": "x"}, headers=AUTH),
        422,
        "validation_error",
        "file",
    )
    assert_error(
        admin.client.post("/v1/documents", json={"file": "x"}, headers=AUTH), 422, "validation_error"
    )


# ---------------------------------------------------------------------------- upload jobs


@pytest.fixture
def queue_of_one(deck_settings, embedder, tmp_path) -> Iterator[Admin]:
    app = _admin_app(deck_settings, embedder, tmp_path, upload_queue=1)
    with app.client:
        yield app


def test_an_upload_is_accepted_with_a_job_to_poll(admin, memo_pdf):
    accepted = admin.upload(memo_pdf, doc_id=MEMO_ID)
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert accepted.headers["location"] == body["url"] == f"/v1/jobs/{body['job_id']}"
    assert body["doc_id"] == MEMO_ID and body["status"] in ("queued", "running")
    assert body["result"] is None and body["error"] is None and body["created_at"]
    job = finished_job(admin.client, accepted, headers=AUTH)
    assert job["job_id"] == body["job_id"] and job["status"] == "succeeded"
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    assert job["result"] == {
        "status": "added",
        "pages": 2,
        "chunks": job["document"]["chunks"],
        "seconds": job["result"]["seconds"],
    }
    assert job["queue_position"] is None
    again = admin.client.get(body["url"], headers=AUTH)  # a finished job stays readable
    assert again.status_code == 200 and again.json() == job


def test_jobs_need_the_admin_token(admin, deck_settings, deck_service, memo_pdf):
    job_id = admin.upload(memo_pdf, doc_id=MEMO_ID).json()["job_id"]
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = admin.client.get(f"/v1/jobs/{job_id}", headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
    with TestClient(create_app(deck_settings, deck_service, with_ui=False)) as client:  # no token configured
        assert_error(client.get(f"/v1/jobs/{job_id}", headers=AUTH), 403, "uploads_disabled")


def test_an_unknown_job_is_404(admin):
    assert_error(admin.client.get("/v1/jobs/0123456789abcdef", headers=AUTH), 404, "unknown_job", "restart")
    assert_error(admin.client.get(f"/v1/jobs/{'x' * 65}", headers=AUTH), 422, "validation_error")


def test_a_full_queue_is_429_and_keeps_nothing_of_the_refused_upload(
    queue_of_one, memo_pdf, make_pdf, tmp_path, monkeypatch
):
    app = queue_of_one
    started, release = threading.Event(), threading.Event()
    real = app.service.uploads.ingest_staged

    def held(staged, **kwargs):
        if staged.doc_id == "first":
            started.set()
            assert release.wait(60)
        return real(staged, **kwargs)

    monkeypatch.setattr(app.service.uploads, "ingest_staged", held)
    other = make_pdf(tmp_path / "other.pdf", ["別の資料\n\n別の内容である。"])
    third = make_pdf(tmp_path / "third.pdf", ["三つ目の資料\n\n三つ目の内容である。"])
    first = app.upload(memo_pdf, doc_id="first")
    assert first.status_code == 202 and started.wait(30)
    assert app.client.get(first.headers["location"], headers=AUTH).json()["status"] == "running"
    second = app.upload(other, doc_id="second")
    assert second.status_code == 202 and second.json()["status"] == "queued"
    assert second.json()["queue_position"] == 1
    refused = app.upload(third, doc_id="third")
    assert_error(refused, 429, "upload_queue_full", "POLICYQA_UPLOAD_QUEUE")
    assert refused.headers["retry-after"] == "30"
    staged = sorted(p.name for p in app.settings.uploads_dir.rglob("*.pdf"))
    assert staged == ["first.pdf", "second.pdf"]  # the refused file is not kept
    release.set()
    assert finished_job(app.client, first, headers=AUTH)["status"] == "succeeded"
    assert finished_job(app.client, second, headers=AUTH)["status"] == "succeeded"
    assert finished_job(app.client, app.upload(third, doc_id="third"), headers=AUTH)["status"] == "succeeded"
    assert {"first", "second", "third"} <= set(app.doc_ids())


# ---------------------------------------------------------------------------- delete


def test_delete_an_upload(admin, memo_pdf):
    assert admin.ingested(memo_pdf, doc_id=MEMO_ID)["status"] == "added"
    response = admin.client.delete(f"/v1/documents/{MEMO_ID}", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"doc_id": MEMO_ID, "deleted": True, "file_removed": True}
    assert admin.upload_folder_files() == []
    assert_error(admin.client.get(f"/v1/documents/{MEMO_ID}"), 404, "unknown_document")
    assert_error(admin.client.get(f"/v1/documents/{MEMO_ID}/pdf"), 404, "unknown_document")
    assert_error(
        admin.client.post("/v1/answer", json={"question": MEMO_Q, "documents": [MEMO_ID]}),
        404,
        "unknown_document",
    )
    assert all(
        c["doc_id"] != MEMO_ID
        for c in admin.client.post("/v1/answer", json={"question": MEMO_Q}).json()["citations"]
    )
    assert_error(admin.client.delete(f"/v1/documents/{MEMO_ID}", headers=AUTH), 404, "unknown_document")


def test_delete_a_corpus_document_keeps_its_file(admin, deck_settings):
    response = admin.client.delete(f"/v1/documents/{DECK_ID}", headers=AUTH)
    assert response.json() == {"doc_id": DECK_ID, "deleted": True, "file_removed": False}
    assert (deck_settings.corpus_dir / f"{DECK_ID}.pdf").exists()
    assert admin.doc_ids() == []
    assert admin.client.get("/readyz").json()["documents"] == 0
    assert admin.client.post("/v1/answer", json={"question": MATERIALS_Q}).json()["abstained"] is True


# ---------------------------------------------------------------------------- feedback


def test_feedback_is_recorded(admin):
    body = {
        "question": MATERIALS_Q,
        "answer": "12の特定重要物資",
        "vote": "up",
        "citations": [{"doc_id": DECK_ID, "page": MATERIALS_PAGE}],
        "comment": "正確",
    }
    response = admin.client.post("/v1/feedback", json=body)
    assert response.status_code == 201
    assert response.json()["recorded"] is True
    lines = admin.settings.feedback_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    saved = json.loads(lines[0])
    assert {k: saved[k] for k in body} == body and saved["time"] == response.json()["time"]


@pytest.mark.parametrize(
    "body",
    [
        {"question": "q", "answer": "a", "vote": "sideways"},
        {"question": "", "answer": "a", "vote": "up"},
        {"answer": "a", "vote": "up"},
        {"question": "q", "answer": "a", "vote": "up", "comment": "c" * 2001},
        {"question": "q", "answer": "a", "vote": "up", "citations": "p.16"},
        {"question": "q", "answer": "a", "vote": "up", "citations": [{"page": 16}]},  # no doc_id
        {
            "question": "q",
            "answer": "a",
            "vote": "up",
            "citations": [{"doc_id": "d", "page": 1, "quote": "x" * 5000}],
        },
        {"question": "q", "answer": "a", "vote": "up", "citations": [{"doc_id": "d", "page": 1}] * 21},
    ],
)
def test_feedback_validation(admin, body):
    assert_error(admin.client.post("/v1/feedback", json=body), 422, "validation_error")
    assert not admin.settings.feedback_path.exists()


def test_a_full_feedback_file_is_507_and_keeps_its_bytes(admin):
    cap = admin.settings.feedback_max_mb * 1024 * 1024
    admin.settings.feedback_path.write_bytes(b"\n" * (cap - 5))
    body = {"question": "q", "answer": "a", "vote": "up"}
    error = assert_error(admin.client.post("/v1/feedback", json=body), 507, "feedback_full")
    assert "limit" in error["message"] and str(admin.settings.data_dir) not in error["message"]
    assert admin.settings.feedback_path.stat().st_size == cap - 5


@pytest.mark.parametrize("origin", ["http://localhost:1234", "http://127.0.0.1:9", "https://evil.example"])
def test_the_chat_shares_nothing_with_other_origins(client, origin):
    """Gradio echoes any Origin with credentials allowed; /ui answers only its own origin."""
    response = client.get("/ui/config", headers={"Origin": origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    preflight = client.options(
        "/ui/gradio_api/queue/join", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_the_chat_still_answers_its_own_origin(client):
    response = client.get("/ui/config", headers={"Origin": "http://testserver"})
    assert response.headers.get("access-control-allow-origin") == "http://testserver"
