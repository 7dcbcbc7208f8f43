"""What an ingest run did, file by file: the report the CLI prints and the API returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FileResult:
    path: str
    doc_id: str
    status: str  # added | updated | unchanged | duplicate (skipped) | failed
    pages: int = 0
    chunks: int = 0
    error_code: str | None = None
    error: str | None = None
    seconds: float = 0.0
    duplicate_of: str | None = None  # the live document with the same bytes, for a duplicate


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)  # manifest documents not present
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def count(self, *statuses: str) -> int:
        return sum(1 for f in self.files if f.status in statuses)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> dict[str, Any]:
        done = [f for f in self.files if f.status in ("added", "updated", "unchanged")]
        return {
            "documents": len(done),
            "added": self.count("added"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "duplicates": self.count("duplicate"),
            "failed": len(self.failed),
            "pruned": len(self.pruned),
            "pages": sum(f.pages for f in done),
            "chunks": sum(f.chunks for f in done),
            "seconds": round(self.seconds, 2),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "files": [f.__dict__ for f in self.files],
            "pruned": self.pruned,
            "missing": self.missing,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }
