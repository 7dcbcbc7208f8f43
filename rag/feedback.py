"""Answer feedback from users, kept as JSON lines that maintainers can turn into eval cases."""

from __future__ import annotations

import fcntl
import json
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from rag.settings import Settings


class Feedback(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(max_length=20000)
    citations: list[dict] = Field(default_factory=list, max_length=50)
    vote: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


def record_feedback(settings: Settings, feedback: Feedback) -> dict:
    """Append one line; a file lock keeps concurrent writers from interleaving."""
    line = {**feedback.model_dump(), "time": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.feedback_path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        fcntl.flock(fh, fcntl.LOCK_UN)
    return line
