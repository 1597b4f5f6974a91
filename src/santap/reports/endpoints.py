from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from santap.db import SessionDep, TransactionalRoute
from santap.localtime import today
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
        date | None,
        Query(
            alias="date",
            gt=date.min,
            lt=date.max,
            description="The restaurant's day (Asia/Jakarta, WIB): from 00:00 to 24:00 WIB, "
            "which is 17:00 UTC the day before to 17:00 UTC. Defaults to today in Jakarta.",
        ),
    ] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> DailyReport | Response:
    """Orders, takings by method, refunds and top items for one Asia/Jakarta day.

    Days are the restaurant's: a date runs from midnight to midnight in Asia/Jakarta (WIB,
    UTC+7), and without ``date`` the report is for today there. ``orders_paid`` counts the
    orders paid that day, in JSON and CSV alike."""
    report = await service.daily_report(session, day=day or today())
    if format == "csv":
        return Response(
            service.to_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="santap-{report.date}.csv"'},
        )
    return report
