"""What /metrics and /ready read from the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models.base import utcnow
from santap.observability import metrics, repository

# A notification unapplied this long has outlived its retries and a reconciler pass or two.
STALE_INBOX_AGE = timedelta(minutes=5)


async def render_metrics(sessionmaker: async_sessionmaker[AsyncSession]) -> bytes:
    """The exposition text, with the DB gauges refreshed first."""
    async with sessionmaker() as session:
        payments = await repository.payment_counts(session)
        unapplied = await repository.unapplied_notifications(session)
    metrics.set_db_gauges(payments, unapplied)
    return metrics.render()


async def stale_inbox_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await repository.unapplied_notifications(
            session, received_before=utcnow() - STALE_INBOX_AGE
        )
