"""The applier: applies acknowledged notifications in the background, exactly once.

Every process runs one. It is woken at once by its own webhook, by PostgreSQL's NOTIFY
(``santap.listen``) when another process acknowledged one, and by a periodic sweep as a
safety net. It leases a batch of unapplied rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so instances share the work; a crashed one's lease simply expires), asks Midtrans about each
with no transaction open, then applies it through the state machine while holding the row,
which a second applier with an expired lease finds already applied."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models.base import utcnow
from santap.observability import metrics
from santap.payments import inbox, repository
from santap.payments.gateway import PaymentGateway

logger = logging.getLogger(__name__)

BATCH = 64
CONCURRENCY = 16
# Longer than any one application (a status request is bounded by its timeout); a row leased
# by a process that died is taken again once this passes.
LEASE = timedelta(seconds=60)
# A status check that failed is tried again after 2, 4, 8 ... seconds, at most 5 minutes.
MAX_RETRY_DELAY_S = 300


@dataclass(frozen=True)
class Claimed:
    id: int
    order_uid: str
    raw_body: str
    received_at: datetime
    attempts: int

    @classmethod
    def from_row(cls, row: Any) -> Claimed:
        return cls(row.id, row.order_uid or "", row.raw_body, row.received_at, row.attempts)


async def apply_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    *,
    limit: int = BATCH,
    concurrency: int = CONCURRENCY,
) -> dict[str, int]:
    """Claim up to ``limit`` due rows and apply them; returns the count per outcome."""
    now = utcnow()
    async with sessionmaker.begin() as session:
        rows = await repository.claim_notifications(
            session, now=now, lease_until=now + LEASE, limit=limit
        )
    claimed = [Claimed.from_row(row) for row in rows]
    gate = asyncio.Semaphore(concurrency)

    async def one(row: Claimed) -> str:
        async with gate:
            return await _apply_isolated(sessionmaker, gateway, row)

    outcomes: dict[str, int] = {}
    for outcome in await asyncio.gather(*(one(row) for row in claimed)):
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


async def _apply_isolated(
    sessionmaker: async_sessionmaker[AsyncSession], gateway: PaymentGateway, row: Claimed
) -> str:
    """One row's unexpected failure is logged and left to its lease, never the batch's end."""
    try:
        return await apply_one(sessionmaker, gateway, row)
    except Exception:
        logger.exception("applying notification %d failed; retried when its lease ends", row.id)
        return "error"


async def apply_one(
    sessionmaker: async_sessionmaker[AsyncSession], gateway: PaymentGateway, row: Claimed
) -> str:
    try:
        body: dict[str, Any] | None = inbox.parse_body(row.raw_body.encode())
    except inbox.BadNotification:
        body = None  # stored before the webhook parsed what it stores; it never will parse
    verification = await inbox.verify_with_midtrans(row.order_uid, body, gateway) if body else None
    async with sessionmaker.begin() as session:
        notification = await repository.get_notification(session, row.id)
        if notification is None or notification.applied_at is not None:
            return "duplicate"  # another applier took it over once our lease had passed
        payment = await repository.get_by_uid(session, row.order_uid)
        if payment is None or verification is None:
            # The acknowledgement stores only readable notifications of known attempts.
            outcome = "unreadable" if verification is None else "unknown_transaction"
            notification.outcome, notification.applied_at = outcome, utcnow()
            logger.error("notification %d closed without applying it: %s", row.id, outcome)
            return outcome
        outcome = await inbox.apply_verified(
            session, notification=notification, payment=payment, verification=verification
        )
        if notification.applied_at is None:
            delay = min(2**row.attempts, MAX_RETRY_DELAY_S)
            notification.lease_until = utcnow() + timedelta(seconds=delay)
    if outcome != "queued":
        metrics.observe_applied(outcome, (utcnow() - row.received_at).total_seconds())
    return outcome


class Applier:
    """The supervised background loop of one process."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: PaymentGateway,
        *,
        sweep_s: float = 5.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._sweep_s = sweep_s
        self._wake = asyncio.Event()
        self._started = 0
        self._finished = 0
        self._passed = asyncio.Condition()

    def wake(self) -> None:
        """Something was acknowledged (here, or elsewhere): look now."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self._sweep_s)
            except TimeoutError:
                pass
            self._wake.clear()
            self._started += 1
            while await apply_due(self._sessionmaker, self._gateway):
                pass
            async with self._passed:
                self._finished += 1
                self._passed.notify_all()

    async def settled(self) -> None:
        """Wait until a pass that starts after this call has found nothing more due: what
        was acknowledged before the call is applied, or waiting for a retry."""
        async with self._passed:
            target = self._started + 1
            self.wake()
            await self._passed.wait_for(lambda: self._finished >= target)
