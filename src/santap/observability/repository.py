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


async def unapplied_notifications(
    session: AsyncSession, *, received_before: datetime | None = None
) -> int:
    """Validly signed inbox rows not applied yet (optionally only those older than a time)."""
    query = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.applied_at.is_(None), Notification.signature_valid.is_(True))
    )
    if received_before is not None:
        query = query.where(Notification.received_at < received_before)
    return int(await session.scalar(query) or 0)
