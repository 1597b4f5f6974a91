"""Midtrans notifications: verify the signature, store verbatim in the inbox in one statement,
answer; the applier (``applier``) then applies each exactly once, in the background. A
delivery with a bad signature never enters the inbox (see ``rejections``).

A 2xx is only sent once the inbox row is committed, so a notification we acknowledged
survives a crash; the request itself asks Midtrans nothing and changes no state, so neither
a slow Midtrans nor a busy order row slows the answer."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from santap.db import Transactions
from santap.errors import NotFound, SantapError, Unauthorized
from santap.gateways.midtrans import MidtransError, verify_signature
from santap.models import Notification, Payment
from santap.models.base import utcnow
from santap.observability import metrics
from santap.payments import rejections as rejected
from santap.payments import repository
from santap.payments.gateway import PaymentGateway
from santap.payments.rejections import RejectionBudget
from santap.payments.settlement import GatewayReport, apply_report

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("order_id", "status_code", "gross_amount", "transaction_status")


class BadNotification(SantapError):
    status_code = 400
    code = "bad_notification"


class InvalidSignature(Unauthorized):
    code = "invalid_signature"


class UnknownTransaction(NotFound):
    code = "unknown_transaction"


def parse_body(raw: bytes) -> dict[str, Any]:
    """The webhook and the reconciler (re-reading a stored body) parse with this one function.
    UTF-8 only (a leading BOM is tolerated), so what is stored as text parses the same again."""
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadNotification("Body is not valid UTF-8 JSON") from exc
    except RecursionError as exc:
        # json's C parser gives up on deep nesting (about 1,000 levels) this way.
        raise BadNotification("Body is nested too deeply") from exc
    if not isinstance(body, dict):
        raise BadNotification("Body must be a JSON object")
    missing = [key for key in REQUIRED_FIELDS if not isinstance(body.get(key), str)]
    if missing:
        raise BadNotification(
            f"Missing or non-string fields: {', '.join(missing)}", details={"fields": missing}
        )
    unusable = [key for key in (*REQUIRED_FIELDS, "signature_key") if not _is_text(body.get(key))]
    if unusable:
        raise BadNotification(
            f"Fields with characters no notification carries: {', '.join(unusable)}",
            details={"fields": unusable},
        )
    return body


def _is_text(value: object) -> bool:
    """Printable as UTF-8 and storable: no lone surrogates (JSON's "\\ud800"), no NUL."""
    if not isinstance(value, str):
        return True  # a missing or non-string signature is just a wrong one (401)
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def dedupe_key(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: a lone surrogate in a field nobody reads ("\ud800") still hashes.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


async def receive(
    transactions: Transactions,
    inbox: AsyncEngine,
    *,
    raw: bytes,
    source_ip: str | None,
    gateway: PaymentGateway,
    rejections: RejectionBudget,
) -> str:
    """Handle one delivery: "accepted" (stored, to be applied) or "duplicate", else raises a
    SantapError. ``inbox`` runs the one acknowledging statement (autocommit on PostgreSQL)."""
    try:
        body = parse_body(raw)
        key = dedupe_key(body)
        if not verify_signature(body, gateway.server_key):
            async with transactions.begin() as session:
                await rejected.record(
                    session,
                    raw=raw,
                    body=body,
                    dedupe_key=key,
                    source_ip=source_ip,
                    budget=rejections,
                )
            logger.warning("rejected Midtrans notification with a bad signature from %s", source_ip)
            raise InvalidSignature("Invalid signature_key")
        outcome = await _store(inbox, raw=raw, body=body, key=key, source_ip=source_ip)
    except SantapError as exc:
        metrics.count_notification(exc.code)
        raise
    metrics.count_notification(outcome)
    return outcome


async def _store(
    inbox: AsyncEngine, *, raw: bytes, body: dict[str, Any], key: str, source_ip: str | None
) -> str:
    values = {
        "dedupe_key": key,
        "order_uid": body["order_id"][:100],
        "transaction_status": body["transaction_status"][:30],
        "raw_body": raw.decode(),  # parse_body checked that it is UTF-8
        "source_ip": source_ip,
        "received_at": utcnow(),
    }
    async with inbox.connect() as connection:  # autocommit on PostgreSQL
        deliveries = await repository.acknowledge(connection, values)
        if connection.in_transaction():
            await connection.commit()
    if deliveries is None:
        # Nothing stored: an attempt is committed before Midtrans hears of it, so this is
        # no attempt of ours (a dashboard test ping, another shop's order on a shared key).
        raise UnknownTransaction(f"Unknown order_id {body['order_id']!r}")
    return "accepted" if deliveries == 1 else "duplicate"


@dataclass(frozen=True)
class Verification:
    """What Midtrans said about a transaction, asked before any database work."""

    report: GatewayReport | None = None  # None: Midtrans has no such transaction (yet)
    error: str | None = None  # the status check failed; apply later


async def verify_with_midtrans(
    order_uid: str, body: dict[str, Any], gateway: PaymentGateway
) -> Verification:
    """Midtrans' own answer when verification is on (signatures do not cover the status),
    else the signed body. A Snap attempt whose payer has not picked a method is a 404.

    A refund is always asked about, whatever ``verify_status`` says: the signature covers
    only order_id, status_code and gross_amount, so a genuine settlement body relabelled
    ``refund`` with any ``refunds`` list is still signed. Capping what such a body may
    record would not do: the relabel alone would cancel a paid order with nothing refunded."""
    if not gateway.verify_status and not claims_refund(body):
        return Verification(report=GatewayReport.from_mapping(body))
    try:
        async with asyncio.timeout(gateway.verify_timeout_s):
            status = await gateway.client.get_status(order_uid)
    except MidtransError as exc:
        if exc.is_not_found:
            return Verification()
        return Verification(error=f"status check failed: {exc!r}"[:500])
    except TimeoutError:
        return Verification(error="status check timed out")
    return Verification(report=GatewayReport.from_mapping(status.raw))


def claims_refund(body: dict[str, Any]) -> bool:
    status = body.get("transaction_status")
    return (isinstance(status, str) and "refund" in status.lower()) or any(
        key in body for key in ("refunds", "refund_amount")
    )


async def apply_verified(
    session: AsyncSession,
    *,
    notification: Notification,
    payment: Payment,
    verification: Verification,
) -> str:
    """Apply a stored notification whose row the caller holds locked (the upsert, or the
    reconciler's SELECT ... FOR UPDATE), so no other transaction applies it meanwhile."""
    if verification.error is not None:
        notification.last_error = verification.error
        notification.outcome = "retry"
        logger.warning("status check for %s failed; left for reconciliation", payment.order_uid)
        return "queued"
    if verification.report is None:
        _close(notification, "not_at_midtrans")
        return "not_at_midtrans"
    outcome = await apply_report(
        session, payment=payment, report=verification.report, actor="midtrans"
    )
    _close(notification, outcome)
    return outcome


def _close(notification: Notification, outcome: str) -> None:
    notification.outcome = outcome
    notification.applied_at = utcnow()
    notification.last_error = None
