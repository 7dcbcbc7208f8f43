"""Uploaded PDFs: saved safely under ``<data_dir>/uploads`` and ingested like any other file.

Nothing here knows HTTP: problems are ``UploadRejected`` errors with a stable code and kind, which
the API maps to a status like every other domain error.

The flow for one upload:

1. the document id comes from the ``doc_id`` form field or else the file name's stem, and must be a
   plain name (letters, digits, ``_``, ``.``, ``-``; no path), so the file cannot land outside the
   uploads folder;
2. the bytes are streamed into a private staging folder next to the uploads folder, counting
   against ``max_upload_mb``; the first bytes must carry the ``%PDF-`` signature;
3. the staged file is renamed atomically to ``uploads/<doc_id>.pdf`` (a previous upload of the same
   id is kept as a hard link), and the service's ``ingest([that file])`` ingests it;
4. if ingestion rejects the file, the previous file is put back (or the new one removed): the index
   and the folder look exactly as before.

Uploads and deletes in one process run one at a time; across processes on one machine the
ingest write lock orders them.
"""

from __future__ import annotations

import os
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from core.errors import Kind, UploadRejected
from core.settings import Settings
from core.store import Store
from ingest.doc_ids import is_safe_doc_id
from ingest.pipeline import FileResult, IngestReport

MIB = 1024 * 1024
_COPY_BLOCK = MIB


def choose_doc_id(form_doc_id: str | None, filename: str | None) -> str:
    """The document id for an upload, or an ``UploadRejected`` saying why neither the field nor the file
    name will do."""
    if form_doc_id is not None and form_doc_id.strip():
        doc_id = unicodedata.normalize("NFC", form_doc_id.strip())
        if not is_safe_doc_id(doc_id):
            raise UploadRejected(
                f"doc_id {form_doc_id!r} is not allowed: use 1-128 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit",
                code="invalid_doc_id",
            )
        return doc_id
    name = unicodedata.normalize("NFC", (filename or "").strip())
    if not name:
        raise UploadRejected("the upload has no file name: send a doc_id form field", code="invalid_doc_id")
    if any(sep in name for sep in ("/", "\\", "\x00")) or name.startswith("."):
        raise UploadRejected(
            f"file name {filename!r} contains a path or starts with '.'; send a plain file name "
            "such as report.pdf, or a doc_id form field",
            code="unsafe_file_name",
        )
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    if not is_safe_doc_id(stem):
        raise UploadRejected(
            f"file name {filename!r} does not make a valid document id (letters, digits, '_', '.', '-'); "
            "send a doc_id form field",
            code="invalid_doc_id",
        )
    return stem


class Uploads:
    """Owns the uploads folder of one data directory."""

    def __init__(self, settings: Settings, store: Store, ingest: Callable[[Sequence[Path]], IngestReport]):
        self.settings = settings
        self.store = store
        self.ingest = ingest
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return self.settings.uploads_dir

    def _target(self, doc_id: str) -> Path:
        folder = self.folder.resolve()
        target = (folder / f"{doc_id}.pdf").resolve()
        if target.parent != folder:  # belt and braces: choose_doc_id already allows no separators
            raise UploadRejected(
                f"document id {doc_id!r} would leave the uploads folder", code="unsafe_file_name"
            )
        return target

    def is_upload(self, source_path: str) -> bool:
        if not source_path:
            return False
        try:
            return Path(source_path).resolve().parent == self.folder.resolve()
        except OSError:
            return False

    # ------------------------------------------------------------------ add
    def add(self, stream: BinaryIO, doc_id: str) -> tuple[IngestReport, FileResult]:
        """Save and ingest one PDF; raise ``UploadRejected`` for files that cannot be ingested."""
        target = self._target(doc_id)
        staging = self.folder / ".incoming" / uuid.uuid4().hex
        staging.mkdir(parents=True, exist_ok=True)
        try:
            staged = staging / target.name
            self._save(stream, staged)
            with self._lock:
                return self._swap_and_ingest(staged, target, staging / "previous.pdf")
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _save(self, stream: BinaryIO, staged: Path) -> None:
        limit = self.settings.max_upload_mb * MIB
        size = 0
        head = b""
        with open(staged, "wb") as out:
            while block := stream.read(_COPY_BLOCK):
                size += len(block)
                if size > limit:
                    raise UploadRejected(
                        f"the file is larger than the upload limit of {self.settings.max_upload_mb} MB "
                        "(POLICYQA_MAX_UPLOAD_MB)",
                        code="too_large",
                        kind=Kind.TOO_LARGE,
                    )
                if len(head) < 1024:
                    head += block[: 1024 - len(head)]
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise UploadRejected("the uploaded file is empty (0 bytes)", code="empty_file")
        if b"%PDF-" not in head:
            raise UploadRejected(
                "the uploaded file is not a PDF (no %PDF- signature at its start)",
                code="not_pdf",
                kind=Kind.UNSUPPORTED,
            )

    def _swap_and_ingest(self, staged: Path, target: Path, backup: Path) -> tuple[IngestReport, FileResult]:
        had_previous = target.exists()
        if had_previous:
            try:
                os.link(target, backup)
            except OSError:  # no hard links on this file system
                shutil.copy2(target, backup)
        os.replace(staged, target)

        def restore() -> None:
            if had_previous:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)

        try:
            report = self.ingest([target])
        except BaseException:
            restore()
            raise
        result = report.files[0]
        if result.status == "failed":
            restore()
            kind = Kind.UNSUPPORTED if result.error_code == "not_pdf" else Kind.INVALID
            raise UploadRejected(
                result.error or "the PDF cannot be ingested",
                code=result.error_code or "ingest_failed",
                kind=kind,
            )
        if result.status == "unchanged":
            record = self.store.snapshot().documents.get(result.doc_id)
            if record is not None and record.source_path != str(target):
                restore()  # the same content is already live from another file; keep no second copy
        return report, result

    # ------------------------------------------------------------------ delete
    def delete(self, doc_id: str) -> tuple[bool, bool]:
        """(deleted, file_removed); the PDF file goes too when it was an upload."""
        store = self.store
        with self._lock, store.write_lock():
            record = store.snapshot().documents.get(doc_id)
            if record is None:
                return False, False
            store.delete_document(doc_id)
            if self.is_upload(record.source_path):
                Path(record.source_path).unlink(missing_ok=True)
                return True, True
            return True, False
