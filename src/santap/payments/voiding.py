"""Closing an order's open QRIS attempts at Midtrans before the order is settled another way
(cash) or cancelled. Midtrans decides the race: the cancel lands, or the attempt was already
paid and that payment is applied instead."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.gateways.midtrans import MidtransError, MidtransUnavailable
from santap.models import Payment, PaymentStatus
from santap.payments import repository
from santap.payments.gateway import PaymentGateway
from santap.payments.settlement import GatewayReport, apply_report

logger = logging.getLogger(__name__)


async def close_open_attempts(
    session: AsyncSession, *, order_id: int, gateway: PaymentGateway, actor: str
) -> None:
    """Call with the order row locked. Afterwards the order may have become paid by QRIS."""
    for attempt in await repository.open_qris_attempts(session, order_id):
        await _close(session, attempt, gateway=gateway, actor=actor)


async def _close(
    session: AsyncSession, attempt: Payment, *, gateway: PaymentGateway, actor: str
) -> None:
    try:
        async with asyncio.timeout(gateway.void_timeout_s):
            answer = await gateway.client.cancel(attempt.order_uid)
    except (MidtransUnavailable, TimeoutError):
        # Go ahead; reconciliation cancels it later, or flags needs_refund if it settled.
        logger.warning(
            "could not reach Midtrans to cancel %s in time; left for reconciliation",
            attempt.order_uid,
        )
        return
    except MidtransError as exc:
        if exc.is_not_found:
            # A Snap attempt whose customer never picked a method: nothing exists to cancel.
            state_machine.change_payment_status(
                session,
                attempt,
                PaymentStatus.CANCELLED,
                reason="never opened; closed by staff",
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
    """Midtrans refused the cancel (typically 412: no longer pending): find out why."""
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
