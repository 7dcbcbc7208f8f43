"""Tiny hand-made eval cases and answers, so metric tests state their inputs in full."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from evals.baselines import PageHit, SimpleAnswer
from evals.dataset import EvalCase, parse_case

DOC = "deck"


def case(
    case_id: str,
    pages: Sequence[int] = (),
    *,
    facts: Sequence[str | list[str]] = (),
    lang: str = "ja",
    abstain: bool = False,
    doc: str = DOC,
    question: str | None = None,
) -> EvalCase:
    """An answerable case expecting ``pages`` of ``doc``; ``abstain=True`` makes an unanswerable one."""
    record = {
        "id": case_id,
        "question": question or f"{case_id} の質問",
        "lang": lang,
        "expected": [] if abstain else [{"doc": doc, "pages": list(pages)}],
        "must_include": list(facts),
        "abstain": abstain,
    }
    return parse_case(record, "test.jsonl", 1)


def hits(*pages: int | tuple[str, int]) -> list[PageHit]:
    """Ranked chunks by page (a bare int is a page of ``DOC``)."""
    out = []
    for p in pages:
        doc, page = (DOC, p) if isinstance(p, int) else p
        out.append(PageHit(doc_id=doc, page=page, score=1.0, text=f"{doc} p.{page}"))
    return out


def answer(
    text: str = "",
    *,
    sources: Sequence[int | tuple[str, int]] = (),
    cited: Sequence[int | tuple[str, int]] = (),
    abstained: bool = False,
) -> SimpleAnswer:
    return SimpleAnswer(
        question="q", answer=text, abstained=abstained, citations=hits(*cited), sources=hits(*sources)
    )


@contextmanager
def product_environment(data_dir: Path, corpus_dir: Path) -> Iterator[None]:
    """The environment a CLI run in a test sees: this index and corpus, embedded Chroma, the
    default embedder, no LLM (whatever the developer's shell sets)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POLICYQA_DATA_DIR", str(data_dir))
        mp.setenv("POLICYQA_CORPUS_DIR", str(corpus_dir))
        for name in (
            "POLICYQA_CHROMA_URL",
            "POLICYQA_EMBEDDER",
            "POLICYQA_LLM_BASE_URL",
            "POLICYQA_LLM_MODEL",
        ):
            mp.delenv(name, raising=False)
        yield
