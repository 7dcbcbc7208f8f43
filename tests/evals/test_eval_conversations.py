"""The multi-turn eval: the conversation format, and the gate over the deck and the real PDFs.

The conversations (evals/datasets/conversations-*.jsonl) were written from the rendered pages
only; the gate runs on the test part."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from eval_helpers import product_environment

from evals.conversations import load_conversations
from evals.dataset import DatasetError
from policyqa.cli import main

ROOT = Path(__file__).resolve().parents[2]
TEST_PART = ROOT / "evals" / "datasets" / "conversations-test.jsonl"
TUNE_PART = ROOT / "evals" / "datasets" / "conversations-tune.jsonl"

FIRST = {
    "question": "海底ケーブルの敷設計画は？",
    "follow_up": False,
    "resolved": "海底ケーブルの敷設計画は？",
    "expected": [{"doc": "d", "pages": [3]}],
    "must_include": ["敷設"],
    "abstain": False,
}
LATER = {
    "question": "予算は？",
    "follow_up": True,
    "resolved": "海底ケーブルの敷設計画の予算は？",
    "expected": [],
    "must_include": [],
    "abstain": True,
}


def _write(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_a_conversation_is_a_list_of_eval_cases_with_follow_up_marks(tmp_path: Path) -> None:
    [conversation] = load_conversations(
        [_write(tmp_path, {"id": "c1", "lang": "ja", "turns": [FIRST, LATER]})]
    )
    assert [t.follow_up for t in conversation.turns] == [False, True]
    assert conversation.turns[0].case.expected_pages == {("d", 3)}
    assert conversation.turns[1].case.abstain and conversation.turns[1].case.id == "c1#2"


@pytest.mark.parametrize(
    ("record", "complaint"),
    [
        ({"id": "c", "lang": "ja", "turns": [FIRST]}, "2 to 4 turns"),
        ({"id": "c", "lang": "ja", "turns": [LATER, FIRST]}, "first turn cannot be a follow-up"),
        ({"id": "c", "lang": "fr", "turns": [FIRST, LATER]}, "'lang'"),
        ({"id": "c", "lang": "ja", "turns": [FIRST, {**LATER, "follow_up": "yes"}]}, "follow_up"),
    ],
)
def test_malformed_conversations_are_reported_with_their_line(
    tmp_path: Path, record: dict, complaint: str
) -> None:
    with pytest.raises(DatasetError) as caught:
        load_conversations([_write(tmp_path, record)])
    assert complaint in str(caught.value) and ":1" in str(caught.value)


def test_the_bundled_conversation_sets_load_and_mark_their_follow_ups() -> None:
    conversations = load_conversations([TUNE_PART, TEST_PART])
    turns = [t for c in conversations for t in c.turns]
    assert 2 * len(conversations) <= len(turns) <= 4 * len(conversations)
    assert len(conversations) >= 40 and sum(c.lang == "en" for c in conversations) >= 10
    assert any(not t.follow_up for c in conversations for t in c.turns[1:]), (
        "topic switches must be in the set"
    )


@pytest.mark.slow
def test_follow_ups_with_history_pass_the_gate_on_the_test_part(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for pdf in [
        ROOT / "corpus" / "econsec-public-private-action-2025-03-16.pdf",
        *(ROOT / "tests" / "data" / "real-pdfs").glob("*.pdf"),
    ]:
        shutil.copy(pdf, corpus / pdf.name)
    shutil.copy(ROOT / "corpus" / "manifest.toml", corpus / "manifest.toml")
    with product_environment(tmp_path / "data", corpus):
        ingested = CliRunner().invoke(main, ["ingest", "--json"])
        assert ingested.exit_code == 0, ingested.output
        out = tmp_path / "conversations.json"
        result = CliRunner().invoke(
            main, ["eval", "--conversations", str(TEST_PART), "--gate", "--json", str(out)]
        )
    print(result.output)
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text(encoding="utf-8"))["summary"]
    follow, switch = summary["follow_up"], summary["switch"]
    # History must help follow-ups, and must not hurt the turns that change the subject.
    assert follow["history"]["hit@1"] > follow["alone"]["hit@1"]
    assert follow["history"]["answer_pass"] > follow["alone"]["answer_pass"]
    assert switch["history"]["answer_pass"] >= switch["alone"]["answer_pass"]
