"""The HTTP API: ``create_app(settings)`` builds the FastAPI application (``/v1``, ``/docs``, ``/ui``)."""

from policyqa.api.app import create_app

__all__ = ["create_app"]
