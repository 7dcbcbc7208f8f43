"""The benchmark's phase records: the JSON they write has the shape the table and the targets read."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from evals.bench.results import HttpRun, IngestRun, InProcessRun

RECORDED = Path(__file__).resolve().parents[1] / "data" / "bench" / "bench-1000-pages.json"
LATENCY = {"n": 3, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 2.0, "mean_ms": 1.3, "max_ms": 2.0}


@pytest.fixture()
def row() -> dict:
    return json.loads(RECORDED.read_text(encoding="utf-8"))["sizes"][0]


def test_records_rebuild_the_recorded_run_exactly(row: dict) -> None:
    """The recorded JSON (a real 1,000-page run) round-trips through the records unchanged."""
    assert IngestRun(**row["ingest"]["cold"]).to_dict() == row["ingest"]["cold"]
    assert IngestRun(**row["ingest"]["nochange"]).to_dict() == row["ingest"]["nochange"]
    assert InProcessRun(**row["inprocess"]).to_dict() == row["inprocess"]
    assert HttpRun(**row["http"], load=row["load"]).to_dict() == row["http"]


def test_a_no_change_ingest_writes_no_throughput_fields() -> None:
    run = IngestRun(1.0, 0.5, 300.0, 16, 1000, 2000, 0, 16, 0)
    assert set(run.to_dict()) == {
        "wall_s",
        "run_s",
        "peak_rss_mb",
        "documents",
        "pages",
        "chunks",
        "added",
        "unchanged",
        "failed",
    }


def test_the_http_run_keeps_its_load_test_beside_it() -> None:
    run = HttpRun(1.0, 2.0, LATENCY, {"200": 3}, 0, [], None, 3, load={"clients": 16})
    assert "load" not in run.to_dict() and run.load == {"clients": 16}
    assert run.to_dict()["serve_rss_mb"] is None  # not measured is said, not left out
    assert "serve_rss_after_load_mb" not in run.to_dict()
    assert asdict(run)["load"] == {"clients": 16}


def test_a_phase_that_forgets_a_figure_fails_where_it_is_built() -> None:
    with pytest.raises(TypeError):
        InProcessRun(service_load_s=1.0, index_load_s=1.0, warmup_s=1.0, search=LATENCY, answer=LATENCY)  # type: ignore[call-arg]
