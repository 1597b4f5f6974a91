"""The one state machine: every order status change goes through here and leaves a history row."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from santap.errors import Conflict
from santap.models import Order, OrderStatus, OrderStatusHistory
from santap.models.base import utcnow

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.PREPARING, OrderStatus.CANCELLED}),
    OrderStatus.PREPARING: frozenset({OrderStatus.READY, OrderStatus.CANCELLED}),
    OrderStatus.READY: frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class IllegalTransition(Conflict):
    code = "illegal_transition"


def can_change_order(current: OrderStatus, target: OrderStatus) -> bool:
    return target in ORDER_TRANSITIONS[current]


def start_order(session: AsyncSession, order: Order, *, actor: str) -> None:
    """Record the birth of an order (no 'from' state)."""
    order.status = OrderStatus.PENDING_PAYMENT
    session.add(
        OrderStatusHistory(
            order_id=order.id,
            from_status=None,
            to_status=OrderStatus.PENDING_PAYMENT,
            reason="order placed",
            actor=actor,
        )
    )


def change_order_status(
    session: AsyncSession, order: Order, target: OrderStatus, *, reason: str, actor: str
) -> None:
    current = OrderStatus(order.status)
    if not can_change_order(current, target):
        raise IllegalTransition(
            f"Order {order.id} cannot go from {current} to {target}",
            details={"from": current, "to": target},
        )
    order.status = target
    if target is OrderStatus.PAID:
        order.paid_at = utcnow()
    session.add(
        OrderStatusHistory(
            order_id=order.id, from_status=current, to_status=target, reason=reason, actor=actor
        )
    )


def mark_order_paid(session: AsyncSession, order: Order, *, reason: str, actor: str) -> None:
    change_order_status(session, order, OrderStatus.PAID, reason=reason, actor=actor)


def cancel_order(session: AsyncSession, order: Order, *, reason: str, actor: str) -> None:
    change_order_status(session, order, OrderStatus.CANCELLED, reason=reason, actor=actor)
