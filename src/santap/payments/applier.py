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
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from santap.db import autocommit
from santap.models.base import utcnow
from santap.observability import metrics
from santap.orders import service as orders_service
from santap.payments import inbox, inbox_sql, repository
from santap.payments.gateway import PaymentGateway
from santap.payments.settlement import GatewayReport, Standing, log_plan, plan_report

logger = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 64
CONCURRENCY = 16
# Longer than any one application (a status request is bounded by its timeout); a row leased
# by a process that died is taken again once this passes.
LEASE = timedelta(seconds=60)
# A status check that failed is tried again after 2, 4, 8 ... seconds, at most 5 minutes.
MAX_RETRY_DELAY_S = 300
# Compare-and-set tries before a row is left to its lease (its order changing under it).
MAX_TRIES = 5
ACTOR = "midtrans"


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
    engine = autocommit(sessionmaker)
    now = utcnow()
    async with engine.begin() as connection:
        rows = await repository.claim_notifications(
            connection, now=now, lease_until=now + LEASE, limit=limit
        )
    claimed = [Claimed.from_row(row) for row in rows]
    if not claimed:
        return {}
    gate = asyncio.Semaphore(concurrency)

    async def verify(row: Claimed) -> inbox.Verification | None:
        async with gate:
            try:
                return await _verify(row, gateway)
            except Exception:
                # Never the batch's end: this row waits for a retry like a failed check.
                logger.exception("checking notification %d failed unexpectedly", row.id)
                return inbox.Verification(error="status check failed unexpectedly")

    verified = await _all(verify(row) for row in claimed)
    standing: dict[int, Standing | None] = {}
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            standing = await inbox_sql.standings(connection, (row.id for row in claimed))

    async def apply(row: Claimed, verification: inbox.Verification | None) -> str:
        async with gate:
            return await _apply_isolated(
                sessionmaker, engine, row, verification, standing.get(row.id)
            )

    outcomes: dict[str, int] = {}
    for outcome in await _all(map(apply, claimed, verified)):
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


async def _all(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run them concurrently. Unlike ``gather``, a cancellation waits for every one to end
    (a half-applied row rolls back and returns its connection) before it goes on."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(coroutine) for coroutine in coroutines]
    return [task.result() for task in tasks]


async def _verify(row: Claimed, gateway: PaymentGateway) -> inbox.Verification | None:
    """Midtrans' word on the row, asked with nothing open; None for an unreadable body."""
    try:
        body = inbox.parse_body(row.raw_body.encode())
    except inbox.BadNotification:
        return None  # stored before the webhook parsed what it stores; it never will parse
    return await inbox.verify_with_midtrans(row.order_uid, body, gateway)


async def _apply_isolated(
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    row: Claimed,
    verification: inbox.Verification | None,
    standing: Standing | None,
) -> str:
    """One row's unexpected failure is logged and left to its lease, never the batch's end."""
    try:
        outcome = await apply_one(sessionmaker, engine, row, verification, standing)
    except Exception:
        logger.exception("applying notification %d failed; retried when its lease ends", row.id)
        return "error"
    if outcome != "queued":
        metrics.observe_applied(outcome, (utcnow() - row.received_at).total_seconds())
    return outcome


async def apply_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    row: Claimed,
    verification: inbox.Verification | None,
    standing: Standing | None = None,
) -> str:
    """Apply one verified row. On PostgreSQL each try is one Core statement (``inbox_sql``);
    on SQLite, and for refunds (which write refund rows), the ORM path."""
    if verification is not None and verification.error is not None:
        await _retry_later(engine, row, verification.error)
        return "queued"
    if verification is None or verification.report is None:
        outcome = "unreadable" if verification is None else "not_at_midtrans"
        async with engine.begin() as connection:
            closed = await inbox_sql.close(
                connection, notification_id=row.id, outcome=outcome, now=utcnow()
            )
        if closed and verification is None:
            logger.error("notification %d closed without applying it: unreadable", row.id)
        return outcome if closed else "duplicate"
    report = verification.report
    if engine.dialect.name != "postgresql":
        return await _apply_orm(sessionmaker, row, report)
    for _ in range(MAX_TRIES):
        if standing is None:
            async with engine.connect() as connection:
                standing = (await inbox_sql.standings(connection, [row.id]))[row.id]
            if standing is None:
                return "duplicate"  # another applier took it over once our lease had passed
        plan = plan_report(report, standing)
        if plan.refund:
            return await _apply_orm(sessionmaker, row, report)
        async with engine.begin() as connection:
            written = await inbox_sql.write(
                connection,
                notification_id=row.id,
                standing=standing,
                plan=plan,
                actor=ACTOR,
                now=utcnow(),
            )
        if written:
            log_plan(plan, standing, report)
            return plan.outcome
        standing = None  # something moved since it was read: read again, plan again
    raise RuntimeError(f"notification {row.id}: its order kept changing; left to its lease")


async def _apply_orm(
    sessionmaker: async_sessionmaker[AsyncSession], row: Claimed, report: GatewayReport
) -> str:
    async with sessionmaker.begin() as session:
        payment = await repository.get_by_uid(session, row.order_uid)
        if payment is None:
            return "duplicate"  # the acknowledgement stores only rows of known attempts
        await orders_service.lock_order(session, order_id=payment.order_id)
        notification = await repository.get_notification(session, row.id)
        if notification is None or notification.applied_at is not None:
            return "duplicate"  # another applier took it over once our lease had passed
        return await inbox.apply_verified(
            session,
            notification=notification,
            payment=payment,
            verification=inbox.Verification(report=report),
        )


async def _retry_later(engine: AsyncEngine, row: Claimed, error: str) -> None:
    """Midtrans could not be asked: try again after 2, 4, 8 ... seconds."""
    delay = min(2**row.attempts, MAX_RETRY_DELAY_S)
    logger.warning("status check for %s failed; retried in %d s", row.order_uid, delay)
    async with engine.begin() as connection:
        await repository.retry_notification_later(
            connection,
            row.id,
            error=error,
            lease_until=utcnow() + timedelta(seconds=delay),
        )


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
        self._stopping = False
        self._started = 0
        self._finished = 0
        self._passed = asyncio.Condition()

    def wake(self) -> None:
        """Something was acknowledged (here, or elsewhere): look now."""
        self._wake.set()

    def request_stop(self) -> None:
        """Finish the batch in hand, then end ``run``: what is claimed but not reached waits
        for its lease, as after a crash."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), self._sweep_s)
            except TimeoutError:
                pass
            self._wake.clear()
            if self._stopping:
                return
            self._started += 1
            while await apply_due(self._sessionmaker, self._gateway) and not self._stopping:
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
