"""POST /v1/feedback: thumbs up/down on an answer, stored by ``rag.feedback`` (the chat UI uses the same)."""

from __future__ import annotations

from fastapi import APIRouter

from policyqa.api.dependencies import SettingsDep
from policyqa.api.schemas import FeedbackRequest, FeedbackResponse, error_responses
from rag.feedback import record_feedback

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    status_code=201,
    responses=error_responses(400, 413, 422, 503, 507),
    summary="Record feedback on an answer",
)
def feedback(body: FeedbackRequest, settings: SettingsDep) -> FeedbackResponse:
    """Appends one JSON line to `<data_dir>/feedback.jsonl`, which maintainers turn into eval cases."""
    line = record_feedback(settings, body)  # FeedbackUnavailable becomes a 503 or 507 in policyqa.api.errors
    return FeedbackResponse(recorded=True, time=line["time"])
