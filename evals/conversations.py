"""The multi-turn eval: conversations of 2-4 turns, every turn scored with and without history.

A conversation file is JSONL, one conversation per line (format in evals/README.md). Each turn
is an eval case of its own (``expected``, ``must_include``, ``abstain`` as in FORMAT.md) plus
``follow_up`` (the turn cannot be understood without the earlier ones) and ``resolved`` (the turn
rewritten to stand alone, for readers of the set; the product never sees it).

Every conversation is asked twice: turn by turn with the product's own earlier answers as
history, and each turn alone. Turns are grouped as first turns, follow-ups and topic switches
(later turns that stand alone and must not inherit the topic); the gate compares follow-ups
with history against first turns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from evals.dataset import DatasetError, EvalCase, parse_case
from evals.metrics import QuestionResult, aggregate, failed_call, score_question
from rag.answer import Answer
from rag.followups import Turn

GROUPS = ("first", "follow_up", "switch")
GAP_METRIC = "answer_pass"


@dataclass(frozen=True)
class ConversationTurn:
    case: EvalCase
    follow_up: bool
    resolved: str


@dataclass(frozen=True)
class Conversation:
    id: str
    lang: str
    turns: tuple[ConversationTurn, ...]


class Answers(Protocol):
    def answer(self, question: str, *, history: Sequence[Turn] = ()) -> Answer: ...


def parse_conversation(record: Any, path: str, line: int) -> Conversation:
    def fail(message: str) -> DatasetError:
        return DatasetError(path, line, message)

    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
        raise fail("a conversation needs an 'id'")
    if record.get("lang") not in ("ja", "en"):
        raise fail(f"conversation {record['id']}: 'lang' must be 'ja' or 'en'")
    turns = record.get("turns")
    if not isinstance(turns, list) or not 2 <= len(turns) <= 4:
        raise fail(f"conversation {record['id']}: 'turns' must be a list of 2 to 4 turns")
    parsed = []
    for n, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict) or not isinstance(turn.get("follow_up"), bool):
            raise fail(f"conversation {record['id']} turn {n}: 'follow_up' must be true or false")
        if n == 1 and turn["follow_up"]:
            raise fail(f"conversation {record['id']}: the first turn cannot be a follow-up")
        fields = {k: turn.get(k) for k in ("question", "expected", "must_include", "abstain")}
        case = parse_case({"id": f"{record['id']}#{n}", "lang": record["lang"], **fields}, path, line)
        parsed.append(ConversationTurn(case, turn["follow_up"], str(turn.get("resolved") or case.question)))
    return Conversation(record["id"], record["lang"], tuple(parsed))


def load_conversations(paths: Sequence[Path | str]) -> list[Conversation]:
    conversations: list[Conversation] = []
    seen: set[str] = set()
    for path in paths:
        for line, text in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if not text.strip() or text.lstrip().startswith("//"):
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DatasetError(str(path), line, f"not JSON: {exc.msg}") from None
            conversation = parse_conversation(record, str(path), line)
            if conversation.id in seen:
                raise DatasetError(str(path), line, f"conversation id {conversation.id!r} appears twice")
            seen.add(conversation.id)
            conversations.append(conversation)
    if not conversations:
        raise DatasetError(", ".join(map(str, paths)), None, "no conversations")
    return conversations


@dataclass
class TurnResult:
    conversation: str
    group: str  # "first", "follow_up" or "switch"
    with_history: QuestionResult
    alone: QuestionResult
    understood_as: str | None


def _group(index: int, turn: ConversationTurn) -> str:
    return "first" if index == 0 else "follow_up" if turn.follow_up else "switch"


def _ask(service: Answers, case: EvalCase, history: Sequence[Turn]) -> tuple[QuestionResult, Answer | None]:
    started = time.perf_counter()
    try:
        answer = service.answer(case.question, history=history)
    except Exception as exc:  # noqa: BLE001 - one failing turn must not hide the others
        return failed_call(case, exc, (time.perf_counter() - started) * 1000), None
    return score_question(case, answer, (time.perf_counter() - started) * 1000), answer


def run_conversations(
    service: Answers,
    conversations: Sequence[Conversation],
    progress: Callable[[int, int], None] | None = None,
) -> list[TurnResult]:
    results: list[TurnResult] = []
    for done, conversation in enumerate(conversations, start=1):
        history: list[Turn] = []
        for index, turn in enumerate(conversation.turns):
            with_history, answer = _ask(service, turn.case, history)
            alone, _ = _ask(service, turn.case, ())
            understood_as = answer.understood_as if answer is not None else None
            results.append(
                TurnResult(conversation.id, _group(index, turn), with_history, alone, understood_as)
            )
            history.append(Turn(turn.case.question, answer.answer if answer is not None else ""))
        if progress:
            progress(done, len(conversations))
    return results


def summarize(results: Sequence[TurnResult], k: int = 5) -> dict[str, dict[str, dict[str, float | None]]]:
    """Metrics per turn group, with history and alone: ``{"follow_up": {"history": {...}, "alone": {...}}}``."""
    summary: dict[str, dict[str, dict[str, float | None]]] = {}
    for group in (*GROUPS, "all"):
        chosen = [r for r in results if group in ("all", r.group)]
        if chosen:
            summary[group] = {
                "history": {**aggregate([r.with_history for r in chosen], k), "n": len(chosen)},
                "alone": {**aggregate([r.alone for r in chosen], k), "n": len(chosen)},
            }
    return summary


def follow_up_gap(summary: dict[str, dict[str, dict[str, float | None]]], metric: str = GAP_METRIC) -> float:
    """How far follow-ups (with history) fall behind first turns: first minus follow-up."""
    first = summary["first"]["history"][metric] or 0.0
    follow = summary["follow_up"]["history"][metric] or 0.0
    return first - follow


def render(summary: dict[str, dict[str, dict[str, float | None]]]) -> str:
    metrics = ("hit@1", "answer_pass", "abstain_accuracy")
    lines = [f"{'turns':<22}" + "".join(f"{m:>18}" for m in metrics)]
    for group, runs in summary.items():
        for run, values in runs.items():
            label = f"{group} ({run}, {values['n']})"
            cells = "".join(f"{'-' if values[m] is None else format(values[m], '.3f'):>18}" for m in metrics)
            lines.append(f"{label:<22}{cells}")
    return "\n".join(lines)
