"""Apply what Midtrans reports about an attempt, through the state machine.

Monotonic by construction: the transition table never lets a late pending, expire or cancel
un-pay an attempt, and a settlement always lands — as the order's payment while the order is
still unpaid, otherwise flagged ``needs_refund`` so the money is never silently dropped."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.gateways.midtrans.schemas import parse_rupiah, parse_wib
from santap.models import Order, OrderStatus, Payment, PaymentStatus, Refund
from santap.models.base import utcnow
from santap.orders import service as orders_service
from santap.payments import repository

logger = logging.getLogger(__name__)

# Who a refund row is by when Midtrans reported it (dashboard, or ours seen first through
# its notification).
REPORTED_BY_MIDTRANS = "midtrans"

_SIMPLE = {
    "pending": PaymentStatus.PENDING,
    "expire": PaymentStatus.EXPIRED,
    "cancel": PaymentStatus.CANCELLED,
    "deny": PaymentStatus.FAILED,
    "failure": PaymentStatus.FAILED,
    "refund": PaymentStatus.REFUNDED,
    "partial_refund": PaymentStatus.PARTIALLY_REFUNDED,
}


# What Midtrans only ever reports with status_code "200" (midtrans.md §5): money moved.
_MONEY_MOVED = frozenset(
    {PaymentStatus.PAID, PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED}
)
_HOLDS_MONEY = frozenset(
    {PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
)


@dataclass(frozen=True)
class GatewayReport:
    """A transaction's state as Midtrans tells it (notification body or status answer)."""

    transaction_status: str
    gross_amount: str | None
    status_code: str | None = None
    fraud_status: str | None = None
    transaction_id: str | None = None
    refund_amount: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> GatewayReport:
        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return cls(
            transaction_status=(text("transaction_status") or "").lower(),
            gross_amount=text("gross_amount"),
            status_code=text("status_code"),
            fraud_status=(text("fraud_status") or "").lower() or None,
            transaction_id=text("transaction_id"),
            refund_amount=text("refund_amount"),
            raw=data,
        )


def target_status(report: GatewayReport) -> tuple[PaymentStatus | None, bool]:
    """The payment status a report means, and whether it is held in a fraud challenge."""
    target, challenged = _meaning(report)
    if target in _MONEY_MOVED and report.status_code != "200":
        # The signature covers status_code, not transaction_status: a signed pending ("201")
        # body with its status edited to settlement must not pay anything.
        return None, False
    return target, challenged


def _meaning(report: GatewayReport) -> tuple[PaymentStatus | None, bool]:
    status, fraud = report.transaction_status, report.fraud_status
    if status in ("settlement", "capture"):
        if fraud in (None, "accept"):
            return PaymentStatus.PAID, False
        if fraud == "challenge":
            return PaymentStatus.PENDING, True
        return PaymentStatus.FAILED, False
    return _SIMPLE.get(status), False


def amount_matches(gross_amount: str | None, amount: int) -> bool:
    if gross_amount is None:
        return False
    try:
        return Decimal(gross_amount) == Decimal(amount)
    except InvalidOperation:
        return False


@dataclass(frozen=True)
class Standing:
    """What a report is judged against: the attempt's and its order's current state."""

    payment_id: int
    order_id: int
    order_uid: str
    method: str
    amount: int
    payment_status: PaymentStatus
    transaction_id: str | None
    order_status: OrderStatus

    @classmethod
    def of(cls, payment: Payment, order: Order) -> Standing:
        return cls(
            payment_id=payment.id,
            order_id=order.id,
            order_uid=payment.order_uid,
            method=payment.method,
            amount=payment.amount,
            payment_status=PaymentStatus(payment.status),
            transaction_id=payment.transaction_id,
            order_status=OrderStatus(order.status),
        )


@dataclass(frozen=True)
class Plan:
    """What a report does to an attempt and its order, decided on a ``Standing`` alone, so
    that the ORM path and the applier's Core statement write the same thing."""

    outcome: str
    gateway_status: str | None = None
    transaction_id: str | None = None  # set only where the attempt has none yet
    fraud_challenge: bool = False
    amount_mismatch: bool = False
    needs_refund: bool = False
    payment_to: PaymentStatus | None = None
    payment_reason: str = ""
    order_to: OrderStatus | None = None
    order_reason: str = ""
    refund: bool = False  # refunds write refund rows: only the ORM path (``apply_report``)


def plan_report(report: GatewayReport, standing: Standing) -> Plan:
    target, challenged = target_status(report)
    common: dict[str, Any] = {
        "gateway_status": report.transaction_status or None,
        "transaction_id": None if standing.transaction_id else report.transaction_id,
        "fraud_challenge": challenged,
    }
    if target is None:
        return Plan("ignored", **common)
    if target is PaymentStatus.PAID and not amount_matches(report.gross_amount, standing.amount):
        return Plan("amount_mismatch", amount_mismatch=True, **common)
    refund = target in (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED)
    current = standing.payment_status
    if target is current or not state_machine.can_change_payment(current, target):
        return Plan("no_change" if target is current else "stale", refund=refund, **common)
    reason = f"midtrans: {report.transaction_status}"
    plan = Plan("applied", payment_to=target, payment_reason=reason, refund=refund, **common)
    if target is not PaymentStatus.PAID:
        return plan
    # A paid attempt pays its order, or is flagged for a refund when the order is not payable.
    if state_machine.can_change_order(standing.order_status, OrderStatus.PAID):
        reason = f"{standing.method} payment {standing.order_uid}"
        return replace(plan, order_to=OrderStatus.PAID, order_reason=reason)
    return replace(plan, needs_refund=True)


