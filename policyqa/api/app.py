"""The application factory.

``create_app(settings)`` loads the models and the index once (one ``PolicyQA`` per process,
kept on ``app.state``), wires the routers, the error handlers and the chat UI, and returns
the FastAPI app that ``policyqa serve`` runs under uvicorn. Blocking work (embedding,
Chroma calls, ingestion) runs in the thread pool, never on the event loop.
"""

from __future__ import annotations

from fastapi import FastAPI

from core.settings import Settings
from policyqa.api.cors import SameOriginUI
from policyqa.api.docs import install_docs
from policyqa.api.errors import install_error_handlers
from policyqa.api.limits import JSON_BODY_LIMIT, ContentLengthLimit, upload_body_limit
from policyqa.api.routers import answers, documents, feedback, health, jobs
from rag.service import PolicyQA

DESCRIPTION = """
Question answering with page citations over Japanese policy PDFs.

* `POST /v1/answer` answers from the indexed documents and cites document pages; each citation's
  `url` opens the PDF at that page. `POST /v1/answer/stream` gives the same as Server-Sent Events.
* `POST /v1/search` shows the ranked passages behind an answer.
* `GET /v1/documents…` lists the documents and serves their page texts and PDFs.
* `POST /v1/documents` and `DELETE /v1/documents/{doc_id}` change the index; they need
  `Authorization: Bearer <POLICYQA_ADMIN_TOKEN>` and are disabled when no token is configured.
  An upload is answered 202 with a job, ingested in the background; `GET /v1/jobs/{job_id}`
  (admin too) says how it went.

Every error has the body `{"error": {"code": "...", "message": "..."}}`.
"""

TAGS = [
    {"name": "answers", "description": "Answers with citations, and the retrieval behind them"},
    {"name": "documents", "description": "What is in the index"},
    {"name": "documents (admin)", "description": "Changing the index (admin token)"},
    {"name": "feedback", "description": "Votes on answers"},
    {"name": "health", "description": "Probes"},
]


def _mount_ui(app: FastAPI, service: PolicyQA, settings: Settings) -> None:
    """The chat UI at /ui (a Gradio app over the same service)."""
    from ui.chat import mount_ui
    from ui.viewer import mount_viewer

    mount_viewer(app)
    mount_ui(app, service, settings)


def create_app(settings: Settings, service: PolicyQA | None = None, *, with_ui: bool = True) -> FastAPI:
    """The app; ``with_ui=False`` leaves out the chat and the viewer (an API-only deployment, or a
    test of the API that should not pay for building the Gradio app)."""
    service = service or PolicyQA(settings)
    service.warm_up()
    app = FastAPI(
        title="policyqa",
        version="1",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    app.state.settings = settings
    app.state.service = service
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(answers.router, prefix="/v1", max_body_size=JSON_BODY_LIMIT)
    app.include_router(feedback.router, prefix="/v1", max_body_size=JSON_BODY_LIMIT)
    app.include_router(documents.router, prefix="/v1")
    app.include_router(documents.admin_router, prefix="/v1", max_body_size=upload_body_limit(settings))
    app.include_router(jobs.router, prefix="/v1", max_body_size=JSON_BODY_LIMIT)
    app.add_middleware(ContentLengthLimit, settings=settings)
    app.add_middleware(SameOriginUI)
    if with_ui:
        _mount_ui(app, service, settings)
    return app
