"""Uploaded PDFs: saved safely under ``<data_dir>/uploads`` and ingested like any other file.

Nothing here knows HTTP: problems are ``UploadRejected`` errors with a stable code and kind, which
the API maps to a status like every other domain error.

The flow for one upload:

1. the document id comes from the ``doc_id`` form field or else the file name's stem, and must be a
   plain name (letters, digits, ``_``, ``.``, ``-``; no path), so the file cannot land outside the
   uploads folder;
2. ``stage``: the bytes are streamed into a private staging folder next to the uploads folder
   (``rag.staging``: size limit, ``%PDF-`` signature, sha256), and a copy of a live document is
   refused at once; this is all the request itself waits for;
3. ``ingest_staged`` (an upload job, ``rag.jobs``): the staged file is renamed atomically to
   ``uploads/<doc_id>.pdf`` (a previous upload of the same id is kept as a hard link), and the
   service's ``ingest([that file])`` ingests it;
4. if ingestion rejects the file, the previous file is put back (or the new one removed): the index
   and the folder look exactly as before.

Ingests of uploads, deletes and ingests run one at a time: in one process under the uploads lock,
across processes on one machine under the ingest write lock, which an upload holds from the rename
in step 3 to the end of its ingest.

A process killed mid-upload can leave a staging folder and an ``uploads/<doc_id>.pdf`` that no
document names. ``sweep`` removes both; it runs before every ingest, upload and delete, and at
warm-up. It leaves every staging folder whose lock is held (see ``rag.staging``): a file staged by
a request and waiting for its job keeps its folder until the job has run. An upload file is an
orphan when no live document's source path is that file; the sweep holds the write lock, under
which every upload renames and ingests its file, so it never sees one half-way.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from core.errors import Kind, UploadRejected
from core.pace import Pace
from core.settings import Settings
from core.store import Store
from ingest.doc_ids import is_safe_doc_id
from ingest.limits import LIMIT_CODES
from ingest.pipeline import Background, file_sha256
from ingest.report import FileResult, IngestReport
from rag.staging import PREVIOUS, Staged, abandoned, stage, unwritable

log = logging.getLogger(__name__)


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


class IngestFiles(Protocol):
    def __call__(
        self,
        paths: Sequence[Path],
        *,
        allow_duplicates: bool = False,
        background: Background | None = None,
    ) -> IngestReport: ...


class Uploads:
    """Owns the uploads folder of one data directory."""

    def __init__(self, settings: Settings, store: Store, ingest: IngestFiles):
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

    @property
    def staging_root(self) -> Path:
        return self.folder / ".incoming"

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """No upload, delete or ingest runs alongside: held by every one of them, leftovers of
        killed uploads swept first."""
        with self._lock, ExitStack() as stack:
            try:
                stack.enter_context(self.store.write_lock())
            except OSError as exc:  # the data folder is read-only, or not a folder at all
                raise unwritable(self.settings.data_dir, exc) from None
            self.sweep()
            yield

    def sweep_if_idle(self) -> None:
        """``sweep`` unless a write is under way (then that write sweeps); for start-up, which must
        neither wait for a long ingest nor fail on a read-only data folder."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            with self.store.write_lock(wait=False) as held:
                if held:
                    self.sweep()
        except OSError as exc:
            log.warning("cannot clean the uploads folder now (%s); it is retried at the next write", exc)
        finally:
            self._lock.release()

    # ------------------------------------------------------------------ add
    def stage(self, stream: BinaryIO, doc_id: str, *, allow_duplicate: bool = False) -> Staged:
        """Save the upload in a staging folder and do the checks that need no ingest (size,
        signature, a copy of a live document unless ``allow_duplicate``); the caller owns the
        result and must ``release`` it."""
        self._target(doc_id)
        staged = stage(stream, self.staging_root, doc_id, self.settings.max_upload_mb)
        try:
            if not allow_duplicate:
                self._refuse_copy(staged)
        except BaseException:
            staged.release()
            raise
        return staged

    def _refuse_copy(self, staged: Staged) -> None:
        """The ingest's own duplicate rule (a live document with these bytes whose file is still
        there, under another id), checked before the upload waits for its turn."""
        owners = [
            doc_id
            for doc_id, record in sorted(self.store.snapshot().documents.items())
            if record.sha256 == staged.sha256 and record.source_path and Path(record.source_path).is_file()
        ]
        if owners and staged.doc_id not in owners:
            raise UploadRejected(
                f"{staged.file.name}: the same file (sha256 {staged.sha256[:12]}…) is already indexed as "
                f"{owners[0]!r}; send allow_duplicate=true to index a second copy on purpose",
                code="duplicate_document",
                kind=Kind.CONFLICT,
                details={"duplicate_of": owners[0]},
            )

    def ingest_staged(
        self,
        staged: Staged,
        *,
        allow_duplicate: bool = False,
        background: Background | None = None,
    ) -> tuple[IngestReport, FileResult]:
        """Move a staged upload into place and ingest it; raise ``UploadRejected`` for a file that
        cannot be ingested (everything as before then). The staged folder stays the caller's."""
        target = self._target(staged.doc_id)
        with self.exclusive():
            return self._swap_and_ingest(staged.file, target, staged.backup, allow_duplicate, background)

    def _swap_and_ingest(
        self,
        staged: Path,
        target: Path,
        backup: Path,
        allow_duplicate: bool,
        background: Background | None,
    ) -> tuple[IngestReport, FileResult]:
        had_previous = target.exists()
        if had_previous:
            backup.parent.mkdir()
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
            report = self.ingest([target], allow_duplicates=allow_duplicate, background=background)
        except BaseException:
            restore()
            raise
        result = report.files[0]
        if result.status == "duplicate":
            restore()
            raise UploadRejected(
                result.error or "the file is already indexed",
                code="duplicate_document",
                kind=Kind.CONFLICT,
                details={"duplicate_of": result.duplicate_of},
            )
        if result.status == "failed":
            restore()
            kind = Kind.UNSUPPORTED if result.error_code == "not_pdf" else Kind.INVALID
            if result.error_code in LIMIT_CODES:
                kind = Kind.TOO_LARGE
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

    # ------------------------------------------------------------------ sweep
    def sweep(self) -> list[Path]:
        """Remove what killed uploads left behind (see the module's docstring); what was removed.
        Never raises for the file system: a folder that cannot be cleaned now is cleaned next time."""
        removed: list[Path] = []
        try:
            if self.staging_root.is_dir():
                for folder in sorted(self.staging_root.iterdir()):
                    if abandoned(folder):
                        self._recover(folder)
                        shutil.rmtree(folder, ignore_errors=True)
                        removed.append(folder)
            if self.folder.is_dir():
                live = {
                    _resolved(r.source_path)
                    for r in self.store.snapshot().documents.values()
                    if r.source_path
                }
                for path in sorted(self.folder.glob("*.pdf")):
                    if path.is_file() and path.resolve() not in live:
                        path.unlink(missing_ok=True)
                        removed.append(path)
        except OSError as exc:
            log.warning("cannot clean the uploads folder now (%s); it is retried at the next write", exc)
        for path in removed:
            log.info("removed a leftover of an interrupted upload: %s", path.relative_to(self.folder))
        return removed

    def _recover(self, folder: Path) -> None:
        """A process killed after renaming the new file into place but before its ingest ended left
        the live document's file replaced: put the previous version back if it is the indexed one."""
        for previous in (folder / PREVIOUS).glob("*.pdf"):
            target = self.folder / previous.name
            record = next(
                (
                    r
                    for r in self.store.snapshot().documents.values()
                    if r.source_path and _resolved(r.source_path) == target.resolve()
                ),
                None,
            )
            if record is not None and file_sha256(previous) == record.sha256:
                os.replace(previous, target)
                log.info("restored %s, whose replacement was interrupted", target.name)

    # ------------------------------------------------------------------ delete
    def delete(self, doc_id: str, pace: Pace | None = None) -> tuple[bool, bool]:
        """(deleted, file_removed); the PDF file goes too when it was an upload."""
        store = self.store
        with self.exclusive():
            record = store.snapshot().documents.get(doc_id)
            if record is None:
                return False, False
            store.delete_document(doc_id, pace)
            if self.is_upload(record.source_path):
                Path(record.source_path).unlink(missing_ok=True)
                return True, True
            return True, False


def _resolved(path: str) -> Path:
    return Path(path).resolve()
