"""Links into the served PDFs, built in this one place for everything that links to a page (API, chat UI).

A citation links to ``GET /v1/documents/{doc_id}/pdf`` with a ``#page=N`` fragment, which
PDF viewers (the ones built into browsers included) use to open the file at that page, and to
the in-app viewer (``/viewer/``), which opens the page with the quoted passage marked.
The links are root-relative, so they work on whatever host and port serves the app.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

VIEWER_QUOTE_CHARS = 400  # of a quote, in a viewer link: enough to place it, short enough for any URL limit


def pdf_url(doc_id: str, *, base: str = "") -> str:
    """The path that serves a document's PDF; ``base`` is an optional prefix (e.g. a proxy's root path)."""
    return f"{base.rstrip('/')}/v1/documents/{quote(doc_id, safe='')}/pdf"


def citation_url(doc_id: str, page: int, *, base: str = "") -> str:
    """The link that opens a document's PDF at a 1-based physical page."""
    if int(page) < 1:
        raise ValueError(f"page numbers start at 1, got {page}")
    return f"{pdf_url(doc_id, base=base)}#page={int(page)}"


def viewer_url(doc_id: str, page: int, quoted: str, *, base: str = "") -> str:
    """The in-app viewer at a cited page, with the quoted passage marked when it can be placed."""
    if int(page) < 1:
        raise ValueError(f"page numbers start at 1, got {page}")
    query = urlencode({"doc": doc_id, "page": int(page), "quote": quoted[:VIEWER_QUOTE_CHARS]})
    return f"{base.rstrip('/')}/viewer/?{query}"
