"""The documents in the index: list, metadata, page texts, the PDF itself; upload and delete (admin)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from core.store import DocumentRecord
from policyqa.api.dependencies import AdminDep, ServiceDep
from policyqa.api.errors import ApiError
from policyqa.api.routers.answers import pdf_url
from policyqa.api.schemas import (
    EXAMPLE_DOC,
    JOB_EXAMPLES,
    DeleteResponse,
    DocumentInfo,
    ErrorDetail,
    JobResponse,
    JobResult,
    PageText,
    error_responses,
    json_error_responses,
)
from rag.jobs import Job
from rag.service import PolicyQA
from rag.uploads import choose_doc_id

router = APIRouter(prefix="/documents", tags=["documents"])
admin_router = APIRouter(prefix="/documents", tags=["documents (admin)"], dependencies=[AdminDep])

DocIdParam = Annotated[
    str, PathParam(description="Document id (the PDF's file name without .pdf)", examples=[EXAMPLE_DOC])
]


def _info(request: Request, record: DocumentRecord) -> DocumentInfo:
    return DocumentInfo(
        doc_id=record.doc_id,
        title=record.title,
        date=record.date,
        publisher=record.publisher,
        language=record.language,
        pages=record.pages,
        chunks=record.chunks,
        sha256=record.sha256,
        ingested_at=record.ingested_at,
        landing_page=record.landing_page,
        licence=record.licence,
        pdf_url=pdf_url(request, record.doc_id),
    )


def _record(service: PolicyQA, doc_id: str) -> DocumentRecord:
    record = service.store.snapshot().documents.get(doc_id)
    if record is None:
        raise ApiError(404, "unknown_document", f"unknown document id(s): {doc_id}")
    return record


@router.get(
    "", response_model=list[DocumentInfo], responses=error_responses(503), summary="Documents in the index"
)
def list_documents(request: Request, service: ServiceDep) -> list[DocumentInfo]:
    return [_info(request, record) for record in service.documents().values()]


@router.get(
    "/{doc_id}",
    response_model=DocumentInfo,
    responses=error_responses(404, 422, 503),
    summary="One document's metadata",
)
def get_document(request: Request, doc_id: DocIdParam, service: ServiceDep) -> DocumentInfo:
    return _info(request, _record(service, doc_id))


@router.get(
    "/{doc_id}/pages/{page}",
    response_model=PageText,
    responses=error_responses(404, 422, 503),
    summary="The extracted text of one page",
)
def get_page(
    doc_id: DocIdParam,
    page: Annotated[int, PathParam(description="1-based physical page", examples=[16])],
    service: ServiceDep,
) -> PageText:
    record = _record(service, doc_id)
    text = service.page_text(doc_id, page) if 1 <= page <= record.pages else None
    if text is None:
        raise ApiError(
            404, "unknown_page", f"document {doc_id!r} has pages 1-{record.pages}; there is no page {page}"
        )
    return PageText(doc_id=doc_id, page=page, text=text)


@router.get(
    "/{doc_id}/pdf",
    response_class=FileResponse,
    summary="The PDF file",
    responses={
        200: {
            "content": {"application/pdf": {}},
            "description": "The PDF, shown inline; append `#page=N` to the URL to open it at a page",
        },
        **json_error_responses(404, 422, 503),
    },
)
def get_pdf(doc_id: DocIdParam, service: ServiceDep) -> FileResponse:
    path = _pdf_path(doc_id, _record(service, doc_id))
    return FileResponse(
        path, media_type="application/pdf", filename=f"{doc_id}.pdf", content_disposition_type="inline"
    )


def _pdf_path(doc_id: str, record: DocumentRecord) -> Path:
    path = Path(record.source_path) if record.source_path else None
    if path is None or not path.is_file():
        raise ApiError(
            404,
            "file_missing",
            f"the PDF of {doc_id!r} is not available on this server (its file "
            f"{path.name if path else '(unknown)'} is gone; the index still has its text). "
            "Restore the file or re-ingest it; replicas need the corpus and uploads folders on "
            "shared storage to serve each other's PDFs",
        )
    return path


# HEAD on a page or a PDF (link checkers, download managers, browsers probing a PDF's size) is the
# GET without its body; kept out of the OpenAPI schema, where it would only repeat the GET.
router.add_api_route("/{doc_id}/pages/{page}", get_page, methods=["HEAD"], include_in_schema=False)
router.add_api_route("/{doc_id}/pdf", get_pdf, methods=["HEAD"], include_in_schema=False)


@admin_router.post(
    "",
    response_model=JobResponse,
    status_code=202,
    responses={
        202: {
            "description": "Accepted: the file is saved and waits for its ingest. Poll the job "
            "(`Location` header, or `url`) until its status is `succeeded` or `failed`",
            "headers": {
                "Location": {"description": "The job: /v1/jobs/{job_id}", "schema": {"type": "string"}}
            },
            "content": {"application/json": {"example": JOB_EXAMPLES["queued"]}},
        },
        **error_responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
    },
    summary="Upload a PDF to be ingested (admin)",
)
def upload_document(
    request: Request,
    response: Response,
    service: ServiceDep,
    file: Annotated[UploadFile, File(description="The PDF file")],
    doc_id: Annotated[
        str | None,
        Form(
            max_length=200,
            description="Document id; default: the file name "
            "without .pdf. Letters, digits, '_', '.', '-'. An existing id is "
            "replaced by the new version.",
        ),
    ] = None,
    allow_duplicate: Annotated[
        bool,
        Form(
            description="Index the file even when a live document has the same bytes (a second "
            "copy under a new id); by default such a copy is refused with 409 duplicate_document."
        ),
    ] = False,
) -> JobResponse:
    """Save the PDF under the data folder; a background worker ingests it exactly as `policyqa ingest`
    would, one upload at a time, while answers go on at their usual speed.

    202 with the job (`Location: /v1/jobs/{job_id}`) once the file is saved. Refused at once: a file
    past the size limit (413), not a PDF (415), empty or with a bad id (422), a copy of a live
    document under another id (409 `duplicate_document`, `details.duplicate_of`; unless
    `allow_duplicate` is true), and a full queue (429 `upload_queue_full`, with `Retry-After`).
    What only the ingest finds (encrypted, corrupt, no text, past an ingest limit) fails the job
    with the same code; the index and the existing documents then stay as they were.
    """
    chosen = choose_doc_id(doc_id, file.filename)
    job = service.submit_upload(file.file, chosen, allow_duplicate=allow_duplicate)
    body = job_response(request, service, job)
    response.headers["Location"] = body.url
    return body


def job_response(request: Request, service: PolicyQA, job: Job) -> JobResponse:
    """A job as the API shows it; read once, so its fields agree with each other."""
    status, result, report, error = job.status, job.result, job.report, job.error
    fields: dict[str, Any] = {}
    if status == "succeeded" and result is not None and report is not None:
        record = service.store.snapshot().documents.get(job.doc_id)
        data = report.to_dict()
        fields.update(
            result=JobResult(
                status=result.status, pages=result.pages, chunks=result.chunks, seconds=result.seconds
            ),
            document=_info(request, record) if record is not None else None,
            summary=data["summary"],
            files=data["files"],
            timings_s=data["timings_s"],
        )
    if status == "failed" and error is not None:
        fields["error"] = ErrorDetail(code=error.code, message=error.public_message(), details=error.details)
    return JobResponse.model_validate(
        {
            "job_id": job.id,
            "doc_id": job.doc_id,
            "status": status,
            "phase": job.phase if status == "running" else None,
            "url": f"{request.scope.get('root_path', '')}/v1/jobs/{job.id}",
            "queue_position": service.jobs.position(job) if status == "queued" else None,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            **fields,
        }
    )


@admin_router.delete(
    "/{doc_id}",
    response_model=DeleteResponse,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Remove a document from the index (admin)",
)
def delete_document(doc_id: DocIdParam, service: ServiceDep) -> DeleteResponse:
    """The document disappears from answers at once, on every replica. Its PDF file is removed too
    when it was uploaded through the API (files in the corpus folder are left alone; run
    `policyqa ingest --prune` after deleting those files)."""
    deleted, file_removed = service.delete_document(doc_id)
    if not deleted:
        raise ApiError(404, "unknown_document", f"unknown document id(s): {doc_id}")
    return DeleteResponse(doc_id=doc_id, deleted=True, file_removed=file_removed)
