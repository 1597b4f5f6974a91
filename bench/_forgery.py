"""Forged Midtrans notifications: each one fails the signature check by construction.

An attacker may know an order_uid (it is on the customer's screen) and may have captured a
genuine notification; what they lack is the server key."""

from __future__ import annotations

import secrets
from typing import Any

from santap.gateways.midtrans import compute_signature

ATTACKER_KEY = "SB-Mid-server-ATTACKER"
FORGERIES = ("bad_signature", "wrong_key", "tampered_amount", "tampered_status")
STATUS_CODES = {"settlement": "200", "pending": "201", "expire": "202", "cancel": "202"}


def notification(uid: str, status: str, gross: str, key: str) -> dict[str, Any]:
    code = STATUS_CODES[status]
    return {
        "transaction_time": "2026-11-26 10:00:00",
        "transaction_status": status,
        "transaction_id": "00000000-0000-4000-8000-000000000000",
        "status_message": "midtrans payment notification",
        "status_code": code,
        "signature_key": compute_signature(uid, code, gross, key),
        "payment_type": "qris",
        "order_id": uid,
        "merchant_id": "G000000000",
        "gross_amount": gross,
        "fraud_status": "accept",
        "currency": "IDR",
    }


def forged_body(kind: str, uid: str, claim: str, amount: int, *, server_key: str) -> dict[str, Any]:
    """A notification about ``uid`` claiming ``claim`` that must fail the signature check."""
    gross = f"{amount}.00"
    if kind == "bad_signature":
        return {
            **notification(uid, claim, gross, server_key),
            "signature_key": secrets.token_hex(64),
        }
    if kind == "wrong_key":
        return notification(uid, claim, gross, ATTACKER_KEY)
    if kind == "tampered_amount":
        # A genuine settlement for this order, captured and replayed for half the amount.
        return {
            **notification(uid, "settlement", gross, server_key),
            "gross_amount": f"{amount // 2}.00",
        }
    # A genuine pending notification rewritten to claim a final status.
    genuine = notification(uid, "pending", gross, server_key)
    return {**genuine, "transaction_status": claim, "status_code": STATUS_CODES[claim]}
