"""The product's phases: cold and no-change ingest in a child, search() and answer() in this
process, and POST /v1/answer against a child ``policyqa serve``."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evals.bench.harness import child_env, run_child
from evals.bench.results import HttpRun, IngestRun, InProcessRun

INGEST_PROCESS_STEPS = ("extract_wait", "chunk_tokenize", "embed", "store")  # in the ingest process, in order
WARMUP_QUESTIONS = ["経済安全保障の基本的な考え方は？", "What is economic security?"]

# ============================================================================ product phases


def ingest_phase(
    corpus: Path, data_dir: Path, workdir: Path, timeout_s: float, log: Callable
) -> dict[str, IngestRun]:
    from evals.load import policyqa_command

    env = child_env(data_dir, corpus)
    cmd = [*policyqa_command(), "ingest", "--json", str(corpus)]
    result: dict[str, IngestRun] = {}
    for phase in ("cold", "nochange"):
        log(f"  ingest ({phase}) ...")
        run = run_child(cmd, env=env, cwd=workdir, timeout_s=timeout_s, name=f"ingest-{phase}")
        if run.returncode != 0:
            raise RuntimeError(
                f"policyqa ingest ({phase}) exited with {run.returncode}:\n{run.stderr[-3000:]}"
            )
        report = json.loads(run.stdout)
        summary = report["summary"]
        counts = {
            "wall_s": round(run.wall_s, 2),
            "run_s": summary["seconds"],
            "peak_rss_mb": run.peak_rss_mb,
            "documents": summary["documents"],
            "pages": summary["pages"],
            "chunks": summary["chunks"],
            "added": summary["added"],
            "unchanged": summary["unchanged"],
            "failed": summary["failed"],
        }
        if phase == "cold":
            timings = report.get("timings_s", {})
            run_s = max(summary["seconds"], 1e-9)
            entry = IngestRun(
                **counts,
                pages_per_s=round(summary["pages"] / run_s, 2),
                chunks_per_s=round(summary["chunks"] / run_s, 2),
                pages_per_s_wall=round(summary["pages"] / run.wall_s, 2),
                timings_s=timings,
                # The ingest process waits for, tokenises, embeds and writes; PDF readers run beside
                # it ("extract" is their time, overlapping the rest), so shares are of the run time.
                timings_share={k: round(v / run_s, 3) for k, v in timings.items()},
                other_s=round(run_s - sum(v for k, v in timings.items() if k in INGEST_PROCESS_STEPS), 2),
                ms_per_page={k: round(v * 1000 / max(summary["pages"], 1), 2) for k, v in timings.items()},
            )
        elif summary["unchanged"] != summary["documents"]:
            raise RuntimeError(f"the no-change re-ingest rewrote documents: {summary}")
        else:
            entry = IngestRun(**counts)
        result[phase] = entry
        log(
            f"  ingest ({phase}): {entry.wall_s} s wall, {summary['pages']} pages, {summary['chunks']} chunks, "
            f"peak RSS {run.peak_rss_mb} MiB"
        )
    return result


def _release(service) -> None:
    """Drop this process's embedded Chroma client so other processes see a quiet index."""
    service.close()
    gc.collect()


