"""Scoring answers against eval cases: page-level retrieval metrics, facts, pass/fail, abstention, latency.

Definitions (evals/README.md has the same in prose):

* The ranked chunks an answer carries (``sources``, in the order given) are reduced to a ranked
  list of distinct ``(doc, page)`` pairs, first occurrence kept. Pages are what a user opens, so
  two chunks of one page are one result, and a page cannot be credited twice.
* ``hit@1``, ``hit@k`` and ``mrr@10`` are averaged over answerable questions only: an unanswerable
  question has no right page, and counting it as a miss would punish correct abstentions.
* ``facts`` is, per answerable question with ``must_include`` items, the share of items found in
  the answer text, averaged over those questions (each question weighs the same however many
  facts it lists). Text is compared after NFKC and removal of all white space, case kept.
* ``answer_pass``: an answerable question passes when the answer is not an abstention, contains
  every ``must_include`` item and cites at least one expected page; an unanswerable one passes
  when the system abstains and cites nothing. Averaged over all questions.
* ``abstain_accuracy``: share of all questions where "abstained" matches the case's ``abstain``.
* ``latency_p50_ms`` / ``latency_p95_ms``: percentiles (linear interpolation) of the wall time of
  the answer call, over all questions.

Everything here is pure: answers come in as plain objects with ``answer``, ``abstained``,
``sources`` and ``citations`` (each source/citation with ``doc_id`` and ``page``), so the product,
its single-leg variants and outside baselines are scored by exactly the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from core.text import normalize
from evals.dataset import LANGS, EvalCase

MRR_DEPTH = 10
QUALITY_METRICS = ("hit@1", "hit@{k}", "mrr@10", "facts", "answer_pass", "abstain_accuracy")
LATENCY_METRICS = ("latency_p50_ms", "latency_p95_ms")

Page = tuple[str, int]


class PageRef(Protocol):
    doc_id: str
    page: int


class AnswerLike(Protocol):
    answer: str
    abstained: bool
    sources: Sequence[PageRef]
    citations: Sequence[PageRef]


def metric_names(k: int) -> list[str]:
    """Metric keys in display order; ``hit@k`` takes the configured k (``hit@5`` by default)."""
    names = [m.format(k=k) for m in QUALITY_METRICS] + list(LATENCY_METRICS)
    return list(dict.fromkeys(names))  # k == 1 would repeat hit@1


def ranked_pages(refs: Iterable[PageRef]) -> list[Page]:
    """Distinct (doc, page) pairs in rank order, first occurrence kept."""
    return list(dict.fromkeys((r.doc_id, int(r.page)) for r in refs))


def first_expected_rank(pages: Sequence[Page], expected: frozenset[Page] | set[Page]) -> int | None:
    """1-based rank of the first expected page in ``pages``; None when none of them is there."""
    for rank, page in enumerate(pages, start=1):
        if page in expected:
            return rank
    return None


def normalize_fact(text: str) -> str:
    """The comparison form of FORMAT.md: NFKC, then every white-space character removed (case kept)."""
    return normalize(text, keep_case=True)


def missing_facts(must_include: Sequence[Sequence[str]], answer_text: str) -> list[tuple[str, ...]]:
    """The items of which no alternative occurs in the answer text."""
    haystack = normalize_fact(answer_text)
    return [tuple(alts) for alts in must_include if not any(normalize_fact(a) in haystack for a in alts)]


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


@dataclass
class QuestionResult:
    """One case scored against one answer; keeps what a reader needs to see why it failed."""

    case: EvalCase
    retrieved: list[Page]
    cited: list[Page]
    abstained: bool
    answer: str
    latency_ms: float
    missing: list[tuple[str, ...]] = field(default_factory=list)
    error: str | None = None

    @property
    def hit_rank(self) -> int | None:
        return first_expected_rank(self.retrieved, self.case.expected_pages) if self.case.answerable else None

    def hit_at(self, k: int) -> bool:
        rank = self.hit_rank
        return rank is not None and rank <= k

    @property
    def reciprocal_rank(self) -> float:
        rank = self.hit_rank
        return 1.0 / rank if rank is not None and rank <= MRR_DEPTH else 0.0

    @property
    def facts(self) -> float | None:
        """Share of must_include items found; None when the case lists none (it then counts for nothing)."""
        total = len(self.case.must_include)
        if not self.case.answerable or total == 0:
            return None
        return (total - len(self.missing)) / total

    @property
    def cites_expected(self) -> bool:
        return any(page in self.case.expected_pages for page in self.cited)

    @property
    def answer_pass(self) -> bool:
        if self.error is not None:
            return False
        if self.case.abstain:
            return self.abstained and not self.cited
        return not self.abstained and not self.missing and self.cites_expected

    @property
    def abstain_correct(self) -> bool:
        return self.error is None and self.abstained == self.case.abstain

    @property
    def failure(self) -> str | None:
        """Which part of the pipeline to look at first: None (passed), "error", "retrieval miss",
        "wrong abstention", "composer miss" or "answered unanswerable"."""
        if self.answer_pass:
            return None
        if self.error is not None:
            return "error"
        if self.case.abstain:
            return "answered unanswerable" if not self.abstained else "cited while abstaining"
        if self.hit_rank is None:
            return "retrieval miss"
        if self.abstained:
            return "wrong abstention"
        return "composer miss"

    @property
    def diagnosis(self) -> str | None:
        """One line saying what went wrong, with the evidence for it."""
        kind = self.failure
        if kind is None:
            return None
        if kind == "error":
            return f"error: {self.error}"
        if kind == "answered unanswerable":
            return f"answered a question the documents do not answer, citing {format_pages(self.cited) or 'nothing'}"
        if kind == "cited while abstaining":
            return f"abstained but still cited {format_pages(self.cited)}"
        if kind == "retrieval miss":
            then = (
                "then abstained"
                if self.abstained
                else f"answered from {format_pages(self.cited) or 'no page'}"
            )
            return f"no expected page among the {len(self.retrieved)} retrieved pages; {then}"
        if kind == "wrong abstention":
            return f"abstained although an expected page was retrieved at rank {self.hit_rank}"
        parts = []
        if not self.cites_expected:
            parts.append(
                f"cited {format_pages(self.cited) or 'nothing'} instead of the expected page "
                f"(retrieved at rank {self.hit_rank})"
            )
        if self.missing:
            parts.append(
                f"answer lacks {len(self.missing)} of {len(self.case.must_include)} facts: "
                + ", ".join(" | ".join(alts) for alts in self.missing)
            )
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        facts = self.facts
        return {
            "id": self.case.id,
            "question": self.case.question,
            "lang": self.case.lang,
            "abstain_expected": self.case.abstain,
            "expected": [{"doc": e.doc, "pages": list(e.pages)} for e in self.case.expected],
            "retrieved": [{"doc": d, "page": p} for d, p in self.retrieved[:MRR_DEPTH]],
            "cited": [{"doc": d, "page": p} for d, p in self.cited],
            "abstained": self.abstained,
            "hit_rank": self.hit_rank,
            "facts": None if facts is None else round(facts, 4),
            "missing_facts": [alts[0] if len(alts) == 1 else list(alts) for alts in self.missing],
            "answer_pass": self.answer_pass,
            "abstain_correct": self.abstain_correct,
            "failure": self.failure,
            "diagnosis": self.diagnosis,
            "latency_ms": round(self.latency_ms, 2),
            "answer": self.answer,
            "error": self.error,
        }


def format_pages(pages: Sequence[Page], with_doc: bool = False) -> str:
    """``p.16, p.19`` (or ``doc p.16`` when a corpus has several documents and it matters)."""
    return ", ".join(f"{doc} p.{page}" if with_doc else f"p.{page}" for doc, page in pages)


def score_question(case: EvalCase, answer: AnswerLike, latency_ms: float) -> QuestionResult:
    return QuestionResult(
        case=case,
        retrieved=ranked_pages(answer.sources),
        cited=ranked_pages(answer.citations),
        abstained=bool(answer.abstained),
        answer=answer.answer,
        latency_ms=latency_ms,
        missing=missing_facts(case.must_include, answer.answer),
    )


def failed_call(case: EvalCase, error: BaseException, latency_ms: float) -> QuestionResult:
    """A call that raised counts as a failure of that question rather than stopping the whole run."""
    return QuestionResult(
        case=case,
        retrieved=[],
        cited=[],
        abstained=False,
        answer="",
        latency_ms=latency_ms,
        missing=list(case.must_include),
        error=f"{type(error).__name__}: {error}",
    )


def _mean(values: Sequence[float]) -> float | None:
    return float(sum(values) / len(values)) if values else None


def aggregate(results: Sequence[QuestionResult], k: int = 5) -> dict[str, float | None]:
    """The metric dict of the eval JSON; a metric with no question to average over is None, not 0.

    Rates are rounded to 6 places (no threshold can flip on that for any realistic dataset size) so that
    the JSON holds exactly the numbers the gate checked."""
    answerable = [r for r in results if r.case.answerable]
    facts = [f for r in answerable if (f := r.facts) is not None]
    latencies = [r.latency_ms for r in results]
    metrics: dict[str, float | None] = {
        "hit@1": _mean([float(r.hit_at(1)) for r in answerable]),
        f"hit@{k}": _mean([float(r.hit_at(k)) for r in answerable]),
        "mrr@10": _mean([r.reciprocal_rank for r in answerable]),
        "facts": _mean(facts),
        "answer_pass": _mean([float(r.answer_pass) for r in results]),
        "abstain_accuracy": _mean([float(r.abstain_correct) for r in results]),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }
    return {
        name: None if v is None else round(v, 2 if name.startswith("latency") else 6)
        for name, v in metrics.items()
    }


def by_lang(results: Sequence[QuestionResult], k: int = 5) -> dict[str, dict[str, float | int | None]]:
    """The same metrics per question language, each with its question count ``n``."""
    langs = [lang for lang in LANGS if any(r.case.lang == lang for r in results)]
    langs += sorted({r.case.lang for r in results} - set(langs))
    out: dict[str, dict[str, float | int | None]] = {}
    for lang in langs:
        subset = [r for r in results if r.case.lang == lang]
        out[lang] = {**aggregate(subset, k), "n": len(subset)}
    return out
