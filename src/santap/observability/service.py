"""What /metrics and /ready read from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models.base import utcnow
from santap.observability import metrics, repository

# A notification unapplied this long has outlived its retries and a reconciler pass or two.
STALE_INBOX_AGE = timedelta(minutes=5)


@dataclass(frozen=True)
class InboxBacklog:
    unapplied: int
    stale: int  # unapplied for over STALE_INBOX_AGE
    oldest_age_s: float

    def as_dict(self) -> dict[str, float]:
        return {"unapplied": self.unapplied, "oldest_unapplied_age_s": self.oldest_age_s}


async def render_metrics(sessionmaker: async_sessionmaker[AsyncSession]) -> bytes:
    """The exposition text, with the DB gauges refreshed first."""
    async with sessionmaker() as session:
        payments = await repository.payment_counts(session)
    backlog = await inbox_backlog(sessionmaker)
    metrics.set_db_gauges(payments, backlog.unapplied, backlog.oldest_age_s)
    return metrics.render()


async def inbox_backlog(sessionmaker: async_sessionmaker[AsyncSession]) -> InboxBacklog:
    now = utcnow()
    async with sessionmaker() as session:
        count, stale, oldest = await repository.inbox_backlog(
            session, stale_before=now - STALE_INBOX_AGE
        )
    age = round((now - oldest).total_seconds(), 3) if oldest is not None else 0.0
    return InboxBacklog(unapplied=count, stale=stale, oldest_age_s=max(age, 0.0))
