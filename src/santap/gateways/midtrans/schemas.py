"""Typed requests to and answers from Midtrans.

Answers are parsed leniently (Midtrans adds fields over time); the full body stays in ``raw``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

JAKARTA = ZoneInfo("Asia/Jakarta")
MIDTRANS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ZONED_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"  # request times: "2026-11-27 10:00:00 +0700"
ITEM_NAME_MAX = 50


def parse_wib(value: object) -> datetime | None:
    """Midtrans times are ``YYYY-MM-DD HH:MM:SS`` in WIB without a zone; anything else is None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, MIDTRANS_TIME_FORMAT).replace(tzinfo=JAKARTA)
    except ValueError:
        return None


def parse_rupiah(value: object) -> int:
    """``"10000.00"`` -> 10000; rupiah have no minor unit, so a fraction is an error."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    if amount != amount.to_integral_value():
        raise ValueError(f"amount has a fraction: {value!r}")
    return int(amount)


class ItemDetail(BaseModel):
    id: str
    name: str
    price: int
    quantity: int = Field(ge=1)

    @field_validator("name")
    @classmethod
    def _truncate_name(cls, value: str) -> str:
        # Midtrans rejects names over 50 chars; a shortened menu name is better than no payment.
        return value[:ITEM_NAME_MAX]


class CustomerDetails(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


class _PaymentRequest(BaseModel):
    order_id: str = Field(min_length=1, max_length=50)
    gross_amount: int = Field(ge=1)
    item_details: list[ItemDetail] = Field(default_factory=list)
    customer_details: CustomerDetails | None = None
    expiry_minutes: int = Field(15, ge=1, le=7 * 24 * 60)

    def check_amounts(self) -> None:
        """Midtrans answers 400 when the items do not add up; fail before spending a round trip."""
        if not self.item_details:
            return
        total = sum(item.price * item.quantity for item in self.item_details)
        if total != self.gross_amount:
            raise ValueError(
                f"gross_amount {self.gross_amount} != sum of item_details {total} "
                f"for order {self.order_id}"
            )

    def _common_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "transaction_details": {"order_id": self.order_id, "gross_amount": self.gross_amount},
        }
        if self.item_details:
            body["item_details"] = [item.model_dump() for item in self.item_details]
        if self.customer_details is not None:
            body["customer_details"] = self.customer_details.model_dump(exclude_none=True)
        return body


class SnapTransactionRequest(_PaymentRequest):
    # When the QR's lifetime starts. Without it Midtrans counts from the moment the payer picks
    # a method, on a page that stays open for 24 h: the payer could still pay long after the
    # attempt expired on our side.
    start_time: datetime | None = None

    def to_wire(self) -> dict[str, Any]:
        body = self._common_body()
        body["enabled_payments"] = ["other_qris"]
        expiry: dict[str, Any] = {"unit": "minute", "duration": self.expiry_minutes}
        if self.start_time is not None:
            expiry["start_time"] = self.start_time.astimezone(JAKARTA).strftime(ZONED_TIME_FORMAT)
        body["expiry"] = expiry
        body["page_expiry"] = {"duration": self.expiry_minutes, "unit": "minute"}
        return body


class QrisChargeRequest(_PaymentRequest):
    def to_wire(self, *, acquirer: str) -> dict[str, Any]:
        body = self._common_body()
        body["payment_type"] = "qris"
        body["qris"] = {"acquirer": acquirer}
        body["custom_expiry"] = {"expiry_duration": self.expiry_minutes, "unit": "minute"}
        return body


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    raw: dict[str, Any] = Field(repr=False)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw(cls, data: Any) -> Any:
        if isinstance(data, dict) and "raw" not in data:
            return {**data, "raw": data}
        return data


class SnapTransaction(_Answer):
    token: str
    redirect_url: str


class QrisCharge(_Answer):
    transaction_id: str
    order_id: str
    transaction_status: str
    qr_string: str | None = None
    qr_code_url: str | None = None
    expiry_time: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _qr_action(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        actions = data.get("actions")
        urls = {
            action.get("name"): action.get("url")
            for action in (actions if isinstance(actions, list) else [])
            if isinstance(action, dict)
        }
        return {**data, "raw": data.get("raw", data), "qr_code_url": urls.get("generate-qr-code")}

    @field_validator("transaction_status")
    @classmethod
    def _lower_status(cls, value: str) -> str:
        return value.lower()

    @field_validator("expiry_time", mode="before")
    @classmethod
    def _wib_expiry(cls, value: object) -> datetime | None:
        return parse_wib(value)


class TransactionStatus(_Answer):
    order_id: str
    transaction_id: str
    transaction_status: str
    status_code: str
    gross_amount: str
    fraud_status: str | None = None
    payment_type: str | None = None
    signature_key: str | None = None
    transaction_time: datetime | None = None
    settlement_time: datetime | None = None
    expiry_time: datetime | None = None

    @field_validator("transaction_status", "fraud_status")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        # A DANA sample shows "PENDING": compare case-insensitively by storing lower case.
        return None if value is None else value.lower()

    @field_validator("transaction_time", "settlement_time", "expiry_time", mode="before")
    @classmethod
    def _wib_times(cls, value: object) -> datetime | None:
        return parse_wib(value)

    @property
    def is_paid(self) -> bool:
        """midtrans.md §5.4: settled or captured, and not held by the fraud check."""
        return self.transaction_status in {"settlement", "capture"} and self.fraud_status in {
            None,
            "accept",
        }


class RefundResult(_Answer):
    refund_key: str
    refund_amount: int
    transaction_status: str

    @field_validator("transaction_status")
    @classmethod
    def _lower_status(cls, value: str) -> str:
        return value.lower()

    @field_validator("refund_amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> int:
        return parse_rupiah(value)


def format_rupiah(amount: int) -> str:
    """The way Midtrans writes amounts in answers and notifications: ``10000`` -> ``"10000.00"``."""
    return f"{amount}.00"
