"""The chat at /ui answers cross-origin requests only from its own origin.

Gradio's own CORS handling echoes the ``Origin`` of any request back with
``Access-Control-Allow-Credentials: true``, so any web page a staff member visits could read the
chat's responses. This middleware drops the CORS headers of /ui responses unless the request
comes from the app's own origin (the scheme and ``Host`` it was addressed to).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UI_PREFIX = "/ui"
_CORS_HEADERS = (
    b"access-control-allow-origin",
    b"access-control-allow-credentials",
    b"access-control-allow-methods",
    b"access-control-allow-headers",
    b"access-control-expose-headers",
)


class SameOriginUI:
    """Pure ASGI middleware: CORS headers on /ui only for the app's own origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(UI_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
        if origin is None or origin == own:
            await self.app(scope, receive, send)
            return

        async def without_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(k, v) for k, v in message["headers"] if k.lower() not in _CORS_HEADERS]
            await send(message)

        await self.app(scope, receive, without_cors)
