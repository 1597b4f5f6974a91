"""In-memory transactions and the JSON Midtrans would say about them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from santap.gateways.midtrans.schemas import (
    JAKARTA,
    MIDTRANS_TIME_FORMAT,
    ZONED_TIME_FORMAT,
    format_rupiah,
)
from santap.gateways.midtrans.signature import compute_signature

MERCHANT_ID = "G000000000"
MERCHANT_NAME = "SANTAP SIMULATOR"

# Body status_code by transaction_status (midtrans.md §5.4).
STATUS_CODES = {
    "pending": "201",
    "settlement": "200",
    "refund": "200",
    "partial_refund": "200",
    "cancel": "202",
    "expire": "202",
    "deny": "202",
}
REFUNDABLE = frozenset({"settlement", "partial_refund"})
ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9\-_~.]{1,50}$")


class SimulatorError(Exception):
    """An answer Midtrans would give instead of success; ``status`` is HTTP and body code."""

    def __init__(self, status: int, message: str, *, validation: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.validation = validation or []


def now_wib() -> datetime:
    return datetime.now(JAKARTA).replace(microsecond=0)


def wib(moment: datetime | None) -> str | None:
    return moment.astimezone(JAKARTA).strftime(MIDTRANS_TIME_FORMAT) if moment else None


@dataclass
class SimTransaction:
    order_id: str
    gross_amount: int
    kind: Literal["snap", "core"]
    expiry_seconds: int
    item_details: list[dict[str, Any]]
    acquirer: str = "gopay"
    created_at: datetime = field(default_factory=now_wib)
    token: str | None = None
    # X-Override-Notification replaces the default URL, X-Append-Notification adds to it.
    notify_urls: list[str] | None = None
    append_urls: list[str] = field(default_factory=list)
    # None until the payer picks QRIS in Snap; Core charges start "pending".
    status: str | None = None
    transaction_id: str | None = None
    transaction_time: datetime | None = None
    expiry_time: datetime | None = None
    settlement_time: datetime | None = None
    qr_string: str | None = None
    deadline: float | None = None
    # Snap: when the QR's lifetime started (expiry.start_time), and the monotonic time after
    # which the payer can no longer pick a method (that expiry, or page_expiry, if sooner).
    start_time: datetime | None = None
    choose_deadline: float | None = None
    merchant_cross_reference_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    refunds: list[dict[str, Any]] = field(default_factory=list)
    refund_answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def refunded_amount(self) -> int:
        return sum(int(refund["amount"]) for refund in self.refunds)

    @property
    def status_code(self) -> str:
        return STATUS_CODES[self.status or "pending"]

    def fields(self, server_key: str) -> dict[str, Any]:
        """Fields shared by status answers and notifications (midtrans.md §5.1, §5.2)."""
        gross = format_rupiah(self.gross_amount)
        data: dict[str, Any] = {
            "transaction_time": wib(self.transaction_time),
            "transaction_status": self.status,
            "transaction_id": self.transaction_id,
            "status_code": self.status_code,
            "signature_key": compute_signature(self.order_id, self.status_code, gross, server_key),
            "payment_type": "qris",
            "order_id": self.order_id,
            "merchant_id": MERCHANT_ID,
            "gross_amount": gross,
            "fraud_status": "accept",
            "currency": "IDR",
            "acquirer": self.acquirer,
            "expiry_time": wib(self.expiry_time),
        }
        if self.settlement_time is not None:
            data |= {
                "transaction_type": "on-us",
                "settlement_time": wib(self.settlement_time),
                "issuer": self.acquirer,
                "merchant_cross_reference_id": self.merchant_cross_reference_id,
            }
        if self.refunds:
            data["refund_amount"] = format_rupiah(self.refunded_amount)
            data["refunds"] = [_refund_view(refund) for refund in self.refunds]
        return data

    def notification(self, server_key: str) -> dict[str, Any]:
        return {**self.fields(server_key), "status_message": "midtrans payment notification"}

    def status_answer(self, server_key: str) -> dict[str, Any]:
        return {**self.fields(server_key), "status_message": "Success, transaction is found"}


def _refund_view(refund: dict[str, Any]) -> dict[str, Any]:
    # bank_confirmed_at is absent until the bank confirms, as in Midtrans' first notification.
    view = {k: v for k, v in refund.items() if k != "amount" and v is not None}
    view["refund_amount"] = format_rupiah(int(refund["amount"]))
    return view


def validate_payment_body(body: dict[str, Any]) -> tuple[str, int, list[dict[str, Any]]]:
    """order_id, gross_amount and items of a create/charge body, or SimulatorError(400)."""
    details = body.get("transaction_details")
    if not isinstance(details, dict):
        raise SimulatorError(400, "transaction_details is required")
    order_id = details.get("order_id")
    order_id = order_id if isinstance(order_id, str) and ORDER_ID_PATTERN.match(order_id) else None
    gross = details.get("gross_amount")
    gross = gross if isinstance(gross, int) and not isinstance(gross, bool) and gross >= 1 else None
    items = body.get("item_details") or []
    problems = [
        message
        for message, failed in (
            ("transaction_details.order_id is invalid", order_id is None),
            ("transaction_details.gross_amount must be a positive integer", gross is None),
            ("item_details is invalid", not _valid_items(items)),
        )
        if failed
    ]
    if problems or order_id is None or gross is None:
        raise SimulatorError(400, problems[0], validation=problems)
    if items and sum(item["price"] * item["quantity"] for item in items) != gross:
        message = "transaction_details.gross_amount is not equal to the sum of item_details"
        raise SimulatorError(400, message, validation=[message])
    return order_id, gross, items


def _valid_items(items: object) -> bool:
    return isinstance(items, list) and all(_valid_item(item) for item in items)


def _valid_item(item: object) -> bool:
    if not isinstance(item, dict):
        return False
    price, quantity, name = item.get("price"), item.get("quantity"), item.get("name")
    return (
        type(price) is int
        and type(quantity) is int
        and quantity >= 1
        and isinstance(name, str)
        and len(name) <= 50
    )


_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def expiry_seconds(spec: object, *, duration_key: str) -> int:
    """Seconds from Snap ``expiry`` or Core ``custom_expiry``; Midtrans defaults to 15 minutes."""
    if not isinstance(spec, dict):
        return 15 * 60
    unit = str(spec.get("unit", "minute")).lower().rstrip("s")
    duration = spec.get(duration_key)
    if unit not in _UNIT_SECONDS or type(duration) is not int or duration < 1:
        raise SimulatorError(400, f"{duration_key} and unit of the expiry are invalid")
    seconds = duration * _UNIT_SECONDS[unit]
    if not 20 <= seconds <= 7 * 86400:
        raise SimulatorError(400, "expiry must be between 20 seconds and 7 days")
    return seconds


def start_time(spec: object) -> datetime | None:
    """Snap ``expiry.start_time`` ("2026-11-27 10:00:00 +0700"), if given."""
    value = spec.get("start_time") if isinstance(spec, dict) else None
    if value is None:
        return None
    try:
        return datetime.strptime(str(value), ZONED_TIME_FORMAT)
    except ValueError:
        raise SimulatorError(400, "expiry.start_time must be yyyy-MM-dd HH:mm:ss Z") from None
