"""Cash at the cashier. Any open QRIS attempt is closed at Midtrans first, because Midtrans
decides the race: either the cancel lands (no QRIS money will come) or it was already paid."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.audit import service as audit
from santap.errors import Conflict, Unprocessable
from santap.gateways.midtrans import MidtransError, MidtransUnavailable
from santap.models import Order, Payment, PaymentMethod, PaymentStatus, Staff
from santap.orders import service as orders_service
from santap.payments import repository
from santap.payments.gateway import PaymentGateway
from santap.payments.schemas import CashPaymentCreate, CashPaymentRead
from santap.payments.service import ensure_payable
from santap.payments.settlement import GatewayReport, apply_report

logger = logging.getLogger(__name__)


class NotEnoughCash(Unprocessable):
    code = "insufficient_cash"


class PaidByQris(Conflict):
    """The QRIS attempt settled before it could be cancelled; that settlement is kept."""

    code = "order_paid_by_qris"
    keeps_changes = True


async def take_cash(
    session: AsyncSession, *, data: CashPaymentCreate, cashier: Staff, gateway: PaymentGateway
) -> CashPaymentRead:
    order = await orders_service.get_order(session, order_id=data.order_id, for_update=True)
    ensure_payable(order)
    if data.amount_tendered < order.total_amount:
        raise NotEnoughCash(
            f"Tendered {data.amount_tendered} is less than the total {order.total_amount}",
            details={"field": "body.amount_tendered", "total_amount": order.total_amount},
        )
    for attempt in await repository.open_qris_attempts(session, order.id):
        await _close_qris_attempt(session, attempt, gateway=gateway, cashier=cashier)
    if order.status != "pending_payment":
        raise PaidByQris(
            f"Order {order.id} was just paid by QRIS; do not take cash",
            details={"order_status": order.status},
        )
    payment = await _record_cash(session, order=order, data=data, cashier=cashier)
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


async def _close_qris_attempt(
    session: AsyncSession, attempt: Payment, *, gateway: PaymentGateway, cashier: Staff
) -> None:
    """Cancel at Midtrans and apply what it says; settle instead if it was already paid."""
    actor = f"staff:{cashier.username}"
    try:
        answer = await gateway.client.cancel(attempt.order_uid)
    except MidtransUnavailable:
        # Take the cash anyway; reconciliation flags needs_refund if this attempt settled.
        logger.warning(
            "could not reach Midtrans to cancel %s; left for reconciliation", attempt.order_uid
        )
        return
    except MidtransError as exc:
        if exc.is_not_found:
            state_machine.change_payment_status(
                session,
                attempt,
                PaymentStatus.CANCELLED,
                reason="customer never opened it; paid in cash",
                actor=actor,
            )
            return
        await _apply_current_status(session, attempt, gateway=gateway, actor=actor)
        return
    await apply_report(
        session, payment=attempt, report=GatewayReport.from_mapping(answer.raw), actor=actor
    )


async def _apply_current_status(
    session: AsyncSession, attempt: Payment, *, gateway: PaymentGateway, actor: str
) -> None:
    """Midtrans refused the cancel (typically 412: it is no longer pending): find out why."""
    try:
        status = await gateway.client.get_status(attempt.order_uid)
    except MidtransError as exc:
        logger.warning(
            "status of %s unavailable after a refused cancel: %r", attempt.order_uid, exc
        )
        return
    await apply_report(
        session, payment=attempt, report=GatewayReport.from_mapping(status.raw), actor=actor
    )
