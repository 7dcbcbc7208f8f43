"""Probes for load balancers and orchestrators: /healthz (process alive), /readyz (can answer)."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from core.errors import EmbedderMismatch, StoreUnavailable
from policyqa.api.dependencies import ServiceDep
from policyqa.api.errors import ApiError
from policyqa.api.schemas import Health, Ready, error_responses

log = logging.getLogger("policyqa.api")

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers HTTP")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    responses=error_responses(503),
    summary="Readiness: the index is loaded and Chroma reachable",
)
def readyz(service: ServiceDep) -> Ready:
    """200 when this replica can answer now; 503 (with the reason) while Chroma is unreachable."""
    try:
        snapshot = service.readiness()
    except (StoreUnavailable, EmbedderMismatch):
        raise
    except Exception as exc:  # noqa: BLE001 - anything that stops answering means "not ready"
        log.warning("not ready: %s: %s", type(exc).__name__, exc)
        raise ApiError(503, "not_ready", f"the index cannot be read: {type(exc).__name__}: {exc}") from None
    return Ready(status="ready", documents=len(snapshot.documents), revision=snapshot.revision)
