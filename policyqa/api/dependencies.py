"""Dependencies shared by the routers: the service and settings loaded at start-up, and admin auth."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.settings import Settings
from policyqa.api.errors import ApiError
from rag.service import PolicyQA


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_service(request: Request) -> PolicyQA:
    return request.app.state.service


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[PolicyQA, Depends(get_service)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="The value of POLICYQA_ADMIN_TOKEN; uploads and deletes are disabled without it.",
)


def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """403 when no admin token is configured at all, 401 when the request's token is missing or wrong."""
    configured = settings.admin_token.get_secret_value() if settings.admin_token else ""
    if not configured:
        raise ApiError(
            403,
            "uploads_disabled",
            "uploads and deletes are disabled on this server: set POLICYQA_ADMIN_TOKEN to enable them",
        )
    given = credentials.credentials if credentials is not None else ""
    if not secrets.compare_digest(given.encode("utf-8"), configured.encode("utf-8")):
        raise ApiError(
            401,
            "unauthorized",
            "a valid admin token is required: send 'Authorization: Bearer <POLICYQA_ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminDep = Depends(require_admin)
