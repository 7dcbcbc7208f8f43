"""An upload's bytes on their way in: streamed into a private staging folder and checked there.

The request that brings a file does the cheap checks here while the bytes arrive (the size limit,
the ``%PDF-`` signature, an empty file) and learns its sha256 on the way; the file then waits in
its folder, under ``<uploads>/.incoming/<random>/``, until its job has ingested it.

A staging folder is in use while its owner holds an exclusive ``flock`` on the ``.lock`` file
inside it: the kernel drops the lock when the process dies, however it dies, so a folder whose
lock can be taken belongs to no living upload (another thread or process of this machine, or a
job still waiting in the queue, keeps its lock and its folder). A folder without a lock file (a
process killed between creating the folder and the lock) is left alone for ``STAGING_GRACE_S``,
which covers that instant many times over. ``rag.uploads`` sweeps the abandoned ones.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from core.errors import Kind, StorageFailure, UploadRejected

MIB = 1024 * 1024
_COPY_BLOCK = MIB
STAGING_GRACE_S = 300  # a staging folder without its lock file is left alone this long
LOCK_NAME = ".lock"
PREVIOUS = "previous"  # <folder>/previous/<doc_id>.pdf: the replaced version, until the ingest ends


@dataclass
class Staged:
    """A checked upload waiting in its staging folder; ``release`` removes the folder and lets go of
    its lock (its job is done, or it was refused)."""

    doc_id: str
    folder: Path
    file: Path
    sha256: str
    size: int
    _lock: IO[str] = field(repr=False)

    @property
    def backup(self) -> Path:
        return self.folder / PREVIOUS / self.file.name

    def release(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self._lock.close()


def stage(stream: BinaryIO, root: Path, doc_id: str, limit_mb: int) -> Staged:
    """Save ``stream`` as ``<root>/<random>/<doc_id>.pdf``; raise ``UploadRejected`` for a file past the
    limit, an empty one or one that is no PDF (and leave nothing behind)."""
    folder = root / uuid.uuid4().hex
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = open(folder / LOCK_NAME, "w")
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise unwritable(root.parent, exc) from None
    fcntl.flock(lock, fcntl.LOCK_EX)  # this folder is in use for as long as the upload lives
    staged = Staged(doc_id, folder, folder / f"{doc_id}.pdf", "", 0, lock)
    try:
        staged.sha256, staged.size = _save(stream, staged.file, limit_mb, root.parent)
    except BaseException:
        staged.release()
        raise
    return staged


def _save(stream: BinaryIO, path: Path, limit_mb: int, folder: Path) -> tuple[str, int]:
    limit = limit_mb * MIB
    size = 0
    head = b""
    digest = hashlib.sha256()
    with writing(folder):  # errors of the file system, not of the client's stream
        out = open(path, "wb")
    with out:
        while block := stream.read(_COPY_BLOCK):
            size += len(block)
            if size > limit:
                raise UploadRejected(
                    f"the file is larger than the upload limit of {limit_mb} MB (POLICYQA_MAX_UPLOAD_MB)",
                    code="too_large",
                    kind=Kind.TOO_LARGE,
                )
            if len(head) < 1024:
                head += block[: 1024 - len(head)]
            digest.update(block)
            with writing(folder):
                out.write(block)
        with writing(folder):
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
    return digest.hexdigest(), size


def abandoned(folder: Path) -> bool:
    """No living upload owns this staging folder (see the module's docstring)."""
    if not folder.is_dir():
        return True
    try:
        fh = open(folder / LOCK_NAME)
    except FileNotFoundError:
        return time.time() - folder.stat().st_mtime > STAGING_GRACE_S
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a living upload holds it
        fcntl.flock(fh, fcntl.LOCK_UN)
        return True


def unwritable(folder: Path, exc: OSError) -> StorageFailure:
    return StorageFailure(
        f"cannot write the data folder {folder} ({exc.strerror or type(exc).__name__}): uploads, "
        "deletes and ingests are unavailable until it is writable; answers are not affected"
    )


@contextmanager
def writing(folder: Path) -> Iterator[None]:
    """File system errors of the block as ``StorageFailure`` (a full disk while saving an upload)."""
    try:
        yield
    except OSError as exc:
        raise unwritable(folder, exc) from None
