"""The one state machine: every order and payment status change goes through here and
leaves a history row."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from santap.errors import Conflict
from santap.models import (
    Order,
    OrderStatus,
    OrderStatusHistory,
    Payment,
    PaymentStatus,
    PaymentStatusHistory,
)
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


# An order's birth in its history: the reason and the actor (a customer places it).
ORDER_PLACED = ("order placed", "customer")


def start_order(session: AsyncSession, order: Order) -> None:
    """Record the birth of an order (no 'from' state)."""
    order.status = OrderStatus.PENDING_PAYMENT
    reason, actor = ORDER_PLACED
    session.add(
        OrderStatusHistory(
            order_id=order.id,
            from_status=None,
            to_status=OrderStatus.PENDING_PAYMENT,
            reason=reason,
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


# Payments. A paid attempt is never un-paid by a late pending/expire/cancel; Midtrans'
# settlement wins even over an attempt we had already expired, cancelled or failed.
_SETTLED_FROM_CLOSED = frozenset({PaymentStatus.PAID})
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    # Midtrans' answer (pending or failed), or a notification that overtook it.
    PaymentStatus.CREATING: frozenset(
        {
            PaymentStatus.PENDING,
            PaymentStatus.PAID,
            PaymentStatus.EXPIRED,
            PaymentStatus.CANCELLED,
            PaymentStatus.FAILED,
        }
    ),
    PaymentStatus.PENDING: frozenset(
        {PaymentStatus.PAID, PaymentStatus.EXPIRED, PaymentStatus.CANCELLED, PaymentStatus.FAILED}
    ),
    PaymentStatus.EXPIRED: _SETTLED_FROM_CLOSED,
    PaymentStatus.CANCELLED: _SETTLED_FROM_CLOSED,
    PaymentStatus.FAILED: _SETTLED_FROM_CLOSED,
    PaymentStatus.PAID: frozenset({PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset(
        {PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED}
    ),
    PaymentStatus.REFUNDED: frozenset(),
}


def can_change_payment(current: PaymentStatus, target: PaymentStatus) -> bool:
    return target in PAYMENT_TRANSITIONS[current]


def start_payment(session: AsyncSession, payment: Payment, *, reason: str, actor: str) -> None:
    session.add(
        PaymentStatusHistory(
            payment_id=payment.id,
            from_status=None,
            to_status=payment.status,
            reason=reason,
            actor=actor,
        )
    )


def change_payment_status(
    session: AsyncSession, payment: Payment, target: PaymentStatus, *, reason: str, actor: str
) -> None:
    current = PaymentStatus(payment.status)
    if not can_change_payment(current, target):
        raise IllegalTransition(
            f"Payment {payment.id} cannot go from {current} to {target}",
            details={"from": current, "to": target},
        )
    payment.status = target
    if target is PaymentStatus.PAID:
        payment.paid_at = utcnow()
    session.add(
        PaymentStatusHistory(
            payment_id=payment.id, from_status=current, to_status=target, reason=reason, actor=actor
        )
    )