def log_plan(plan: Plan, standing: Standing, report: GatewayReport) -> None:
    if plan.amount_mismatch:
        logger.warning(
            "amount mismatch on %s: reported %s, expected %d",
            standing.order_uid,
            report.gross_amount,
            standing.amount,
        )
    if plan.needs_refund:
        logger.warning(
            "payment %s settled for order %s which is %s: flagged needs_refund",
            standing.order_uid,
            standing.order_id,
            standing.order_status,
        )


async def apply_report(
    session: AsyncSession, *, payment: Payment, report: GatewayReport, actor: str
) -> str:
    """Lock the order, then the attempt, and move them as the report says; returns the outcome."""
    order = await orders_service.lock_order(session, order_id=payment.order_id)
    payment = await repository.lock(session, payment)
    standing = Standing.of(payment, order)
    plan = plan_report(report, standing)
    log_plan(plan, standing, report)
    if plan.transaction_id:
        payment.transaction_id = plan.transaction_id
    if plan.gateway_status:
        payment.gateway_status = plan.gateway_status
    payment.fraud_challenge = payment.fraud_challenge or plan.fraud_challenge
    payment.amount_mismatch = payment.amount_mismatch or plan.amount_mismatch
    payment.needs_refund = payment.needs_refund or plan.needs_refund
    if plan.refund:
        _record_refund_amount(payment, report)
        await record_reported_refunds(session, payment=payment, report=report)
    if plan.payment_to is None:
        return plan.outcome
    state_machine.change_payment_status(
        session, payment, plan.payment_to, reason=plan.payment_reason, actor=actor
    )
    if plan.order_to is not None:
        state_machine.change_order_status(
            session, order, plan.order_to, reason=plan.order_reason, actor=actor
        )
    elif plan.payment_to is PaymentStatus.REFUNDED:
        await close_refunded_order(session, order=order, payment=payment, actor=actor)
    return plan.outcome


async def close_refunded_order(
    session: AsyncSession, *, order: Order, payment: Payment, actor: str
) -> None:
    """A full refund cancels the order, unless another payment still pays for it (refunding
    a double payment leaves the order paid)."""
    if await repository.other_settled_payments(session, order_id=order.id, exclude_id=payment.id):
        return
    if state_machine.can_change_order(OrderStatus(order.status), OrderStatus.CANCELLED):
        state_machine.cancel_order(session, order, reason="payment fully refunded", actor=actor)


async def record_reported_refunds(
    session: AsyncSession, *, payment: Payment, report: GatewayReport
) -> None:
    """Record each refund Midtrans lists that we have no row for, keyed by its refund_key: one
    made in Midtrans' dashboard, or ours whose request failed after Midtrans had refunded (a
    retry then finds it instead of counting it twice). The daily report sums these rows."""
    if payment.status not in _HOLDS_MONEY:
        return  # never counted as paid (e.g. an amount mismatch), so no refund to count either
    listed = report.raw.get("refunds")
    for item in listed if isinstance(listed, list) else []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("refund_key") or f"MT-{item.get('refund_chargeback_id')}")[:64]
        try:
            amount = parse_rupiah(item.get("refund_amount"))
        except ValueError:
            continue
        known = await repository.get_refund_by_key(session, key)
        if known is not None and known.payment_id != payment.id:
            # Midtrans' keys are unique per transaction, ours across the table.
            key = f"MT-{payment.id}-{key}"[:64]
            known = await repository.get_refund_by_key(session, key)
        if amount <= 0 or known is not None:
            continue
        recorded = await repository.refunded_total(session, payment_id=payment.id)
        if recorded + amount > payment.amount:
            # Never more back than was paid, whoever says so.
            logger.error(
                "refund %s of %d on %s would exceed the %d paid (%d recorded): not recorded",
                key,
                amount,
                payment.order_uid,
                payment.amount,
                recorded,
            )
            continue
        reason = item.get("reason")
        repository.add_refund(
            session,
            Refund(
                payment_id=payment.id,
                refund_key=key,
                amount=amount,
                reason=reason if isinstance(reason, str) and reason else "refunded at Midtrans",
                method=payment.method,
                staff_username=REPORTED_BY_MIDTRANS,
                gateway_response=item,
                created_at=parse_wib(item.get("created_at")) or utcnow(),
            ),
        )


def _record_refund_amount(payment: Payment, report: GatewayReport) -> None:
    if report.refund_amount is None:
        return
    try:
        refunded = parse_rupiah(report.refund_amount)
    except ValueError:
        return
    payment.refunded_amount = max(payment.refunded_amount, min(refunded, payment.amount))
    unflag_if_given_back(payment)


def unflag_if_given_back(payment: Payment) -> None:
    """A double payment stays flagged needs_refund until all of it is given back."""
    payment.needs_refund = payment.needs_refund and payment.refunded_amount < payment.amount
