"""The owner's end-of-day numbers, for one Asia/Jakarta calendar day."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from santap.localtime import LOCAL_TZ, day_bounds
from santap.reports import repository
from santap.reports.schemas import DailyReport, HourlySales, MethodTotals, TopItem

TOP_ITEMS = 10


def _totals(rows: Sequence[Row[str, int]]) -> MethodTotals:
    return MethodTotals(**{str(method): int(amount) for method, amount in rows})


async def daily_report(session: AsyncSession, *, day: date) -> DailyReport:
    start, end = day_bounds(day)
    gross = _totals(await repository.gross_by_method(session, start, end))
    refunds = _totals(await repository.refunds_by_method(session, start, end))
    items = await repository.top_items(session, start, end, TOP_ITEMS)
    return DailyReport(
        date=day,
        timezone=str(LOCAL_TZ),
        period_start=start,
        period_end=end,
        orders_placed=await repository.orders_placed(session, start, end),
        orders_paid=await repository.orders_paid(session, start, end),
        gross=gross,
        gross_total=gross.total,
        refunds=refunds,
        refunds_total=refunds.total,
        net=gross.total - refunds.total,
        hourly=_by_hour(await repository.settled_payments(session, start, end)),
        top_items=[
            TopItem(menu_item_id=item_id, name=name, quantity=int(qty), revenue=int(revenue))
            for item_id, name, qty, revenue in items
        ],
    )


def _by_hour(rows: Sequence[Row[datetime | None, int]]) -> list[HourlySales]:
    payments, amounts = [0] * 24, [0] * 24
    for paid_at, amount in rows:
        if paid_at is None:  # not possible: the query asks for a range of paid_at
            continue
        hour = paid_at.astimezone(LOCAL_TZ).hour
        payments[hour] += 1
        amounts[hour] += int(amount)
    return [HourlySales(hour=h, payments=payments[h], amount=amounts[h]) for h in range(24)]


def to_csv(report: DailyReport) -> str:
    """One metric per row, so it opens cleanly in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "name", "quantity", "amount"])
    writer.writerow(["summary", "date", "", report.date.isoformat()])
    writer.writerow(["summary", "orders_placed", report.orders_placed, ""])
    writer.writerow(["summary", "orders_paid", report.orders_paid, ""])
    for method in ("cash", "qris"):
        writer.writerow(["gross", method, "", getattr(report.gross, method)])
    writer.writerow(["gross", "total", "", report.gross_total])
    for method in ("cash", "qris"):
        writer.writerow(["refunds", method, "", getattr(report.refunds, method)])
    writer.writerow(["refunds", "total", "", report.refunds_total])
    writer.writerow(["net", "total", "", report.net])
    for item in report.top_items:
        writer.writerow(["top_item", item.name, item.quantity, item.revenue])
    for hour in report.hourly:
        if hour.payments:
            writer.writerow(["hour", f"{hour.hour:02d}:00", hour.payments, hour.amount])
    return out.getvalue()
