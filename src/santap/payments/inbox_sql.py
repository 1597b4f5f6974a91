"""The applier's reads and writes as SQLAlchemy Core statements, for PostgreSQL.

An application is one statement (one round trip, in autocommit): it locks the order, the
attempt and the inbox row in that order (the order every other writer takes them in),
checks that they still stand as the plan assumed (the state machine decided it on a
``Standing`` read earlier, with no lock), writes the plan with its history rows and closes
the inbox row. If anything moved meanwhile, nothing is written and the caller reads again
and re-plans: a compare-and-set that the row locks make atomic.

SQLite has no data-modifying CTEs and no round trips worth saving (it is a library call), so
there the applier takes the ORM path (``settlement.apply_report``) with the same plan."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Boolean, String, Table, bindparam, func, insert, join, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from santap.models import (
    Notification,
    Order,
    OrderStatus,
    OrderStatusHistory,
    Payment,
    PaymentStatus,
    PaymentStatusHistory,
)
from santap.models.base import UTCDateTime
from santap.payments.settlement import Plan, Standing


async def standings(
    connection: AsyncConnection, notification_ids: Iterable[int]
) -> dict[int, Standing | None]:
    """Each unapplied inbox row's attempt and order as they stand now; None for a row that
    was applied meanwhile or names no attempt."""
    ids = list(notification_ids)
    found: dict[int, Standing | None] = dict.fromkeys(ids)
    for row in await connection.execute(_standings_statement(), {"ids": ids}):
        found[row.notification_id] = Standing(
            payment_id=row.payment_id,
            order_id=row.order_id,
            order_uid=row.order_uid,
            method=row.method,
            amount=row.amount,
            payment_status=PaymentStatus(row.payment_status),
            transaction_id=row.transaction_id,
            order_status=OrderStatus(row.order_status),
        )
    return found


@functools.cache
def _standings_statement() -> Any:
    return (
        select(
            Notification.id.label("notification_id"),
            Payment.id.label("payment_id"),
            Payment.order_id,
            Payment.order_uid,
            Payment.method,
            Payment.amount,
            Payment.status.label("payment_status"),
            Payment.transaction_id,
            Order.status.label("order_status"),
        )
        .select_from(Notification)
        .join(Payment, Payment.order_uid == Notification.order_uid)
        .join(Order, Order.id == Payment.order_id)
        .where(
            Notification.id.in_(bindparam("ids", expanding=True)), Notification.applied_at.is_(None)
        )
    )


async def write(
    connection: AsyncConnection,
    *,
    notification_id: int,
    standing: Standing,
    plan: Plan,
    actor: str,
    now: datetime,
) -> bool:
    """Write ``plan`` if the attempt and its order still stand as ``standing`` says and the
    inbox row is still unapplied; False (nothing written) otherwise."""
    assert not plan.refund, "refunds write refund rows: the ORM path applies them"
    paying = PaymentStatus.PAID in (plan.payment_to, plan.order_to)
    values = {
        "v_notification_id": notification_id,
        "v_order_id": standing.order_id,
        "v_payment_id": standing.payment_id,
        "v_order_from": standing.order_status.value,
        "v_payment_from": standing.payment_status.value,
        "v_payment_to": plan.payment_to.value if plan.payment_to else None,
        "v_order_to": plan.order_to.value if plan.order_to else None,
        "v_payment_reason": plan.payment_reason,
        "v_order_reason": plan.order_reason,
        "v_actor": actor,
        "v_gateway_status": plan.gateway_status,
        "v_transaction_id": plan.transaction_id,
        "v_fraud_challenge": plan.fraud_challenge,
        "v_amount_mismatch": plan.amount_mismatch,
        "v_needs_refund": plan.needs_refund,
        "v_paid_at": now if paying else None,
        "v_outcome": plan.outcome,
        "v_now": now,
    }
    return bool(await connection.scalar(_write_statement(), values))


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


# Core tables, not ORM entities: an ORM-enabled UPDATE in a CTE adds columns of its own.
_ORDER, _PAYMENT, _INBOX = _table(Order), _table(Payment), _table(Notification)


@functools.cache
def _write_statement() -> Any:
    # Built once: compiling it costs more than running it. Parameters are named "v_...":
    # executing a Core UPDATE with a parameter named like a column also sets that column.
    now = bindparam("v_now", type_=UTCDateTime())
    paid_at = bindparam("v_paid_at", type_=UTCDateTime())
    payment_to = bindparam("v_payment_to", type_=String)
    order_to = bindparam("v_order_to", type_=String)
    actor = bindparam("v_actor", type_=String)
    guard = (
        select(
            _ORDER.c.id.label("order_id"),
            _PAYMENT.c.id.label("payment_id"),
            _INBOX.c.id.label("inbox_id"),
        )
        .select_from(
            join(_ORDER, _PAYMENT, _PAYMENT.c.order_id == _ORDER.c.id).join(
                _INBOX, _INBOX.c.order_uid == _PAYMENT.c.order_uid
            )
        )
        .where(
            _ORDER.c.id == bindparam("v_order_id"),
            _ORDER.c.status == bindparam("v_order_from", type_=String),
            _PAYMENT.c.id == bindparam("v_payment_id"),
            _PAYMENT.c.status == bindparam("v_payment_from", type_=String),
            _INBOX.c.id == bindparam("v_notification_id"),
            _INBOX.c.applied_at.is_(None),
        )
        .with_for_update(of=[_ORDER, _PAYMENT, _INBOX])
        .cte("guard")
    )
    flag = functools.partial(bindparam, type_=Boolean)
    payment = (
        update(_PAYMENT)
        .where(_PAYMENT.c.id == guard.c.payment_id)
        .values(
            status=func.coalesce(payment_to, _PAYMENT.c.status),
            paid_at=func.coalesce(paid_at, _PAYMENT.c.paid_at),
            transaction_id=func.coalesce(
                _PAYMENT.c.transaction_id, bindparam("v_transaction_id", type_=String)
            ),
            gateway_status=func.coalesce(
                bindparam("v_gateway_status", type_=String), _PAYMENT.c.gateway_status
            ),
            fraud_challenge=_PAYMENT.c.fraud_challenge | flag("v_fraud_challenge"),
            amount_mismatch=_PAYMENT.c.amount_mismatch | flag("v_amount_mismatch"),
            needs_refund=_PAYMENT.c.needs_refund | flag("v_needs_refund"),
            updated_at=now,
        )
        .cte("payment_update")
    )
    payment_history = insert(_table(PaymentStatusHistory)).from_select(
        ["payment_id", "from_status", "to_status", "reason", "actor", "created_at"],
        select(
            guard.c.payment_id,
            bindparam("v_payment_from", type_=String),
            payment_to,
            bindparam("v_payment_reason", type_=String),
            actor,
            now,
        ).where(payment_to.is_not(None)),
    )
    order = (
        update(_ORDER)
        .where(_ORDER.c.id == guard.c.order_id, order_to.is_not(None))
        .values(status=order_to, paid_at=func.coalesce(paid_at, _ORDER.c.paid_at), updated_at=now)
        .cte("order_update")
    )
    order_history = insert(_table(OrderStatusHistory)).from_select(
        ["order_id", "from_status", "to_status", "reason", "actor", "created_at"],
        select(
            guard.c.order_id,
            bindparam("v_order_from", type_=String),
            order_to,
            bindparam("v_order_reason", type_=String),
            actor,
            now,
        ).where(order_to.is_not(None)),
    )
    close = (
        update(_INBOX)
        .where(_INBOX.c.id == guard.c.inbox_id)
        .values(outcome=bindparam("v_outcome", type_=String), applied_at=now, last_error=None)
        .cte("inbox_update")
    )
    return (
        select(func.count())
        .select_from(guard)
        .add_cte(
            payment,
            payment_history.cte("payment_history"),
            order,
            order_history.cte("order_history"),
            close,
        )
    )


async def close(
    connection: AsyncConnection, *, notification_id: int, outcome: str, now: datetime
) -> bool:
    """Close an inbox row that changes nothing (unreadable, or no transaction at Midtrans)."""
    statement = (
        update(Notification)
        .where(Notification.id == notification_id, Notification.applied_at.is_(None))
        .values(outcome=outcome, applied_at=now, last_error=None)
    )
    return (await connection.execute(statement)).rowcount == 1
