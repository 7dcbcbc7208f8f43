"""Answer latency while a large upload is ingested: a benchmark, printed, not a timed assertion.

A real `policyqa serve` over a copy of the deck's index (the real embedder). 16 clients post
`/v1/answer` back to back (the eval set's questions, cycled: evals.load.run_load), first for
BASELINE_S without an upload, then from the moment a 2,000-page PDF of generated Japanese text is
accepted (202) until its job has finished. The test asserts that no request failed and that the
job succeeded; it prints p50, p95 and max of both phases and the ratio of the p95s (the target is
at most 1.5), and writes them to ``upload-latency.json`` in its temporary folder. Figures and
method: docs/performance.md.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from test_api_serve import ServeProcess
from uploading import FINISHED, post_upload

from evals.load import LoadResult, eval_questions, latency_summary, run_load, serve_env
from evals.synthetic import source_pages, vary_pages

pytestmark = pytest.mark.slow

TOKEN = "latency-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLIENTS = 16
WARM_UP_S = 300  # every question once (bounded), so both phases answer from warm caches
BASELINE_S = 40
PAGES = 2000
GENERATE_BUDGET_S = 120
UPLOAD_BUDGET_S = 900
MAX_PDF_MB = 20


def write_long_pdf(path: Path, pages: int, font: str) -> Path:
    """``pages`` pages of the deck's text with numbers and names varied per 64 pages
    (evals.synthetic), drawn line by line: a few seconds for 2,000 pages."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pool = source_pages()
    texts: list[str] = []
    volume = 0
    while len(texts) < pages:
        texts += vary_pages(pool, seed=11, doc_index=volume)
        volume += 1
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setTitle("合成資料（大部）")
    _, height = A4
    for text in texts[:pages]:
        pdf.setFont(font, 9)
        y = height - 40
        for line in (wrapped for para in text.split("\n") for wrapped in (textwrap.wrap(para, 48) or [""])):
            if y < 40:
                break
            pdf.drawString(36, y, line)
            y -= 12
        pdf.showPage()
    pdf.save()
    return path


def timeline(load: LoadResult, step_s: float = 10.0) -> list[dict]:
    """p50/p95/max of the requests started in each ``step_s`` of a run: where in it the tail comes from."""
    start = min((x.started for x in load.samples), default=0.0)
    rows = []
    for offset in range(0, int(load.seconds) + 1, int(step_s)):
        ms = [x.ms for x in load.samples if offset <= x.started - start < offset + step_s]
        if ms:
            rows.append({"from_s": offset, **latency_summary(ms)})
    return rows


def by_phase(load: LoadResult, phases: list[tuple[str, float]]) -> list[dict]:
    """Latency of the requests started in each phase the job went through (polled every 0.25 s)."""
    rows = []
    for (phase, start), (_, end) in zip(phases, [*phases[1:], ("end", float("inf"))]):
        ms = [x.ms for x in load.samples if start <= x.started < end]
        if ms and phase not in FINISHED:
            rows.append(
                {
                    "phase": phase,
                    "seconds": round(min(end, time.monotonic()) - start, 1),
                    **latency_summary(ms),
                }
            )
    return rows


def slowest(load: LoadResult, n: int = 5) -> list[dict]:
    start = min((x.started for x in load.samples), default=0.0)
    worst = sorted(load.samples, key=lambda x: x.ms)[-n:]
    return [{"at_s": round(x.started - start, 1), "ms": round(x.ms)} for x in reversed(worst)]


def _row(name: str, latency: dict, requests: int, errors: int) -> str:
    return (
        f"| {name:<16} | {requests:>8} | {errors:>6} | {latency['p50_ms']:>8.0f} | {latency['p95_ms']:>8.0f} "
        f"| {latency['max_ms']:>8.0f} |"
    )


