"""One benchmark run: every phase at every size, saved after each phase."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.bench.extraction import extract_profile, format_real_pdf_extraction, real_pdf_extraction
from evals.bench.harness import bench_settings, dir_size_mb, machine_facts
from evals.bench.naive import naive_phase
from evals.bench.phases import http_phase, ingest_phase, inprocess_phase
from evals.bench.targets import TARGET_PAGES, evaluate_targets, vs_naive
from evals.synthetic import build_corpus

SCHEMA_VERSION = 1


def bench_size(
    pages: int,
    *,
    workdir: Path,
    seed: int,
    queries: int,
    http_queries: int,
    budget_s: float,
    build_workers: int,
    ingest_timeout_s: float,
    naive: bool,
    load: dict | None,
    extract_docs: int,
    log: Callable,
    row: dict | None = None,
    save: Callable[[], None] = lambda: None,
) -> dict:
    """All phases for one size, filling ``row`` as they finish; ``save`` is called after each one so
    that a run stopped part-way still leaves its figures."""
    from evals.load import eval_questions

    log(f"== {pages:,} pages")
    corpus = build_corpus(workdir, pages, seed, workers=build_workers, timeout_s=ingest_timeout_s, log=log)
    run_dir = workdir / f"run-p{pages}-s{seed}"
    data_dir = run_dir / "data"
    shutil.rmtree(run_dir, ignore_errors=True)  # a cold ingest starts from nothing
    run_dir.mkdir(parents=True)
    questions = eval_questions()
    settings = bench_settings(data_dir, corpus.path)
    row = row if row is not None else {}
    row.update(
        {
            "pages": corpus.pages,
            "documents": corpus.documents,
            "complete": False,
            "corpus": {
                "path": str(corpus.path),
                "built_now": corpus.built,
                "build_s": round(corpus.seconds, 1),
            },
        }
    )
    ingests = ingest_phase(corpus.path, data_dir, run_dir, ingest_timeout_s, log)
    row["ingest"] = {phase: run.to_dict() for phase, run in ingests.items()}
    row["chunks"] = row["ingest"]["cold"]["chunks"]
    row["index_size_mb"] = dir_size_mb(settings.chroma_path)
    save()
    log(f"  index on disk: {row['index_size_mb']} MiB")
    log("  in-process search()/answer() ...")
    row["inprocess"] = inprocess_phase(settings, questions, queries, budget_s, log).to_dict()
    log(
        f"  search p50 {row['inprocess']['search']['p50_ms']} ms p95 {row['inprocess']['search']['p95_ms']} ms; "
        f"answer p50 {row['inprocess']['answer']['p50_ms']} ms p95 {row['inprocess']['answer']['p95_ms']} ms"
    )
    save()
    http = http_phase(
        data_dir,
        corpus.path,
        run_dir,
        questions,
        http_queries,
        budget_s,
        startup_timeout_s=max(300.0, ingest_timeout_s / 4),
        load=load,
        log=log,
    )
    row["http"], row["load"] = http.to_dict(), http.load
    save()
    row["naive"] = (
        naive_phase(corpus.path, run_dir, queries, budget_s, ingest_timeout_s, settings, log)
        if naive
        else None
    )
    row["vs_naive"] = vs_naive(row)
    save()
    if extract_docs:
        log(f"  extraction profile over {extract_docs} documents ...")
        row["extract_profile"] = extract_profile(corpus.path, extract_docs)
    row["targets"] = evaluate_targets(row)
    row["complete"] = True
    save()
    return row


def run_bench(
    sizes: list[int],
    *,
    workdir: Path,
    seed: int = 0,
    queries: int = 154,
    http_queries: int = 154,
    budget_s: float = 600.0,
    build_workers: int = 2,
    ingest_timeout_s: float = 3600.0,
    naive: bool = True,
    load: dict | None = None,
    extract_docs: int = 0,
    log: Callable = print,
    json_out: Path | None = None,
) -> dict:
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = {
        "schema": SCHEMA_VERSION,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["policyqa", *sys.argv[1:]]) if sys.argv else "",
        "seed": seed,
        "machine": machine_facts(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "settings": {
            "queries": queries,
            "http_queries": http_queries,
            "budget_s": budget_s,
            "questions": "evals/datasets/econsec-deck.jsonl (cycled)",
            "percentiles": "numpy linear interpolation",
        },
        "targets_at_pages": TARGET_PAGES,
        "sizes": [],
    }

    def save() -> None:
        result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        result["seconds"] = round(time.perf_counter() - started, 1)
        if json_out:
            write_json(result, json_out)

    log("real-PDF extraction ...")
    result["real_pdf_extraction"] = real_pdf_extraction()
    log("  " + format_real_pdf_extraction(result["real_pdf_extraction"]))
    save()
    for pages in sizes:
        row: dict[str, Any] = {}
        result["sizes"].append(row)
        bench_size(
            pages,
            workdir=workdir,
            seed=seed,
            queries=queries,
            http_queries=http_queries,
            budget_s=budget_s,
            build_workers=build_workers,
            ingest_timeout_s=ingest_timeout_s,
            naive=naive,
            load=load,
            extract_docs=extract_docs,
            log=log,
            row=row,
            save=save,
        )
    save()
    return result


def write_json(result: dict, path: Path) -> None:
    """Written whole to a temporary file, then renamed: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
