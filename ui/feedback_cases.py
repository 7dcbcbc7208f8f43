"""Draft eval cases from the chat UI's votes (``data/feedback.jsonl``).

    python -m ui.feedback_cases data/feedback.jsonl > feedback-drafts.jsonl

Each output line has the eval dataset format (``id, question, lang, expected [{doc, pages}],
must_include, abstain``); what a maintainer still has to check or fill in is printed to
stderr, one note per draft. Drafts never go into ``evals/datasets/`` unreviewed: see
docs/ui.md.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from core.text import has_japanese
from rag.answer import ABSTAIN_EN, ABSTAIN_JA
from rag.feedback import Feedback

NOTE_CONFIRM = "confirm the expected pages really answer it; add its key facts to must_include"
NOTE_CONFIRM_ABSTAIN = "confirm the documents really do not answer it"
NOTE_WRONG = (
    "voted down: find the pages that answer it (policyqa search), fill expected and must_include; "
    "or, if no document answers it, set abstain to true"
)
NOTE_MISSED = "voted down on an abstention: find the pages that answer it, fill expected and must_include"


def is_abstention(answer: str) -> bool:
    return answer.strip() in (ABSTAIN_JA, ABSTAIN_EN)


def draft_case(line: dict, case_id: str) -> tuple[dict, str]:
    """One feedback line → (draft eval case, what the maintainer must still do)."""
    question = line["question"].strip()
    abstained = is_abstention(line.get("answer", ""))
    up = line.get("vote") == "up"
    expected: list[dict] = []
    if up and not abstained:
        pages: dict[str, set[int]] = {}
        for c in line.get("citations") or []:
            pages.setdefault(c["doc_id"], set()).add(int(c["page"]))
        expected = [{"doc": doc, "pages": sorted(p)} for doc, p in pages.items()]
    case = {
        "id": case_id,
        "question": question,
        "lang": "ja" if has_japanese(question) else "en",
        "expected": expected,
        "must_include": [],
        "abstain": up and abstained,
    }
    if up:
        note = NOTE_CONFIRM_ABSTAIN if abstained else NOTE_CONFIRM
    else:
        note = NOTE_MISSED if abstained else NOTE_WRONG
    return case, note


def draft_cases(lines: Iterable[dict], prefix: str = "fb") -> list[tuple[dict, str]]:
    """Drafts for every question voted on; a question voted on again keeps only its latest vote."""
    latest: dict[str, dict] = {}
    for line in lines:
        question = (line.get("question") or "").strip()
        if question and line.get("vote") in ("up", "down"):
            latest.pop(question, None)  # re-insert so the order follows the latest vote
            latest[question] = line
    drafts = []
    for n, line in enumerate(latest.values(), start=1):
        day = str(line.get("time", ""))[:10].replace("-", "") or "undated"
        drafts.append(draft_case(line, f"{prefix}-{day}-{n:03d}"))
    return drafts


def read_lines(path: Path) -> list[dict]:
    out = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.strip():
            try:
                line = json.loads(raw)
                Feedback.model_validate({k: v for k, v in line.items() if k != "time"})
            except json.JSONDecodeError:
                print(f"{path}:{number}: not JSON, skipped", file=sys.stderr)
            except (ValidationError, AttributeError) as exc:
                print(
                    f"{path}:{number}: not a feedback record ({str(exc).splitlines()[0]}), skipped",
                    file=sys.stderr,
                )
            else:
                out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    for case, note in draft_cases(read_lines(Path(args[0]))):
        print(json.dumps(case, ensure_ascii=False))
        print(f"{case['id']}: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
