"""Feedback storage: bounded records, a capped file, no half lines, malformed lines skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.errors import FeedbackUnavailable
from core.settings import Settings
from rag.feedback import Feedback, record_feedback
from ui.feedback_cases import read_lines


def vote(**overrides) -> Feedback:
    body = {
        "question": "特定重要物資は？",
        "answer": "12の物資",
        "vote": "up",
        "citations": [
            {
                "doc_id": "deck",
                "page": 16,
                "quote": "12の物資",
                "url": "/v1/documents/deck/pdf#page=16",
                "doc_title": "経済安全保障",
                "unknown": "dropped",
            }
        ],
    }
    return Feedback.model_validate({**body, **overrides})


def test_citations_are_bounded_and_need_a_document_and_page() -> None:
    assert vote().citations[0].doc_id == "deck"
    for bad in (
        [{"page": 1}],
        [{"doc_id": "d", "page": 0}],
        [{"doc_id": "d", "page": 1, "quote": "x" * 2001}],
        [{"doc_id": "d", "page": 1}] * 21,
        [{"doc_id": "x" * 129, "page": 1}],
    ):
        with pytest.raises(ValidationError):
            vote(citations=bad)


def test_a_full_feedback_file_refuses_more_votes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, feedback_max_mb=1)
    settings.feedback_path.write_bytes(b"x" * (1024 * 1024 - 10))
    with pytest.raises(FeedbackUnavailable) as refused:
        record_feedback(settings, vote())
    assert refused.value.code == "feedback_full"
    assert settings.feedback_path.stat().st_size == 1024 * 1024 - 10


def test_a_failed_write_leaves_no_half_line(tmp_path: Path, monkeypatch) -> None:
    settings = Settings(data_dir=tmp_path)
    record_feedback(settings, vote())
    before = settings.feedback_path.read_bytes()
    import rag.feedback as module

    class DiskFillsMidWrite:
        """The real file, whose write stores half the line and then fails as a full disk does."""

        def __init__(self, *args, **kwargs):
            self.fh = open(*args, **kwargs)  # noqa: SIM115 - closed in __exit__

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(module, "open", DiskFillsMidWrite, raising=False)
    with pytest.raises(FeedbackUnavailable) as failed:
        record_feedback(settings, vote(vote="down"))
    monkeypatch.undo()
    assert failed.value.code == "feedback_unavailable" and "No space left" in str(failed.value)
    assert settings.feedback_path.read_bytes() == before
    record_feedback(settings, vote(vote="down"))
    assert [json.loads(line)["vote"] for line in settings.feedback_path.read_text().splitlines()] == [
        "up",
        "down",
    ]


def test_malformed_lines_are_skipped_and_reported(tmp_path: Path, capsys) -> None:
    path = tmp_path / "feedback.jsonl"
    good = {**vote().model_dump(exclude_none=True), "time": "2026-12-02T00:00:00+00:00"}
    path.write_text(
        "\n".join(
            [
                json.dumps(good, ensure_ascii=False),
                "{not json",
                json.dumps({"question": "q", "answer": "a", "vote": "up", "citations": [{"page": 3}]}),
                json.dumps(["a", "list"]),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    assert read_lines(path) == [good]
    err = capsys.readouterr().err
    assert ":2: not JSON" in err and ":3: not a feedback record" in err and ":4: not a feedback record" in err
