from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from santap.errors import Conflict, NotFound, Unprocessable
from santap.models import Order, OrderStatus, Payment
from santap.payments import repository
from santap.payments.schemas import PaymentRead, QrisPaymentRead

logger = logging.getLogger(__name__)


class OrderNotPayable(Conflict):
    code = "order_not_payable"


class AmountMismatch(Unprocessable):
    code = "amount_mismatch"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


def new_order_uid(order_id: int) -> str:
    return f"SNTP-{order_id}-{secrets.token_urlsafe(12)}"


def ensure_payable(order: Order, amount: int | None = None) -> None:
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise OrderNotPayable(
            f"Order {order.id} is {order.status}, not awaiting payment",
            details={"order_status": order.status},
        )
    if amount is not None and amount != order.total_amount:
        raise AmountMismatch(
            f"amount {amount} does not match the order total {order.total_amount}",
            details={"field": "body.amount", "expected": order.total_amount},
        )


def _token_and_url(payment: Payment) -> tuple[str | None, str | None]:
    if payment.snap_token is not None:
        return payment.snap_token, payment.redirect_url
    return payment.transaction_id, payment.qr_code_url


def qris_read(payment: Payment) -> QrisPaymentRead:
    token, url = _token_and_url(payment)
    return QrisPaymentRead(
        payment_id=payment.id,
        order_uid=payment.order_uid,
        status=payment.status,
        amount=payment.amount,
        transaction_token=token,
        qris_url=url,
        qr_string=payment.qr_string,
        expires_at=payment.expires_at,
    )


async def get_public_payment(session: AsyncSession, *, order_uid: str) -> PaymentRead:
    payment = await repository.get_by_uid(session, order_uid)
    if payment is None:
        raise PaymentNotFound("Payment was not found")
    token, url = _token_and_url(payment)
    return PaymentRead(
        order_uid=payment.order_uid,
        order_id=payment.order_id,
        method=payment.method,
        status=payment.status,
        amount=payment.amount,
        transaction_token=token,
        qris_url=url,
        qr_string=payment.qr_string,
        expires_at=payment.expires_at,
        paid_at=payment.paid_at,
    )


async def find_by_uid(session: AsyncSession, *, order_uid: str) -> Payment | None:
    return await repository.get_by_uid(session, order_uid)


def is_expired(payment: Payment, now: datetime) -> bool:
    return payment.expires_at is not None and payment.expires_at <= now
