"""Links into the served PDFs, built in this one place for everything that links to a page (API, chat UI).

A citation links to ``GET /v1/documents/{doc_id}/pdf`` with a ``#page=N`` fragment, which
PDF viewers (the ones built into browsers included) use to open the file at that page.
The links are root-relative, so they work on whatever host and port serves the app.
"""

from __future__ import annotations

from urllib.parse import quote


def pdf_url(doc_id: str, *, base: str = "") -> str:
    """The path that serves a document's PDF; ``base`` is an optional prefix (e.g. a proxy's root path)."""
    return f"{base.rstrip('/')}/v1/documents/{quote(doc_id, safe='')}/pdf"


def citation_url(doc_id: str, page: int, *, base: str = "") -> str:
    """The link that opens a document's PDF at a 1-based physical page."""
    if int(page) < 1:
        raise ValueError(f"page numbers start at 1, got {page}")
    return f"{pdf_url(doc_id, base=base)}#page={int(page)}"
