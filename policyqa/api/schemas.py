"""Request and response bodies of the HTTP API, with the examples shown at ``/docs``.

``Answer``, ``Citation`` and ``Source`` come from :mod:`rag.answer` unchanged, so the API
returns exactly what ``policyqa ask --json`` prints.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from rag.answer import Source
from rag.feedback import Feedback
from rag.followups import MAX_TURNS as MAX_HISTORY_TURNS

EXAMPLE_DOC = "econsec-public-private-action-2025-03-16"

DocId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain something other than white space")
    return value


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")

    top_k: int | None = Field(None, ge=1, le=50, description="How many ranked sources to return (default 8).")
    documents: list[DocId] | None = Field(
        None,
        max_length=100,
        description="Only use these document ids (see GET /v1/documents); unknown ids give 404.",
    )


class HistoryTurn(BaseModel):
    question: str = Field(
        min_length=1, max_length=2000, description="An earlier question of the conversation."
    )
    answer: str = Field("", max_length=20000, description="The answer it got (as shown to the user).")

    model_config = ConfigDict(extra="forbid")


class AnswerRequest(_Query):
    question: str = Field(min_length=1, max_length=2000, description="The question, in Japanese or English.")
    mode: Literal["extractive", "llm"] | None = Field(
        None,
        description="`extractive` quotes the documents; `llm` needs an LLM endpoint configured. "
        "Default: `llm` when one is configured, else `extractive`.",
    )
    history: list[HistoryTurn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="The conversation so far, oldest first. A follow-up that leans on it (「そのうち…は？」, "
        '「いつ？」, "which of them…") is asked together with the conversation\'s topic, and the answer '
        "starts with what it was understood to be about (e.g. 「（特定重要物資について）」; `understood_as` "
        "holds the question as asked). A question that stands on its own is not changed.",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "特定重要物資はいくつ指定されていますか", "top_k": 8},
            ]
        },
    )

    _blank = field_validator("question")(_not_blank)


class SearchRequest(_Query):
    query: str = Field(min_length=1, max_length=2000, description="Words or a question to look up.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"query": "特定重要物資", "top_k": 5},
            ]
        },
    )

    _blank = field_validator("query")(_not_blank)


class SearchResponse(BaseModel):
    query: str
    sources: list[Source]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": "特定重要物資",
                    "sources": [
                        {
                            "doc_id": EXAMPLE_DOC,
                            "doc_title": "経済安全保障に関する官民連携アクション",
                            "page": 16,
                            "score": 0.032787,
                            "text": "- 12の特定重要物資※を指定。…",
                            "chunk_id": f"{EXAMPLE_DOC}:f9a9096695960cd50c6b:34",
                        }
                    ],
                }
            ]
        }
    )


class DocumentInfo(BaseModel):
    doc_id: str
    title: str
    date: str = Field(description="Publication date as given in the manifest (may be partial, e.g. 2025-05)")
    publisher: str
    language: str
    pages: int
    chunks: int
    sha256: str = Field(description="SHA-256 of the ingested PDF file")
    ingested_at: str = Field(description="When this version was ingested (UTC, ISO 8601)")
    landing_page: str = Field(description="Where the publisher offers the document")
    licence: str
    pdf_url: str = Field(description="Where this API serves the PDF")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "doc_id": EXAMPLE_DOC,
                    "title": "経済安全保障に関する官民連携アクション",
                    "date": "2025-03-16",
                    "publisher": "経済産業省 貿易経済安全保障局",
                    "language": "ja",
                    "pages": 64,
                    "chunks": 127,
                    "sha256": "9f2c…",
                    "ingested_at": "2025-06-01T09:30:00+00:00",
                    "landing_page": "https://www.meti.go.jp/policy/economy/economic_security/index.html",
                    "licence": "政府標準利用規約（第2.0版）に準拠（CC BY 4.0 互換）。",
                    "pdf_url": f"/v1/documents/{EXAMPLE_DOC}/pdf",
                }
            ]
        }
    )


class PageText(BaseModel):
    doc_id: str
    page: int
    text: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "doc_id": EXAMPLE_DOC,
                    "page": 16,
                    "text": "経済安全保障に関する産業・技術基盤の強化（基本的考え方）…",
                }
            ]
        }
    )


class IngestFile(BaseModel):
    path: str
    doc_id: str
    status: Literal["added", "updated", "unchanged", "duplicate", "failed"]
    pages: int
    chunks: int
    error_code: str | None = None
    error: str | None = None
    seconds: float
    duplicate_of: str | None = None


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable reason")
    message: str = Field(description="What went wrong, for people")
    details: Any = Field(None, description="Extra data for some codes, e.g. per-field validation errors")


class JobResult(BaseModel):
    status: Literal["added", "updated", "unchanged"] = Field(
        description="`added` (a new id), `updated` (a new version of an id), `unchanged` (the same file was live)"
    )
    pages: int
    chunks: int
    seconds: float = Field(description="Time the ingest spent on this file")


class JobResponse(BaseModel):
    """An upload job. `result`, `document`, `summary`, `files` and `timings_s` once it succeeded;
    `error` (the code and message the upload would have been refused with) once it failed."""

    job_id: str
    doc_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    phase: Literal["reading", "preparing", "writing", "switching"] | None = Field(
        None,
        description="While running: reading the PDF, preparing its chunks (tokens, vectors), writing "
        "them to the index (invisibly), switching to the new version",
    )
    url: str = Field(description="Where the job's state is: GET it until the status is succeeded or failed")
    queue_position: int | None = Field(None, description="While queued: 1 = the next to run")
    created_at: str = Field(description="When the upload was accepted (UTC, ISO 8601)")
    started_at: str | None = None
    finished_at: str | None = None
    result: JobResult | None = None
    document: DocumentInfo | None = Field(None, description="The document as it is live now")
    summary: dict[str, Any] | None = Field(
        None, description="The ingest report's summary, as `policyqa ingest --json` prints it"
    )
    files: list[IngestFile] | None = None
    timings_s: dict[str, float] | None = None
    error: ErrorDetail | None = None


_JOB = {"job_id": "5f0c2e9a8b7d4c1e9f3a6b2d0c8e7f15", "doc_id": "my-report"}
JOB_EXAMPLES: dict[str, dict[str, Any]] = {
    "queued": {
        **_JOB,
        "status": "queued",
        "url": f"/v1/jobs/{_JOB['job_id']}",
        "queue_position": 1,
        "created_at": "2025-06-01T09:30:00.120+00:00",
    },
    "succeeded": {
        **_JOB,
        "status": "succeeded",
        "url": f"/v1/jobs/{_JOB['job_id']}",
        "created_at": "2025-06-01T09:30:00.120+00:00",
        "started_at": "2025-06-01T09:30:00.125+00:00",
        "finished_at": "2025-06-01T09:30:02.410+00:00",
        "result": {"status": "added", "pages": 3, "chunks": 5, "seconds": 2.2},
        "document": {
            "doc_id": "my-report",
            "title": "報告書",
            "date": "",
            "publisher": "",
            "language": "ja",
            "pages": 3,
            "chunks": 5,
            "sha256": "…",
            "ingested_at": "2025-06-01T09:30:02+00:00",
            "landing_page": "",
            "licence": "",
            "pdf_url": "/v1/documents/my-report/pdf",
        },
        "summary": {
            "documents": 1,
            "added": 1,
            "updated": 0,
            "unchanged": 0,
            "duplicates": 0,
            "failed": 0,
            "pruned": 0,
            "pages": 3,
            "chunks": 5,
            "seconds": 2.28,
        },
        "files": [
            {
                "path": "/srv/policyqa/data/uploads/my-report.pdf",
                "doc_id": "my-report",
                "status": "added",
                "pages": 3,
                "chunks": 5,
                "error_code": None,
                "error": None,
                "seconds": 2.2,
            }
        ],
        "timings_s": {"extract": 1.1, "chunk_tokenize": 0.05, "embed": 0.6, "store": 0.4},
    },
    "failed": {
        **_JOB,
        "status": "failed",
        "url": f"/v1/jobs/{_JOB['job_id']}",
        "created_at": "2025-06-01T09:30:00.120+00:00",
        "started_at": "2025-06-01T09:30:00.125+00:00",
        "finished_at": "2025-06-01T09:30:00.610+00:00",
        "error": {
            "code": "encrypted",
            "message": "locked.pdf: the PDF is password-protected (encrypted with a user password); "
            "save an unprotected copy and ingest that",
        },
    },
}


class DeleteResponse(BaseModel):
    doc_id: str
    deleted: bool
    file_removed: bool = Field(description="True when the PDF was an upload and its file was removed too")


class FeedbackRequest(Feedback):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "question": "特定重要物資はいくつ指定されていますか",
                    "answer": "12の特定重要物資※を指定。…",
                    "citations": [{"doc_id": EXAMPLE_DOC, "page": 16}],
                    "vote": "up",
                    "comment": "正確でした",
                }
            ]
        },
    )


class FeedbackResponse(BaseModel):
    recorded: bool
    time: str


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    documents: int = Field(description="Documents in the index")
    revision: str = Field(description="Registry revision this replica sees (equal on replicas that agree)")


class ErrorResponse(BaseModel):
    error: ErrorDetail

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"error": {"code": "unknown_document", "message": "unknown document id(s): no-such-doc"}}
            ]
        }
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the error shape for the given statuses."""
    described = {
        400: "Malformed request body (e.g. not UTF-8, broken multipart)",
        401: "Missing or wrong admin token",
        403: "Uploads and deletes are disabled (no POLICYQA_ADMIN_TOKEN configured)",
        404: "Unknown document, page, file or upload job",
        409: "The upload's bytes equal a live document's (duplicate_document; details.duplicate_of)",
        429: "As many uploads wait as POLICYQA_UPLOAD_QUEUE allows (upload_queue_full; Retry-After)",
        413: "Upload larger than POLICYQA_MAX_UPLOAD_MB",
        415: "The upload is not a PDF",
        422: "Invalid request (a PDF that cannot be ingested fails its job instead)",
        503: "The index (Chroma) is unreachable, or built with another embedder; or feedback cannot be stored now",
        507: "The feedback file reached POLICYQA_FEEDBACK_MAX_MB",
    }
    return {s: {"model": ErrorResponse, "description": described.get(s, "Error")} for s in statuses}


def json_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The same for routes whose success media type is not JSON (FastAPI would document errors under it)."""
    return {
        s: {
            "description": r["description"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        }
        for s, r in error_responses(*statuses).items()
    }
