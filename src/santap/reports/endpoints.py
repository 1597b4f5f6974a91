from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from santap.db import SessionDep, TransactionalRoute
from santap.reports import service
from santap.reports.schemas import DailyReport
from santap.staff.dependencies import AdminDep

router = APIRouter(prefix="/api/v1/admin/reports", tags=["reports"], route_class=TransactionalRoute)


@router.get(
    "/daily",
    response_model=DailyReport,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The report (JSON or CSV)"},
        401: {"description": "No valid staff token"},
        403: {"description": "Admin role required"},
    },
)
async def daily_report(
    session: SessionDep,
    _admin: AdminDep,
    # The first and last representable days have no UTC bounds (Jakarta is UTC+7).
    day: Annotated[
        date, Query(alias="date", gt=date.min, lt=date.max, description="Asia/Jakarta calendar day")
    ],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> DailyReport | Response:
    """Orders, takings by method, refunds and top items for one Asia/Jakarta day."""
    report = await service.daily_report(session, day=day)
    if format == "csv":
        return Response(
            service.to_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="santap-{day}.csv"'},
        )
    return report
