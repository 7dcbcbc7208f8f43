"""Ingestion: PDF files in, a consistent index out.

Incremental (a file whose content and ingest settings are unchanged is skipped),
idempotent (chunk ids are derived from content) and crash-safe (see
``core.store``: a document becomes visible only once all of it is written). Bad
files are reported with a specific reason and skipped; the rest is ingested.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from core.embedders import Embedder, threads_limited
from core.pace import BACKGROUND, Pace
from core.settings import Settings
from core.store import ChunkMeta, DocumentRecord, DocumentWrite, RegistrySnapshot, Store
from core.store.records import chunk_id
from core.tokenize import TOKENIZER_VERSION, Tokenizer
from ingest.chunking import CHUNKER_VERSION
from ingest.doc_ids import doc_id_of
from ingest.layout import HEADING_MAX_CHARS
from ingest.limits import Limits
from ingest.manifest import ManifestEntry, load_manifest, missing_documents
from ingest.pdf import PdfDocument, PdfProblem
from ingest.preparing import Preparation
from ingest.readahead import read_ahead
from ingest.report import FileResult, IngestReport

ProgressFn = Callable[[str, int, int], None]  # (message, done, total)
WRITE_BATCH_PAGES = 512  # documents are written together until they hold this many pages...
WRITE_BATCH_DOCUMENTS = 16  # ...or this many documents


def discover_pdfs(paths: Iterable[Path]) -> list[Path]:
    """PDFs under the given folders (recursively) and the given files, each file once even when
    named twice (``policyqa ingest corpus corpus/x.pdf``)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf"))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest_fingerprint(settings: Settings, embedder_name: str) -> str:
    """Everything besides the file that shapes its chunks; a change re-ingests."""
    shape = f"{CHUNKER_VERSION}|{TOKENIZER_VERSION}|{settings.chunk_chars}|{settings.chunk_overlap_chars}"
    if settings.max_heading_chars != HEADING_MAX_CHARS:  # the default leaves existing indexes as they are
        shape += f"|h{settings.max_heading_chars}"
    return f"{shape}|{embedder_name}"


@dataclass(frozen=True)
class Background:
    """An ingest running beside the requests of a server (an upload job): paced (``core.pace``),
    files read in a reader process, large ones prepared in a helper (``ingest.preparing``).
    ``before_commit`` is handed to ``Store.write_documents``; ``on_phase`` hears what the run is
    doing (reading, preparing, writing, switching), for a job's state."""

    pace: Pace = BACKGROUND
    before_commit: Callable[[RegistrySnapshot], None] | None = None
    on_phase: Callable[[str], None] = lambda phase: None


