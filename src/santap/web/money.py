"""The owner's money pages (admin role): payments that need follow-up with their refund, and
the day's report with its sales per hour and the CSV. The services are the API's."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from santap.db import SessionDep, TransactionalRoute, TransactionsDep
from santap.errors import SantapError
from santap.localtime import LOCAL_TZ
from santap.models.base import MAX_ID
from santap.payments import refunds
from santap.payments.gateway import GatewayDep
from santap.payments.schemas import PaymentAdminRead, RefundCreate
from santap.reports import service as reports
from santap.staff.dependencies import SettingsDep
from santap.web import forms, session
from santap.web.admin import AdminStaff
from santap.web.render import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

PaymentId = Annotated[int, Path(ge=1, le=MAX_ID)]
# The first and last representable days have no UTC bounds (Jakarta is UTC+7).
Day = Annotated[date | None, Query(alias="date", gt=date.min, lt=date.max)]


@router.get("/admin/payments")
async def flagged_page(
    request: Request, db: SessionDep, staff: AdminStaff, settings: SettingsDep
) -> Response:
    """Payments needing follow-up: paid twice, the wrong amount, or held by Midtrans."""
    rows = await refunds.flagged_payments(db, flag=None)
    return page(
        request,
        "admin_payments.html",
        staff=staff,
        payments=[PaymentAdminRead.model_validate(row) for row in rows],
        csrf=session.csrf_token(settings, request.cookies[session.COOKIE]),
        query=request.query_params,
    )


@router.post("/admin/payments/{payment_id}/refund")
async def refund(
    payment_id: PaymentId,
    staff: AdminStaff,
    form: session.CheckedForm,
    transactions: TransactionsDep,
    gateway: GatewayDep,
) -> Response:
    amount = str(form.get("amount", "")).strip()
    try:
        data = RefundCreate(
            amount=forms.rupiah(amount) if amount else None, reason=str(form.get("reason", ""))
        )
        done = await refunds.refund_payment(
            transactions, payment_id=payment_id, data=data, admin=staff, gateway=gateway
        )
    except (ValueError, ValidationError):
        return _back(error="refund_invalid", payment=payment_id)
    except SantapError as exc:
        return _back(error=exc.message, payment=payment_id)
    return _back(notice="refunded", payment=payment_id, amount=done.refund.amount)


@router.get("/admin/report")
async def report_page(
    request: Request, db: SessionDep, staff: AdminStaff, day: Day = None
) -> Response:
    """One Asia/Jakarta day: orders, takings by method, refunds, sales per hour, top items."""
    report = await reports.daily_report(db, day=day or _today())
    busiest = max((hour.amount for hour in report.hourly), default=0)
    shown = [hour for hour in report.hourly if hour.payments]
    return page(
        request,
        "admin_report.html",
        staff=staff,
        report=report,
        hours=report.hourly[shown[0].hour : shown[-1].hour + 1] if shown else [],
        busiest=busiest,
    )


@router.get("/admin/report.csv")
async def report_csv(db: SessionDep, staff: AdminStaff, day: Day = None) -> Response:
    """The same day as a spreadsheet (the API's CSV)."""
    chosen = day or _today()
    report = await reports.daily_report(db, day=chosen)
    return Response(
        reports.to_csv(report),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="santap-{chosen}.csv"'},
    )


def _today() -> date:
    return datetime.now(LOCAL_TZ).date()


def _back(**query: object) -> Response:
    return RedirectResponse(
        "/admin/payments?" + urlencode({k: str(v) for k, v in query.items()}), status_code=303
    )
