"""The two writes of a QRIS creation as single Core statements on PostgreSQL.

``insert_attempt``: the new attempt (``creating``) and its birth in the history, in one
statement inside phase one's transaction (which holds the order's lock).

``open_attempt``: phase three's usual case in one autocommit statement: the attempt is still
``creating`` and its order still awaits payment, so it goes ``pending`` with Midtrans' answer.
It locks the order and then the attempt, as every writer does, and writes nothing when
either has moved (a cash payment, a cancel, a notification that overtook the answer); the
caller then takes the ORM path, which decides what those cases need.

SQLite takes the ORM path for both: it has no data-modifying CTEs."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, func, insert, join, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from santap.models import Order, OrderStatus, Payment, PaymentStatus, PaymentStatusHistory
from santap.models.base import UTCDateTime


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


_ORDER, _PAYMENT, _HISTORY = _table(Order), _table(Payment), _table(PaymentStatusHistory)


async def insert_attempt(
    session: AsyncSession, *, values: dict[str, Any], reason: str, actor: str, now: datetime
) -> int:
    """Insert the attempt (``values`` are its columns) and its first history row; its id."""
    params = {f"v_{name}": value for name, value in values.items()}
    params |= {"v_reason": reason, "v_actor": actor, "v_now": now}
    attempt_id = await session.scalar(_insert_statement(tuple(sorted(values))), params)
    assert attempt_id is not None
    return int(attempt_id)


@functools.cache
def _insert_statement(columns: tuple[str, ...]) -> Any:
    # Parameters are named "v_...": a Core INSERT or UPDATE executed with a parameter named
    # like a column also sets that column.
    now = bindparam("v_now", type_=UTCDateTime())
    row = {name: bindparam(f"v_{name}", type_=_PAYMENT.c[name].type) for name in columns}
    attempt = (
        insert(_PAYMENT)
        .values(**row, created_at=now, updated_at=now)
        .returning(_PAYMENT.c.id, _PAYMENT.c.status)
        .cte("attempt")
    )
    born = insert(_HISTORY).from_select(
        ["payment_id", "from_status", "to_status", "reason", "actor", "created_at"],
        select(
            attempt.c.id,
            bindparam("v_from", None, type_=String),
            attempt.c.status,
            bindparam("v_reason", type_=String),
            bindparam("v_actor", type_=String),
            now,
        ),
    )
    return select(attempt.c.id).add_cte(born.cte("born"))


async def open_attempt(
    connection: AsyncConnection,
    *,
    attempt_id: int,
    order_id: int,
    fields: dict[str, Any],
    reason: str,
    actor: str,
    now: datetime,
) -> bool:
    """Record Midtrans' answer and move the attempt ``creating`` -> ``pending`` if it and its
    order still stand as phase one left them; False (nothing written) otherwise."""
    params = {f"v_{name}": value for name, value in fields.items()}
    params |= {
        "v_attempt_id": attempt_id,
        "v_order_id": order_id,
        "v_reason": reason,
        "v_actor": actor,
        "v_now": now,
    }
    statement = _open_statement(tuple(sorted(fields)))
    return bool(await connection.scalar(statement, params))


@functools.cache
def _open_statement(columns: tuple[str, ...]) -> Any:
    now = bindparam("v_now", type_=UTCDateTime())
    creating, pending = PaymentStatus.CREATING.value, PaymentStatus.PENDING.value
    guard = (
        select(_PAYMENT.c.id)
        .select_from(join(_ORDER, _PAYMENT, _PAYMENT.c.order_id == _ORDER.c.id))
        .where(
            _ORDER.c.id == bindparam("v_order_id"),
            _ORDER.c.status == OrderStatus.PENDING_PAYMENT.value,
            _PAYMENT.c.id == bindparam("v_attempt_id"),
            _PAYMENT.c.status == creating,
        )
        .with_for_update(of=[_ORDER, _PAYMENT])
        .cte("guard")
    )
    row: dict[str, Any] = {
        name: bindparam(f"v_{name}", type_=_PAYMENT.c[name].type) for name in columns
    }
    if "gateway_status" in row:  # a notification may have recorded one first
        row["gateway_status"] = func.coalesce(_PAYMENT.c.gateway_status, row["gateway_status"])
    opened = (
        update(_PAYMENT)
        .where(_PAYMENT.c.id == guard.c.id)
        .values(**row, status=pending, updated_at=now)
        .cte("opened")
    )
    history = insert(_HISTORY).from_select(
        ["payment_id", "from_status", "to_status", "reason", "actor", "created_at"],
        select(
            guard.c.id,
            bindparam("v_from", creating, type_=String),
            bindparam("v_to", pending, type_=String),
            bindparam("v_reason", type_=String),
            bindparam("v_actor", type_=String),
            now,
        ),
    )
    return select(func.count()).select_from(guard).add_cte(opened, history.cte("history"))
