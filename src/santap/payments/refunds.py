"""Refunds (admin): at Midtrans for QRIS, recorded over the counter for cash.

The refund_key is derived from (payment, amount, reason), so a retried request — after a
timeout, a double click — reuses it: Midtrans answers the same refund again instead of paying
out twice, and our unique key records it once. Midtrans is asked between two transactions,
never inside one."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.audit import service as audit
from santap.db import Transactions
from santap.errors import Conflict, NotFound, Unprocessable
from santap.gateways.midtrans import MidtransError
from santap.models import Order, Payment, PaymentMethod, PaymentStatus, Refund, Staff
from santap.orders import service as orders_service
from santap.payments import repository
from santap.payments.gateway import PaymentGateway, gateway_failure
from santap.payments.schemas import RefundCreate, RefundRead, RefundResultRead
from santap.payments.settlement import (
    REPORTED_BY_MIDTRANS,
    close_refunded_order,
    unflag_if_given_back,
)

logger = logging.getLogger(__name__)

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
    transactions: Transactions,
    *,
    payment_id: int,
    data: RefundCreate,
    admin: Staff,
    gateway: PaymentGateway,
) -> RefundResultRead:
    """Check, ask Midtrans with no transaction open (QRIS), then record. A refund Midtrans
    made is always recorded, even if the payment changed meanwhile: the money has moved."""
    async with transactions.begin() as session:
        order, payment = await _locked(session, payment_id)
        key = refund_key(payment, data.amount, data.reason)
        existing = await repository.get_refund_by_key(session, key)
        if existing is not None:
            return _result(existing, payment, order.status, already_done=True)
        amount = _checked_amount(payment, data)
        before = _snapshot(payment)
        if payment.method != PaymentMethod.QRIS:
            return await _record(session, order, payment, amount, key, data, admin, None)
    answer = await _refund_at_midtrans(payment, amount, data.reason, key, gateway)
    async with transactions.begin() as session:
        order, payment = await _locked(session, payment_id)
        existing = await repository.get_refund_by_key(session, key)
        if existing is None:
            return await _record(session, order, payment, amount, key, data, admin, answer)
        if existing.staff_username != REPORTED_BY_MIDTRANS:
            return _result(existing, payment, order.status, already_done=True)  # a twin request
        # Midtrans' notification of this very refund was applied while it answered us.
        existing.staff_username, existing.reason = admin.username, data.reason
        existing.gateway_response = answer
        await _audit(session, admin, payment, before, key, data.reason)
        return _result(existing, payment, order.status, already_done=False)


async def _locked(session: AsyncSession, payment_id: int) -> tuple[Order, Payment]:
    payment = await repository.get(session, payment_id)
    if payment is None:
        raise PaymentNotFound(f"Payment {payment_id} was not found")
    order = await orders_service.get_order(session, order_id=payment.order_id, for_update=True)
    return order, await repository.lock(session, payment)


def _checked_amount(payment: Payment, data: RefundCreate) -> int:
    remaining = payment.amount - payment.refunded_amount
    amount = data.amount if data.amount is not None else remaining
    if payment.status not in REFUNDABLE:
        raise NotRefundable(f"Payment {payment.id} is {payment.status}; only paid payments refund")
    if not 0 < amount <= remaining:
        raise BadRefundAmount(
            f"Refund amount must be between 1 and {remaining}",
            details={"field": "body.amount", "refundable": remaining},
        )
    return amount


async def _record(
    session: AsyncSession,
    order: Order,
    payment: Payment,
    amount: int,
    key: str,
    data: RefundCreate,
    admin: Staff,
    answer: dict[str, object] | None,
) -> RefundResultRead:
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
    before = _snapshot(payment)
    _apply_refund(session, payment, amount, actor=f"staff:{admin.username}")
    if payment.status == PaymentStatus.REFUNDED:
        await close_refunded_order(
            session, order=order, payment=payment, actor=f"staff:{admin.username}"
        )
    await session.flush()
    await _audit(session, admin, payment, before, key, data.reason)
    return _result(refund, payment, order.status, already_done=False)


def _snapshot(payment: Payment) -> dict[str, object]:
    return {"status": payment.status, "refunded_amount": payment.refunded_amount}


async def _audit(
    session: AsyncSession,
    admin: Staff,
    payment: Payment,
    before: dict[str, object],
    key: str,
    reason: str,
) -> None:
    await audit.record(
        session,
        staff=admin,
        action="payment.refund",
        entity_type="payment",
        entity_id=payment.id,
        before=before,
        after={**_snapshot(payment), "refund_key": key, "reason": reason},
    )


async def _refund_at_midtrans(
    payment: Payment, amount: int, reason: str, key: str, gateway: PaymentGateway
) -> dict[str, object] | None:
    try:
        result = await gateway.client.refund(
            payment.order_uid, amount=amount, reason=reason, refund_key=key
        )
    except MidtransError as exc:
        raise gateway_failure(exc) from exc
    return result.raw


def _apply_refund(session: AsyncSession, payment: Payment, amount: int, *, actor: str) -> None:
    if payment.refunded_amount + amount > payment.amount:
        # Only after Midtrans refunded while another refund was recorded; it caps refunds
        # at what was paid itself, so this is a bug somewhere: never count more than paid.
        logger.error("refund of %d on %s exceeds what was paid", amount, payment.order_uid)
    payment.refunded_amount = min(payment.refunded_amount + amount, payment.amount)
    unflag_if_given_back(payment)
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
