"""Starting a QRIS payment in phases, so that no transaction or lock waits on Midtrans:

1. one transaction locks the order, checks the caller's proof and the amount, and either
   hands back the order's live attempt or commits a new one as ``creating`` (which also
   keeps a second request from creating another: it waits for this one's answer);
2. Midtrans is asked for the transaction with nothing open;
3. one transaction records Midtrans' answer: ``pending`` with the QR, or ``failed``.

An attempt about to expire is first closed at Midtrans the same way (ask, then record). A
crash between the phases leaves a ``creating`` attempt that nobody was shown; reconciliation
cancels it at Midtrans and closes it once ``create_timeout_s`` has passed."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.config import QrisMode, Settings
from santap.db import Transactions
from santap.errors import Conflict
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
from santap.payments import attempts_sql, repository, voiding
from santap.payments.gateway import PaymentGateway, gateway_failure, idempotency_key
from santap.payments.schemas import QrisPaymentCreate, QrisPaymentRead
from santap.payments.service import OrderNotPayable, ensure_payable, new_order_uid, qris_read
from santap.staff import service as staff_service

logger = logging.getLogger(__name__)

# An attempt this close to its expiry is not handed out again: the customer needs time to pay.
REUSE_MARGIN = timedelta(seconds=60)
_POLL_S = 0.1


@dataclass(frozen=True)
class Proof:
    """What the caller showed: the order's own token, or a staff bearer token."""

    order_token: str | None = field(default=None, repr=False)
    staff_token: str | None = field(default=None, repr=False)


class CreationInProgress(Conflict):
    code = "payment_in_progress"


@dataclass(frozen=True)
class _NewAttempt:
    payment_id: int
    order_id: int
    order_uid: str
    amount: int
    items: list[ItemDetail]
    started_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class _Step:
    """Phase one's verdict: hand out ``live``, close ``expiring``, wait, or create ``new``."""

    live: QrisPaymentRead | None = None
    expiring: tuple[str, ...] = ()
    new: _NewAttempt | None = None
    by_staff: bool = False


async def create_qris_payment(
    transactions: Transactions,
    *,
    data: QrisPaymentCreate,
    proof: Proof,
    settings: Settings,
    gateway: PaymentGateway,
) -> tuple[QrisPaymentRead, bool]:
    """The order's live QRIS attempt, or a new one at Midtrans; True when newly created."""
    deadline = time.monotonic() + gateway.create_timeout_s
    closings = 0
    while True:
        async with transactions.begin() as session:
            step = await _first_phase(
                session, data=data, proof=proof, settings=settings, gateway=gateway
            )
        if step.live is not None:
            return step.live, False
        if step.new is not None:
            break
        if step.expiring and closings < 3:  # each round closes them all; 3 is plenty
            closings += 1
            await _close_expiring(transactions, data.order_id, step.expiring, gateway)
        elif time.monotonic() > deadline or step.expiring:
            raise CreationInProgress(
                "A QRIS payment for this order is being created; try again shortly",
                headers={"Retry-After": "2"},
            )
        else:
            await asyncio.sleep(_POLL_S)
    return await _open(transactions, step.new, data=data, gateway=gateway, by_staff=step.by_staff)


async def _first_phase(
    session: AsyncSession,
    *,
    data: QrisPaymentCreate,
    proof: Proof,
    settings: Settings,
    gateway: PaymentGateway,
) -> _Step:
    order = await orders_service.lock_order_with_items(session, order_id=data.order_id)
    by_staff = await _shows_proof(session, order, proof, settings)
    ensure_payable(order, data.amount)
    now = utcnow()
    attempts = await repository.open_qris_attempts(session, order.id)  # after the lock
    for attempt in attempts:
        if attempt.status == PaymentStatus.PENDING and _live(attempt, now):
            return _Step(live=qris_read(attempt))
    creating = [a for a in attempts if a.status == PaymentStatus.CREATING]
    if any(a.created_at > now - timedelta(seconds=gateway.create_timeout_s) for a in creating):
        return _Step()  # another request is asking Midtrans right now: wait for it
    expiring = tuple(a.order_uid for a in attempts if a.status == PaymentStatus.PENDING)
    if expiring:
        return _Step(expiring=expiring)
    # A "creating" attempt older than that is a crashed creation nobody was shown: left for
    # reconciliation to close at Midtrans.
    return _Step(new=await _add_attempt(session, order, gateway, now), by_staff=by_staff)


