"""Reconciliation: ask Midtrans about attempts that stayed pending, so a lost notification
still settles its order; and apply what the inbox holds due (as the applier does), so that
``santap reconcile`` alone, with no server running, settles everything.

Every item runs in its own short transaction and goes through the same locks and state
machine as the webhook, so several instances may reconcile at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap import state_machine
from santap.gateways.midtrans import MidtransError
from santap.models import OrderStatus, Payment, PaymentStatus
from santap.models.base import utcnow
from santap.orders import service as orders_service
from santap.payments import applier, repository, voiding
from santap.payments.gateway import PaymentGateway
from santap.payments.settlement import GatewayReport, apply_report

logger = logging.getLogger(__name__)

PENDING_MIN_AGE = timedelta(seconds=60)


@dataclass
class ReconcileReport:
    checked: int = 0
    inbox_applied: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


async def reconcile_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    *,
    limit: int = 200,
    pending_min_age: timedelta = PENDING_MIN_AGE,
) -> ReconcileReport:
    report = ReconcileReport()
    for outcome, count in (await applier.apply_due(sessionmaker, gateway, limit=limit)).items():
        report.inbox_applied += count if outcome not in ("queued", "duplicate", "error") else 0
        report.outcomes[f"inbox:{outcome}"] = count
    now = utcnow()
    async with sessionmaker() as session:
        pending = await repository.stale_pending_qris(
            session,
            created_before=now - pending_min_age,
            creating_before=now - timedelta(seconds=gateway.create_timeout_s),
            limit=limit,
            now=now,
        )
    for payment in pending:
        report.checked += 1
        report.count(
            await _isolated(_check_pending(sessionmaker, gateway, payment), payment.order_uid)
        )
    return report


async def _isolated(step: Awaitable[str], item: str) -> str:
    """One item's unexpected failure is logged and skipped, never the end of the run: the
    attempts behind it (taken in the same order, so it would come first every time) still
    settle."""
    try:
        return await step
    except Exception:
        logger.exception("reconcile: %s failed; moving on", item)
        return "error"


async def _check_pending(
    sessionmaker: async_sessionmaker[AsyncSession], gateway: PaymentGateway, payment: Payment
) -> str:
    if payment.status == PaymentStatus.CREATING:
        return await _close_crashed_creation(sessionmaker, gateway, payment)
    try:
        status = await gateway.client.get_status(payment.order_uid)
        report: GatewayReport | None = GatewayReport.from_mapping(status.raw)
    except MidtransError as exc:
        if not exc.is_not_found:
            logger.warning("reconcile: status of %s unavailable: %r", payment.order_uid, exc)
            return "gateway_error"
        report = None
    async with sessionmaker() as session:
        if report is None:
            outcome = await _not_at_midtrans(session, payment)
        else:
            outcome = await apply_report(
                session, payment=payment, report=report, actor="reconciler"
            )
            locked = await repository.lock(session, payment)
            locked.last_checked_at = utcnow()
            locked.last_status_response = report.raw
        order = await orders_service.get_order(session, order_id=payment.order_id)
        await session.commit()
    if (
        report is not None
        and report.transaction_status == "pending"
        and (order.status != OrderStatus.PENDING_PAYMENT)
    ):
        await _void_at_midtrans(gateway, payment.order_uid)
    return outcome


async def _close_crashed_creation(
    sessionmaker: async_sessionmaker[AsyncSession], gateway: PaymentGateway, payment: Payment
) -> str:
    """Nobody was shown this attempt's QR: cancel whatever Midtrans made of it and close it
    (or apply the payment, should Midtrans say it was paid after all)."""
    answer = await voiding.ask_to_close(payment.order_uid, gateway)
    async with sessionmaker() as session:
        await orders_service.lock_order(session, order_id=payment.order_id)
        locked = await repository.lock(session, payment)
        if locked.status != PaymentStatus.CREATING:
            return "no_change"
        await voiding.record_close(session, locked, answer, actor="reconciler")
        outcome = "closed_creation" if locked.status != PaymentStatus.CREATING else "gateway_error"
        await session.commit()
    return outcome


async def _not_at_midtrans(session: AsyncSession, payment: Payment) -> str:
    """No transaction at Midtrans: a Snap attempt whose customer never picked a method. Once
    past its expiry it can no longer be paid as far as we are concerned."""
    locked = await repository.lock(session, payment)
    locked.last_checked_at = utcnow()
    expired = locked.expires_at is not None and locked.expires_at <= utcnow()
    if locked.status != PaymentStatus.PENDING or not expired:
        return "not_chosen_yet"
    state_machine.change_payment_status(
        session,
        locked,
        PaymentStatus.EXPIRED,
        reason="never opened at midtrans",
        actor="reconciler",
    )
    return "expired_unopened"


async def _void_at_midtrans(gateway: PaymentGateway, order_uid: str) -> None:
    """The order no longer needs this attempt (paid in cash, cancelled): close it at Midtrans.
    The cancel notification that follows moves our row through the usual path."""
    try:
        await gateway.client.cancel(order_uid)
    except MidtransError as exc:
        logger.warning("reconcile: could not cancel %s at Midtrans: %r", order_uid, exc)


def start_reconciler(
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    interval_s: float,
    *,
    pending_min_age: timedelta = PENDING_MIN_AGE,
) -> asyncio.Task[None] | None:
    if interval_s <= 0:
        return None
    return asyncio.create_task(
        _run_forever(sessionmaker, gateway, interval_s, pending_min_age), name="reconciler"
    )


async def stop_reconciler(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    interval_s: float,
    pending_min_age: timedelta,
) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            result = await reconcile_once(sessionmaker, gateway, pending_min_age=pending_min_age)
        except Exception:
            logger.exception("reconciliation run failed")
            continue
        if result.checked or result.inbox_applied:
            logger.info("reconciled: %s", result.outcomes)
