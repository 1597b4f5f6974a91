from __future__ import annotations

from fastapi import APIRouter, Request, Response

from santap.observability import metrics, service

router = APIRouter(tags=["ops"])


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    body = await service.render_metrics(request.app.state.read_sessionmaker)
    return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)