def inprocess_phase(
    settings, questions: list[str], n_queries: int, budget_s: float, log: Callable
) -> InProcessRun:
    """search() and answer() in this process; each call embeds its question (vector cache emptied)."""
    import numpy as np

    from evals.load import latency_summary
    from rag.service import PolicyQA

    t = time.perf_counter()
    service = PolicyQA(settings)
    service.retriever.query_vector("経済安全保障")  # loads the embedder's model
    service_load_s = time.perf_counter() - t
    t = time.perf_counter()
    service.retriever.keyword.refresh()
    index_load_s = time.perf_counter() - t
    t = time.perf_counter()
    for q in WARMUP_QUESTIONS:  # the first English question embeds the keyword vocabulary once
        service.answer(q)
    warmup_s = time.perf_counter() - t

    def timed(call: Callable[[str], Any]) -> tuple[list[float], list[Any]]:
        latencies, results = [], []
        deadline = time.monotonic() + budget_s
        for i in range(n_queries):
            if time.monotonic() > deadline:
                log(f"  time budget reached after {i} queries")
                break
            q = questions[i % len(questions)]
            service.retriever.forget_query_vectors()  # measure the question's embedding too, as for a new question
            t0 = time.perf_counter()
            results.append(call(q))
            latencies.append((time.perf_counter() - t0) * 1000)
        return latencies, results

    try:
        search_ms, _ = timed(lambda q: service.search(q))
        answer_ms, answers = timed(lambda q: service.answer(q))
    finally:
        _release(service)
    breakdown_keys = sorted({k for a in answers for k in a.timings_ms})
    breakdown = {
        k: round(float(np.median([a.timings_ms.get(k, 0.0) for a in answers])), 2) for k in breakdown_keys
    }
    return InProcessRun(
        service_load_s=round(service_load_s, 2),
        index_load_s=round(index_load_s, 2),
        warmup_s=round(warmup_s, 2),
        search=latency_summary(search_ms),
        answer=latency_summary(answer_ms),
        answer_timings_p50_ms=breakdown,
        abstained=sum(a.abstained for a in answers),
        distinct_questions=min(len(questions), n_queries),
    )


def http_phase(
    data_dir: Path,
    corpus: Path,
    workdir: Path,
    questions: list[str],
    n_queries: int,
    budget_s: float,
    startup_timeout_s: float,
    load: dict | None,
    log: Callable,
) -> HttpRun:
    import httpx

    from evals.load import ServeProcess, latency_summary, run_load

    server = ServeProcess(child_env(data_dir, corpus), workdir, name="serve")
    with server:
        server.launch()
        healthy_s = server.wait_until("/healthz", startup_timeout_s)
        ready_s = server.wait_until("/readyz", startup_timeout_s)
        log(f"  serve up in {healthy_s:.1f} s (ready {ready_s:.1f} s) at {server.url}")
        latencies: list[float] = []
        statuses: dict[str, int] = {}
        errors: list[str] = []
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for q in WARMUP_QUESTIONS:
                http.post("/v1/answer", json={"question": q})
            deadline = time.monotonic() + budget_s
            for i in range(n_queries):
                if time.monotonic() > deadline:
                    log(f"  time budget reached after {i} requests")
                    break
                t0 = time.perf_counter()
                try:
                    response = http.post("/v1/answer", json={"question": questions[i % len(questions)]})
                    status = str(response.status_code)
                    if response.status_code != 200:
                        errors.append(response.text[:300])
                except httpx.HTTPError as exc:
                    status = "no_response"
                    errors.append(f"{type(exc).__name__}: {exc}")
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        answer = latency_summary(latencies)
        serve_rss_mb = server.peak_rss_mb()
        log(
            f"  HTTP /v1/answer p50 {answer['p50_ms']} ms, p95 {answer['p95_ms']} ms; "
            f"serve peak RSS {serve_rss_mb} MiB"
        )
        load_result, rss_after_load = None, None
        if load:
            log(f"  load: {load['clients']} clients for {load['seconds']} s ...")
            outcome = run_load(
                server.url,
                questions,
                clients=load["clients"],
                seconds=load["seconds"],
                timeout_s=load.get("timeout_s", 30.0),
            )
            load_result = outcome.to_dict()
            rss_after_load = server.peak_rss_mb()
            log(
                f"  load: {outcome.requests} requests, {outcome.errors} errors, {outcome.throughput_rps} req/s, "
                f"p50 {outcome.latency['p50_ms']} ms, p95 {outcome.latency['p95_ms']} ms"
            )
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"serve died during the benchmark:\n{server.tail()}")
    return HttpRun(
        startup_s=round(healthy_s, 2),
        ready_s=round(ready_s, 2),
        answer=answer,
        statuses=statuses,
        errors=len(errors),
        error_samples=errors[:5],
        serve_rss_mb=serve_rss_mb,
        distinct_questions=min(len(questions), n_queries),
        serve_rss_after_load_mb=rss_after_load,
        load=load_result,
    )
