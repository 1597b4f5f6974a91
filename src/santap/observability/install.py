"""Wiring into the app factory."""

from __future__ import annotations

from fastapi import FastAPI

from santap.config import Settings
from santap.observability.endpoints import router
from santap.observability.middleware import RequestContextMiddleware


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Request ids, access log and HTTP metrics for every request; ``GET /metrics``."""
    app.add_middleware(RequestContextMiddleware, trusted_proxies=settings.trusted_proxies)
    app.include_router(router)
