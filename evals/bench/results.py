"""What each benchmark phase measured, as typed records; the JSON report is their ``to_dict()``.

A phase builds one of these, so a figure it forgot is a ``TypeError`` where it is made, not a
missing key discovered when the table is printed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Latency = dict[str, Any]  # evals.load.latency_summary: n, p50_ms, p95_ms, p99_ms, mean_ms, max_ms


def _without_none(record: Any) -> dict[str, Any]:
    return {k: v for k, v in asdict(record).items() if v is not None}


@dataclass(frozen=True)
class IngestRun:
    """One ``policyqa ingest`` in a child process; the throughput fields only for the cold run."""

    wall_s: float
    run_s: float
    peak_rss_mb: float
    documents: int
    pages: int
    chunks: int
    added: int
    unchanged: int
    failed: int
    pages_per_s: float | None = None
    chunks_per_s: float | None = None
    pages_per_s_wall: float | None = None
    timings_s: dict[str, float] | None = None
    timings_share: dict[str, float] | None = None
    other_s: float | None = None
    ms_per_page: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return _without_none(self)


@dataclass(frozen=True)
class InProcessRun:
    """``search()`` and ``answer()`` called in the benchmark's own process."""

    service_load_s: float
    index_load_s: float
    warmup_s: float
    search: Latency
    answer: Latency
    answer_timings_p50_ms: dict[str, float]
    abstained: int
    distinct_questions: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HttpRun:
    """``POST /v1/answer`` against a child ``policyqa serve``, one client after another."""

    startup_s: float
    ready_s: float
    answer: Latency
    statuses: dict[str, int]
    errors: int
    error_samples: list[str]
    serve_rss_mb: float | None
    distinct_questions: int
    serve_rss_after_load_mb: float | None = None
    load: dict[str, Any] | None = field(default=None, repr=False)  # reported beside the run, not in it

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("load")
        if data["serve_rss_after_load_mb"] is None:  # only measured with a load test
            del data["serve_rss_after_load_mb"]
        return data
