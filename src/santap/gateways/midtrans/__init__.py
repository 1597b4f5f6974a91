"""Midtrans gateway: typed async client, notification signatures and errors.

It knows nothing about orders; ``santap.payments`` is its only caller.
"""

from santap.gateways.midtrans.client import MidtransClient
from santap.gateways.midtrans.errors import (
    MidtransError,
    MidtransTimeout,
    MidtransUnavailable,
    MidtransUnreachable,
)
from santap.gateways.midtrans.schemas import (
    CustomerDetails,
    ItemDetail,
    QrisCharge,
    QrisChargeRequest,
    RefundResult,
    SnapTransaction,
    SnapTransactionRequest,
    TransactionStatus,
    format_rupiah,
    parse_wib,
)
from santap.gateways.midtrans.signature import compute_signature, verify_signature

__all__ = [
    "CustomerDetails",
    "ItemDetail",
    "MidtransClient",
    "MidtransError",
    "MidtransTimeout",
    "MidtransUnavailable",
    "MidtransUnreachable",
    "QrisCharge",
    "QrisChargeRequest",
    "RefundResult",
    "SnapTransaction",
    "SnapTransactionRequest",
    "TransactionStatus",
    "compute_signature",
    "format_rupiah",
    "parse_wib",
    "verify_signature",
]
