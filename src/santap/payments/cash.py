"""Cash at the cashier. Any open QRIS attempt is closed at Midtrans first (see voiding)."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.audit import service as audit
from santap.db import Transactions
from santap.errors import Conflict, Unprocessable
from santap.models import Order, Payment, PaymentMethod, PaymentStatus, Staff
from santap.payments import repository, voiding
from santap.payments.gateway import PaymentGateway
from santap.payments.schemas import CashPaymentCreate, CashPaymentRead
from santap.payments.service import ensure_payable


class NotEnoughCash(Unprocessable):
    code = "insufficient_cash"


class PaidByQris(Conflict):
    """The QRIS attempt settled before it could be cancelled; that settlement was recorded
    in its own transaction and is kept."""

    code = "order_paid_by_qris"


async def take_cash(
    transactions: Transactions,
    *,
    data: CashPaymentCreate,
    cashier: Staff,
    gateway: PaymentGateway,
) -> CashPaymentRead:
    """Take cash once the order's open QRIS attempts are closed at Midtrans."""

    def check(order: Order, closed_some: bool) -> None:
        if closed_some and order.status != "pending_payment":
            raise PaidByQris(
                f"Order {order.id} was just paid by QRIS; do not take cash",
                details={"order_status": order.status},
            )
        ensure_payable(order)
        if data.amount_tendered < order.total_amount:
            raise NotEnoughCash(
                f"Tendered {data.amount_tendered} is less than the total {order.total_amount}",
                details={"field": "body.amount_tendered", "total_amount": order.total_amount},
            )

    async def finish(session: AsyncSession, order: Order) -> CashPaymentRead:
        payment = await _record_cash(session, order=order, data=data, cashier=cashier)
        return _cash_read(order, payment, data, cashier)

    return await voiding.after_closing_attempts(
        transactions,
        order_id=data.order_id,
        gateway=gateway,
        actor=f"staff:{cashier.username}",
        check=check,
        finish=finish,
    )


def _cash_read(
    order: Order, payment: Payment, data: CashPaymentCreate, cashier: Staff
) -> CashPaymentRead:
    return CashPaymentRead(
        payment_id=payment.id,
        order_id=order.id,
        amount=payment.amount,
        amount_tendered=data.amount_tendered,
        change=data.amount_tendered - payment.amount,
        status=payment.status,
        order_status=order.status,
        cashier=cashier.username,
    )


async def _record_cash(
    session: AsyncSession, *, order: Order, data: CashPaymentCreate, cashier: Staff
) -> Payment:
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.CASH,
        order_uid=f"CASH-{order.id}-{secrets.token_urlsafe(9)}",
        amount=order.total_amount,
        status=PaymentStatus.PENDING,
        amount_tendered=data.amount_tendered,
        change_given=data.amount_tendered - order.total_amount,
        cashier=cashier.username,
    )
    repository.add(session, payment)
    await session.flush()
    actor = f"staff:{cashier.username}"
    state_machine.start_payment(session, payment, reason="cash tendered", actor=actor)
    state_machine.change_payment_status(
        session, payment, PaymentStatus.PAID, reason="cash received", actor=actor
    )
    state_machine.mark_order_paid(session, order, reason=f"cash {payment.order_uid}", actor=actor)
    await audit.record(
        session,
        staff=cashier,
        action="payment.cash",
        entity_type="order",
        entity_id=order.id,
        before={"status": "pending_payment"},
        after={
            "status": "paid",
            "payment_id": payment.id,
            "amount": payment.amount,
            "amount_tendered": payment.amount_tendered,
            "change": payment.change_given,
        },
    )
    await session.flush()
    return payment
