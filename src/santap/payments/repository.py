from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from santap.models import (
    Notification,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RejectedNotification,
)

# How long after its expiry an attempt closed on our side alone is still asked about.
UNSEEN_MARGIN = timedelta(minutes=5)


async def get_by_uid(
    session: AsyncSession, order_uid: str, *, for_update: bool = False
) -> Payment | None:
    query = select(Payment).where(Payment.order_uid == order_uid)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def get(
    session: AsyncSession, payment_id: int, *, for_update: bool = False
) -> Payment | None:
    query = select(Payment).where(Payment.id == payment_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def lock(session: AsyncSession, payment: Payment) -> Payment:
    """Re-read the row under a lock (PostgreSQL), refreshing what another process changed."""
    query = (
        select(Payment)
        .where(Payment.id == payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    locked = await session.scalar(query)
    assert locked is not None
    return locked


async def open_qris_attempts(session: AsyncSession, order_id: int) -> Sequence[Payment]:
    query = (
        select(Payment)
        .where(
            Payment.order_id == order_id,
            Payment.method == PaymentMethod.QRIS,
            Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.CREATING)),
        )
        .order_by(Payment.id.desc())
    )
    return (await session.scalars(query)).all()


async def stale_pending_qris(
    session: AsyncSession,
    *,
    created_before: datetime,
    limit: int,
    now: datetime,
    creating_before: datetime | None = None,
) -> Sequence[Payment]:
    """QRIS attempts to ask Midtrans about: pending ones, and those we closed without Midtrans
    ever having a transaction for them (a Snap page nobody had opened: expired or cancelled on
    our side only) while their page can still be opened and paid, plus a margin for Midtrans'
    batch expiry."""
    closed_unseen = and_(
        Payment.status.in_((PaymentStatus.CANCELLED, PaymentStatus.EXPIRED)),
        Payment.gateway_status.is_(None),
        Payment.transaction_id.is_(None),
        Payment.expires_at > now - UNSEEN_MARGIN,
    )
    # A creation that never got Midtrans' answer recorded (the process died between phases).
    crashed_creation = and_(
        Payment.status == PaymentStatus.CREATING,
        Payment.created_at < (creating_before or created_before),
    )
    query = (
        select(Payment)
        .where(
            Payment.method == PaymentMethod.QRIS,
            or_(
                and_(
                    or_(Payment.status == PaymentStatus.PENDING, closed_unseen),
                    Payment.created_at < created_before,
                ),
                crashed_creation,
            ),
        )
        .order_by(Payment.last_checked_at.asc().nulls_first(), Payment.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def other_settled_payments(session: AsyncSession, *, order_id: int, exclude_id: int) -> bool:
    """Whether another payment of the order holds money (paid or only partly refunded)."""
    query = select(Payment.id).where(
        Payment.order_id == order_id,
        Payment.id != exclude_id,
        Payment.status.in_((PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)),
    )
    return (await session.scalar(query.limit(1))) is not None


def add(session: AsyncSession, payment: Payment) -> None:
    session.add(payment)


async def store_notification(session: AsyncSession, values: dict[str, Any]) -> Notification:
    """Insert the notification, or count one more delivery of the same one; returns the row."""
    statement = _notification_upsert(session.get_bind().dialect.name)
    result = await session.scalars(statement, values, execution_options={"populate_existing": True})
    notification: Notification = result.one()
    return notification


@functools.cache
def _notification_upsert(dialect: str) -> Any:
    # Built once: constructing it per delivery cost more CPU than running it.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(Notification)
        .on_conflict_do_update(
            index_elements=[Notification.dedupe_key],
            set_={"deliveries": Notification.deliveries + 1},
        )
        .returning(Notification)
    )


async def store_rejected_notification(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert a bad-signature delivery, or count one more of the same body from its source."""
    await session.execute(_rejected_upsert(session.get_bind().dialect.name), values)


@functools.cache
def _rejected_upsert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(RejectedNotification)
    return statement.on_conflict_do_update(
        index_elements=[RejectedNotification.source_ip, RejectedNotification.dedupe_key],
        set_={
            "deliveries": RejectedNotification.deliveries + 1,
            "last_seen_at": statement.excluded.last_seen_at,
        },
    )


async def get_notification(session: AsyncSession, notification_id: int) -> Notification | None:
    query = (
        select(Notification)
        .where(Notification.id == notification_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return await session.scalar(query)


async def unapplied_notifications(
    session: AsyncSession, *, received_before: datetime, limit: int
) -> Sequence[Notification]:
    query = (
        select(Notification)
        .where(
            Notification.applied_at.is_(None),
            Notification.signature_valid.is_(True),
            Notification.received_at < received_before,
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def get_refund_by_key(session: AsyncSession, key: str) -> Refund | None:
    return await session.scalar(select(Refund).where(Refund.refund_key == key))


async def refunded_total(session: AsyncSession, *, payment_id: int) -> int:
    query = select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.payment_id == payment_id)
    return int(await session.scalar(query) or 0)


def add_refund(session: AsyncSession, refund: Refund) -> None:
    session.add(refund)


# needs_refund: money to follow up, i.e. double payments and settlements of the wrong amount.
FLAGS = {
    "needs_refund": (Payment.needs_refund, Payment.amount_mismatch),
    "amount_mismatch": (Payment.amount_mismatch,),
    "fraud_challenge": (Payment.fraud_challenge,),
}


async def flagged(
    session: AsyncSession, *, flag: str | None, limit: int = 500
) -> Sequence[Payment]:
    """Payments needing follow-up: one flag, or any of them."""
    columns = FLAGS[flag] if flag else FLAGS["needs_refund"] + FLAGS["fraud_challenge"]
    query = (
        select(Payment)
        .where(or_(*(column.is_(True) for column in columns)))
        .order_by(Payment.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()
