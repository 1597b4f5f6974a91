"""Closing an order's open QRIS attempts at Midtrans before the order is settled another way
(cash), cancelled, or given a fresh attempt. Midtrans decides the race: the cancel lands, or
the attempt was already paid and that payment is applied instead.

Asking Midtrans (``ask_to_close``) and recording its answer (``record_close``) are separate
steps, so a caller can ask with no transaction open."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.db import Transactions
from santap.errors import Conflict
from santap.gateways.midtrans import MidtransError, MidtransUnavailable
from santap.models import Order, OrderStatus, Payment, PaymentStatus
from santap.orders import service as orders_service
from santap.payments import repository
from santap.payments.gateway import PaymentGateway
from santap.payments.settlement import GatewayReport, apply_report

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Each round closes every attempt open when it began; another round is only needed when
# someone starts QRIS for the order again meanwhile.
_MAX_ROUNDS = 3


class OrderBusy(Conflict):
    code = "order_busy"


@dataclass(frozen=True)
class CloseAnswer:
    """What Midtrans said to a cancel: its report, or that it never had the transaction, or
    nothing usable (unreachable, slow, or no status after a refused cancel)."""

    report: GatewayReport | None = None
    not_at_midtrans: bool = False


async def ask_to_close(order_uid: str, gateway: PaymentGateway) -> CloseAnswer:
    """Cancel at Midtrans; when it refuses (typically 412: no longer pending), ask why."""
    try:
        async with asyncio.timeout(gateway.void_timeout_s):
            answer = await gateway.client.cancel(order_uid)
    except (MidtransUnavailable, TimeoutError):
        # Go ahead; reconciliation cancels it later, or flags needs_refund if it settled.
        logger.warning(
            "could not reach Midtrans to cancel %s in time; left for reconciliation", order_uid
        )
        return CloseAnswer()
    except MidtransError as exc:
        if exc.is_not_found:
            # A Snap attempt whose customer never picked a method: nothing exists to cancel.
            return CloseAnswer(not_at_midtrans=True)
        return await _current_status(order_uid, gateway)
    return CloseAnswer(report=GatewayReport.from_mapping(answer.raw))


async def _current_status(order_uid: str, gateway: PaymentGateway) -> CloseAnswer:
    try:
        status = await gateway.client.get_status(order_uid)
    except MidtransError as exc:
        logger.warning("status of %s unavailable after a refused cancel: %r", order_uid, exc)
        return CloseAnswer()
    return CloseAnswer(report=GatewayReport.from_mapping(status.raw))


async def record_close(
    session: AsyncSession, attempt: Payment, answer: CloseAnswer, *, actor: str
) -> None:
    """Apply Midtrans' answer to the attempt. Call with the order row locked."""
    if answer.report is not None:
        await apply_report(session, payment=attempt, report=answer.report, actor=actor)
        return
    if not answer.not_at_midtrans:
        return
    attempt = await repository.lock(session, attempt)
    current = PaymentStatus(attempt.status)
    if state_machine.can_change_payment(current, PaymentStatus.CANCELLED):
        state_machine.change_payment_status(
            session,
            attempt,
            PaymentStatus.CANCELLED,
            reason="never opened at midtrans; closed",
            actor=actor,
        )


async def after_closing_attempts(
    transactions: Transactions,
    *,
    order_id: int,
    gateway: PaymentGateway,
    actor: str,
    check: Callable[[Order, bool], None],
    finish: Callable[[AsyncSession, Order], Awaitable[T]],
) -> T:
    """Close the order's open QRIS attempts at Midtrans, then ``finish`` (take cash, cancel)
    in a transaction that holds the order row and finds no attempt open.

    Midtrans is asked between transactions, never inside one, so a slow Midtrans holds no
    lock and no connection. ``check(order, closed_some)`` runs on the locked order before
    anything is closed and again before ``finish``, when a close may have found an attempt
    paid. An attempt Midtrans
    could not be asked about is left open for reconciliation (which flags needs_refund
    should it settle)."""
    asked: set[str] = set()
    for _ in range(_MAX_ROUNDS):
        async with transactions.begin() as session:
            order = await orders_service.get_order(session, order_id=order_id, for_update=True)
            check(order, bool(asked))
            to_close: list[str] = []
            if order.status == OrderStatus.PENDING_PAYMENT:
                attempts = await repository.open_qris_attempts(session, order.id)
                to_close = [a.order_uid for a in attempts if a.order_uid not in asked]
            if not to_close:
                return await finish(session, order)
        await _close_at_midtrans(transactions, order_id, to_close, gateway, actor)
        asked.update(to_close)
    raise OrderBusy(
        "QRIS payments for this order keep being started; try again", headers={"Retry-After": "2"}
    )


async def _close_at_midtrans(
    transactions: Transactions,
    order_id: int,
    uids: list[str],
    gateway: PaymentGateway,
    actor: str,
) -> None:
    answers = [(uid, await ask_to_close(uid, gateway)) for uid in uids]
    async with transactions.begin() as session:
        await orders_service.lock_order(session, order_id=order_id)
        for uid, answer in answers:
            attempt = await repository.get_by_uid(session, uid, for_update=True)
            if attempt is not None:
                await record_close(session, attempt, answer, actor=actor)
