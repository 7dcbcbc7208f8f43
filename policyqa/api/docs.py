"""The API docs at /docs (Swagger UI) and /redoc (ReDoc), served with the app's own assets.

FastAPI's default pages load their scripts from a CDN and fonts from Google, so offline they are
blank; these load Swagger UI and ReDoc from the npm packages installed under ``ui/web`` and use
no web fonts.
"""

from __future__ import annotations

from functools import cache

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from ui.web_assets import installed, package_dir

ASSETS_PATH = "/docs-assets"
_REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
_EMPTY_IMAGE = "data:image/svg+xml,%3Csvg%20xmlns%3D%27http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%27%2F%3E"
_MISSING = """<!doctype html><html lang="en"><meta charset="utf-8"><title>policyqa API</title>
<p>The API docs' assets are not installed on this server (<code>npm ci --prefix ui/web</code>).
The OpenAPI description is at <a href="{openapi}">{openapi}</a>.</p></html>"""


def install_docs(app: FastAPI) -> None:
    """Add /docs and /redoc (create the app with ``docs_url=None, redoc_url=None``)."""

    def openapi_url(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{app.openapi_url}"

    def assets(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{ASSETS_PATH}"

    def swagger(request: Request) -> HTMLResponse:
        if not installed("swagger-ui-dist", "swagger-ui-bundle.js"):
            return HTMLResponse(_MISSING.format(openapi=openapi_url(request)), 503)
        base = assets(request)
        return get_swagger_ui_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} — API",
            swagger_js_url=f"{base}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{base}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{base}/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
        )

    def redoc(request: Request) -> HTMLResponse:
        if not installed("redoc", "bundles/redoc.standalone.js"):
            return HTMLResponse(_MISSING.format(openapi=openapi_url(request)), 503)
        base = assets(request)
        return get_redoc_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} — API",
            redoc_js_url=f"{base}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{base}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )

    app.add_api_route("/docs", swagger, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)
    if installed("swagger-ui-dist", "swagger-ui-bundle.js"):
        app.mount(
            f"{ASSETS_PATH}/swagger-ui", StaticFiles(directory=package_dir("swagger-ui-dist")), "swagger-ui"
        )
    app.add_api_route(
        f"{ASSETS_PATH}/redoc/redoc.standalone.js", redoc_script, methods=["GET"], include_in_schema=False
    )


@cache
def _redoc_bundle() -> bytes:
    """ReDoc's bundle, minus the one thing it fetches from the internet whatever its options say: the
    Redocly logo under the menu (an empty image instead)."""
    text = (package_dir("redoc") / "bundles" / "redoc.standalone.js").read_text(encoding="utf-8")
    return text.replace(_REDOCLY_LOGO, _EMPTY_IMAGE).encode("utf-8")


def redoc_script() -> Response:
    if not installed("redoc", "bundles/redoc.standalone.js"):
        return Response("// ReDoc is not installed", status_code=404, media_type="text/javascript")
    return Response(_redoc_bundle(), media_type="text/javascript")
