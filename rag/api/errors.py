"""One error shape for every 4xx/5xx answer: ``{"error": {"code": "...", "message": "..."}}``.

Route code raises :class:`ApiError` (or lets a domain exception through); the handlers
installed by :func:`install_error_handlers` turn everything, including FastAPI's own
validation errors and Starlette's 404/405, into that shape.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.answer import UnknownDocuments
from rag.store import EmbedderMismatch, StorageFailure, StoreUnavailable

log = logging.getLogger("rag.api")

# Stable codes for statuses raised without a more specific one (e.g. by Starlette's router).
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

RETRY_AFTER_S = 5


class ApiError(StarletteHTTPException):
    """An HTTP error with a stable machine-readable ``code`` next to the human ``message``."""

    def __init__(self, status_code: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 details: Any = None):
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code
        self.message = message
        self.details = details


def error_body(code: str, message: str, details: Any = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(status_code: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                   details: Any = None) -> JSONResponse:
    return JSONResponse(jsonable_encoder(error_body(code, message, details)), status_code=status_code,
                        headers=headers)


def _generic_message(request: Request, exc: StarletteHTTPException) -> str:
    """Replace Starlette's bare reason phrases with a sentence that says what went wrong."""
    detail = exc.detail if isinstance(exc.detail, str) else None
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = ""
    if detail and detail != phrase and not (exc.status_code == 413 and detail == "Content Too Large"):
        return detail
    method, path = request.method, request.url.path
    if exc.status_code == 404:
        return f"no such endpoint: {method} {path} (see /docs for the API)"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow")
        return f"method {method} is not allowed on {path}" + (f"; use {allowed}" if allowed else "")
    if exc.status_code == 413:
        settings = getattr(request.app.state, "settings", None)
        if settings is not None:
            from rag.api.limits import too_large_message

            return too_large_message(settings, method, path)
        return "the request body is too large"
    return detail or phrase or "error"


async def http_exception_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = getattr(exc, "code", None) or STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return error_response(exc.status_code, code, _generic_message(request, exc), headers=exc.headers,
                          details=getattr(exc, "details", None))


def _location(loc: tuple | list) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def validation_exception_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
                "type": str(e.get("type", ""))} for e in errors]
    message = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in details) or "invalid request"
    return error_response(422, "validation_error", message, details=details)


async def unknown_documents_handler(request: Request, exc: UnknownDocuments) -> JSONResponse:
    return error_response(404, "unknown_document", str(exc), details={"missing": exc.missing})


async def store_unavailable_handler(request: Request, exc: StoreUnavailable) -> JSONResponse:
    log.warning("index unavailable on %s %s: %s", request.method, request.url.path, exc)
    if isinstance(exc, StorageFailure):  # the embedded index's disk is full or read-only
        return error_response(503, "storage_failure", str(exc))
    return error_response(503, "store_unavailable",
                          "the document index (Chroma) cannot be reached right now; retry shortly. "
                          f"Cause: {exc}", headers={"Retry-After": str(RETRY_AFTER_S)})


async def embedder_mismatch_handler(request: Request, exc: EmbedderMismatch) -> JSONResponse:
    log.error("embedder mismatch: %s", exc)
    return error_response(503, "embedder_mismatch", str(exc))


async def unhandled_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error; the details are in the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    app.add_exception_handler(UnknownDocuments, unknown_documents_handler)
    app.add_exception_handler(StoreUnavailable, store_unavailable_handler)
    app.add_exception_handler(EmbedderMismatch, embedder_mismatch_handler)
    app.add_exception_handler(Exception, unhandled_exception_handler)
