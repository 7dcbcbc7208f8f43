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

from core.errors import Kind, PolicyQAError

log = logging.getLogger("policyqa.api")

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


class ApiError(StarletteHTTPException):
    """An HTTP error with a stable machine-readable ``code`` next to the human ``message``."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: Any = None,
    ):
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code
        self.message = message
        self.details = details


def error_body(code: str, message: str, details: Any = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(
    status_code: int, code: str, message: str, *, headers: dict[str, str] | None = None, details: Any = None
) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(error_body(code, message, details)), status_code=status_code, headers=headers
    )


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
            from policyqa.api.limits import too_large_message

            return too_large_message(settings, method, path)
        return "the request body is too large"
    return detail or phrase or "error"


async def http_exception_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = getattr(exc, "code", None) or STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return error_response(
        exc.status_code,
        code,
        _generic_message(request, exc),
        headers=exc.headers,
        details=getattr(exc, "details", None),
    )


def _location(loc: tuple | list) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def validation_exception_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    details = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    message = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in details) or "invalid request"
    return error_response(422, "validation_error", message, details=details)


# The one mapping of the domain's error kinds to HTTP statuses.
STATUS_OF_KIND: dict[Kind, int] = {
    Kind.INVALID: 422,
    Kind.NOT_FOUND: 404,
    Kind.TOO_LARGE: 413,
    Kind.UNSUPPORTED: 415,
    Kind.UNAVAILABLE: 503,
    Kind.STORAGE_FULL: 507,
    Kind.CONFLICT: 409,
    Kind.BUSY: 429,
}


def domain_error_response(exc: PolicyQAError) -> JSONResponse:
    status = STATUS_OF_KIND[exc.kind]
    if status >= 500:
        log.warning("%s: %s", exc.code, exc)
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
    return JSONResponse(domain_error_body(exc), status_code=status, headers=headers)


def domain_error_body(exc: PolicyQAError) -> dict:
    """The error body for a domain error, also sent as the ``error`` event of an answer stream."""
    return jsonable_encoder(error_body(exc.code, exc.public_message(), exc.details))


async def domain_error_handler(request: Request, exc: PolicyQAError) -> JSONResponse:
    return domain_error_response(exc)


async def unhandled_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error; the details are in the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    app.add_exception_handler(PolicyQAError, domain_error_handler)
    app.add_exception_handler(Exception, unhandled_exception_handler)
