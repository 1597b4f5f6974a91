"""Read-only counts for metrics and readiness: one cheap aggregate query each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from santap.models import Notification, Payment


async def payment_counts(session: AsyncSession) -> Sequence[tuple[str, str, int]]:
    query = select(Payment.status, Payment.method, func.count()).group_by(
        Payment.status, Payment.method
    )
    rows = (await session.execute(query)).all()
    return [(str(status), str(method), int(count)) for status, method, count in rows]


async def inbox_backlog(
    session: AsyncSession, *, stale_before: datetime
) -> tuple[int, int, datetime | None]:
    """Valid notifications waiting to be applied: how many, how many since before
    ``stale_before``, and when the oldest arrived. One query."""
    waiting = Notification.applied_at.is_(None), Notification.signature_valid.is_(True)
    query = select(
        func.count(),
        func.count().filter(Notification.received_at < stale_before),
        func.min(Notification.received_at),
    ).where(*waiting)
    count, stale, oldest = (await session.execute(query)).one()
    return int(count), int(stale), oldest
