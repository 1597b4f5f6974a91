"""Wiring into the app factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from santap.config import Environment, Settings
from santap.observability.endpoints import router
from santap.observability.logging import RedactArguments
from santap.observability.middleware import RequestContextMiddleware

logger = logging.getLogger(__name__)


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Request ids, access log and HTTP metrics for every request; ``GET /metrics``."""
    app.add_middleware(RequestContextMiddleware, trusted_proxies=settings.trusted_proxies)
    redact_server_access_log()
    app.include_router(router)
    if settings.env is Environment.PRODUCTION and settings.metrics_token is None:
        logger.warning(
            "SANTAP_METRICS_TOKEN is not set: GET /metrics is public; set it and give it to "
            "the scraper as a bearer token"
        )


def redact_server_access_log() -> None:
    """An ASGI server's own access log (uvicorn's is on when it runs ``santap.main:app``
    directly) writes whole URLs: an event stream's ``?access_token=`` must not reach it,
    whichever handler the server logs through."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, RedactArguments) for existing in access.filters):
        access.addFilter(RedactArguments())
