"""Notification signatures (midtrans.md §5.3).

``SHA512(order_id + status_code + gross_amount + server_key)`` over the strings exactly as
received: re-formatting ``"10000.00"`` as ``"10000"`` would change the hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def compute_signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    payload = f"{order_id}{status_code}{gross_amount}{server_key}".encode()
    return hashlib.sha512(payload).hexdigest()


def verify_signature(notification: Mapping[str, object], server_key: str) -> bool:
    """True only if every signed field is a string and the signature matches in constant time."""
    fields = [notification.get(name) for name in ("order_id", "status_code", "gross_amount")]
    received = notification.get("signature_key")
    if not isinstance(received, str) or not all(isinstance(field, str) for field in fields):
        return False
    order_id, status_code, gross_amount = (str(field) for field in fields)
    expected = compute_signature(order_id, status_code, gross_amount, server_key)
    # compare_digest on str requires ASCII; a non-ASCII signature can never be ours anyway.
    if not received.isascii():
        return False
    return hmac.compare_digest(expected, received.lower())
