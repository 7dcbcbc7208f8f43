"""Real government PDFs end to end: ``policyqa ingest`` of all nine, then the eval and its gate.

The questions (evals/datasets/real-pdfs-*.jsonl) were written from the rendered pages only.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from eval_helpers import product_environment

from core.settings import Settings
from evals.dataset import load_datasets
from evals.gate import check, load_thresholds
from policyqa.cli import main

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "data" / "real-pdfs"
DATASETS = [
    ROOT / "evals" / "datasets" / "real-pdfs-tune.jsonl",
    ROOT / "evals" / "datasets" / "real-pdfs-test.jsonl",
]
THRESHOLDS = ROOT / "evals" / "thresholds-real-pdfs.toml"


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory, embedder):
    """The nine PDFs ingested through the CLI, as a user would: every one must go in."""
    corpus = tmp_path_factory.mktemp("real-corpus")
    for pdf in REAL.glob("*.pdf"):
        shutil.copy(pdf, corpus / pdf.name)
    data = tmp_path_factory.mktemp("real-data")
    with product_environment(data, corpus):
        result = CliRunner().invoke(main, ["ingest", "--json", str(corpus)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["summary"]["documents"] == 9 and report["summary"]["failed"] == 0, report["summary"]
    return Settings(data_dir=data, corpus_dir=corpus)


@pytest.mark.slow
def test_real_pdf_eval_passes_its_gate(real_settings, embedder) -> None:
    from evals.run import render_summary, run_eval
    from rag.service import PolicyQA

    service = PolicyQA(real_settings, embedder=embedder)
    thresholds = load_thresholds(THRESHOLDS)
    cases = load_datasets(DATASETS)
    assert (
        len(cases) >= 90 and sum(c.lang == "en" for c in cases) >= 25 and sum(c.abstain for c in cases) >= 15
    )
    run = run_eval(
        service,
        cases,
        ["product", "naive-llamaindex", "simple-hybrid"],
        datasets=[str(d) for d in DATASETS],
        thresholds=thresholds,
    )
    print(render_summary(run))
    assert run.gate_failures == check(run.metrics_by_config(), thresholds)
    assert run.gate_failures == [], "real-PDF gate failed:\n  " + "\n  ".join(run.gate_failures)
