"""The documents in the index: list, metadata, page texts, the PDF itself; upload and delete (admin)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from core.store import DocumentRecord
from policyqa.api.dependencies import AdminDep, ServiceDep
from policyqa.api.errors import ApiError
from policyqa.api.routers.answers import pdf_url
from policyqa.api.schemas import (
    EXAMPLE_DOC,
    DeleteResponse,
    DocumentInfo,
    PageText,
    UploadResponse,
    error_responses,
    json_error_responses,
)
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
    response_model=UploadResponse,
    status_code=201,
    responses={
        200: {"model": UploadResponse, "description": "The same file was already ingested (unchanged)"},
        **error_responses(400, 401, 403, 409, 413, 415, 422, 503),
    },
    summary="Upload and ingest a PDF (admin)",
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
) -> UploadResponse:
    """Save the PDF under the data folder and ingest it exactly as `policyqa ingest` would.

    201 when the document was added or updated, 200 when the same file was already live.
    A file that cannot be ingested (not a PDF, encrypted, corrupt, no pages, no text) is rejected
    with its reason and leaves the index and the existing documents as they were. A file whose
    bytes equal a live document's under another id is refused with 409 `duplicate_document`
    (`details.duplicate_of` names that document) unless `allow_duplicate` is true.
    """
    chosen = choose_doc_id(doc_id, file.filename)
    report, result = service.upload(file.file, chosen, allow_duplicate=allow_duplicate)
    if result.status == "unchanged":
        response.status_code = 200
    record = _record(service, chosen)
    data = report.to_dict()
    return UploadResponse(
        doc_id=chosen,
        status=result.status,
        document=_info(request, record),
        summary=data["summary"],
        files=data["files"],
        timings_s=data["timings_s"],
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
