"""Closing an order's open QRIS attempts at Midtrans before the order is settled another way
(cash), cancelled, or given a fresh attempt. Midtrans decides the race: the cancel lands, or
the attempt was already paid and that payment is applied instead.

Asking Midtrans (``ask_to_close``) and recording its answer (``record_close``) are separate
steps, so a caller can ask with no transaction open."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.gateways.midtrans import MidtransError, MidtransUnavailable
from santap.models import Payment, PaymentStatus
from santap.payments import repository
from santap.payments.gateway import PaymentGateway
from santap.payments.settlement import GatewayReport, apply_report

logger = logging.getLogger(__name__)


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


async def close_open_attempts(
    session: AsyncSession, *, order_id: int, gateway: PaymentGateway, actor: str
) -> None:
    """Call with the order row locked. Afterwards the order may have become paid by QRIS."""
    for attempt in await repository.open_qris_attempts(session, order_id):
        answer = await ask_to_close(attempt.order_uid, gateway)
        await record_close(session, attempt, answer, actor=actor)
