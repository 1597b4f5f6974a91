from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.config import QrisMode
from santap.errors import Conflict, NotFound, Unprocessable
from santap.gateways.midtrans import (
    CustomerDetails,
    ItemDetail,
    MidtransError,
    QrisChargeRequest,
    SnapTransactionRequest,
)
from santap.models import Order, OrderStatus, Payment, PaymentMethod, PaymentStatus
from santap.models.base import utcnow
from santap.orders import service as orders_service
from santap.payments import repository, voiding
from santap.payments.gateway import PaymentGateway, gateway_failure, idempotency_key
from santap.payments.schemas import PaymentRead, QrisPaymentCreate, QrisPaymentRead

logger = logging.getLogger(__name__)

# An attempt this close to its expiry is not handed out again: the customer needs time to pay.
REUSE_MARGIN = timedelta(seconds=60)


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    # Raised before any change, or after closing an attempt found paid: that must be kept.
    keeps_changes = True


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


async def create_qris_payment(
    session: AsyncSession, *, data: QrisPaymentCreate, gateway: PaymentGateway
) -> tuple[QrisPaymentRead, bool]:
    """The order's live QRIS attempt, or a new one at Midtrans; True when newly created.

    The order row stays locked through the Midtrans call, so concurrent requests for one
    order wait and then reuse the attempt instead of creating a second transaction."""
    order = await orders_service.get_order(session, order_id=data.order_id, for_update=True)
    ensure_payable(order, data.amount)
    open_attempts = await repository.open_qris_attempts(session, order.id)
    for attempt in open_attempts:
        if attempt.expires_at is not None and attempt.expires_at > utcnow() + REUSE_MARGIN:
            return qris_read(attempt), False
    if open_attempts:
        # About to expire: close it at Midtrans so the customer cannot pay twice. Midtrans
        # may answer that it was paid just now, and then the order is paid.
        await voiding.close_open_attempts(
            session, order_id=order.id, gateway=gateway, actor="customer"
        )
        ensure_payable(order)
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.QRIS,
        order_uid=new_order_uid(order.id),
        amount=order.total_amount,
        status=PaymentStatus.PENDING,
        expires_at=utcnow() + timedelta(minutes=gateway.expiry_minutes),
    )
    repository.add(session, payment)
    await session.flush()
    state_machine.start_payment(session, payment, reason="qris attempt created", actor="customer")
    try:
        await _open_at_midtrans(payment, order=order, data=data, gateway=gateway)
    except MidtransError as exc:
        payment.failure_reason = "; ".join(exc.messages) or str(exc)
        state_machine.change_payment_status(
            session, payment, PaymentStatus.FAILED, reason="midtrans error", actor="system"
        )
        await session.flush()
        logger.warning("QRIS creation failed for %s: %r", payment.order_uid, exc)
        raise gateway_failure(exc) from exc
    await session.flush()
    return qris_read(payment), True


async def _open_at_midtrans(
    payment: Payment, *, order: Order, data: QrisPaymentCreate, gateway: PaymentGateway
) -> None:
    fields = {
        "order_id": payment.order_uid,
        "gross_amount": payment.amount,
        "item_details": [
            ItemDetail(
                id=str(item.menu_item_id),
                name=item.name,
                price=item.unit_price,
                quantity=item.quantity,
            )
            for item in order.items
        ],
        "customer_details": CustomerDetails(**data.customer_details.model_dump()),
        "expiry_minutes": gateway.expiry_minutes,
    }
    if gateway.qris_mode is QrisMode.SNAP:
        assert payment.expires_at is not None
        started = payment.expires_at - timedelta(minutes=gateway.expiry_minutes)
        snap = await gateway.client.create_snap_transaction(
            SnapTransactionRequest(**fields, start_time=started),
            notification_url=gateway.notification_url,
        )
        payment.snap_token, payment.redirect_url = snap.token, snap.redirect_url
        payment.gateway_response = snap.raw
        return
    charge = await gateway.client.charge_qris(
        QrisChargeRequest(**fields),
        idempotency_key=idempotency_key(payment.order_uid),
        notification_url=gateway.notification_url,
    )
    payment.transaction_id = charge.transaction_id
    payment.qr_code_url, payment.qr_string = charge.qr_code_url, charge.qr_string
    payment.gateway_status = charge.transaction_status
    payment.gateway_response = charge.raw
    if charge.expiry_time is not None:
        payment.expires_at = charge.expiry_time


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
