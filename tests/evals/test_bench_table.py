"""The benchmark table: every figure of a recorded 1,000-page run shows, a phase that did not run
shows "-", and a field missing from a phase that ran raises instead of hiding behind a dash."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from evals.bench.table import format_table

RECORDED = Path(__file__).resolve().parents[1] / "data" / "bench" / "bench-1000-pages.json"


@pytest.fixture()
def result() -> dict:
    return json.loads(RECORDED.read_text(encoding="utf-8"))


def _row(table: str, label: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(label))


def test_a_complete_run_shows_every_figure(result: dict) -> None:
    table = format_table(result)
    row = result["sizes"][0]
    assert "1,000 pages" in table.splitlines()[0]
    assert f"{row['ingest']['cold']['wall_s']:,.1f} s" in _row(table, "cold ingest, wall")
    assert "-" not in _row(table, "naive retrieve() p50 / p95").split()[-3:]
    assert "met" in table or "MISSED" in table


def test_a_phase_that_did_not_run_shows_a_dash(result: dict) -> None:
    result["sizes"][0]["naive"] = None
    table = format_table(result)
    assert _row(table, "naive retrieve() p50 / p95").split()[-1] == "-"
    assert _row(table, "  naive llama-index pages/s").split()[-1] == "-"


def test_a_field_missing_from_a_phase_that_ran_raises(result: dict) -> None:
    broken = copy.deepcopy(result)
    del broken["sizes"][0]["inprocess"]["answer"]
    with pytest.raises(KeyError):
        format_table(broken)
