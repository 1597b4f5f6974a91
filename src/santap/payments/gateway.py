"""How payments reach Midtrans: the shared client plus the QRIS settings that shape calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from santap.config import QrisMode
from santap.errors import SantapError
from santap.gateways.midtrans import (
    MidtransClient,
    MidtransError,
    MidtransTimeout,
    MidtransUnavailable,
    MidtransUnreachable,
)


@dataclass(frozen=True)
class PaymentGateway:
    client: MidtransClient
    qris_mode: QrisMode
    expiry_minutes: int
    verify_status: bool
    verify_timeout_s: float = 13.0
    notification_url: str | None = None
    # Verifies notification signatures; kept out of repr so it never reaches a log line.
    server_key: str = field(default="", repr=False)
    # How long a cashier or customer waits for Midtrans to cancel an open QRIS attempt before
    # going ahead without it; reconciliation settles what the cancel would have told us.
    void_timeout_s: float = 3.0
    # How long an attempt may stay "creating" (Midtrans' connect and read timeouts, and a
    # margin): a second request for the order waits this long for the first one's answer,
    # and reconciliation leaves it alone until then.
    create_timeout_s: float = 20.0


async def get_gateway(request: Request) -> PaymentGateway:
    """Every caller asks Midtrans with no transaction open and no connection held."""
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a hop per request.
    gateway: PaymentGateway = request.app.state.payment_gateway
    return gateway


GatewayDep = Annotated[PaymentGateway, Depends(get_gateway)]


def idempotency_key(order_uid: str) -> str:
    """A deterministic key (36 chars) so a retried charge for one attempt is never doubled."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"santap:{order_uid}"))


class GatewayFailed(SantapError):
    """Midtrans refused, could not be reached, or gave no answer. Raised between transactions:
    the attempt marked failed was committed in its own."""

    status_code = 502
    code = "payment_gateway_error"


class GatewayTimedOut(GatewayFailed):
    status_code = 504
    code = "payment_gateway_timeout"


def gateway_failure(exc: MidtransError, *, for_staff: bool = True) -> GatewayFailed:
    """The error to answer with. Customers get a stable message (no hosts, no Midtrans
    internals); staff also get Midtrans' own words, or which host could not be reached and
    why. "Refused" is kept for an answer from Midtrans that says no. The caller logs it."""
    if not for_staff:
        if isinstance(exc, MidtransTimeout):
            return GatewayTimedOut("The payment provider did not answer in time; please try again")
        return GatewayFailed("The payment provider is not available right now; please try again")
    details: dict[str, object] = {
        "http_status": exc.http_status,
        "status_code": exc.status_code,
        "messages": exc.messages,
    }
    if isinstance(exc, MidtransUnavailable):
        details["host"] = exc.host
        at = f" at {exc.host}" if exc.host else ""
        reason = exc.reason or str(exc)
        if isinstance(exc, MidtransTimeout):
            return GatewayTimedOut(
                f"Midtrans{at} did not answer in time ({reason})", details=details
            )
        if isinstance(exc, MidtransUnreachable):
            return GatewayFailed(f"Midtrans was unreachable{at}: {reason}", details=details)
        return GatewayFailed(f"Midtrans{at} gave no usable answer: {reason}", details=details)
    detail = "; ".join(exc.messages) or str(exc)
    return GatewayFailed(f"Midtrans refused the request: {detail}", details=details)
