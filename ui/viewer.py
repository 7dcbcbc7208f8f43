"""The in-app page viewer at ``/viewer/``: one cited page, with the quoted passage marked.

The page is drawn by PDF.js with its text layer over it; the quote is placed in that text in the
browser (``ui/web/quote.js``), so the mark sits on the very characters PDF.js drew.

PDF.js comes from the npm package ``pdfjs-dist`` (``ui/web/package.json``), installed by the
setup scripts and served by the app itself, so the viewer works offline and loads nothing from a
CDN. Where the package is not installed the viewer says so and links the PDF itself.
"""

from __future__ import annotations

import html

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from ui.web_assets import WEB, installed, package_dir

ASSETS = WEB
PDFJS = package_dir("pdfjs-dist")
VIEWER_PATH = "/viewer"

NOT_INSTALLED = """<!doctype html><html lang="ja"><meta charset="utf-8"><title>資料ビューア</title>
<p>資料ビューア（PDF.js）がこのサーバーにインストールされていません（<code>npm ci --prefix ui/web</code>）。
<a href="{pdf}">PDFを開く</a></p></html>"""


def pdfjs_installed() -> bool:
    return installed("pdfjs-dist", "build/pdf.min.mjs")


def mount_viewer(app: FastAPI) -> None:
    """Add ``/viewer/`` (the page), ``/viewer/app.js``, ``/viewer/quote.js`` and ``/viewer/pdfjs/…`` to ``app``."""

    def page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        if not pdfjs_installed():
            doc = request.query_params.get("doc", "")
            return HTMLResponse(NOT_INSTALLED.format(pdf=html.escape(f"{root}/v1/documents/{doc}/pdf")), 503)
        text = (ASSETS / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(text.replace("__ROOT__", html.escape(root, quote=True)))

    def script() -> FileResponse:
        return FileResponse(ASSETS / "viewer.js", media_type="text/javascript")

    def quote_script() -> FileResponse:
        return FileResponse(ASSETS / "quote.js", media_type="text/javascript")

    def to_slash(request: Request) -> RedirectResponse:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{request.scope.get('root_path', '')}{VIEWER_PATH}/{query}", status_code=307)

    app.add_api_route(VIEWER_PATH, to_slash, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{VIEWER_PATH}/", page, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{VIEWER_PATH}/app.js", script, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{VIEWER_PATH}/quote.js", quote_script, methods=["GET"], include_in_schema=False)
    if pdfjs_installed():
        app.mount(f"{VIEWER_PATH}/pdfjs", StaticFiles(directory=PDFJS), name="pdfjs")
