"""POST /v1/feedback: thumbs up/down on an answer, stored by ``rag.feedback`` (the chat UI uses the same)."""

from __future__ import annotations

from fastapi import APIRouter

from rag.api.dependencies import SettingsDep
from rag.api.errors import ApiError
from rag.api.schemas import FeedbackRequest, FeedbackResponse, error_responses
from rag.feedback import FeedbackUnavailable, record_feedback

router = APIRouter(tags=["feedback"])


@router.post("/feedback", response_model=FeedbackResponse, status_code=201,
             responses=error_responses(400, 413, 422, 503, 507),
             summary="Record feedback on an answer")
def feedback(body: FeedbackRequest, settings: SettingsDep) -> FeedbackResponse:
    """Appends one JSON line to `<data_dir>/feedback.jsonl`, which maintainers turn into eval cases."""
    try:
        line = record_feedback(settings, body)
    except FeedbackUnavailable as exc:
        raise ApiError(507 if exc.full else 503, "feedback_full" if exc.full else "feedback_unavailable",
                       str(exc)) from None
    return FeedbackResponse(recorded=True, time=line["time"])
