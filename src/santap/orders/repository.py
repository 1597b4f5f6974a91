from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from santap.models import Order


async def get_order(
    session: AsyncSession, order_id: int, *, for_update: bool = False
) -> Order | None:
    """The order with its lines and payments. Locked, the collections are read by later
    statements (a statement that waited for the lock sees other rows as they were when it
    started, under READ COMMITTED); unlocked, in the same one (one round trip, one snapshot)."""
    query = select(Order).where(Order.id == order_id)
    if for_update:
        query = query.options(selectinload(Order.items), selectinload(Order.payments))
        return await session.scalar(query.with_for_update(of=Order))
    query = query.options(joinedload(Order.items), joinedload(Order.payments))
    return (await session.execute(query)).unique().scalar_one_or_none()


async def lock_order_with_items(session: AsyncSession, order_id: int) -> Order | None:
    """The order locked, with its lines (which never change) in the same query; its payments
    are for a query after this one (see ``get_order``)."""
    rows = await session.execute(_lock_order_with_items(), {"order_id": order_id})
    return rows.unique().scalar_one_or_none()


@functools.cache
def _lock_order_with_items() -> Any:
    # Built once: on the QRIS path, building it cost as much as running it.
    return (
        select(Order)
        .where(Order.id == bindparam("order_id"))
        .options(joinedload(Order.items))
        .with_for_update(of=Order)
    )


async def lock_order(session: AsyncSession, order_id: int) -> Order | None:
    """The order row alone, locked (PostgreSQL): what a status change needs."""
    query = select(Order).where(Order.id == order_id).with_for_update()
    return await session.scalar(query)


def add(session: AsyncSession, order: Order) -> None:
    session.add(order)
