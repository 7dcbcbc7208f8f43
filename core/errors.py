"""The errors a user can act on, each with a stable machine-readable ``code``.

Domain code raises these; each shell turns them into its medium in one place: the HTTP API
into a status and ``{"error": {"code", "message"}}`` (``policyqa.api.errors``), the CLI into
``error: …`` and an exit status (``policyqa.cli``), the chat into a polite Japanese sentence
(``ui.formatting``). The ``kind`` says what sort of failure it is, so a shell maps kinds, not
classes, and a new error needs no change in any shell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

# An absolute path: a "/" not inside a word or a URL, and one or more components.
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])(?:/[^\s/'\"(),:;]+)+/?")


def without_paths(text: str) -> str:
    """``text`` with each absolute path cut to its last component (``…/chroma``): messages sent to
    clients must not map the server's folders."""
    return _ABSOLUTE_PATH.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


class Kind(StrEnum):
    INVALID = "invalid"  # the input is wrong; sending it again will fail again
    NOT_FOUND = "not_found"  # it names something that does not exist
    TOO_LARGE = "too_large"  # larger than a configured limit
    UNSUPPORTED = "unsupported"  # a kind of input this product does not read
    UNAVAILABLE = "unavailable"  # something it depends on is down; retrying later may work
    STORAGE_FULL = "storage_full"  # a bounded file reached its limit
    CONFLICT = "conflict"  # it clashes with what is already there (a copy of a live document)
    BUSY = "busy"  # too much of it is already waiting; retrying later may work


class PolicyQAError(Exception):
    """Base of every error a shell shows to a user (never a traceback)."""

    code = "error"
    kind = Kind.INVALID
    retry_after_s: int | None = None  # tells clients when retrying may work

    def __init__(
        self, message: str, *, code: str | None = None, kind: Kind | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if kind is not None:
            self.kind = kind
        self.details = details

    def public_message(self) -> str:
        """The sentence shown to a client; subclasses add what the client can do about it."""
        return self.message


class UnknownDocuments(PolicyQAError):
    code = "unknown_document"
    kind = Kind.NOT_FOUND

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__(
            f"unknown document id(s): {', '.join(self.missing)}", details={"missing": self.missing}
        )


class StoreUnavailable(PolicyQAError):
    """Chroma cannot be reached (server down, timed out)."""

    code = "store_unavailable"
    kind = Kind.UNAVAILABLE
    retry_after_s: int | None = 5

    def public_message(self) -> str:
        return (
            "the document index (Chroma) cannot be reached right now; retry shortly. "
            f"Cause: {without_paths(self.message)}"
        )


class StorageFailure(StoreUnavailable):
    """The embedded index's files cannot be written (disk full, read-only folder); nothing is half
    written, and the next run after fixing it carries on."""

    code = "storage_failure"
    retry_after_s = None

    def public_message(self) -> str:
        return without_paths(self.message)


class IndexDamaged(StoreUnavailable):
    """The embedded index's vector files cannot be read (a process was killed while Chroma
    rewrote them) and cannot be rebuilt by this caller; the records themselves are intact."""

    code = "index_damaged"
    retry_after_s = None

    def public_message(self) -> str:
        return without_paths(self.message)


class EmbedderMismatch(PolicyQAError):
    """The index was built with another embedder; its vectors would not be comparable."""

    code = "embedder_mismatch"
    kind = Kind.UNAVAILABLE


class EmbedderError(PolicyQAError):
    """The configured embedder cannot be loaded (unknown name, missing model files or extra)."""

    code = "embedder_unavailable"
    kind = Kind.UNAVAILABLE


class ManifestError(PolicyQAError):
    """The corpus manifest (manifest.toml) cannot be read or has invalid entries."""

    code = "invalid_manifest"


class UploadRejected(PolicyQAError):
    """An uploaded file or its id cannot be ingested; ``code`` says why (``not_pdf``, ``too_large``,
    ``invalid_doc_id``, ``duplicate_document``, or the ingest failure's code such as ``encrypted``)."""

    code = "ingest_failed"


class UploadQueueFull(PolicyQAError):
    """As many uploads wait as the queue holds (``POLICYQA_UPLOAD_QUEUE``) besides the one running."""

    code = "upload_queue_full"
    kind = Kind.BUSY
    retry_after_s: int | None = 30


class UnknownJob(PolicyQAError):
    """No job has this id in this process (jobs live in memory: a restart forgets them)."""

    code = "unknown_job"
    kind = Kind.NOT_FOUND


class LlmNotConfigured(PolicyQAError):
    code = "llm_not_configured"


class FeedbackUnavailable(PolicyQAError):
    """The feedback file cannot take this vote (full, or not writable); nothing was half written."""

    code = "feedback_unavailable"
    kind = Kind.UNAVAILABLE
