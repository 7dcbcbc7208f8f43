"""``policyqa eval``: score the product and its baselines on eval datasets, side by side, in one run.

The command reads the index the settings point at and never ingests: an eval that quietly built
its own index would measure a corpus nobody serves. Every configuration answers every question
through the same call users' requests go through, and ``evals.metrics`` scores them all alike.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.baselines import CONFIG_NAMES, PRIMARY, Config, make_configs
from evals.dataset import EvalCase
from evals.metrics import (
    MRR_DEPTH,
    QuestionResult,
    aggregate,
    by_lang,
    failed_call,
    format_pages,
    metric_names,
    score_question,
)

if TYPE_CHECKING:
    from rag.service import PolicyQA

Progress = Callable[[str, int, int], None]


@dataclass
class ConfigRun:
    """One configuration's results over all cases."""

    name: str
    description: str
    results: list[QuestionResult]
    k: int
    setup_seconds: float = 0.0
    warmup_seconds: float = 0.0
    run_seconds: float = 0.0

    @property
    def metrics(self) -> dict[str, float | None]:
        return aggregate(self.results, self.k)

    @property
    def by_lang(self) -> dict[str, dict[str, float | int | None]]:
        return by_lang(self.results, self.k)

    @property
    def failures(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.answer_pass]

    def summary(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "metrics": self.metrics,
            "by_lang": self.by_lang,
            "n": len(self.results),
            "setup_s": round(self.setup_seconds, 2),
            "warmup_s": round(self.warmup_seconds, 2),
            "run_s": round(self.run_seconds, 2),
        }


