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

Uploads, deletes and ingests run one at a time: in one process under the uploads lock, across
processes on one machine under the ingest write lock, which an upload holds from the rename in
step 3 to the end of its ingest.

A process killed mid-upload can leave a staging folder and an ``uploads/<doc_id>.pdf`` that no
document names. ``sweep`` removes both; it runs before every ingest, upload and delete, and at
warm-up. A staging folder is in use while its upload holds an exclusive ``flock`` on the
``.lock`` file inside it: the kernel drops the lock when the process dies, however it dies, so a
folder whose lock can be taken belongs to no living upload (another thread or process of this
machine uploading right now keeps its lock, and its folder). A folder without a lock file (a
process killed between creating the folder and the lock) is left alone for
``STAGING_GRACE_S``, which covers that instant many times over. An upload file is an orphan
when no live document's source path is that file; the sweep holds the write lock, under which
every upload renames and ingests its file, so it never sees one half-way.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from core.errors import Kind, StorageFailure, UploadRejected
from core.settings import Settings
from core.store import Store
from ingest.doc_ids import is_safe_doc_id
from ingest.limits import LIMIT_CODES
from ingest.pipeline import file_sha256
from ingest.report import FileResult, IngestReport

log = logging.getLogger(__name__)

MIB = 1024 * 1024
_COPY_BLOCK = MIB
STAGING_GRACE_S = 300  # a staging folder without its lock file is left alone this long
_LOCK_NAME = ".lock"
_PREVIOUS = "previous"  # staging/previous/<doc_id>.pdf: the replaced version, until the ingest ends


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
    def __call__(self, paths: Sequence[Path], *, allow_duplicates: bool = False) -> IngestReport: ...


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
                raise _unwritable(self.settings.data_dir, exc) from None
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
    def add(
        self, stream: BinaryIO, doc_id: str, *, allow_duplicate: bool = False
    ) -> tuple[IngestReport, FileResult]:
        """Save and ingest one PDF; raise ``UploadRejected`` for files that cannot be ingested, and
        for a copy of a live document unless ``allow_duplicate``."""
        target = self._target(doc_id)
        staging = self.staging_root / uuid.uuid4().hex
        try:
            staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _unwritable(self.folder, exc) from None
        try:
            with open(staging / _LOCK_NAME, "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # this folder is in use for as long as the upload lives
                staged = staging / target.name
                self._save(stream, staged)
                with self.exclusive():
                    return self._swap_and_ingest(
                        staged, target, staging / _PREVIOUS / target.name, allow_duplicate
                    )
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _save(self, stream: BinaryIO, staged: Path) -> None:
        limit = self.settings.max_upload_mb * MIB
        size = 0
        head = b""
        with _writing(self.folder):  # errors of the file system, not of the client's stream
            out = open(staged, "wb")
        with out:
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
                with _writing(self.folder):
                    out.write(block)
            with _writing(self.folder):
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

    def _swap_and_ingest(
        self, staged: Path, target: Path, backup: Path, allow_duplicate: bool
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
            report = self.ingest([target], allow_duplicates=allow_duplicate)
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
                    if self._abandoned(folder):
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

    @staticmethod
    def _abandoned(folder: Path) -> bool:
        if not folder.is_dir():
            return True
        try:
            fh = open(folder / _LOCK_NAME, "r")
        except FileNotFoundError:
            return time.time() - folder.stat().st_mtime > STAGING_GRACE_S
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # a living upload holds it
            fcntl.flock(fh, fcntl.LOCK_UN)
            return True

    def _recover(self, folder: Path) -> None:
        """A process killed after renaming the new file into place but before its ingest ended left
        the live document's file replaced: put the previous version back if it is the indexed one."""
        for previous in (folder / _PREVIOUS).glob("*.pdf"):
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
    def delete(self, doc_id: str) -> tuple[bool, bool]:
        """(deleted, file_removed); the PDF file goes too when it was an upload."""
        store = self.store
        with self.exclusive():
            record = store.snapshot().documents.get(doc_id)
            if record is None:
                return False, False
            store.delete_document(doc_id)
            if self.is_upload(record.source_path):
                Path(record.source_path).unlink(missing_ok=True)
                return True, True
            return True, False


def _resolved(path: str) -> Path:
    return Path(path).resolve()


def _unwritable(folder: Path, exc: OSError) -> StorageFailure:
    return StorageFailure(
        f"cannot write the data folder {folder} ({exc.strerror or type(exc).__name__}): uploads, "
        "deletes and ingests are unavailable until it is writable; answers are not affected"
    )


@contextmanager
def _writing(folder: Path) -> Iterator[None]:
    """File system errors of the block as ``StorageFailure`` (a full disk while saving an upload)."""
    try:
        yield
    except OSError as exc:
        raise _unwritable(folder, exc) from None
