"""Upload jobs (admin): where an upload accepted with 202 stands.

Admin only: a job's report names server paths (the saved file), as `policyqa ingest --json` does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam

from policyqa.api.dependencies import AdminDep, ServiceDep
from policyqa.api.routers.documents import job_response
from policyqa.api.schemas import JOB_EXAMPLES, JobResponse, error_responses

router = APIRouter(prefix="/jobs", tags=["documents (admin)"], dependencies=[AdminDep])


@router.get(
    "/{job_id}",
    response_model=JobResponse,
    responses={
        200: {
            "description": "The job; `status` is queued, running, succeeded or failed",
            "content": {"application/json": {"examples": {k: {"value": v} for k, v in JOB_EXAMPLES.items()}}},
        },
        **error_responses(401, 403, 404, 422),
    },
    summary="The state of an upload job (admin)",
)
def get_job(
    request: Request,
    job_id: Annotated[str, PathParam(description="The `job_id` of an upload's 202 answer", max_length=64)],
    service: ServiceDep,
) -> JobResponse:
    """Poll until `status` is `succeeded` (then `result` and `document` say what was indexed) or
    `failed` (then `error` holds the code the upload was refused with, e.g. `encrypted`,
    `no_text`, `too_many_pages`). Jobs are kept in the server's memory: after a restart, or once
    1,000 newer jobs have finished, an id is a 404 `unknown_job`."""
    return job_response(request, service, service.job(job_id))
