from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from santap.models import (
    Notification,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RejectedNotification,
)
from santap.models.base import UTCDateTime

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
    return (await session.scalars(_open_qris_attempts(), {"order_id": order_id})).all()


@functools.cache
def _open_qris_attempts() -> Any:
    # Built once: on the QRIS path, building it cost as much as running it.
    return (
        select(Payment)
        .where(
            Payment.order_id == bindparam("order_id"),
            Payment.method == PaymentMethod.QRIS,
            Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.CREATING)),
        )
        .order_by(Payment.id.desc())
    )


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


# What the webhook stores of a delivery; the acknowledgement statement binds these.
ACK_FIELDS = ("dedupe_key", "order_uid", "transaction_status", "raw_body", "source_ip")
ACK_VALUES = frozenset({*ACK_FIELDS, "received_at"})
INBOX_CHANNEL = "santap_inbox"


async def acknowledge(connection: AsyncConnection, values: dict[str, Any]) -> int | None:
    """One statement: store the notification if its order_uid is an attempt of ours (or count
    one more delivery of it), and on PostgreSQL wake every applier when it commits. Returns
    how many times it was delivered, or None for an unknown attempt (nothing stored)."""
    if connection.dialect.name == "postgresql":
        # Straight to asyncpg (a prepared statement per connection), in autocommit: SQLAlchemy's
        # execution layers cost as much CPU as the rest of the acknowledgement.
        sql, names, constants = _acknowledgement_sql()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        given = constants | values
        row = await driver.fetchrow(sql, *(given[name] for name in names))
        return None if row is None else int(row["deliveries"])
    statement = _acknowledgement(connection.dialect.name)
    row = (await connection.execute(statement, values)).first()
    return None if row is None else int(row.deliveries)


@functools.cache
def _acknowledgement_sql() -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The PostgreSQL statement as asyncpg takes it: SQL with $n, the values' order, and the
    statement's own constants."""
    dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    compiled = _acknowledgement("postgresql").compile(dialect=dialect)
    constants = {name: value for name, value in compiled.params.items() if name not in ACK_VALUES}
    return str(compiled), tuple(compiled.positiontup or ()), constants


@functools.cache
def _acknowledgement(dialect: str) -> Any:
    # Built once: constructing it per delivery cost more CPU than running it.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    known = exists().where(Payment.order_uid == bindparam("order_uid", type_=String))
    values = select(
        *(bindparam(name, type_=String) for name in ACK_FIELDS),
        literal(True),
        literal("received"),
        literal(1),
        bindparam("received_at", type_=UTCDateTime()),
        literal(0),
    ).where(known)
    columns = [*ACK_FIELDS, "signature_valid", "outcome", "deliveries", "received_at", "attempts"]
    returned: list[Any] = [Notification.deliveries]
    if dialect == "postgresql":
        # Delivered at commit, to every process LISTENing; repeats wake nobody.
        wake = func.pg_notify(INBOX_CHANNEL, "")
        returned.append(case((Notification.deliveries == 1, wake)).label("woke"))
    return (
        insert(Notification)
        .from_select(columns, values)
        .on_conflict_do_update(
            index_elements=[Notification.dedupe_key],
            set_={"deliveries": Notification.deliveries + 1},
        )
        .returning(*returned)
    )


async def claim_notifications(
    connection: AsyncConnection, *, now: datetime, lease_until: datetime, limit: int
) -> Sequence[Any]:
    """Lease up to ``limit`` unapplied rows whose lease (or retry time) has passed. Several
    appliers share the work: each skips the rows another one is claiming."""
    due = (
        select(Notification.id)
        .where(
            Notification.applied_at.is_(None),
            Notification.signature_valid.is_(True),
            or_(Notification.lease_until.is_(None), Notification.lease_until < now),
        )
        .order_by(Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Notification)
        .where(Notification.id.in_(due.scalar_subquery()))
        .values(lease_until=lease_until, attempts=Notification.attempts + 1)
        .returning(
            Notification.id,
            Notification.order_uid,
            Notification.raw_body,
            Notification.received_at,
            Notification.attempts,
        )
    )
    return (await connection.execute(statement)).all()


async def retry_notification_later(
    connection: AsyncConnection, notification_id: int, *, error: str, lease_until: datetime
) -> None:
    statement = (
        update(Notification)
        .where(Notification.id == notification_id, Notification.applied_at.is_(None))
        .values(outcome="retry", last_error=error, lease_until=lease_until)
    )
    await connection.execute(statement)


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
