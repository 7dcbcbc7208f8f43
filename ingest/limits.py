"""How much one document may cost to read: pages, characters, wall time, memory.

A hostile or broken PDF (thousands of pages sharing one content stream, a page that is one line
of fifty thousand characters, a file that keeps PDFium busy) is rejected with its own code when it
passes a limit, and the rest of the run goes on. The checks run while the file is read, so a file
costs at most about its limit:

* pages are counted before any is read (``too_many_pages``);
* each page's characters are counted before its text is laid out (``page_text_too_long``), and
  added up for the document (``too_much_text``);
* the wall time is checked between pages (``extraction_timeout``); in a reader process (see
  ``ingest.readahead``) a watchdog also ends the process when one call runs past the limit;
* a reader process may map at most ``memory_mb`` (``RLIMIT_AS``); the ingest process itself is
  never limited, since a server's index and model live there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.settings import Settings

LIMIT_CODES = frozenset(
    {"too_many_pages", "too_much_text", "page_text_too_long", "extraction_timeout", "out_of_memory"}
)


@dataclass(frozen=True)
class Limits:
    """None means unlimited (the evals read PDFs without limits)."""

    max_pages: int | None = None
    max_document_chars: int | None = None
    max_page_chars: int | None = None
    seconds: float | None = None
    memory_mb: int | None = None

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_pages=settings.max_pages,
            max_document_chars=settings.max_document_chars,
            max_page_chars=settings.max_page_chars,
            seconds=settings.extract_timeout_s,
            memory_mb=settings.extract_memory_mb or None,
        )

    def deadline(self) -> float | None:
        """The ``time.monotonic()`` by which a read that starts now must end."""
        return None if self.seconds is None else time.monotonic() + self.seconds


UNLIMITED = Limits()
