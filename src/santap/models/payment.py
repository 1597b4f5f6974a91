from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from santap.models.base import Base, BigIntPK, CreatedAt, Timestamps, UTCDateTime, utcnow


class PaymentMethod(StrEnum):
    QRIS = "qris"
    CASH = "cash"


class PaymentStatus(StrEnum):
    # Committed before Midtrans is asked for the transaction, so no lock waits on Midtrans.
    CREATING = "creating"
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class Payment(Timestamps, Base):
    """One payment attempt: a QRIS transaction at Midtrans, or cash taken at the cashier."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(String(10))
    # Midtrans' order_id for this attempt; unguessable, so it doubles as the public handle.
    order_uid: Mapped[str] = mapped_column(String(50), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PaymentStatus] = mapped_column(String(20), index=True)
    gateway_status: Mapped[str | None] = mapped_column(String(30))
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    snap_token: Mapped[str | None] = mapped_column(String(100))
    redirect_url: Mapped[str | None] = mapped_column(Text)
    qr_code_url: Mapped[str | None] = mapped_column(Text)
    qr_string: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_tendered: Mapped[int | None] = mapped_column(BigInteger)
    change_given: Mapped[int | None] = mapped_column(BigInteger)
    cashier: Mapped[str | None] = mapped_column(String(100))
    needs_refund: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    amount_mismatch: Mapped[bool] = mapped_column(Boolean, default=False)
    fraud_challenge: Mapped[bool] = mapped_column(Boolean, default=False)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    gateway_response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_status_response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PaymentStatusHistory(CreatedAt, Base):
    __tablename__ = "payment_status_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))


class Notification(Base):
    """The webhook inbox: every notification received, verbatim, keyed so repeats are no-ops.
    The applier claims an unapplied row until ``lease_until`` (also its retry time)."""

    __tablename__ = "notification"
    __table_args__ = (
        Index(
            "ix_notification_unapplied",
            "id",
            postgresql_where=text("applied_at IS NULL"),
            sqlite_where=text("applied_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    order_uid: Mapped[str | None] = mapped_column(String(100), index=True)
    transaction_status: Mapped[str | None] = mapped_column(String(30))
    raw_body: Mapped[str] = mapped_column(Text)
    source_ip: Mapped[str | None] = mapped_column(String(64))
    signature_valid: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(30))
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class RejectedNotification(Base):
    """What is kept of a delivery with a bad signature: enough to see who forges what, bounded
    so forgeries cannot fill the database. One row per source and body; repeats are counted."""

    __tablename__ = "rejected_notification"
    __table_args__ = (UniqueConstraint("source_ip", "dedupe_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source_ip: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(64))
    order_uid: Mapped[str | None] = mapped_column(String(100), index=True)
    transaction_status: Mapped[str | None] = mapped_column(String(30))
    body_prefix: Mapped[str] = mapped_column(Text)
    body_bytes: Mapped[int] = mapped_column(Integer)
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Refund(CreatedAt, Base):
    """Money given back on a payment: at Midtrans for QRIS, over the counter for cash."""

    __tablename__ = "refund"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    # Deterministic per (payment, amount, reason): a retried request reuses it, and Midtrans
    # answers a repeated refund_key without refunding twice.
    refund_key: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    method: Mapped[PaymentMethod] = mapped_column(String(10))
    staff_username: Mapped[str] = mapped_column(String(100))
    gateway_response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