@dataclass
class EvalRun:
    """A whole run; ``runs[0]`` is the primary configuration (the product when it was run)."""

    runs: list[ConfigRun]
    datasets: list[str]
    k: int
    top_k: int
    seconds: float = 0.0
    gate_failures: list[str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def primary(self) -> ConfigRun:
        return self.runs[0]

    def metrics_by_config(self) -> dict[str, dict[str, float | None]]:
        return {r.name: r.metrics for r in self.runs}

    def to_json(self) -> dict[str, Any]:
        """The eval JSON: the primary configuration at the top level, every configuration under "configs"."""
        primary = self.primary
        data: dict[str, Any] = {
            "config": primary.name,
            "metrics": primary.metrics,
            "by_lang": primary.by_lang,
            "n": len(primary.results),
            "per_question": [r.to_dict() for r in primary.results],
            "configs": {r.name: r.summary() for r in self.runs},
            "k": self.k,
            "top_k": self.top_k,
            "datasets": self.datasets,
            "seconds": round(self.seconds, 2),
        }
        if self.gate_failures is not None:
            data["gate"] = {"passed": not self.gate_failures, "failures": self.gate_failures}
        return data


def order_configs(requested: Sequence[str], required: Sequence[str] = ()) -> list[str]:
    """Requested names ("all" = every one) plus those the gate needs, product first, no repeats."""
    names: list[str] = []
    for name in requested:
        names.extend(CONFIG_NAMES if name == "all" else [name])
    names.extend(required)
    names = list(dict.fromkeys(names)) or [PRIMARY]
    if PRIMARY in names:
        names.remove(PRIMARY)
        names.insert(0, PRIMARY)
    return names


def _warm_up_questions(cases: Sequence[EvalCase]) -> list[str]:
    """One question per language: first calls load models and build caches (the English term map
    alone takes seconds), which is start-up cost, not the per-question latency being measured."""
    seen: dict[str, str] = {}
    for case in cases:
        seen.setdefault(case.lang, case.question)
    return list(seen.values())


def run_config(
    config: Config,
    cases: Sequence[EvalCase],
    k: int,
    *,
    warm_up: bool = True,
    progress: Progress | None = None,
) -> ConfigRun:
    """Answer every case with one configuration, timing each call; a call that raises fails its case."""
    run = ConfigRun(config.name, getattr(config, "description", ""), [], k)
    if warm_up:
        started = time.perf_counter()
        for question in _warm_up_questions(cases):
            with contextlib.suppress(Exception):  # the timed call of the same question records any failure
                config.answer(question)
        run.warmup_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for i, case in enumerate(cases, start=1):
        t = time.perf_counter()
        try:
            answer = config.answer(case.question)
        except Exception as exc:  # noqa: BLE001 - one broken question must not hide the other results
            run.results.append(failed_call(case, exc, (time.perf_counter() - t) * 1000))
        else:
            run.results.append(score_question(case, answer, (time.perf_counter() - t) * 1000))
        if progress:
            progress(config.name, i, len(cases))
    run.run_seconds = time.perf_counter() - started
    return run


def run_eval(
    service: PolicyQA,
    cases: Sequence[EvalCase],
    configs: Sequence[str],
    *,
    k: int = 5,
    top_k: int | None = None,
    datasets: Sequence[str] = (),
    thresholds: dict | None = None,
    progress: Progress | None = None,
) -> EvalRun:
    """Run the named configurations over one service (its index, its embedder) and, with thresholds, gate."""
    from evals.gate import check

    started = time.perf_counter()
    top_k = top_k or service.settings.top_k
    run = EvalRun(runs=[], datasets=list(datasets), k=k, top_k=top_k)
    for name in configs:
        setup = time.perf_counter()
        [config] = make_configs([name], service, top_k)
        config_run = run_config(config, cases, k, progress=progress)
        config_run.setup_seconds = (
            time.perf_counter() - setup - config_run.warmup_seconds - config_run.run_seconds
        )
        run.runs.append(config_run)
    run.seconds = time.perf_counter() - started
    if thresholds is not None:
        run.gate_failures = check(run.metrics_by_config(), thresholds)
    return run


# ------------------------------------------------------------------------------------------- text output


def _cell(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    if metric.startswith("latency"):
        return f"{value:.0f}"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"


def metrics_table(
    columns: Sequence[tuple[str, dict[str, float | int | None]]], k: int, title: str = "metric"
) -> str:
    """Metrics as rows, configurations as columns."""
    names = metric_names(k)
    width = max(len(title), *(len(n) for n in names)) + 2
    col = [max(9, len(name) + 2) for name, _ in columns]
    lines = [title.ljust(width) + "".join(name.rjust(w) for (name, _), w in zip(columns, col, strict=True))]
    for metric in names:
        lines.append(
            metric.ljust(width)
            + "".join(_cell(metric, m.get(metric)).rjust(w) for (_, m), w in zip(columns, col, strict=True))
        )
    return "\n".join(lines)


def render_summary(run: EvalRun) -> str:
    """The side-by-side table, the same per language, and the primary configuration's failures."""
    primary = run.primary
    cases = [r.case for r in primary.results]
    langs = Counter(c.lang for c in cases)
    unanswerable = sum(c.abstain for c in cases)
    out = [
        (
            f"{len(cases)} questions ({', '.join(f'{n} {lang}' for lang, n in langs.items())}; "
            f"{len(cases) - unanswerable} answerable, {unanswerable} unanswerable) from "
            f"{', '.join(Path(d).name for d in run.datasets)}; top_k {run.top_k}, hit@{run.k}, "
            f"mrr@{MRR_DEPTH} over the ranked sources"
        ),
        "",
        metrics_table([(r.name, r.metrics) for r in run.runs], run.k),
    ]
    for lang in langs:
        columns = [(r.name, r.by_lang.get(lang, {})) for r in run.runs]
        out += ["", metrics_table(columns, run.k, title=f"{lang} ({langs[lang]})")]
    out.append("")
    out.append(
        "time: "
        + ", ".join(
            f"{r.name} {r.run_seconds:.1f} s (+{r.setup_seconds + r.warmup_seconds:.1f} s setup)"
            for r in run.runs
        )
        + f"; total {run.seconds:.1f} s"
    )
    failures = primary.failures
    out += ["", f"failing questions ({primary.name}): {len(failures)} of {len(primary.results)}"]
    if failures:
        kinds = Counter(r.failure for r in failures)
        out.append("  by kind: " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()))
        with_doc = len({d for r in primary.results for d, _ in r.retrieved + list(r.case.expected_pages)}) > 1
        for r in failures:
            expected = sorted(r.case.expected_pages, key=lambda p: (p[0], p[1]))
            out.append(f"  {r.case.id} [{r.case.lang}] {r.failure}: {r.diagnosis}")
            out.append(f"      Q: {r.case.question}")
            out.append(
                f"      expected {format_pages(expected, with_doc) or '(abstain)'} | retrieved "
                f"{format_pages(r.retrieved[:MRR_DEPTH], with_doc) or '-'} | cited "
                f"{format_pages(r.cited, with_doc) or '-'}"
            )
    return "\n".join(out)


# ------------------------------------------------------------------------------------------- command