async def _shows_proof(
    session: AsyncSession, order: Order, proof: Proof, settings: Settings
) -> bool:
    """True for staff. Without the order's token or a staff token the order does not exist
    for the caller: the same 404 as for a missing one, so ids cannot be probed."""
    if proof.staff_token:
        try:
            await staff_service.staff_for_token(session, settings=settings, token=proof.staff_token)
            return True
        except staff_service.NotAuthenticated:
            pass
    if orders_service.token_matches(order, proof.order_token):
        return False
    raise orders_service.OrderNotFound(order.id)


def _live(attempt: Payment, now: datetime) -> bool:
    return attempt.expires_at is not None and attempt.expires_at > now + REUSE_MARGIN


async def _add_attempt(
    session: AsyncSession, order: Order, gateway: PaymentGateway, now: datetime
) -> _NewAttempt:
    values: dict[str, Any] = {
        "order_id": order.id,
        "method": PaymentMethod.QRIS.value,
        "order_uid": new_order_uid(order.id),
        "amount": order.total_amount,
        "status": PaymentStatus.CREATING.value,
        "expires_at": now + timedelta(minutes=gateway.expiry_minutes),
        "refunded_amount": 0,
        "needs_refund": False,
        "amount_mismatch": False,
        "fraud_challenge": False,
    }
    reason, actor = "qris attempt created", "customer"
    if _is_postgresql(session):
        payment_id = await attempts_sql.insert_attempt(
            session, values=values, reason=reason, actor=actor, now=now
        )
    else:
        payment = Payment(**values)
        repository.add(session, payment)
        await session.flush()
        state_machine.start_payment(session, payment, reason=reason, actor=actor)
        payment_id = payment.id
    items = [
        ItemDetail(
            id=str(item.menu_item_id), name=item.name, price=item.unit_price, quantity=item.quantity
        )
        for item in order.items
    ]
    return _NewAttempt(
        payment_id,
        order.id,
        values["order_uid"],
        values["amount"],
        items,
        now,
        values["expires_at"],
    )


def _is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _close_expiring(
    transactions: Transactions, order_id: int, uids: tuple[str, ...], gateway: PaymentGateway
) -> None:
    """Close attempts about to expire, so the customer cannot pay twice; Midtrans may answer
    that one was paid just now, and then the order is paid (the next phase one says 409)."""
    answers = [(uid, await voiding.ask_to_close(uid, gateway)) for uid in uids]
    async with transactions.begin() as session:
        await orders_service.lock_order(session, order_id=order_id)
        for uid, answer in answers:
            attempt = await repository.get_by_uid(session, uid, for_update=True)
            if attempt is None:
                continue
            await voiding.record_close(session, attempt, answer, actor="customer")
            if attempt.status == PaymentStatus.PENDING:
                # No usable answer: stop offering the old QR all the same. Should it be paid
                # in its last seconds, its settlement still lands (paid, or needs_refund).
                state_machine.change_payment_status(
                    session,
                    attempt,
                    PaymentStatus.CANCELLED,
                    reason="replaced before expiry without midtrans' answer",
                    actor="customer",
                )


async def _open(
    transactions: Transactions,
    attempt: _NewAttempt,
    *,
    data: QrisPaymentCreate,
    gateway: PaymentGateway,
    by_staff: bool,
) -> tuple[QrisPaymentRead, bool]:
    try:
        fields = await _ask_midtrans(attempt, data=data, gateway=gateway)
    except MidtransError as exc:
        logger.warning("QRIS creation failed for %s: %r", attempt.order_uid, exc)
        async with transactions.begin() as session:
            await _record_failure(session, attempt, exc)
        raise gateway_failure(exc, for_staff=by_staff) from exc
    if await _opened_as_expected(transactions, attempt, fields):
        return qris_read(_opened(attempt, fields)), True
    async with transactions.begin() as session:
        payment = await _record_opened(session, attempt, fields)
        answer = qris_read(payment)
    if payment.status == PaymentStatus.CANCELLED:
        raise _closed_meanwhile(payment)
    return answer, True


