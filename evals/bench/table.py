"""The benchmark's text table. A phase that did not run shows "-"; a field missing from a phase
that ran is a bug in the benchmark and raises."""

from __future__ import annotations

from collections.abc import Callable

from evals.bench.extraction import format_real_pdf_extraction
from evals.bench.phases import INGEST_PROCESS_STEPS
from evals.bench.targets import TARGET_PAGES, TARGETS


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

    def add(label: str, fn: Callable[[dict], str], phase: str | None = None) -> None:
        """One row; ``phase`` names the part of the result it reads: "-" where that phase did not run
        (``--no-naive``, no ``--load``), while a field missing from a phase that ran raises."""
        lines.append([label, *("-" if phase and r.get(phase) is None else fn(r) for r in rows)])

    def share(r: dict) -> str:
        s = r["ingest"]["cold"]["timings_share"]
        return " / ".join(f"{round(100 * s.get(k, 0))}%" for k in INGEST_PROCESS_STEPS)

    add("documents / chunks", lambda r: f"{r['documents']:,} / {r['chunks']:,}")
    add("cold ingest, wall", lambda r: _fmt(r["ingest"]["cold"]["wall_s"], " s"), phase="ingest")
    add(
        "  pages/s | chunks/s",
        lambda r: f"{_fmt(r['ingest']['cold']['pages_per_s'])} | {_fmt(r['ingest']['cold']['chunks_per_s'])}",
        phase="ingest",
    )
    add("  wait for PDF reader/chunk+tok/embed/store", share, phase="ingest")
    add(
        "  PDF reader process busy",
        lambda r: _fmt(100 * r["ingest"]["cold"]["timings_share"]["extract"], "%", 0),
        phase="ingest",
    )
    add("  naive llama-index pages/s", lambda r: _fmt(r["naive"]["ingest"]["pages_per_s"]), phase="naive")
    add(
        "  product vs naive (pages/s)",
        lambda r: _fmt(r["vs_naive"]["ingest_pages_per_s"], "x", 2),
        phase="vs_naive",
    )
    add("no-change re-ingest, wall", lambda r: _fmt(r["ingest"]["nochange"]["wall_s"], " s"), phase="ingest")
    add("search() p50 / p95", _p50_p95(lambda r: r["inprocess"]["search"]), phase="inprocess")
    add("answer() p50 / p95", _p50_p95(lambda r: r["inprocess"]["answer"]), phase="inprocess")
    add("naive retrieve() p50 / p95", _p50_p95(lambda r: r["naive"]["retrieve"]), phase="naive")
    add(
        "  search speed-up vs naive p50/p95",
        lambda r: (
            f"{_fmt(r['vs_naive']['search_p50_speedup'], 'x', 2)} / "
            f"{_fmt(r['vs_naive']['search_p95_speedup'], 'x', 2)}"
        ),
        phase="vs_naive",
    )
    add(
        "  answer speed-up vs naive p50/p95",
        lambda r: (
            f"{_fmt(r['vs_naive']['answer_p50_speedup'], 'x', 2)} / "
            f"{_fmt(r['vs_naive']['answer_p95_speedup'], 'x', 2)}"
        ),
        phase="vs_naive",
    )
    add("HTTP /v1/answer p50 / p95", _p50_p95(lambda r: r["http"]["answer"]), phase="http")
    add(
        "peak RSS ingest / serve",
        lambda r: (
            f"{_fmt(r['ingest']['cold']['peak_rss_mb'], '', 0)} / "
            f"{_fmt(r['http']['serve_rss_mb'], ' MiB', 0)}"
        ),
        phase="ingest",
    )
    add(
        "naive peak RSS (ingest+query)",
        lambda r: _fmt(r["naive"]["ingest"]["peak_rss_mb"], " MiB", 0),
        phase="naive",
    )
    add("index on disk", lambda r: _fmt(r["index_size_mb"], " MiB"))
    if any(r.get("load") for r in rows):
        add(
            "load: clients x s",
            lambda r: f"{r['load']['clients']} x {r['load']['seconds']:.0f} s",
            phase="load",
        )
        add(
            "load: req/s, errors",
            lambda r: f"{_fmt(r['load']['throughput_rps'])}, {r['load']['errors']}",
            phase="load",
        )
        add(
            "load: p50 / p95",
            lambda r: (
                f"{_fmt(r['load']['latency']['p50_ms'], '', 0)} / "
                f"{_fmt(r['load']['latency']['p95_ms'], ' ms', 0)}"
            ),
            phase="load",
        )
    for i, (_key, label, limit, unit) in enumerate(TARGETS):

        def target(r: dict, i: int = i, unit: str = unit) -> str:
            t = r["targets"][i]
            verdict = "met" if t["met"] else f"MISSED by {_fmt(t['over_by'])} {unit}"
            return f"{_fmt(t['value'])} ({t['ratio_to_limit']}x limit) {verdict}"

        add(f"target {label} <= {_fmt(limit, '', 0)} {unit}", target, phase="targets")
    widths = [max(len(line[c]) for line in [header, *lines]) for c in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    text += ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines]
    if all(r["pages"] != TARGET_PAGES for r in rows):
        text.append(f"(the targets are defined at {TARGET_PAGES:,} pages; no size here is {TARGET_PAGES:,})")
    if "real_pdf_extraction" in result:
        text.append(format_real_pdf_extraction(result["real_pdf_extraction"]))
    return "\n".join(text)
