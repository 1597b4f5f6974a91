from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from santap.config import Settings
from santap.errors import Unauthorized
from santap.observability import metrics, service

router = APIRouter(tags=["ops"])

_bearer = HTTPBearer(auto_error=False, description="SANTAP_METRICS_TOKEN")


class MetricsTokenRequired(Unauthorized):
    code = "metrics_token_required"

    def __init__(self) -> None:
        super().__init__(
            "A valid metrics token is required", headers={"WWW-Authenticate": "Bearer"}
        )


async def require_metrics_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """With SANTAP_METRICS_TOKEN set, only a scraper holding it may read /metrics."""
    settings: Settings = request.app.state.settings
    if settings.metrics_token is None:
        return
    expected = settings.metrics_token.get_secret_value().encode()
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header may carry any byte.
    given = credentials.credentials.encode() if credentials is not None else b""
    if not hmac.compare_digest(given, expected):
        raise MetricsTokenRequired()


@router.get(
    "/metrics",
    include_in_schema=False,
    dependencies=[Depends(require_metrics_token)],
    responses={401: {"description": "SANTAP_METRICS_TOKEN is set and was not sent"}},
)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    body = await service.render_metrics(request.app.state.read_sessionmaker)
    return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)
