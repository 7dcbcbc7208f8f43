"""Answer feedback from users, kept as JSON lines that maintainers can turn into eval cases."""

from __future__ import annotations

import fcntl
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import FeedbackUnavailable, Kind
from core.settings import Settings


class FeedbackCitation(BaseModel):
    """What a vote says about a citation; every field is bounded, so a vote is a few KB at most."""

    model_config = ConfigDict(extra="ignore")

    doc_id: str = Field(min_length=1, max_length=128)
    page: int = Field(ge=1, le=100_000)
    quote: str | None = Field(None, max_length=2000)
    doc_title: str | None = Field(None, max_length=300)
    doc_date: str | None = Field(None, max_length=40)
    score: float | None = None
    url: str | None = Field(None, max_length=500)


class Feedback(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(max_length=20000)
    citations: list[FeedbackCitation] = Field(default_factory=list, max_length=20)
    vote: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


def record_feedback(settings: Settings, feedback: Feedback) -> dict[str, Any]:
    """Append one line; a file lock keeps concurrent writers from interleaving. A write that fails
    (a full disk) is rolled back to the previous end of the file, so no half line is left to
    swallow the next vote; a file at its cap takes no more."""
    line = {**feedback.model_dump(exclude_none=True), "time": datetime.now(UTC).isoformat(timespec="seconds")}
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(settings.feedback_path, "ab") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            end = fh.seek(0, 2)
            if end + len(data) > settings.feedback_max_mb * 1024 * 1024:
                raise FeedbackUnavailable(
                    f"the feedback file reached its limit of {settings.feedback_max_mb} MB",
                    code="feedback_full",
                    kind=Kind.STORAGE_FULL,
                )
            try:
                fh.write(data)
                fh.flush()
            except OSError:
                fh.truncate(end)
                raise
    except OSError as exc:
        raise FeedbackUnavailable(
            f"feedback cannot be stored now ({exc.strerror or type(exc).__name__})"
        ) from None
    return line
