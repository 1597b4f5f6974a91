from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
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
    newest_first: bool = True,
) -> Sequence[Order]:
    """Newest (or oldest) first, keyset-paginated on (created_at, id)."""
    if newest_first:
        order_by = (Order.created_at.desc(), Order.id.desc())
    else:
        order_by = (Order.created_at.asc(), Order.id.asc())
    query = select(Order).options(selectinload(Order.items)).order_by(*order_by).limit(limit)
    if statuses:
        query = query.where(Order.status.in_(statuses))
    if created_from is not None:
        query = query.where(Order.created_at >= created_from)
    if created_before is not None:
        query = query.where(Order.created_at < created_before)
    if after is not None:
        query = query.where(_beyond(after, newest_first=newest_first))
    return (await session.scalars(query)).all()


def _beyond(after: tuple[datetime, int], *, newest_first: bool) -> ColumnElement[bool]:
    """Rows that come after ``after`` in the page order."""
    created_at, order_id = after
    if newest_first:
        return or_(
            Order.created_at < created_at,
            and_(Order.created_at == created_at, Order.id < order_id),
        )
    return or_(
        Order.created_at > created_at,
        and_(Order.created_at == created_at, Order.id > order_id),
    )


async def list_history(session: AsyncSession, order_id: int) -> Sequence[OrderStatusHistory]:
    query = (
        select(OrderStatusHistory)
        .where(OrderStatusHistory.order_id == order_id)
        .order_by(OrderStatusHistory.id)
    )
    return (await session.scalars(query)).all()
