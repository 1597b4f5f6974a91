"""Refunds (admin): at Midtrans for QRIS, recorded over the counter for cash.

The refund_key is derived from (payment, amount, reason), so a retried request — after a
timeout, a double click — reuses it: Midtrans answers the same refund again instead of paying
out twice, and our unique key records it once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.audit import service as audit
from santap.errors import Conflict, NotFound, Unprocessable
from santap.gateways.midtrans import MidtransError
from santap.models import Payment, PaymentMethod, PaymentStatus, Refund, Staff
from santap.orders import service as orders_service
from santap.payments import repository
from santap.payments.gateway import PaymentGateway, gateway_failure
from santap.payments.schemas import RefundCreate, RefundRead, RefundResultRead
from santap.payments.settlement import close_refunded_order

REFUNDABLE = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class NotRefundable(Conflict):
    code = "not_refundable"


class BadRefundAmount(Unprocessable):
    code = "invalid_refund_amount"


def refund_key(payment: Payment, amount: int | None, reason: str) -> str:
    """``amount`` None means "whatever is left", so a retried full refund finds its key."""
    size = "full" if amount is None else str(amount)
    digest = hashlib.sha256(f"{payment.id}|{size}|{reason.strip().lower()}".encode())
    return f"SNTP-RF-{payment.id}-{digest.hexdigest()[:24]}"


async def refund_payment(
    session: AsyncSession,
    *,
    payment_id: int,
    data: RefundCreate,
    admin: Staff,
    gateway: PaymentGateway,
) -> RefundResultRead:
    payment = await repository.get(session, payment_id)
    if payment is None:
        raise PaymentNotFound(f"Payment {payment_id} was not found")
    order = await orders_service.get_order(session, order_id=payment.order_id, for_update=True)
    payment = await repository.lock(session, payment)
    remaining = payment.amount - payment.refunded_amount
    amount = data.amount if data.amount is not None else remaining
    key = refund_key(payment, data.amount, data.reason)
    existing = await repository.get_refund_by_key(session, key)
    if existing is not None:
        return _result(existing, payment, order.status, already_done=True)
    if payment.status not in REFUNDABLE:
        raise NotRefundable(f"Payment {payment.id} is {payment.status}; only paid payments refund")
    if not 0 < amount <= remaining:
        raise BadRefundAmount(
            f"Refund amount must be between 1 and {remaining}",
            details={"field": "body.amount", "refundable": remaining},
        )
    answer = await _refund_at_midtrans(payment, amount, data.reason, key, gateway)
    refund = Refund(
        payment_id=payment.id,
        refund_key=key,
        amount=amount,
        reason=data.reason,
        method=payment.method,
        staff_username=admin.username,
        gateway_response=answer,
    )
    repository.add_refund(session, refund)
    before = {"status": payment.status, "refunded_amount": payment.refunded_amount}
    _apply_refund(session, payment, amount, actor=f"staff:{admin.username}")
    if payment.status == PaymentStatus.REFUNDED:
        await close_refunded_order(
            session, order=order, payment=payment, actor=f"staff:{admin.username}"
        )
    await session.flush()
    await audit.record(
        session,
        staff=admin,
        action="payment.refund",
        entity_type="payment",
        entity_id=payment.id,
        before=before,
        after={
            "status": payment.status,
            "refunded_amount": payment.refunded_amount,
            "refund_key": key,
            "reason": data.reason,
        },
    )
    return _result(refund, payment, order.status, already_done=False)


async def _refund_at_midtrans(
    payment: Payment, amount: int, reason: str, key: str, gateway: PaymentGateway
) -> dict[str, object] | None:
    if payment.method != PaymentMethod.QRIS:
        return None
    try:
        result = await gateway.client.refund(
            payment.order_uid, amount=amount, reason=reason, refund_key=key
        )
    except MidtransError as exc:
        raise gateway_failure(exc) from exc
    return result.raw


def _apply_refund(session: AsyncSession, payment: Payment, amount: int, *, actor: str) -> None:
    payment.refunded_amount += amount
    # A double payment stays flagged until all of it is given back.
    payment.needs_refund = payment.needs_refund and payment.refunded_amount < payment.amount
    target = (
        PaymentStatus.REFUNDED
        if payment.refunded_amount >= payment.amount
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    if target != payment.status:
        state_machine.change_payment_status(
            session, payment, target, reason=f"refund of {amount}", actor=actor
        )


def _result(
    refund: Refund, payment: Payment, order_status: str, *, already_done: bool
) -> RefundResultRead:
    return RefundResultRead(
        refund=RefundRead.model_validate(refund),
        payment_status=payment.status,
        refunded_amount=payment.refunded_amount,
        order_status=order_status,
        already_done=already_done,
    )


async def flagged_payments(session: AsyncSession, *, flag: str | None) -> Sequence[Payment]:
    return await repository.flagged(session, flag=flag)
