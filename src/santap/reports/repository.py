from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from santap.models import Order, OrderItem, Payment, PaymentStatus, Refund

SETTLED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


async def orders_placed(session: AsyncSession, start: datetime, end: datetime) -> int:
    query = (
        select(func.count())
        .select_from(Order)
        .where(Order.created_at >= start, Order.created_at < end)
    )
    return int(await session.scalar(query) or 0)


async def orders_paid(session: AsyncSession, start: datetime, end: datetime) -> int:
    query = (
        select(func.count()).select_from(Order).where(Order.paid_at >= start, Order.paid_at < end)
    )
    return int(await session.scalar(query) or 0)


async def gross_by_method(
    session: AsyncSession, start: datetime, end: datetime
) -> Sequence[Row[str, int]]:
    query = (
        select(Payment.method, func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.paid_at >= start, Payment.paid_at < end, Payment.status.in_(SETTLED))
        .group_by(Payment.method)
    )
    return (await session.execute(query)).all()


async def settled_payments(
    session: AsyncSession, start: datetime, end: datetime
) -> Sequence[Row[datetime | None, int]]:
    """When each of the day's settled payments was paid, and how much: one day's takings are
    a few thousand rows at most, bucketed by the restaurant's hour in Python (the same on
    SQLite and PostgreSQL, which disagree on time zone arithmetic)."""
    query = select(Payment.paid_at, Payment.amount).where(
        Payment.paid_at >= start, Payment.paid_at < end, Payment.status.in_(SETTLED)
    )
    return (await session.execute(query)).all()


async def refunds_by_method(
    session: AsyncSession, start: datetime, end: datetime
) -> Sequence[Row[str, int]]:
    query = (
        select(Refund.method, func.coalesce(func.sum(Refund.amount), 0))
        .where(Refund.created_at >= start, Refund.created_at < end)
        .group_by(Refund.method)
    )
    return (await session.execute(query)).all()


async def top_items(
    session: AsyncSession, start: datetime, end: datetime, limit: int
) -> Sequence[Row[int, str, int, int]]:
    quantity = func.sum(OrderItem.quantity)
    revenue = func.sum(OrderItem.quantity * OrderItem.unit_price)
    query = (
        select(OrderItem.menu_item_id, func.max(OrderItem.name), quantity, revenue)
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.paid_at >= start, Order.paid_at < end)
        .group_by(OrderItem.menu_item_id)
        .order_by(quantity.desc(), revenue.desc(), OrderItem.menu_item_id)
        .limit(limit)
    )
    return (await session.execute(query)).all()
