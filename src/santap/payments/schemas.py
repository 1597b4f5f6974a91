from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from santap.models import PaymentMethod, PaymentStatus
from santap.models.base import MAX_ID, NO_NUL
from santap.timestamps import Timestamp

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class CustomerDetailsIn(BaseModel):
    first_name: Name | None = None
    last_name: Name | None = None
    email: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$"),
        ]
        | None
    ) = None
    phone: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=20, pattern=r"^\+?[0-9 \-]{6,20}$"),
        ]
        | None
    ) = None


class QrisPaymentCreate(BaseModel):
    order_id: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
    amount: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
    customer_details: CustomerDetailsIn = Field(default_factory=CustomerDetailsIn)


class QrisPaymentRead(BaseModel):
    payment_id: int
    order_uid: str
    status: PaymentStatus
    amount: int
    transaction_token: str | None
    qris_url: str | None
    qr_string: str | None
    expires_at: Timestamp | None


class PaymentRead(BaseModel):
    """What the customer's screen polls: no customer details, no internals."""

    order_uid: str
    order_id: int
    method: PaymentMethod
    status: PaymentStatus
    amount: int
    transaction_token: str | None
    qris_url: str | None
    qr_string: str | None
    expires_at: Timestamp | None
    paid_at: Timestamp | None


class PaymentSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    payment_id: int = Field(validation_alias="id")
    order_uid: str
    method: PaymentMethod
    status: PaymentStatus
    amount: int
    paid_at: Timestamp | None
    expires_at: Timestamp | None
    created_at: Timestamp


def payment_status_of(statuses: list[PaymentStatus]) -> str:
    """The order-level summary the customer sees."""
    for status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED):
        if status in statuses:
            return str(status)
    open_ = {PaymentStatus.PENDING, PaymentStatus.CREATING}
    return "pending" if open_.intersection(statuses) else "unpaid"


class WebhookAck(BaseModel):
    status: str


class CashPaymentCreate(BaseModel):
    order_id: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
    amount_tendered: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


class CashPaymentRead(BaseModel):
    payment_id: int
    order_id: int
    amount: int
    amount_tendered: int
    change: int
    status: PaymentStatus
    order_status: str
    cashier: str


class RefundCreate(BaseModel):
    amount: Annotated[StrictInt, Field(ge=1, le=MAX_ID)] | None = None
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=NO_NUL),
    ]


class RefundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    refund_id: int = Field(validation_alias="id")
    payment_id: int
    refund_key: str
    amount: int
    reason: str
    method: PaymentMethod
    staff_username: str
    created_at: Timestamp


class RefundResultRead(BaseModel):
    refund: RefundRead
    payment_status: PaymentStatus
    refunded_amount: int
    order_status: str
    already_done: bool


class PaymentAdminRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    payment_id: int = Field(validation_alias="id")
    order_id: int
    order_uid: str
    method: PaymentMethod
    status: PaymentStatus
    amount: int
    refunded_amount: int
    needs_refund: bool
    amount_mismatch: bool
    fraud_challenge: bool
    gateway_status: str | None
    cashier: str | None
    paid_at: Timestamp | None
    created_at: Timestamp