def test_answers_keep_their_latency_during_an_upload(deck_settings, pdf_font, tmp_path, capsys):
    started = time.perf_counter()
    big = write_long_pdf(tmp_path / "long.pdf", PAGES, pdf_font)
    generated_s = time.perf_counter() - started
    size_mb = big.stat().st_size / 2**20
    assert generated_s < GENERATE_BUDGET_S and size_mb < MAX_PDF_MB, (generated_s, size_mb)

    data = tmp_path / "data"
    shutil.copytree(deck_settings.data_dir, data)
    env = serve_env(data, deck_settings.corpus_dir, POLICYQA_ADMIN_TOKEN=TOKEN, POLICYQA_MAX_UPLOAD_MB="50")
    questions = eval_questions()
    with ServeProcess(env, tmp_path, name="serve").start("/readyz") as server:
        warm = run_load(
            server.url, questions, clients=CLIENTS, seconds=WARM_UP_S, max_requests=len(questions)
        )
        assert warm.errors == 0, warm.error_samples
        baseline = run_load(server.url, questions, clients=CLIENTS, seconds=BASELINE_S)

        with server.client() as http:
            accepted = post_upload(http, big, headers=AUTH, doc_id="synthetic-long")
            assert accepted.status_code == 202, accepted.text
            location = accepted.headers["location"]
            done = threading.Event()
            job: dict = {}
            phases: list[tuple[str, float]] = [("queued", time.monotonic())]  # as the job reports them

            def poll() -> None:
                with server.client() as poller:
                    deadline = time.monotonic() + UPLOAD_BUDGET_S
                    while time.monotonic() < deadline:
                        job.update(poller.get(location, headers=AUTH).json())
                        phase = job["phase"] or job["status"]
                        if phase != phases[-1][0]:
                            phases.append((phase, time.monotonic()))
                        if job["status"] in FINISHED:
                            break
                        time.sleep(0.25)
                done.set()

            watcher = threading.Thread(target=poll, daemon=True)
            watcher.start()
            during = run_load(server.url, questions, clients=CLIENTS, seconds=UPLOAD_BUDGET_S, stop=done)
            watcher.join(30)
        log = server.tail(400)
    assert job.get("status") == "succeeded", (job, log)
    assert job["result"]["pages"] == PAGES and job["result"]["status"] == "added"
    ratio = during.latency["p95_ms"] / baseline.latency["p95_ms"]
    figures = {
        "clients": CLIENTS,
        "questions": len(questions),
        "pdf": {"pages": PAGES, "mb": round(size_mb, 2), "generated_s": round(generated_s, 1)},
        "upload": {
            "chunks": job["result"]["chunks"],
            "seconds": round(during.seconds, 1),
            "timings_s": job["timings_s"],
        },
        "baseline": baseline.to_dict(),
        "during_upload": during.to_dict(),
        "p95_ratio": round(ratio, 3),
        "phases": by_phase(during, phases),
        "timeline": {"no upload": timeline(baseline), "during upload": timeline(during)},
        "slowest": {"no upload": slowest(baseline), "during upload": slowest(during)},
        "python": sys.version.split()[0],
    }
    out = tmp_path / "upload-latency.json"
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    with capsys.disabled():  # the figures belong in the run's log, also under -q
        print(
            f"\n{CLIENTS} clients on POST /v1/answer; upload of {PAGES} pages ({job['result']['chunks']} chunks, "
            f"{size_mb:.1f} MB) ingested in {during.seconds:.1f} s; stages {job['timings_s']}\n"
            "| phase            | requests | errors | p50 (ms) | p95 (ms) | max (ms) |\n"
            "|------------------|----------|--------|----------|----------|----------|\n"
            + _row("no upload", baseline.latency, baseline.requests, baseline.errors)
            + "\n"
            + _row("during upload", during.latency, during.requests, during.errors)
            + "".join(
                "\n" + _row(f"  {row['phase']} {row['seconds']:.0f} s", row, row["n"], 0)
                for row in figures["phases"]
            )
            + f"\np95 ratio (during / no upload): {ratio:.2f} (target ≤ 1.5)\nfigures: {out}\n"
            + "p95 per 10 s during the upload (ms): "
            + " ".join(
                f"{row['from_s']}s:{row['p95_ms']:.0f}" for row in figures["timeline"]["during upload"]
            )
            + f"\nslowest requests: {json.dumps(figures['slowest'])}\n"
            + json.dumps(
                {k: figures[k] for k in ("baseline", "during_upload", "p95_ratio")}, ensure_ascii=False
            )
        )
    assert baseline.errors == 0, baseline.error_samples
    assert during.errors == 0, during.error_samples
    assert during.requests > CLIENTS, "too few answers during the upload to measure anything"
