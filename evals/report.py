"""``policyqa eval --report DIR``: a self-contained HTML page (plus one PNG chart) of an eval run.

Meant to be opened from a CI artifact or a local folder: no scripts, no external assets, every
text from the dataset or the answers HTML-escaped. The chart is drawn with matplotlib's Agg
canvas directly, so no display and no global backend switch is needed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evals.metrics import MRR_DEPTH, QuestionResult, format_pages, metric_names

if TYPE_CHECKING:
    from evals.run import ConfigRun, EvalRun

CHART_NAME = "metrics.png"
_COLOURS = ("#1f5fa8", "#e08a1e", "#3a9a4a", "#b03a3a", "#7a5aa6", "#6b6b6b")


def chart_metrics(k: int) -> list[str]:
    """The quality metrics (all rates in [0, 1]) the chart compares; latency stays in the tables."""
    return [m for m in metric_names(k) if not m.startswith("latency")]


def write_chart(runs: Sequence[ConfigRun], k: int, path: Path) -> Path:
    """Grouped bars: one group per metric, one bar per configuration, value printed on each bar."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = chart_metrics(k)
    fig = Figure(figsize=(max(7.0, min(12.0, 1.0 + 0.4 * len(metrics) * max(1, len(runs)))), 4.6), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / max(1, len(runs))
    for i, run in enumerate(runs):
        values = run.metrics
        xs = [m + (i - (len(runs) - 1) / 2) * width for m in range(len(metrics))]
        heights = [values.get(m) or 0.0 for m in metrics]
        bars = ax.bar(xs, heights, width * 0.95, label=run.name, color=_COLOURS[i % len(_COLOURS)])
        for bar, metric in zip(bars, metrics, strict=True):
            shown = values.get(metric)
            ax.annotate(
                "–" if shown is None else f"{shown:.2f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
                xytext=(0, 1),
                textcoords="offset points",
            )
    ax.set_xticks(range(len(metrics)), metrics)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("share of questions")
    ax.set_title("Eval metrics by configuration")
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=max(1, len(runs)), fontsize=8, frameon=False
    )
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    if metric.startswith("latency"):
        return f"{value:.0f} ms"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def _metrics_table(columns: Sequence[tuple[str, dict]], k: int, caption: str) -> str:
    head = "".join(f"<th>{_e(name)}</th>" for name, _ in columns)
    rows = "".join(
        f"<tr><th>{_e(m)}</th>"
        + "".join(f"<td>{_e(_cell(m, values.get(m)))}</td>" for _, values in columns)
        + "</tr>"
        for m in metric_names(k)
    )
    return f"<table class='metrics'><caption>{_e(caption)}</caption><tr><th></th>{head}</tr>{rows}</table>"


def _pages(pages: Sequence[tuple[str, int]], expected: frozenset, with_doc: bool) -> str:
    """Pages as text, expected ones in bold so a reader sees at once where the right page ranked."""
    parts = []
    for page in pages:
        text = _e(format_pages([page], with_doc))
        parts.append(f"<b>{text}</b>" if page in expected else text)
    return ", ".join(parts) or "–"


def _question_row(
    r: QuestionResult, others: Sequence[tuple[str, QuestionResult | None]], with_doc: bool
) -> str:
    expected = r.case.expected_pages
    status = "pass" if r.answer_pass else f"fail: {r.failure}"
    missing = "; ".join(" | ".join(alts) for alts in r.missing) or "–"
    other = " ".join(f"{name} {'✓' if o is not None and o.answer_pass else '✗'}" for name, o in others)
    return (
        f"<tr class='{'pass' if r.answer_pass else 'fail'}'>"
        f"<td>{_e(r.case.id)}</td><td class='q'>{_e(r.case.question)}</td><td>{_e(r.case.lang)}</td>"
        f"<td>{_e(status)}</td>"
        f"<td>{_pages(sorted(expected), expected, with_doc) if expected else '(abstain)'}</td>"
        f"<td>{_pages(r.retrieved[:MRR_DEPTH], expected, with_doc)}</td>"
        f"<td>{'abstained' if r.abstained else _pages(r.cited, expected, with_doc)}</td>"
        f"<td>{_e(missing)}</td><td class='small'>{_e(r.diagnosis or '')}</td>"
        f"<td class='small'>{_e(other)}</td></tr>"
    )


_CSS = """
body { font-family: "IPAexGothic", "Noto Sans CJK JP", sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0 1.6em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
table.metrics td { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
tr.fail td:nth-child(4) { color: #b03a3a; font-weight: bold; }
tr.pass td:nth-child(4) { color: #2d7a3a; }
td.q { max-width: 28em; } td.small { font-size: 12px; color: #555; max-width: 26em; }
.gate-fail { color: #b03a3a; } .gate-pass { color: #2d7a3a; }
"""


def render_html(run: EvalRun, chart: str = CHART_NAME) -> str:
    primary = run.primary
    n = len(primary.results)
    parts = [
        (
            f"<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>policyqa eval</title>"
            f"<style>{_CSS}</style></head><body><h1>policyqa eval</h1>"
        ),
        (
            f"<p>{n} questions from {_e(', '.join(Path(d).name for d in run.datasets))}; "
            f"top_k {run.top_k}; hit@{run.k}; {run.seconds:.1f} s in all.</p>"
        ),
    ]
    if run.gate_failures is not None:
        if run.gate_failures:
            items = "".join(f"<li>{_e(f)}</li>" for f in run.gate_failures)
            parts.append(f"<h2 class='gate-fail'>Quality gate failed</h2><ul>{items}</ul>")
        else:
            parts.append("<h2 class='gate-pass'>Quality gate passed</h2>")
    parts.append(f"<p><img src='{_e(chart)}' alt='bar chart of the eval metrics by configuration'></p>")
    parts.append(_metrics_table([(r.name, r.metrics) for r in run.runs], run.k, "All questions"))
    langs = list(primary.by_lang)
    for lang in langs:
        parts.append(
            _metrics_table(
                [(r.name, r.by_lang.get(lang, {})) for r in run.runs],
                run.k,
                f"Questions in {lang} ({primary.by_lang[lang]['n']})",
            )
        )
    descriptions = "".join(f"<li><b>{_e(r.name)}</b>: {_e(r.description)}</li>" for r in run.runs)
    parts.append(f"<ul>{descriptions}</ul>")
    by_id = {r.name: {q.case.id: q for q in r.results} for r in run.runs[1:]}
    with_doc = len({d for r in primary.results for d, _ in r.retrieved + list(r.case.expected_pages)}) > 1
    failing = len(primary.failures)
    parts.append(
        f"<h2>Questions ({_e(primary.name)}): {n - failing} pass, {failing} fail</h2>"
        "<p>Expected pages are in bold wherever they appear.</p><table><tr><th>id</th><th>question</th>"
        "<th>lang</th><th>result</th><th>expected pages</th><th>retrieved pages (ranked)</th>"
        "<th>cited pages</th><th>missing facts</th><th>diagnosis</th><th>other configurations</th></tr>"
    )
    for r in primary.results:
        others = [(name, results.get(r.case.id)) for name, results in by_id.items()]
        parts.append(_question_row(r, others, with_doc))
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_report(run: EvalRun, out_dir: Path) -> Path:
    """Write ``index.html`` and its chart into ``out_dir`` (created if needed); returns the HTML path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_chart(run.runs, run.k, out_dir / CHART_NAME)
    index = out_dir / "index.html"
    index.write_text(render_html(run), encoding="utf-8")
    return index
