"""Request body limits, enforced before a body is read.

FastAPI's per-router ``max_body_size`` stops a body that turns out too large while it arrives
(chunked uploads); this middleware answers 413 at once, in the API's error shape, when the
``Content-Length`` header already says the body is too large (Starlette's limiter would answer
those in plain text).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from core.settings import Settings
from policyqa.api.errors import error_response

MIB = 1024 * 1024
JSON_BODY_LIMIT = MIB  # questions, searches and feedback are small
MULTIPART_SLACK = 256 * 1024  # form boundaries and headers around the file in a multipart body
UPLOAD_PATH = "/v1/documents"


def upload_body_limit(settings: Settings) -> int:
    """The largest multipart body accepted for an upload (the file limit plus form overhead)."""
    return settings.max_upload_mb * MIB + MULTIPART_SLACK


def too_large_message(settings: Settings, method: str, path: str) -> str:
    if method == "POST" and path.rstrip("/") == UPLOAD_PATH:
        return f"the upload is larger than the limit of {settings.max_upload_mb} MB (POLICYQA_MAX_UPLOAD_MB)"
    return f"the request body is larger than the {JSON_BODY_LIMIT // MIB} MB this endpoint accepts"


class ContentLengthLimit:
    """Pure ASGI middleware: 413 for /v1 requests whose declared length exceeds their endpoint's limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def limit(self, method: str, path: str) -> int | None:
        if not path.startswith("/v1/"):
            return None
        if method == "POST" and path.rstrip("/") == UPLOAD_PATH:
            return upload_body_limit(self.settings)
        return JSON_BODY_LIMIT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            limit = self.limit(method, path)
            length = Headers(scope=scope).get("content-length")
            if limit is not None and length is not None and length.isdigit() and int(length) > limit:
                response = error_response(
                    413,
                    "too_large",
                    too_large_message(self.settings, method, path),
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