async def _ask_midtrans(
    attempt: _NewAttempt, *, data: QrisPaymentCreate, gateway: PaymentGateway
) -> dict[str, Any]:
    """The attempt's columns from Midtrans' answer. No transaction is open here."""
    common = {
        "order_id": attempt.order_uid,
        "gross_amount": attempt.amount,
        "item_details": attempt.items,
        "customer_details": CustomerDetails(**data.customer_details.model_dump()),
        "expiry_minutes": gateway.expiry_minutes,
    }
    if gateway.qris_mode is QrisMode.SNAP:
        snap = await gateway.client.create_snap_transaction(
            SnapTransactionRequest(**common, start_time=attempt.started_at),
            notification_url=gateway.notification_url,
        )
        return {
            "snap_token": snap.token,
            "redirect_url": snap.redirect_url,
            "gateway_response": snap.raw,
        }
    charge = await gateway.client.charge_qris(
        QrisChargeRequest(**common),
        idempotency_key=idempotency_key(attempt.order_uid),
        notification_url=gateway.notification_url,
    )
    fields: dict[str, Any] = {
        "transaction_id": charge.transaction_id,
        "qr_code_url": charge.qr_code_url,
        "qr_string": charge.qr_string,
        "gateway_status": charge.transaction_status,
        "gateway_response": charge.raw,
    }
    if charge.expiry_time is not None:
        fields["expires_at"] = charge.expiry_time
    return fields


async def _opened_as_expected(
    transactions: Transactions, attempt: _NewAttempt, fields: dict[str, Any]
) -> bool:
    """The usual case in one statement on PostgreSQL: the attempt is still ``creating`` and
    its order still awaits payment, so it goes ``pending``. False (nothing written) when
    anything moved meanwhile, and always on SQLite: ``_record_opened`` then decides."""
    engine = transactions.autocommit_engine
    if engine.dialect.name != "postgresql":
        return False
    assert state_machine.can_change_payment(PaymentStatus.CREATING, PaymentStatus.PENDING)
    async with engine.connect() as connection:
        return await attempts_sql.open_attempt(
            connection,
            attempt_id=attempt.payment_id,
            order_id=attempt.order_id,
            fields=fields,
            reason="opened at midtrans",
            actor="customer",
            now=utcnow(),
        )


def _opened(attempt: _NewAttempt, fields: dict[str, Any]) -> Payment:
    """The attempt as ``_opened_as_expected`` left it, for the answer (not in a session)."""
    payment = Payment(
        id=attempt.payment_id,
        order_id=attempt.order_id,
        order_uid=attempt.order_uid,
        amount=attempt.amount,
        method=PaymentMethod.QRIS,
        status=PaymentStatus.PENDING,
        expires_at=attempt.expires_at,
    )
    for name, value in fields.items():
        setattr(payment, name, value)
    return payment


async def _locked_attempt(session: AsyncSession, attempt: _NewAttempt) -> tuple[Order, Payment]:
    order = await orders_service.lock_order(session, order_id=attempt.order_id)
    payment = await repository.get(session, attempt.payment_id, for_update=True)
    assert payment is not None
    return order, payment


async def _record_opened(
    session: AsyncSession, attempt: _NewAttempt, fields: dict[str, Any]
) -> Payment:
    """Keep Midtrans' answer; the attempt goes live unless the order stopped waiting for it
    meanwhile (cash, a cancel), or a notification already moved it on."""
    order, payment = await _locked_attempt(session, attempt)
    for name, value in fields.items():
        if name != "gateway_status" or payment.gateway_status is None:
            setattr(payment, name, value)
    if payment.status != PaymentStatus.CREATING:
        return payment
    payable = order.status == OrderStatus.PENDING_PAYMENT
    state_machine.change_payment_status(
        session,
        payment,
        PaymentStatus.PENDING if payable else PaymentStatus.CANCELLED,
        reason="opened at midtrans" if payable else f"order became {order.status} meanwhile",
        actor="customer",
    )
    return payment


async def _record_failure(session: AsyncSession, attempt: _NewAttempt, exc: MidtransError) -> None:
    _, payment = await _locked_attempt(session, attempt)
    payment.failure_reason = "; ".join(exc.messages) or str(exc)
    if payment.status == PaymentStatus.CREATING:
        state_machine.change_payment_status(
            session, payment, PaymentStatus.FAILED, reason="midtrans error", actor="system"
        )


def _closed_meanwhile(payment: Payment) -> Conflict:
    return OrderNotPayable(
        "The order stopped waiting for this QRIS payment while it was being created",
        details={"payment_status": payment.status},
    )
