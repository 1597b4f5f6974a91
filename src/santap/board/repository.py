from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from santap.models import Order, OrderStatus, OrderStatusHistory


async def list_orders(
    session: AsyncSession,
    *,
    limit: int,
    statuses: Sequence[OrderStatus],
    created_from: datetime | None,
    created_before: datetime | None,
    after: tuple[datetime, int] | None,
) -> Sequence[Order]:
    """Newest first, keyset-paginated on (created_at, id)."""
    query = (
        select(Order)
        .options(selectinload(Order.items))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    if statuses:
        query = query.where(Order.status.in_(statuses))
    if created_from is not None:
        query = query.where(Order.created_at >= created_from)
    if created_before is not None:
        query = query.where(Order.created_at < created_before)
    if after is not None:
        created_at, order_id = after
        query = query.where(
            or_(
                Order.created_at < created_at,
                and_(Order.created_at == created_at, Order.id < order_id),
            )
        )
    return (await session.scalars(query)).all()


async def list_history(session: AsyncSession, order_id: int) -> Sequence[OrderStatusHistory]:
    query = (
        select(OrderStatusHistory)
        .where(OrderStatusHistory.order_id == order_id)
        .order_by(OrderStatusHistory.id)
    )
    return (await session.scalars(query)).all()
