from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from santap.models import Order


async def get_order(
    session: AsyncSession, order_id: int, *, for_update: bool = False
) -> Order | None:
    query = (
        select(Order)
        .where(Order.id == order_id)
        .options(selectinload(Order.items), selectinload(Order.payments))
    )
    if for_update:
        query = query.with_for_update(of=Order)
    return await session.scalar(query)


async def lock_order(session: AsyncSession, order_id: int) -> Order | None:
    """The order row alone, locked (PostgreSQL): what a status change needs."""
    query = select(Order).where(Order.id == order_id).with_for_update()
    return await session.scalar(query)


def add(session: AsyncSession, order: Order) -> None:
    session.add(order)