class Ingestor:
    """Holds the loaded embedder, tokenizer and store so the CLI and the API share one code path."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder,
        tokenizer: Tokenizer | None = None,
        background: Background | None = None,
    ):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.tokenizer = tokenizer or Tokenizer()
        self.background = background
        self.pace = background.pace if background is not None else None

    def run(
        self,
        paths: Iterable[Path] | None = None,
        *,
        prune: bool = False,
        progress: ProgressFn | None = None,
        allow_duplicates: bool = False,
    ) -> IngestReport:
        """Ingest the files (default: the corpus folder). A file with the same bytes as another live
        document, or as a file before it in this run, is a duplicate: reported and skipped, unless
        ``allow_duplicates``. A document re-read under its own id (unchanged, or after a change of
        the ingest settings) is never its own duplicate."""
        started = time.perf_counter()
        report = IngestReport()
        paths = list(paths) if paths else [self.settings.corpus_dir]
        pdfs = discover_pdfs(paths)
        manifest = load_manifest(self.settings.corpus_dir)
        seen: dict[str, Path] = {}  # doc_id -> the file that claimed it in this run
        with self.store.write_lock():
            self.store.collect_garbage(self.pace)  # finish what an interrupted run left behind
            owners = self._owners()
            # First the cheap pass: which files changed. Only those are read, ahead, by workers.
            jobs: list[_Job] = []
            for pdf in pdfs:
                doc_id, code, message = doc_id_of(pdf)
                if doc_id is None:
                    report.files.append(
                        FileResult(
                            path=os.fsencode(pdf).decode("utf-8", "backslashreplace"),
                            doc_id="",
                            status="failed",
                            error_code=code,
                            error=message,
                        )
                    )
                    continue
                first = seen.setdefault(doc_id, pdf)
                if first is not pdf:
                    # Two files, one doc_id: ingesting both would make them overwrite each other on
                    # every run. The first one wins; the other is reported, never silently merged.
                    report.files.append(
                        FileResult(
                            path=str(pdf),
                            doc_id=doc_id,
                            status="failed",
                            error_code="duplicate_doc_id",
                            error=f"{pdf}: another file ({first}) already has the document id {doc_id!r}; "
                            "rename one of them",
                        )
                    )
                    continue
                result, job = self._plan(pdf, doc_id, manifest.get(doc_id))
                report.files.append(result)
                if job is None:
                    continue
                owner = owners.setdefault(job.sha, doc_id)
                own = job.current is not None and job.current.sha256 == job.sha
                if owner != doc_id and not own and not allow_duplicates:
                    result.status, result.error_code, result.duplicate_of = (
                        "duplicate",
                        "duplicate_document",
                        owner,
                    )
                    result.error = (
                        f"{pdf.name}: the same file (sha256 {job.sha[:12]}…) is already indexed as "
                        f"{owner!r}; skipped. To index a second copy on purpose, allow duplicates "
                        "(policyqa ingest --allow-duplicate, or the allow_duplicate upload field)"
                    )
                    continue
                jobs.append(job)
            if progress:
                progress(jobs[0].path.name if jobs else "done", 0, len(jobs))
            # While workers read PDFs, the embedder leaves them their cores.
            workers = self.settings.ingest_workers if len(jobs) > 1 else 0
            if self.pace is not None and jobs:
                workers = max(1, workers)  # a server reads even one file in a reader process
            with threads_limited(self.embedder, max(1, self.settings.embed_threads - workers)):
                self._read_and_write(jobs, workers, report.timings, progress)
            if prune:
                present = {str(p.resolve()) for p in pdfs}
                for doc_id, record in sorted(self.store.snapshot().documents.items()):
                    if doc_id in seen:  # its file is here, maybe moved: not gone
                        continue
                    if (
                        record.source_path
                        and not Path(record.source_path).exists()
                        and record.source_path not in present
                    ):
                        self.store.delete_document(doc_id, self.pace)
                        report.pruned.append(doc_id)
            t = time.perf_counter()
            self.store.collect_garbage(self.pace)  # this run's spent markers and replaced versions
            report.timings["store"] = report.timings.get("store", 0.0) + time.perf_counter() - t
        live = set(self.store.snapshot().documents)
        report.missing = [
            {
                "doc_id": e.doc_id,
                "title": e.title,
                "landing_page": e.landing_page,
                "expected_path": str(self.settings.corpus_dir / f"{e.doc_id}.pdf"),
            }
            for e in missing_documents(manifest, live | {p.stem for p in pdfs})
        ]
        report.seconds = time.perf_counter() - started
        return report

    def _owners(self) -> dict[str, str]:
        """sha256 -> the live document with those bytes, for documents whose file is still there (a
        document whose file is gone was renamed or deleted: its bytes under a new name are no copy)."""
        owners: dict[str, str] = {}
        for doc_id, record in sorted(self.store.snapshot().documents.items()):
            if record.sha256 and record.source_path and Path(record.source_path).is_file():
                owners.setdefault(record.sha256, doc_id)
        return owners

    def _read_and_write(
        self, jobs: list[_Job], workers: int, timings: dict[str, float], progress: ProgressFn | None
    ) -> None:
        """Embedded documents are written a few at a time: each Chroma write has a fixed cost that
        grows with the index, so a batch shares it (see ``Store.write_documents``)."""
        batch: list[tuple[_Job, DocumentWrite]] = []
        preparation = Preparation(self.settings, self.tokenizer, self.embedder, self.pace)
        self._phase("reading")
        try:
            waited = time.perf_counter()
            for n, (job, (document, seconds)) in enumerate(
                zip(
                    jobs,
                    read_ahead(
                        [j.path for j in jobs],
                        workers,
                        Limits.of(self.settings),
                        background=self.pace is not None,
                    ),
                ),
                start=1,
            ):
                timings["extract_wait"] = timings.get("extract_wait", 0.0) + time.perf_counter() - waited
                timings["extract"] = timings.get("extract", 0.0) + seconds
                job.result.seconds = round(job.result.seconds + seconds, 3)
                self._phase("preparing")
                prepared = self._prepare(job, document, timings, preparation)
                if prepared is not None:
                    batch.append((job, prepared))
                if (
                    len(batch) >= WRITE_BATCH_DOCUMENTS
                    or sum(len(w.pages) for _, w in batch) >= WRITE_BATCH_PAGES
                ):
                    self._write(batch, timings)
                    batch = []
                if progress:
                    progress(jobs[n].path.name if n < len(jobs) else "done", n, len(jobs))
                waited = time.perf_counter()
        finally:
            preparation.close()  # the helper, if one was started, is not needed for writing
        if batch:
            self._write(batch, timings)

    def _write(self, batch: list[tuple[_Job, DocumentWrite]], timings: dict[str, float]) -> None:
        t = time.perf_counter()
        self._phase("writing")
        self.store.write_documents([w for _, w in batch], pace=self.pace, before_commit=self._before_commit)
        seconds = time.perf_counter() - t
        timings["store"] = timings.get("store", 0.0) + seconds
        pages = sum(len(w.pages) for _, w in batch) or 1
        for job, written in batch:
            job.result.status = "updated" if job.current is not None else "added"
            job.result.pages, job.result.chunks = len(written.pages), len(written.ids)
            job.result.seconds = round(job.result.seconds + seconds * len(written.pages) / pages, 3)

    def _phase(self, phase: str) -> None:
        if self.background is not None:
            self.background.on_phase(phase)

    def _before_commit(self, snap: RegistrySnapshot) -> None:
        if self.background is not None and self.background.before_commit is not None:
            self.background.on_phase("switching")
            self.background.before_commit(snap)

    def _plan(self, path: Path, doc_id: str, entry: ManifestEntry | None) -> tuple[FileResult, _Job | None]:
        """The file's result if nothing needs reading (unchanged, or unreadable), else the job."""
        t0 = time.perf_counter()
        result = FileResult(path=str(path), doc_id=doc_id, status="failed")
        try:
            sha = file_sha256(path)
        except OSError as exc:
            result.error_code, result.error = "unreadable", f"{path.name}: cannot read the file ({exc})"
            return result, None
        entry_json = json.dumps(entry.__dict__ if entry else {}, ensure_ascii=False, sort_keys=True)
        # The doc_id is part of the generation: two files with the same bytes under different
        # names are two documents, and their chunks and page records must never share a tag.
        gen = hashlib.sha256(
            f"{doc_id}|{sha}|{ingest_fingerprint(self.settings, self.embedder.name)}|{entry_json}".encode()
        ).hexdigest()[:20]
        current = self.store.snapshot().documents.get(doc_id)
        result.seconds = round(time.perf_counter() - t0, 3)
        if current is not None and current.gen == gen:
            result.status, result.pages, result.chunks = "unchanged", current.pages, current.chunks
            source = str(path.resolve())
            if current.source_path != source and not (
                current.source_path and Path(current.source_path).exists()
            ):
                # The file moved (its recorded place is gone): serve it from here. While the
                # recorded file still exists it stays the source; this one is only a copy.
                self.store.update_record(replace(current, source_path=source))
            return result, None
        return result, _Job(path, doc_id, sha, gen, entry, current, result)

    def _prepare(
        self,
        job: _Job,
        document: PdfDocument | PdfProblem,
        timings: dict[str, float],
        preparation: Preparation,
    ) -> DocumentWrite | None:
        """Chunk, tokenise and embed one read document; None (and the result says why) if it failed."""
        t0 = time.perf_counter()
        result = job.result
        try:
            if isinstance(document, PdfProblem):
                result.error_code, result.error = document.code, document.message
                return None
            chunks, tokens, vectors, spent = preparation(document)
            for step, seconds in spent.items():
                timings[step] = timings.get(step, 0.0) + seconds
            entry, doc_id, sha, gen = job.entry, job.doc_id, job.sha, job.gen
            title = (
                (entry.title if entry else None)
                or document.metadata_title
                or document.first_page_title
                or doc_id
            )
            record = DocumentRecord(
                doc_id=doc_id,
                gen=gen,
                title=title,
                date=entry.date if entry else "",
                publisher=entry.publisher if entry else "",
                language=entry.language if entry else "ja",
                landing_page=entry.landing_page if entry else "",
                licence=entry.licence if entry else "",
                sha256=sha,
                pages=len(document.pages),
                chunks=len(chunks),
                ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
                source_path=str(job.path.resolve()),
            )
            metadatas = [
                ChunkMeta(
                    doc_id=doc_id,
                    gen=gen,
                    doc_title=title,
                    doc_date=record.date,
                    page=c.page,
                    chunk=c.index,
                    start=c.start,
                    end=c.end,
                    sha256=sha,
                    ingested_at=record.ingested_at,
                    tokens=tok,
                    heading=c.heading,
                )
                for c, tok in zip(chunks, tokens)
            ]
            return DocumentWrite(
                record,
                list(document.pages),
                [chunk_id(doc_id, gen, c.index) for c in chunks],
                [c.text for c in chunks],
                metadatas,
                vectors,
            )
        finally:
            result.seconds = round(result.seconds + time.perf_counter() - t0, 3)


@dataclass
class _Job:
    """A file that changed since it was last ingested (or is new): to be read, embedded, written."""

    path: Path
    doc_id: str
    sha: str
    gen: str
    entry: ManifestEntry | None
    current: DocumentRecord | None
    result: FileResult
